/* pal-train-view.h: the Train page -- a dataset, settings, a run with live
 * curves, its results */
#pragma once

#include <adwaita.h>

#include "pal-train-session.h"

G_BEGIN_DECLS

#define PAL_TYPE_TRAIN_VIEW (pal_train_view_get_type ())
G_DECLARE_FINAL_TYPE (PalTrainView, pal_train_view, PAL, TRAIN_VIEW, GtkWidget)

PalTrainSession *pal_train_view_get_session (PalTrainView *self);
/* Save dialog: the curves (and results) as PNG. */
void             pal_train_view_export      (PalTrainView *self);
void             pal_train_view_copy        (PalTrainView *self);

/* Signal "open-model" (const char *path): the user asked to inspect the
 * model a run made. */

G_END_DECLS
