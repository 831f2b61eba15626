/* pal-inspect-view.c: the Inspect page -- a face, its overlays, and up to
 * two models' maps side by side
 *
 * A toolbar with the choices that shape the maps (layer, target, Grad-CAM
 * class, shared colour scale, the paper's Fig. 7 in one click); on the
 * left the big face with its overlays and their controls; on the right one
 * column per model slot (pal-inspect-column.c).  The view owns the
 * PalInspector that holds the face, the landmarks and the models and
 * computes the maps off the main thread; everything here follows its
 * signals.  Files come from a chooser or are dropped on the page.  A photo
 * without landmarks has its faces looked for (pal-face-search.c): one face
 * gets its landmarks at once, several are drawn as numbered boxes for the
 * user to pick from.  The face chosen is then cropped to (a square
 * around its landmarks, pal_inspector_crop_to_face()), so that the models
 * see the face rather than the whole photo squashed to their input; "Whole
 * Photo" goes back.  A photo opened with its own .pts is not cropped.  Any
 * slot can also take face-api's expression network, a real pretrained
 * model to inspect.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pal-application.h"
#include "pal-exec.h"
#include "pal-export.h"
#include "pal-faceapi.h"
#include "pal-face-search.h"
#include "pal-face-view.h"
#include "pal-inspect-column.h"
#include "pal-inspect-view.h"
#include "pal-texture.h"
#include "pal-window.h"

struct _PalInspectView
{
  GtkWidget          parent_instance;

  PalInspector      *inspector;
  PalFaceSearch     *face_search;
  GdkTexture        *face;
  GtkFileChooserNative *chooser;   /* the open dialog, while it is up */

  /* template widgets */
  GtkDropDown       *layer_dropdown;
  GtkStringList     *layer_list;
  GtkDropDown       *target_dropdown;
  GtkStringList     *target_list;
  GtkDropDown       *cam_dropdown;
  GtkStringList     *cam_list;
  GtkSwitch         *shared_switch;
  GtkSpinner        *spinner;
  GtkStack          *face_stack;
  PalFaceView       *face_view;
  GtkWidget         *notice;
  GtkLabel          *notice_label;
  GtkSpinner        *notice_spinner;
  GtkMenuButton     *faces_button;
  GtkWidget         *find_faces_button;
  GtkWidget         *notice_place_button;
  GtkWidget         *notice_load_button;
  GtkLabel          *found_label;
  GtkToggleButton   *whole_photo_toggle;
  GtkLabel          *map_label;
  GtkToggleButton   *landmarks_toggle;
  GtkToggleButton   *prior_toggle;
  GtkToggleButton   *map_toggle;
  GtkDropDown       *colormap_dropdown;
  GtkAdjustment     *opacity_adjustment;
  GtkAdjustment     *sigma_adjustment;
  GtkAdjustment     *noise_adjustment;
  GtkWidget         *controls;
  GtkWidget         *place_button;
  GtkWidget         *save_landmarks_button;
  GtkWidget         *demo_button;
  GtkWidget         *columns_box;
  PalInspectColumn  *columns[PAL_INSPECTOR_N_SLOTS];

  int                sel_slot;      /* the map over the big face */
  PalMapKind         sel_kind;
  gboolean           syncing;       /* dropdowns being set from the inspector */
  gboolean           syncing_crop;  /* the Whole Photo toggle being set from it */
};

G_DEFINE_FINAL_TYPE (PalInspectView, pal_inspect_view, GTK_TYPE_WIDGET)

/* --- messages --------------------------------------------------------------------- */

/* A toast naming the file and what is wrong with it. */
static void
report_file_error (PalInspectView *self, const char *path, const GError *error)
{
  g_autofree char *name = g_path_get_basename (path);

  if (strstr (error->message, name))
    pal_toast (GTK_WIDGET (self), "%s", error->message);
  else
    /* translators: a file name, then what is wrong with it */
    pal_toast (GTK_WIDGET (self), _("Could not open “%s”: %s"), name, error->message);
}

/* --- colour ranges and the selected map ------------------------------------------- */

static PalColormap
current_colormap (PalInspectView *self)
{
  return pal_colormap_from_index (gtk_drop_down_get_selected (self->colormap_dropdown));
}

/* Each map's colour range: its own, or with the shared scale one for all
 * Grad maps and one for all Grad*Input maps of both models (Grad-CAM keeps
 * its own), as `pal attribute --shared-scale`. */
static void
colour_ranges (PalInspectView *self, float lo[][PAL_N_MAPS], float hi[][PAL_N_MAPS],
               gboolean shared)
{
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    {
      const PalInspectorResult *r = pal_inspector_get_result (self->inspector, s);

      for (int k = 0; k < PAL_N_MAPS; k++)
        {
          lo[s][k] = 0.0f;
          hi[s][k] = 1.0f;
          if (r && !r->error && r->maps[k])
            pal_map_range (r->maps[k], r->map_w * r->map_h, &lo[s][k], &hi[s][k]);
        }
    }
  if (!shared)
    return;
  for (int row = 0; row < 2; row++)
    {
      float a = INFINITY, b = -INFINITY;

      for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
        {
          const PalInspectorResult *r = pal_inspector_get_result (self->inspector, s);

          if (!r || r->error)
            continue;
          for (int k = 3 * row; k < 3 * row + 3; k++)
            {
              a = MIN (a, lo[s][k]);
              b = MAX (b, hi[s][k]);
            }
        }
      if (!(a <= b))
        continue;
      for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
        for (int k = 3 * row; k < 3 * row + 3; k++)
          {
            lo[s][k] = a;
            hi[s][k] = b;
          }
    }
}

