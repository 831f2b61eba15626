/* pal-confusion-view.c: a row-normalised confusion matrix
 *
 * One row per true class, one column per predicted class; a cell shows the
 * share of the row's samples predicted as its column, in the accent colour
 * with that share as its strength.  A last column gives each class's
 * accuracy (its recall) as a bar, a percentage and "right / samples".
 * A class without samples shows dashes.  Drawn in snapshot with Cairo.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pal-confusion-view.h"

#define CELL_W   50
#define CELL_H   32
#define HEADER_H 44
#define ACC_W    124
#define GAP      10

struct _PalConfusionView
{
  GtkWidget     parent_instance;

  PalConfusion *confusion;
  char        **names;
};

G_DEFINE_FINAL_TYPE (PalConfusionView, pal_confusion_view, GTK_TYPE_WIDGET)

static const char *
class_name (PalConfusionView *self, int k, char buf[16])
{
  if (self->names && self->names[k])
    return self->names[k];
  g_snprintf (buf, 16, "%d", k);
  return buf;
}

static PangoLayout *
make_layout (PalConfusionView *self, const char *text, double scale, gboolean bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static void
show_text (cairo_t *cr, PalConfusionView *self, const char *text, double x, double y,
           double ax, double ay, double scale, gboolean bold)
{
  g_autoptr (PangoLayout) layout = make_layout (self, text, scale, bold);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - ax * w, y - ay * h);
  pango_cairo_show_layout (cr, layout);
}

static int
names_width (PalConfusionView *self)
{
  int n = self->confusion ? self->confusion->n_classes : 7, wmax = 0;
  char buf[16];

  for (int k = 0; k < n; k++)
    {
      g_autoptr (PangoLayout) layout = make_layout (self, class_name (self, k, buf), 0.9, FALSE);
      int w, h;

      pango_layout_get_pixel_size (layout, &w, &h);
      wmax = MAX (wmax, w);
    }
  return MAX (wmax, 60) + GAP;
}

static void
pal_confusion_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  PalConfusionView *self = PAL_CONFUSION_VIEW (widget);
  int n = self->confusion ? self->confusion->n_classes : 7;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = names_width (self) + n * CELL_W + GAP + ACC_W;
  else
    *minimum = *natural = HEADER_H + n * CELL_H + 4;
}

static void
pal_confusion_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalConfusionView *self = PAL_CONFUSION_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  const PalConfusion *c = self->confusion;
  GdkRGBA fg, accent;
  double x0, acc_x;
  char buf[16];
  cairo_t *cr;
  int n;

  if (!c || width <= 0 || height <= 0)
    return;
  n = c->n_classes;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  gdk_rgba_parse (&accent, "#3584e4");
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  x0 = names_width (self);
  acc_x = x0 + n * CELL_W + GAP;

  /* headers */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.6);
  show_text (cr, self, C_("confusion matrix", "Predicted →"), x0 + n * CELL_W / 2.0, 0,
             0.5, 0, 0.8, FALSE);
  show_text (cr, self, C_("confusion matrix", "True ↓"), x0 - GAP, HEADER_H - 2, 1, 1,
             0.8, FALSE);
  show_text (cr, self, _("Accuracy"), acc_x, HEADER_H - 2, 0, 1, 0.8, TRUE);
  for (int j = 0; j < n; j++)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.85);
      show_text (cr, self, class_name (self, j, buf), x0 + (j + 0.5) * CELL_W, HEADER_H - 2,
                 0.5, 1, 0.75, FALSE);
    }

  for (int i = 0; i < n; i++)
    {
      gint64 row = pal_confusion_class_total (c, i);
      double y = HEADER_H + i * CELL_H;
      double acc = pal_confusion_class_accuracy (c, i);
      g_autofree char *acc_text = NULL;
      g_autofree char *count_text = NULL;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha);
      show_text (cr, self, class_name (self, i, buf), x0 - GAP, y + CELL_H / 2.0, 1, 0.5,
                 0.9, FALSE);
      for (int j = 0; j < n; j++)
        {
          double share = row > 0 ? (double) c->counts[i * n + j] / row : 0.0;
          double x = x0 + j * CELL_W;
          g_autofree char *t = row > 0 ? g_strdup_printf ("%.0f", 100 * share) : g_strdup ("–");

          cairo_rectangle (cr, x + 1, y + 1, CELL_W - 2, CELL_H - 2);
          if (row > 0 && share > 0)
            cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.08 + 0.92 * share);
          else
            cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.04);
          cairo_fill (cr);
          if (i == j)
            {
              cairo_set_line_width (cr, 1.5);
              cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.5);
              cairo_rectangle (cr, x + 1.75, y + 1.75, CELL_W - 3.5, CELL_H - 3.5);
              cairo_stroke (cr);
            }
          if (share > 0.5)
            cairo_set_source_rgb (cr, 1, 1, 1);
          else
            cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue,
                                   fg.alpha * (share > 0 ? 0.9 : 0.4));
          show_text (cr, self, t, x + CELL_W / 2.0, y + CELL_H / 2.0, 0.5, 0.5, 0.85, i == j);
        }

      /* accuracy: a bar, the percentage and the counts */
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.08);
      cairo_rectangle (cr, acc_x, y + CELL_H - 9, 48, 5);
      cairo_fill (cr);
      if (row > 0)
        {
          cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 1);
          cairo_rectangle (cr, acc_x, y + CELL_H - 9, 48 * acc, 5);
          cairo_fill (cr);
          acc_text = g_strdup_printf ("%.0f %%", 100 * acc);
          count_text = g_strdup_printf ("%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT,
                                        c->counts[i * n + i], row);
        }
      else
        {
          acc_text = g_strdup ("–");
          count_text = g_strdup (_("no samples"));
        }
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha);
      show_text (cr, self, acc_text, acc_x, y + 4, 0, 0, 0.85, TRUE);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.6);
      show_text (cr, self, count_text, acc_x + 56, y + CELL_H / 2.0, 0, 0.5, 0.75, FALSE);
    }
  cairo_destroy (cr);
}

GtkWidget *
pal_confusion_view_new (void)
{
  return g_object_new (PAL_TYPE_CONFUSION_VIEW, NULL);
}

void
pal_confusion_view_set_confusion (PalConfusionView *self, const PalConfusion *confusion,
                                  const char *const *names)
{
  g_return_if_fail (PAL_IS_CONFUSION_VIEW (self));

  g_clear_pointer (&self->confusion, pal_confusion_free);
  g_clear_pointer (&self->names, g_strfreev);
  if (confusion)
    {
      int n = confusion->n_classes;

      self->confusion = pal_confusion_new (n);
      memcpy (self->confusion->counts, confusion->counts, sizeof (gint64) * n * n);
      if (names)
        {
          self->names = g_new0 (char *, n + 1);
          for (int k = 0; k < n; k++)
            self->names[k] = g_strdup (names[k]);
        }
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
pal_confusion_view_finalize (GObject *object)
{
  PalConfusionView *self = PAL_CONFUSION_VIEW (object);

  g_clear_pointer (&self->confusion, pal_confusion_free);
  g_clear_pointer (&self->names, g_strfreev);

  G_OBJECT_CLASS (pal_confusion_view_parent_class)->finalize (object);
}

static void
pal_confusion_view_class_init (PalConfusionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pal_confusion_view_finalize;
  widget_class->snapshot = pal_confusion_view_snapshot;
  widget_class->measure = pal_confusion_view_measure;
  gtk_widget_class_set_css_name (widget_class, "palconfusionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pal_confusion_view_init (PalConfusionView *self)
{
}
