/* pal-render.c: drawing maps, overlays, landmarks, panels and tables (Cairo)
 *
 * Maps are coloured pixel by pixel here (bilinear sampling, then a
 * colormap); Cairo draws everything else: text (its toy font API), dots,
 * rules, bars.  Every Cairo surface made here is CAIRO_FORMAT_RGB24: opaque,
 * so there is no premultiplied alpha to undo, and a pixel is the native
 * 32-bit word 0x00RRGGBB.  PalImages go in and out of surfaces through
 * surface_from_image() / image_from_surface(), and are copied into larger
 * surfaces byte for byte (blit()), so a panel placed in a grid keeps its
 * exact pixels.
 */
#include "pal-render.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>

/* --- colormaps ------------------------------------------------------------ */

/* matplotlib's "inferno" and "viridis" (van der Walt and Smith, CC0),
 * sampled at the entries 0, 16, ..., 240, 255 of their 256-entry tables
 * and interpolated linearly in between: within one 8-bit step of the
 * originals, and as the originals, of increasing luminance. */
static const float inferno_stops[17][3] = {
  { 0.001462f, 0.000466f, 0.013866f }, { 0.042253f, 0.028139f, 0.141141f },
  { 0.129285f, 0.047293f, 0.290788f }, { 0.238273f, 0.036621f, 0.396353f },
  { 0.341500f, 0.062325f, 0.429425f }, { 0.441207f, 0.099338f, 0.431594f },
  { 0.540920f, 0.134729f, 0.415123f }, { 0.640135f, 0.171438f, 0.381065f },
  { 0.735683f, 0.215906f, 0.330245f }, { 0.822386f, 0.275197f, 0.266085f },
  { 0.894305f, 0.353399f, 0.193584f }, { 0.946965f, 0.449191f, 0.115272f },
  { 0.978422f, 0.557937f, 0.034931f }, { 0.987874f, 0.675267f, 0.065257f },
  { 0.974638f, 0.797692f, 0.206332f }, { 0.947594f, 0.917399f, 0.410665f },
  { 0.988362f, 0.998364f, 0.644924f },
};

static const float viridis_stops[17][3] = {
  { 0.267004f, 0.004874f, 0.329415f }, { 0.282327f, 0.094955f, 0.417331f },
  { 0.278826f, 0.175490f, 0.483397f }, { 0.258965f, 0.251537f, 0.524736f },
  { 0.229739f, 0.322361f, 0.545706f }, { 0.199430f, 0.387607f, 0.554642f },
  { 0.172719f, 0.448791f, 0.557885f }, { 0.149039f, 0.508051f, 0.557250f },
  { 0.127568f, 0.566949f, 0.550556f }, { 0.120638f, 0.625828f, 0.533488f },
  { 0.157851f, 0.683765f, 0.501686f }, { 0.246070f, 0.738910f, 0.452024f },
  { 0.369214f, 0.788888f, 0.382914f }, { 0.515992f, 0.831158f, 0.294279f },
  { 0.678489f, 0.863742f, 0.189503f }, { 0.845561f, 0.887322f, 0.099702f },
  { 0.993248f, 0.906157f, 0.143936f },
};

/* Table entry of stop k (the last stop is entry 255, not 256). */
static inline float
stop_position (int k)
{
  return (k < 16 ? 16.0f * k : 255.0f) / 255.0f;
}

static void
sample_stops (const float stops[17][3], float t, float out[3])
{
  int k = 0;
  float f;

  while (k < 15 && t > stop_position (k + 1))
    k++;
  f = (t - stop_position (k)) / (stop_position (k + 1) - stop_position (k));
  f = CLAMP (f, 0.0f, 1.0f);
  for (int c = 0; c < 3; c++)
    out[c] = stops[k][c] + f * (stops[k + 1][c] - stops[k][c]);
}

/* matplotlib's "jet" (piecewise linear in each channel). */
static float
jet_channel (const float (*seg)[2], int n, float t)
{
  for (int i = 1; i < n; i++)
    if (t <= seg[i][0])
      return seg[i - 1][1] + (t - seg[i - 1][0]) / (seg[i][0] - seg[i - 1][0])
                             * (seg[i][1] - seg[i - 1][1]);
  return seg[n - 1][1];
}

