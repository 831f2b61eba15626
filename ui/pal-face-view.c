/* pal-face-view.c: the big face with its overlays (prior, a map, landmarks)
 *
 * The face keeps its aspect ratio, centred in the widget.  Over it, each
 * when switched on: the prior heatmap of the inspector's landmarks (with
 * its sigma and noise), one attribution map stretched over the whole
 * picture (maps cover the image as the model sees it), and the 68
 * landmarks as dots.  Hovering a dot shows its number (1..68); dragging it
 * moves the landmark in the inspector, and the maps' numbers follow.
 * When several faces were found, their boxes are drawn numbered on top;
 * clicking one (away from a landmark) emits "face-activated".
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pal-face-view.h"
#include "pal-texture.h"

#define PRIOR_SIZE  320     /* longer side of the prior's texture */
#define MAP_SIZE    512     /* longer side of the map's texture */
#define DOT_RADIUS  3.0f
#define HIT_RADIUS  9.0

struct _PalFaceView
{
  GtkWidget     parent_instance;

  PalInspector *inspector;
  GdkTexture   *texture;
  GdkTexture   *prior;         /* cache; NULL: to render */
  GdkTexture   *overlay;       /* cache of the map's texture */
  float        *map;
  int           map_w, map_h;
  float         lo, hi;

  gboolean      show_landmarks;
  gboolean      show_prior;
  gboolean      show_map;
  double        opacity;
  guint         colormap;

  float        *boxes;         /* [n_boxes][4]: x, y, w, h in image pixels */
  int           n_boxes;
  int           chosen_box;    /* the face whose landmarks are shown, -1: none */
  int           hover_box;     /* box under the pointer, -1: none */

  int           hover;         /* landmark under the pointer, -1: none */
  int           dragged;       /* landmark being dragged, -1: none */
  double        drag_dx, drag_dy;   /* from the press to the dot's centre */
};

enum {
  PROP_0,
  PROP_INSPECTOR,
  PROP_TEXTURE,
  PROP_SHOW_LANDMARKS,
  PROP_SHOW_PRIOR,
  PROP_SHOW_MAP,
  PROP_OPACITY,
  PROP_COLORMAP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  FACE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PalFaceView, pal_face_view, GTK_TYPE_WIDGET)

/* --- geometry ------------------------------------------------------------------ */

/* Where the picture is drawn: the largest rectangle of its aspect ratio
 * that fits, centred.  FALSE without a picture. */
static gboolean
picture_rect (PalFaceView *self, graphene_rect_t *rect, double *scale)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  int tw, th;
  double s;

  if (!self->texture || w <= 0 || h <= 0)
    return FALSE;
  tw = gdk_texture_get_width (self->texture);
  th = gdk_texture_get_height (self->texture);
  s = MIN ((double) w / tw, (double) h / th);
  *rect = GRAPHENE_RECT_INIT ((float) floor ((w - tw * s) / 2), (float) floor ((h - th * s) / 2),
                              (float) (tw * s), (float) (th * s));
  if (scale)
    *scale = s;
  return TRUE;
}

/* A landmark (pixel-index frame: (x, y) is the centre of pixel (x, y)) in
 * widget coordinates. */
static void
landmark_to_widget (const graphene_rect_t *rect, double scale, float x, float y,
                    double *wx, double *wy)
{
  *wx = rect->origin.x + (x + 0.5) * scale;
  *wy = rect->origin.y + (y + 0.5) * scale;
}

static const PalLandmarks *
current_landmarks (PalFaceView *self)
{
  if (!self->inspector || !self->texture)
    return NULL;
  return pal_inspector_get_landmarks (self->inspector);
}

static int
landmark_at (PalFaceView *self, double x, double y)
{
  const PalLandmarks *lm = current_landmarks (self);
  graphene_rect_t rect;
  double scale, best = HIT_RADIUS * HIT_RADIUS;
  int found = -1;

  if (!lm || !self->show_landmarks || !picture_rect (self, &rect, &scale))
    return -1;
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      double wx, wy, d;

      landmark_to_widget (&rect, scale, lm->x[i], lm->y[i], &wx, &wy);
      d = (wx - x) * (wx - x) + (wy - y) * (wy - y);
      if (d <= best)
        {
          best = d;
          found = i;
        }
    }
  return found;
}

