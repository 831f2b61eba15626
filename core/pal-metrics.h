/* pal-metrics.h: evaluating a model on a dataset, and PAL's agreement numbers
 *
 * pal_evaluate() runs a model (inference form) over one split of a dataset
 * and fills a confusion matrix; the rest derive from it.  The agreement
 * functions turn "does this attribution map look like the landmark prior"
 * into numbers: the Pearson correlation with the prior, and the share of
 * the map's mass that falls inside the landmark regions.
 */
#pragma once

#include <gio/gio.h>
#include "pal-dataset.h"
#include "pal-model.h"

G_BEGIN_DECLS

typedef struct {
  int     n_classes;
  gint64 *counts;          /* [n_classes, n_classes]: row = true class, column = predicted */
} PalConfusion;

PalConfusion *pal_confusion_new           (int n_classes);
void          pal_confusion_free          (PalConfusion *c);
void          pal_confusion_add           (PalConfusion *c, int truth, int predicted);
gint64        pal_confusion_total         (const PalConfusion *c);
/* Samples of true class @k (the row's sum). */
gint64        pal_confusion_class_total   (const PalConfusion *c, int k);
double        pal_confusion_accuracy      (const PalConfusion *c);
/* Recall of class k (0 when the class has no samples). */
double        pal_confusion_class_accuracy (const PalConfusion *c, int k);
/* Mean over the classes that have samples. */
double        pal_confusion_mean_class_accuracy (const PalConfusion *c);
/* Text table with counts and row-normalised percentages, class names as labels. */
/* (@names: n_classes entries, or NULL for the class numbers; a class without
 * samples shows "-" as its percentages; g_free() the string.) */
char         *pal_confusion_to_string     (const PalConfusion *c, const char *const *names);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalConfusion, pal_confusion_free)

/* Progress: done of total samples. */
typedef void (*PalProgressFunc) (gint64 done, gint64 total, gpointer user_data);

/* Runs @model over the samples of @split (PAL_SPLIT_ALL: every sample) of
 * @ds, in batches of @batch, images brought to the model's input with its
 * normalisation (no augmentation); samples whose image fails to load are
 * skipped and counted in *@n_failed (may be NULL).  Cancellable; NULL with
 * @error on failure or cancellation. */
/* Errors: PAL_ERROR_INVALID when the model's class count differs from the
 * dataset's (both named), the split is empty or @batch < 1;
 * G_IO_ERROR_CANCELLED when @cancellable is (checked before every batch);
 * PAL_ERROR_IO when no image of the split loads; a workspace error.
 * @progress, if set, is called after every batch from the calling thread,
 * with done counting evaluated and failed samples (it ends at total).
 * Images are decoded ahead by two loader threads (pal-loader.h, no
 * augmentation, split order); the model runs in the calling thread. */
PalConfusion *pal_evaluate                (PalModel *model, PalDataset *ds, PalSplit split,
                                           int batch, GCancellable *cancellable,
                                           PalProgressFunc progress, gpointer user_data,
                                           gint64 *n_failed, GError **error);

/* A sample that failed to load: its dataset index and why.  Called from the
 * loader's threads, possibly several at once. */
typedef void (*PalEvalFailFunc) (int index, const GError *error, gpointer user_data);

/* pal_evaluate() that also reports each failed sample to @on_fail (may be NULL). */
PalConfusion *pal_evaluate_full           (PalModel *model, PalDataset *ds, PalSplit split,
                                           int batch, GCancellable *cancellable,
                                           PalProgressFunc progress, gpointer user_data,
                                           PalEvalFailFunc on_fail, gpointer fail_data,
                                           gint64 *n_failed, GError **error);

/* Agreement of a model's attribution maps with the landmark prior over a
 * split: for every image with landmarks, the Grad and Grad*Input maps at
 * @node for the sum of the logits (constrained half = the first @c1
 * channels, 0: C/2; free half; all) are compared with the image's prior at
 * the node's resolution (pal_prior_make, sigma @sigma_224 pixels of a 224
 * input), and the correlations and masses averaged. */
typedef struct {
  gint64 n;                 /* images with landmarks that were compared */
  gint64 n_without;         /* images skipped for want of landmarks */
  double pearson[2][3];     /* [grad, grad*input][first, rest, all], means */
  double inside[2][3];      /* shares of mass inside the landmark regions, means */
} PalAgreement;

/* The region threshold of the masses: pixels where the prior is at least
 * this fraction of its maximum. */
#define PAL_AGREEMENT_INSIDE 0.2

gboolean      pal_evaluate_agreement      (PalModel *model, PalDataset *ds, PalSplit split,
                                           int node, int c1, float sigma_224, int batch,
                                           GCancellable *cancellable,
                                           PalProgressFunc progress, gpointer user_data,
                                           PalAgreement *out, GError **error);

/* Pearson correlation of two maps of @len values (0 when either is flat). */
double        pal_map_pearson             (const float *map, const float *prior, int len);
/* Share of the map's (non-negative) mass on the pixels where @prior is at
 * least @frac of its maximum (the landmark regions); 0 for an empty map. */
/* (Negative map values count as 0; a prior whose maximum is not positive
 * has no landmark region: 0.) */
double        pal_map_mass_inside         (const float *map, const float *prior, int len,
                                           double frac);

G_END_DECLS
