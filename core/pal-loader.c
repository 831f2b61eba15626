/* pal-loader.c: batches prepared ahead in worker threads, in a fixed order
 *
 * The work is a sequence of jobs, one per position of every epoch in turn
 * (job j is position j % L of epoch first_epoch + j / L).  Job j is prepared
 * in staging slot j % n_slots: claimed in order under the lock, prepared
 * without it (source, augmentation, tensor, prior), then marked OK or
 * FAILED.  The assembly cursor walks the jobs in order: a failed job is
 * counted and its slot freed; a finished one is given the next place of the
 * batch being filled, and copied there by the thread that advanced the
 * cursor, outside the lock.  A batch is ready when it is closed (full and
 * known not to be the last of its epoch, or its epoch is over) and all its
 * copies are done.  Batches carry a sequence number and the consumer takes
 * them strictly in that order.
 *
 * A full batch is kept "pending" until the cursor meets the next good
 * sample of its epoch or the end of the epoch, so that its `last` flag is
 * right even when every sample after it fails.
 */
#include "pal-loader.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-rand.h"

#include <math.h>
#include <string.h>

/* The stream of the shuffles (the landmark noise's is in the header). */
#define SHUFFLE_STREAM  0xbb67ae8584caa73bull

typedef enum {
  SLOT_FREE,
  SLOT_BUSY,        /* a worker is preparing it */
  SLOT_OK,
  SLOT_FAILED,
  SLOT_COPYING,     /* assigned to a batch, being copied */
} SlotState;

typedef struct {
  SlotState state;
  gint64    job;
  int       epoch, pos, index;
  gint64    key;                /* of pal_augment_sample_seed() */
  gint32    label;
  gboolean  has_prior;
  float    *x;                  /* [c, h, w] */
  float    *prior;              /* [ph, pw] */
} Slot;

typedef enum {
  BATCH_FREE,
  BATCH_FILLING,
  BATCH_READY,
  BATCH_OUT,                    /* with the consumer */
} BatchState;

typedef struct {
  PalBatch   pub;               /* first: pal_batch_release() casts */
  PalLoader *loader;
  BatchState state;
  gint64     seq;
  int        n_copied;
  gboolean   closed;
} Batch;

typedef struct {
  Slot  *slot;
  Batch *batch;
  int    pos;
} Copy;

/* What one thread needs to do assembly work: a copy list as long as the
 * staging ring, allocated once. */
typedef struct {
  PalLoader *loader;
  Copy      *copies;
} Worker;

struct _PalLoader {
  PalLoaderSource source;

  /* settings */
  int           *indices;       /* list mode (copy) */
  int            n_indices;
  gboolean       shuffle;
  PalSamplerFunc sampler;
  gpointer       sampler_data;
  int            epoch_size;
  int            first_epoch;
  gint64         total_jobs;    /* G_MAXINT64: no end */
  int            batch_size;
  int            c, h, w, ph, pw;
  float          mean[3], std[3];
  int            n_classes;
  float          sigma_224, noise_224;
  gboolean       augment;
  PalAugmentOptions aug;
  guint64        seed;
  PalLoaderErrorFunc on_error;
  gpointer       on_error_data;

  GMutex         lock;
  GCond          work_cond;     /* workers: a slot or a batch became free, stop */
  GCond          ready_cond;    /* consumer: a batch is ready, the end, an error, cancel */
  gboolean       stop;
  GError        *fatal;

  /* claiming */
  gint64         next_job;
  int           *order;         /* list mode: the positions of order_epoch */
  int            order_epoch;

  /* staging ring */
  Slot          *slots;
  int            n_slots;

  /* assembly */
  gint64         cursor;        /* next job to assemble */
  Batch         *filling;       /* taking samples */
  Batch         *pending;       /* full, `last` not known yet */
  gint64         next_seq;      /* sequence number of the next batch opened */
  int            epoch_batch_no, epoch_ok, skipped;

  /* batches */
  Batch         *batches;
  int            n_batches;
  gint64         deliver_seq;   /* next batch for the consumer */

  gint64         n_loaded, n_failed;

  int            n_workers;
  GThread      **threads;
  Worker        *workers;       /* n_workers, or 1 (the caller's) with none */
};

static const PalAugmentOptions paper_augment = PAL_AUGMENT_OPTIONS_DEFAULT;

