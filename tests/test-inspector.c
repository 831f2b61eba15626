/* test-inspector.c: the Inspect view's model, without a display
 *
 * The demo face (with its .pts, found beside it) and the two demo models go
 * through the inspector; its maps are checked against the core called
 * directly, its worker against rapid changes (the latest request wins,
 * stale results are dropped), its landmark edits against the maps (the
 * numbers follow, the maps stay), and its loaders against broken files.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "pal-inspector.h"
#include "pal-augment.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-metrics.h"
#include "pal-model-io.h"
#include "pal-parallel.h"
#include "test-util.h"

#define DEMO_FACE     PAL_SOURCE_DATADIR "/demo-face.jpg"
#define DEMO_PTS      PAL_SOURCE_DATADIR "/demo-face.pts"
#define DEMO_PAL      PAL_SOURCE_DATADIR "/demo-pal.safetensors"
#define DEMO_BASELINE PAL_SOURCE_DATADIR "/demo-baseline.safetensors"

/* --- helpers ---------------------------------------------------------------- */

/* Every "results-changed": the slot and the generation of its result (0:
 * none). */
typedef struct {
  GArray *slots;
  GArray *generations;
} Emissions;

static void
on_results_changed (PalInspector *insp, int slot, gpointer data)
{
  Emissions *e = data;
  const PalInspectorResult *res = pal_inspector_get_result (insp, slot);
  guint64 gen = res ? res->generation : 0;

  g_array_append_val (e->slots, slot);
  g_array_append_val (e->generations, gen);
}

static void
emissions_init (Emissions *e, PalInspector *insp)
{
  e->slots = g_array_new (FALSE, FALSE, sizeof (int));
  e->generations = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_signal_connect (insp, "results-changed", G_CALLBACK (on_results_changed), e);
}

static void
emissions_reset (Emissions *e)
{
  g_array_set_size (e->slots, 0);
  g_array_set_size (e->generations, 0);
}

static void
emissions_clear (Emissions *e, PalInspector *insp)
{
  g_signal_handlers_disconnect_by_data (insp, e);
  g_array_unref (e->slots);
  g_array_unref (e->generations);
}

/* How many emissions for @slot. */
static guint
emissions_count (const Emissions *e, int slot)
{
  guint n = 0;

  for (guint i = 0; i < e->slots->len; i++)
    n += g_array_index (e->slots, int, i) == slot;
  return n;
}