static void
refresh (PalInspectView *self)
{
  float lo[PAL_INSPECTOR_N_SLOTS][PAL_N_MAPS], hi[PAL_INSPECTOR_N_SLOTS][PAL_N_MAPS];
  gboolean shared = gtk_switch_get_active (self->shared_switch);
  const PalInspectorResult *r;

  colour_ranges (self, lo, hi, shared);
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    {
      pal_inspect_column_update (self->columns[s], self->inspector, lo[s], hi[s], shared);
      pal_inspect_column_set_selected (self->columns[s],
                                       s == self->sel_slot ? (int) self->sel_kind : -1);
    }

  r = pal_inspector_get_result (self->inspector, self->sel_slot);
  if (r && !r->error && r->maps[self->sel_kind])
    {
      /* translators: the model, then the map shown over the face */
      g_autofree char *text = g_strdup_printf (_("Over the face: %s — %s"), r->model_name,
                                               pal_map_kind_title (self->sel_kind));

      pal_face_view_set_map (self->face_view, r->maps[self->sel_kind], r->map_w, r->map_h,
                             lo[self->sel_slot][self->sel_kind], hi[self->sel_slot][self->sel_kind]);
      gtk_label_set_text (self->map_label, text);
    }
  else if (r || !pal_inspector_get_model (self->inspector, self->sel_slot))
    {
      /* an error, or no model: no map (while a new model computes, the
       * last map stays) */
      pal_face_view_set_map (self->face_view, NULL, 0, 0, 0, 0);
      gtk_label_set_text (self->map_label, r ? ""
                          : _("Open a model, then click one of its maps to lay it over the face"));
    }
}

static void
on_map_activated (PalInspectColumn *column, int kind, PalInspectView *self)
{
  self->sel_slot = pal_inspect_column_get_slot (column);
  self->sel_kind = kind;
  gtk_toggle_button_set_active (self->map_toggle, TRUE);
  refresh (self);
}

static void
on_column_close (PalInspectColumn *column, PalInspectView *self)
{
  pal_inspector_clear_model (self->inspector, pal_inspect_column_get_slot (column));
}

static void
on_style_changed (PalInspectView *self)
{
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    pal_inspect_column_set_style (self->columns[s], current_colormap (self),
                                  gtk_adjustment_get_value (self->opacity_adjustment));
}

/* --- the toolbar ------------------------------------------------------------------- */

static void
replace_strings (GtkStringList *list, const char *first, char **rest)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new ();

  g_ptr_array_add (items, (gpointer) first);
  for (int i = 0; rest && rest[i]; i++)
    g_ptr_array_add (items, rest[i]);
  g_ptr_array_add (items, NULL);
  gtk_string_list_splice (list, 0, g_list_model_get_n_items (G_LIST_MODEL (list)),
                          (const char *const *) items->pdata);
}

/* The dropdowns as the inspector has its choices. */
static void
sync_choices (PalInspectView *self)
{
  const char *layer = pal_inspector_get_layer (self->inspector);
  int target = pal_inspector_get_target (self->inspector);
  int cam = pal_inspector_get_cam_class (self->inspector);
  guint n_layers = g_list_model_get_n_items (G_LIST_MODEL (self->layer_list));
  guint n_targets = g_list_model_get_n_items (G_LIST_MODEL (self->target_list));
  guint layer_index = 0;

  self->syncing = TRUE;
  for (guint i = 1; layer && *layer && i < n_layers; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->layer_list, i), layer) == 0)
      layer_index = i;
  gtk_drop_down_set_selected (self->layer_dropdown, layer_index);
  gtk_drop_down_set_selected (self->target_dropdown,
                              target >= 0 && (guint) target + 1 < n_targets ? (guint) target + 1 : 0);
  gtk_drop_down_set_selected (self->cam_dropdown,
                              cam >= 0 && (guint) cam + 1 < n_targets ? (guint) cam + 1 : 0);
  self->syncing = FALSE;
}

static void
rebuild_choices (PalInspectView *self)
{
  g_auto (GStrv) layers = pal_inspector_list_layers (self->inspector);
  g_auto (GStrv) classes = pal_inspector_list_classes (self->inspector);
  const char *layer = pal_inspector_get_layer (self->inspector);
  int n_classes = classes ? (int) g_strv_length (classes) : 0;

  self->syncing = TRUE;
  replace_strings (self->layer_list, _("Model’s PAL layer"), layers);
  replace_strings (self->target_list, _("Sum of logits"), classes);
  replace_strings (self->cam_list, _("Predicted class"), classes);
  self->syncing = FALSE;

  /* choices the new models do not have go back to their defaults */
  if (layer && *layer && layers && !g_strv_contains ((const char *const *) layers, layer))
    pal_inspector_set_layer (self->inspector, NULL);
  if (pal_inspector_get_target (self->inspector) >= n_classes && n_classes > 0)
    pal_inspector_set_target (self->inspector, PAL_TARGET_SUM);
  if (pal_inspector_get_cam_class (self->inspector) >= n_classes && n_classes > 0)
    pal_inspector_set_cam_class (self->inspector, -1);
  sync_choices (self);
}

static void
on_layer_selected (PalInspectView *self)
{
  guint i = gtk_drop_down_get_selected (self->layer_dropdown);

  if (self->syncing || i == GTK_INVALID_LIST_POSITION)
    return;
  pal_inspector_set_layer (self->inspector,
                           i == 0 ? NULL : gtk_string_list_get_string (self->layer_list, i));
}

static void
on_target_selected (PalInspectView *self)
{
  guint i = gtk_drop_down_get_selected (self->target_dropdown);

  if (self->syncing || i == GTK_INVALID_LIST_POSITION)
    return;
  pal_inspector_set_target (self->inspector, i == 0 ? PAL_TARGET_SUM : (int) i - 1);
}

