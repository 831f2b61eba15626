/* pal-emotion-grid.h: one model's per-emotion mean Grad-CAM maps over the
 * mean faces, their most activated landmarks, and the overlap table */
#pragma once

#include <gtk/gtk.h>

#include "pal-analysis.h"
#include "pal-render.h"

G_BEGIN_DECLS

#define PAL_TYPE_EMOTION_GRID (pal_emotion_grid_get_type ())
G_DECLARE_FINAL_TYPE (PalEmotionGrid, pal_emotion_grid, PAL, EMOTION_GRID, GtkWidget)

GtkWidget   *pal_emotion_grid_new          (void);

/* Shows @m (copied: @m may go away afterwards) under @title (the model's
 * name); @names are the classes as shown (NULL: the canonical ones,
 * translated).  NULL @m empties the grid. */
void         pal_emotion_grid_set_means    (PalEmotionGrid *self, const PalGradcamMeans *m,
                                            const char *const *names, const char *title);
gboolean     pal_emotion_grid_has_means    (PalEmotionGrid *self);

/* "colormap": the maps' colours (PalColormap, default Jet). */
void         pal_emotion_grid_set_colormap (PalEmotionGrid *self, PalColormap cm);
PalColormap  pal_emotion_grid_get_colormap (PalEmotionGrid *self);

/* The translated display name of canonical class @klass ("Happy"). */
const char  *pal_emotion_class_title       (int klass);

G_END_DECLS
