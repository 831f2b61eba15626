/* test-inspector.c: the Inspect view's model, without a display
 *
 * The demo face (with its .pts, found beside it) and the two demo models go
 * through the inspector; its maps are checked against the core called
 * directly, its worker against rapid changes (the latest request wins,
 * stale results are dropped), its landmark edits against the maps (the
 * numbers follow, the maps stay), and its loaders against broken files.
 * The face search (pal-face-search.c) places the landmarks the core finds
 * in face-api's demo photos (installed by tools/fetch-face-api).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "pal-inspector.h"
#include "pal-faceapi.h"
#include "pal-face-search.h"
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

/* --- faces found in a photo -------------------------------------------------- */

#define FACEAPI_DEMO  PAL_SOURCE_DATADIR "/face-api/node_modules/@vladmandic/face-api/demo"

/* The faces the core finds in @path, straight from a finder. */
static PalFace *
faces_of (const char *path, int *n_faces)
{
  static PalFaceFinder *finder;
  g_autoptr (PalImage) image = NULL;
  GError *error = NULL;
  PalFace *faces;

  if (!finder)
    {
      finder = pal_face_finder_new (NULL, NULL, PAL_LANDMARK_METHOD_DLIB, &error);
      g_assert_no_error (error);
    }
  image = pal_image_load (path, &error);
  g_assert_no_error (error);
  faces = pal_face_finder_run (finder, image, 0.0f, TRUE, n_faces, &error);
  g_assert_no_error (error);
  return faces;
}

/* @sample of face-api's demo photos copied alone (no .pts beside it) into
 * @dir. */
static char *
copy_sample (const char *dir, const char *sample)
{
  g_autofree char *from = g_build_filename (FACEAPI_DEMO, sample, NULL);
  char *to = g_build_filename (dir, sample, NULL);
  g_autofree char *data = NULL;
  gsize len;
  GError *error = NULL;

  g_assert_true (g_file_get_contents (from, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (to, data, (gssize) len, &error));
  g_assert_no_error (error);
  return to;
}

static void
assert_same_landmarks (const PalLandmarks *a, const PalLandmarks *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      g_assert_cmpfloat (a->x[i], ==, b->x[i]);
      g_assert_cmpfloat (a->y[i], ==, b->y[i]);
    }
}

static void
on_state_notify (PalFaceSearch *search, GParamSpec *pspec, gpointer data)
{
  GArray *states = data;
  int state = pal_face_search_get_state (search);

  g_array_append_val (states, state);
}

/* One face: its landmarks go in by themselves, as the core finds them. */
static void
test_faces_one (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *photo = copy_sample (dir, "sample2.jpg");
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  g_autoptr (PalFaceSearch) search = pal_face_search_new (insp, NULL, NULL);
  g_autofree PalFace *expected = NULL;
  GError *error = NULL;
  int n_expected, n_faces;

  expected = faces_of (photo, &n_expected);
  g_assert_cmpint (n_expected, ==, 1);

  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_RUNNING);
  g_assert_null (pal_inspector_get_landmarks (insp));   /* not on the main thread */
  pal_face_search_wait (search, NULL);

  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  g_assert_nonnull (pal_face_search_get_faces (search, &n_faces));
  g_assert_cmpint (n_faces, ==, 1);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, 0);
  g_assert_cmpint (pal_face_search_get_method (search), ==, PAL_LANDMARK_METHOD_DLIB);
  assert_same_landmarks (pal_inspector_get_landmarks (insp), &expected[0].lm);
  /* found, not saved: Save offers to write them */
  g_assert_true (pal_inspector_get_landmarks_modified (insp));

  /* an image with its .pts is not searched */
  g_assert_true (pal_inspector_load_image (insp, DEMO_FACE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_IDLE);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, -1);
  g_assert_false (pal_inspector_get_landmarks_modified (insp));

  scratch_free (g_steal_pointer (&dir));
}