static void
sample_jet (float t, float out[3])
{
  static const float r[][2] = { { 0, 0 }, { 0.35f, 0 }, { 0.66f, 1 }, { 0.89f, 1 }, { 1, 0.5f } };
  static const float g[][2] = { { 0, 0 }, { 0.125f, 0 }, { 0.375f, 1 }, { 0.64f, 1 },
                                { 0.91f, 0 }, { 1, 0 } };
  static const float b[][2] = { { 0, 0.5f }, { 0.11f, 1 }, { 0.34f, 1 }, { 0.65f, 0 }, { 1, 0 } };

  out[0] = jet_channel (r, G_N_ELEMENTS (r), t);
  out[1] = jet_channel (g, G_N_ELEMENTS (g), t);
  out[2] = jet_channel (b, G_N_ELEMENTS (b), t);
}

void
pal_colormap_rgb (PalColormap cm, float t, guint8 rgb[3])
{
  float c[3];

  if (!(t >= 0.0f))          /* also NaN */
    t = 0.0f;
  if (t > 1.0f)
    t = 1.0f;
  switch (cm)
    {
    case PAL_COLORMAP_VIRIDIS:
      sample_stops (viridis_stops, t, c);
      break;
    case PAL_COLORMAP_JET:
      sample_jet (t, c);
      break;
    case PAL_COLORMAP_GRAY:
      c[0] = c[1] = c[2] = t;
      break;
    case PAL_COLORMAP_INFERNO:
    default:
      sample_stops (inferno_stops, t, c);
      break;
    }
  for (int k = 0; k < 3; k++)
    rgb[k] = (guint8) lrintf (CLAMP (c[k], 0.0f, 1.0f) * 255.0f);
}

/* --- maps ----------------------------------------------------------------- */

void
pal_map_range (const float *map, int len, float *lo, float *hi)
{
  float a = INFINITY, b = -INFINITY;

  for (int i = 0; i < len; i++)
    if (isfinite (map[i]))
      {
        a = MIN (a, map[i]);
        b = MAX (b, map[i]);
      }
  if (a > b)                 /* empty or nothing finite */
    a = b = 0.0f;
  *lo = a;
  *hi = b;
}

/* The map [h, w] sampled bilinearly at the pixel centres of an
 * @out_w x @out_h picture (centres aligned, clamped at the border), mapped
 * from [lo, hi] to [0, 1]: @t [out_h, out_w].  A flat range or a value
 * that is not finite gives 0. */
static void
sample_map (const float *map, int w, int h, int out_w, int out_h, float lo, float hi,
            float *t)
{
  gboolean flat = !(hi > lo) || !isfinite (hi - lo);
  float scale = flat ? 0.0f : 1.0f / (hi - lo);

  for (int v = 0; v < out_h; v++)
    {
      float sy = CLAMP ((v + 0.5f) * h / out_h - 0.5f, 0.0f, (float) (h - 1));
      int y0 = (int) sy, y1 = MIN (y0 + 1, h - 1);
      float fy = sy - y0;

      for (int u = 0; u < out_w; u++)
        {
          float sx = CLAMP ((u + 0.5f) * w / out_w - 0.5f, 0.0f, (float) (w - 1));
          int x0 = (int) sx, x1 = MIN (x0 + 1, w - 1);
          float fx = sx - x0;
          float top = map[y0 * w + x0] + fx * (map[y0 * w + x1] - map[y0 * w + x0]);
          float bot = map[y1 * w + x0] + fx * (map[y1 * w + x1] - map[y1 * w + x0]);
          float val = top + fy * (bot - top);
          float s = flat ? 0.0f : (val - lo) * scale;

          t[(gsize) v * out_w + u] = isfinite (s) ? CLAMP (s, 0.0f, 1.0f) : 0.0f;
        }
    }
}

PalImage *
pal_render_map (const float *map, int w, int h, int out_w, int out_h,
                float lo, float hi, PalColormap cm)
{
  g_autofree float *t = NULL;
  PalImage *out;

  g_return_val_if_fail (map && w > 0 && h > 0 && out_w > 0 && out_h > 0, NULL);
  t = g_new (float, (gsize) out_w * out_h);
  sample_map (map, w, h, out_w, out_h, lo, hi, t);
  out = pal_image_new (out_w, out_h, 3);
  for (gsize i = 0; i < (gsize) out_w * out_h; i++)
    pal_colormap_rgb (cm, t[i], out->data + 3 * i);
  return out;
}