static void
on_cam_selected (PalInspectView *self)
{
  guint i = gtk_drop_down_get_selected (self->cam_dropdown);

  if (self->syncing || i == GTK_INVALID_LIST_POSITION)
    return;
  pal_inspector_set_cam_class (self->inspector, i == 0 ? -1 : (int) i - 1);
}

/* The paper's Fig. 7: each model at its own PAL layer, the gradient of
 * the sum of logits, one colour scale per row for both models, and the
 * constrained half's Grad*Input over the face. */
static void
on_fig7_clicked (PalInspectView *self)
{
  pal_inspector_set_layer (self->inspector, NULL);
  pal_inspector_set_target (self->inspector, PAL_TARGET_SUM);
  pal_inspector_set_cam_class (self->inspector, -1);
  pal_inspector_set_sigma (self->inspector, 3.0);
  pal_inspector_set_noise (self->inspector, 0.0);
  gtk_switch_set_active (self->shared_switch, TRUE);
  gtk_toggle_button_set_active (self->landmarks_toggle, FALSE);
  gtk_toggle_button_set_active (self->prior_toggle, FALSE);
  gtk_toggle_button_set_active (self->map_toggle, TRUE);
  gtk_adjustment_set_value (self->opacity_adjustment, 0.7);
  self->sel_slot = pal_inspector_get_model (self->inspector, 0)
                   || !pal_inspector_get_model (self->inspector, 1) ? 0 : 1;
  self->sel_kind = PAL_MAP_GI_FIRST;
  refresh (self);
}

/* --- the inspector's signals ---------------------------------------------------------- */

/* --- faces found in the photo ------------------------------------------------------ */

static void update_crop_controls (PalInspectView *self);
static void on_image_changed     (PalInspectView *self);

/* "Face 2 · happy 87 %": the menu item of face @i. */
static char *
face_item_label (const PalFace *face, int i)
{
  int best = 0;

  for (int k = 1; k < PAL_FACE_N_EXPRESSIONS; k++)
    if (face->expression[k] > face->expression[best])
      best = k;
  if (isnan (face->expression[best]))
    /* translators: one of the faces found in a photo, numbered from 1 */
    return g_strdup_printf (_("Face %d"), i + 1);
  /* translators: a face found in a photo, its most likely expression and
   * that expression's probability in per cent */
  return g_strdup_printf (_("Face %d · %s %.0f %%"), i + 1, pal_expression_classes[best],
                          100.0 * face->expression[best]);
}

static void
rebuild_faces_menu (PalInspectView *self, const PalFace *faces, int n_faces)
{
  g_autoptr (GMenu) menu = g_menu_new ();

  for (int i = 0; i < n_faces; i++)
    {
      g_autofree char *label = face_item_label (&faces[i], i);
      g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);

      g_menu_item_set_action_and_target_value (item, "inspect.choose-face",
                                               g_variant_new_int32 (i));
      g_menu_append_item (menu, item);
    }
  gtk_menu_button_set_menu_model (self->faces_button, G_MENU_MODEL (menu));
}

/* The notice over a face without landmarks: what the face search is doing
 * or found, and what the user can do. */
static void
update_face_notice (PalInspectView *self)
{
  PalFaceSearchState state = pal_face_search_get_state (self->face_search);
  const GError *error = pal_face_search_get_error (self->face_search);
  gboolean running = state == PAL_FACE_SEARCH_RUNNING;
  int n_faces = 0;
  g_autofree char *text = NULL;

  pal_face_search_get_faces (self->face_search, &n_faces);
  switch (state)
    {
    case PAL_FACE_SEARCH_RUNNING:
      text = g_strdup (_("Looking for faces…"));
      break;
    case PAL_FACE_SEARCH_FAILED:
      /* translators: the reason follows (a missing model file and how to get it) */
      text = g_strdup_printf (_("Could not look for faces: %s"), error ? error->message : "?");
      break;
    case PAL_FACE_SEARCH_DONE:
      if (n_faces == 0)
        text = g_strdup (_("No face found in this photo. Place the 68 landmarks by hand, "
                           "or load them."));
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%d face found: click it to place its landmarks.",
                                             "%d faces found: click one to place its landmarks.",
                                             n_faces), n_faces);
      break;
    case PAL_FACE_SEARCH_IDLE:
    default:
      text = g_strdup (_("This face has no landmarks: the prior, r and inside need them."));
      break;
    }
  gtk_label_set_text (self->notice_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->notice_spinner), running);
  gtk_spinner_set_spinning (self->notice_spinner, running);
  gtk_widget_set_visible (GTK_WIDGET (self->faces_button),
                          state == PAL_FACE_SEARCH_DONE && n_faces > 0);
  gtk_widget_set_visible (self->find_faces_button,
                          state == PAL_FACE_SEARCH_IDLE || state == PAL_FACE_SEARCH_FAILED);
  /* with faces to pick from, the other ways stay below the face */
  gtk_widget_set_visible (self->notice_place_button,
                          !(state == PAL_FACE_SEARCH_DONE && n_faces > 0));
  gtk_widget_set_visible (self->notice_load_button,
                          !(state == PAL_FACE_SEARCH_DONE && n_faces > 0));
}

/* The line under the face: how the landmarks were found, while they are
 * the ones found (the line stays, empty, so the face does not move). */
