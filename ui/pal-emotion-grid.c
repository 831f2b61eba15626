/* pal-emotion-grid.c: one model's per-emotion maps and overlap table
 *
 * Everything is drawn in snapshot: a title, one tile per class (the
 * class's mean image under its mean Grad-CAM map, each map coloured over
 * its own range, as pal_gradcam_means_render() does), the mean face's 68
 * landmarks as small dots and the most activated ones as larger dots
 * (green inside the class's Table 4 set, magenta outside; the classes
 * without action units get their ten most activated ringed), then the
 * table of Table 5: images, overlap / k, fraction (shaded), chance and the
 * top-k landmarks.
 *
 * The widget is height-for-width: four tiles a row, as wide as it gets
 * (up to a limit), the table under them.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pal-emotion-grid.h"
#include "pal-texture.h"

#define COLS          4
#define GAP           8      /* between tiles */
#define MAX_TILE      220
#define MIN_TILE      72
#define TILE_TEXTURE  256    /* pixels of a tile's textures (sharp at scale 2) */
#define OPACITY       0.6f
#define ROW_PAD       5      /* above and below a table row's text */
#define CELL_PAD      8
#define N_PLAIN_TOP   10     /* landmarks ringed for a class without a set */
#define N_COLUMNS     6
#define COL_FRACTION  3

struct _PalEmotionGrid
{
  GtkWidget        parent_instance;

  gboolean         has_means;
  PalGradcamMeans  m;                      /* without its arrays */
  float           *maps;                   /* [n_classes, height, width] */
  char            *names[PAL_ANALYSIS_MAX_CLASSES];
  char            *title;
  PalColormap      colormap;
  GdkTexture      *base[PAL_ANALYSIS_MAX_CLASSES];
  GdkTexture      *overlay[PAL_ANALYSIS_MAX_CLASSES];
};

G_DEFINE_FINAL_TYPE (PalEmotionGrid, pal_emotion_grid, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_COLORMAP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
pal_emotion_class_title (int klass)
{
  switch (klass)
    {
    case 0: return C_("emotion", "Neutral");
    case 1: return C_("emotion", "Happy");
    case 2: return C_("emotion", "Sad");
    case 3: return C_("emotion", "Surprise");
    case 4: return C_("emotion", "Fear");
    case 5: return C_("emotion", "Disgust");
    case 6: return C_("emotion", "Anger");
    case 7: return C_("emotion", "Contempt");
    default: return "?";
    }
}

/* --- textures ------------------------------------------------------------------ */

static void
clear_textures (PalEmotionGrid *self, gboolean base)
{
  for (int k = 0; k < PAL_ANALYSIS_MAX_CLASSES; k++)
    {
      g_clear_object (&self->overlay[k]);
      if (base)
        g_clear_object (&self->base[k]);
    }
}

static void
make_overlays (PalEmotionGrid *self)
{
  gsize plane = (gsize) self->m.width * self->m.height;

  clear_textures (self, FALSE);
  for (int k = 0; k < self->m.n_classes; k++)
    {
      const float *map = self->maps + k * plane;
      float lo, hi;

      if (self->m.counts[k] == 0)
        continue;
      pal_map_range (map, (int) plane, &lo, &hi);
      if (!(hi > lo))
        continue;   /* a flat map: the face alone */
      self->overlay[k] = pal_texture_new_overlay (map, self->m.width, self->m.height,
                                                  TILE_TEXTURE, TILE_TEXTURE, lo, hi,
                                                  self->colormap, OPACITY);
    }
}

static GdkTexture *
mean_image_texture (const float *image, int width, int height)
{
  g_autoptr (PalImage) small = pal_image_new (width, height, 3);
  g_autoptr (PalImage) big = NULL;

  for (gsize i = 0; i < (gsize) width * height * 3; i++)
    small->data[i] = (guint8) CLAMP (lrintf (image[i]), 0, 255);
  big = pal_image_resize (small, TILE_TEXTURE, TILE_TEXTURE);
  return pal_texture_new_from_image (big);
}

/* --- layout ------------------------------------------------------------------------ */

typedef struct {
  int tile;                   /* side of a tile */
  int caption_h;              /* a tile's caption line */
  int title_h;
  int grid_h;                 /* the tiles and their captions */
  int legend_h;
  int row_h;                  /* a table row */
  int n_rows;                 /* header, classes, average */
  int col_x[N_COLUMNS + 1];   /* the table's column edges; the last column ends at width */
  int height;
} Layout;

static int
text_width (PalEmotionGrid *self, const char *text, gboolean bold)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  int w, h;

  if (bold)
    pango_layout_set_markup (layout, text, -1);
  else
    pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static int
line_height (PalEmotionGrid *self)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), "Ag");
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return h;
}

