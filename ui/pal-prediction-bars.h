/* pal-prediction-bars.h: a model's class probabilities as horizontal bars */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PAL_TYPE_PREDICTION_BARS (pal_prediction_bars_get_type ())
G_DECLARE_FINAL_TYPE (PalPredictionBars, pal_prediction_bars, PAL, PREDICTION_BARS, GtkWidget)

GtkWidget *pal_prediction_bars_new (void);

/* One bar per class: @labels[n] and @probs[n] (0..1) are copied; row
 * @predicted (-1: none) is highlighted.  @n 0 clears the bars. */
void       pal_prediction_bars_set (PalPredictionBars  *self,
                                    const char *const  *labels,
                                    const float        *probs,
                                    int                 n,
                                    int                 predicted);

G_END_DECLS
