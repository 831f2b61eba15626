/* pal-render.h: drawing maps, overlays, landmarks, panels and tables (Cairo)
 *
 * Everything the tools and the app export as pictures is made here, into
 * PalImages (RGB) that pal_image_save_png() writes.  Maps are float arrays
 * [h, w] of any size; they are scaled to the picture bilinearly and coloured
 * through a colormap after normalisation to [lo, hi].
 */
#pragma once

#include "pal-image.h"
#include "pal-landmarks.h"

G_BEGIN_DECLS

typedef enum {
  PAL_COLORMAP_INFERNO,
  PAL_COLORMAP_VIRIDIS,
  PAL_COLORMAP_JET,
  PAL_COLORMAP_GRAY,
} PalColormap;

/* Colour of t in [0, 1] (clamped). */
void      pal_colormap_rgb     (PalColormap cm, float t, guint8 rgb[3]);

/* The range to colour a map with: its min and max (lo == hi for a flat map). */
void      pal_map_range        (const float *map, int len, float *lo, float *hi);

/* A colour image of @out_w x @out_h from the map [h, w], bilinear, values
 * mapped from [lo, hi] to [0, 1] (a flat range gives the colour of 0). */
PalImage *pal_render_map       (const float *map, int w, int h, int out_w, int out_h,
                                float lo, float hi, PalColormap cm);
/* The map over @base (converted to RGB, same size out), blended with
 * opacity @alpha (0..1) weighted by the normalised value, so that low
 * values leave the face visible. */
PalImage *pal_render_overlay   (const PalImage *base, const float *map, int w, int h,
                                float lo, float hi, PalColormap cm, float alpha);
/* Dots of @radius pixels at the 68 landmarks (in @image's pixel frame). */
void      pal_render_landmarks (PalImage *image, const PalLandmarks *lm,
                                const guint8 rgb[3], float radius);
/* Panels (all RGB, any sizes) in a grid of @cols columns, each with its
 * title above (may be NULL), @pad pixels apart, on white; @title (may be
 * NULL) across the top. */
PalImage *pal_render_grid      (PalImage *const *panels, const char *const *titles, int n,
                                int cols, int pad, const char *title);
/* A table of text cells ([rows, cols], row 0 and column 0 as headers), with
 * an optional colour per body cell from @shade [rows - 1, cols - 1] in [0, 1]
 * (NULL: none), e.g. a row-normalised confusion matrix. */
PalImage *pal_render_table     (const char *const *cells, int rows, int cols,
                                const float *shade, PalColormap cm, const char *title);
/* A colour bar of @w x @h from lo to hi with the two values written. */
PalImage *pal_render_colorbar  (int w, int h, float lo, float hi, PalColormap cm);

/* --- text, stacks, bars ---------------------------------------------------
 *
 * Text is drawn with Cairo's toy font API ("sans-serif", grey antialiasing),
 * sizes in pixels.  Lines are split at '\n'. */

#define PAL_RENDER_TEXT_SIZE  13.0   /* panel titles, captions, table cells */
#define PAL_RENDER_SMALL_SIZE 11.0   /* colour bar values */
#define PAL_RENDER_TITLE_SIZE 16.0   /* the title across a grid (bold) */
/* Pixels between a panel's title and its panel in pal_render_grid(). */
#define PAL_RENDER_TITLE_GAP  3

/* Width (widest line, rounded up) and height (lines x line height) of @text. */
void      pal_render_text_size (const char *text, double size, gboolean bold,
                                int *width, int *height);
/* @text in @rgb (NULL: near black) on white, lines centred, exactly
 * pal_render_text_size() large (at least 1 x 1). */
PalImage *pal_render_text      (const char *text, double size, gboolean bold,
                                const guint8 rgb[3]);
/* Images one under the other, @gap pixels apart, each centred horizontally,
 * on white, no outer margin: as wide as the widest, as high as all of them
 * and the gaps.  NULL entries are skipped. */
PalImage *pal_render_stack     (PalImage *const *images, int n, int gap);
/* Horizontal bars, one per row: the label, a bar of @bar_width x value
 * (clamped to 0..1) on a grey track, and the value as a percentage; row
 * @highlight (-1: none) bold and in a strong colour.  @title (may be NULL)
 * above.  For class probabilities. */
PalImage *pal_render_bars      (const char *const *labels, const float *values, int n,
                                int highlight, int bar_width, const char *title);

/* Releases the font caches that Cairo's toy font API and fontconfig keep
 * for the whole process (cairo_debug_reset_static_data(), then FcFini()), so
 * that a leak checker sees a clean exit.  Call it once at the end of a
 * program that drew text, when no other thread draws. */
void      pal_render_release_fonts (void);

/* Layout notes (for callers that size things):
 * - pal_render_grid(): column width = max over its panels of the panel's
 *   width and its title's width; row height = the tallest panel plus, when
 *   any panel of the row has a title, the tallest title block
 *   (pal_render_text_size() at PAL_RENDER_TEXT_SIZE + PAL_RENDER_TITLE_GAP).
 *   Size: pad + sum (column + pad) across; pad + [title block at
 *   PAL_RENDER_TITLE_SIZE bold + pad] + sum (row + pad) down; at least as
 *   wide as the title + 2 pad.  Panels are centred in their column, at the
 *   top of their row.
 * - pal_render_colorbar(): the bar is the top-left @w x @h; horizontal when
 *   w >= h (lo at the left, values written under it), else vertical (hi at
 *   the top, values written to its right).  The two end pixels of the bar
 *   are the colours of 0 and 1. */

G_END_DECLS
