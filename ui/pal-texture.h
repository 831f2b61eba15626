/* pal-texture.h: core pictures and maps as GdkTextures */
#pragma once

#include <gtk/gtk.h>

#include "pal-image.h"
#include "pal-render.h"

G_BEGIN_DECLS

/* An RGB (or grey) PalImage as a texture of the same size. */
GdkTexture *pal_texture_new_from_image   (const PalImage *image);

/* The map [h, w] coloured through @cm from [lo, hi], scaled bilinearly to
 * @out_w x @out_h (opaque). */
GdkTexture *pal_texture_new_from_map     (const float *map, int w, int h, int out_w, int out_h,
                                          float lo, float hi, PalColormap cm);

/* The same, for laying over a picture: the colour of each pixel with alpha
 * @opacity x its normalised value, so that low values leave the picture
 * visible (as pal_render_overlay() blends). */
GdkTexture *pal_texture_new_overlay      (const float *map, int w, int h, int out_w, int out_h,
                                          float lo, float hi, PalColormap cm, float opacity);

/* The colormaps offered in the UI, in the order of pal_colormap_names(). */
const char *const *pal_colormap_names    (void);     /* translated, NULL-terminated */
PalColormap pal_colormap_from_index      (guint index);

G_END_DECLS
