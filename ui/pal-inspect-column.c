/* pal-inspect-column.c: one model's column of the Inspect page
 *
 * The model's name and what the maps are (layer, split, target), its class
 * probabilities and Grad-CAM, and the grid of the six attribution maps:
 * rows Grad and Grad*Input, columns the constrained half (the first C1
 * channels, the ones PAL trains), the free half and all channels.  An
 * empty slot shows a placeholder that opens a model; a slot whose maps
 * could not be computed shows why.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "pal-exec.h"
#include "pal-inspect-column.h"
#include "pal-map-tile.h"
#include "pal-prediction-bars.h"

struct _PalInspectColumn
{
  GtkWidget          parent_instance;

  GtkStack          *stack;
  AdwStatusPage     *empty_page;
  AdwStatusPage     *error_page;
  GtkSpinner        *computing_spinner;
  GtkWidget         *open_button;
  GtkWidget         *error_open_button;
  GtkWidget         *faceapi_button;
  GtkMenuButton     *change_button;
  GtkWidget         *close_button;
  GtkLabel          *name_label;
  GtkLabel          *info_label;
  PalPredictionBars *bars;
  GtkWidget         *flat_box;
  GtkLabel          *flat_label;
  PalMapTile        *tiles[PAL_N_MAPS];

  int                slot;
  int                selected;      /* the kind shown over the big face, -1: none */
  gboolean           exporting;
  gconstpointer      shown_model;   /* only compared, never dereferenced */
};

enum {
  PROP_0,
  PROP_SLOT,
  N_PROPS
};

enum {
  MAP_ACTIVATED,
  CLOSE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PalInspectColumn, pal_inspect_column, GTK_TYPE_WIDGET)

static void
on_tile_activate (PalMapTile *tile, PalInspectColumn *self)
{
  for (int k = 0; k < PAL_N_MAPS; k++)
    if (self->tiles[k] == tile)
      g_signal_emit (self, signals[MAP_ACTIVATED], 0, k);
}

static void
on_close_clicked (PalInspectColumn *self)
{
  g_signal_emit (self, signals[CLOSE], 0);
}

/* A short name for files: "grad-constrained", ... */
static const char *
kind_slug (PalMapKind kind)
{
  static const char *slugs[PAL_N_MAPS] = {
    "grad-constrained", "grad-free", "grad-all",
    "grad-input-constrained", "grad-input-free", "grad-input-all", "grad-cam",
  };

  return slugs[kind];
}

static char *
format_caption (const PalInspectorResult *result, int k, gboolean *warning)
{
  *warning = FALSE;
  if (result->flat && k <= PAL_MAP_GRAD_ALL)
    {
      *warning = TRUE;
      return g_strdup (_("Flat: the same at every pixel"));
    }
  if (isnan (result->r[k]))
    return NULL;
  if (isnan (result->inside[k]))
    /* translators: r is the map's Pearson correlation with the prior */
    return g_strdup_printf (_("r = %+.2f"), result->r[k]);
  /* translators: r is the map's Pearson correlation with the prior; inside
   * is the share of the map's mass inside the landmark regions */
  return g_strdup_printf (_("r = %+.2f · inside %.0f %%"), result->r[k], 100.0 * result->inside[k]);
}

