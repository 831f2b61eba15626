/* pal-map-tile.c: one attribution map over a thumbnail of the face
 *
 * From top to bottom: the title, the face with the map laid over it (drawn
 * in snapshot), a thin colour bar of the map's colormap, the caption (the
 * map's correlation with the prior and its mass inside the landmark
 * regions, or a warning; drawn here, split over two lines when narrow) and
 * the colour range.  A click activates the tile
 * (the view then shows its map over the big face); a right click or a long
 * press opens a menu to export or copy the panel.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pal-export.h"
#include "pal-map-tile.h"
#include "pal-texture.h"
#include "pal-window.h"

#define TEXTURE_SIZE  256   /* longer side of the overlay texture */
#define GAP           4
#define BAR_HEIGHT    5
#define MIN_WIDTH     72
#define NAT_WIDTH     150
/* The picture grows with the tile's width up to this, then stays centred:
 * a height that grew without bound with the width would break the
 * height-for-width contract of the containers (GtkGrid asks for huge
 * widths). */
#define MAX_PIC_WIDTH 300

struct _PalMapTile
{
  GtkWidget    parent_instance;

  GtkWidget   *title_label;
  char        *caption;         /* NULL: none */
  gboolean     warning;
  GtkWidget   *range_label;
  GtkWidget   *menu;            /* GtkPopoverMenu, made on first use */

  GdkTexture  *face;
  GdkTexture  *overlay;         /* cache of the map's texture */
  float       *map;             /* [map_h, map_w] */
  int          map_w, map_h;
  float        lo, hi;
  PalColormap  cm;
  double       opacity;
  gboolean     selected;
  char        *export_name;

  graphene_rect_t picture;      /* where the picture is, set in size_allocate */
  int          caption_y;
};

enum {
  PROP_0,
  PROP_TITLE,
  PROP_SELECTED,
  N_PROPS
};

enum {
  ACTIVATE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PalMapTile, pal_map_tile, GTK_TYPE_WIDGET)

/* height / width of the picture */
static double
picture_aspect (PalMapTile *self)
{
  double aspect = 1.0;

  if (self->face)
    aspect = (double) gdk_texture_get_height (self->face) / gdk_texture_get_width (self->face);
  else if (self->map)
    aspect = (double) self->map_h / self->map_w;
  return CLAMP (aspect, 0.4, 2.5);
}

static int
child_height (GtkWidget *child, int width)
{
  int min = 0;

  if (gtk_widget_should_layout (child))
    gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, width, &min, NULL, NULL, NULL);
  return min;
}

/* The caption in small tabular figures, on one line when it fits in
 * @width, else one part a line (split at its " · "). */
static PangoLayout *
caption_layout (PalMapTile *self, int width)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), self->caption);
  PangoAttrList *attrs = pango_attr_list_new ();
  int w;

  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  pango_layout_get_pixel_size (layout, &w, NULL);
  if (w > width && strstr (self->caption, " · "))
    {
      g_auto (GStrv) parts = g_strsplit (self->caption, " · ", -1);
      g_autofree char *lines = g_strjoinv ("\n", parts);

      pango_layout_set_text (layout, lines, -1);
    }
  pango_layout_set_width (layout, MAX (width, 1) * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

static int
height_for_width (PalMapTile *self, int width)
{
  int h = (int) (MIN (width, MAX_PIC_WIDTH) * picture_aspect (self) + 0.5) + GAP + BAR_HEIGHT;

  if (gtk_widget_should_layout (self->title_label))
    h += child_height (self->title_label, width) + GAP;
  if (self->caption)
    {
      g_autoptr (PangoLayout) layout = caption_layout (self, width);
      int ch;

      pango_layout_get_pixel_size (layout, NULL, &ch);
      h += GAP + ch;
    }
  if (gtk_widget_should_layout (self->range_label))
    h += child_height (self->range_label, width);
  return h;
}

static GtkSizeRequestMode
pal_map_tile_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
pal_map_tile_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  PalMapTile *self = PAL_MAP_TILE (widget);

  int width_request;

  /* a width request is also the natural width */
  gtk_widget_get_size_request (widget, &width_request, NULL);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MIN_WIDTH;
      *natural = width_request > 0 ? width_request : NAT_WIDTH;
    }
  else
    /* without a width, the tallest it can be (the picture at its
     * largest), so that no width asks for more */
    *minimum = *natural = height_for_width (self, for_size >= 0 ? for_size : MAX_PIC_WIDTH);
}

