/* pal-texture.c: core pictures and maps as GdkTextures */
#include "config.h"

#include <glib/gi18n.h>

#include "pal-texture.h"

GdkTexture *
pal_texture_new_from_image (const PalImage *image)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (PalImage) rgb = NULL;

  g_return_val_if_fail (image != NULL, NULL);
  if (image->channels != 3)
    rgb = pal_image_to_rgb (image);
  bytes = g_bytes_new ((rgb ? rgb : image)->data, (gsize) image->width * image->height * 3);
  return gdk_memory_texture_new (image->width, image->height, GDK_MEMORY_R8G8B8, bytes,
                                 (gsize) image->width * 3);
}

GdkTexture *
pal_texture_new_from_map (const float *map, int w, int h, int out_w, int out_h,
                          float lo, float hi, PalColormap cm)
{
  g_autoptr (PalImage) picture = pal_render_map (map, w, h, out_w, out_h, lo, hi, cm);

  return pal_texture_new_from_image (picture);
}

GdkTexture *
pal_texture_new_overlay (const float *map, int w, int h, int out_w, int out_h,
                         float lo, float hi, PalColormap cm, float opacity)
{
  g_autoptr (PalImage) colour = pal_render_map (map, w, h, out_w, out_h, lo, hi, cm);
  g_autoptr (PalImage) grey = pal_render_map (map, w, h, out_w, out_h, lo, hi, PAL_COLORMAP_GRAY);
  gsize n = (gsize) out_w * out_h;
  guint8 *rgba = g_malloc (n * 4);
  GBytes *bytes;
  GdkTexture *texture;

  opacity = CLAMP (opacity, 0.0f, 1.0f);
  /* the grey rendering is the normalised value, bilinear like the colour */
  for (gsize i = 0; i < n; i++)
    {
      rgba[4 * i + 0] = colour->data[3 * i + 0];
      rgba[4 * i + 1] = colour->data[3 * i + 1];
      rgba[4 * i + 2] = colour->data[3 * i + 2];
      rgba[4 * i + 3] = (guint8) (opacity * grey->data[3 * i] + 0.5f);
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  texture = gdk_memory_texture_new (out_w, out_h, GDK_MEMORY_R8G8B8A8, bytes, (gsize) out_w * 4);
  g_bytes_unref (bytes);
  return texture;
}

const char *const *
pal_colormap_names (void)
{
  static const char *names[5];

  if (!names[0])
    {
      names[0] = _("Inferno");
      names[1] = _("Viridis");
      names[2] = _("Jet");
      names[3] = _("Grey");
    }
  return names;
}

PalColormap
pal_colormap_from_index (guint index)
{
  static const PalColormap maps[] = { PAL_COLORMAP_INFERNO, PAL_COLORMAP_VIRIDIS,
                                      PAL_COLORMAP_JET, PAL_COLORMAP_GRAY };

  return maps[MIN (index, G_N_ELEMENTS (maps) - 1)];
}