static void
show_result (PalInspectColumn *self, PalInspector *inspector, PalModel *model,
             const PalInspectorResult *result, const float *lo, const float *hi, gboolean shared)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  g_autofree char *target = NULL, *info = NULL, *split = NULL;
  const char *path = pal_inspector_get_model_path (inspector, self->slot);
  const char *cam_name;

  gtk_label_set_text (self->name_label, result->model_name ? result->model_name : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), path);

  if (result->target == PAL_TARGET_SUM)
    target = g_strdup (_("s = sum of logits"));
  else
    /* translators: the attribution target, one class's logit */
    target = g_strdup_printf (_("s = logit of “%s”"),
                              pal_model_get_class_name (model, result->target));
  /* translators: C1 of C channels (the first ones) are the constrained half */
  split = g_strdup_printf (_("C1 = %d of %d channels"), result->c1, result->channels);
  /* translators: layer · map size · channel split */
  info = g_strdup_printf (_("%s · %d × %d · %s"), result->node_name, result->map_w, result->map_h,
                          split);
  {
    /* translators: the attribution target, then the time the maps took */
    g_autofree char *tip = g_strdup_printf (_("The first %d channels are the constrained half, "
                                              "the others the free half.\n%s · computed in %.0f ms"),
                                            result->c1, target, result->compute_ms);

    gtk_widget_set_tooltip_text (GTK_WIDGET (self->info_label), tip);
  }
  gtk_label_set_text (self->info_label, info);

  for (int k = 0; k < result->n_classes; k++)
    g_ptr_array_add (labels, (gpointer) pal_model_get_class_name (model, k));
  pal_prediction_bars_set (self->bars, (const char *const *) labels->pdata, result->probs,
                           result->n_classes, result->predicted);

  for (int k = 0; k < PAL_N_MAPS; k++)
    {
      gboolean warning;
      g_autofree char *caption = format_caption (result, k, &warning);
      g_autofree char *file = g_strdup_printf ("%s-%s.png", result->model_name, kind_slug (k));

      pal_map_tile_set_map (self->tiles[k], result->maps[k], result->map_w, result->map_h,
                            lo[k], hi[k], shared && k != PAL_MAP_GRADCAM);
      pal_map_tile_set_caption (self->tiles[k], caption, warning);
      pal_map_tile_set_export_name (self->tiles[k], file);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->tiles[k]), pal_map_kind_title (k));
    }
  cam_name = result->cam_class >= 0 && result->cam_class < result->n_classes
             ? pal_model_get_class_name (model, result->cam_class) : "?";
  {
    /* translators: Grad-CAM of one class */
    g_autofree char *title = g_strdup_printf (_("Grad-CAM · %s"), cam_name);

    pal_map_tile_set_title (self->tiles[PAL_MAP_GRADCAM], title);
  }
  {
    g_autofree char *first = g_strdup_printf (_("Constrained half: the first %d of %d channels, "
                                                "the ones PAL trains to follow the prior"),
                                              result->c1, result->channels);

    gtk_widget_set_tooltip_text (GTK_WIDGET (self->tiles[PAL_MAP_GRAD_FIRST]), first);
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->tiles[PAL_MAP_GI_FIRST]), first);
  }

  gtk_widget_set_visible (self->flat_box, result->flat);
  if (result->flat)
    {
      g_autofree char *text =
        g_strdup_printf (_("The Grad maps are flat at %s by construction: the layer is followed "
                           "only by global average pooling and a linear layer, so ∂s/∂F is the "
                           "same at every pixel, and PAL with Grad does nothing here. "
                           "Look at Grad × Input, or choose an earlier layer."),
                         result->node_name);

      gtk_label_set_text (self->flat_label, text);
    }
  gtk_stack_set_visible_child_name (self->stack, "maps");
}

void
pal_inspect_column_update (PalInspectColumn *self, PalInspector *inspector,
                           const float *lo, const float *hi, gboolean shared)
{
  PalModel *model;
  const PalInspectorResult *result;

  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));
  g_return_if_fail (PAL_IS_INSPECTOR (inspector));

  model = pal_inspector_get_model (inspector, self->slot);
  result = pal_inspector_get_result (inspector, self->slot);
  gtk_spinner_set_spinning (self->computing_spinner, FALSE);
  if (!model)
    {
      self->shown_model = NULL;
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  if (!result)
    {
      /* a new model: wait for its maps; the same one: keep the last maps */
      if (self->shown_model != model)
        {
          gtk_spinner_set_spinning (self->computing_spinner, TRUE);
          gtk_stack_set_visible_child_name (self->stack, "computing");
        }
      return;
    }
  self->shown_model = model;
  if (result->error)
    {
      adw_status_page_set_description (self->error_page, result->error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  show_result (self, inspector, model, result, lo, hi, shared);
}

void
pal_inspect_column_set_face (PalInspectColumn *self, GdkTexture *face)
{
  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));

  for (int k = 0; k < PAL_N_MAPS; k++)
    pal_map_tile_set_face (self->tiles[k], face);
}

void
pal_inspect_column_set_style (PalInspectColumn *self, PalColormap cm, double opacity)
{
  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));

  for (int k = 0; k < PAL_N_MAPS; k++)
    {
      pal_map_tile_set_colormap (self->tiles[k], cm);
      pal_map_tile_set_opacity (self->tiles[k], opacity);
    }
}

void
pal_inspect_column_set_selected (PalInspectColumn *self, int kind)
{
  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));

  self->selected = kind;
  for (int k = 0; k < PAL_N_MAPS; k++)
    pal_map_tile_set_selected (self->tiles[k], !self->exporting && k == kind);
}