/* A new inspector with the demo face and both demo models, computed. */
static PalInspector *
demo_inspector (void)
{
  PalInspector *insp = pal_inspector_new ();
  GError *lm_error = NULL, *error = NULL;

  g_assert_true (pal_inspector_load_image (insp, DEMO_FACE, &lm_error, &error));
  g_assert_no_error (error);
  g_assert_no_error (lm_error);
  g_assert_true (pal_inspector_load_model (insp, 0, DEMO_PAL, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_load_model (insp, 1, DEMO_BASELINE, &error));
  g_assert_no_error (error);
  pal_inspector_wait (insp, NULL);
  g_assert_false (pal_inspector_get_busy (insp));
  return insp;
}

static gboolean
map_is_constant (const float *m, int n)
{
  for (int i = 1; i < n; i++)
    if (m[i] != m[0])
      return FALSE;
  return TRUE;
}

static void
assert_maps_close (const float *a, const float *b, int n)
{
  float peak = 0.0f;

  for (int i = 0; i < n; i++)
    peak = MAX (peak, fabsf (b[i]));
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (a[i], b[i], 1e-5f * (1.0f + peak));
}

static float *
copy_map (const PalInspectorResult *res, int k)
{
  return g_memdup2 (res->maps[k], sizeof (float) * res->map_w * res->map_h);
}

/* --- tests -------------------------------------------------------------------- */

static void
test_titles (void)
{
  for (int k = 0; k < PAL_N_MAPS; k++)
    {
      const char *t = pal_map_kind_title (k);

      g_assert_nonnull (t);
      g_assert_cmpuint (strlen (t), >, 0);
      for (int j = 0; j < k; j++)
        g_assert_cmpstr (pal_map_kind_title (j), !=, t);
    }
}

/* The demo: maps at conv4's 12 x 12 for both models, sensible numbers. */
static void
test_demo (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  const PalInspectorResult *res[2];
  g_auto (GStrv) layers = pal_inspector_list_layers (insp);
  g_auto (GStrv) classes = pal_inspector_list_classes (insp);
  gboolean differ = FALSE;

  g_assert_nonnull (pal_inspector_get_landmarks (insp));   /* the .pts beside it */
  g_assert_false (pal_inspector_get_landmarks_modified (insp));
  g_assert_cmpstr (pal_inspector_get_image_path (insp), ==, DEMO_FACE);
  g_assert_cmpstr (pal_inspector_get_model_path (insp, 1), ==, DEMO_BASELINE);
  g_assert_true (g_strv_contains ((const char *const *) layers, "conv4"));
  g_assert_false (g_strv_contains ((const char *const *) layers, "flat"));
  g_assert_false (g_strv_contains ((const char *const *) layers, "fc"));
  g_assert_cmpuint (g_strv_length (classes), ==, 7);
  g_assert_cmpstr (classes[1], ==, "happy");

  for (int s = 0; s < 2; s++)
    {
      PalGraph *g = pal_model_get_graph (pal_inspector_get_model (insp, s));
      int c, h, w, hw, predicted = 0;
      double sum = 0.0;

      res[s] = pal_inspector_get_result (insp, s);
      g_assert_nonnull (res[s]);
      g_assert_no_error (res[s]->error);
      g_assert_cmpstr (res[s]->model_name, ==, s == 0 ? "demo-pal" : "demo-baseline");
      /* the baseline names no PAL layer: it is compared at the PAL model's */
      g_assert_cmpstr (res[s]->node_name, ==, "conv4");
      pal_graph_node_shape (g, pal_graph_find (g, "conv4"), &c, &h, &w);
      g_assert_cmpint (res[s]->map_w, ==, w);
      g_assert_cmpint (res[s]->map_h, ==, h);
      g_assert_cmpint (res[s]->channels, ==, c);
      g_assert_cmpint (res[s]->c1, ==, c / 2);
      g_assert_cmpint (res[s]->target, ==, PAL_TARGET_SUM);
      g_assert_false (res[s]->flat);
      hw = w * h;
      for (int k = 0; k < PAL_N_MAPS; k++)
        {
          g_assert_nonnull (res[s]->maps[k]);
          g_assert_false (map_is_constant (res[s]->maps[k], hw));
          g_assert_true (isfinite (res[s]->r[k]));
          g_assert_cmpfloat (res[s]->r[k], >=, -1.0);
          g_assert_cmpfloat (res[s]->r[k], <=, 1.0);
          g_assert_true (isfinite (res[s]->inside[k]));
          g_assert_cmpfloat (res[s]->inside[k], >=, 0.0);
          g_assert_cmpfloat (res[s]->inside[k], <=, 1.0);
        }
      g_assert_true (memcmp (res[s]->maps[PAL_MAP_GRAD_ALL], res[s]->maps[PAL_MAP_GI_ALL],
                             hw * sizeof (float)) != 0);
      g_assert_cmpint (res[s]->n_classes, ==, 7);
      for (int k = 0; k < res[s]->n_classes; k++)
        {
          g_assert_cmpfloat (res[s]->probs[k], >=, 0.0);
          sum += res[s]->probs[k];
          if (res[s]->probs[k] > res[s]->probs[predicted])
            predicted = k;
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      g_assert_cmpint (res[s]->predicted, ==, predicted);
      g_assert_cmpint (res[s]->cam_class, ==, predicted);
      g_assert_cmpfloat (res[s]->compute_ms, >=, 0.0);
    }

  /* two different models, two different pictures */
  for (int i = 0; i < res[0]->map_w * res[0]->map_h; i++)
    differ = differ || res[0]->maps[PAL_MAP_GI_FIRST][i] != res[1]->maps[PAL_MAP_GI_FIRST][i];
  g_assert_true (differ);
  g_assert_true (res[0]->r[PAL_MAP_GI_FIRST] != res[1]->r[PAL_MAP_GI_FIRST]);
}

/* The inspector's numbers are the core's, called directly. */
static void
check_direct (PalInspector *insp, int slot, const char *path, const char *layer, int target,
              int cam_class, int c1)
{
  const PalInspectorResult *res = pal_inspector_get_result (insp, slot);
  const PalImage *image = pal_inspector_get_image (insp);
  const PalLandmarks *lm = pal_inspector_get_landmarks (insp);
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalImage) face = NULL;
  g_autoptr (PalAttrMaps) maps = NULL;
  g_autofree float *x = NULL, *cam = NULL, *prior = NULL;
  PalWorkspace *ws;
  GError *error = NULL;
  PalGraph *g;
  float mean[3], std[3];
  int node, in_c, in_h, in_w, hw;

  g_assert_nonnull (res);
  g_assert_no_error (res->error);
  model = pal_model_load (path, NULL, &error);
  g_assert_no_error (error);
  g = pal_model_get_graph (model);
  node = pal_graph_find (g, layer);
  g_assert_cmpint (node, >=, 0);
  pal_graph_input_shape (g, &in_c, &in_h, &in_w);
  face = pal_augment_apply (image, NULL, NULL, in_w, in_h);
  x = g_new (float, (gsize) in_c * in_h * in_w);
  pal_model_get_normalisation (model, mean, std);
  pal_image_to_tensor (face, x, in_c, in_w, in_h, mean, std);
  ws = pal_workspace_new (model, 1, &error);
  g_assert_no_error (error);
  g_assert_true (pal_workspace_set_weights_fixed (ws, TRUE, &error));
  maps = pal_workspace_attribute (ws, x, 1, node, target, c1, &error);
  g_assert_no_error (error);
  hw = maps->h * maps->w;
  cam = g_new (float, hw);
  g_assert_true (pal_workspace_gradcam (ws, x, 1, node, cam_class < 0 ? res->predicted : cam_class,
                                        cam, NULL, &error));
  g_assert_no_error (error);
  pal_workspace_free (ws);

  g_assert_cmpstr (res->node_name, ==, layer);
  g_assert_cmpint (res->map_w, ==, maps->w);
  g_assert_cmpint (res->map_h, ==, maps->h);
  g_assert_cmpint (res->c1, ==, maps->c1);
  g_assert_cmpint (res->target, ==, target);
  assert_maps_close (res->maps[PAL_MAP_GRAD_FIRST], maps->grad_first, hw);
  assert_maps_close (res->maps[PAL_MAP_GRAD_REST], maps->grad_rest, hw);
  assert_maps_close (res->maps[PAL_MAP_GRAD_ALL], maps->grad_all, hw);
  assert_maps_close (res->maps[PAL_MAP_GI_FIRST], maps->gi_first, hw);
  assert_maps_close (res->maps[PAL_MAP_GI_REST], maps->gi_rest, hw);
  assert_maps_close (res->maps[PAL_MAP_GI_ALL], maps->gi_all, hw);
  assert_maps_close (res->maps[PAL_MAP_GRADCAM], cam, hw);
  assert_maps_close (res->probs, maps->probs, maps->n_classes);

  /* the prior at the map's size, as `pal attribute` makes it */
  g_assert_nonnull (lm);
  prior = g_new (float, hw);
  pal_prior_make (prior, maps->w, maps->h, lm, image->width, image->height, in_w, in_h,
                  (float) pal_inspector_get_sigma (insp), 0.0f, NULL);
  g_assert_cmpfloat_with_epsilon (res->r[PAL_MAP_GI_FIRST],
                                  pal_map_pearson (maps->gi_first, prior, hw), 1e-5);
  g_assert_cmpfloat_with_epsilon (res->r[PAL_MAP_GRAD_ALL],
                                  pal_map_pearson (maps->grad_all, prior, hw), 1e-5);
  g_assert_cmpfloat_with_epsilon (res->r[PAL_MAP_GRADCAM], pal_map_pearson (cam, prior, hw), 1e-5);
  g_assert_cmpfloat_with_epsilon (res->inside[PAL_MAP_GI_ALL],
                                  pal_map_mass_inside (maps->gi_all, prior, hw,
                                                       pal_inspector_get_inside (insp)), 1e-5);
}

static void
test_direct (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();

  check_direct (insp, 0, DEMO_PAL, "conv4", PAL_TARGET_SUM, -1, 0);
  check_direct (insp, 1, DEMO_BASELINE, "conv4", PAL_TARGET_SUM, -1, 0);

  /* other choices: a class target, a chosen Grad-CAM class, C1, a layer */
  pal_inspector_set_layer (insp, "conv3");
  pal_inspector_set_target (insp, 3);
  pal_inspector_set_cam_class (insp, 5);
  pal_inspector_set_c1 (insp, 16);
  pal_inspector_set_inside (insp, 0.5);
  g_assert_true (pal_inspector_get_busy (insp));
  pal_inspector_wait (insp, NULL);
  g_assert_cmpint (pal_inspector_get_result (insp, 0)->cam_class, ==, 5);
  check_direct (insp, 0, DEMO_PAL, "conv3", 3, 5, 16);
  check_direct (insp, 1, DEMO_BASELINE, "conv3", 3, 5, 16);
}

/* Many changes at once: one result per slot, the last one's. */
static void
test_latest_wins (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  static const char *const layers[] = { "conv3", "conv2", "conv4", "pool2", "conv1", "conv3" };
  Emissions e;
  guint64 first_gen;

  emissions_init (&e, insp);
  first_gen = pal_inspector_get_generation (insp);
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      pal_inspector_set_layer (insp, layers[i]);
      pal_inspector_set_target (insp, (int) i);
    }
  g_assert_cmpuint (pal_inspector_get_generation (insp), >, first_gen + G_N_ELEMENTS (layers));
  pal_inspector_wait (insp, NULL);
  for (int s = 0; s < 2; s++)
    {
      const PalInspectorResult *res = pal_inspector_get_result (insp, s);

      g_assert_cmpuint (emissions_count (&e, s), ==, 1);
      g_assert_cmpuint (res->generation, ==, pal_inspector_get_generation (insp));
      g_assert_cmpstr (res->node_name, ==, "conv3");
      g_assert_cmpint (res->target, ==, (int) G_N_ELEMENTS (layers) - 1);
    }
  for (guint i = 0; i < e.generations->len; i++)
    g_assert_cmpuint (g_array_index (e.generations, guint64, i), ==,
                      pal_inspector_get_generation (insp));

  /* a result that arrives stale (computed, then superseded before the main
   * loop runs) is dropped as well */
  emissions_reset (&e);
  pal_inspector_set_target (insp, 1);
  g_usleep (300 * 1000);   /* the worker finishes and posts it meanwhile */
  pal_inspector_set_target (insp, 2);
  pal_inspector_wait (insp, NULL);
  g_assert_cmpuint (emissions_count (&e, 0), ==, 1);
  g_assert_cmpuint (emissions_count (&e, 1), ==, 1);
  for (int s = 0; s < 2; s++)
    {
      g_assert_cmpint (pal_inspector_get_result (insp, s)->target, ==, 2);
      g_assert_cmpuint (g_array_index (e.generations, guint64, s), ==,
                        pal_inspector_get_generation (insp));
    }
  check_direct (insp, 0, DEMO_PAL, "conv3", 2, -1, 0);

  /* nothing changed, nothing computed */
  emissions_reset (&e);
  first_gen = pal_inspector_get_generation (insp);
  pal_inspector_set_target (insp, 2);
  pal_inspector_set_layer (insp, "conv3");
  g_assert_false (pal_inspector_get_busy (insp));
  g_assert_cmpuint (pal_inspector_get_generation (insp), ==, first_gen);
  g_assert_cmpuint (e.slots->len, ==, 0);
  emissions_clear (&e, insp);
}

