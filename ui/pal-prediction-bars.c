/* pal-prediction-bars.c: a model's class probabilities as horizontal bars
 *
 * Each row: the class name, a bar on a faint track, the probability in
 * per cent.  The predicted class is bold and drawn in the accent colour.
 * Everything is drawn in snapshot with Pango layouts.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "pal-prediction-bars.h"

#define ROW_SPACING   3
#define COLUMN_GAP    8
#define BAR_HEIGHT    8
#define MIN_BAR_WIDTH 40

struct _PalPredictionBars
{
  GtkWidget   parent_instance;

  char      **labels;       /* [n] */
  float      *probs;        /* [n] */
  int         n;
  int         predicted;
};

G_DEFINE_FINAL_TYPE (PalPredictionBars, pal_prediction_bars, GTK_TYPE_WIDGET)

static PangoLayout *
make_layout (GtkWidget *widget, const char *text, gboolean bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);

  if (bold)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
    }
  return layout;
}

static char *
format_percent (float p)
{
  /* translators: a class probability, e.g. "87 %" */
  return g_strdup_printf (_("%.0f %%"), 100.0 * CLAMP (p, 0.0f, 1.0f));
}

/* Widths of the label column and the value column, and the row height. */
static void
measure_columns (PalPredictionBars *self, int *label_w, int *value_w, int *row_h)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int lw = 0, h = 0, vw, vh;
  g_autoptr (PangoLayout) value = make_layout (widget, "100 %", TRUE);

  for (int i = 0; i < self->n; i++)
    {
      g_autoptr (PangoLayout) layout = make_layout (widget, self->labels[i], TRUE);
      int w, lh;

      pango_layout_get_pixel_size (layout, &w, &lh);
      lw = MAX (lw, w);
      h = MAX (h, lh);
    }
  pango_layout_get_pixel_size (value, &vw, &vh);
  *label_w = MIN (lw, 120);
  *value_w = vw;
  *row_h = MAX (MAX (h, vh), BAR_HEIGHT);
}

static void
pal_prediction_bars_measure (GtkWidget      *widget,
                             GtkOrientation  orientation,
                             int             for_size,
                             int            *minimum,
                             int            *natural,
                             int            *minimum_baseline,
                             int            *natural_baseline)
{
  PalPredictionBars *self = PAL_PREDICTION_BARS (widget);
  int label_w, value_w, row_h;

  measure_columns (self, &label_w, &value_w, &row_h);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = label_w + value_w + 2 * COLUMN_GAP + MIN_BAR_WIDTH;
      *natural = *minimum + 100;
    }
  else
    *minimum = *natural = self->n > 0 ? self->n * row_h + (self->n - 1) * ROW_SPACING : 0;
}

static void
get_colours (GtkWidget *widget, GdkRGBA *fg, GdkRGBA *accent)
{
  GtkStyleContext *style = gtk_widget_get_style_context (widget);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (style, fg);
  if (!gtk_style_context_lookup_color (style, "accent_color", accent))
    *accent = (GdkRGBA) { 0.21f, 0.52f, 0.89f, 1.0f };
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
append_rounded (GtkSnapshot *snapshot, const graphene_rect_t *rect, const GdkRGBA *colour)
{
  GskRoundedRect rounded;
  float r = MIN (rect->size.height, rect->size.width) / 2.0f;

  gsk_rounded_rect_init_from_rect (&rounded, rect, r);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, colour, rect);
  gtk_snapshot_pop (snapshot);
}

