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
#include <math.h>
#include <string.h>

#include "pal-emotion-view.h"
#include "pal-exec.h"
#include "pal-export.h"
#include "pal-faceapi.h"
#include "pal-face-view.h"
#include "pal-inspect-view.h"
#include "pal-map-tile.h"
#include "pal-model-io.h"
#include "pal-parallel.h"
#include "pal-rand.h"
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

/* The file chooser a tile's "Export Panel…" opened (GtkFileChooserNative
 * falls back to a GtkFileChooserDialog where no portal runs). */
static GtkWidget *
open_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* GTK's own */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (GTK_IS_FILE_CHOOSER_DIALOG (w) && gtk_widget_get_visible (w))
        return w;
    }
  return NULL;
}

static gboolean
chooser_open (gpointer data)
{
  return open_chooser () != NULL;
}

static gboolean
chooser_closed (gpointer data)
{
  return open_chooser () == NULL;
}

static gboolean
toast_added (gpointer data)
{
  return pal_window_get_n_toasts (window) > GPOINTER_TO_UINT (data);
}

/* A panel exported through the file chooser is a PNG of the tile; a
 * cancelled chooser holds nothing of the tile afterwards. */
static void
test_export_panel (void)
{
  GtkWidget *tile, *chooser, *entry;
  g_autofree char *path = g_build_filename (scratch, "panel.png", NULL);
  g_autoptr (GdkTexture) saved = NULL;
  g_autoptr (GError) error = NULL;
  guint refs, toasts;

  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  tile = find_tile (pal_map_kind_title (PAL_MAP_GRAD_ALL));
  g_assert_nonnull (tile);
  g_assert_true (wait_drawn (tile, 30, 60));
  refs = G_OBJECT (tile)->ref_count;

  /* cancelled */
  g_assert_true (gtk_widget_activate_action (tile, "tile.export-panel", NULL));
  g_assert_true (wait_for (chooser_open, NULL, 10));
  g_assert_cmpuint (G_OBJECT (tile)->ref_count, >, refs);
  gtk_dialog_response (GTK_DIALOG (open_chooser ()), GTK_RESPONSE_CANCEL);
  g_assert_true (wait_for (chooser_closed, NULL, 10));
  settle (0.2);
  g_assert_cmpuint (G_OBJECT (tile)->ref_count, ==, refs);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* saved */
  toasts = pal_window_get_n_toasts (window);
  g_assert_true (gtk_widget_activate_action (tile, "tile.export-panel", NULL));
  g_assert_true (wait_for (chooser_open, NULL, 10));
  chooser = open_chooser ();
  /* typed into the name entry, as a person would (a whole path is taken) */
  entry = NULL;
  {
    g_autoptr (GPtrArray) entries = g_ptr_array_new ();

    collect (chooser, GTK_TYPE_ENTRY, entries);
    for (guint i = 0; i < entries->len && !entry; i++)
      if (gtk_widget_get_mapped (entries->pdata[i]))
        entry = entries->pdata[i];
  }
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), path);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (wait_for (toast_added, GUINT_TO_POINTER (toasts), 10));
  g_assert_true (wait_for (chooser_closed, NULL, 10));
  settle (0.2);
  g_assert_cmpuint (G_OBJECT (tile)->ref_count, ==, refs);
  saved = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  /* at scale 2 */
  g_assert_cmpint (gdk_texture_get_width (saved), ==, 2 * gtk_widget_get_width (tile));
  g_assert_cmpint (gdk_texture_get_height (saved), ==, 2 * gtk_widget_get_height (tile));
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

/* Fifty broken files in a row, one per call, as a user dropping a folder
 * of half-downloaded files one by one would: each is reported with a
 * toast, the main loop keeps ticking between them, the demo stays open and
 * the memory does not grow with the number of files. */

typedef struct {
  gint64 last, max_gap;     /* microseconds */
  guint  n;
} Ticker;

static gboolean
tick (gpointer data)
{
  Ticker *t = data;
  gint64 now = g_get_monotonic_time ();

  if (t->last)
    t->max_gap = MAX (t->max_gap, now - t->last);
  t->last = now;
  t->n++;
  return G_SOURCE_CONTINUE;
}