static const char *
column_title (int c)
{
  switch (c)
    {
    case 0: return _("Emotion");
    case 1: return _("Images");
    case 2: return _("Overlap");
    case 3: return _("Fraction");
    case 4: return _("Chance");
    default: return _("Top landmarks");
    }
}

static char *
format_fraction (double f)
{
  return isnan (f) ? g_strdup ("–") : g_strdup_printf ("%.3f", f);
}

/* The text of table cell (@row, @col); row n_classes is the average. */
static char *
cell_text (PalEmotionGrid *self, int row, int col)
{
  const PalGradcamMeans *m = &self->m;

  if (row == m->n_classes)
    {
      switch (col)
        {
        case 0: return g_strdup (_("Average"));
        case 3: return format_fraction (pal_gradcam_means_average (m));
        case 4: return format_fraction (pal_gradcam_means_chance (m, -1));
        default: return g_strdup ("");
        }
    }
  switch (col)
    {
    case 0:
      return g_strdup (self->names[row]);
    case 1:
      return g_strdup_printf ("%d", m->counts[row]);
    case 2:
      if (isnan (pal_gradcam_means_fraction (m, row)))
        return g_strdup ("–");
      return g_strdup_printf ("%d/%d", m->overlap[row], m->k[row]);
    case 3:
      return format_fraction (pal_gradcam_means_fraction (m, row));
    case 4:
      return format_fraction (pal_gradcam_means_chance (m, row));
    default:
      {
        GString *s;

        if (m->k[row] == 0)
          return g_strdup (_("no action units in Table 4"));
        if (m->counts[row] == 0)
          return g_strdup (_("no images"));
        if (m->flat[row])
          return g_strdup (_("flat map: no ranking"));
        s = g_string_new (NULL);
        for (int i = 0; i < m->n_top[row]; i++)
          g_string_append_printf (s, i ? " %d" : "%d", m->ranking[row][i]);
        return g_string_free (s, FALSE);
      }
    }
}

static void
compute_layout (PalEmotionGrid *self, int width, Layout *lo)
{
  int n = self->has_means ? self->m.n_classes : 7;
  int rows = (n + COLS - 1) / COLS;
  int line = line_height (self);
  int x = 0;

  memset (lo, 0, sizeof *lo);
  lo->tile = CLAMP ((width - (COLS - 1) * GAP) / COLS, MIN_TILE, MAX_TILE);
  lo->caption_h = line + 4;
  lo->title_h = line + 10;
  lo->grid_h = rows * (lo->caption_h + lo->tile) + (rows - 1) * GAP;
  lo->legend_h = line + 12;
  lo->row_h = line + 2 * ROW_PAD;
  lo->n_rows = n + 2;

  /* column widths: the widest cell, the last column takes what is left */
  for (int c = 0; c < N_COLUMNS - 1; c++)
    {
      g_autofree char *bold = g_strdup_printf ("<b>%s</b>", column_title (c));
      int w = text_width (self, bold, TRUE);

      for (int r = 0; self->has_means && r <= self->m.n_classes; r++)
        {
          g_autofree char *t = cell_text (self, r, c);
          gboolean strong = c == 0 || r == self->m.n_classes;
          g_autofree char *markup = strong ? g_markup_printf_escaped ("<b>%s</b>", t)
                                         : g_markup_escape_text (t, -1);

          w = MAX (w, text_width (self, markup, TRUE));
        }
      lo->col_x[c] = x;
      x += w + 2 * CELL_PAD;
    }
  lo->col_x[N_COLUMNS - 1] = x;
  lo->col_x[N_COLUMNS] = MAX (width, x + 40);
  lo->height = lo->title_h + lo->grid_h + lo->legend_h + lo->n_rows * lo->row_h + 1;
}

