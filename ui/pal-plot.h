/* pal-plot.h: line curves of a few named series, with axes and a legend */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PAL_TYPE_PLOT (pal_plot_get_type ())
G_DECLARE_FINAL_TYPE (PalPlot, pal_plot, PAL, PLOT, GtkWidget)

GtkWidget  *pal_plot_new             (void);

void        pal_plot_set_title       (PalPlot *self, const char *title);
const char *pal_plot_get_title       (PalPlot *self);
/* The x axis's name ("step", "epoch"). */
void        pal_plot_set_x_label     (PalPlot *self, const char *label);
const char *pal_plot_get_x_label     (PalPlot *self);
/* Values in [0, 1] shown as percentages on the y axis. */
void        pal_plot_set_percent     (PalPlot *self, gboolean percent);
/* A fixed y range; NaN for either end: from the data. */
void        pal_plot_set_y_range     (PalPlot *self, double min, double max);
/* What the plot says while it has no point. */
void        pal_plot_set_placeholder (PalPlot *self, const char *text);

/* A new series (its index), drawn in @colour ("#3584e4"; NULL: the next
 * colour of the palette), dashed or not. */
guint       pal_plot_add_series      (PalPlot *self, const char *name, const char *colour,
                                      gboolean dashed);
/* Replaces the points of @series with copies of @x and @y.  A NaN y
 * breaks the line. */
void        pal_plot_set_data        (PalPlot *self, guint series,
                                      const double *x, const double *y, guint n);
void        pal_plot_append          (PalPlot *self, guint series, double x, double y);
/* Drops every point (the series stay). */
void        pal_plot_clear           (PalPlot *self);
guint       pal_plot_get_n_points    (PalPlot *self, guint series);

G_END_DECLS