static void
update_found_label (PalInspectView *self)
{
  int chosen = pal_face_search_get_chosen (self->face_search);
  int n_faces = 0;
  const char *method;
  g_autofree char *text = NULL;

  pal_face_search_get_faces (self->face_search, &n_faces);
  gtk_widget_set_visible (GTK_WIDGET (self->found_label),
                          pal_inspector_get_image (self->inspector) != NULL);
  if (chosen < 0 || !pal_inspector_get_landmarks (self->inspector))
    {
      gtk_label_set_text (self->found_label, "");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->found_label), NULL);
      return;
    }
  method = pal_face_search_get_method (self->face_search) == PAL_LANDMARK_METHOD_FACEAPI
           ? "face-api" : "dlib";
  if (n_faces > 1)
    /* translators: the face's number, the number of faces, the landmark
     * finder (dlib or face-api) */
    text = g_strdup_printf (_("Face %d of %d: 68 landmarks found with %s"), chosen + 1, n_faces,
                            method);
  else
    /* translators: the landmark finder (dlib or face-api) */
    text = g_strdup_printf (_("68 landmarks found with %s"), method);
  gtk_label_set_text (self->found_label, text);
  if (n_faces > 1 && pal_inspector_get_crop (self->inspector, NULL))
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->found_label),
                                 _("Drag a point to correct it, or show the whole photo to "
                                   "choose another face"));
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->found_label),
                                 n_faces > 1 ? _("Drag a point to correct it, or click another "
                                                 "face’s box to place its landmarks instead")
                                             : _("Drag a point to correct it"));
}

static void
on_face_search_changed (PalInspectView *self)
{
  const PalFace *faces;
  int n_faces = 0;

  faces = pal_face_search_get_faces (self->face_search, &n_faces);
  /* the boxes are in the photo's pixels: not drawn over the crop */
  if (pal_face_search_get_state (self->face_search) == PAL_FACE_SEARCH_DONE && n_faces > 1
      && !pal_inspector_get_crop (self->inspector, NULL))
    {
      g_autofree float *boxes = g_new (float, 4 * n_faces);

      for (int i = 0; i < n_faces; i++)
        memcpy (boxes + 4 * i, faces[i].box, sizeof faces[i].box);
      pal_face_view_set_faces (self->face_view, boxes, n_faces,
                               pal_face_search_get_chosen (self->face_search));
    }
  else
    pal_face_view_set_faces (self->face_view, NULL, 0, -1);
  rebuild_faces_menu (self, faces, n_faces);
  if (pal_face_search_get_chosen (self->face_search) >= 0)
    gtk_toggle_button_set_active (self->landmarks_toggle, TRUE);
  update_face_notice (self);
  update_found_label (self);
  update_crop_controls (self);
}

/* A face was chosen (by the user, or the only one found): the models are
 * shown that face, cropped from the photo. */
static void
on_face_chosen (PalInspectView *self)
{
  g_autoptr (GError) error = NULL;

  if (pal_face_search_get_chosen (self->face_search) < 0
      || !pal_inspector_get_landmarks (self->inspector))
    return;
  if (!pal_inspector_crop_to_face (self->inspector, &error))
    pal_toast (GTK_WIDGET (self), "%s", error->message);
}

/* Face @index's landmarks go in the whole photo's pixels, then it is
 * cropped to (on_face_chosen). */
static void
choose_face (PalInspectView *self, int index)
{
  pal_inspector_uncrop (self->inspector);
  pal_face_search_choose (self->face_search, index);
}

static void
on_face_activated (PalFaceView *view, int index, PalInspectView *self)
{
  pal_inspect_view_choose_face (self, index);
}

void
pal_inspect_view_choose_face (PalInspectView *self, int index)
{
  int n_faces = 0;

  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  pal_face_search_get_faces (self->face_search, &n_faces);
  g_return_if_fail (index >= 0 && index < n_faces);
  choose_face (self, index);
}

PalFaceSearch *
pal_inspect_view_get_face_search (PalInspectView *self)
{
  g_return_val_if_fail (PAL_IS_INSPECT_VIEW (self), NULL);

  return self->face_search;
}

static void
choose_face_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalInspectView *self = PAL_INSPECT_VIEW (widget);
  int n_faces = 0, index = g_variant_get_int32 (param);

  pal_face_search_get_faces (self->face_search, &n_faces);
  if (index >= 0 && index < n_faces)
    choose_face (self, index);
}

static void
find_faces_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalInspectView *self = PAL_INSPECT_VIEW (widget);

  pal_inspector_uncrop (self->inspector);   /* the faces of the photo, not of a crop */
  pal_face_search_start (self->face_search);
}

/* --- the crop to the face ------------------------------------------------------- */

/* "Whole Photo": shown while cropped, or while a face found in the photo
 * could be cropped to; active while the whole photo is shown. */
static void
update_crop_controls (PalInspectView *self)
{
  gboolean cropped = pal_inspector_get_crop (self->inspector, NULL);
  gboolean can_crop = pal_face_search_get_chosen (self->face_search) >= 0
                      && pal_inspector_get_landmarks (self->inspector) != NULL;

  self->syncing_crop = TRUE;
  gtk_toggle_button_set_active (self->whole_photo_toggle, !cropped);
  self->syncing_crop = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->whole_photo_toggle), cropped || can_crop);
}

static void
on_whole_photo_toggled (PalInspectView *self)
{
  g_autoptr (GError) error = NULL;

  if (self->syncing_crop)
    return;
  if (gtk_toggle_button_get_active (self->whole_photo_toggle))
    pal_inspector_uncrop (self->inspector);
  else if (!pal_inspector_crop_to_face (self->inspector, &error))
    {
      pal_toast (GTK_WIDGET (self), "%s", error->message);
      update_crop_controls (self);
    }
}

static void
on_crop_changed (PalInspectView *self)
{
  on_image_changed (self);
  on_face_search_changed (self);   /* the face boxes, the Whole Photo toggle */
}

/* --- face-api's expression network ------------------------------------------------ */

/* Its default layer (dense2) comes with the model, as its "inspect.layer"
 * metadata (core/pal-faceapi.c). */
