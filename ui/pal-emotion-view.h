/* pal-emotion-view.h: the Per-emotion maps page -- mean Grad-CAM maps per
 * emotion over a dataset, the landmarks they light up, two models side by
 * side */
#pragma once

#include <adwaita.h>

#include "pal-emotion-job.h"

G_BEGIN_DECLS

#define PAL_TYPE_EMOTION_VIEW (pal_emotion_view_get_type ())
G_DECLARE_FINAL_TYPE (PalEmotionView, pal_emotion_view, PAL, EMOTION_VIEW, GtkWidget)

/* The page's job (the settings and results shown). */
PalEmotionJob   *pal_emotion_view_get_job   (PalEmotionView *self);
/* Save dialog: the maps as PNG (and the table as CSV). */
void             pal_emotion_view_export    (PalEmotionView *self);
void             pal_emotion_view_copy      (PalEmotionView *self);
/* Puts face-api's expression network in model slot @slot (0: A, 1: B); an
 * error is shown (where face-api's files are looked for, how to get them)
 * and FALSE returned when it cannot be loaded. */
gboolean         pal_emotion_view_use_faceapi_model (PalEmotionView *self, int slot);

G_END_DECLS
