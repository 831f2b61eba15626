/* pal-face-view.h: the big face with its overlays (prior, a map, landmarks) */
#pragma once

#include <gtk/gtk.h>

#include "pal-inspector.h"

G_BEGIN_DECLS

#define PAL_TYPE_FACE_VIEW (pal_face_view_get_type ())
G_DECLARE_FINAL_TYPE (PalFaceView, pal_face_view, PAL, FACE_VIEW, GtkWidget)

GtkWidget    *pal_face_view_new           (void);

/* "inspector": where the landmarks and the prior come from, and where a
 * dragged landmark goes. */
void          pal_face_view_set_inspector (PalFaceView *self, PalInspector *inspector);
PalInspector *pal_face_view_get_inspector (PalFaceView *self);
/* "texture": the face (the inspector's image; NULL: none). */
void          pal_face_view_set_texture   (PalFaceView *self, GdkTexture *texture);
/* The map [h, w] shown over the whole face, coloured from [lo, hi] (copied;
 * NULL: none). */
void          pal_face_view_set_map       (PalFaceView *self, const float *map, int w, int h,
                                           float lo, float hi);

/* Properties: "show-landmarks", "show-prior", "show-map" (booleans),
 * "opacity" (0..1), "colormap" (an index into pal_colormap_names()). */

G_END_DECLS