static void
pal_map_tile_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  PalMapTile *self = PAL_MAP_TILE (widget);
  int y = 0, h;

  if (gtk_widget_should_layout (self->title_label))
    {
      h = child_height (self->title_label, width);
      gtk_widget_allocate (self->title_label, width, h, -1,
                           gsk_transform_translate (NULL, &GRAPHENE_POINT_INIT (0, y)));
      y += h + GAP;
    }
  {
    int pw = MIN (width, MAX_PIC_WIDTH);

    h = (int) (pw * picture_aspect (self) + 0.5);
    self->picture = GRAPHENE_RECT_INIT ((width - pw) / 2, y, pw, h);
  }
  y += h + GAP + BAR_HEIGHT;
  self->caption_y = y + GAP;
  if (self->caption)
    {
      g_autoptr (PangoLayout) layout = caption_layout (self, width);

      pango_layout_get_pixel_size (layout, NULL, &h);
      y += GAP + h;
    }
  if (gtk_widget_should_layout (self->range_label))
    {
      h = child_height (self->range_label, width);
      gtk_widget_allocate (self->range_label, width, h, -1,
                           gsk_transform_translate (NULL, &GRAPHENE_POINT_INIT (0, y)));
    }
  if (self->menu)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

/* --- drawing ------------------------------------------------------------------ */

static void
lookup_colour (GtkWidget *widget, const char *name, GdkRGBA *colour, GdkRGBA fallback)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, colour))
    *colour = fallback;
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static GdkTexture *
ensure_overlay (PalMapTile *self)
{
  double aspect;
  int w, h;

  if (self->overlay || !self->map)
    return self->overlay;
  aspect = picture_aspect (self);
  w = aspect <= 1.0 ? TEXTURE_SIZE : MAX ((int) (TEXTURE_SIZE / aspect), 1);
  h = aspect <= 1.0 ? MAX ((int) (TEXTURE_SIZE * aspect), 1) : TEXTURE_SIZE;
  if (self->face)
    self->overlay = pal_texture_new_overlay (self->map, self->map_w, self->map_h, w, h,
                                             self->lo, self->hi, self->cm, (float) self->opacity);
  else
    self->overlay = pal_texture_new_from_map (self->map, self->map_w, self->map_h, w, h,
                                              self->lo, self->hi, self->cm);
  return self->overlay;
}

static void
append_colour_bar (PalMapTile *self, GtkSnapshot *snapshot, const graphene_rect_t *rect)
{
  GskColorStop stops[9];

  for (guint i = 0; i < G_N_ELEMENTS (stops); i++)
    {
      float t = (float) i / (G_N_ELEMENTS (stops) - 1);
      guint8 rgb[3];

      pal_colormap_rgb (self->cm, t, rgb);
      stops[i].offset = t;
      stops[i].color = (GdkRGBA) { rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f, 1.0f };
    }
  gtk_snapshot_append_linear_gradient (snapshot, rect,
                                       &GRAPHENE_POINT_INIT (rect->origin.x, 0),
                                       &GRAPHENE_POINT_INIT (rect->origin.x + rect->size.width, 0),
                                       stops, G_N_ELEMENTS (stops));
}