static GtkSizeRequestMode
pal_emotion_grid_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
pal_emotion_grid_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                          int *minimum, int *natural, int *minimum_baseline,
                          int *natural_baseline)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (widget);
  Layout lo;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      compute_layout (self, 0, &lo);
      *minimum = MAX (COLS * MIN_TILE + (COLS - 1) * GAP, lo.col_x[N_COLUMNS - 1] + 60);
      *natural = MAX (*minimum, COLS * 160 + (COLS - 1) * GAP);
    }
  else
    {
      compute_layout (self, for_size < 0 ? COLS * 160 + (COLS - 1) * GAP : for_size, &lo);
      *minimum = *natural = lo.height;
    }
}

/* --- drawing ---------------------------------------------------------------------- */

static void
get_fg (GtkWidget *widget, GdkRGBA *fg)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

/* @text at (@x, @y) in a box @w wide: @align 0 left, 1 right, 0.5 centre;
 * ellipsized to @w when @w > 0. */
static void
draw_text (GtkSnapshot *snapshot, GtkWidget *widget, const char *text, gboolean markup,
           float x, float y, int w, float align, const GdkRGBA *color)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, NULL);
  int tw, th;

  if (markup)
    pango_layout_set_markup (layout, text, -1);
  else
    pango_layout_set_text (layout, text, -1);
  if (w > 0)
    {
      pango_layout_set_width (layout, w * PANGO_SCALE);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  pango_layout_get_pixel_size (layout, &tw, &th);
  if (w > 0)
    x += align * MAX (w - tw, 0);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
dot (cairo_t *cr, double x, double y, double r, double red, double green, double blue,
     gboolean outline)
{
  cairo_new_path (cr);
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, red, green, blue);
  if (outline)
    {
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.85);
      cairo_set_line_width (cr, MAX (0.8, r * 0.3));
      cairo_stroke (cr);
    }
  else
    cairo_fill (cr);
}

/* The landmarks of class @k over a tile of @tile pixels at (0, 0). */
static void
draw_landmarks (PalEmotionGrid *self, cairo_t *cr, int k, int tile)
{
  const PalGradcamMeans *m = &self->m;
  const PalLandmarks *face = &m->faces[k];
  double sx = (double) tile / m->width, sy = (double) tile / m->height;
  double small = MAX (1.0, tile / 110.0), big = MAX (2.5, tile / 36.0);
  int set[PAL_N_LANDMARKS], n_set = pal_emotion_landmarks (k, set);
  gboolean in_set[PAL_N_LANDMARKS] = { FALSE };
  gboolean marked[PAL_N_LANDMARKS] = { FALSE };
  int n_mark = 0;

  for (int i = 0; i < n_set; i++)
    in_set[set[i]] = TRUE;
  if (m->counts[k] > 0 && !m->flat[k])
    n_mark = m->k[k] > 0 ? m->n_top[k] : N_PLAIN_TOP;
  for (int i = 0; i < n_mark; i++)
    marked[m->ranking[k][i]] = TRUE;

  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    if (!marked[j])
      {
        cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
        cairo_new_path (cr);
        cairo_arc (cr, (face->x[j] + 0.5) * sx, (face->y[j] + 0.5) * sy, small, 0, 2 * G_PI);
        cairo_fill (cr);
      }
  /* the least activated first, so that the top of the list is on top */
  for (int i = n_mark - 1; i >= 0; i--)
    {
      int j = m->ranking[k][i];
      double x = (face->x[j] + 0.5) * sx, y = (face->y[j] + 0.5) * sy;

      if (m->k[k] == 0)
        {
          cairo_new_path (cr);
          cairo_arc (cr, x, y, big, 0, 2 * G_PI);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
          cairo_set_line_width (cr, big * 0.6);
          cairo_stroke_preserve (cr);
          cairo_set_source_rgb (cr, 1, 1, 1);
          cairo_set_line_width (cr, big * 0.3);
          cairo_stroke (cr);
        }
      else if (in_set[j])
        dot (cr, x, y, big, 0.18, 0.76, 0.49, TRUE);     /* green */
      else
        dot (cr, x, y, big, 0.88, 0.27, 0.85, TRUE);     /* magenta */
    }
}

