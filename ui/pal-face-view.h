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
/* Face boxes drawn numbered (1..) over the face: @boxes holds x, y, w, h
 * in image pixels for each of @n_boxes (copied; 0: none); @chosen is the
 * face whose landmarks are shown (-1: none).  Clicking a box away from a
 * landmark emits "face-activated" (int index). */
void          pal_face_view_set_faces     (PalFaceView *self, const float *boxes, int n_boxes,
                                           int chosen);
int           pal_face_view_get_n_faces   (PalFaceView *self);

/* Properties: "show-landmarks", "show-prior", "show-map" (booleans),
 * "opacity" (0..1), "colormap" (an index into pal_colormap_names()). */

G_END_DECLS