static void
pal_prediction_bars_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalPredictionBars *self = PAL_PREDICTION_BARS (widget);
  int width = gtk_widget_get_width (widget);
  int label_w, value_w, row_h, bar_x, bar_w;
  GdkRGBA fg, accent, track, bar;
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;

  if (self->n == 0)
    return;
  measure_columns (self, &label_w, &value_w, &row_h);
  get_colours (widget, &fg, &accent);
  track = fg;
  track.alpha *= 0.1f;
  bar = fg;
  bar.alpha *= 0.45f;
  bar_x = label_w + COLUMN_GAP;
  bar_w = MAX (width - label_w - value_w - 2 * COLUMN_GAP, 1);

  for (int i = 0; i < self->n; i++)
    {
      gboolean hi = i == self->predicted;
      g_autoptr (PangoLayout) label = make_layout (widget, self->labels[i], hi);
      g_autofree char *percent = format_percent (self->probs[i]);
      g_autoptr (PangoLayout) value = make_layout (widget, percent, hi);
      float y = (float) (i * (row_h + ROW_SPACING));
      float by = y + (row_h - BAR_HEIGHT) / 2.0f;
      float fill = bar_w * CLAMP (self->probs[i], 0.0f, 1.0f);
      int lw, lh, vw, vh;
      float lx, bx, vx;

      pango_layout_set_width (label, label_w * PANGO_SCALE);
      pango_layout_set_ellipsize (label, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (label, &lw, &lh);
      pango_layout_get_pixel_size (value, &vw, &vh);
      if (!rtl)
        {
          lx = 0;
          bx = bar_x;
          vx = width - vw;
        }
      else
        {
          lx = width - lw;
          bx = value_w + COLUMN_GAP;
          vx = 0;
        }

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (lx, y + (row_h - lh) / 2.0f));
      gtk_snapshot_append_layout (snapshot, label, hi ? &accent : &fg);
      gtk_snapshot_restore (snapshot);

      append_rounded (snapshot, &GRAPHENE_RECT_INIT (bx, by, bar_w, BAR_HEIGHT), &track);
      if (fill >= 1.0f)
        append_rounded (snapshot,
                        &GRAPHENE_RECT_INIT (rtl ? bx + bar_w - fill : bx, by, fill, BAR_HEIGHT),
                        hi ? &accent : &bar);

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (vx, y + (row_h - vh) / 2.0f));
      gtk_snapshot_append_layout (snapshot, value, hi ? &accent : &fg);
      gtk_snapshot_restore (snapshot);
    }
}

static void
pal_prediction_bars_finalize (GObject *object)
{
  PalPredictionBars *self = PAL_PREDICTION_BARS (object);

  g_strfreev (self->labels);
  g_free (self->probs);

  G_OBJECT_CLASS (pal_prediction_bars_parent_class)->finalize (object);
}

static void
pal_prediction_bars_class_init (PalPredictionBarsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pal_prediction_bars_finalize;
  widget_class->measure = pal_prediction_bars_measure;
  widget_class->snapshot = pal_prediction_bars_snapshot;

  gtk_widget_class_set_css_name (widget_class, "predictionbars");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pal_prediction_bars_init (PalPredictionBars *self)
{
  self->predicted = -1;
}

GtkWidget *
pal_prediction_bars_new (void)
{
  return g_object_new (PAL_TYPE_PREDICTION_BARS, NULL);
}

void
pal_prediction_bars_set (PalPredictionBars *self, const char *const *labels, const float *probs,
                         int n, int predicted)
{
  GString *description;

  g_return_if_fail (PAL_IS_PREDICTION_BARS (self));
  g_return_if_fail (n == 0 || (labels != NULL && probs != NULL));

  g_clear_pointer (&self->labels, g_strfreev);
  g_clear_pointer (&self->probs, g_free);
  self->n = MAX (n, 0);
  self->predicted = predicted;
  if (self->n > 0)
    {
      self->labels = g_new0 (char *, self->n + 1);
      for (int i = 0; i < self->n; i++)
        self->labels[i] = g_strdup (labels[i] ? labels[i] : "?");
      self->probs = g_memdup2 (probs, sizeof (float) * self->n);
    }

  /* what a screen reader says */
  description = g_string_new (NULL);
  for (int i = 0; i < self->n; i++)
    {
      g_autofree char *percent = format_percent (self->probs[i]);

      g_string_append_printf (description, "%s%s %s", i ? ", " : "", self->labels[i], percent);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  description->str, -1);
  g_string_free (description, TRUE);

  gtk_widget_queue_resize (GTK_WIDGET (self));
}