static void
on_notify_busy (GObject *object, GParamSpec *pspec, gpointer data)
{
  GArray *states = data;
  gboolean busy = pal_inspector_get_busy (PAL_INSPECTOR (object));

  g_array_append_val (states, busy);
}

static void
test_busy (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (gboolean));

  g_signal_connect (insp, "notify::busy", G_CALLBACK (on_notify_busy), states);
  pal_inspector_set_target (insp, 4);
  pal_inspector_set_target (insp, 5);
  pal_inspector_wait (insp, NULL);
  g_assert_cmpuint (states->len, ==, 2);
  g_assert_true (g_array_index (states, gboolean, 0));
  g_assert_false (g_array_index (states, gboolean, 1));
  g_signal_handlers_disconnect_by_data (insp, states);
}

/* A layer one model has and the other has not: an error in that slot only. */
static void
test_missing_layer (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  g_autoptr (PalModel) vgg = NULL;
  const PalInspectorResult *res;
  GError *error = NULL;

  vgg = pal_model_new ("bench-vgg", &error);
  g_assert_no_error (error);
  pal_model_init (vgg, 7);
  pal_inspector_set_model (insp, 1, vgg, "bench-vgg");
  pal_inspector_set_layer (insp, "conv7");
  pal_inspector_wait (insp, NULL);

  res = pal_inspector_get_result (insp, 0);
  g_assert_error (res->error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (res->error->message, "conv7"));
  g_assert_nonnull (strstr (res->error->message, "demo-pal"));
  g_assert_nonnull (strstr (res->error->message, "conv4"));   /* the layers it has */
  g_assert_cmpstr (res->model_name, ==, "demo-pal");
  g_assert_null (res->node_name);
  g_assert_null (res->maps[PAL_MAP_GRAD_ALL]);
  g_assert_null (res->probs);
  g_assert_true (isnan (res->r[PAL_MAP_GRAD_ALL]));

  res = pal_inspector_get_result (insp, 1);
  g_assert_no_error (res->error);
  g_assert_cmpstr (res->node_name, ==, "conv7");
  g_assert_cmpint (res->map_w, ==, 12);   /* 96 / 8 */
  g_assert_null (pal_inspector_get_model_path (insp, 1));

  /* a class the model does not have */
  pal_inspector_set_layer (insp, NULL);
  pal_inspector_set_target (insp, 9);
  pal_inspector_wait (insp, NULL);
  res = pal_inspector_get_result (insp, 0);
  g_assert_error (res->error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (res->error->message, "9"));

  /* back to a layer both have */
  pal_inspector_set_target (insp, PAL_TARGET_SUM);
  pal_inspector_set_layer (insp, "conv4");
  pal_inspector_wait (insp, NULL);
  g_assert_no_error (pal_inspector_get_result (insp, 0)->error);
  g_assert_no_error (pal_inspector_get_result (insp, 1)->error);

  /* an emptied slot has no result */
  pal_inspector_clear_model (insp, 1);
  g_assert_null (pal_inspector_get_model (insp, 1));
  g_assert_null (pal_inspector_get_result (insp, 1));
  g_assert_nonnull (pal_inspector_get_result (insp, 0));
  g_assert_false (pal_inspector_get_busy (insp));
}

