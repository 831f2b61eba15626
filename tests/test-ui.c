/* test-ui.c: the application itself, under a display (Xvfb in tests/run)
 *
 * Starts PAL Studio's window as a user would have it, on the demo, and
 * drives it through its view models: the maps drawn in Inspect (not blank,
 * Grad different from Grad*Input), a change of layer and target, a short
 * training on a tiny synthetic set to completion with its curves and
 * confusion matrix drawn, the per-emotion maps, broken files reported while
 * the window keeps working.  Each page is also rendered to a PNG in the
 * build folder (ui-shots/) for people to look at.
 *
 * With PAL_TEST_FRENCH=1 in the environment (and LANGUAGE=fr), it checks
 * instead that the window speaks French.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "pal-emotion-view.h"
#include "pal-exec.h"
#include "pal-export.h"
#include "pal-inspect-view.h"
#include "pal-map-tile.h"
#include "pal-parallel.h"
#include "pal-synth.h"
#include "pal-train-view.h"
#include "pal-window.h"
#include "test-util.h"

static PalApplication *app;
static PalWindow *window;
static char *scratch;      /* synthetic faces and runs */
static char *shots;        /* ui-shots/ in the build folder */

/* --- waiting and looking ------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

/* Runs the main loop until @cond holds (TRUE) or @seconds pass (FALSE). */
static gboolean
wait_for (Condition cond, gpointer data, double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

/* Lets the window lay itself out and draw a few frames. */
static void
settle (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

/* The picture of @widget: saved as ui-shots/@name.png, returned as RGBA
 * bytes (*@w x *@h). */
static guint8 *
look_at (GtkWidget *widget, const char *name, int *w, int *h)
{
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  guint8 *pixels;

  texture = pal_export_render_widget (widget, 1.0);
  g_assert_nonnull (texture);
  *w = gdk_texture_get_width (texture);
  *h = gdk_texture_get_height (texture);
  path = g_strdup_printf ("%s/%s.png", shots, name);
  g_assert_true (pal_export_save_png (texture, path, &error));
  g_assert_no_error (error);
  pixels = g_malloc ((gsize) *w * *h * 4);
  gdk_texture_download (texture, pixels, (gsize) *w * 4);
  return pixels;
}

static int n_colours (const guint8 *px, int w, int h);

typedef struct {
  GtkWidget *widget;
  int        min_colours;
} Drawn;

static gboolean
is_drawn (gpointer data)
{
  const Drawn *d = data;
  g_autoptr (GdkTexture) texture = pal_export_render_widget (d->widget, 1.0);
  g_autofree guint8 *px = NULL;
  int w, h;

  if (!texture)
    return FALSE;
  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  px = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, px, (gsize) w * 4);
  return n_colours (px, w, h) > d->min_colours;
}

/* Runs the main loop until @widget draws more than @min_colours colours
 * (the views follow their models through the main loop, later under a
 * slow sanitizer build than in an optimised one). */
static gboolean
wait_drawn (GtkWidget *widget, int min_colours, double seconds)
{
  Drawn d = { widget, min_colours };

  return wait_for (is_drawn, &d, seconds);
}

/* How many distinct colours (of a coarse 4-bit-per-channel histogram) a
 * picture has: a blank or flat widget has one or two. */
static int
n_colours (const guint8 *px, int w, int h)
{
  g_autofree guint8 *seen = g_malloc0 (4096);
  int n = 0;

  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      int key = (px[4 * i] >> 4) << 8 | (px[4 * i + 1] >> 4) << 4 | px[4 * i + 2] >> 4;

      if (!seen[key])
        {
          seen[key] = 1;
          n++;
        }
    }
  return n;
}

/* Mean absolute difference of two pictures of the same size, 0 .. 255. */
static double
difference (const guint8 *a, const guint8 *b, gsize n_pixels)
{
  double sum = 0;

  for (gsize i = 0; i < n_pixels * 4; i++)
    sum += abs ((int) a[i] - (int) b[i]);
  return sum / (double) (n_pixels * 4);
}

/* The descendants of @widget of @type, in order. */
static void
collect (GtkWidget *widget, GType type, GPtrArray *out)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        g_ptr_array_add (out, c);
      collect (c, type, out);
    }
}