/* Box @i in widget coordinates (boxes are in the pixel-edge frame). */
static graphene_rect_t
box_to_widget (PalFaceView *self, const graphene_rect_t *rect, double scale, int i)
{
  const float *b = self->boxes + 4 * i;

  return GRAPHENE_RECT_INIT ((float) (rect->origin.x + b[0] * scale),
                             (float) (rect->origin.y + b[1] * scale),
                             (float) (b[2] * scale), (float) (b[3] * scale));
}

/* The smallest box under (x, y), -1: none. */
static int
box_at (PalFaceView *self, double x, double y)
{
  graphene_rect_t rect;
  double scale, best = G_MAXDOUBLE;
  int found = -1;

  if (self->n_boxes == 0 || !picture_rect (self, &rect, &scale))
    return -1;
  for (int i = 0; i < self->n_boxes; i++)
    {
      graphene_rect_t r = box_to_widget (self, &rect, scale, i);
      double area = (double) r.size.width * r.size.height;

      if (graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT ((float) x, (float) y))
          && area < best)
        {
          best = area;
          found = i;
        }
    }
  return found;
}

/* --- textures ------------------------------------------------------------------ */

static void
texture_size (PalFaceView *self, int longest, int *w, int *h)
{
  int tw = gdk_texture_get_width (self->texture);
  int th = gdk_texture_get_height (self->texture);
  double s = MIN (1.0, (double) longest / MAX (tw, th));

  *w = MAX ((int) (tw * s + 0.5), 1);
  *h = MAX ((int) (th * s + 0.5), 1);
}

static GdkTexture *
ensure_prior (PalFaceView *self)
{
  g_autofree float *prior = NULL;
  float lo, hi;
  int w, h;

  if (self->prior || !current_landmarks (self))
    return self->prior;
  texture_size (self, PRIOR_SIZE, &w, &h);
  prior = pal_inspector_render_prior (self->inspector, w, h);
  if (!prior)
    return NULL;
  pal_map_range (prior, w * h, &lo, &hi);
  self->prior = pal_texture_new_overlay (prior, w, h, w, h, lo, hi,
                                         pal_colormap_from_index (self->colormap),
                                         (float) self->opacity);
  return self->prior;
}

static GdkTexture *
ensure_overlay (PalFaceView *self)
{
  int w, h;

  if (self->overlay || !self->map || !self->texture)
    return self->overlay;
  texture_size (self, MAP_SIZE, &w, &h);
  self->overlay = pal_texture_new_overlay (self->map, self->map_w, self->map_h, w, h,
                                           self->lo, self->hi,
                                           pal_colormap_from_index (self->colormap),
                                           (float) self->opacity);
  return self->overlay;
}

static void
drop_textures (PalFaceView *self)
{
  g_clear_object (&self->prior);
  g_clear_object (&self->overlay);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* --- drawing -------------------------------------------------------------------- */

static void
append_dot (GtkSnapshot *snapshot, double x, double y, float radius, const GdkRGBA *fill,
            const GdkRGBA *ring)
{
  graphene_rect_t r = GRAPHENE_RECT_INIT ((float) x - radius, (float) y - radius,
                                          2 * radius, 2 * radius);
  GskRoundedRect rounded;
  float widths[4] = { 1.2f, 1.2f, 1.2f, 1.2f };
  GdkRGBA rings[4] = { *ring, *ring, *ring, *ring };

  gsk_rounded_rect_init_from_rect (&rounded, &r, radius);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, fill, &r);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &rounded, widths, rings);
}