gboolean
pal_inspect_view_use_faceapi_model (PalInspectView *self, int slot)
{
  g_autoptr (PalModel) model = NULL;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (PAL_IS_INSPECT_VIEW (self), FALSE);
  g_return_val_if_fail (slot >= 0 && slot < PAL_INSPECTOR_N_SLOTS, FALSE);

  /* a few milliseconds: the weights are small */
  model = pal_faceapi_load_expression_model (NULL, &error);
  if (!model)
    {
      pal_show_error (GTK_WIDGET (self), _("Could Not Load face-api’s Expression Network"), error);
      return FALSE;
    }
  pal_inspector_set_model (self->inspector, slot, model, _("face-api expression"));
  return TRUE;
}

static void
use_faceapi_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  pal_inspect_view_use_faceapi_model (PAL_INSPECT_VIEW (widget), g_variant_get_int32 (param));
}

/* --- the landmark controls ----------------------------------------------------------- */

static void
update_landmark_controls (PalInspectView *self)
{
  gboolean image = pal_inspector_get_image (self->inspector) != NULL;
  gboolean landmarks = pal_inspector_get_landmarks (self->inspector) != NULL;

  gtk_widget_set_visible (self->notice, image && !landmarks);

  gtk_widget_set_sensitive (self->controls, image);
  gtk_widget_set_visible (GTK_WIDGET (self->map_label), image);
  gtk_widget_set_sensitive (self->place_button, image);
  gtk_widget_set_sensitive (self->save_landmarks_button, landmarks);
  if (landmarks && pal_inspector_get_landmarks_modified (self->inspector))
    gtk_widget_add_css_class (self->save_landmarks_button, "suggested-action");
  else
    gtk_widget_remove_css_class (self->save_landmarks_button, "suggested-action");
}

static void
on_image_changed (PalInspectView *self)
{
  const PalImage *image = pal_inspector_get_image (self->inspector);

  g_clear_object (&self->face);
  if (image)
    self->face = pal_texture_new_from_image (image);
  pal_face_view_set_texture (self->face_view, self->face);
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    pal_inspect_column_set_face (self->columns[s], self->face);
  gtk_stack_set_visible_child_name (self->face_stack, image ? "face" : "empty");
  update_landmark_controls (self);
  update_found_label (self);
  update_crop_controls (self);
}

static void
on_landmarks_changed (PalInspectView *self)
{
  update_landmark_controls (self);
  update_found_label (self);
  update_crop_controls (self);
}

static void
on_models_changed (PalInspectView *self)
{
  int other = 1 - self->sel_slot;

  if (!pal_inspector_get_model (self->inspector, self->sel_slot)
      && pal_inspector_get_model (self->inspector, other))
    self->sel_slot = other;
  rebuild_choices (self);
  refresh (self);
}

static void
on_results_changed (PalInspectView *self, int slot)
{
  refresh (self);
}

static void
on_choice_notify (PalInspectView *self)
{
  sync_choices (self);
}

static void
on_busy_notify (PalInspectView *self)
{
  gboolean busy = pal_inspector_get_busy (self->inspector);

  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

/* --- files -------------------------------------------------------------------------- */

typedef enum { KIND_OTHER, KIND_IMAGE, KIND_LANDMARKS, KIND_MODEL } FileKind;

static FileKind
file_kind (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".jpg") || g_str_has_suffix (lower, ".jpeg")
      || g_str_has_suffix (lower, ".png"))
    return KIND_IMAGE;
  if (g_str_has_suffix (lower, ".pts") || g_str_has_suffix (lower, ".txt"))
    return KIND_LANDMARKS;
  if (g_str_has_suffix (lower, ".safetensors"))
    return KIND_MODEL;
  return KIND_OTHER;
}

static void
open_image (PalInspectView *self, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) lm_error = NULL;

  if (!pal_inspector_load_image (self->inspector, path, &lm_error, &error))
    report_file_error (self, path, error);
  else if (lm_error)
    report_file_error (self, path, lm_error);
}

static void
open_landmarks (PalInspectView *self, const char *path)
{
  g_autoptr (GError) error = NULL;

  if (!pal_inspector_get_image (self->inspector))
    {
      g_autofree char *name = g_path_get_basename (path);

      pal_toast (GTK_WIDGET (self), _("Could not open “%s”: open a face image first"), name);
      return;
    }
  if (!pal_inspector_load_landmarks (self->inspector, path, &error))
    report_file_error (self, path, error);
  else
    {
      pal_face_search_choose (self->face_search, -1);
      gtk_toggle_button_set_active (self->landmarks_toggle, TRUE);
    }
}

static void
open_model (PalInspectView *self, int slot, const char *path)
{
  g_autoptr (GError) error = NULL;

  if (!pal_inspector_load_model (self->inspector, slot, path, &error))
    report_file_error (self, path, error);
}

void
pal_inspect_view_open_files (PalInspectView *self, GFile **files, int n_files)
{
  GPtrArray *paths[4];

  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  for (int i = 0; i < 4; i++)
    paths[i] = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n_files; i++)
    {
      char *path = g_file_get_path (files[i]);

      if (!path)
        {
          g_autofree char *uri = g_file_get_uri (files[i]);

          pal_toast (GTK_WIDGET (self), _("Could not open “%s”: not a local file"), uri);
          continue;
        }
      g_ptr_array_add (paths[file_kind (path)], path);
    }

  for (guint i = 0; i < paths[KIND_OTHER]->len; i++)
    {
      g_autofree char *name = g_path_get_basename (paths[KIND_OTHER]->pdata[i]);

      pal_toast (GTK_WIDGET (self),
                 _("Could not open “%s”: not an image (.jpg, .png), landmarks (.pts, .txt) "
                   "or a model (.safetensors)"), name);
    }
  /* images first: an image clears the landmarks of the one before */
  for (guint i = 0; i < paths[KIND_IMAGE]->len; i++)
    open_image (self, paths[KIND_IMAGE]->pdata[i]);
  for (guint i = 0; i < paths[KIND_LANDMARKS]->len; i++)
    open_landmarks (self, paths[KIND_LANDMARKS]->pdata[i]);
  for (guint i = 0; i < paths[KIND_MODEL]->len; i++)
    {
      int slot = 0;

      for (int s = PAL_INSPECTOR_N_SLOTS - 1; s >= 0; s--)
        if (!pal_inspector_get_model (self->inspector, s))
          slot = s;
      open_model (self, slot, paths[KIND_MODEL]->pdata[i]);
    }
  for (int i = 0; i < 4; i++)
    g_ptr_array_unref (paths[i]);
}