/* Landmarks move the numbers, never the maps, without the network. */
static void
test_landmarks_numbers (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  const PalInspectorResult *res = pal_inspector_get_result (insp, 0);
  const PalLandmarks *lm = pal_inspector_get_landmarks (insp);
  g_autofree float *gi = copy_map (res, PAL_MAP_GI_FIRST);
  g_autofree float *cam = copy_map (res, PAL_MAP_GRADCAM);
  guint64 gen = pal_inspector_get_generation (insp);
  int hw = res->map_w * res->map_h;
  double r0[PAL_N_MAPS], r_noise[PAL_N_MAPS];
  double in0 = res->inside[PAL_MAP_GI_ALL];
  Emissions e;
  PalLandmarks moved;
  int n_changed = 0;

  memcpy (r0, res->r, sizeof r0);
  emissions_init (&e, insp);

  /* move the jaw and the nose tip well away */
  moved = *lm;
  for (int i = 0; i <= 16; i++)
    pal_inspector_move_landmark (insp, i, moved.x[i] * 0.5f, moved.y[i] * 0.5f);
  pal_inspector_move_landmark (insp, 30, 5.0f, 5.0f);
  g_assert_true (pal_inspector_get_landmarks_modified (insp));
  g_assert_cmpfloat (pal_inspector_get_landmarks (insp)->x[30], ==, 5.0f);
  g_assert_false (pal_inspector_get_busy (insp));
  g_assert_cmpuint (pal_inspector_get_generation (insp), ==, gen);
  g_assert_cmpuint (emissions_count (&e, 0), ==, 18);   /* synchronously, once a move */
  g_assert_true (pal_inspector_get_result (insp, 0) == res);   /* the same result, new numbers */
  g_assert_cmpmem (res->maps[PAL_MAP_GI_FIRST], hw * sizeof (float), gi, hw * sizeof (float));
  g_assert_cmpmem (res->maps[PAL_MAP_GRADCAM], hw * sizeof (float), cam, hw * sizeof (float));
  for (int k = 0; k < PAL_N_MAPS; k++)
    {
      g_assert_true (isfinite (res->r[k]));
      n_changed += fabs (res->r[k] - r0[k]) > 1e-6;
    }
  g_assert_cmpint (n_changed, ==, PAL_N_MAPS);
  g_assert_true (res->inside[PAL_MAP_GI_ALL] != in0);

  /* sigma and noise: new numbers, the same for the same settings */
  pal_inspector_set_landmarks (insp, &moved);
  pal_inspector_set_noise (insp, 4.0);
  memcpy (r_noise, pal_inspector_get_result (insp, 0)->r, sizeof r_noise);
  g_assert_true (r_noise[PAL_MAP_GI_ALL] != r0[PAL_MAP_GI_ALL]);
  pal_inspector_set_noise (insp, 0.0);
  g_assert_cmpfloat (pal_inspector_get_result (insp, 0)->r[PAL_MAP_GI_ALL], ==, r0[PAL_MAP_GI_ALL]);
  pal_inspector_set_noise (insp, 4.0);
  g_assert_cmpfloat (pal_inspector_get_result (insp, 0)->r[PAL_MAP_GI_ALL], ==,
                     r_noise[PAL_MAP_GI_ALL]);
  pal_inspector_set_noise (insp, 0.0);
  pal_inspector_set_sigma (insp, 8.0);
  g_assert_true (pal_inspector_get_result (insp, 0)->r[PAL_MAP_GI_ALL] != r0[PAL_MAP_GI_ALL]);
  {
    g_autofree float *p1 = pal_inspector_render_prior (insp, 64, 50);
    g_autofree float *p2 = pal_inspector_render_prior (insp, 64, 50);

    g_assert_nonnull (p1);
    g_assert_cmpmem (p1, 64 * 50 * sizeof (float), p2, 64 * 50 * sizeof (float));
    g_assert_false (map_is_constant (p1, 64 * 50));
  }
  g_assert_false (pal_inspector_get_busy (insp));
  g_assert_cmpuint (pal_inspector_get_generation (insp), ==, gen);

  /* no landmarks, no numbers; the maps stay */
  pal_inspector_set_landmarks (insp, NULL);
  g_assert_null (pal_inspector_get_landmarks (insp));
  g_assert_null (pal_inspector_render_prior (insp, 10, 10));
  for (int s = 0; s < 2; s++)
    {
      res = pal_inspector_get_result (insp, s);
      for (int k = 0; k < PAL_N_MAPS; k++)
        {
          g_assert_true (isnan (res->r[k]));
          g_assert_true (isnan (res->inside[k]));
          g_assert_nonnull (res->maps[k]);
        }
    }
  g_assert_cmpmem (pal_inspector_get_result (insp, 0)->maps[PAL_MAP_GI_FIRST], hw * sizeof (float),
                   gi, hw * sizeof (float));

  /* a mean face, placed on the image */
  pal_inspector_place_mean_landmarks (insp);
  lm = pal_inspector_get_landmarks (insp);
  g_assert_nonnull (lm);
  {
    const PalImage *image = pal_inspector_get_image (insp);
    float box[4];

    pal_landmarks_bounds (lm, box);
    g_assert_cmpfloat (box[0], >, 0.0f);
    g_assert_cmpfloat (box[1], >, 0.0f);
    g_assert_cmpfloat (box[2], <, image->width - 1.0f);
    g_assert_cmpfloat (box[3], <, image->height - 1.0f);
    g_assert_cmpfloat (fabsf ((box[0] + box[2]) / 2 - (image->width - 1) / 2.0f), <, 1.0f);
    g_assert_cmpfloat (box[2] - box[0], >, 0.4f * image->width);
  }
  g_assert_true (isfinite (pal_inspector_get_result (insp, 0)->r[PAL_MAP_GI_FIRST]));
  emissions_clear (&e, insp);
}