static void
pal_map_tile_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalMapTile *self = PAL_MAP_TILE (widget);
  const graphene_rect_t *pic = &self->picture;
  GskRoundedRect clip;
  GdkTexture *overlay = ensure_overlay (self);
  GdkRGBA fg, accent;

  lookup_colour (widget, "window_fg_color", &fg, (GdkRGBA) { 0, 0, 0, 0.8f });
  lookup_colour (widget, "accent_bg_color", &accent, (GdkRGBA) { 0.21f, 0.52f, 0.89f, 1 });

  gsk_rounded_rect_init_from_rect (&clip, pic, 6);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  if (self->face)
    gtk_snapshot_append_texture (snapshot, self->face, pic);
  else
    {
      GdkRGBA empty = fg;

      empty.alpha = 0.06f;
      gtk_snapshot_append_color (snapshot, &empty, pic);
    }
  if (overlay)
    gtk_snapshot_append_texture (snapshot, overlay, pic);
  gtk_snapshot_pop (snapshot);

  if (self->selected || gtk_widget_has_visible_focus (widget))
    {
      float widths[4] = { 3, 3, 3, 3 };
      GdkRGBA colours[4] = { accent, accent, accent, accent };

      gtk_snapshot_append_border (snapshot, &clip, widths, colours);
    }

  if (self->map)
    {
      graphene_rect_t bar = GRAPHENE_RECT_INIT (pic->origin.x, pic->origin.y + pic->size.height + GAP,
                                                pic->size.width, BAR_HEIGHT);
      GskRoundedRect rounded;

      gsk_rounded_rect_init_from_rect (&rounded, &bar, BAR_HEIGHT / 2.0f);
      gtk_snapshot_push_rounded_clip (snapshot, &rounded);
      append_colour_bar (self, snapshot, &bar);
      gtk_snapshot_pop (snapshot);
    }

  if (self->caption)
    {
      g_autoptr (PangoLayout) layout = caption_layout (self, gtk_widget_get_width (widget));
      GdkRGBA colour, warning;

      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      gtk_style_context_get_color (gtk_widget_get_style_context (widget), &colour);
      G_GNUC_END_IGNORE_DEPRECATIONS
      lookup_colour (widget, "warning_color", &warning, (GdkRGBA) { 0.61f, 0.4f, 0, 1 });
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, self->caption_y));
      gtk_snapshot_append_layout (snapshot, layout, self->warning ? &warning : &colour);
      gtk_snapshot_restore (snapshot);
    }

  gtk_widget_snapshot_child (widget, self->title_label, snapshot);
  gtk_widget_snapshot_child (widget, self->range_label, snapshot);
  if (self->menu)
    gtk_widget_snapshot_child (widget, self->menu, snapshot);
}

/* --- input ---------------------------------------------------------------------- */

static void
show_menu (PalMapTile *self, double x, double y)
{
  if (!self->menu)
    {
      g_autoptr (GMenu) menu = g_menu_new ();

      g_menu_append (menu, _("Export Panel…"), "tile.export-panel");
      g_menu_append (menu, _("Copy"), "tile.copy");
      self->menu = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
      gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), FALSE);
      gtk_widget_set_halign (self->menu, GTK_ALIGN_START);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
    }
  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu),
                               &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->menu));
}

static gboolean
menu_shortcut (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  PalMapTile *self = PAL_MAP_TILE (widget);

  show_menu (self, self->picture.origin.x + self->picture.size.width / 2,
             self->picture.origin.y + self->picture.size.height / 2);
  return TRUE;
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, PalMapTile *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));

  if (button == GDK_BUTTON_SECONDARY)
    show_menu (self, x, y);
  else if (button == GDK_BUTTON_PRIMARY)
    g_signal_emit (self, signals[ACTIVATE], 0);
}

static void
on_long_press (GtkGestureLongPress *gesture, double x, double y, PalMapTile *self)
{
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  show_menu (self, x, y);
}

static void
on_export_chosen (const char *path, gpointer user_data)
{
  PalMapTile *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!gtk_widget_get_root (GTK_WIDGET (self)))
    return;
  if (!pal_export_widget_png (GTK_WIDGET (self), 2.0, path, &error))
    pal_show_error (GTK_WIDGET (self), _("Could Not Export the Panel"), error);
  else
    {
      g_autofree char *name = g_path_get_basename (path);

      pal_toast (GTK_WIDGET (self), _("Panel saved as “%s”"), name);
    }
}

