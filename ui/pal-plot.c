/* pal-plot.c: line curves of a few named series, with axes and a legend
 *
 * Drawn in snapshot with Cairo: a title and a legend above the plot area,
 * "nice" ticks (1, 2 or 5 times a power of ten) on both axes, light grid
 * lines, the series as lines (and dots while a series has few points).
 * The ranges follow the data, so the curves grow as points arrive; the x
 * axis starts at 0.  Colours of text and grid come from the widget's CSS
 * colour, so the plot reads in light and dark styles.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "pal-plot.h"

#define FEW_POINTS 16   /* dots on a series with fewer points */

typedef struct {
  char    *name;
  GdkRGBA  colour;
  gboolean dashed;
  GArray  *x;   /* double */
  GArray  *y;   /* double */
} Series;

struct _PalPlot
{
  GtkWidget  parent_instance;

  char      *title;
  char      *x_label;
  char      *placeholder;
  gboolean   percent;
  double     y_min, y_max;   /* fixed ends, NaN: from the data */
  GPtrArray *series;         /* Series */
};

G_DEFINE_FINAL_TYPE (PalPlot, pal_plot, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_X_LABEL,
  PROP_PERCENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Adwaita's palette: blue, orange, green, purple, red, brown. */
static const char *const palette[] = {
  "#3584e4", "#ff7800", "#33d17a", "#9141ac", "#e01b24", "#986a44",
};

static void
series_free (gpointer data)
{
  Series *s = data;

  g_free (s->name);
  g_array_unref (s->x);
  g_array_unref (s->y);
  g_free (s);
}

/* --- ticks ---------------------------------------------------------------- */

/* A step of 1, 2 or 5 times a power of ten giving about @n ticks over
 * [lo, hi]. */
static double
nice_step (double lo, double hi, int n)
{
  double rough = (hi - lo) / MAX (n, 1);
  double mag, norm;

  if (!(rough > 0) || !isfinite (rough))
    return 1.0;
  mag = pow (10.0, floor (log10 (rough)));
  norm = rough / mag;
  if (norm < 1.5)
    return mag;
  if (norm < 3.0)
    return 2 * mag;
  if (norm < 7.0)
    return 5 * mag;
  return 10 * mag;
}

static char *
tick_text (double v, double step, gboolean percent)
{
  int digits;

  if (percent)
    {
      v *= 100;
      step *= 100;
    }
  digits = step >= 1 ? 0 : (int) ceil (-log10 (step) - 1e-9);
  if (fabs (v) < step * 1e-6)
    v = 0.0;
  return percent ? g_strdup_printf ("%.*f%%", digits, v) : g_strdup_printf ("%.*f", digits, v);
}

/* --- drawing ---------------------------------------------------------------- */

static PangoLayout *
make_layout (PalPlot *self, const char *text, gboolean bold, double scale)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static void
show_text (cairo_t *cr, PalPlot *self, const char *text, double x, double y,
           double align_x, double align_y, gboolean bold, double scale)
{
  g_autoptr (PangoLayout) layout = make_layout (self, text, bold, scale);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align_x * w, y - align_y * h);
  pango_cairo_show_layout (cr, layout);
}

static int
text_width (PalPlot *self, const char *text, double scale)
{
  g_autoptr (PangoLayout) layout = make_layout (self, text, FALSE, scale);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static void
data_range (PalPlot *self, double *x_max, double *y_lo, double *y_hi, guint *n_points)
{
  *x_max = -INFINITY;
  *y_lo = INFINITY;
  *y_hi = -INFINITY;
  *n_points = 0;
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *ser = g_ptr_array_index (self->series, s);

      for (guint i = 0; i < ser->y->len; i++)
        {
          double x = g_array_index (ser->x, double, i), y = g_array_index (ser->y, double, i);

          if (!isfinite (x) || !isfinite (y))
            continue;
          *x_max = MAX (*x_max, x);
          *y_lo = MIN (*y_lo, y);
          *y_hi = MAX (*y_hi, y);
          (*n_points)++;
        }
    }
}