void
pal_inspect_view_load_demo (PalInspectView *self)
{
  const char *dir = pal_application_get_demo_dir ();
  g_autofree char *face = NULL, *pal = NULL, *baseline = NULL;

  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  if (!dir)
    {
      pal_toast (GTK_WIDGET (self), "%s", _("The demo files are not installed"));
      return;
    }
  face = g_build_filename (dir, "demo-face.jpg", NULL);
  pal = g_build_filename (dir, "demo-pal.safetensors", NULL);
  baseline = g_build_filename (dir, "demo-baseline.safetensors", NULL);
  open_image (self, face);
  open_model (self, 0, pal);
  open_model (self, 1, baseline);
  self->sel_slot = 0;
  self->sel_kind = PAL_MAP_GI_FIRST;
  refresh (self);
}

/* --- choosers ------------------------------------------------------------------------ */

static void
add_filter (GtkFileChooser *chooser, const char *name, const char *const *patterns,
            const char *const *mime_types)
{
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  for (int i = 0; patterns && patterns[i]; i++)
    gtk_file_filter_add_pattern (filter, patterns[i]);
  for (int i = 0; mime_types && mime_types[i]; i++)
    gtk_file_filter_add_mime_type (filter, mime_types[i]);
  gtk_file_chooser_add_filter (chooser, filter);
}

static const char *const image_patterns[] = {
  "*.jpg", "*.jpeg", "*.png", "*.JPG", "*.JPEG", "*.PNG", NULL
};
static const char *const image_types[] = { "image/jpeg", "image/png", NULL };
static const char *const landmark_patterns[] = { "*.pts", "*.txt", "*.PTS", "*.TXT", NULL };
static const char *const model_patterns[] = { "*.safetensors", NULL };
static const char *const all_patterns[] = { "*", NULL };

typedef enum { CHOOSE_ANY, CHOOSE_MODEL, CHOOSE_LANDMARKS } ChooseKind;

static void
on_chooser_response (GtkNativeDialog *dialog, int response, PalInspectView *self)
{
  ChooseKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "choose-kind"));
  int slot = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "slot"));
  g_autoptr (GListModel) files = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);

  if (!files)
    return;
  if (kind == CHOOSE_ANY)
    {
      g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      pal_inspect_view_open_files (self, (GFile **) array->pdata, (int) array->len);
    }
  else if (g_list_model_get_n_items (files) > 0)
    {
      g_autoptr (GFile) file = g_list_model_get_item (files, 0);
      g_autofree char *path = g_file_get_path (file);

      if (!path)
        return;
      if (kind == CHOOSE_MODEL)
        open_model (self, slot, path);
      else
        open_landmarks (self, path);
    }
}

static void
run_chooser (PalInspectView *self, const char *title, ChooseKind kind, int slot)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooser *chooser;

  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  chooser = GTK_FILE_CHOOSER (self->chooser);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "choose-kind", GINT_TO_POINTER (kind));
  g_object_set_data (G_OBJECT (chooser), "slot", GINT_TO_POINTER (slot));

  if (kind == CHOOSE_ANY)
    {
      g_autoptr (GtkFileFilter) supported = gtk_file_filter_new ();

      gtk_file_chooser_set_select_multiple (chooser, TRUE);
      gtk_file_filter_set_name (supported, _("Images, Landmarks and Models"));
      for (int i = 0; image_patterns[i]; i++)
        gtk_file_filter_add_pattern (supported, image_patterns[i]);
      for (int i = 0; landmark_patterns[i]; i++)
        gtk_file_filter_add_pattern (supported, landmark_patterns[i]);
      gtk_file_filter_add_pattern (supported, "*.safetensors");
      gtk_file_chooser_add_filter (chooser, supported);
      add_filter (chooser, _("Images"), image_patterns, image_types);
      add_filter (chooser, _("Landmarks"), landmark_patterns, NULL);
      add_filter (chooser, _("Models"), model_patterns, NULL);
    }
  else if (kind == CHOOSE_MODEL)
    add_filter (chooser, _("Models"), model_patterns, NULL);
  else
    add_filter (chooser, _("Landmarks"), landmark_patterns, NULL);
  add_filter (chooser, _("All Files"), all_patterns, NULL);

  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

void
pal_inspect_view_open (PalInspectView *self)
{
  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  run_chooser (self, _("Open Images, Landmarks or Models"), CHOOSE_ANY, 0);
}

void
pal_inspect_view_open_model (PalInspectView *self, int slot)
{
  g_autofree char *title = NULL;

  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));
  g_return_if_fail (slot >= 0 && slot < PAL_INSPECTOR_N_SLOTS);

  /* translators: the two model slots are A and B */
  title = g_strdup_printf (_("Open Model %s"), slot == 0 ? _("A") : _("B"));
  run_chooser (self, title, CHOOSE_MODEL, slot);
}

/* --- landmarks ----------------------------------------------------------------------- */

static void
on_load_landmarks_clicked (PalInspectView *self)
{
  run_chooser (self, _("Load Landmarks"), CHOOSE_LANDMARKS, 0);
}

static void
on_place_clicked (PalInspectView *self)
{
  if (!pal_inspector_get_image (self->inspector))
    return;
  pal_face_search_choose (self->face_search, -1);
  pal_inspector_place_mean_landmarks (self->inspector);
  gtk_toggle_button_set_active (self->landmarks_toggle, TRUE);
  pal_toast (GTK_WIDGET (self), "%s",
             _("Drag each point onto the face (hover one to see its number), then save them"));
}