static void
export_panel_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalMapTile *self = PAL_MAP_TILE (widget);

  /* the tile may be replaced while the dialog is open (a new layer or
   * model): it stays alive until the dialog is answered, either way */
  pal_export_choose_file (widget, _("Export Panel"),
                          self->export_name ? self->export_name : "panel.png", "image/png",
                          on_export_chosen, g_object_ref (self), g_object_unref);
}

static void
copy_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  pal_export_copy_widget (widget, 2.0);
  pal_toast (widget, "%s", _("Panel copied"));
}

/* --- GObject ------------------------------------------------------------------- */

static void
pal_map_tile_dispose (GObject *object)
{
  PalMapTile *self = PAL_MAP_TILE (object);

  g_clear_pointer (&self->title_label, gtk_widget_unparent);
  g_clear_pointer (&self->range_label, gtk_widget_unparent);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  g_clear_object (&self->face);
  g_clear_object (&self->overlay);

  G_OBJECT_CLASS (pal_map_tile_parent_class)->dispose (object);
}

static void
pal_map_tile_finalize (GObject *object)
{
  PalMapTile *self = PAL_MAP_TILE (object);

  g_free (self->map);
  g_free (self->caption);
  g_free (self->export_name);

  G_OBJECT_CLASS (pal_map_tile_parent_class)->finalize (object);
}

static void
pal_map_tile_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalMapTile *self = PAL_MAP_TILE (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, pal_map_tile_get_title (self));
      break;
    case PROP_SELECTED:
      g_value_set_boolean (value, self->selected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_map_tile_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PalMapTile *self = PAL_MAP_TILE (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      pal_map_tile_set_title (self, g_value_get_string (value));
      break;
    case PROP_SELECTED:
      pal_map_tile_set_selected (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_map_tile_class_init (PalMapTileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_map_tile_dispose;
  object_class->finalize = pal_map_tile_finalize;
  object_class->get_property = pal_map_tile_get_property;
  object_class->set_property = pal_map_tile_set_property;

  widget_class->get_request_mode = pal_map_tile_get_request_mode;
  widget_class->measure = pal_map_tile_measure;
  widget_class->size_allocate = pal_map_tile_size_allocate;
  widget_class->snapshot = pal_map_tile_snapshot;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED] =
    g_param_spec_boolean ("selected", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ACTIVATE] =
    g_signal_new ("activate", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_activate_signal (widget_class, signals[ACTIVATE]);

  gtk_widget_class_install_action (widget_class, "tile.export-panel", NULL,
                                   export_panel_activated);
  gtk_widget_class_install_action (widget_class, "tile.copy", NULL, copy_activated);

  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_Return, 0, "activate", NULL);
  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_KP_Enter, 0, "activate", NULL);
  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_space, 0, "activate", NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, menu_shortcut, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Menu, 0, menu_shortcut, NULL);
  gtk_widget_class_set_css_name (widget_class, "maptile");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_BUTTON);
}

static void
pal_map_tile_init (PalMapTile *self)
{
  GtkGesture *click, *press;

  self->cm = PAL_COLORMAP_INFERNO;
  self->opacity = 0.7;

  self->title_label = g_object_new (GTK_TYPE_LABEL, "xalign", 0.0f, "wrap", TRUE,
                                    "wrap-mode", PANGO_WRAP_WORD_CHAR, "visible", FALSE, NULL);
  gtk_widget_add_css_class (self->title_label, "map-title");
  gtk_widget_set_parent (self->title_label, GTK_WIDGET (self));

  self->range_label = g_object_new (GTK_TYPE_LABEL, "xalign", 0.0f, "wrap", TRUE,
                                    "wrap-mode", PANGO_WRAP_WORD_CHAR, "visible", FALSE, NULL);
  gtk_widget_add_css_class (self->range_label, "map-caption");
  gtk_widget_add_css_class (self->range_label, "dim-label");
  gtk_widget_set_parent (self->range_label, GTK_WIDGET (self));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "pointer");

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), 0);
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  press = gtk_gesture_long_press_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (press), TRUE);
  g_signal_connect (press, "pressed", G_CALLBACK (on_long_press), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (press));
}