static void
append_number (PalFaceView *self, GtkSnapshot *snapshot, int i, double x, double y)
{
  g_autofree char *text = g_strdup_printf ("%d", i + 1);
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  GdkRGBA bg = { 0, 0, 0, 0.75f }, fg = { 1, 1, 1, 1 };
  int lw, lh, w = gtk_widget_get_width (GTK_WIDGET (self));
  graphene_rect_t pill;
  GskRoundedRect rounded;
  float px = (float) x + 8, py = (float) y - 8;

  pango_layout_get_pixel_size (layout, &lw, &lh);
  pill = GRAPHENE_RECT_INIT (0, 0, lw + 10, lh + 2);
  if (px + pill.size.width > w)
    px = (float) x - 8 - pill.size.width;
  py = MAX (py - pill.size.height, 0);
  pill.origin = GRAPHENE_POINT_INIT (px, py);
  gsk_rounded_rect_init_from_rect (&rounded, &pill, pill.size.height / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, &bg, &pill);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (px + 5, py + 1));
  gtk_snapshot_append_layout (snapshot, layout, &fg);
  gtk_snapshot_restore (snapshot);
}

/* The face boxes, numbered 1.. at their top-left corner. */
static void
append_boxes (PalFaceView *self, GtkSnapshot *snapshot, const graphene_rect_t *rect, double scale)
{
  GdkRGBA shade = { 0, 0, 0, 0.55f };
  GdkRGBA plain = { 1, 1, 1, 0.95f };
  GdkRGBA chosen = { 0.18f, 0.76f, 0.49f, 1 };   /* green 3, as the landmarks */
  GdkRGBA hot = { 0.96f, 0.83f, 0.18f, 1 };      /* yellow 3 */

  for (int i = 0; i < self->n_boxes; i++)
    {
      graphene_rect_t r = box_to_widget (self, rect, scale, i);
      graphene_rect_t outer;
      GskRoundedRect rounded;
      const GdkRGBA *colour = i == self->hover_box ? &hot : i == self->chosen_box ? &chosen : &plain;
      float width = self->chosen_box >= 0 && i != self->chosen_box && i != self->hover_box
                    ? 1.5f : 2.5f;
      float widths[4] = { width, width, width, width };
      float shade_widths[4] = { 1, 1, 1, 1 };
      GdkRGBA colours[4] = { *colour, *colour, *colour, *colour };
      GdkRGBA shades[4] = { shade, shade, shade, shade };
      g_autofree char *text = g_strdup_printf ("%d", i + 1);
      g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
      PangoAttrList *attrs = pango_attr_list_new ();
      GdkRGBA ink = { 0, 0, 0, 1 };
      graphene_rect_t pill;
      int lw, lh;

      /* a dark hairline outside the box keeps it visible on light skin */
      graphene_rect_inset_r (&r, -1, -1, &outer);
      gsk_rounded_rect_init_from_rect (&rounded, &outer, 4);
      gtk_snapshot_append_border (snapshot, &rounded, shade_widths, shades);
      gsk_rounded_rect_init_from_rect (&rounded, &r, 3);
      gtk_snapshot_append_border (snapshot, &rounded, widths, colours);

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      pill = GRAPHENE_RECT_INIT (r.origin.x, r.origin.y - lh - 4, MAX (lw + 12, lh + 4), lh + 4);
      if (pill.origin.y < 0)
        pill.origin.y = r.origin.y;   /* no room above: inside the box */
      gsk_rounded_rect_init_from_rect (&rounded, &pill, 4);
      gtk_snapshot_push_rounded_clip (snapshot, &rounded);
      gtk_snapshot_append_color (snapshot, colour, &pill);
      gtk_snapshot_pop (snapshot);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot,
                              &GRAPHENE_POINT_INIT (pill.origin.x + (pill.size.width - lw) / 2,
                                                    pill.origin.y + 2));
      gtk_snapshot_append_layout (snapshot, layout, &ink);
      gtk_snapshot_restore (snapshot);
    }
}

