/* pal-map-tile.h: one attribution map over a thumbnail of the face */
#pragma once

#include <gtk/gtk.h>

#include "pal-render.h"

G_BEGIN_DECLS

#define PAL_TYPE_MAP_TILE (pal_map_tile_get_type ())
G_DECLARE_FINAL_TYPE (PalMapTile, pal_map_tile, PAL, MAP_TILE, GtkWidget)

GtkWidget  *pal_map_tile_new          (void);

/* "title": above the picture (may be NULL: none). */
void        pal_map_tile_set_title    (PalMapTile *self, const char *title);
const char *pal_map_tile_get_title    (PalMapTile *self);
/* The face under the map, shown at its aspect ratio (NULL: none). */
void        pal_map_tile_set_face     (PalMapTile *self, GdkTexture *face);
/* The map [h, w] (copied; NULL clears), stretched over the whole face and
 * coloured from [lo, hi]; @shared says the range is common to several
 * maps (it is shown beside the range). */
void        pal_map_tile_set_map      (PalMapTile *self, const float *map, int w, int h,
                                       float lo, float hi, gboolean shared);
/* "r = +0.42 · inside 63 %" or a warning (drawn as one). */
void        pal_map_tile_set_caption  (PalMapTile *self, const char *caption, gboolean warning);
void        pal_map_tile_set_colormap (PalMapTile *self, PalColormap cm);
void        pal_map_tile_set_opacity  (PalMapTile *self, double opacity);
/* "selected": the map the big face view shows. */
void        pal_map_tile_set_selected (PalMapTile *self, gboolean selected);
gboolean    pal_map_tile_get_selected (PalMapTile *self);
/* The file name the panel export suggests. */
void        pal_map_tile_set_export_name (PalMapTile *self, const char *name);

/* Signals:
 *   "activate" ()   the tile was clicked (or Enter/Space when focused) */

G_END_DECLS