GtkWidget *
pal_map_tile_new (void)
{
  return g_object_new (PAL_TYPE_MAP_TILE, NULL);
}

void
pal_map_tile_set_title (PalMapTile *self, const char *title)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  if (g_strcmp0 (title, pal_map_tile_get_title (self)) == 0)
    return;
  gtk_label_set_text (GTK_LABEL (self->title_label), title ? title : "");
  gtk_widget_set_visible (self->title_label, title && *title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  title ? title : "", -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
pal_map_tile_get_title (PalMapTile *self)
{
  g_return_val_if_fail (PAL_IS_MAP_TILE (self), NULL);

  return gtk_widget_get_visible (self->title_label)
         ? gtk_label_get_text (GTK_LABEL (self->title_label)) : NULL;
}

void
pal_map_tile_set_face (PalMapTile *self, GdkTexture *face)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  if (self->face == face)
    return;
  g_set_object (&self->face, face);
  g_clear_object (&self->overlay);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static char *
format_value (float v)
{
  return g_strdup_printf ("%.3g", v);
}

void
pal_map_tile_set_map (PalMapTile *self, const float *map, int w, int h, float lo, float hi,
                      gboolean shared)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  if (map && self->map && w == self->map_w && h == self->map_h && lo == self->lo && hi == self->hi
      && memcmp (map, self->map, sizeof (float) * w * h) == 0)
    ;   /* the same picture */
  else
    {
      g_clear_pointer (&self->map, g_free);
      g_clear_object (&self->overlay);
      if (map && w > 0 && h > 0)
        {
          self->map = g_memdup2 (map, sizeof (float) * w * h);
          self->map_w = w;
          self->map_h = h;
          self->lo = lo;
          self->hi = hi;
        }
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }

  if (self->map)
    {
      g_autofree char *a = format_value (lo), *b = format_value (hi);
      g_autofree char *text = NULL;

      text = shared
        /* translators: a map's colour range, common to several maps */
        ? g_strdup_printf (_("%s – %s (shared)"), a, b)
        /* translators: a map's colour range */
        : g_strdup_printf (_("%s – %s"), a, b);
      gtk_label_set_text (GTK_LABEL (self->range_label), text);
      gtk_widget_set_tooltip_text (self->range_label, shared
                                   ? _("Colour range, shared by the maps of this row")
                                   : _("Colour range of this map"));
    }
  gtk_widget_set_visible (self->range_label, self->map != NULL);
}

void
pal_map_tile_set_caption (PalMapTile *self, const char *caption, gboolean warning)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  if (!caption || !*caption)
    caption = NULL;
  if (g_strcmp0 (caption, self->caption) == 0 && self->warning == !!warning)
    return;
  g_free (self->caption);
  self->caption = g_strdup (caption);
  self->warning = !!warning;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  caption ? caption : "", -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
pal_map_tile_set_colormap (PalMapTile *self, PalColormap cm)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  if (self->cm == cm)
    return;
  self->cm = cm;
  g_clear_object (&self->overlay);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pal_map_tile_set_opacity (PalMapTile *self, double opacity)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  opacity = CLAMP (opacity, 0.0, 1.0);
  if (self->opacity == opacity)
    return;
  self->opacity = opacity;
  g_clear_object (&self->overlay);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pal_map_tile_set_selected (PalMapTile *self, gboolean selected)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  selected = !!selected;
  if (self->selected == selected)
    return;
  self->selected = selected;
  gtk_accessible_update_state (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_STATE_PRESSED,
                               selected ? GTK_ACCESSIBLE_TRISTATE_TRUE
                                        : GTK_ACCESSIBLE_TRISTATE_FALSE, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

gboolean
pal_map_tile_get_selected (PalMapTile *self)
{
  g_return_val_if_fail (PAL_IS_MAP_TILE (self), FALSE);

  return self->selected;
}

void
pal_map_tile_set_export_name (PalMapTile *self, const char *name)
{
  g_return_if_fail (PAL_IS_MAP_TILE (self));

  g_free (self->export_name);
  self->export_name = g_strdup (name);
}