static void
snapshot_tile (PalEmotionGrid *self, GtkSnapshot *snapshot, int k, int tile,
               const GdkRGBA *fg)
{
  GskRoundedRect clip;
  graphene_rect_t rect = GRAPHENE_RECT_INIT (0, 0, tile, tile);
  const char *note = NULL;

  gsk_rounded_rect_init_from_rect (&clip, &rect, 6);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  if (self->base[k])
    gtk_snapshot_append_texture (snapshot, self->base[k], &rect);
  if (self->overlay[k])
    gtk_snapshot_append_texture (snapshot, self->overlay[k], &rect);
  if (self->m.counts[k] > 0)
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &rect);

      draw_landmarks (self, cr, k, tile);
      cairo_destroy (cr);
    }
  gtk_snapshot_pop (snapshot);

  if (self->m.counts[k] == 0)
    note = _("No images");
  else if (self->m.flat[k])
    note = _("Flat map");
  if (note)
    {
      GdkRGBA white = { 1, 1, 1, 1 };
      GdkRGBA shade = { 0, 0, 0, 0.55f };
      int line = line_height (self);

      gtk_snapshot_append_color (snapshot, &shade,
                                 &GRAPHENE_RECT_INIT (0, (tile - line) / 2.0f - 4, tile, line + 8));
      draw_text (snapshot, GTK_WIDGET (self), note, FALSE, 0, (tile - line) / 2.0f, tile, 0.5f,
                 &white);
    }
}

static void
snapshot_table (PalEmotionGrid *self, GtkSnapshot *snapshot, const Layout *lo, int width,
                const GdkRGBA *fg)
{
  const PalGradcamMeans *m = &self->m;
  GdkRGBA line = *fg, stripe = *fg, header = *fg;
  int table_w = MIN (width, lo->col_x[N_COLUMNS]);

  line.alpha = 0.18f;
  stripe.alpha = 0.04f;
  header.alpha = 0.08f;

  gtk_snapshot_append_color (snapshot, &header, &GRAPHENE_RECT_INIT (0, 0, table_w, lo->row_h));
  for (int r = 0; r < lo->n_rows; r++)
    {
      float y = r * lo->row_h;
      gboolean is_header = r == 0, is_average = r == lo->n_rows - 1;

      if (r > 0 && r % 2 == 0)
        gtk_snapshot_append_color (snapshot, &stripe,
                                   &GRAPHENE_RECT_INIT (0, y, table_w, lo->row_h));
      for (int c = 0; c < N_COLUMNS; c++)
        {
          int x0 = lo->col_x[c], x1 = c == N_COLUMNS - 1 ? table_w : lo->col_x[c + 1];
          int cell_w = x1 - x0 - 2 * CELL_PAD;
          float align = c == 0 || c == N_COLUMNS - 1 ? 0.0f : 1.0f;
          g_autofree char *text = NULL;
          GdkRGBA color = *fg;

          if (cell_w <= 0)
            continue;
          if (is_header)
            text = g_markup_printf_escaped ("<b>%s</b>", column_title (c));
          else
            {
              int row = r - 1;
              g_autofree char *plain = cell_text (self, row, c);

              if (c == COL_FRACTION)
                {
                  double f = is_average ? pal_gradcam_means_average (m)
                                        : pal_gradcam_means_fraction (m, row);
                  if (!isnan (f))
                    {
                      guint8 rgb[3];
                      GdkRGBA cell;

                      pal_colormap_rgb (PAL_COLORMAP_VIRIDIS, (float) f, rgb);
                      cell = (GdkRGBA) { rgb[0] / 255.f, rgb[1] / 255.f, rgb[2] / 255.f, 1 };
                      gtk_snapshot_append_color (snapshot, &cell,
                                                 &GRAPHENE_RECT_INIT (x0, y, x1 - x0, lo->row_h));
                      color = f > 0.6 ? (GdkRGBA) { 0, 0, 0, 1 } : (GdkRGBA) { 1, 1, 1, 1 };
                    }
                }
              if (c == N_COLUMNS - 1 && (row == m->n_classes || m->k[row] == 0
                                         || m->counts[row] == 0 || m->flat[row]))
                color.alpha *= 0.55f;
              text = (c == 0 || is_average) ? g_markup_printf_escaped ("<b>%s</b>", plain)
                                            : g_markup_escape_text (plain, -1);
            }
          draw_text (snapshot, GTK_WIDGET (self), text, TRUE, x0 + CELL_PAD, y + ROW_PAD, cell_w,
                     align, &color);
        }
      gtk_snapshot_append_color (snapshot, &line,
                                 &GRAPHENE_RECT_INIT (0, y + lo->row_h - 1, table_w, 1));
    }
  gtk_snapshot_append_color (snapshot, &line, &GRAPHENE_RECT_INIT (0, 0, table_w, 1));
}