/* Several faces: the user picks one, its landmarks go in. */
static void
test_faces_several (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *photo = copy_sample (dir, "sample1.jpg");
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  g_autoptr (PalFaceSearch) search = pal_face_search_new (insp, NULL, NULL);
  g_autofree PalFace *expected = NULL;
  const PalFace *faces;
  GError *error = NULL;
  int n_expected, n_faces;

  expected = faces_of (photo, &n_expected);
  g_assert_cmpint (n_expected, ==, 3);

  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  pal_face_search_wait (search, NULL);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  faces = pal_face_search_get_faces (search, &n_faces);
  g_assert_cmpint (n_faces, ==, 3);
  for (int i = 0; i < n_faces; i++)
    {
      g_assert_cmpmem (faces[i].box, sizeof faces[i].box, expected[i].box, sizeof expected[i].box);
      g_assert_false (isnan (faces[i].expression[0]));
    }
  /* nothing placed until one is chosen */
  g_assert_null (pal_inspector_get_landmarks (insp));
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, -1);

  pal_face_search_choose (search, 1);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, 1);
  assert_same_landmarks (pal_inspector_get_landmarks (insp), &expected[1].lm);
  g_assert_true (pal_inspector_get_landmarks_modified (insp));

  /* another one replaces them; forgetting the choice keeps them */
  pal_face_search_choose (search, 2);
  assert_same_landmarks (pal_inspector_get_landmarks (insp), &expected[2].lm);
  pal_face_search_choose (search, -1);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, -1);
  assert_same_landmarks (pal_inspector_get_landmarks (insp), &expected[2].lm);

  scratch_free (g_steal_pointer (&dir));
}

/* The image changes while its faces are looked for: that search's result
 * is dropped, the new image's comes. */
static void
test_faces_stale (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *several = copy_sample (dir, "sample1.jpg");
  g_autofree char *one = copy_sample (dir, "sample2.jpg");
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  g_autoptr (PalFaceSearch) search = pal_face_search_new (insp, NULL, NULL);
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree PalFace *expected = NULL;
  GError *error = NULL;
  int n_expected, n_faces, n_done = 0;

  expected = faces_of (one, &n_expected);
  g_assert_cmpint (n_expected, ==, 1);
  g_signal_connect (search, "notify::state", G_CALLBACK (on_state_notify), states);

  /* sample1 (3 faces), replaced at once by sample2 (1 face) */
  g_assert_true (pal_inspector_load_image (insp, several, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_load_image (insp, one, NULL, &error));
  g_assert_no_error (error);
  pal_face_search_wait (search, NULL);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  pal_face_search_get_faces (search, &n_faces);
  g_assert_cmpint (n_faces, ==, 1);
  assert_same_landmarks (pal_inspector_get_landmarks (insp), &expected[0].lm);

  /* sample1 again, replaced by the demo face with its .pts: no search,
   * and nothing of sample1's comes later */
  g_assert_true (pal_inspector_load_image (insp, several, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_load_image (insp, DEMO_FACE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_IDLE);
  {
    PalLandmarks pts;

    g_assert_true (pal_landmarks_load (DEMO_PTS, &pts, &error));
    g_assert_no_error (error);
    /* the stale search ends in its thread; give its result time to come */
    for (int i = 0; i < 300; i++)
      {
        while (g_main_context_iteration (NULL, FALSE))
          ;
        g_usleep (10000);
      }
    g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_IDLE);
    assert_same_landmarks (pal_inspector_get_landmarks (insp), &pts);
    g_assert_false (pal_inspector_get_landmarks_modified (insp));
  }
  for (guint i = 0; i < states->len; i++)
    n_done += g_array_index (states, int, i) == PAL_FACE_SEARCH_DONE;
  g_assert_cmpint (n_done, ==, 1);   /* only sample2's search finished */

  g_signal_handlers_disconnect_by_data (search, states);
  scratch_free (g_steal_pointer (&dir));
}

/* Missing model files: a clear error saying how to get them; the face is
 * still there to place landmarks on by hand. */
static void
test_faces_missing_models (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *photo = copy_sample (dir, "sample2.jpg");
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  g_autoptr (PalFaceSearch) search = pal_face_search_new (insp, "/nonexistent/face-api/model", NULL);
  const GError *failure;
  GError *error = NULL;

  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  pal_face_search_wait (search, NULL);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_FAILED);
  failure = pal_face_search_get_error (search);
  g_assert_nonnull (failure);
  g_assert_nonnull (strstr (failure->message, "tools/fetch-face-api"));
  g_assert_null (pal_face_search_get_faces (search, NULL));
  g_assert_nonnull (pal_inspector_get_image (insp));
  g_assert_null (pal_inspector_get_landmarks (insp));
  pal_inspector_place_mean_landmarks (insp);
  g_assert_nonnull (pal_inspector_get_landmarks (insp));

  /* not automatic: nothing is searched until asked */
  pal_face_search_set_automatic (search, FALSE);
  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_IDLE);

  scratch_free (g_steal_pointer (&dir));
}

