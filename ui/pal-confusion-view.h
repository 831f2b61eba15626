/* pal-confusion-view.h: a row-normalised confusion matrix with class names
 * and per-class accuracy */
#pragma once

#include <gtk/gtk.h>

#include "pal-metrics.h"

G_BEGIN_DECLS

#define PAL_TYPE_CONFUSION_VIEW (pal_confusion_view_get_type ())
G_DECLARE_FINAL_TYPE (PalConfusionView, pal_confusion_view, PAL, CONFUSION_VIEW, GtkWidget)

GtkWidget *pal_confusion_view_new           (void);
/* Shows a copy of @confusion (NULL: nothing) with @names (n_classes
 * entries; NULL: the class numbers). */
void       pal_confusion_view_set_confusion (PalConfusionView *self, const PalConfusion *confusion,
                                             const char *const *names);

G_END_DECLS