static void
pal_emotion_grid_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (widget);
  int width = gtk_widget_get_width (widget);
  const PalGradcamMeans *m = &self->m;
  GdkRGBA fg, dim;
  Layout lo;
  float y;

  if (!self->has_means || width <= 0)
    return;
  get_fg (widget, &fg);
  dim = fg;
  dim.alpha = 0.7f;
  compute_layout (self, width, &lo);

  /* the title */
  {
    g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>  <span alpha='70%%'>%s</span>",
                                                       self->title ? self->title : "",
                                                       m->layer ? m->layer : "");
    draw_text (snapshot, widget, markup, TRUE, 0, 2, width, 0, &fg);
  }
  y = lo.title_h;

  /* the tiles */
  for (int k = 0; k < m->n_classes; k++)
    {
      int col = k % COLS, row = k / COLS;
      float x = col * (lo.tile + GAP);
      float ty = y + row * (lo.caption_h + lo.tile + GAP);
      double f = pal_gradcam_means_fraction (m, k);
      g_autofree char *caption = NULL;

      if (!isnan (f))
        caption = g_markup_printf_escaped ("<b>%s</b>  %d/%d", self->names[k], m->overlap[k],
                                           m->k[k]);
      else
        caption = g_markup_printf_escaped ("<b>%s</b>", self->names[k]);
      draw_text (snapshot, widget, caption, TRUE, x, ty, lo.tile, 0.5f, &fg);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, ty + lo.caption_h));
      snapshot_tile (self, snapshot, k, lo.tile, &fg);
      gtk_snapshot_restore (snapshot);
    }
  y += lo.grid_h;

  /* the legend: what the dots mean */
  {
    float ly = y + 6, lx = 0;
    int line = line_height (self);
    graphene_rect_t r = GRAPHENE_RECT_INIT (0, ly, 14, line);
    const struct { double r, g, b; const char *text; } keys[] = {
      { 0.18, 0.76, 0.49, _("top-k in the emotion’s Table 4 set") },
      { 0.88, 0.27, 0.85, _("top-k outside it") },
    };

    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      {
        cairo_t *cr;

        r.origin.x = lx;
        cr = gtk_snapshot_append_cairo (snapshot, &r);
        dot (cr, lx + 6, ly + line / 2.0, 4, keys[i].r, keys[i].g, keys[i].b, TRUE);
        cairo_destroy (cr);
        draw_text (snapshot, widget, keys[i].text, FALSE, lx + 14, ly, -1, 0, &dim);
        lx += 14 + text_width (self, keys[i].text, FALSE) + 16;
      }
  }
  y += lo.legend_h;

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, y));
  snapshot_table (self, snapshot, &lo, width, &fg);
  gtk_snapshot_restore (snapshot);
}