/* Dropped while it searches: clean. */
static void
test_faces_dispose (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *photo = copy_sample (dir, "sample2.jpg");
  PalInspector *insp = pal_inspector_new ();
  PalFaceSearch *search = pal_face_search_new (insp, NULL, NULL);
  gpointer weak = search;
  GError *error = NULL;

  g_object_add_weak_pointer (G_OBJECT (search), &weak);
  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  pal_face_search_cancel (search);
  g_object_unref (search);
  g_object_unref (insp);
  /* the search's thread ends, then its callback drops the last reference */
  for (int i = 0; i < 1000 && weak; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
  g_assert_null (weak);
  scratch_free (g_steal_pointer (&dir));
}

/* The found face cropped to: a square around its landmarks, the landmarks
 * shifted into it, the maps computed again for it; uncropped, everything
 * is back in the photo's pixels, a point moved in the crop included. */
static void
test_faces_crop (void)
{
  g_autofree char *dir = scratch_dir_new ("test-inspector-XXXXXX");
  g_autofree char *photo = copy_sample (dir, "sample2.jpg");
  g_autofree char *pts = g_build_filename (dir, "cropped.pts", NULL);
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  g_autoptr (PalFaceSearch) search = pal_face_search_new (insp, NULL, NULL);
  g_autofree float *probs = NULL;
  const PalInspectorResult *res;
  const PalImage *image;
  PalLandmarks orig, back;
  GError *error = NULL;
  float box[4];
  int rect[4], crop[4], W, H, side, n_differ = 0;
  guint64 before;

  g_assert_true (pal_inspector_load_image (insp, photo, NULL, &error));
  g_assert_no_error (error);
  pal_face_search_wait (search, NULL);
  g_assert_nonnull (pal_inspector_get_landmarks (insp));
  orig = *pal_inspector_get_landmarks (insp);
  W = pal_inspector_get_image (insp)->width;
  H = pal_inspector_get_image (insp)->height;
  g_assert_true (pal_inspector_load_model (insp, 0, DEMO_PAL, &error));
  g_assert_no_error (error);
  pal_inspector_wait (insp, NULL);
  res = pal_inspector_get_result (insp, 0);
  g_assert_nonnull (res);
  g_assert_no_error (res->error);
  probs = g_memdup2 (res->probs, sizeof (float) * res->n_classes);
  before = pal_inspector_get_generation (insp);

  g_assert_false (pal_inspector_get_crop (insp, rect));
  g_assert_cmpint (rect[0], ==, 0);
  g_assert_cmpint (rect[1], ==, 0);
  g_assert_cmpint (rect[2], ==, W);
  g_assert_cmpint (rect[3], ==, H);

  g_assert_true (pal_inspector_crop_to_face (insp, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_get_crop (insp, rect));
  /* a square of 1.6 times the landmarks' larger side, inside the photo */
  pal_landmarks_bounds (&orig, box);
  g_assert_cmpfloat (pal_inspector_get_crop_factor (insp), ==, 1.6);
  side = (int) round (1.6 * (MAX (box[2] - box[0], box[3] - box[1]) + 1.0));
  g_assert_cmpint (rect[2], ==, side);
  g_assert_cmpint (rect[3], ==, side);
  /* face-api's expression net wants its own, tighter framing: loading it
   * crops again, clearing it goes back */
  {
    g_autoptr (PalModel) fa = pal_faceapi_load_expression_model (NULL, &error);
    int tight[4];

    g_assert_no_error (error);
    pal_inspector_set_model (insp, 1, fa, "face-api");
    g_assert_cmpfloat (pal_inspector_get_crop_factor (insp), ==, 1.2);
    g_assert_true (pal_inspector_get_crop (insp, tight));
    g_assert_cmpint (tight[2], ==, (int) round (1.2 * (MAX (box[2] - box[0], box[3] - box[1]) + 1.0)));
    pal_inspector_clear_model (insp, 1);
    g_assert_true (pal_inspector_get_crop (insp, tight));
    g_assert_cmpint (tight[2], ==, side);
    g_assert_cmpint (tight[0], ==, rect[0]);
    g_assert_cmpint (tight[1], ==, rect[1]);
    pal_inspector_wait (insp, NULL);
  }
  g_assert_cmpint (rect[0], >=, 0);
  g_assert_cmpint (rect[1], >=, 0);
  g_assert_cmpint (rect[0] + side, <=, W);
  g_assert_cmpint (rect[1] + side, <=, H);
  image = pal_inspector_get_image (insp);
  g_assert_cmpint (image->width, ==, side);
  g_assert_cmpint (image->height, ==, side);
  g_assert_cmpint (side, <, MIN (W, H));
  g_assert_cmpstr (pal_inspector_get_image_path (insp), ==, photo);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      const PalLandmarks *lm = pal_inspector_get_landmarks (insp);

      g_assert_cmpfloat (lm->x[i], ==, orig.x[i] - rect[0]);
      g_assert_cmpfloat (lm->y[i], ==, orig.y[i] - rect[1]);
      g_assert_cmpfloat (lm->x[i], >=, 0.0f);
      g_assert_cmpfloat (lm->y[i], >=, 0.0f);
      g_assert_cmpfloat (lm->x[i], <, side);
      g_assert_cmpfloat (lm->y[i], <, side);
    }
  /* the photo's own pixels */
  {
    g_autoptr (PalImage) whole = pal_image_load (photo, &error);

    g_assert_no_error (error);
    for (int y = 0; y < side; y += 7)
      g_assert_cmpmem (image->data + (gsize) y * side * 3, (gsize) side * 3,
                       whole->data + ((gsize) (y + rect[1]) * W + rect[0]) * 3, (gsize) side * 3);
  }
  /* the face search does not start again on the crop */
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, 0);

  /* the maps again, for the crop */
  g_assert_cmpuint (pal_inspector_get_generation (insp), >, before);
  pal_inspector_wait (insp, NULL);
  res = pal_inspector_get_result (insp, 0);
  g_assert_no_error (res->error);
  g_assert_cmpuint (res->generation, ==, pal_inspector_get_generation (insp));
  for (int k = 0; k < res->n_classes; k++)
    n_differ += res->probs[k] != probs[k];
  g_assert_cmpint (n_differ, >, 0);
  g_assert_false (isnan (res->r[PAL_MAP_GI_ALL]));

  /* a point moved in the crop; saved in the photo's pixels */
  pal_inspector_move_landmark (insp, 30, 10.5f, 12.25f);
  g_assert_true (pal_inspector_save_landmarks (insp, pts, &error));
  g_assert_no_error (error);
  g_assert_true (pal_landmarks_load (pts, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (back.x[30], 10.5 + rect[0], 1e-3);
  g_assert_cmpfloat_with_epsilon (back.y[30], 12.25 + rect[1], 1e-3);
  g_assert_cmpfloat_with_epsilon (back.x[0], orig.x[0], 1e-3);
  g_assert_true (pal_inspector_get_crop (insp, NULL));   /* still cropped */

  /* back to the photo: its size, the landmarks where they were, the one
   * moved where it was put */
  memcpy (crop, rect, sizeof crop);
  before = pal_inspector_get_generation (insp);
  pal_inspector_uncrop (insp);
  g_assert_false (pal_inspector_get_crop (insp, rect));
  g_assert_cmpint (rect[2], ==, W);
  g_assert_cmpint (rect[3], ==, H);
  image = pal_inspector_get_image (insp);
  g_assert_cmpint (image->width, ==, W);
  g_assert_cmpint (image->height, ==, H);
  g_assert_cmpuint (pal_inspector_get_generation (insp), >, before);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      const PalLandmarks *lm = pal_inspector_get_landmarks (insp);

      if (i == 30)
        {
          g_assert_cmpfloat (lm->x[i], ==, 10.5f + crop[0]);
          g_assert_cmpfloat (lm->y[i], ==, 12.25f + crop[1]);
          continue;
        }
      g_assert_cmpfloat_with_epsilon (lm->x[i], orig.x[i], 1e-3);
      g_assert_cmpfloat_with_epsilon (lm->y[i], orig.y[i], 1e-3);
    }
  pal_inspector_uncrop (insp);   /* nothing to do */
  g_assert_cmpint (pal_inspector_get_image (insp)->width, ==, W);
  pal_inspector_wait (insp, NULL);
  res = pal_inspector_get_result (insp, 0);
  g_assert_cmpuint (res->generation, ==, pal_inspector_get_generation (insp));

  /* loading a landmark file while cropped goes back to the photo */
  g_assert_true (pal_inspector_crop_to_face (insp, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_load_landmarks (insp, pts, &error));
  g_assert_no_error (error);
  g_assert_false (pal_inspector_get_crop (insp, NULL));
  g_assert_cmpint (pal_inspector_get_image (insp)->width, ==, W);
  g_assert_cmpfloat_with_epsilon (pal_inspector_get_landmarks (insp)->x[30], back.x[30], 1e-3);

  /* a new image forgets the crop; no landmarks, nothing to crop around */
  g_assert_true (pal_inspector_crop_to_face (insp, &error));
  g_assert_no_error (error);
  pal_inspector_set_image (insp, pal_image_new (100, 60, 3), NULL);
  g_assert_false (pal_inspector_get_crop (insp, NULL));
  g_assert_false (pal_inspector_crop_to_face (insp, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);

  pal_inspector_wait (insp, NULL);
  pal_face_search_wait (search, NULL);
  scratch_free (g_steal_pointer (&dir));
}

/* A face larger than the photo allows: the square moves as little as it
 * must, and what lies outside the photo is black. */
static void
test_crop_edges (void)
{
  g_autoptr (PalInspector) insp = pal_inspector_new ();
  PalImage *gray = pal_image_new (100, 60, 1);
  const PalImage *image;
  PalLandmarks lm;
  GError *error = NULL;
  int rect[4];

  memset (gray->data, 200, (gsize) 100 * 60);
  pal_inspector_set_image (insp, gray, NULL);
  /* landmarks over x 20..70, y 5..55: a square of 82 > the photo's 60 rows */
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm.x[i] = 20.0f + 50.0f * (i % 10) / 9.0f;
      lm.y[i] = 5.0f + 50.0f * (i / 10) / 6.0f;
    }
  pal_inspector_set_landmarks (insp, &lm);
  g_assert_true (pal_inspector_crop_to_face (insp, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_get_crop (insp, rect));
  g_assert_cmpint (rect[2], ==, 82);
  g_assert_cmpint (rect[3], ==, 82);
  g_assert_cmpint (rect[0], ==, 5);     /* centred: it fits across */
  g_assert_cmpint (rect[1], ==, -11);   /* centred: it covers every row */
  image = pal_inspector_get_image (insp);
  g_assert_cmpint (image->data[0], ==, 0);                   /* above the photo */
  g_assert_cmpint (image->data[(gsize) 11 * 82], ==, 200);   /* its first row */
  g_assert_cmpint (image->data[(gsize) 70 * 82], ==, 200);   /* its last row */
  g_assert_cmpint (image->data[(gsize) 71 * 82], ==, 0);     /* below it */
  g_assert_cmpfloat (pal_inspector_get_landmarks (insp)->y[0], ==, 16.0f);

  /* near the left edge: moved right to stay inside */
  pal_inspector_uncrop (insp);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm.x[i] = 2.0f + 20.0f * (i % 10) / 9.0f;
      lm.y[i] = 20.0f + 20.0f * (i / 10) / 6.0f;
    }
  pal_inspector_set_landmarks (insp, &lm);
  g_assert_true (pal_inspector_crop_to_face (insp, &error));
  g_assert_no_error (error);
  g_assert_true (pal_inspector_get_crop (insp, rect));
  g_assert_cmpint (rect[0], ==, 0);
  g_assert_cmpint (rect[2], ==, 34);
  g_assert_cmpint (rect[1], >=, 0);
  g_assert_cmpint (rect[1] + rect[3], <=, 60);
  pal_inspector_wait (insp, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  pal_set_threads (1);   /* at start-up, before any worker thread */
  /* face-api as tools/fetch-face-api installs it in the source tree */
  if (!g_getenv ("PAL_FACEAPI_DIR"))
    g_setenv ("PAL_FACEAPI_DIR",
              PAL_SOURCE_DATADIR "/face-api/node_modules/@vladmandic/face-api/model", TRUE);

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
  g_test_add_func ("/inspector/faces-one", test_faces_one);
  g_test_add_func ("/inspector/faces-several", test_faces_several);
  g_test_add_func ("/inspector/faces-stale", test_faces_stale);
  g_test_add_func ("/inspector/faces-missing-models", test_faces_missing_models);
  g_test_add_func ("/inspector/faces-dispose", test_faces_dispose);
  g_test_add_func ("/inspector/faces-crop", test_faces_crop);
  g_test_add_func ("/inspector/crop-edges", test_crop_edges);
  return g_test_run ();
}