void
pal_inspect_column_set_exporting (PalInspectColumn *self, gboolean exporting)
{
  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));

  /* opacity, not visibility: the picture is taken before a new layout */
  self->exporting = !!exporting;
  gtk_widget_set_opacity (GTK_WIDGET (self->change_button), exporting ? 0.0 : 1.0);
  gtk_widget_set_opacity (self->close_button, exporting ? 0.0 : 1.0);
  for (int k = 0; k < PAL_N_MAPS; k++)
    pal_map_tile_set_selected (self->tiles[k], !exporting && k == self->selected);
}

void
pal_inspect_column_set_slot (PalInspectColumn *self, int slot)
{
  GVariant *target;
  g_autofree char *title = NULL;
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenuItem) open = NULL, faceapi = NULL;

  g_return_if_fail (PAL_IS_INSPECT_COLUMN (self));
  g_return_if_fail (slot >= 0 && slot < PAL_INSPECTOR_N_SLOTS);

  self->slot = slot;
  target = g_variant_ref_sink (g_variant_new_int32 (slot));
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->open_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->error_open_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->faceapi_button), target);
  /* the header's menu: another model from a file, or face-api's */
  open = g_menu_item_new (_("_Open Model…"), NULL);
  g_menu_item_set_action_and_target_value (open, "win.open-model", target);
  g_menu_append_item (menu, open);
  faceapi = g_menu_item_new (_("Use face-api’s _Expression Network"), NULL);
  g_menu_item_set_action_and_target_value (faceapi, "inspect.use-faceapi", target);
  g_menu_append_item (menu, faceapi);
  gtk_menu_button_set_menu_model (self->change_button, G_MENU_MODEL (menu));
  g_variant_unref (target);
  /* translators: the two model slots are A and B */
  title = g_strdup_printf (_("No Model %s"), slot == 0 ? _("A") : _("B"));
  adw_status_page_set_title (self->empty_page, title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLOT]);
}

int
pal_inspect_column_get_slot (PalInspectColumn *self)
{
  g_return_val_if_fail (PAL_IS_INSPECT_COLUMN (self), 0);

  return self->slot;
}

static void
pal_inspect_column_dispose (GObject *object)
{
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (object), PAL_TYPE_INSPECT_COLUMN);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pal_inspect_column_parent_class)->dispose (object);
}

static void
pal_inspect_column_get_property (GObject *object, guint prop_id, GValue *value,
                                 GParamSpec *pspec)
{
  PalInspectColumn *self = PAL_INSPECT_COLUMN (object);

  switch (prop_id)
    {
    case PROP_SLOT:
      g_value_set_int (value, self->slot);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_inspect_column_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  PalInspectColumn *self = PAL_INSPECT_COLUMN (object);

  switch (prop_id)
    {
    case PROP_SLOT:
      pal_inspect_column_set_slot (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_inspect_column_class_init (PalInspectColumnClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_inspect_column_dispose;
  object_class->get_property = pal_inspect_column_get_property;
  object_class->set_property = pal_inspect_column_set_property;

  properties[PROP_SLOT] =
    g_param_spec_int ("slot", NULL, NULL, 0, PAL_INSPECTOR_N_SLOTS - 1, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[MAP_ACTIVATED] =
    g_signal_new ("map-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[CLOSE] =
    g_signal_new ("close", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  g_type_ensure (PAL_TYPE_MAP_TILE);
  g_type_ensure (PAL_TYPE_PREDICTION_BARS);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/palstudio/PalStudio/ui/pal-inspect-column.ui");
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, stack);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, error_page);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, computing_spinner);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, open_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, error_open_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, faceapi_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, change_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, close_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, name_label);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, info_label);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, bars);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, flat_box);
  gtk_widget_class_bind_template_child (widget_class, PalInspectColumn, flat_label);
  gtk_widget_class_bind_template_child_full (widget_class, "tile_grad_first", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GRAD_FIRST]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_grad_rest", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GRAD_REST]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_grad_all", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GRAD_ALL]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_gi_first", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GI_FIRST]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_gi_rest", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GI_REST]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_gi_all", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GI_ALL]));
  gtk_widget_class_bind_template_child_full (widget_class, "tile_cam", FALSE,
                                             G_STRUCT_OFFSET (PalInspectColumn,
                                                              tiles[PAL_MAP_GRADCAM]));
  gtk_widget_class_bind_template_callback (widget_class, on_tile_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_close_clicked);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspectcolumn");
}

static void
pal_inspect_column_init (PalInspectColumn *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->selected = -1;
  pal_map_tile_set_title (self->tiles[PAL_MAP_GRADCAM], _("Grad-CAM"));
  pal_inspect_column_set_slot (self, 0);
}