static void
on_landmarks_path (const char *path, gpointer user_data)
{
  PalInspectView *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!pal_inspector_save_landmarks (self->inspector, path, &error))
    pal_show_error (GTK_WIDGET (self), _("Could Not Save the Landmarks"), error);
  else
    {
      g_autofree char *name = g_path_get_basename (path);

      update_landmark_controls (self);
      pal_toast (GTK_WIDGET (self), _("Landmarks saved as “%s”"), name);
    }
}

static void
on_save_landmarks_clicked (PalInspectView *self)
{
  const char *image = pal_inspector_get_image_path (self->inspector);
  g_autofree char *suggested = NULL;

  if (image)
    {
      g_autofree char *base = g_path_get_basename (image);
      char *dot = strrchr (base, '.');

      if (dot)
        *dot = '\0';
      suggested = g_strconcat (base, ".pts", NULL);
    }
  /* the view lives as long as its window, which the dialog is modal for */
  pal_export_choose_file (GTK_WIDGET (self), _("Save Landmarks"),
                          suggested ? suggested : "landmarks.pts", NULL,
                          on_landmarks_path, self, NULL);
}

/* --- export -------------------------------------------------------------------------- */

#define EXPORT_SCALE 2.0   /* the maps' textures are drawn for this */

static void
set_exporting (PalInspectView *self, gboolean exporting)
{
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    pal_inspect_column_set_exporting (self->columns[s], exporting);
}

static gboolean
has_models (PalInspectView *self)
{
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    if (pal_inspector_get_model (self->inspector, s))
      return TRUE;
  pal_toast (GTK_WIDGET (self), "%s", _("Nothing to export yet: open a model first"));
  return FALSE;
}

/* A picture of the columns is taken after the frame that drew them
 * without their buttons and selection (a widget waiting to be drawn again
 * has no picture). */
typedef struct {
  PalInspectView *self;
  char           *path;      /* NULL: to the clipboard */
  GdkFrameClock  *clock;
  gulong          handler;
} PendingExport;

static void
take_picture (PalInspectView *self, const char *path)
{
  g_autoptr (GError) error = NULL;

  if (!path)
    {
      pal_export_copy_widget (self->columns_box, EXPORT_SCALE);
      pal_toast (GTK_WIDGET (self), "%s", _("Comparison copied"));
    }
  else if (!pal_export_widget_png (self->columns_box, EXPORT_SCALE, path, &error))
    pal_show_error (GTK_WIDGET (self), _("Could Not Export the Comparison"), error);
  else
    {
      g_autofree char *name = g_path_get_basename (path);

      pal_toast (GTK_WIDGET (self), _("Comparison saved as “%s”"), name);
    }
}

static void
on_after_paint (GdkFrameClock *clock, PendingExport *pending)
{
  g_signal_handler_disconnect (clock, pending->handler);
  take_picture (pending->self, pending->path);
  set_exporting (pending->self, FALSE);
  g_object_unref (pending->clock);
  g_object_unref (pending->self);
  g_free (pending->path);
  g_free (pending);
}

static void
export_columns (PalInspectView *self, const char *path)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (self->columns_box);
  PendingExport *pending;

  if (!clock)
    {
      take_picture (self, path);
      return;
    }
  set_exporting (self, TRUE);
  pending = g_new0 (PendingExport, 1);
  pending->self = g_object_ref (self);
  pending->path = g_strdup (path);
  pending->clock = g_object_ref (clock);
  pending->handler = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), pending);
  gtk_widget_queue_draw (self->columns_box);
}

static void
on_export_path (const char *path, gpointer user_data)
{
  export_columns (PAL_INSPECT_VIEW (user_data), path);
}

void
pal_inspect_view_export (PalInspectView *self)
{
  const char *image;
  g_autofree char *suggested = NULL;

  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  if (!has_models (self))
    return;
  image = pal_inspector_get_image_path (self->inspector);
  if (image)
    {
      g_autofree char *base = g_path_get_basename (image);
      char *dot = strrchr (base, '.');

      if (dot)
        *dot = '\0';
      suggested = g_strconcat (base, "-maps.png", NULL);
    }
  /* the view lives as long as its window, which the dialog is modal for */
  pal_export_choose_file (GTK_WIDGET (self), _("Export the Comparison as PNG"),
                          suggested ? suggested : "maps.png", "image/png",
                          on_export_path, self, NULL);
}

void
pal_inspect_view_copy (PalInspectView *self)
{
  g_return_if_fail (PAL_IS_INSPECT_VIEW (self));

  if (!has_models (self))
    return;
  export_columns (self, NULL);
}

/* --- drag and drop ------------------------------------------------------------------- */

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, PalInspectView *self)
{
  GSList *list;
  g_autoptr (GPtrArray) files = g_ptr_array_new ();

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  list = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = list; l; l = l->next)
    g_ptr_array_add (files, l->data);
  g_slist_free (list);
  if (files->len == 0)
    return FALSE;
  pal_inspect_view_open_files (self, (GFile **) files->pdata, (int) files->len);
  return TRUE;
}

/* --- GObject -------------------------------------------------------------------------- */

PalInspector *
pal_inspect_view_get_inspector (PalInspectView *self)
{
  g_return_val_if_fail (PAL_IS_INSPECT_VIEW (self), NULL);

  return self->inspector;
}