void
pal_loader_options_init (PalLoaderOptions *opt)
{
  static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

  memset (opt, 0, sizeof *opt);
  opt->shuffle = TRUE;
  opt->batch_size = 32;
  opt->channels = 3;
  opt->height = opt->width = 224;
  memcpy (opt->mean, imagenet_mean, sizeof imagenet_mean);
  memcpy (opt->std, imagenet_std, sizeof imagenet_std);
  opt->sigma_224 = 3.0f;
  opt->augment = &paper_augment;
  opt->n_workers = 2;
  opt->n_prefetch = 4;
}

void
pal_loader_options_set_model (PalLoaderOptions *opt, PalModel *model)
{
  pal_graph_input_shape (pal_model_get_graph (model), &opt->channels, &opt->height,
                         &opt->width);
  pal_model_get_normalisation (model, opt->mean, opt->std);
  opt->n_classes = pal_model_get_n_classes (model);
}

/* --- one sample ------------------------------------------------------------ */

static gboolean
landmarks_finite (const PalLandmarks *lm)
{
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    if (!isfinite (lm->x[i]) || !isfinite (lm->y[i]))
      return FALSE;
  return TRUE;
}

/* Fills the slot's tensors from the source; no lock held. */
static gboolean
prepare_sample (PalLoader *l, Slot *s, GError **error)
{
  g_autoptr (PalImage) image = NULL;
  g_autoptr (PalImage) aug = NULL;
  PalLandmarks lm;
  PalAugmentParams params;
  gboolean has_lm = FALSE;
  int label = 0;

  if (s->index < 0 || s->index >= l->source.n)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "sample index %d is outside the source (0 .. %d)",
                   s->index, l->source.n - 1);
      return FALSE;
    }
  if (!l->source.get (l->source.src, s->index, &image, &lm, &has_lm, &label, error))
    return FALSE;
  if (!image || image->width <= 0 || image->height <= 0 || !image->data)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "sample %d: the source gave no image", s->index);
      return FALSE;
    }
  if (label < 0 || (l->n_classes > 0 && label >= l->n_classes))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "sample %d: label %d is outside 0 .. %d", s->index, label,
                   l->n_classes > 0 ? l->n_classes - 1 : G_MAXINT);
      return FALSE;
    }
  if (has_lm && !landmarks_finite (&lm))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "sample %d: landmarks are not finite", s->index);
      return FALSE;
    }

  pal_augment_draw (l->augment ? &l->aug : NULL, l->seed, s->epoch, s->key, &params);
  aug = pal_augment_apply (image, has_lm ? &lm : NULL, &params, l->w, l->h);
  pal_image_to_tensor (aug, s->x, l->c, l->w, l->h, l->mean, l->std);
  if (has_lm)
    {
      guint64 rng = pal_augment_sample_seed (l->seed ^ PAL_LOADER_NOISE_STREAM, s->epoch,
                                             s->key);
      pal_prior_make (s->prior, l->pw, l->ph, &lm, l->w, l->h, l->w, l->h,
                      l->sigma_224, l->noise_224, &rng);
    }
  else
    memset (s->prior, 0, sizeof (float) * l->ph * l->pw);
  s->label = label;
  s->has_prior = has_lm;
  return TRUE;
}

/* --- assembly (lock held) -------------------------------------------------- */

static void
batch_check_ready (PalLoader *l, Batch *b)
{
  if (b->closed && b->n_copied == b->pub.n)
    {
      b->state = BATCH_READY;
      g_cond_broadcast (&l->ready_cond);
    }
}

static void
batch_close (PalLoader *l, Batch *b, gboolean last)
{
  b->pub.last = last;
  b->closed = TRUE;
  batch_check_ready (l, b);
}

static Batch *
batch_open (PalLoader *l, int epoch)
{
  Batch *b = NULL;

  for (int i = 0; i < l->n_batches && !b; i++)
    if (l->batches[i].state == BATCH_FREE)
      b = &l->batches[i];
  if (!b)
    return NULL;
  b->state = BATCH_FILLING;
  b->seq = l->next_seq++;
  b->n_copied = 0;
  b->closed = FALSE;
  b->pub.n = 0;
  b->pub.epoch = epoch;
  b->pub.number = l->epoch_batch_no++;
  b->pub.last = FALSE;
  b->pub.n_skipped = l->skipped;
  l->skipped = 0;
  return b;
}