static void
pal_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalPlot *self = PAL_PLOT (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GdkRGBA fg;
  double x_max, y_lo, y_hi, x_step, y_step, x_hi, left, right, top, bottom;
  double legend_x, legend_y;
  int legend_w, title_w;
  guint n_points;
  int label_w = 0;
  cairo_t *cr;

  if (width < 40 || height < 40)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  /* title, left; legend, right, or on a second line when both do not fit */
  gdk_cairo_set_source_rgba (cr, &fg);
  if (self->title)
    show_text (cr, self, self->title, 0, 0, 0, 0, TRUE, 1.0);
  legend_w = 0;
  for (guint s = 0; s < self->series->len; s++)
    legend_w += text_width (self, ((Series *) g_ptr_array_index (self->series, s))->name, 0.85)
                + 6 + 18 + 14;
  title_w = self->title ? text_width (self, self->title, 1.0) + 16 : 0;
  legend_y = title_w + legend_w > width ? 30 : 9;
  legend_x = width - 4;
  for (int s = (int) self->series->len - 1; s >= 0; s--)
    {
      Series *ser = g_ptr_array_index (self->series, s);
      int w = text_width (self, ser->name, 0.85);

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.8);
      show_text (cr, self, ser->name, legend_x, legend_y, 1.0, 0.5, FALSE, 0.85);
      legend_x -= w + 6;
      gdk_cairo_set_source_rgba (cr, &ser->colour);
      cairo_set_line_width (cr, 3);
      if (ser->dashed)
        cairo_set_dash (cr, (double[]) { 4, 3 }, 2, 0);
      cairo_move_to (cr, legend_x - 18, legend_y + 0.5);
      cairo_line_to (cr, legend_x, legend_y + 0.5);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      legend_x -= 18 + 14;
    }

  data_range (self, &x_max, &y_lo, &y_hi, &n_points);
  if (isfinite (self->y_min))
    y_lo = n_points ? MIN (y_lo, self->y_min) : self->y_min;
  if (isfinite (self->y_max))
    y_hi = n_points ? MAX (y_hi, self->y_max) : self->y_max;
  if (!isfinite (y_lo) || !isfinite (y_hi))
    {
      y_lo = 0;
      y_hi = 1;
    }
  if (y_hi - y_lo < 1e-9)
    {
      double pad = MAX (fabs (y_hi) * 0.1, 0.05);

      y_lo -= pad;
      y_hi += pad;
    }
  if (!(x_max > 0))
    x_max = 1;

  /* the y ticks decide the left margin */
  top = legend_y + 19;
  bottom = height - 34;
  y_step = nice_step (y_lo, y_hi, MAX (2, (int) ((bottom - top) / 40)));
  y_lo = floor (y_lo / y_step + 1e-9) * y_step;
  y_hi = ceil (y_hi / y_step - 1e-9) * y_step;
  for (double v = y_lo; v <= y_hi + y_step * 0.5; v += y_step)
    {
      g_autofree char *t = tick_text (v, y_step, self->percent);

      label_w = MAX (label_w, text_width (self, t, 0.8));
    }
  left = label_w + 10;
  right = width - 8;
  x_step = nice_step (0, x_max, MAX (2, (int) ((right - left) / 70)));
  x_step = MAX (x_step, 1.0);
  x_hi = ceil (x_max / x_step - 1e-9) * x_step;
  {
    /* room for half the last x tick's text */
    g_autofree char *t = tick_text (x_hi, x_step, FALSE);

    right = width - MAX (8, text_width (self, t, 0.8) / 2 + 2);
  }

#define PX(v) (left + (v) / x_hi * (right - left))
#define PY(v) (bottom - ((v) - y_lo) / (y_hi - y_lo) * (bottom - top))

  /* grid and ticks */
  cairo_set_line_width (cr, 1);
  for (double v = y_lo; v <= y_hi + y_step * 0.5; v += y_step)
    {
      g_autofree char *t = tick_text (v, y_step, self->percent);
      double y = round (PY (v)) + 0.5;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.1);
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, right, y);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      show_text (cr, self, t, left - 6, y, 1.0, 0.5, FALSE, 0.8);
    }
  for (double v = 0; v <= x_hi + x_step * 0.5; v += x_step)
    {
      g_autofree char *t = tick_text (v, x_step, FALSE);
      double x = round (PX (v)) + 0.5;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.1);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, bottom);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      show_text (cr, self, t, x, bottom + 4, 0.5, 0.0, FALSE, 0.8);
    }
  if (self->x_label)
    show_text (cr, self, self->x_label, (left + right) / 2, height, 0.5, 1.0, FALSE, 0.8);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.45);
  cairo_move_to (cr, left + 0.5, top);
  cairo_line_to (cr, left + 0.5, bottom + 0.5);
  cairo_line_to (cr, right, bottom + 0.5);
  cairo_stroke (cr);

  /* the curves */
  cairo_save (cr);
  cairo_rectangle (cr, left - 4, top - 4, right - left + 8, bottom - top + 8);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *ser = g_ptr_array_index (self->series, s);
      gboolean pen_down = FALSE;

      gdk_cairo_set_source_rgba (cr, &ser->colour);
      cairo_set_line_width (cr, 2);
      if (ser->dashed)
        cairo_set_dash (cr, (double[]) { 5, 4 }, 2, 0);
      for (guint i = 0; i < ser->y->len; i++)
        {
          double x = g_array_index (ser->x, double, i), y = g_array_index (ser->y, double, i);

          if (!isfinite (x) || !isfinite (y))
            {
              pen_down = FALSE;
              continue;
            }
          if (pen_down)
            cairo_line_to (cr, PX (x), PY (y));
          else
            cairo_move_to (cr, PX (x), PY (y));
          pen_down = TRUE;
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      if (ser->y->len < FEW_POINTS)
        for (guint i = 0; i < ser->y->len; i++)
          {
            double x = g_array_index (ser->x, double, i), y = g_array_index (ser->y, double, i);

            if (!isfinite (x) || !isfinite (y))
              continue;
            cairo_new_sub_path (cr);
            cairo_arc (cr, PX (x), PY (y), 3, 0, 2 * G_PI);
          }
      cairo_fill (cr);
    }
  cairo_restore (cr);