static void
pal_inspect_view_dispose (GObject *object)
{
  PalInspectView *self = PAL_INSPECT_VIEW (object);
  GtkWidget *child;

  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->face_search)
    {
      g_signal_handlers_disconnect_by_data (self->face_search, self);
      pal_face_search_cancel (self->face_search);
    }
  g_clear_object (&self->face_search);
  if (self->inspector)
    g_signal_handlers_disconnect_by_data (self->inspector, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PAL_TYPE_INSPECT_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (child);
  g_clear_object (&self->inspector);
  g_clear_object (&self->face);

  G_OBJECT_CLASS (pal_inspect_view_parent_class)->dispose (object);
}

static void
pal_inspect_view_class_init (PalInspectViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_inspect_view_dispose;

  g_type_ensure (PAL_TYPE_FACE_VIEW);
  g_type_ensure (PAL_TYPE_INSPECT_COLUMN);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/palstudio/PalStudio/ui/pal-inspect-view.ui");
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, layer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, layer_list);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, target_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, target_list);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, cam_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, cam_list);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, shared_switch);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, spinner);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, face_stack);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, face_view);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, notice);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, notice_label);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, notice_spinner);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, faces_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, find_faces_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, notice_place_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, notice_load_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, found_label);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, whole_photo_toggle);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, map_label);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, landmarks_toggle);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, prior_toggle);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, map_toggle);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, sigma_adjustment);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, noise_adjustment);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, controls);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, place_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, save_landmarks_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, demo_button);
  gtk_widget_class_bind_template_child (widget_class, PalInspectView, columns_box);
  gtk_widget_class_bind_template_child_full (widget_class, "column_a", FALSE,
                                             G_STRUCT_OFFSET (PalInspectView, columns[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "column_b", FALSE,
                                             G_STRUCT_OFFSET (PalInspectView, columns[1]));
  gtk_widget_class_bind_template_callback (widget_class, on_fig7_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_place_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_load_landmarks_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_save_landmarks_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_map_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_column_close);
  gtk_widget_class_bind_template_callback (widget_class, on_whole_photo_toggled);
  gtk_widget_class_bind_template_callback (widget_class, pal_inspect_view_load_demo);

  gtk_widget_class_install_action (widget_class, "inspect.choose-face", "i", choose_face_activated);
  gtk_widget_class_install_action (widget_class, "inspect.find-faces", NULL, find_faces_activated);
  gtk_widget_class_install_action (widget_class, "inspect.use-faceapi", "i", use_faceapi_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspectview");
}

static void
pal_inspect_view_init (PalInspectView *self)
{
  g_autoptr (GtkStringList) colormaps = NULL;
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->inspector = pal_inspector_new ();
  self->face_search = pal_face_search_new (self->inspector, NULL, NULL);
  self->sel_slot = 0;
  self->sel_kind = PAL_MAP_GI_FIRST;
  pal_face_view_set_inspector (self->face_view, self->inspector);

  colormaps = gtk_string_list_new (pal_colormap_names ());
  gtk_drop_down_set_model (self->colormap_dropdown, G_LIST_MODEL (colormaps));

  /* the overlays */
  g_object_bind_property (self->landmarks_toggle, "active", self->face_view, "show-landmarks",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->prior_toggle, "active", self->face_view, "show-prior",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->map_toggle, "active", self->face_view, "show-map",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->opacity_adjustment, "value", self->face_view, "opacity",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->colormap_dropdown, "selected", self->face_view, "colormap",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->opacity_adjustment, "value-changed",
                            G_CALLBACK (on_style_changed), self);
  g_signal_connect_swapped (self->colormap_dropdown, "notify::selected",
                            G_CALLBACK (on_style_changed), self);
  g_signal_connect_swapped (self->shared_switch, "notify::active", G_CALLBACK (refresh), self);

  /* the choices */
  g_object_bind_property (self->inspector, "sigma", self->sigma_adjustment, "value",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->inspector, "noise", self->noise_adjustment, "value",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_signal_connect_swapped (self->layer_dropdown, "notify::selected",
                            G_CALLBACK (on_layer_selected), self);
  g_signal_connect_swapped (self->target_dropdown, "notify::selected",
                            G_CALLBACK (on_target_selected), self);
  g_signal_connect_swapped (self->cam_dropdown, "notify::selected",
                            G_CALLBACK (on_cam_selected), self);

  g_signal_connect_swapped (self->inspector, "image-changed", G_CALLBACK (on_image_changed), self);
  g_signal_connect_swapped (self->inspector, "crop-changed", G_CALLBACK (on_crop_changed), self);
  g_signal_connect_swapped (self->inspector, "landmarks-changed",
                            G_CALLBACK (on_landmarks_changed), self);
  g_signal_connect_swapped (self->inspector, "models-changed", G_CALLBACK (on_models_changed), self);
  g_signal_connect_swapped (self->inspector, "results-changed", G_CALLBACK (on_results_changed), self);
  g_signal_connect_swapped (self->inspector, "notify::layer", G_CALLBACK (on_choice_notify), self);
  g_signal_connect_swapped (self->inspector, "notify::target", G_CALLBACK (on_choice_notify), self);
  g_signal_connect_swapped (self->inspector, "notify::cam-class", G_CALLBACK (on_choice_notify), self);
  g_signal_connect_swapped (self->inspector, "notify::busy", G_CALLBACK (on_busy_notify), self);
  g_signal_connect_swapped (self->face_search, "notify::state",
                            G_CALLBACK (on_face_search_changed), self);
  g_signal_connect_swapped (self->face_search, "notify::chosen",
                            G_CALLBACK (on_face_search_changed), self);
  g_signal_connect_swapped (self->face_search, "notify::chosen",
                            G_CALLBACK (on_face_chosen), self);
  g_signal_connect (self->face_view, "face-activated", G_CALLBACK (on_face_activated), self);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  gtk_widget_set_visible (self->demo_button, pal_application_get_demo_dir () != NULL);
  rebuild_choices (self);
  on_image_changed (self);
  on_face_search_changed (self);
  on_busy_notify (self);
  on_style_changed (self);
  refresh (self);
}