static char *
write_file (const char *dir, const char *name, const char *contents, gssize len)
{
  char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
pts_text (int n_points)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "version: 1\nn_points: %d\n{\n", n_points);
  for (int i = 0; i < n_points; i++)
    g_string_append_printf (s, "%d.5 %d.25\n", 20 + i % 40, 30 + i % 30);
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

/* Broken files: a clear error naming the file, and nothing changes. */
static void
test_bad_files (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *jpeg = NULL, *trunc = NULL, *pts67 = NULL, *junk = NULL;
  g_autofree char *face = NULL, *face_pts = NULL, *text67 = pts_text (67);
  const PalImage *image = pal_inspector_get_image (insp);
  PalModel *model = pal_inspector_get_model (insp, 0);
  PalLandmarks lm = *pal_inspector_get_landmarks (insp);
  GError *error = NULL, *lm_error = NULL;
  gsize len;

  g_file_get_contents (DEMO_FACE, &jpeg, &len, &error);
  g_assert_no_error (error);

  /* a truncated JPEG */
  trunc = write_file (dir, "truncated.jpg", jpeg, len / 2);
  g_assert_false (pal_inspector_load_image (insp, trunc, &lm_error, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "truncated.jpg"));
  g_assert_no_error (lm_error);
  g_clear_error (&error);
  g_assert_true (pal_inspector_get_image (insp) == image);
  g_assert_cmpstr (pal_inspector_get_image_path (insp), ==, DEMO_FACE);
  g_assert_cmpmem (pal_inspector_get_landmarks (insp), sizeof lm, &lm, sizeof lm);

  /* 67 points */
  pts67 = write_file (dir, "short.pts", text67, -1);
  g_assert_false (pal_inspector_load_landmarks (insp, pts67, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == PAL_ERROR);
  g_assert_nonnull (strstr (error->message, "short.pts"));
  g_clear_error (&error);
  g_assert_cmpmem (pal_inspector_get_landmarks (insp), sizeof lm, &lm, sizeof lm);

  /* a model file that is no model */
  junk = write_file (dir, "junk.safetensors", "this is not a model\n", -1);
  g_assert_false (pal_inspector_load_model (insp, 0, junk, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "junk.safetensors"));
  g_clear_error (&error);
  g_assert_true (pal_inspector_get_model (insp, 0) == model);
  g_assert_cmpstr (pal_inspector_get_model_path (insp, 0), ==, DEMO_PAL);
  g_assert_false (pal_inspector_get_busy (insp));

  /* an image whose .pts beside it is broken: the image loads, the
   * landmarks error says why there are none */
  face = write_file (dir, "face.jpg", jpeg, len);
  face_pts = write_file (dir, "face.pts", text67, -1);
  g_assert_true (pal_inspector_load_image (insp, face, &lm_error, &error));
  g_assert_no_error (error);
  g_assert_nonnull (lm_error);
  g_assert_nonnull (strstr (lm_error->message, "face.pts"));
  g_clear_error (&lm_error);
  g_assert_cmpstr (pal_inspector_get_image_path (insp), ==, face);
  g_assert_null (pal_inspector_get_landmarks (insp));
  pal_inspector_wait (insp, NULL);
  g_assert_no_error (pal_inspector_get_result (insp, 0)->error);
  g_assert_true (isnan (pal_inspector_get_result (insp, 0)->r[0]));

  /* ... and without a .pts, no landmarks and no error */
  g_assert_cmpint (g_unlink (face_pts), ==, 0);
  g_assert_true (pal_inspector_load_image (insp, face, &lm_error, &error));
  g_assert_no_error (error);
  g_assert_no_error (lm_error);
  g_assert_null (pal_inspector_get_landmarks (insp));
  pal_inspector_wait (insp, NULL);

  scratch_free (g_steal_pointer (&dir));
}

static void
test_save_landmarks (void)
{
  g_autoptr (PalInspector) insp = demo_inspector ();
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "edited.pts", NULL);
  PalLandmarks back;
  GError *error = NULL;

  pal_inspector_move_landmark (insp, 8, 47.25f, 80.5f);
  g_assert_true (pal_inspector_get_landmarks_modified (insp));
  g_assert_true (pal_inspector_save_landmarks (insp, path, &error));
  g_assert_no_error (error);
  g_assert_false (pal_inspector_get_landmarks_modified (insp));
  g_assert_cmpuint (count_entries (dir), ==, 1);   /* no temporary file left */
  g_assert_true (pal_landmarks_load (path, &back, &error));
  g_assert_no_error (error);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      g_assert_cmpfloat_with_epsilon (back.x[i], pal_inspector_get_landmarks (insp)->x[i], 1e-3);
      g_assert_cmpfloat_with_epsilon (back.y[i], pal_inspector_get_landmarks (insp)->y[i], 1e-3);
    }
  g_assert_cmpfloat_with_epsilon (back.x[8], 47.25, 1e-3);

  /* saved over the earlier file; loaded back through the inspector */
  pal_inspector_move_landmark (insp, 8, 40.0f, 81.0f);
  g_assert_true (pal_inspector_save_landmarks (insp, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  pal_inspector_set_landmarks (insp, NULL);
  g_assert_true (pal_inspector_load_landmarks (insp, path, &error));
  g_assert_no_error (error);
  g_assert_false (pal_inspector_get_landmarks_modified (insp));
  g_assert_cmpfloat_with_epsilon (pal_inspector_get_landmarks (insp)->x[8], 40.0, 1e-3);

  /* no landmarks: nothing to save, nothing written */
  pal_inspector_set_landmarks (insp, NULL);
  g_assert_false (pal_inspector_save_landmarks (insp, path, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);

  /* an unwritable place */
  pal_inspector_place_mean_landmarks (insp);
  {
    g_autofree char *bad = g_build_filename (dir, "no-such-dir", "x.pts", NULL);

    g_assert_false (pal_inspector_save_landmarks (insp, bad, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "x.pts"));
    g_clear_error (&error);
    g_assert_true (pal_inspector_get_landmarks_modified (insp));
  }
  scratch_free (g_steal_pointer (&dir));
}

/* Dropping the inspector while its worker computes: clean, and nothing is
 * delivered to it afterwards. */
static void
test_dispose_busy (void)
{
  g_autoptr (PalModel) vgg = NULL;
  GError *error = NULL;

  vgg = pal_model_new ("bench-vgg", &error);
  g_assert_no_error (error);
  pal_model_init (vgg, 3);

  for (int round = 0; round < 4; round++)
    {
      PalInspector *insp = pal_inspector_new ();
      gpointer weak = insp;

      g_object_add_weak_pointer (G_OBJECT (insp), &weak);
      g_assert_true (pal_inspector_load_image (insp, DEMO_FACE, NULL, &error));
      g_assert_no_error (error);
      pal_inspector_set_model (insp, 0, vgg, "a");
      pal_inspector_set_model (insp, 1, vgg, "b");
      g_assert_true (pal_inspector_get_busy (insp));
      if (round >= 2)
        g_usleep (round == 2 ? 5000 : 200000);   /* mid-way, or results posted, not delivered */
      g_object_unref (insp);
      g_assert_null (weak);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  pal_set_threads (1);   /* at start-up, before any worker thread */

  g_test_add_func ("/inspector/titles", test_titles);
  g_test_add_func ("/inspector/demo", test_demo);
  g_test_add_func ("/inspector/direct", test_direct);
  g_test_add_func ("/inspector/latest-wins", test_latest_wins);
  g_test_add_func ("/inspector/busy", test_busy);
  g_test_add_func ("/inspector/missing-layer", test_missing_layer);
  g_test_add_func ("/inspector/landmarks-numbers", test_landmarks_numbers);
  g_test_add_func ("/inspector/bad-files", test_bad_files);
  g_test_add_func ("/inspector/save-landmarks", test_save_landmarks);
  g_test_add_func ("/inspector/dispose-busy", test_dispose_busy);
  return g_test_run ();
}