static void
end_epoch (PalLoader *l, int epoch)
{
  Batch *b = l->filling ? l->filling : l->pending;

  if (b)
    {
      b->pub.n_skipped += l->skipped;
      batch_close (l, b, TRUE);
    }
  else if (l->epoch_ok == 0 && !l->fatal)
    {
      g_set_error (&l->fatal, PAL_ERROR, PAL_ERROR_IO,
                   "no sample of epoch %d could be loaded (%d failed)", epoch,
                   l->skipped);
      g_cond_broadcast (&l->ready_cond);
      g_cond_broadcast (&l->work_cond);
    }
  l->filling = l->pending = NULL;
  l->skipped = 0;
  l->epoch_ok = 0;
  l->epoch_batch_no = 0;
}

/* Advances the cursor over finished jobs; the samples given a batch place
 * are listed in @copies.  Returns whether the cursor moved. */
static gboolean
assemble (PalLoader *l, Copy *copies, int *n_copies)
{
  gboolean moved = FALSE, freed = FALSE;

  *n_copies = 0;
  while (l->cursor < l->total_jobs && !l->fatal)
    {
      Slot *s = &l->slots[l->cursor % l->n_slots];
      int epoch = s->epoch, pos = s->pos;

      if (s->job != l->cursor || (s->state != SLOT_OK && s->state != SLOT_FAILED))
        break;
      if (s->state == SLOT_OK)
        {
          if (l->pending)
            {
              batch_close (l, l->pending, FALSE);   /* its epoch goes on */
              l->pending = NULL;
            }
          if (!l->filling && !(l->filling = batch_open (l, epoch)))
            break;                                   /* every batch is taken */
          copies[(*n_copies)++] = (Copy) { s, l->filling, l->filling->pub.n++ };
          s->state = SLOT_COPYING;
          l->epoch_ok++;
          l->n_loaded++;
          if (l->filling->pub.n == l->batch_size)
            {
              l->pending = l->filling;
              l->filling = NULL;
            }
        }
      else
        {
          s->state = SLOT_FREE;
          freed = TRUE;
          l->skipped++;
          l->n_failed++;
        }
      moved = TRUE;
      l->cursor++;
      if (pos == l->epoch_size - 1)
        end_epoch (l, epoch);
    }
  if (moved && l->cursor == l->total_jobs)
    g_cond_broadcast (&l->ready_cond);              /* the end may be reached */
  if (freed)
    g_cond_broadcast (&l->work_cond);
  return moved;
}

static void
copy_samples (PalLoader *l, const Copy *copies, int n)
{
  gsize chw = (gsize) l->c * l->h * l->w, phw = (gsize) l->ph * l->pw;

  for (int i = 0; i < n; i++)
    {
      const Slot *s = copies[i].slot;
      PalBatch *b = &copies[i].batch->pub;
      int p = copies[i].pos;

      memcpy (b->x + p * chw, s->x, chw * sizeof (float));
      memcpy (b->priors + p * phw, s->prior, phw * sizeof (float));
      b->labels[p] = s->label;
      b->has_prior[p] = s->has_prior;
      b->indices[p] = s->index;
    }
}

/* List mode: the positions of @epoch, shuffled from (seed, epoch). */
static void
make_order (PalLoader *l, int epoch)
{
  memcpy (l->order, l->indices, sizeof (int) * l->n_indices);
  if (l->shuffle)
    {
      guint64 rng = pal_augment_sample_seed (l->seed ^ SHUFFLE_STREAM, epoch, 0);
      for (int i = l->n_indices - 1; i > 0; i--)
        {
          int j = (int) (pal_rand_uniform (&rng) * (i + 1));
          int t = l->order[i];
          l->order[i] = l->order[j];
          l->order[j] = t;
        }
    }
  l->order_epoch = epoch;
}

/* One unit of work, lock held (released while working): assembly first,
 * else a new job.  Returns FALSE when there is nothing to do now. */
