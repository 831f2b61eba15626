/* pal-metrics.c: evaluating a model on a dataset, and PAL's agreement numbers
 *
 * pal_evaluate() reads the split through a PalLoader (pal-loader.h) with no
 * augmentation, in the split's order, so that two worker threads decode and
 * resize the next images while the model runs on the current batch.  The
 * loader's source hands out images without landmarks: the loader then
 * renders no prior (evaluation needs none) and only resizes and normalises.
 * Failed samples are skipped by the loader and counted from its batches.
 */
#include "pal-metrics.h"

#include "pal-error.h"
#include "pal-exec.h"
#include "pal-loader.h"

#include <math.h>
#include <string.h>

/* Loader threads of pal_evaluate() and the batches they prepare ahead. */
#define EVAL_LOADER_WORKERS  2
#define EVAL_LOADER_PREFETCH 2

/* --- the confusion matrix ----------------------------------------------- */

PalConfusion *
pal_confusion_new (int n_classes)
{
  PalConfusion *c;

  g_return_val_if_fail (n_classes > 0 && n_classes <= 4096, NULL);
  c = g_new0 (PalConfusion, 1);
  c->n_classes = n_classes;
  c->counts = g_new0 (gint64, (gsize) n_classes * n_classes);
  return c;
}

void
pal_confusion_free (PalConfusion *c)
{
  if (!c)
    return;
  g_free (c->counts);
  g_free (c);
}

void
pal_confusion_add (PalConfusion *c, int truth, int predicted)
{
  g_return_if_fail (c != NULL);
  g_return_if_fail (truth >= 0 && truth < c->n_classes);
  g_return_if_fail (predicted >= 0 && predicted < c->n_classes);
  c->counts[(gsize) truth * c->n_classes + predicted]++;
}

gint64
pal_confusion_total (const PalConfusion *c)
{
  gint64 n = 0;

  g_return_val_if_fail (c != NULL, 0);
  for (gsize i = 0; i < (gsize) c->n_classes * c->n_classes; i++)
    n += c->counts[i];
  return n;
}

gint64
pal_confusion_class_total (const PalConfusion *c, int k)
{
  gint64 n = 0;

  g_return_val_if_fail (c != NULL && k >= 0 && k < c->n_classes, 0);
  for (int j = 0; j < c->n_classes; j++)
    n += c->counts[(gsize) k * c->n_classes + j];
  return n;
}

double
pal_confusion_accuracy (const PalConfusion *c)
{
  gint64 total, right = 0;

  g_return_val_if_fail (c != NULL, 0.0);
  total = pal_confusion_total (c);
  for (int k = 0; k < c->n_classes; k++)
    right += c->counts[(gsize) k * c->n_classes + k];
  return total > 0 ? (double) right / (double) total : 0.0;
}

double
pal_confusion_class_accuracy (const PalConfusion *c, int k)
{
  gint64 row;

  g_return_val_if_fail (c != NULL && k >= 0 && k < c->n_classes, 0.0);
  row = pal_confusion_class_total (c, k);
  return row > 0 ? (double) c->counts[(gsize) k * c->n_classes + k] / (double) row : 0.0;
}

double
pal_confusion_mean_class_accuracy (const PalConfusion *c)
{
  double sum = 0.0;
  int present = 0;

  g_return_val_if_fail (c != NULL, 0.0);
  for (int k = 0; k < c->n_classes; k++)
    if (pal_confusion_class_total (c, k) > 0)
      {
        sum += pal_confusion_class_accuracy (c, k);
        present++;
      }
  return present > 0 ? sum / present : 0.0;
}

/* Label of class @k: its name, or its number without names. */
static char *
class_label (const char *const *names, int k)
{
  return names && names[k] ? g_strdup (names[k]) : g_strdup_printf ("%d", k);
}

