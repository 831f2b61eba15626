/* test-metrics.c: the confusion matrix, agreement with the prior, and
 * pal_evaluate() on a small synthetic face set
 *
 * The evaluation tests draw 70 faces of 32 x 32 (pal-synth.h) into a scratch
 * folder once and run a tiny text architecture over them.
 */
#include "pal-arch.h"
#include "pal-dataset.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-landmarks.h"
#include "pal-metrics.h"
#include "pal-model.h"
#include "pal-parallel.h"
#include "pal-rand.h"
#include "pal-synth.h"

#include <math.h>
#include <string.h>

#include "test-util.h"

static char *scratch;   /* one scratch directory for the whole run */
static char *synth_dir; /* 70 faces of 32 x 32, written once */

/* A small network for 3 x 32 x 32 inputs with @k classes. */
static const char tiny_arch_fmt[] =
  "input   data  shape=3x32x32\n"
  "conv    conv1 out=4 k=3 stride=2 pad=1 act=relu\n"
  "conv    conv2 out=8 k=3 stride=2 pad=1 act=relu\n"
  "gap     pool\n"
  "linear  fc    out=%d\n";

static PalModel *
tiny_model (int k, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf (tiny_arch_fmt, k);
  PalModel *model = pal_model_new (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  pal_model_init (model, seed);
  return model;
}

static PalDataset *
open_synth (const char *dir)
{
  g_autoptr (GError) error = NULL;
  PalDataset *ds = pal_dataset_open (dir, PAL_DATASET_RAFDB, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

static char *
write_synth (const char *name, int n, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_build_filename (scratch, name, NULL);
  PalSynthOptions opt;

  pal_synth_options_init (&opt);
  opt.n = n;
  opt.size = 32;
  opt.seed = seed;
  g_assert_true (pal_synth_dataset (dir, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

/* --- the confusion matrix --------------------------------------------------- */

/* 3 classes; class 2 has no samples:
 *          pred 0  1  2
 *   true 0      8  1  1     (10, 80% right)
 *   true 1      3  2  0     ( 5, 40% right)
 *   true 2      0  0  0
 */
static PalConfusion *
hand_made (void)
{
  PalConfusion *c = pal_confusion_new (3);

  for (int i = 0; i < 8; i++)
    pal_confusion_add (c, 0, 0);
  pal_confusion_add (c, 0, 1);
  pal_confusion_add (c, 0, 2);
  for (int i = 0; i < 3; i++)
    pal_confusion_add (c, 1, 0);
  pal_confusion_add (c, 1, 1);
  pal_confusion_add (c, 1, 1);
  return c;
}

static void
test_confusion_arithmetic (void)
{
  g_autoptr (PalConfusion) c = hand_made ();
  g_autoptr (PalConfusion) empty = pal_confusion_new (4);

  g_assert_cmpint (c->n_classes, ==, 3);
  g_assert_cmpint (c->counts[0 * 3 + 0], ==, 8);
  g_assert_cmpint (c->counts[1 * 3 + 0], ==, 3);
  g_assert_cmpint (c->counts[0 * 3 + 2], ==, 1);
  g_assert_cmpint (pal_confusion_total (c), ==, 15);
  g_assert_cmpint (pal_confusion_class_total (c, 0), ==, 10);
  g_assert_cmpint (pal_confusion_class_total (c, 1), ==, 5);
  g_assert_cmpint (pal_confusion_class_total (c, 2), ==, 0);
  g_assert_cmpfloat_with_epsilon (pal_confusion_accuracy (c), 10.0 / 15.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_confusion_class_accuracy (c, 0), 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_confusion_class_accuracy (c, 1), 0.4, 1e-12);
  g_assert_cmpfloat (pal_confusion_class_accuracy (c, 2), ==, 0.0);
  /* the empty class is left out of the mean: (0.8 + 0.4) / 2, not / 3 */
  g_assert_cmpfloat_with_epsilon (pal_confusion_mean_class_accuracy (c), 0.6, 1e-12);

  g_assert_cmpint (pal_confusion_total (empty), ==, 0);
  g_assert_cmpfloat (pal_confusion_accuracy (empty), ==, 0.0);
  g_assert_cmpfloat (pal_confusion_mean_class_accuracy (empty), ==, 0.0);
}

static void
test_confusion_to_string (void)
{
  static const char *const names[] = { "neutral", "happy", "surprise", NULL };
  g_autoptr (PalConfusion) c = hand_made ();
  g_autofree char *s = pal_confusion_to_string (c, names);
  g_autofree char *plain = pal_confusion_to_string (c, NULL);
  g_auto (GStrv) lines = g_strsplit (s, "\n", -1);
  int n_neutral_rows = 0;
  gssize width = -1;

  if (g_test_verbose ())
    g_printerr ("%s", s);
  for (int k = 0; names[k]; k++)
    g_assert_nonnull (strstr (s, names[k]));
  /* counts, row totals, percentages, and "-" for the empty class */
  g_assert_nonnull (strstr (s, "total"));
  g_assert_nonnull (strstr (s, "80.0"));
  g_assert_nonnull (strstr (s, "10.0"));
  g_assert_nonnull (strstr (s, "60.0"));
  g_assert_nonnull (strstr (s, "40.0"));
  g_assert_nonnull (strstr (s, " - "));

  for (int i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "neutral"))
      {
        g_auto (GStrv) f = g_strsplit_set (lines[i], " ", -1);
        GPtrArray *tok = g_ptr_array_new ();

        for (int j = 0; f[j]; j++)
          if (*f[j])
            g_ptr_array_add (tok, f[j]);
        if (n_neutral_rows == 0)
          {
            /* counts: neutral 8 1 1 10 */
            g_assert_cmpuint (tok->len, ==, 5);
            g_assert_cmpstr (tok->pdata[1], ==, "8");
            g_assert_cmpstr (tok->pdata[2], ==, "1");
            g_assert_cmpstr (tok->pdata[4], ==, "10");
          }
        else
          {
            g_assert_cmpuint (tok->len, ==, 4);
            g_assert_cmpstr (tok->pdata[1], ==, "80.0");
          }
        g_ptr_array_unref (tok);
        n_neutral_rows++;
      }
  g_assert_cmpint (n_neutral_rows, ==, 2);

  /* aligned: the body rows of the counts table are all as long as its header */
  for (int i = 1; i < 5; i++)
    {
      if (width < 0)
        width = (gssize) strlen (lines[i]);
      g_assert_cmpint ((gssize) strlen (lines[i]), ==, width);
    }
  /* without names, the class numbers */
  g_assert_nonnull (strstr (plain, "true \\ predicted"));
  g_assert_null (strstr (plain, "neutral"));
}

/* --- agreement with the prior ----------------------------------------------- */

static void
test_pearson (void)
{
  enum { N = 400 };
  float a[N], b[N], neg[N], flat[N], scaled[N];
  guint64 rng = 5;
  double r;

  for (int i = 0; i < N; i++)
    {
      a[i] = (float) pal_rand_normal (&rng);
      b[i] = 0.6f * a[i] + 0.8f * (float) pal_rand_normal (&rng);
      neg[i] = -a[i];
      flat[i] = 0.1f;
      scaled[i] = 37.5f * a[i] + 1000.0f;
    }
  g_assert_cmpfloat_with_epsilon (pal_map_pearson (a, a, N), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (pal_map_pearson (a, neg, N), -1.0, 1e-9);
  g_assert_cmpfloat (pal_map_pearson (a, flat, N), ==, 0.0);
  g_assert_cmpfloat (pal_map_pearson (flat, a, N), ==, 0.0);
  g_assert_cmpfloat (pal_map_pearson (flat, flat, N), ==, 0.0);
  g_assert_cmpfloat (pal_map_pearson (a, b, 1), ==, 0.0);

  r = pal_map_pearson (a, b, N);
  g_assert_cmpfloat (r, >, 0.4);
  g_assert_cmpfloat (r, <, 0.8);
  /* invariant to an affine change of either map with a positive factor
   * (up to the float rounding of the scaled copy) */
  g_assert_cmpfloat_with_epsilon (pal_map_pearson (scaled, b, N), r, 1e-5);
  g_assert_cmpfloat_with_epsilon (pal_map_pearson (b, scaled, N), r, 1e-5);
  g_assert_cmpfloat_with_epsilon (pal_map_pearson (neg, b, N), -r, 1e-9);
}

static void
test_mass_inside (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = NULL;
  enum { S = 64 };
  float prior[S * S], complement[S * S], zeros[S * S], negative[S * S];
  float pmax = 0.0f;
  guint64 rng = 3;
  PalLandmarks lm;
  double in_prior, in_complement;

  g_assert_true (pal_synth_face (&image, &lm, 1, S, &rng, NULL, &error));
  g_assert_no_error (error);
  pal_prior_make (prior, S, S, &lm, S, S, S, S, 3.0f, 0.0f, &rng);
  for (int i = 0; i < S * S; i++)
    pmax = MAX (pmax, prior[i]);
  g_assert_cmpfloat (pmax, >, 0.0f);
  for (int i = 0; i < S * S; i++)
    {
      complement[i] = pmax - prior[i];
      zeros[i] = 0.0f;
      negative[i] = -prior[i];
    }

  in_prior = pal_map_mass_inside (prior, prior, S * S, 0.1);
  in_complement = pal_map_mass_inside (complement, prior, S * S, 0.1);
  if (g_test_verbose ())
    g_printerr ("mass inside: prior %.3f, complement %.3f\n", in_prior, in_complement);
  g_assert_cmpfloat (in_prior, >, 0.75);
  g_assert_cmpfloat (in_complement, <, 0.3);
  g_assert_cmpfloat (in_prior, <=, 1.0);

  /* everything is inside at frac 0; an empty map and a prior without a
   * region give 0; negative values carry no mass */
  g_assert_cmpfloat_with_epsilon (pal_map_mass_inside (complement, prior, S * S, 0.0), 1.0,
                                  1e-12);
  g_assert_cmpfloat (pal_map_mass_inside (zeros, prior, S * S, 0.2), ==, 0.0);
  g_assert_cmpfloat (pal_map_mass_inside (prior, zeros, S * S, 0.2), ==, 0.0);
  g_assert_cmpfloat (pal_map_mass_inside (negative, prior, S * S, 0.2), ==, 0.0);
}

/* --- evaluation ------------------------------------------------------------------ */

typedef struct {
  gint64 last, total;
  int calls;
  GCancellable *cancel_after_first;
} Progress;

static void
on_progress (gint64 done, gint64 total, gpointer user_data)
{
  Progress *p = user_data;

  g_assert_cmpint (done, >, p->last);
  g_assert_cmpint (done, <=, total);
  p->last = done;
  p->total = total;
  p->calls++;
  if (p->cancel_after_first)
    g_cancellable_cancel (p->cancel_after_first);
}

/* The prediction of every sample of @split, one at a time, the direct way. */
static PalConfusion *
evaluate_one_by_one (PalModel *model, PalDataset *ds, PalSplit split)
{
  g_autoptr (GError) error = NULL;
  g_autofree int *idx = NULL;
  g_autofree float *x = NULL;
  PalConfusion *c = pal_confusion_new (pal_model_get_n_classes (model));
  PalWorkspace *ws = pal_workspace_new (model, 1, &error);
  float mean[3], std[3];
  int n, ch, h, w, k = pal_model_get_n_classes (model);

  g_assert_no_error (error);
  pal_graph_input_shape (pal_model_get_graph (model), &ch, &h, &w);
  pal_model_get_normalisation (model, mean, std);
  x = g_new (float, (gsize) ch * h * w);
  idx = pal_dataset_indices (ds, split, &n);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (PalImage) im = pal_dataset_load_image (ds, idx[i], NULL, &error);
      const float *z;
      int best = 0;

      g_assert_no_error (error);
      pal_image_to_tensor (im, x, ch, w, h, mean, std);
      z = pal_workspace_forward (ws, x, 1, FALSE);
      for (int j = 1; j < k; j++)
        if (z[j] > z[best])
          best = j;
      pal_confusion_add (c, pal_dataset_get (ds, idx[i])->label, best);
    }
  pal_workspace_free (ws);
  return c;
}

static void
test_evaluate_counts (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = open_synth (synth_dir);
  g_autoptr (PalModel) model = tiny_model (7, 1);
  const PalSplit splits[] = { PAL_SPLIT_TEST, PAL_SPLIT_TRAIN, PAL_SPLIT_ALL };

  for (guint s = 0; s < G_N_ELEMENTS (splits); s++)
    {
      g_autoptr (PalConfusion) c = NULL;
      g_autoptr (PalConfusion) direct = NULL;
      Progress p = { 0 };
      gint64 failed = -1;
      int n = pal_dataset_count (ds, splits[s], -1);

      c = pal_evaluate (model, ds, splits[s], 5, NULL, on_progress, &p, &failed, &error);
      g_assert_no_error (error);
      g_assert_nonnull (c);
      g_assert_cmpint (c->n_classes, ==, 7);
      g_assert_cmpint (pal_confusion_total (c), ==, n);
      g_assert_cmpint (failed, ==, 0);
      for (int k = 0; k < 7; k++)
        g_assert_cmpint (pal_confusion_class_total (c, k), ==, pal_dataset_count (ds, splits[s], k));
      /* one call per batch, ending at the split's size */
      g_assert_cmpint (p.calls, ==, (n + 4) / 5);
      g_assert_cmpint (p.last, ==, n);
      g_assert_cmpint (p.total, ==, n);

      /* the same predictions as a plain loop, one image at a time */
      direct = evaluate_one_by_one (model, ds, splits[s]);
      g_assert_cmpmem (c->counts, 49 * sizeof (gint64), direct->counts, 49 * sizeof (gint64));
    }
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TEST, -1), ==, 18);
}

static void
test_evaluate_biased (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = open_synth (synth_dir);
  g_autoptr (PalModel) model = tiny_model (7, 2);
  g_autoptr (PalConfusion) c = NULL;
  gsize numel = 0;
  float *bias = pal_model_lookup (model, "fc.bias", &numel);
  int n_test = pal_dataset_count (ds, PAL_SPLIT_TEST, -1);
  int n_surprise = pal_dataset_count (ds, PAL_SPLIT_TEST, 3);

  g_assert_nonnull (bias);
  g_assert_cmpuint (numel, ==, 7);
  bias[3] = 1e4f;
  /* a batch larger than the split */
  c = pal_evaluate (model, ds, PAL_SPLIT_TEST, 64, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpint (pal_confusion_total (c), ==, n_test);
  for (int t = 0; t < 7; t++)
    for (int p = 0; p < 7; p++)
      g_assert_cmpint (c->counts[t * 7 + p], ==, p == 3 ? pal_dataset_count (ds, PAL_SPLIT_TEST, t) : 0);
  g_assert_cmpint (n_surprise, >, 0);
  g_assert_cmpfloat_with_epsilon (pal_confusion_accuracy (c), (double) n_surprise / n_test, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_confusion_class_accuracy (c, 3), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_confusion_mean_class_accuracy (c), 1.0 / 7.0, 1e-12);
}

static void
test_evaluate_refuses (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = open_synth (synth_dir);
  g_autoptr (PalModel) model8 = tiny_model (8, 3);
  g_autoptr (PalModel) model7 = tiny_model (7, 3);
  PalConfusion *c;

  c = pal_evaluate (model8, ds, PAL_SPLIT_TEST, 8, NULL, NULL, NULL, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "8 classes"));
  g_assert_nonnull (strstr (error->message, "has 7"));
  g_clear_error (&error);

  /* RAF-DB has no validation split of its own and none was drawn */
  c = pal_evaluate (model7, ds, PAL_SPLIT_VAL, 8, NULL, NULL, NULL, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "val"));
  g_clear_error (&error);

  c = pal_evaluate (model7, ds, PAL_SPLIT_TEST, 0, NULL, NULL, NULL, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);

  /* once drawn, the validation split is evaluated */
  g_assert_true (pal_dataset_make_validation (ds, 0.2, 7, &error));
  g_assert_no_error (error);
  c = pal_evaluate (model7, ds, PAL_SPLIT_VAL, 8, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pal_confusion_total (c), ==, pal_dataset_count (ds, PAL_SPLIT_VAL, -1));
  g_assert_cmpint (pal_confusion_total (c), >, 0);
  pal_confusion_free (c);
}

/* The averaged agreement equals the same numbers computed image by image. */
static void
test_agreement (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = open_synth (synth_dir);
  g_autoptr (PalModel) model = tiny_model (7, 3);
  PalGraph *g = pal_model_get_graph (model);
  int node = pal_graph_find (g, "conv1"), n, c, h, w;
  g_autofree int *idx = pal_dataset_indices (ds, PAL_SPLIT_TEST, &n);
  PalWorkspace *ws = pal_workspace_new (model, 1, &error);
  float mean[3], sd[3];
  double want_r[2][3] = { { 0 } }, want_in[2][3] = { { 0 } };
  PalAgreement a;

  g_assert_no_error (error);
  pal_graph_node_shape (g, node, &c, &h, &w);
  pal_model_get_normalisation (model, mean, sd);
  for (int i = 0; i < n; i++)
    {
      PalLandmarks lm;
      g_autoptr (PalImage) img = pal_dataset_load_image (ds, idx[i], &lm, &error);
      g_autofree float *x = g_new (float, 3 * 32 * 32);
      g_autofree float *prior = g_new (float, h * w);
      g_autoptr (PalAttrMaps) m = NULL;

      g_assert_no_error (error);
      g_assert_cmpint (img->width, ==, 32);   /* no resize: the loader's path is this one */
      pal_image_to_tensor (img, x, 3, 32, 32, mean, sd);
      pal_prior_make (prior, w, h, &lm, 32, 32, 32, 32, 3.f, 0.f, NULL);
      m = pal_workspace_attribute (ws, x, 1, node, PAL_TARGET_SUM, 0, &error);
      g_assert_no_error (error);
      {
        const float *maps[2][3] = { { m->grad_first, m->grad_rest, m->grad_all },
                                    { m->gi_first, m->gi_rest, m->gi_all } };
        for (int r = 0; r < 2; r++)
          for (int k = 0; k < 3; k++)
            {
              want_r[r][k] += pal_map_pearson (maps[r][k], prior, h * w) / n;
              want_in[r][k] += pal_map_mass_inside (maps[r][k], prior, h * w,
                                                    PAL_AGREEMENT_INSIDE) / n;
            }
      }
    }
  pal_workspace_free (ws);

  g_assert_true (pal_evaluate_agreement (model, ds, PAL_SPLIT_TEST, node, 0, 3.f, 5,
                                         NULL, NULL, NULL, &a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a.n, ==, n);
  g_assert_cmpint (a.n_without, ==, 0);
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 3; k++)
      {
        g_assert_cmpfloat_with_epsilon (a.pearson[r][k], want_r[r][k], 1e-5);
        g_assert_cmpfloat_with_epsilon (a.inside[r][k], want_in[r][k], 1e-5);
        g_assert_cmpfloat (a.inside[r][k], >=, 0.0);
        g_assert_cmpfloat (a.inside[r][k], <=, 1.0);
      }

  /* the logits' node has no map: refused */
  g_assert_false (pal_evaluate_agreement (model, ds, PAL_SPLIT_TEST,
                                          pal_graph_get_output (g), 0, 3.f, 5,
                                          NULL, NULL, NULL, &a, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
}

static void
test_evaluate_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = open_synth (synth_dir);
  g_autoptr (PalModel) model = tiny_model (7, 4);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Progress p = { 0 };
  PalConfusion *c;

  /* cancelled before it starts */
  g_cancellable_cancel (cancel);
  c = pal_evaluate (model, ds, PAL_SPLIT_ALL, 4, cancel, on_progress, &p, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (p.calls, ==, 0);
  g_clear_error (&error);

  /* cancelled after the first batch */
  g_cancellable_reset (cancel);
  p.cancel_after_first = cancel;
  c = pal_evaluate (model, ds, PAL_SPLIT_ALL, 4, cancel, on_progress, &p, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (p.calls, ==, 1);
  g_assert_cmpint (p.last, ==, 4);
}

/* Records the dataset indices reported as failed (from loader threads). */
static void
on_fail (int index, const GError *error, gpointer user_data)
{
  static GMutex lock;

  g_assert_nonnull (error);
  g_mutex_lock (&lock);
  g_array_append_val ((GArray *) user_data, index);
  g_mutex_unlock (&lock);
}

static int
cmp_int (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

static void
test_evaluate_failed_images (void)
{
  g_autoptr (GArray) reported = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = write_synth ("broken", 21, 9);
  g_autoptr (PalDataset) ds = open_synth (dir);
  g_autoptr (PalModel) model = tiny_model (7, 5);
  g_autoptr (PalConfusion) c = NULL;
  g_autofree int *idx = NULL;
  Progress p = { 0 };
  gint64 failed = -1;
  int n;

  /* one test image missing, one not an image */
  idx = pal_dataset_indices (ds, PAL_SPLIT_TEST, &n);
  g_assert_cmpint (n, >=, 3);
  g_assert_cmpint (g_unlink (pal_dataset_get (ds, idx[0])->path), ==, 0);
  g_assert_true (g_file_set_contents (pal_dataset_get (ds, idx[n - 1])->path, "no jpeg", -1,
                                      &error));
  c = pal_evaluate_full (model, ds, PAL_SPLIT_TEST, 2, NULL, on_progress, &p,
                         on_fail, reported, &failed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (failed, ==, 2);
  g_assert_cmpuint (reported->len, ==, 2);
  g_array_sort (reported, cmp_int);
  g_assert_cmpint (g_array_index (reported, int, 0), ==, idx[0]);
  g_assert_cmpint (g_array_index (reported, int, 1), ==, idx[n - 1]);
  g_assert_cmpint (pal_confusion_total (c), ==, n - 2);
  g_assert_cmpint (p.last, ==, n);

  /* nothing loads: an error, every sample counted as failed */
  for (int i = 0; i < n; i++)
    g_unlink (pal_dataset_get (ds, idx[i])->path);
  pal_confusion_free (g_steal_pointer (&c));
  c = pal_evaluate (model, ds, PAL_SPLIT_TEST, 2, NULL, NULL, NULL, &failed, &error);
  g_assert_null (c);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_cmpint (failed, ==, n);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  pal_set_threads (2);
  scratch = g_dir_make_tmp ("pal-test-metrics-XXXXXX", NULL);
  g_assert_nonnull (scratch);
  synth_dir = write_synth ("synth", 70, 1);

  g_test_add_func ("/metrics/confusion-arithmetic", test_confusion_arithmetic);
  g_test_add_func ("/metrics/confusion-to-string", test_confusion_to_string);
  g_test_add_func ("/metrics/pearson", test_pearson);
  g_test_add_func ("/metrics/mass-inside", test_mass_inside);
  g_test_add_func ("/metrics/evaluate-counts", test_evaluate_counts);
  g_test_add_func ("/metrics/evaluate-biased", test_evaluate_biased);
  g_test_add_func ("/metrics/evaluate-refuses", test_evaluate_refuses);
  g_test_add_func ("/metrics/evaluate-cancel", test_evaluate_cancel);
  g_test_add_func ("/metrics/agreement", test_agreement);
  g_test_add_func ("/metrics/evaluate-failed-images", test_evaluate_failed_images);
  rc = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  g_free (synth_dir);
  return rc;
}