/* --- API ------------------------------------------------------------------------------- */

void
pal_emotion_grid_set_means (PalEmotionGrid *self, const PalGradcamMeans *m,
                            const char *const *names, const char *title)
{
  g_return_if_fail (PAL_IS_EMOTION_GRID (self));

  clear_textures (self, TRUE);
  g_clear_pointer (&self->maps, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->m.layer, g_free);
  for (int k = 0; k < PAL_ANALYSIS_MAX_CLASSES; k++)
    g_clear_pointer (&self->names[k], g_free);
  self->has_means = m != NULL;
  if (m)
    {
      gsize plane = (gsize) m->width * m->height;

      self->m = *m;
      self->m.maps = NULL;
      self->m.images = NULL;
      self->m.layer = m->layer ? g_strdup (m->layer) : NULL;
      self->maps = g_memdup2 (m->maps, plane * m->n_classes * sizeof (float));
      for (int k = 0; k < m->n_classes; k++)
        {
          self->names[k] = g_strdup (names && names[k] ? names[k] : pal_emotion_class_title (k));
          self->base[k] = mean_image_texture (m->images + k * plane * 3, m->width, m->height);
        }
      self->title = g_strdup (title);
      make_overlays (self);
    }
  else
    memset (&self->m, 0, sizeof self->m);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

gboolean
pal_emotion_grid_has_means (PalEmotionGrid *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_GRID (self), FALSE);
  return self->has_means;
}

void
pal_emotion_grid_set_colormap (PalEmotionGrid *self, PalColormap cm)
{
  g_return_if_fail (PAL_IS_EMOTION_GRID (self));

  if (self->colormap == cm)
    return;
  self->colormap = cm;
  if (self->has_means)
    make_overlays (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLORMAP]);
}

PalColormap
pal_emotion_grid_get_colormap (PalEmotionGrid *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_GRID (self), PAL_COLORMAP_JET);
  return self->colormap;
}

/* --- GObject --------------------------------------------------------------------------- */

static void
pal_emotion_grid_dispose (GObject *object)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (object);

  clear_textures (self, TRUE);
  G_OBJECT_CLASS (pal_emotion_grid_parent_class)->dispose (object);
}

static void
pal_emotion_grid_finalize (GObject *object)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (object);

  g_free (self->maps);
  g_free (self->title);
  g_free (self->m.layer);
  for (int k = 0; k < PAL_ANALYSIS_MAX_CLASSES; k++)
    g_free (self->names[k]);
  G_OBJECT_CLASS (pal_emotion_grid_parent_class)->finalize (object);
}

static void
pal_emotion_grid_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (object);

  switch (prop_id)
    {
    case PROP_COLORMAP:
      g_value_set_int (value, self->colormap);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_emotion_grid_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  PalEmotionGrid *self = PAL_EMOTION_GRID (object);

  switch (prop_id)
    {
    case PROP_COLORMAP:
      pal_emotion_grid_set_colormap (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_emotion_grid_class_init (PalEmotionGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_emotion_grid_dispose;
  object_class->finalize = pal_emotion_grid_finalize;
  object_class->get_property = pal_emotion_grid_get_property;
  object_class->set_property = pal_emotion_grid_set_property;

  widget_class->get_request_mode = pal_emotion_grid_get_request_mode;
  widget_class->measure = pal_emotion_grid_measure;
  widget_class->snapshot = pal_emotion_grid_snapshot;

  properties[PROP_COLORMAP] =
    g_param_spec_int ("colormap", NULL, NULL, PAL_COLORMAP_INFERNO, PAL_COLORMAP_GRAY,
                      PAL_COLORMAP_JET,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "emotiongrid");
}

static void
pal_emotion_grid_init (PalEmotionGrid *self)
{
  self->colormap = PAL_COLORMAP_JET;
}

GtkWidget *
pal_emotion_grid_new (void)
{
  return g_object_new (PAL_TYPE_EMOTION_GRID, NULL);
}
