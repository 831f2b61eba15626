/* pal-loader.h: batches for training, prepared ahead in worker threads
 *
 * A PalLoader reads samples (image, 68 landmarks, label) from an abstract
 * source, augments them (pal-augment.h), turns them into the network's input
 * and renders their PAL prior, and packs them into batches that the trainer
 * hands to pal_workspace_grads() as they are:
 *
 *   x          [n, C, H, W]  (pixel / 255 - mean[c]) / std[c]
 *   labels     [n]           gint32
 *   priors     [n, ph, pw]   pal_prior_make() of the augmented landmarks,
 *                            not standardised
 *   has_prior  [n]           FALSE for a sample without landmarks: its prior
 *                            is all zeros, and PAL must skip it (a flat map
 *                            has no correlation); the trainer handles that
 *
 * Each sample is first brought to the input size W x H (area when shrinking,
 * bilinear when growing, landmarks scaled alike), then rotated and flipped
 * at that size, so the rotation is a true rotation of what the network sees
 * and the prior is rendered at the input size (pal_prior_make() with the
 * image size equal to the input size), then area-averaged to ph x pw.
 *
 * Order.  An epoch is a sequence of positions: the given list of indices,
 * shuffled per epoch (a permutation drawn from (seed, epoch)), or the
 * draws of a sampler callback.  Batches are cut from that sequence in
 * order; a batch never spans two epochs, so the last one of an epoch may be
 * short.  A sample whose source fails is reported (the error callback and
 * a counter) and skipped: the batch takes the next positions instead.  The
 * batches are therefore a function of the settings, the seed and the
 * source alone: batch b of epoch e holds the same samples, augmented the
 * same way, with 0, 1 or 16 workers and whatever the thread timing
 * (provided the source answers the same for the same index).
 *
 * Randomness per sample: the augmentation of a sample at epoch e is
 * pal_augment_draw (augment, seed, e, key) and its landmark noise draws from
 * pal_augment_sample_seed (seed ^ PAL_LOADER_NOISE_STREAM, e, key), the
 * key being the sample's dataset index with a list (so duplicates in one
 * list share their augmentation within an epoch), and its position in the
 * epoch with a sampler (which may draw an index twice).
 *
 * Threads.  Workers take positions in order, each prepares its sample into
 * a staging slot, and the worker that completes the earliest pending
 * position copies the finished samples into the batch being filled, in
 * order.  At most n_prefetch batches are prepared ahead of the consumer;
 * batches and staging slots are allocated once, at pal_loader_new(), and
 * reused: no allocation per batch (the source's images and the augmented
 * copies are per sample).  With n_workers 0 everything runs in the caller's
 * thread inside pal_loader_next(), with the same results.
 *
 * The source's get() is called from the worker threads, several at once:
 * it must be thread-safe.  A sampler is called under the loader's lock, one
 * call at a time, in the order of the positions.
 *
 * Use:
 *
 *   PalLoaderOptions opt;
 *   pal_loader_options_init (&opt);
 *   pal_loader_options_set_model (&opt, model);
 *   opt.indices = train;  opt.n_indices = n_train;  opt.n_epochs = 30;
 *   opt.map_width = opt.map_height = 28;        (the PAL layer's size)
 *   loader = pal_loader_new (&source, &opt, &error);
 *   while (pal_loader_next (loader, &batch, cancellable, &error) && batch)
 *     {
 *       pal_workspace_grads (ws, batch->x, batch->labels, batch->priors,
 *                            batch->ph, batch->pw, batch->n, grad, &losses, &error);
 *       pal_batch_release (batch);
 *     }
 *   (error set: cancelled or failed; else the last epoch is done)
 */
#pragma once

#include <gio/gio.h>

#include "pal-augment.h"
#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"

G_BEGIN_DECLS

/* Seed of the landmark noise's stream, see above. */
#define PAL_LOADER_NOISE_STREAM 0x6a09e667f3bcc908ull

/* Sample @index of the source: a new image (the loader frees it), its
 * landmarks in that image's pixel frame when *@has_lm is set TRUE, its
 * label.  FALSE with @error set: the sample is skipped. */
typedef gboolean (*PalSourceGetFunc) (void *src, int index, PalImage **image,
                                      PalLandmarks *lm, gboolean *has_lm, int *label,
                                      GError **error);

typedef struct {
  int               n;       /* indices 0 .. n - 1 */
  void             *src;     /* passed to get() */
  PalSourceGetFunc  get;
} PalLoaderSource;

/* The next dataset index of a sampled epoch (e.g. a class-balanced draw:
 * pal_balanced_sampler_next() of pal-dataset.h behind a one-line wrapper).
 * Called in position order under the loader's lock; an index outside the
 * source is a failed sample. */
