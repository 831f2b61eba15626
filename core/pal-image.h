/* pal-image.h: 8-bit images in, PNG/JPEG out, resampling, network input
 *
 * A PalImage is 8-bit, 1 (gray) or 3 (RGB) interleaved channels, rows
 * top to bottom without padding.  Pixel (x, y) covers [x, x+1) x [y, y+1);
 * its centre is (x + 0.5, y + 0.5).  Landmark coordinates in memory use the
 * same frame as pixel indices: a landmark at (x, y) lies on the centre of
 * pixel (x, y) (see pal-landmarks.h), so a horizontal flip maps x to
 * W - 1 - x.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Images larger than this many pixels are refused before anything is
 * allocated (a decompression bomb or a corrupt header). */
#define PAL_IMAGE_MAX_PIXELS (1u << 28)   /* 268 M pixels, e.g. 16384 x 16384 */

typedef struct {
  int     width, height;
  int     channels;      /* 1 or 3 */
  guint8 *data;          /* [height, width, channels] */
} PalImage;

PalImage *pal_image_new            (int width, int height, int channels);
void      pal_image_free           (PalImage *image);
PalImage *pal_image_copy           (const PalImage *image);

/* JPEG (libjpeg-turbo: RGB, gray, CMYK converted to RGB, progressive) or
 * PNG (libpng: any bit depth and colour type, alpha dropped, 16-bit
 * reduced), by content, not extension.  A truncated or corrupt file, a zero
 * size, or an image over PAL_IMAGE_MAX_PIXELS: a GError naming the file. */
PalImage *pal_image_load           (const char *path, GError **error);
/* The same from memory; @name is used in messages. */
PalImage *pal_image_load_from_data (const guint8 *data, gsize len, const char *name,
                                    GError **error);
/* Atomic (temporary file + rename). */
gboolean  pal_image_save_png       (const PalImage *image, const char *path, GError **error);
gboolean  pal_image_save_jpeg      (const PalImage *image, const char *path, int quality,
                                    GError **error);

/* Resize to @width x @height: area averaging along an axis that shrinks,
 * bilinear (pixel centres aligned) along one that grows. */
PalImage *pal_image_resize         (const PalImage *image, int width, int height);
/* Affine warp: output pixel centre (u, v) samples the input at
 * (m[0] u + m[1] v + m[2], m[3] u + m[4] v + m[5]) (in the pixel-index frame
 * of pal-landmarks.h), bilinear; outside the input: @border (gray value). */
PalImage *pal_image_warp_affine    (const PalImage *image, const double m[6],
                                    int width, int height, guint8 border);
PalImage *pal_image_flip           (const PalImage *image);   /* horizontal */
PalImage *pal_image_crop           (const PalImage *image, int x, int y, int width, int height);
PalImage *pal_image_to_rgb         (const PalImage *image);
PalImage *pal_image_to_gray        (const PalImage *image);

/* The network's input: resized to @width x @height if needed, then
 * dst [channels, height, width] = (pixel / 255 - mean[c]) / std[c].  Gray
 * images fill 3 channels; @channels 1 takes the luminance. */
void      pal_image_to_tensor      (const PalImage *image, float *dst, int channels,
                                    int width, int height,
                                    const float mean[3], const float std[3]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalImage, pal_image_free)

G_END_DECLS