static void
pal_face_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PalFaceView *self = PAL_FACE_VIEW (widget);
  const PalLandmarks *lm = current_landmarks (self);
  graphene_rect_t rect;
  double scale;
  GdkTexture *texture;

  if (!picture_rect (self, &rect, &scale))
    return;

  gtk_snapshot_append_texture (snapshot, self->texture, &rect);
  if (self->show_prior && (texture = ensure_prior (self)))
    gtk_snapshot_append_texture (snapshot, texture, &rect);
  if (self->show_map && (texture = ensure_overlay (self)))
    gtk_snapshot_append_texture (snapshot, texture, &rect);

  if (self->n_boxes > 0)
    append_boxes (self, snapshot, &rect, scale);

  if (lm && self->show_landmarks)
    {
      GdkRGBA fill = { 0.18f, 0.76f, 0.49f, 1 };     /* green 3 */
      GdkRGBA active = { 0.96f, 0.83f, 0.18f, 1 };   /* yellow 3 */
      GdkRGBA ring = { 0, 0, 0, 0.7f };
      int label = self->dragged >= 0 ? self->dragged : self->hover;

      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          double x, y;
          gboolean hot = i == label;

          landmark_to_widget (&rect, scale, lm->x[i], lm->y[i], &x, &y);
          append_dot (snapshot, x, y, hot ? DOT_RADIUS + 2 : DOT_RADIUS, hot ? &active : &fill,
                      &ring);
        }
      if (label >= 0)
        {
          double x, y;

          landmark_to_widget (&rect, scale, lm->x[label], lm->y[label], &x, &y);
          append_number (self, snapshot, label, x, y);
        }
    }
}

static void
pal_face_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  *minimum = 160;
  *natural = 400;
}

/* --- input ---------------------------------------------------------------------- */

/* The landmark or else the face box under the pointer: cursor, tooltip,
 * highlight. */