static gboolean
work_step (PalLoader *l, Worker *w)
{
  g_autoptr (GError) error = NULL;
  int n_copies;
  Slot *s;
  gboolean ok;

  if (l->fatal)
    return FALSE;
  if (assemble (l, w->copies, &n_copies))
    {
      if (n_copies > 0)
        {
          g_mutex_unlock (&l->lock);
          copy_samples (l, w->copies, n_copies);
          g_mutex_lock (&l->lock);
          for (int i = 0; i < n_copies; i++)
            {
              Batch *b = w->copies[i].batch;
              w->copies[i].slot->state = SLOT_FREE;
              b->n_copied++;
              batch_check_ready (l, b);
            }
          g_cond_broadcast (&l->work_cond);
        }
      return TRUE;
    }

  if (l->next_job >= l->total_jobs)
    return FALSE;
  s = &l->slots[l->next_job % l->n_slots];
  if (s->state != SLOT_FREE)
    return FALSE;

  s->job = l->next_job++;
  s->epoch = l->first_epoch + (int) (s->job / l->epoch_size);
  s->pos = (int) (s->job % l->epoch_size);
  if (l->sampler)
    {
      s->index = l->sampler (l->sampler_data);
      s->key = s->pos;
    }
  else
    {
      if (l->order_epoch != s->epoch)
        make_order (l, s->epoch);
      s->index = l->order[s->pos];
      s->key = s->index;
    }
  s->state = SLOT_BUSY;

  g_mutex_unlock (&l->lock);
  ok = prepare_sample (l, s, &error);
  if (!ok && !error)
    g_set_error (&error, PAL_ERROR, PAL_ERROR_FAILED, "sample %d could not be read",
                 s->index);
  if (!ok && l->on_error)
    l->on_error (s->index, s->epoch, error, l->on_error_data);
  g_mutex_lock (&l->lock);

  s->state = ok ? SLOT_OK : SLOT_FAILED;
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  PalLoader *l = w->loader;

  g_mutex_lock (&l->lock);
  while (!l->stop)
    if (!work_step (l, w))
      g_cond_wait (&l->work_cond, &l->lock);
  g_mutex_unlock (&l->lock);
  return NULL;
}

/* --- public ---------------------------------------------------------------- */

static gboolean
check_options (const PalLoaderSource *source, const PalLoaderOptions *opt, GError **error)
{
#define INVALID(...) \
  G_STMT_START { g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, __VA_ARGS__); \
                 return FALSE; } G_STMT_END

  if (!source || !source->get || source->n <= 0)
    INVALID ("the loader's source has no samples");
  if (opt->sampler)
    {
      if (opt->epoch_size <= 0)
        INVALID ("a sampled epoch needs a size of at least 1 (got %d)", opt->epoch_size);
    }
  else
    {
      if (!opt->indices || opt->n_indices <= 0)
        INVALID ("the loader was given no sample indices");
      for (int i = 0; i < opt->n_indices; i++)
        if (opt->indices[i] < 0 || opt->indices[i] >= source->n)
          INVALID ("sample index %d (entry %d) is outside the source (0 .. %d)",
                   opt->indices[i], i, source->n - 1);
    }
  if (opt->batch_size < 1 || opt->batch_size > 65536)
    INVALID ("batch size %d is out of range (1 .. 65536)", opt->batch_size);
  if (opt->channels != 1 && opt->channels != 3)
    INVALID ("input channels must be 1 or 3 (got %d)", opt->channels);
  if (opt->width < 1 || opt->height < 1 || opt->width > 8192 || opt->height > 8192)
    INVALID ("input size %dx%d is out of range (1 .. 8192)", opt->width, opt->height);
  if (opt->map_width < 0 || opt->map_height < 0 || opt->map_width > opt->width
      || opt->map_height > opt->height)
    INVALID ("prior size %dx%d is out of range (1x1 .. the input's %dx%d)",
             opt->map_width ? opt->map_width : opt->width,
             opt->map_height ? opt->map_height : opt->height, opt->width, opt->height);
  if (!(opt->sigma_224 > 0.0f) || !isfinite (opt->sigma_224))
    INVALID ("prior sigma must be positive (got %g)", opt->sigma_224);
  if (!(opt->noise_224 >= 0.0f) || !isfinite (opt->noise_224))
    INVALID ("landmark noise must be 0 or more (got %g)", opt->noise_224);
  if (opt->augment && (!(opt->augment->max_rotation >= 0.0)
                       || opt->augment->max_rotation > 180.0))
    INVALID ("rotation range must be in 0 .. 180 degrees (got %g)",
             opt->augment->max_rotation);
  for (int c = 0; c < opt->channels; c++)
    if (!(opt->std[c] > 0.0f) || !isfinite (opt->mean[c]))
      INVALID ("input normalisation of channel %d is invalid (mean %g, std %g)",
               c, opt->mean[c], opt->std[c]);
  if (opt->n_workers < 0 || opt->n_workers > 256)
    INVALID ("worker threads must be 0 .. 256 (got %d)", opt->n_workers);
  if (opt->n_prefetch < 1 || opt->n_prefetch > 64)
    INVALID ("prefetched batches must be 1 .. 64 (got %d)", opt->n_prefetch);
  if (opt->n_epochs < 0 || opt->first_epoch < 0)
    INVALID ("epochs must not be negative");
  return TRUE;