PalImage *
pal_render_overlay (const PalImage *base, const float *map, int w, int h,
                    float lo, float hi, PalColormap cm, float alpha)
{
  g_autofree float *t = NULL;
  PalImage *out;
  gsize n;

  g_return_val_if_fail (base && map && w > 0 && h > 0, NULL);
  out = base->channels == 3 ? pal_image_copy (base) : pal_image_to_rgb (base);
  n = (gsize) out->width * out->height;
  t = g_new (float, n);
  sample_map (map, w, h, out->width, out->height, lo, hi, t);
  alpha = CLAMP (alpha, 0.0f, 1.0f);
  for (gsize i = 0; i < n; i++)
    {
      float a = alpha * t[i];
      guint8 col[3], *p = out->data + 3 * i;

      if (a <= 0.0f)
        continue;
      pal_colormap_rgb (cm, t[i], col);
      for (int c = 0; c < 3; c++)
        p[c] = (guint8) lrintf ((1.0f - a) * p[c] + a * col[c]);
    }
  return out;
}

/* --- surfaces and text ---------------------------------------------------- */

/* A white RGB24 surface of @w x @h. */
static cairo_surface_t *
surface_new (int w, int h)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, MAX (w, 1), MAX (h, 1));
  cairo_t *cr = cairo_create (s);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_destroy (cr);
  return s;
}

/* Copies @image (gray or RGB) into @s with its top-left corner at (x0, y0),
 * clipped to the surface. */
static void
blit (cairo_surface_t *s, const PalImage *image, int x0, int y0)
{
  int sw = cairo_image_surface_get_width (s), sh = cairo_image_surface_get_height (s);
  int stride = cairo_image_surface_get_stride (s);
  guint8 *data;

  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (int y = MAX (0, -y0); y < image->height && y0 + y < sh; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) (y0 + y) * stride);

      for (int x = MAX (0, -x0); x < image->width && x0 + x < sw; x++)
        {
          const guint8 *p = image->data + ((gsize) y * image->width + x) * image->channels;
          guint32 r = p[0], g = image->channels == 3 ? p[1] : p[0],
                  b = image->channels == 3 ? p[2] : p[0];

          row[x0 + x] = (r << 16) | (g << 8) | b;
        }
    }
  cairo_surface_mark_dirty (s);
}

static cairo_surface_t *
surface_from_image (const PalImage *image)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, image->width,
                                                   image->height);
  blit (s, image, 0, 0);
  return s;
}

/* An RGB24 surface as a PalImage of @channels (3, or 1: the red channel,
 * for surfaces drawn in grey only). */
static PalImage *
image_from_surface (cairo_surface_t *s, int channels)
{
  int w = cairo_image_surface_get_width (s), h = cairo_image_surface_get_height (s);
  int stride = cairo_image_surface_get_stride (s);
  const guint8 *data;
  PalImage *out = pal_image_new (w, h, channels);

  g_assert (cairo_image_surface_get_format (s) == CAIRO_FORMAT_RGB24);
  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (int y = 0; y < h; y++)
    {
      const guint32 *row = (const guint32 *) (data + (gsize) y * stride);
      guint8 *q = out->data + (gsize) y * w * channels;

      for (int x = 0; x < w; x++)
        {
          guint32 px = row[x];

          q[x * channels] = (px >> 16) & 0xff;
          if (channels == 3)
            {
              q[3 * x + 1] = (px >> 8) & 0xff;
              q[3 * x + 2] = px & 0xff;
            }
        }
    }
  return out;
}