/* VmRSS of this process in kB. */
static gint64
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || !(line = strstr (status, "VmRSS:")))
    return -1;
  return g_ascii_strtoll (line + 6, NULL, 10);
}

static void
write_file (GPtrArray *paths, const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (scratch, "broken50", name, NULL);

  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  g_ptr_array_add (paths, path);
}

/* The first @len bytes of @data as @name. */
static void
write_prefix (GPtrArray *paths, const char *stem, int i, const char *ext,
              const guint8 *data, gsize len)
{
  g_autofree char *name = g_strdup_printf ("%s-%02d-%zu.%s", stem, i, len, ext);

  write_file (paths, name, data, len);
}

static void
write_text (GPtrArray *paths, const char *name, const char *text)
{
  write_file (paths, name, text, strlen (text));
}

/* A .pts file of @n points, each "@x @y". */
static char *
pts_text (int n_header, int n, const char *x, const char *y)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "version: 1\nn_points: %d\n{\n", n_header);
  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s %s\n", i == 30 ? x : "20.5", i == 30 ? y : "31.25");
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

static void
test_fifty_broken_files (void)
{
  PalInspector *insp = inspector ();
  const char *demo = pal_application_get_demo_dir ();
  g_autofree char *face = g_build_filename (demo, "demo-face.jpg", NULL);
  g_autofree char *pal_model = g_build_filename (demo, "demo-pal.safetensors", NULL);
  g_autofree char *dir = g_build_filename (scratch, "broken50", NULL);
  g_autofree char *png = g_build_filename (scratch, "face.png", NULL);
  g_autofree char *other = g_build_filename (dir, "bench-vgg.safetensors", NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = NULL;
  g_autoptr (PalModel) bench = NULL;
  g_autofree guint8 *jpg = NULL, *png_data = NULL, *model_data = NULL;
  g_autofree guint8 *noise = g_malloc (4096);
  gsize jpg_len, png_len, model_len;
  guint64 rng = 7;
  const PalImage *image0;
  const PalLandmarks *lm0;
  PalModel *models0[PAL_INSPECTOR_N_SLOTS];
  Ticker ticker = { 0 };
  const char *slowest = NULL;   /* the file after which the longest gap came */
  guint source, n_reported = 0;
  gint64 rss10 = -1, rss50;

  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (gsize i = 0; i < 4096; i++)
    noise[i] = (guint8) (pal_rand_next (&rng) >> 56);

  /* images: a JPEG and a PNG of the demo face cut short, and impostors (23) */
  g_assert_true (g_file_get_contents (face, (char **) &jpg, &jpg_len, NULL));
  image = pal_image_load (face, &error);
  g_assert_no_error (error);
  g_assert_true (pal_image_save_png (image, png, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (png, (char **) &png_data, &png_len, NULL));
  {
    const gsize jcut[] = { 0, 1, 2, 4, 20, 100, jpg_len / 8, jpg_len / 4, jpg_len / 2, jpg_len * 3 / 4 };
    const gsize pcut[] = { 0, 8, 16, 33, 60, png_len / 8, png_len / 4, png_len / 2,
                           png_len * 3 / 4, png_len * 7 / 8 };

    for (guint i = 0; i < G_N_ELEMENTS (jcut); i++)
      write_prefix (paths, "cut", (int) i, "jpg", jpg, jcut[i]);
    for (guint i = 0; i < G_N_ELEMENTS (pcut); i++)
      write_prefix (paths, "cut", (int) i, "png", png_data, pcut[i]);
  }
  write_file (paths, "png-named.jpg", png_data, png_len / 2);
  write_file (paths, "noise.jpg", noise, 4096);
  write_text (paths, "text.png", "not a picture\n");

  /* landmarks (12) */
  {
    struct { const char *name; int header, n; const char *x, *y; } pts[] = {
      { "67-points.pts", 67, 67, "20", "30" },
      { "69-points.pts", 69, 69, "20", "30" },
      { "68-of-67.pts", 68, 67, "20", "30" },
      { "nan.pts", 68, 68, "nan", "30" },
      { "inf.pts", 68, 68, "20", "inf" },
      { "letters.pts", 68, 68, "twenty", "thirty" },
      { "huge-count.pts", 2147483647, 10, "20", "30" },
      { "negative-count.pts", -1, 0, "20", "30" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (pts); i++)
      {
        g_autofree char *text = pts_text (pts[i].header, pts[i].n, pts[i].x, pts[i].y);

        write_text (paths, pts[i].name, text);
      }
  }
  write_text (paths, "garbage.pts", "<html><body>404 Not Found</body></html>\n");
  write_text (paths, "empty.pts", "");
  write_file (paths, "noise.pts", noise, 1000);
  write_text (paths, "no-brace.pts", "version: 1\nn_points: 68\n1 2\n3 4\n");

  /* models: bad headers, a model cut short, noise (14), and a valid model of
   * another architecture (1) */
  bench = pal_model_new ("bench-vgg", &error);
  g_assert_no_error (error);
  pal_model_init (bench, 3);
  g_assert_true (pal_model_save (bench, other, &error));
  g_assert_no_error (error);
  g_ptr_array_insert (paths, 4, g_strdup (other));
  g_assert_true (g_file_get_contents (pal_model, (char **) &model_data, &model_len, NULL));
  {
    const gsize mcut[] = { 100, model_len / 4, model_len / 2, model_len * 3 / 4, model_len - 1 };
    static const char huge[] = "\xff\xff\xff\xff\xff\xff\xff\x7f{}";
    static const char zero[] = "\0\0\0\0\0\0\0\0{}";
    static const char longer[] = "\x40\0\0\0\0\0\0\0{\"a\":1}";
    static const char not_json[] = "\x08\0\0\0\0\0\0\0{{{{{{{{";
    static const char array[] = "\x08\0\0\0\0\0\0\0[1,2,3] ";
    static const char range[] = "\x4c\0\0\0\0\0\0\0{\"w\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,4000000]}}  ";
    static const char dtype[] = "\x46\0\0\0\0\0\0\0{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}      abcd";

    for (guint i = 0; i < G_N_ELEMENTS (mcut); i++)
      write_prefix (paths, "cut", (int) i, "safetensors", model_data, mcut[i]);
    write_file (paths, "huge-header.safetensors", huge, sizeof huge - 1);
    write_file (paths, "zero-header.safetensors", zero, sizeof zero - 1);
    write_file (paths, "longer-header.safetensors", longer, sizeof longer - 1);
    write_file (paths, "not-json.safetensors", not_json, sizeof not_json - 1);
    write_file (paths, "array.safetensors", array, sizeof array - 1);
    write_file (paths, "out-of-range.safetensors", range, sizeof range - 1);
    write_file (paths, "bad-dtype.safetensors", dtype, sizeof dtype - 1);
    write_text (paths, "empty.safetensors", "");
    write_file (paths, "noise.safetensors", noise, 4096);
  }
  g_assert_cmpuint (paths->len, ==, 50);

  image0 = pal_inspector_get_image (insp);
  lm0 = pal_inspector_get_landmarks (insp);
  g_assert_nonnull (image0);
  g_assert_nonnull (lm0);
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    models0[s] = pal_inspector_get_model (insp, s);

  source = g_timeout_add (10, tick, &ticker);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autoptr (GFile) file = g_file_new_for_path (path);
      guint before = pal_window_get_n_toasts (window);
      gint64 max_gap = ticker.max_gap;

      pal_window_open_files (window, &file, 1);
      if (g_strcmp0 (path, other) == 0)
        {
          /* a valid model: it opens (in the first slot); the demo's back */
          g_assert_true (pal_inspector_get_model (insp, 0) != models0[0]);
          g_assert_cmpstr (pal_model_get_arch_name (pal_inspector_get_model (insp, 0)), ==, "bench-vgg");
          g_assert_true (wait_for (both_slots_computed, NULL, 120));
          g_assert_true (pal_inspector_load_model (insp, 0, pal_model, &error));
          g_assert_no_error (error);
          models0[0] = pal_inspector_get_model (insp, 0);
          g_assert_true (wait_for (both_slots_computed, NULL, 120));
          ticker.last = 0;
        }
      else
        {
          if (pal_window_get_n_toasts (window) == before)
            g_test_message ("%s was not reported", path);
          g_assert_cmpuint (pal_window_get_n_toasts (window), >, before);
          n_reported++;
        }
      /* what was open stays open */
      g_assert_true (pal_inspector_get_image (insp) == image0);
      g_assert_true (pal_inspector_get_landmarks (insp) != NULL);
      for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
        g_assert_true (pal_inspector_get_model (insp, s) == models0[s]);
      /* the main loop goes on between files */
      {
        guint n = ticker.n;
        gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

        while (ticker.n < n + 2 && g_get_monotonic_time () < end)
          g_main_context_iteration (NULL, TRUE);
        g_assert_cmpuint (ticker.n, >=, n + 2);
      }
      if (ticker.max_gap > max_gap)
        slowest = path;
      if (i == 9)
        rss10 = rss_kb ();
    }
  rss50 = rss_kb ();
  g_source_remove (source);

  g_test_message ("%u broken files reported, %u toasts in all; longest gap between "
                  "ticks of a 10 ms timeout: %.0f ms (at %s); VmRSS %" G_GINT64_FORMAT " kB "
                  "after 10 files, %" G_GINT64_FORMAT " kB after 50 (%+" G_GINT64_FORMAT " kB)",
                  n_reported, pal_window_get_n_toasts (window), ticker.max_gap / 1000.0,
                  slowest ? slowest : "-", rss10, rss50, rss50 - rss10);
  g_assert_cmpuint (n_reported, ==, 49);
  g_assert_cmpint (ticker.max_gap, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (rss10, >, 0);
  g_assert_cmpint (rss50 - rss10, <, 30 * 1024);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_assert_true (wait_for (both_slots_computed, NULL, 60));

  /* the 49 toasts would stay in the queue for minutes: gone */
  pal_window_dismiss_toasts (window);
  settle (1.0);
  if (g_type_from_name ("AdwToastWidget"))
    {
      g_autoptr (GPtrArray) shown = g_ptr_array_new ();

      collect (GTK_WIDGET (window), g_type_from_name ("AdwToastWidget"), shown);
      g_assert_cmpuint (shown->len, ==, 0);
    }
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

/* --- faces from any photo ------------------------------------------------------- */

static gboolean
faces_searched (gpointer data)
{
  return pal_face_search_get_state (data) != PAL_FACE_SEARCH_RUNNING;
}

static gboolean
slot1_computed (gpointer data)
{
  const PalInspectorResult *r = pal_inspector_get_result (inspector (), 1);

  return !pal_inspector_get_busy (inspector ()) && r != NULL;
}

/* The toggle of Inspect labelled @label. */
static GtkToggleButton *
find_toggle (GtkWidget *view, const char *label)
{
  g_autoptr (GPtrArray) toggles = g_ptr_array_new ();

  collect (view, GTK_TYPE_TOGGLE_BUTTON, toggles);
  for (guint i = 0; i < toggles->len; i++)
    if (g_strcmp0 (gtk_button_get_label (toggles->pdata[i]), label) == 0)
      return toggles->pdata[i];
  return NULL;
}

/* A photo with three faces and no .pts: the faces are found and drawn as
 * boxes, one is picked, its landmarks are drawn over the square cropped
 * around it; face-api's expression network goes into slot B and its maps
 * are computed, for the crop, then for the whole photo. */
static void
test_faces (void)
{
  PalInspectView *view = PAL_INSPECT_VIEW (pal_window_get_view (window, "inspect"));
  PalInspector *insp = inspector ();
  PalFaceSearch *search = pal_inspect_view_get_face_search (view);
  g_autoptr (GPtrArray) face_views = g_ptr_array_new ();
  g_autofree char *from = g_build_filename (PAL_SOURCE_DATADIR, "face-api", "node_modules",
                                            "@vladmandic", "face-api", "demo", "sample1.jpg", NULL);
  g_autofree char *photo = g_build_filename (scratch, "three-faces.jpg", NULL);
  g_autofree char *data = NULL;
  g_autofree guint8 *before = NULL, *after = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  const PalInspectorResult *r;
  const PalFace *faces;
  const PalLandmarks *lm;
  const PalImage *image;
  GtkWidget *face_view;
  GtkToggleButton *whole;
  g_autoptr (GdkTexture) shown = NULL;
  g_autofree float *probs = NULL;
  gsize len;
  int n_faces, w, h, w2, h2, photo_w, photo_h, crop[4], n_differ = 0;

  g_assert_true (g_file_get_contents (from, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (photo, data, (gssize) len, &error));
  g_assert_no_error (error);
  collect (GTK_WIDGET (view), PAL_TYPE_FACE_VIEW, face_views);
  g_assert_cmpuint (face_views->len, ==, 1);
  face_view = face_views->pdata[0];

  file = g_file_new_for_path (photo);
  pal_window_open_files (window, &file, 1);
  g_assert_nonnull (pal_inspector_get_image (insp));
  g_assert_null (pal_inspector_get_landmarks (insp));
  /* the first search loads the finder (dlib's model from a new cache here) */
  g_assert_true (wait_for (faces_searched, search, 300));
  g_assert_no_error (pal_face_search_get_error (search));
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  faces = pal_face_search_get_faces (search, &n_faces);
  g_assert_cmpint (n_faces, ==, 3);
  g_assert_null (pal_inspector_get_landmarks (insp));
  g_assert_cmpint (pal_face_view_get_n_faces (PAL_FACE_VIEW (face_view)), ==, 3);
  photo_w = pal_inspector_get_image (insp)->width;
  photo_h = pal_inspector_get_image (insp)->height;
  settle (0.5);
  g_free (look_at (GTK_WIDGET (window), "window-faces", &w, &h));
  before = look_at (face_view, "faces-several", &w, &h);

  /* face 2 picked: the square around it, its landmarks, drawn */
  pal_inspect_view_choose_face (view, 1);
  g_assert_cmpint (pal_face_search_get_chosen (search), ==, 1);
  g_assert_true (pal_inspector_get_crop (insp, crop));
  image = pal_inspector_get_image (insp);
  g_assert_cmpint (image->width, ==, crop[2]);
  g_assert_cmpint (image->width, <, photo_w);
  g_assert_cmpint (image->height, <, photo_h);
  g_object_get (face_view, "texture", &shown, NULL);
  g_assert_nonnull (shown);
  g_assert_cmpint (gdk_texture_get_width (shown), ==, crop[2]);
  g_assert_cmpint (gdk_texture_get_height (shown), ==, crop[3]);
  g_assert_cmpint (pal_face_view_get_n_faces (PAL_FACE_VIEW (face_view)), ==, 0);
  lm = pal_inspector_get_landmarks (insp);
  g_assert_nonnull (lm);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      g_assert_cmpfloat_with_epsilon (lm->x[i] + crop[0], faces[1].lm.x[i], 1e-3);
      g_assert_cmpfloat_with_epsilon (lm->y[i] + crop[1], faces[1].lm.y[i], 1e-3);
    }
  g_assert_true (pal_inspector_get_landmarks_modified (insp));
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_DONE);
  whole = find_toggle (GTK_WIDGET (view), _("_Whole Photo"));
  g_assert_nonnull (whole);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (whole)));
  g_assert_false (gtk_toggle_button_get_active (whole));
  {
    Differs d = { face_view, before, w, h };

    g_assert_true (wait_for (differs_from, &d, 30));
  }
  settle (0.5);
  after = look_at (face_view, "faces-chosen", &w2, &h2);
  g_assert_cmpint (w, ==, w2);
  g_assert_cmpint (h, ==, h2);
  g_assert_cmpfloat (difference (before, after, (gsize) w * h), >, 0.1);

  /* face-api's expression network in slot B, at its default layer */
  g_assert_true (pal_inspect_view_use_faceapi_model (view, 1));
  /* ... which frames the face more tightly: the crop follows */
  {
    int tight[4];

    g_assert_true (pal_inspector_get_crop (insp, tight));
    g_assert_cmpint (tight[2], <, crop[2]);
    memcpy (crop, tight, sizeof crop);
  }
  g_assert_nonnull (pal_inspector_get_model (insp, 1));
  g_assert_true (wait_for (slot1_computed, NULL, 120));
  r = pal_inspector_get_result (insp, 1);
  g_assert_no_error (r->error);
  g_assert_cmpstr (r->node_name, ==, "dense2");
  g_assert_cmpint (r->n_classes, ==, 7);
  g_assert_false (r->flat);
  g_assert_false (isnan (r->r[PAL_MAP_GI_ALL]));
  g_assert_true (wait_drawn (GTK_WIDGET (view), 200, 60));
  settle (0.5);
  g_free (look_at (GTK_WIDGET (window), "window-faceapi", &w, &h));

  /* the whole photo: face-api's predictions change, the boxes are back */
  probs = g_memdup2 (r->probs, sizeof (float) * r->n_classes);
  gtk_toggle_button_set_active (whole, TRUE);
  g_assert_false (pal_inspector_get_crop (insp, NULL));
  g_assert_cmpint (pal_inspector_get_image (insp)->width, ==, photo_w);
  g_assert_cmpint (pal_face_view_get_n_faces (PAL_FACE_VIEW (face_view)), ==, 3);
  g_assert_true (wait_for (slot1_computed, NULL, 120));
  r = pal_inspector_get_result (insp, 1);
  g_assert_no_error (r->error);
  for (int k = 0; k < r->n_classes; k++)
    n_differ += fabsf (r->probs[k] - probs[k]) > 1e-4f;
  g_assert_cmpint (n_differ, >, 0);
  g_assert_cmpmem (pal_inspector_get_landmarks (insp), sizeof (PalLandmarks),
                   &faces[1].lm, sizeof (PalLandmarks));

  /* and the face again */
  gtk_toggle_button_set_active (whole, FALSE);
  g_assert_true (pal_inspector_get_crop (insp, NULL));
  g_assert_cmpint (pal_inspector_get_image (insp)->width, ==, crop[2]);
  g_assert_true (wait_for (slot1_computed, NULL, 120));

  /* back to the demo */
  pal_inspect_view_load_demo (view);
  g_assert_true (wait_for (both_slots_computed, NULL, 60));
  g_assert_cmpint (pal_face_search_get_state (search), ==, PAL_FACE_SEARCH_IDLE);
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

static gboolean
two_results (gpointer data)
{
  return !pal_emotion_job_get_running (data) && pal_emotion_job_get_n_results (data) == 2;
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

  /* face-api's expression network as model B, by the row's button */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "emotion.use-faceapi", "i", 1));
  g_assert_cmpstr (pal_emotion_job_get_model_path (job, 1), ==, PAL_FACEAPI_MODEL_NAME);
  pal_emotion_job_start (job);
  g_assert_true (wait_for (two_results, job, 240));
  g_assert_cmpstr (pal_emotion_job_get_model_name (job, 1), ==, "face-api expression");
  g_assert_cmpstr (pal_emotion_job_get_result (job, 1)->layer, ==, "dense2");
  g_assert_true (wait_drawn (GTK_WIDGET (view), 50, 60));
  settle (0.5);
  g_free (look_at (GTK_WIDGET (window), "window-emotions-faceapi", &w, &h));
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
  /* face-api as tools/fetch-face-api installs it in the source tree */
  if (!g_getenv ("PAL_FACEAPI_DIR"))
    g_setenv ("PAL_FACEAPI_DIR",
              PAL_SOURCE_DATADIR "/face-api/node_modules/@vladmandic/face-api/model", TRUE);
  shots = g_build_filename (builddir ? builddir : ".", french ? "ui-shots-fr" : "ui-shots", NULL);
  g_mkdir_with_parents (shots, 0755);

  if (french)
    g_test_add_func ("/ui/french", test_french);
  else
    {
      g_test_add_func ("/ui/demo", test_demo);
      g_test_add_func ("/ui/layer-and-target", test_layer_and_target);
      g_test_add_func ("/ui/export-panel", test_export_panel);
      g_test_add_func ("/ui/broken-files", test_broken_files);
      g_test_add_func ("/ui/flat-warning", test_flat_warning);
      g_test_add_func ("/ui/fifty-broken-files", test_fifty_broken_files);
      g_test_add_func ("/ui/faces", test_faces);
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