#undef INVALID
}

PalLoader *
pal_loader_new (const PalLoaderSource *source, const PalLoaderOptions *opt, GError **error)
{
  PalLoader *l;
  gsize chw, phw;
  int n_threads;

  g_return_val_if_fail (opt != NULL, NULL);
  if (!check_options (source, opt, error))
    return NULL;

  l = g_new0 (PalLoader, 1);
  l->source = *source;
  l->sampler = opt->sampler;
  l->sampler_data = opt->sampler_data;
  if (opt->sampler)
    l->epoch_size = opt->epoch_size;
  else
    {
      l->n_indices = opt->n_indices;
      l->indices = g_memdup2 (opt->indices, sizeof (int) * opt->n_indices);
      l->order = g_new (int, opt->n_indices);
      l->order_epoch = -1;
      l->epoch_size = opt->n_indices;
    }
  l->shuffle = opt->shuffle;
  l->first_epoch = opt->first_epoch;
  l->total_jobs = opt->n_epochs > 0 ? (gint64) opt->n_epochs * l->epoch_size : G_MAXINT64;
  l->batch_size = opt->batch_size;
  l->c = opt->channels;
  l->h = opt->height;
  l->w = opt->width;
  l->ph = opt->map_height > 0 ? opt->map_height : opt->height;
  l->pw = opt->map_width > 0 ? opt->map_width : opt->width;
  memcpy (l->mean, opt->mean, sizeof l->mean);
  memcpy (l->std, opt->std, sizeof l->std);
  l->n_classes = opt->n_classes;
  l->sigma_224 = opt->sigma_224;
  l->noise_224 = opt->noise_224;
  l->augment = opt->augment != NULL;
  if (opt->augment)
    l->aug = *opt->augment;
  l->seed = opt->seed;
  l->on_error = opt->on_error;
  l->on_error_data = opt->on_error_data;

  g_mutex_init (&l->lock);
  g_cond_init (&l->work_cond);
  g_cond_init (&l->ready_cond);

  chw = (gsize) l->c * l->h * l->w;
  phw = (gsize) l->ph * l->pw;

  /* Staging: enough for every worker to hold a sample while others wait
   * for an earlier, slower one to be assembled. */
  l->n_workers = opt->n_workers;
  n_threads = MAX (l->n_workers, 1);
  l->n_slots = 2 * n_threads + 2;
  l->slots = g_new0 (Slot, l->n_slots);
  for (int i = 0; i < l->n_slots; i++)
    {
      l->slots[i].job = -1;
      l->slots[i].x = g_new (float, chw);
      l->slots[i].prior = g_new (float, phw);
    }

  /* The prefetched batches and the one the consumer holds. */
  l->n_batches = opt->n_prefetch + 1;
  l->batches = g_new0 (Batch, l->n_batches);
  for (int i = 0; i < l->n_batches; i++)
    {
      Batch *b = &l->batches[i];
      b->loader = l;
      b->pub.c = l->c;
      b->pub.h = l->h;
      b->pub.w = l->w;
      b->pub.ph = l->ph;
      b->pub.pw = l->pw;
      b->pub.x = g_new (float, l->batch_size * chw);
      b->pub.priors = g_new (float, l->batch_size * phw);
      b->pub.labels = g_new (gint32, l->batch_size);
      b->pub.has_prior = g_new (gboolean, l->batch_size);
      b->pub.indices = g_new (int, l->batch_size);
    }

  l->workers = g_new0 (Worker, n_threads);
  for (int i = 0; i < n_threads; i++)
    {
      l->workers[i].loader = l;
      l->workers[i].copies = g_new (Copy, l->n_slots);
    }
  l->threads = g_new0 (GThread *, n_threads);
  for (int i = 0; i < l->n_workers; i++)
    {
      g_autofree char *name = g_strdup_printf ("pal-loader-%d", i);
      l->threads[i] = g_thread_new (name, worker_main, &l->workers[i]);
    }
  return l;
}