static void
set_font (cairo_t *cr, double size, gboolean bold)
{
  cairo_font_options_t *fo = cairo_font_options_create ();

  /* grey antialiasing: no colour fringes, the same pixels on any desktop */
  cairo_font_options_set_antialias (fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_hint_metrics (fo, CAIRO_HINT_METRICS_ON);
  cairo_set_font_options (cr, fo);
  cairo_font_options_destroy (fo);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
}

/* Line pitch of the current font, whole pixels. */
static int
line_height (cairo_t *cr)
{
  cairo_font_extents_t fe;

  cairo_font_extents (cr, &fe);
  return (int) ceil (fe.height);
}

/* The lines of @text, made valid UTF-8 (Cairo draws nothing more on a
 * context once it was given an invalid string, say a file name in another
 * encoding). */
static GStrv
split_lines (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  return g_strsplit (valid, "\n", -1);
}

/* Measures @text with the current font of @cr. */
static void
text_size_cr (cairo_t *cr, const char *text, int *width, int *height)
{
  g_auto (GStrv) lines = NULL;
  double wmax = 0.0;
  int n = 0;

  *width = *height = 0;
  if (!text)
    return;
  lines = split_lines (text);
  for (; lines[n]; n++)
    {
      cairo_text_extents_t te;

      cairo_text_extents (cr, lines[n], &te);
      wmax = MAX (wmax, te.x_advance);
    }
  *width = (int) ceil (wmax);
  *height = MAX (n, 1) * line_height (cr);
}

/* A context on a 1 x 1 surface, for measuring. */
static cairo_t *
measuring_context (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t *cr = cairo_create (s);

  cairo_surface_destroy (s);
  return cr;
}

void
pal_render_text_size (const char *text, double size, gboolean bold, int *width, int *height)
{
  cairo_t *cr = measuring_context ();
  int w, h;

  set_font (cr, size, bold);
  text_size_cr (cr, text, &w, &h);
  cairo_destroy (cr);
  if (width)
    *width = w;
  if (height)
    *height = h;
}

/* Draws @text with the current font and source: lines from @y down (top
 * of the first line), each placed in [x, x + box_w] by @align (0 left,
 * 0.5 centred, 1 right). */
static void
draw_text (cairo_t *cr, const char *text, double x, double y, double box_w, double align)
{
  g_auto (GStrv) lines = NULL;
  cairo_font_extents_t fe;
  int lh;

  if (!text)
    return;
  cairo_font_extents (cr, &fe);
  lh = line_height (cr);
  lines = split_lines (text);
  for (int i = 0; lines[i]; i++)
    {
      cairo_text_extents_t te;

      cairo_text_extents (cr, lines[i], &te);
      cairo_move_to (cr, round (x + align * (box_w - te.x_advance)),
                     round (y + i * lh + fe.ascent));
      cairo_show_text (cr, lines[i]);
    }
}

static const guint8 ink[3] = { 20, 20, 20 };

static void
set_rgb8 (cairo_t *cr, const guint8 rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

PalImage *
pal_render_text (const char *text, double size, gboolean bold, const guint8 rgb[3])
{
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *out;
  int w, h;

  pal_render_text_size (text, size, bold, &w, &h);
  s = surface_new (w, h);
  cr = cairo_create (s);
  set_font (cr, size, bold);
  set_rgb8 (cr, rgb ? rgb : ink);
  draw_text (cr, text, 0, 0, w, 0.5);
  cairo_destroy (cr);
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}

void
pal_render_release_fonts (void)
{
  void (*fc_fini) (void);

  cairo_debug_reset_static_data ();
  /* fontconfig comes in with Cairo and is not linked directly: look it up */
  *(void **) &fc_fini = dlsym (RTLD_DEFAULT, "FcFini");
  if (fc_fini)
    fc_fini ();
}

/* --- landmarks ------------------------------------------------------------ */

void
pal_render_landmarks (PalImage *image, const PalLandmarks *lm, const guint8 rgb[3],
                      float radius)
{
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *drawn;
  guint8 col[3];

  g_return_if_fail (image && lm && rgb);
  if (image->channels == 1)   /* a grey image gets the colour's luminance */
    col[0] = col[1] = col[2] = (guint8) lrint (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
  else
    memcpy (col, rgb, 3);

  s = surface_from_image (image);
  cr = cairo_create (s);
  set_rgb8 (cr, col);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    if (isfinite (lm->x[i]) && isfinite (lm->y[i]))
      {
        /* landmark (x, y) lies on the centre of pixel (x, y): x + 0.5 here */
        cairo_new_sub_path (cr);
        cairo_arc (cr, lm->x[i] + 0.5, lm->y[i] + 0.5, MAX (radius, 0.5f), 0, 2 * G_PI);
      }
  cairo_fill (cr);
  cairo_destroy (cr);

  drawn = image_from_surface (s, image->channels);
  memcpy (image->data, drawn->data, (gsize) image->width * image->height * image->channels);
  pal_image_free (drawn);
  cairo_surface_destroy (s);
}

/* --- grid and stack ------------------------------------------------------- */

PalImage *
pal_render_grid (PalImage *const *panels, const char *const *titles, int n,
                 int cols, int pad, const char *title)
{
  g_autofree int *colw = NULL, *rowh = NULL, *rowt = NULL, *tw = NULL, *th = NULL;
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *out;
  int rows, width, height, main_w = 0, main_h = 0, y;

  g_return_val_if_fail (n >= 0 && (n == 0 || panels), NULL);
  pad = MAX (pad, 0);
  cols = CLAMP (cols, 1, MAX (n, 1));
  rows = (n + cols - 1) / cols;
  colw = g_new0 (int, cols);
  rowh = g_new0 (int, MAX (rows, 1));
  rowt = g_new0 (int, MAX (rows, 1));
  tw = g_new0 (int, MAX (n, 1));
  th = g_new0 (int, MAX (n, 1));

  for (int i = 0; i < n; i++)
    {
      int r = i / cols, c = i % cols;
      const char *t = titles ? titles[i] : NULL;

      if (t)
        {
          pal_render_text_size (t, PAL_RENDER_TEXT_SIZE, FALSE, &tw[i], &th[i]);
          rowt[r] = MAX (rowt[r], th[i] + PAL_RENDER_TITLE_GAP);
        }
      colw[c] = MAX (colw[c], MAX (panels[i] ? panels[i]->width : 0, tw[i]));
      rowh[r] = MAX (rowh[r], panels[i] ? panels[i]->height : 0);
    }

  width = pad;
  for (int c = 0; c < cols; c++)
    width += colw[c] + pad;
  height = pad;
  if (title)
    {
      pal_render_text_size (title, PAL_RENDER_TITLE_SIZE, TRUE, &main_w, &main_h);
      height += main_h + pad;
      width = MAX (width, main_w + 2 * pad);
    }
  for (int r = 0; r < rows; r++)
    height += rowt[r] + rowh[r] + pad;

  s = surface_new (width, height);
  cr = cairo_create (s);
  set_rgb8 (cr, ink);
  if (title)
    {
      set_font (cr, PAL_RENDER_TITLE_SIZE, TRUE);
      draw_text (cr, title, pad, pad, width - 2 * pad, 0.5);
    }
  set_font (cr, PAL_RENDER_TEXT_SIZE, FALSE);
  y = pad + (title ? main_h + pad : 0);
  for (int r = 0; r < rows; r++)
    {
      int x = pad;

      for (int c = 0; c < cols && r * cols + c < n; c++)
        {
          int i = r * cols + c;
          const char *t = titles ? titles[i] : NULL;

          /* the title sits right above its panel */
          if (t)
            draw_text (cr, t, x, y + rowt[r] - PAL_RENDER_TITLE_GAP - th[i], colw[c], 0.5);
          if (panels[i])
            blit (s, panels[i], x + (colw[c] - panels[i]->width) / 2, y + rowt[r]);
          x += colw[c] + pad;
        }
      y += rowt[r] + rowh[r] + pad;
    }
  cairo_destroy (cr);
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}

PalImage *
pal_render_stack (PalImage *const *images, int n, int gap)
{
  cairo_surface_t *s;
  PalImage *out;
  int width = 0, height = 0, k = 0, y = 0;

  g_return_val_if_fail (n >= 0 && (n == 0 || images), NULL);
  gap = MAX (gap, 0);
  for (int i = 0; i < n; i++)
    if (images[i])
      {
        width = MAX (width, images[i]->width);
        height += (k++ ? gap : 0) + images[i]->height;
      }
  s = surface_new (width, height);
  for (int i = 0; i < n; i++)
    if (images[i])
      {
        blit (s, images[i], (width - images[i]->width) / 2, y);
        y += images[i]->height + gap;
      }
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}

/* --- tables, colour bars, bars -------------------------------------------- */

/* "%.3g" in the C locale, "-0" written as "0". */
static void
format_value (char *buf, gsize len, double v)
{
  if (v == 0.0)
    v = 0.0;
  g_ascii_formatd (buf, len, "%.3g", v);
}

static double
luminance (const guint8 rgb[3])
{
  return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

PalImage *
pal_render_table (const char *const *cells, int rows, int cols,
                  const float *shade, PalColormap cm, const char *title)
{
  enum { PADX = 6, PADY = 3 };
  g_autofree int *colw = NULL, *colx = NULL;
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *out;
  int lh, rh, width = 0, height, title_w = 0, title_h = 0, top;
  cairo_t *m;

  g_return_val_if_fail (rows > 0 && cols > 0 && cells, NULL);
  colw = g_new0 (int, cols);
  colx = g_new0 (int, cols + 1);

  /* column widths: the widest cell, headers measured bold */
  m = measuring_context ();
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        int w, h;

        set_font (m, PAL_RENDER_TEXT_SIZE, r == 0 || c == 0);
        text_size_cr (m, cells[r * cols + c] ? cells[r * cols + c] : "", &w, &h);
        colw[c] = MAX (colw[c], w + 2 * PADX);
      }
  set_font (m, PAL_RENDER_TEXT_SIZE, FALSE);
  lh = line_height (m);
  cairo_destroy (m);
  rh = lh + 2 * PADY;
  for (int c = 0; c < cols; c++)
    colx[c + 1] = colx[c] + colw[c];
  width = colx[cols] + 1;   /* + the closing rule */
  if (title)
    {
      pal_render_text_size (title, PAL_RENDER_TEXT_SIZE, TRUE, &title_w, &title_h);
      title_h += 4;
      width = MAX (width, title_w);
    }
  top = title_h;
  height = top + rows * rh + 1;

  s = surface_new (width, height);
  cr = cairo_create (s);
  if (title)
    {
      set_font (cr, PAL_RENDER_TEXT_SIZE, TRUE);
      set_rgb8 (cr, ink);
      draw_text (cr, title, 0, 0, width, 0.0);
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        const char *text = cells[r * cols + c];
        gboolean header = r == 0 || c == 0;
        guint8 bg[3] = { 255, 255, 255 };
        int x = colx[c], y = top + r * rh;

        if (header)
          bg[0] = bg[1] = bg[2] = 236;
        else if (shade && isfinite (shade[(r - 1) * (cols - 1) + c - 1]))
          pal_colormap_rgb (cm, shade[(r - 1) * (cols - 1) + c - 1], bg);
        set_rgb8 (cr, bg);
        cairo_rectangle (cr, x, y, colw[c], rh);
        cairo_fill (cr);
        if (!text || !*text)
          continue;
        if (luminance (bg) < 128)
          cairo_set_source_rgb (cr, 1, 1, 1);
        else
          set_rgb8 (cr, ink);
        set_font (cr, PAL_RENDER_TEXT_SIZE, header);
        /* labels to the left, numbers to the right */
        draw_text (cr, text, x + PADX, y + PADY, colw[c] - 2 * PADX, c == 0 ? 0.0 : 1.0);
      }
  /* rules between all cells */
  cairo_set_source_rgb (cr, 0.72, 0.72, 0.72);
  cairo_set_line_width (cr, 1.0);
  for (int r = 0; r <= rows; r++)
    {
      cairo_move_to (cr, 0, top + r * rh + 0.5);
      cairo_line_to (cr, colx[cols] + 1, top + r * rh + 0.5);
    }
  for (int c = 0; c <= cols; c++)
    {
      cairo_move_to (cr, colx[c] + 0.5, top);
      cairo_line_to (cr, colx[c] + 0.5, top + rows * rh + 1);
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}

PalImage *
pal_render_colorbar (int w, int h, float lo, float hi, PalColormap cm)
{
  enum { GAP = 3 };
  gboolean horizontal = w >= h;
  char slo[32], shi[32];
  int wlo, hlo, whi, hhi, width, height;
  g_autoptr (PalImage) bar = NULL;
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *out;

  g_return_val_if_fail (w > 0 && h > 0, NULL);
  format_value (slo, sizeof slo, lo);
  format_value (shi, sizeof shi, hi);
  pal_render_text_size (slo, PAL_RENDER_SMALL_SIZE, FALSE, &wlo, &hlo);
  pal_render_text_size (shi, PAL_RENDER_SMALL_SIZE, FALSE, &whi, &hhi);

  /* the bar: t from 0 at one end pixel to 1 at the other */
  bar = pal_image_new (w, h, 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float t = horizontal ? (w > 1 ? (float) x / (w - 1) : 1.0f)
                             : (h > 1 ? (float) (h - 1 - y) / (h - 1) : 1.0f);
        pal_colormap_rgb (cm, t, bar->data + 3 * ((gsize) y * w + x));
      }

  if (horizontal)
    {
      width = MAX (w, wlo + whi + 8);
      height = h + GAP + MAX (hlo, hhi);
    }
  else
    {
      width = w + GAP + MAX (wlo, whi);
      height = MAX (h, hlo + hhi + 2);
    }
  s = surface_new (width, height);
  blit (s, bar, 0, 0);
  cr = cairo_create (s);
  set_font (cr, PAL_RENDER_SMALL_SIZE, FALSE);
  cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
  if (horizontal)
    {
      draw_text (cr, slo, 0, h + GAP, wlo, 0.0);
      draw_text (cr, shi, MAX (w, width) - whi, h + GAP, whi, 0.0);
    }
  else
    {
      draw_text (cr, shi, w + GAP, 0, whi, 0.0);
      draw_text (cr, slo, w + GAP, MAX (h, height) - hlo, wlo, 0.0);
    }
  cairo_destroy (cr);
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}

PalImage *
pal_render_bars (const char *const *labels, const float *values, int n,
                 int highlight, int bar_width, const char *title)
{
  enum { MARGIN = 4, GAP = 6 };
  static const guint8 strong[3] = { 38, 96, 178 }, soft[3] = { 160, 178, 204 },
                      track[3] = { 236, 236, 236 };
  int label_w = 0, value_w, lh, rh, title_w = 0, title_h = 0, width, height, bar_x, top;
  cairo_surface_t *s;
  cairo_t *cr;
  PalImage *out;

  g_return_val_if_fail (n >= 0 && (n == 0 || (labels && values)), NULL);
  bar_width = MAX (bar_width, 1);
  for (int i = 0; i < n; i++)
    {
      int w;

      pal_render_text_size (labels[i] ? labels[i] : "", PAL_RENDER_TEXT_SIZE, TRUE, &w, NULL);
      label_w = MAX (label_w, w);
    }
  pal_render_text_size ("100.0%", PAL_RENDER_TEXT_SIZE, TRUE, &value_w, &lh);
  rh = lh + 4;
  if (title)
    {
      pal_render_text_size (title, PAL_RENDER_TEXT_SIZE, TRUE, &title_w, &title_h);
      title_h += 4;
    }
  bar_x = MARGIN + label_w + GAP;
  width = MAX (bar_x + bar_width + GAP + value_w + MARGIN, title_w + 2 * MARGIN);
  top = MARGIN + title_h;
  height = top + n * rh + MARGIN;

  s = surface_new (width, height);
  cr = cairo_create (s);
  if (title)
    {
      set_font (cr, PAL_RENDER_TEXT_SIZE, TRUE);
      set_rgb8 (cr, ink);
      draw_text (cr, title, MARGIN, MARGIN, width - 2 * MARGIN, 0.0);
    }
  for (int i = 0; i < n; i++)
    {
      gboolean hl = i == highlight;
      float v = isfinite (values[i]) ? CLAMP (values[i], 0.0f, 1.0f) : 0.0f;
      int y = top + i * rh;
      char text[32];

      set_rgb8 (cr, track);
      cairo_rectangle (cr, bar_x, y + 3, bar_width, rh - 6);
      cairo_fill (cr);
      set_rgb8 (cr, hl ? strong : soft);
      cairo_rectangle (cr, bar_x, y + 3, round (v * bar_width), rh - 6);
      cairo_fill (cr);

      set_font (cr, PAL_RENDER_TEXT_SIZE, hl);
      set_rgb8 (cr, hl ? strong : ink);
      draw_text (cr, labels[i] ? labels[i] : "", MARGIN, y + 2, label_w, 1.0);
      g_ascii_formatd (text, sizeof text, "%.1f", v * 100.0);
      strcat (text, "%");
      draw_text (cr, text, bar_x + bar_width + GAP, y + 2, value_w, 1.0);
    }
  cairo_destroy (cr);
  out = image_from_surface (s, 3);
  cairo_surface_destroy (s);
  return out;
}