char *
pal_confusion_to_string (const PalConfusion *c, const char *const *names)
{
  static const char corner[] = "true \\ predicted";
  GString *s;
  g_auto (GStrv) labels = NULL;
  int n, label_w, col_w = 7, total_w = 7;   /* "  100.0", "  total" at least */

  g_return_val_if_fail (c != NULL, NULL);
  n = c->n_classes;
  labels = g_new0 (char *, n + 1);
  label_w = (int) strlen (corner);
  for (int k = 0; k < n; k++)
    {
      labels[k] = class_label (names, k);
      label_w = MAX (label_w, (int) g_utf8_strlen (labels[k], -1));
      col_w = MAX (col_w, (int) g_utf8_strlen (labels[k], -1) + 2);
    }
  for (gsize i = 0; i < (gsize) n * n; i++)
    {
      char digits[32];
      g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, c->counts[i]);
      col_w = MAX (col_w, (int) strlen (digits) + 2);
    }
  for (int k = 0; k < n; k++)
    {
      char digits[32];
      g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, pal_confusion_class_total (c, k));
      total_w = MAX (total_w, (int) strlen (digits) + 2);
    }

  /* printf's widths count bytes: UTF-8 names are padded by characters */
  s = g_string_new (NULL);
  for (int part = 0; part < 2; part++)
    {
      g_string_append (s, part == 0 ? "counts (rows: true class, columns: predicted)\n"
                                    : "\nrow percentages (each true class sums to 100)\n");
      g_string_append_printf (s, "%-*s", label_w, corner);
      for (int j = 0; j < n; j++)
        {
          int len = (int) g_utf8_strlen (labels[j], -1);
          g_string_append_printf (s, "%*s%s", col_w - len, "", labels[j]);
        }
      if (part == 0)
        g_string_append_printf (s, "%*s", total_w, "total");
      g_string_append_c (s, '\n');
      for (int k = 0; k < n; k++)
        {
          gint64 row = pal_confusion_class_total (c, k);
          int len = (int) g_utf8_strlen (labels[k], -1);

          g_string_append_printf (s, "%s%*s", labels[k], label_w - len, "");
          for (int j = 0; j < n; j++)
            {
              gint64 v = c->counts[(gsize) k * n + j];
              if (part == 0)
                g_string_append_printf (s, "%*" G_GINT64_FORMAT, col_w, v);
              else if (row > 0)
                g_string_append_printf (s, "%*.1f", col_w, 100.0 * (double) v / (double) row);
              else
                g_string_append_printf (s, "%*s", col_w, "-");
            }
          if (part == 0)
            g_string_append_printf (s, "%*" G_GINT64_FORMAT, total_w, row);
          g_string_append_c (s, '\n');
        }
    }
  return g_string_free (s, FALSE);
}

/* --- evaluation ----------------------------------------------------------- */

static const char *
split_name (PalSplit split)
{
  switch (split)
    {
    case PAL_SPLIT_TRAIN: return "train";
    case PAL_SPLIT_VAL:   return "val";
    case PAL_SPLIT_TEST:  return "test";
    case PAL_SPLIT_ALL:   return "all";
    default:              return "?";
    }
}

/* The loader's view of the dataset: images and labels, never landmarks (so
 * that no prior is rendered).  pal_dataset_load_image() may run in several
 * threads at once. */
static gboolean
eval_source_get (void *src, int index, PalImage **image, PalLandmarks *lm,
                 gboolean *has_lm, int *label, GError **error)
{
  PalDataset *ds = src;

  *image = pal_dataset_load_image (ds, index, NULL, error);
  if (!*image)
    return FALSE;
  *has_lm = FALSE;
  *label = pal_dataset_get (ds, index)->label;
  return TRUE;
}

typedef struct {
  PalEvalFailFunc on_fail;
  gpointer        data;
} FailReport;

static void
eval_source_error (int index, int epoch, const GError *error, gpointer user_data)
{
  FailReport *r = user_data;

  if (r->on_fail)
    r->on_fail (index, error, r->data);
}

/* Index of the largest of @k values (the first of equal ones). */
static int
argmax (const float *v, int k)
{
  int best = 0;

  for (int j = 1; j < k; j++)
    if (v[j] > v[best])
      best = j;
  return best;
}

PalConfusion *
pal_evaluate (PalModel *model, PalDataset *ds, PalSplit split,
              int batch, GCancellable *cancellable,
              PalProgressFunc progress, gpointer user_data,
              gint64 *n_failed, GError **error)
{
  return pal_evaluate_full (model, ds, split, batch, cancellable, progress, user_data,
                            NULL, NULL, n_failed, error);
}