/* The first visible map tile titled @title, or with it as its tooltip (the
 * first model's column). */
static GtkWidget *
find_tile (const char *title)
{
  g_autoptr (GPtrArray) tiles = g_ptr_array_new ();

  collect (pal_window_get_view (window, "inspect"), PAL_TYPE_MAP_TILE, tiles);
  for (guint i = 0; i < tiles->len; i++)
    if (gtk_widget_get_mapped (tiles->pdata[i])
        && (g_strcmp0 (pal_map_tile_get_title (tiles->pdata[i]), title) == 0
            || g_strcmp0 (gtk_widget_get_tooltip_text (tiles->pdata[i]), title) == 0))
      return tiles->pdata[i];
  return NULL;
}

static PalInspector *
inspector (void)
{
  return pal_inspect_view_get_inspector (PAL_INSPECT_VIEW (pal_window_get_view (window, "inspect")));
}

static gboolean
both_slots_computed (gpointer data)
{
  PalInspector *insp = inspector ();

  if (pal_inspector_get_busy (insp))
    return FALSE;
  for (int s = 0; s < 2; s++)
    if (!pal_inspector_get_result (insp, s))
      return FALSE;
  return TRUE;
}

/* --- Inspect ----------------------------------------------------------------- */

static void
test_demo (void)
{
  PalInspector *insp = inspector ();
  GtkWidget *view = pal_window_get_view (window, "inspect");
  GtkWidget *grad, *gi;
  g_autofree guint8 *page = NULL, *a = NULL, *b = NULL;
  int w, h, w2, h2;

  /* started without files: the demo face, its landmarks, two models */
  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  g_assert_nonnull (pal_inspector_get_image (insp));
  g_assert_nonnull (pal_inspector_get_landmarks (insp));
  for (int s = 0; s < 2; s++)
    {
      const PalInspectorResult *r = pal_inspector_get_result (insp, s);

      g_assert_no_error (r->error);
      g_assert_cmpint (r->map_w * r->map_h, >, 1);
    }
  g_assert_true (wait_drawn (view, 200, 60));
  settle (0.5);

  g_free (look_at (GTK_WIDGET (window), "window-inspect", &w, &h));
  page = look_at (view, "inspect", &w, &h);
  g_assert_cmpint (w, >=, 800);
  g_assert_cmpint (n_colours (page, w, h), >, 200);

  /* the maps are drawn, and Grad is not Grad*Input */
  grad = find_tile (pal_map_kind_title (PAL_MAP_GRAD_ALL));
  gi = find_tile (pal_map_kind_title (PAL_MAP_GI_ALL));
  g_assert_nonnull (grad);
  g_assert_nonnull (gi);
  a = look_at (grad, "tile-grad-all", &w, &h);
  b = look_at (gi, "tile-gi-all", &w2, &h2);
  g_assert_cmpint (w, ==, w2);
  g_assert_cmpint (h, ==, h2);
  g_assert_cmpint (n_colours (a, w, h), >, 30);
  g_assert_cmpint (n_colours (b, w, h), >, 30);
  g_assert_cmpfloat (difference (a, b, (gsize) w * h), >, 2.0);
}

typedef struct {
  const char *layer;
  int         target;
} Wanted;

static gboolean
computed_with (gpointer data)
{
  const Wanted *want = data;
  PalInspector *insp = inspector ();

  if (!both_slots_computed (NULL))
    return FALSE;
  for (int s = 0; s < 2; s++)
    {
      const PalInspectorResult *r = pal_inspector_get_result (insp, s);

      if (r->error || g_strcmp0 (r->node_name, want->layer) != 0 || r->target != want->target)
        return FALSE;
    }
  return TRUE;
}

typedef struct {
  GtkWidget    *widget;
  const guint8 *before;
  int           w, h;
} Differs;