#undef PX
#undef PY

  if (n_points == 0 && self->placeholder)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.55);
      show_text (cr, self, self->placeholder, (left + right) / 2, (top + bottom) / 2,
                 0.5, 0.5, FALSE, 1.0);
    }
  cairo_destroy (cr);
}

static void
pal_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                  int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 220;
      *natural = 420;
    }
  else
    {
      *minimum = 150;
      *natural = 240;
    }
}

/* --- API ------------------------------------------------------------------ */

GtkWidget *
pal_plot_new (void)
{
  return g_object_new (PAL_TYPE_PLOT, NULL);
}

void
pal_plot_set_title (PalPlot *self, const char *title)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
pal_plot_get_title (PalPlot *self)
{
  g_return_val_if_fail (PAL_IS_PLOT (self), NULL);
  return self->title;
}

void
pal_plot_set_x_label (PalPlot *self, const char *label)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  if (g_strcmp0 (self->x_label, label) == 0)
    return;
  g_free (self->x_label);
  self->x_label = g_strdup (label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_LABEL]);
}

const char *
pal_plot_get_x_label (PalPlot *self)
{
  g_return_val_if_fail (PAL_IS_PLOT (self), NULL);
  return self->x_label;
}

void
pal_plot_set_percent (PalPlot *self, gboolean percent)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  percent = !!percent;
  if (self->percent == percent)
    return;
  self->percent = percent;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PERCENT]);
}

void
pal_plot_set_y_range (PalPlot *self, double min, double max)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  self->y_min = min;
  self->y_max = max;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pal_plot_set_placeholder (PalPlot *self, const char *text)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
pal_plot_add_series (PalPlot *self, const char *name, const char *colour, gboolean dashed)
{
  Series *s;

  g_return_val_if_fail (PAL_IS_PLOT (self), 0);

  s = g_new0 (Series, 1);
  s->name = g_strdup (name);
  if (!colour || !gdk_rgba_parse (&s->colour, colour))
    gdk_rgba_parse (&s->colour, palette[self->series->len % G_N_ELEMENTS (palette)]);
  s->dashed = dashed;
  s->x = g_array_new (FALSE, FALSE, sizeof (double));
  s->y = g_array_new (FALSE, FALSE, sizeof (double));
  g_ptr_array_add (self->series, s);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->series->len - 1;
}

void
pal_plot_set_data (PalPlot *self, guint series, const double *x, const double *y, guint n)
{
  Series *s;

  g_return_if_fail (PAL_IS_PLOT (self));
  g_return_if_fail (series < self->series->len);
  g_return_if_fail (n == 0 || (x && y));

  s = g_ptr_array_index (self->series, series);
  g_array_set_size (s->x, 0);
  g_array_set_size (s->y, 0);
  if (n)
    {
      g_array_append_vals (s->x, x, n);
      g_array_append_vals (s->y, y, n);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pal_plot_append (PalPlot *self, guint series, double x, double y)
{
  Series *s;

  g_return_if_fail (PAL_IS_PLOT (self));
  g_return_if_fail (series < self->series->len);

  s = g_ptr_array_index (self->series, series);
  g_array_append_val (s->x, x);
  g_array_append_val (s->y, y);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pal_plot_clear (PalPlot *self)
{
  g_return_if_fail (PAL_IS_PLOT (self));

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);

      g_array_set_size (s->x, 0);
      g_array_set_size (s->y, 0);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
pal_plot_get_n_points (PalPlot *self, guint series)
{
  g_return_val_if_fail (PAL_IS_PLOT (self), 0);
  g_return_val_if_fail (series < self->series->len, 0);

  return ((Series *) g_ptr_array_index (self->series, series))->y->len;
}

/* --- GObject --------------------------------------------------------------- */

static void
pal_plot_finalize (GObject *object)
{
  PalPlot *self = PAL_PLOT (object);

  g_free (self->title);
  g_free (self->x_label);
  g_free (self->placeholder);
  g_ptr_array_unref (self->series);

  G_OBJECT_CLASS (pal_plot_parent_class)->finalize (object);
}

static void
pal_plot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalPlot *self = PAL_PLOT (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_X_LABEL:
      g_value_set_string (value, self->x_label);
      break;
    case PROP_PERCENT:
      g_value_set_boolean (value, self->percent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_plot_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PalPlot *self = PAL_PLOT (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      pal_plot_set_title (self, g_value_get_string (value));
      break;
    case PROP_X_LABEL:
      pal_plot_set_x_label (self, g_value_get_string (value));
      break;
    case PROP_PERCENT:
      pal_plot_set_percent (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_plot_class_init (PalPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pal_plot_finalize;
  object_class->get_property = pal_plot_get_property;
  object_class->set_property = pal_plot_set_property;
  widget_class->snapshot = pal_plot_snapshot;
  widget_class->measure = pal_plot_measure;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_X_LABEL] =
    g_param_spec_string ("x-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PERCENT] =
    g_param_spec_boolean ("percent", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "palplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pal_plot_init (PalPlot *self)
{
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->y_min = NAN;
  self->y_max = NAN;
}