PalConfusion *
pal_evaluate_full (PalModel *model, PalDataset *ds, PalSplit split,
                   int batch, GCancellable *cancellable,
                   PalProgressFunc progress, gpointer user_data,
                   PalEvalFailFunc on_fail, gpointer fail_data,
                   gint64 *n_failed, GError **error)
{
  FailReport report = { on_fail, fail_data };
  g_autofree int *indices = NULL;
  g_autoptr (PalConfusion) conf = NULL;
  PalWorkspace *ws = NULL;
  PalLoader *loader = NULL;
  PalLoaderOptions opt;
  PalLoaderSource source;
  int n, k_model, k_data;
  gint64 done = 0;

  g_return_val_if_fail (model != NULL && ds != NULL, NULL);
  g_return_val_if_fail (split >= PAL_SPLIT_TRAIN && split <= PAL_SPLIT_ALL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_failed)
    *n_failed = 0;
  if (batch < 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the batch size must be at least 1, not %d", batch);
      return NULL;
    }
  k_model = pal_model_get_n_classes (model);
  k_data = pal_dataset_get_n_classes (ds);
  if (k_model != k_data)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the model has %d classes but the dataset %s has %d: "
                   "they cannot be compared", k_model, pal_dataset_get_root (ds), k_data);
      return NULL;
    }
  indices = pal_dataset_indices (ds, split, &n);
  if (n == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the %s split of the dataset %s has no samples",
                   split_name (split), pal_dataset_get_root (ds));
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  batch = MIN (batch, n);
  ws = pal_workspace_new (model, batch, error);
  if (!ws || !pal_workspace_set_weights_fixed (ws, TRUE, error))
    goto fail;

  pal_loader_options_init (&opt);
  pal_loader_options_set_model (&opt, model);
  opt.indices = indices;
  opt.n_indices = n;
  opt.shuffle = FALSE;
  opt.n_epochs = 1;
  opt.batch_size = batch;
  opt.augment = NULL;
  opt.map_height = opt.map_width = 1;   /* no prior is rendered; keep its buffer small */
  opt.n_workers = EVAL_LOADER_WORKERS;
  opt.n_prefetch = EVAL_LOADER_PREFETCH;
  opt.on_error = eval_source_error;
  opt.on_error_data = &report;
  source.n = pal_dataset_get_n (ds);
  source.src = ds;
  source.get = eval_source_get;
  loader = pal_loader_new (&source, &opt, error);
  if (!loader)
    goto fail;

  conf = pal_confusion_new (k_model);
  for (;;)
    {
      PalBatch *b = NULL;
      const float *logits;

      if (g_cancellable_set_error_if_cancelled (cancellable, error)
          || !pal_loader_next (loader, &b, cancellable, error))
        goto fail;
      if (!b)
        break;
      logits = pal_workspace_forward (ws, b->x, b->n, FALSE);
      for (int i = 0; i < b->n; i++)
        pal_confusion_add (conf, b->labels[i], argmax (logits + (gsize) i * k_model, k_model));
      done += b->n + b->n_skipped;
      pal_batch_release (b);
      if (progress)
        progress (MIN (done, (gint64) n), n, user_data);
    }

  if (n_failed)
    *n_failed = pal_loader_get_n_failed (loader);
  pal_loader_free (loader);
  pal_workspace_free (ws);
  return g_steal_pointer (&conf);

fail:
  if (loader && n_failed)
    *n_failed = pal_loader_get_n_failed (loader);
  if (loader)
    pal_loader_free (loader);
  pal_workspace_free (ws);
  return NULL;
}

/* --- agreement with the prior ------------------------------------------------ */