/* The widget's picture differs from @before (the view caught up). */
static gboolean
differs_from (gpointer data)
{
  const Differs *d = data;
  g_autoptr (GdkTexture) texture = pal_export_render_widget (d->widget, 1.0);
  g_autofree guint8 *px = NULL;

  if (!texture || gdk_texture_get_width (texture) != d->w
      || gdk_texture_get_height (texture) != d->h)
    return FALSE;
  px = g_malloc ((gsize) d->w * d->h * 4);
  gdk_texture_download (texture, px, (gsize) d->w * 4);
  return difference (d->before, px, (gsize) d->w * d->h) > 0.5;
}

static void
test_layer_and_target (void)
{
  PalInspector *insp = inspector ();
  GtkWidget *view = pal_window_get_view (window, "inspect");
  g_auto (GStrv) layers = pal_inspector_list_layers (insp);
  g_autofree guint8 *before = NULL, *after = NULL;
  const PalInspectorResult *r;
  Wanted want;
  int w, h, w2, h2;

  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  r = pal_inspector_get_result (insp, 0);
  g_assert_nonnull (layers);
  g_assert_cmpint (g_strv_length (layers), >=, 2);
  settle (0.5);
  before = look_at (view, "inspect-before", &w, &h);

  /* another layer than the one shown, and one class as the target */
  want.layer = g_strcmp0 (layers[0], r->node_name) != 0 ? layers[0] : layers[1];
  want.target = 3;
  pal_inspector_set_layer (insp, want.layer);
  pal_inspector_set_target (insp, want.target);
  g_assert_true (wait_for (computed_with, &want, 60));
  {
    Differs d = { view, before, w, h };

    g_assert_true (wait_for (differs_from, &d, 60));
  }
  settle (0.5);
  after = look_at (view, "inspect-after", &w2, &h2);
  g_assert_cmpint (w, ==, w2);
  g_assert_cmpint (h, ==, h2);
  g_assert_cmpfloat (difference (before, after, (gsize) w * h), >, 0.5);
}

/* Broken files are reported one by one; what was open stays open. */
static void
test_broken_files (void)
{
  static const struct { const char *name; const char *content; } broken[] = {
    { "truncated.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" },
    { "short.pts", "version: 1\nn_points: 68\n{\n1 2\n}\n" },
    { "other.safetensors", "{\"not\": \"a model\"}" },
    { "empty.png", "" },
  };
  PalInspector *insp = inspector ();
  const PalImage *image = pal_inspector_get_image (insp);
  int width = image->width;
  PalModel *model = pal_inspector_get_model (insp, 0);
  GFile *files[G_N_ELEMENTS (broken)];

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autofree char *path = g_build_filename (scratch, broken[i].name, NULL);

      g_assert_true (g_file_set_contents (path, broken[i].content, strlen (broken[i].content), NULL));
      files[i] = g_file_new_for_path (path);
    }
  pal_window_open_files (window, files, G_N_ELEMENTS (files));
  settle (0.5);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_assert_nonnull (pal_inspector_get_image (insp));
  g_assert_cmpint (pal_inspector_get_image (insp)->width, ==, width);
  g_assert_true (pal_inspector_get_model (insp, 0) == model);
  g_assert_nonnull (pal_inspector_get_landmarks (insp));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_object_unref (files[i]);
}

/* A layer followed only by global average pooling: the Grad maps are the
 * same at every pixel, and the column says so. */
static const char flat_arch[] =
  "input data shape=3x48x48\n"
  "conv conv1 out=8 k=3 pad=1 act=relu\n"
  "maxpool pool1 k=2\n"
  "conv conv2 out=16 k=3 pad=1 act=relu\n"
  "gap gap\n"
  "linear fc out=7\n";

static gboolean
slot1_flat (gpointer data)
{
  const PalInspectorResult *r = pal_inspector_get_result (inspector (), 1);

  return !pal_inspector_get_busy (inspector ()) && r && !r->error
         && g_strcmp0 (r->node_name, "conv2") == 0;
}