void
pal_loader_free (PalLoader *l)
{
  if (!l)
    return;
  g_mutex_lock (&l->lock);
  l->stop = TRUE;
  g_cond_broadcast (&l->work_cond);
  g_cond_broadcast (&l->ready_cond);
  g_mutex_unlock (&l->lock);
  for (int i = 0; i < l->n_workers; i++)
    g_thread_join (l->threads[i]);

  for (int i = 0; i < MAX (l->n_workers, 1); i++)
    g_free (l->workers[i].copies);
  g_free (l->workers);
  g_free (l->threads);
  for (int i = 0; i < l->n_batches; i++)
    {
      PalBatch *b = &l->batches[i].pub;
      g_free (b->x);
      g_free (b->priors);
      g_free (b->labels);
      g_free (b->has_prior);
      g_free (b->indices);
    }
  g_free (l->batches);
  for (int i = 0; i < l->n_slots; i++)
    {
      g_free (l->slots[i].x);
      g_free (l->slots[i].prior);
    }
  g_free (l->slots);
  g_free (l->indices);
  g_free (l->order);
  g_clear_error (&l->fatal);
  g_cond_clear (&l->ready_cond);
  g_cond_clear (&l->work_cond);
  g_mutex_clear (&l->lock);
  g_free (l);
}

static void
on_cancelled (GCancellable *cancellable, gpointer data)
{
  PalLoader *l = data;

  g_mutex_lock (&l->lock);
  g_cond_broadcast (&l->ready_cond);
  g_mutex_unlock (&l->lock);
}

gboolean
pal_loader_next (PalLoader *l, PalBatch **batch, GCancellable *cancellable, GError **error)
{
  gulong handler = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (l != NULL && batch != NULL, FALSE);
  *batch = NULL;
  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), l, NULL);

  g_mutex_lock (&l->lock);
  for (;;)
    {
      Batch *b = NULL;
      int n_out = 0;

      for (int i = 0; i < l->n_batches; i++)
        {
          if (l->batches[i].seq == l->deliver_seq && l->batches[i].state == BATCH_READY)
            b = &l->batches[i];
          n_out += l->batches[i].state == BATCH_OUT;
        }
      if (b)
        {
          b->state = BATCH_OUT;
          l->deliver_seq++;
          *batch = &b->pub;
          ok = TRUE;
          break;
        }
      if (l->fatal && l->deliver_seq == l->next_seq)
        {
          g_propagate_error (error, g_error_copy (l->fatal));
          break;
        }
      if (l->cursor == l->total_jobs && l->deliver_seq == l->next_seq)
        {
          ok = TRUE;                                 /* the end */
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (n_out == l->n_batches)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "every batch of the loader is held: release them with "
                       "pal_batch_release()");
          break;
        }
      if (l->n_workers > 0)
        g_cond_wait (&l->ready_cond, &l->lock);
      else if (!work_step (l, &l->workers[0]))
        {
          /* Cannot happen: with a free batch there is always a job or an
           * assembly to do until the end. */
          g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "the loader stalled");
          break;
        }
    }
  g_mutex_unlock (&l->lock);

  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  return ok;
}

void
pal_batch_release (PalBatch *batch)
{
  Batch *b = (Batch *) batch;
  PalLoader *l;

  g_return_if_fail (batch != NULL);
  l = b->loader;
  g_mutex_lock (&l->lock);
  if (b->state == BATCH_OUT)
    {
      b->state = BATCH_FREE;
      g_cond_broadcast (&l->work_cond);
    }
  else
    g_critical ("pal_batch_release: batch %d of epoch %d is not held by the caller",
                batch->number, batch->epoch);
  g_mutex_unlock (&l->lock);
}

gint64
pal_loader_get_n_loaded (PalLoader *l)
{
  gint64 n;

  g_mutex_lock (&l->lock);
  n = l->n_loaded;
  g_mutex_unlock (&l->lock);
  return n;
}

gint64
pal_loader_get_n_failed (PalLoader *l)
{
  gint64 n;

  g_mutex_lock (&l->lock);
  n = l->n_failed;
  g_mutex_unlock (&l->lock);
  return n;
}

int
pal_loader_get_epoch_size (PalLoader *l)
{
  return l->epoch_size;
}

int
pal_loader_get_batch_size (PalLoader *l)
{
  return l->batch_size;
}