gboolean
pal_evaluate_agreement (PalModel *model, PalDataset *ds, PalSplit split, int node, int c1,
                        float sigma_224, int batch, GCancellable *cancellable,
                        PalProgressFunc progress, gpointer user_data,
                        PalAgreement *out, GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  g_autofree int *indices = NULL;
  PalWorkspace *ws = NULL;
  PalLoader *loader = NULL;
  PalLoaderOptions opt;
  PalLoaderSource source = pal_dataset_as_source (ds);
  PalAgreement acc = { 0 };
  gint64 done = 0;
  int n, c, h, w;

  g_return_val_if_fail (out != NULL, FALSE);
  if (!pal_graph_check_attribution_node (g, node, FALSE, error))
    return FALSE;
  pal_graph_node_shape (g, node, &c, &h, &w);
  indices = pal_dataset_indices (ds, split, &n);
  if (n == 0 || batch < 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the %s split of the dataset %s has no samples (or the batch is empty)",
                   split_name (split), pal_dataset_get_root (ds));
      return FALSE;
    }
  batch = MIN (batch, n);
  ws = pal_workspace_new (model, batch, error);
  if (!ws || !pal_workspace_set_weights_fixed (ws, TRUE, error))
    goto fail;

  pal_loader_options_init (&opt);
  pal_loader_options_set_model (&opt, model);
  opt.indices = indices;
  opt.n_indices = n;
  opt.shuffle = FALSE;
  opt.n_epochs = 1;
  opt.batch_size = batch;
  opt.augment = NULL;
  opt.map_height = h;
  opt.map_width = w;
  opt.sigma_224 = sigma_224;
  opt.n_workers = EVAL_LOADER_WORKERS;
  opt.n_prefetch = EVAL_LOADER_PREFETCH;
  loader = pal_loader_new (&source, &opt, error);
  if (!loader)
    goto fail;

  for (;;)
    {
      g_autoptr (PalAttrMaps) m = NULL;
      PalBatch *b = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error)
          || !pal_loader_next (loader, &b, cancellable, error))
        goto fail;
      if (!b)
        break;
      m = pal_workspace_attribute (ws, b->x, b->n, node, PAL_TARGET_SUM, c1, error);
      if (!m)
        {
          pal_batch_release (b);
          goto fail;
        }
      for (int i = 0; i < b->n; i++)
        {
          const float *prior = b->priors + (gsize) i * h * w;
          const float *maps[2][3] = {
            { m->grad_first, m->grad_rest, m->grad_all },
            { m->gi_first, m->gi_rest, m->gi_all },
          };

          if (!b->has_prior[i])
            {
              acc.n_without++;
              continue;
            }
          acc.n++;
          for (int a = 0; a < 2; a++)
            for (int k = 0; k < 3; k++)
              {
                const float *map = maps[a][k] + (gsize) i * h * w;
                acc.pearson[a][k] += pal_map_pearson (map, prior, h * w);
                acc.inside[a][k] += pal_map_mass_inside (map, prior, h * w,
                                                         PAL_AGREEMENT_INSIDE);
              }
        }
      done += b->n + b->n_skipped;
      pal_batch_release (b);
      if (progress)
        progress (MIN (done, (gint64) n), n, user_data);
    }
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < 3; k++)
      if (acc.n > 0)
        {
          acc.pearson[a][k] /= (double) acc.n;
          acc.inside[a][k] /= (double) acc.n;
        }
  *out = acc;
  pal_loader_free (loader);
  pal_workspace_free (ws);
  return TRUE;

fail:
  if (loader)
    pal_loader_free (loader);
  pal_workspace_free (ws);
  return FALSE;
}

double
pal_map_pearson (const float *map, const float *prior, int len)
{
  double ma = 0.0, mb = 0.0, sab = 0.0, saa = 0.0, sbb = 0.0, r;
  gboolean flat_a = TRUE, flat_b = TRUE;

  g_return_val_if_fail (len >= 0 && (len == 0 || (map && prior)), 0.0);
  if (len < 2)
    return 0.0;
  /* flat is decided exactly: a constant's double mean need not equal it */
  for (int i = 0; i < len; i++)
    {
      flat_a = flat_a && map[i] == map[0];
      flat_b = flat_b && prior[i] == prior[0];
      ma += map[i];
      mb += prior[i];
    }
  if (flat_a || flat_b)
    return 0.0;
  ma /= len;
  mb /= len;
  for (int i = 0; i < len; i++)
    {
      double a = map[i] - ma, b = prior[i] - mb;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
  if (!(saa > 0.0 && sbb > 0.0))
    return 0.0;   /* also NaN */
  r = sab / sqrt (saa * sbb);
  return CLAMP (r, -1.0, 1.0);
}

double
pal_map_mass_inside (const float *map, const float *prior, int len, double frac)
{
  double pmax = 0.0, threshold, inside = 0.0, total = 0.0;

  g_return_val_if_fail (len >= 0 && (len == 0 || (map && prior)), 0.0);
  for (int i = 0; i < len; i++)
    pmax = MAX (pmax, (double) prior[i]);
  if (!(pmax > 0.0))
    return 0.0;   /* no landmark region */
  threshold = frac * pmax;
  for (int i = 0; i < len; i++)
    {
      double v = map[i] > 0.0f ? map[i] : 0.0;
      total += v;
      if (prior[i] >= threshold)
        inside += v;
    }
  return total > 0.0 ? inside / total : 0.0;
}