static gboolean
has_label_with (GtkWidget *root, const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect (root, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (gtk_widget_get_mapped (labels->pdata[i])
        && strstr (gtk_label_get_text (labels->pdata[i]), text))
      return TRUE;
  return FALSE;
}

static gboolean
shows_flat_warning (gpointer view)
{
  return has_label_with (view, "by construction");
}

static gboolean
hides_flat_warning (gpointer view)
{
  return !has_label_with (view, "by construction");
}

static void
test_flat_warning (void)
{
  PalInspector *insp = inspector ();
  GtkWidget *view = pal_window_get_view (window, "inspect");
  g_autoptr (PalModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *baseline = g_build_filename (pal_application_get_demo_dir (),
                                                "demo-baseline.safetensors", NULL);
  const PalInspectorResult *r;

  model = pal_model_new (flat_arch, &error);
  g_assert_no_error (error);
  pal_model_init (model, 1);
  pal_inspector_set_model (insp, 1, model, "gap-net");
  pal_inspector_set_layer (insp, "conv2");
  g_assert_true (wait_for (slot1_flat, NULL, 60));
  r = pal_inspector_get_result (insp, 1);
  g_assert_true (r->flat);
  g_assert_true (wait_for (shows_flat_warning, view, 30));

  /* back to the demo */
  g_assert_true (pal_inspector_load_model (insp, 1, baseline, &error));
  g_assert_no_error (error);
  pal_inspector_set_layer (insp, NULL);
  pal_inspector_set_target (insp, PAL_TARGET_SUM);
  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  g_assert_true (wait_for (hides_flat_warning, view, 30));
}

/* --- Train ------------------------------------------------------------------- */

/* A number from the environment (tools/screenshots asks for a longer
 * run than the test needs), else @fallback. */
static int
env_int (const char *name, int fallback)
{
  const char *v = g_getenv (name);

  return v && *v ? (int) g_ascii_strtoll (v, NULL, 10) : fallback;
}

static char *
synth_faces (void)
{
  char *dir = g_build_filename (scratch, "faces", NULL);
  g_autoptr (GError) error = NULL;
  PalSynthOptions opt;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return dir;
  pal_synth_options_init (&opt);
  opt.n = MAX (env_int ("PAL_UI_SHOTS_FACES", 70), 70);
  opt.size = 48;
  g_assert_true (pal_synth_dataset (dir, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

static gboolean
session_idle (gpointer data)
{
  return !pal_train_session_get_running (data);
}

static void
test_train (void)
{
  PalTrainView *view = PAL_TRAIN_VIEW (pal_window_get_view (window, "train"));
  PalTrainSession *session = pal_train_view_get_session (view);
  g_autofree char *faces = synth_faces ();
  g_autofree char *arch = g_build_filename (PAL_SOURCE_DATADIR, "small48.arch", NULL);
  g_autofree char *out = g_build_filename (scratch, "run", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *px = NULL;
  const double *x, *y;
  PalTrainConfig cfg;
  int w, h;

  pal_window_show_page (window, "train");
  pal_train_config_init (&cfg);
  g_assert_true (pal_train_config_set (&cfg, "dataset", faces, NULL));
  g_assert_true (pal_train_config_set (&cfg, "arch-file", arch, NULL));
  g_assert_true (pal_train_config_set (&cfg, "out", out, NULL));
  cfg.epochs = MAX (env_int ("PAL_UI_SHOTS_EPOCHS", 2), 2);
  cfg.lr = 3e-3;
  cfg.report_every = 2;
  g_assert_true (pal_train_session_start (session, &cfg, &error));
  g_assert_no_error (error);
  pal_train_config_clear (&cfg);

  g_assert_true (wait_for (session_idle, session, 240));
  g_assert_cmpfloat (pal_train_session_get_fraction (session), ==, 1.0);
  g_assert_true (g_file_test (pal_train_session_get_best_path (session), G_FILE_TEST_IS_REGULAR));
  g_assert_nonnull (pal_train_session_get_confusion (session));
  g_assert_cmpuint (pal_train_session_get_series (session, PAL_SERIES_STEP_CE, PAL_TRAIN_AXIS_STEP,
                                                  &x, &y), >, 2);
  g_assert_true (wait_drawn (GTK_WIDGET (view), 20, 60));
  settle (0.5);
  g_free (look_at (GTK_WIDGET (window), "window-train", &w, &h));
  px = look_at (GTK_WIDGET (view), "train", &w, &h);
  g_assert_cmpint (n_colours (px, w, h), >, 20);
}

/* --- Per-emotion maps ---------------------------------------------------------- */

static gboolean
job_done (gpointer data)
{
  return !pal_emotion_job_get_running (data) && pal_emotion_job_get_n_results (data) > 0;
}

static void
test_emotions (void)
{
  PalEmotionView *view = PAL_EMOTION_VIEW (pal_window_get_view (window, "emotions"));
  PalEmotionJob *job = pal_emotion_view_get_job (view);
  g_autofree char *faces = synth_faces ();
  g_autofree guint8 *px = NULL;
  int w, h;

  pal_window_show_page (window, "emotions");
  pal_emotion_job_set_dataset (job, faces, PAL_DATASET_AUTO);
  pal_emotion_job_start (job);
  g_assert_true (wait_for (job_done, job, 240));
  g_assert_nonnull (pal_emotion_job_get_result (job, 0));
  g_assert_true (wait_drawn (GTK_WIDGET (view), 50, 60));
  settle (0.5);
  g_free (look_at (GTK_WIDGET (window), "window-emotions", &w, &h));
  px = look_at (GTK_WIDGET (view), "emotions", &w, &h);
  g_assert_cmpint (n_colours (px, w, h), >, 50);
}

/* --- in French ------------------------------------------------------------------ */

static void
test_french (void)
{
  GtkWidget *view = pal_window_get_view (window, "inspect");
  AdwViewStackPage *page;
  const char *translated = g_dgettext (GETTEXT_PACKAGE, "Inspect");
  g_autofree guint8 *px = NULL;
  int w, h;

  /* the catalogue is found and speaks French ... */
  g_assert_cmpstr (translated, !=, "Inspect");
  /* ... and the window uses it */
  page = adw_view_stack_get_page (ADW_VIEW_STACK (gtk_widget_get_parent (view)), view);
  g_assert_cmpstr (adw_view_stack_page_get_title (page), ==, translated);
  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  g_assert_true (wait_drawn (GTK_WIDGET (window), 200, 60));
  settle (0.5);
  px = look_at (GTK_WIDGET (window), "window-fr", &w, &h);
  g_assert_cmpint (n_colours (px, w, h), >, 200);
}

/* --- the application -------------------------------------------------------------- */

static int status;

static void
on_activate (GApplication *application)
{
  /* the window the application opened, started without files */
  window = PAL_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (application)));
  g_assert_nonnull (window);
  g_application_hold (application);
  status = g_test_run ();
  g_application_release (application);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  const char *builddir = g_getenv ("G_TEST_BUILDDIR");
  gboolean french = g_strcmp0 (g_getenv ("PAL_TEST_FRENCH"), "1") == 0;
  char *dummy_argv[] = { argv[0], NULL };

  setlocale (LC_ALL, "");
  pal_i18n_init ();
  g_test_init (&argc, &argv, NULL);
  /* OpenBLAS is set up before any thread exists (it sets its variables
   * with setenv()) */
  pal_set_threads (0);

  scratch = scratch_dir_new ("pal-ui-test-XXXXXX");
  /* no state of the user's: window size, caches */
  g_setenv ("XDG_CONFIG_HOME", scratch, TRUE);
  g_setenv ("XDG_CACHE_HOME", scratch, TRUE);
  shots = g_build_filename (builddir ? builddir : ".", french ? "ui-shots-fr" : "ui-shots", NULL);
  g_mkdir_with_parents (shots, 0755);

  if (french)
    g_test_add_func ("/ui/french", test_french);
  else
    {
      g_test_add_func ("/ui/demo", test_demo);
      g_test_add_func ("/ui/layer-and-target", test_layer_and_target);
      g_test_add_func ("/ui/broken-files", test_broken_files);
      g_test_add_func ("/ui/flat-warning", test_flat_warning);
      g_test_add_func ("/ui/train", test_train);
      g_test_add_func ("/ui/emotions", test_emotions);
    }

  app = pal_application_new ();
  g_signal_connect_after (app, "activate", G_CALLBACK (on_activate), NULL);
  g_application_run (G_APPLICATION (app), 1, dummy_argv);
  g_clear_object (&app);

  scratch_free (scratch);
  g_free (shots);
  return status;
}