static void
set_hover_full (PalFaceView *self, int hover, int hover_box)
{
  if (hover >= 0)
    hover_box = -1;
  if (self->hover == hover && self->hover_box == hover_box)
    return;
  self->hover = hover;
  self->hover_box = hover_box;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                   hover >= 0 ? "grab" : hover_box >= 0 ? "pointer" : NULL);
  if (hover >= 0)
    {
      /* translators: the number of a facial landmark, 1..68 */
      g_autofree char *tip = g_strdup_printf (_("Landmark %d — drag to move it"), hover + 1);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
    }
  else if (hover_box >= 0)
    {
      /* translators: one of the faces found in a photo, numbered from 1 */
      g_autofree char *tip = g_strdup_printf (_("Face %d — click to place its landmarks"),
                                              hover_box + 1);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
set_hover (PalFaceView *self, int hover)
{
  set_hover_full (self, hover, -1);
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, PalFaceView *self)
{
  if (self->dragged < 0)
    set_hover_full (self, landmark_at (self, x, y), box_at (self, x, y));
}

static void
on_leave (GtkEventControllerMotion *controller, PalFaceView *self)
{
  if (self->dragged < 0)
    set_hover (self, -1);
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, PalFaceView *self)
{
  int i;

  if (n_press != 1 || self->dragged >= 0 || landmark_at (self, x, y) >= 0)
    return;
  i = box_at (self, x, y);
  if (i >= 0)
    g_signal_emit (self, signals[FACE_ACTIVATED], 0, i);
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, PalFaceView *self)
{
  const PalLandmarks *lm = current_landmarks (self);
  int i = landmark_at (self, x, y);
  graphene_rect_t rect;
  double scale, wx, wy;

  if (i < 0 || !lm || !picture_rect (self, &rect, &scale))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  landmark_to_widget (&rect, scale, lm->x[i], lm->y[i], &wx, &wy);
  self->dragged = i;
  self->drag_dx = wx - x;
  self->drag_dy = wy - y;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, PalFaceView *self)
{
  graphene_rect_t rect;
  double scale, sx, sy, x, y;
  int tw, th;

  if (self->dragged < 0 || !self->inspector || !picture_rect (self, &rect, &scale))
    return;
  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  tw = gdk_texture_get_width (self->texture);
  th = gdk_texture_get_height (self->texture);
  x = (sx + dx + self->drag_dx - rect.origin.x) / scale - 0.5;
  y = (sy + dy + self->drag_dy - rect.origin.y) / scale - 0.5;
  x = CLAMP (x, 0.0, tw - 1.0);
  y = CLAMP (y, 0.0, th - 1.0);
  pal_inspector_move_landmark (self->inspector, self->dragged, (float) x, (float) y);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, PalFaceView *self)
{
  double sx, sy;

  if (self->dragged < 0)
    return;
  self->dragged = -1;
  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  self->hover = -2;   /* forces the cursor and tooltip to be set again */
  set_hover_full (self, landmark_at (self, sx + dx, sy + dy), box_at (self, sx + dx, sy + dy));
}

/* --- the inspector --------------------------------------------------------------- */

static void
on_landmarks_changed (PalInspector *inspector, PalFaceView *self)
{
  g_clear_object (&self->prior);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_prior_notify (PalInspector *inspector, GParamSpec *pspec, PalFaceView *self)
{
  on_landmarks_changed (inspector, self);
}

void
pal_face_view_set_inspector (PalFaceView *self, PalInspector *inspector)
{
  g_return_if_fail (PAL_IS_FACE_VIEW (self));
  g_return_if_fail (!inspector || PAL_IS_INSPECTOR (inspector));

  if (self->inspector == inspector)
    return;
  if (self->inspector)
    {
      g_signal_handlers_disconnect_by_data (self->inspector, self);
      g_clear_object (&self->inspector);
    }
  if (inspector)
    {
      self->inspector = g_object_ref (inspector);
      g_signal_connect (inspector, "landmarks-changed", G_CALLBACK (on_landmarks_changed), self);
      g_signal_connect (inspector, "notify::sigma", G_CALLBACK (on_prior_notify), self);
      g_signal_connect (inspector, "notify::noise", G_CALLBACK (on_prior_notify), self);
    }
  self->hover = self->dragged = -1;
  drop_textures (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INSPECTOR]);
}

PalInspector *
pal_face_view_get_inspector (PalFaceView *self)
{
  g_return_val_if_fail (PAL_IS_FACE_VIEW (self), NULL);

  return self->inspector;
}

void
pal_face_view_set_texture (PalFaceView *self, GdkTexture *texture)
{
  g_return_if_fail (PAL_IS_FACE_VIEW (self));

  if (!g_set_object (&self->texture, texture))
    return;
  self->hover = self->dragged = -1;
  drop_textures (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

void
pal_face_view_set_map (PalFaceView *self, const float *map, int w, int h, float lo, float hi)
{
  g_return_if_fail (PAL_IS_FACE_VIEW (self));

  if (map && self->map && w == self->map_w && h == self->map_h && lo == self->lo && hi == self->hi
      && memcmp (map, self->map, sizeof (float) * w * h) == 0)
    return;
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

void
pal_face_view_set_faces (PalFaceView *self, const float *boxes, int n_boxes, int chosen)
{
  g_return_if_fail (PAL_IS_FACE_VIEW (self));
  g_return_if_fail (n_boxes >= 0 && (boxes || n_boxes == 0));
  g_return_if_fail (chosen >= -1 && chosen < MAX (n_boxes, 1));

  g_clear_pointer (&self->boxes, g_free);
  self->boxes = n_boxes > 0 ? g_memdup2 (boxes, sizeof (float) * 4 * n_boxes) : NULL;
  self->n_boxes = n_boxes;
  self->chosen_box = n_boxes > 0 ? chosen : -1;
  set_hover_full (self, self->hover, -1);   /* no box's cursor or tooltip left behind */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
pal_face_view_get_n_faces (PalFaceView *self)
{
  g_return_val_if_fail (PAL_IS_FACE_VIEW (self), 0);

  return self->n_boxes;
}

/* --- GObject --------------------------------------------------------------------- */

static void
pal_face_view_dispose (GObject *object)
{
  PalFaceView *self = PAL_FACE_VIEW (object);

  if (self->inspector)
    g_signal_handlers_disconnect_by_data (self->inspector, self);
  g_clear_object (&self->inspector);
  g_clear_object (&self->texture);
  g_clear_object (&self->prior);
  g_clear_object (&self->overlay);

  G_OBJECT_CLASS (pal_face_view_parent_class)->dispose (object);
}

static void
pal_face_view_finalize (GObject *object)
{
  PalFaceView *self = PAL_FACE_VIEW (object);

  g_free (self->map);
  g_free (self->boxes);

  G_OBJECT_CLASS (pal_face_view_parent_class)->finalize (object);
}

static void
pal_face_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalFaceView *self = PAL_FACE_VIEW (object);

  switch (prop_id)
    {
    case PROP_INSPECTOR:
      g_value_set_object (value, self->inspector);
      break;
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_SHOW_LANDMARKS:
      g_value_set_boolean (value, self->show_landmarks);
      break;
    case PROP_SHOW_PRIOR:
      g_value_set_boolean (value, self->show_prior);
      break;
    case PROP_SHOW_MAP:
      g_value_set_boolean (value, self->show_map);
      break;
    case PROP_OPACITY:
      g_value_set_double (value, self->opacity);
      break;
    case PROP_COLORMAP:
      g_value_set_uint (value, self->colormap);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_flag (PalFaceView *self, gboolean *flag, gboolean value, int prop)
{
  value = !!value;
  if (*flag == value)
    return;
  *flag = value;
  if (prop == PROP_SHOW_LANDMARKS && !value)
    {
      self->hover = self->dragged = -1;
      gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
pal_face_view_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  PalFaceView *self = PAL_FACE_VIEW (object);

  switch (prop_id)
    {
    case PROP_INSPECTOR:
      pal_face_view_set_inspector (self, g_value_get_object (value));
      break;
    case PROP_TEXTURE:
      pal_face_view_set_texture (self, g_value_get_object (value));
      break;
    case PROP_SHOW_LANDMARKS:
      set_flag (self, &self->show_landmarks, g_value_get_boolean (value), prop_id);
      break;
    case PROP_SHOW_PRIOR:
      set_flag (self, &self->show_prior, g_value_get_boolean (value), prop_id);
      break;
    case PROP_SHOW_MAP:
      set_flag (self, &self->show_map, g_value_get_boolean (value), prop_id);
      break;
    case PROP_OPACITY:
      if (self->opacity != g_value_get_double (value))
        {
          self->opacity = g_value_get_double (value);
          drop_textures (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_COLORMAP:
      if (self->colormap != g_value_get_uint (value))
        {
          self->colormap = g_value_get_uint (value);
          drop_textures (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_face_view_class_init (PalFaceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_face_view_dispose;
  object_class->finalize = pal_face_view_finalize;
  object_class->get_property = pal_face_view_get_property;
  object_class->set_property = pal_face_view_set_property;

  widget_class->measure = pal_face_view_measure;
  widget_class->snapshot = pal_face_view_snapshot;

  properties[PROP_INSPECTOR] =
    g_param_spec_object ("inspector", NULL, NULL, PAL_TYPE_INSPECTOR,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_LANDMARKS] =
    g_param_spec_boolean ("show-landmarks", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_PRIOR] =
    g_param_spec_boolean ("show-prior", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_MAP] =
    g_param_spec_boolean ("show-map", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OPACITY] =
    g_param_spec_double ("opacity", NULL, NULL, 0.0, 1.0, 0.7,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLORMAP] =
    g_param_spec_uint ("colormap", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[FACE_ACTIVATED] =
    g_signal_new ("face-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "faceview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pal_face_view_init (PalFaceView *self)
{
  GtkEventController *motion;
  GtkGesture *drag, *click;

  self->show_landmarks = TRUE;
  self->show_map = TRUE;
  self->opacity = 0.7;
  self->hover = self->dragged = -1;
  self->hover_box = self->chosen_box = -1;

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The face, its landmarks and the selected map"), -1);
}

GtkWidget *
pal_face_view_new (void)
{
  return g_object_new (PAL_TYPE_FACE_VIEW, NULL);
}