typedef int (*PalSamplerFunc) (gpointer user_data);

/* A sample that failed: its dataset index, the epoch, the error.  Called
 * from a worker thread (or the caller's, with 0 workers), possibly from
 * several at once and not in position order. */
typedef void (*PalLoaderErrorFunc) (int index, int epoch, const GError *error,
                                    gpointer user_data);

typedef struct {
  /* What an epoch is: a list of dataset indices (copied) ... */
  const int         *indices;
  int                n_indices;
  gboolean           shuffle;      /* a new permutation each epoch (default TRUE) */
  /* ... or, when sampler is set, epoch_size draws of the sampler. */
  PalSamplerFunc     sampler;
  gpointer           sampler_data;
  int                epoch_size;

  int                first_epoch;  /* number of the first epoch (default 0) */
  int                n_epochs;     /* epochs to produce; 0 (default): no end */
  int                batch_size;   /* default 32 */

  /* The network's input (pal_loader_options_set_model() fills these). */
  int                channels;     /* 1 or 3 (default 3) */
  int                height, width;  /* default 224 x 224 */
  float              mean[3], std[3];  /* default ImageNet's */
  int                n_classes;    /* a label outside 0 .. n_classes - 1 fails
                                    * its sample; 0 (default): not checked */

  /* The prior. */
  int                map_height, map_width;  /* prior size ph x pw (0: the input's) */
  float              sigma_224;    /* Gaussian sigma in pixels of a 224 input (default 3) */
  float              noise_224;    /* landmark noise, pixels of a 224 input (default 0) */

  const PalAugmentOptions *augment;  /* NULL: none (default: the paper's) */
  guint64            seed;

  int                n_workers;    /* threads (default 2); 0: in pal_loader_next() */
  int                n_prefetch;   /* batches prepared ahead (default 4) */

  PalLoaderErrorFunc on_error;     /* may be NULL */
  gpointer           on_error_data;
} PalLoaderOptions;

/* The defaults above (augment points to the paper's settings, a static). */
void          pal_loader_options_init      (PalLoaderOptions *opt);
/* Input channels, height, width, normalisation and classes of @model. */
void          pal_loader_options_set_model (PalLoaderOptions *opt, PalModel *model);

typedef struct {
  int       n;               /* samples in this batch, 1 .. batch_size */
  int       c, h, w;         /* input shape */
  int       ph, pw;          /* prior shape */
  float    *x;               /* [n, c, h, w] */
  gint32   *labels;          /* [n] */
  float    *priors;          /* [n, ph, pw], zeros where has_prior is FALSE */
  gboolean *has_prior;       /* [n] */
  int      *indices;         /* [n] dataset index of each sample */
  int       epoch;
  int       number;          /* batch number within its epoch, from 0 */
  gboolean  last;            /* the last batch of its epoch */
  int       n_skipped;       /* samples of its epoch that failed since the
                              * previous batch (the last batch also counts
                              * those after it) */
} PalBatch;

typedef struct _PalLoader PalLoader;

/* Checks the options (PAL_ERROR_INVALID: an index outside the source, no
 * samples, sizes out of range...), allocates the batches and staging
 * buffers and starts the workers. */
PalLoader    *pal_loader_new          (const PalLoaderSource *source,
                                       const PalLoaderOptions *opt, GError **error);
/* Stops the workers (each finishes the sample it is on) and frees
 * everything, batches not released included.  No call on the loader may be
 * running in another thread. */
void          pal_loader_free         (PalLoader *loader);

/* Blocks until the next batch in order is ready and stores it in *@batch;
 * hand it back with pal_batch_release().  After the last batch of the last
 * epoch: TRUE with *@batch NULL.  FALSE with @error when @cancellable is
 * cancelled (G_IO_ERROR_CANCELLED: only this wait is given up, the loader
 * goes on and the next call returns the same batch), when a whole epoch
 * failed to load (PAL_ERROR_IO), or when every batch is held by the caller
 * (PAL_ERROR_INVALID).  Call it from one thread at a time. */
gboolean      pal_loader_next         (PalLoader *loader, PalBatch **batch,
                                       GCancellable *cancellable, GError **error);
/* Returns @batch to the loader's pool; from any thread, before
 * pal_loader_free() (which frees the batches still held). */
void          pal_batch_release       (PalBatch *batch);

/* Samples put into batches (prefetched ones included) / skipped as failed,
 * so far, all epochs together. */
gint64        pal_loader_get_n_loaded (PalLoader *loader);
gint64        pal_loader_get_n_failed (PalLoader *loader);
int           pal_loader_get_epoch_size (PalLoader *loader);
int           pal_loader_get_batch_size (PalLoader *loader);

G_END_DECLS
