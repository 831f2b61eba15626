/* pal-emotion-view.c: the Per-emotion maps page
 *
 * A sidebar of settings (two models, a dataset with its format and split,
 * the Grad-CAM layer and the analysis's options) and, beside it, the
 * results of the page's PalEmotionJob: one PalEmotionGrid per model, side
 * by side.  The page shows whatever the job finishes, whoever started it.
 * Until the user picks a dataset, the synthetic demo faces are used: they
 * are made in the user's cache on the first Compute (pal-demo-data.h).
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "pal-application.h"
#include "pal-demo-data.h"
#include "pal-emotion-grid.h"
#include "pal-emotion-view.h"
#include "pal-error.h"
#include "pal-export.h"
#include "pal-faceapi.h"
#include "pal-file.h"
#include "pal-model-io.h"
#include "pal-texture.h"
#include "pal-window.h"

/* The demo faces: as many, and as large, as the demo models were trained on. */
#define DEMO_N    700
#define DEMO_SIZE 48

struct _PalEmotionView
{
  GtkWidget        parent_instance;

  PalEmotionJob   *job;
  PalModel        *model_a;          /* for the layer list */
  char           **layer_names;      /* row i of layer_list is layer_names[i - 1];
                                     * row 0: the default (PAL layer) */
  gboolean         demo_dataset;
  GCancellable    *demo_cancellable; /* while the demo faces are being made */
  gboolean         updating_layers;

  /* template */
  AdwActionRow    *model_a_row;
  AdwActionRow    *model_b_row;
  GtkWidget       *clear_b_button;
  AdwActionRow    *dataset_row;
  GtkWidget       *demo_button;
  AdwComboRow     *format_row;
  AdwComboRow     *split_row;
  AdwComboRow     *layer_row;
  GtkStringList   *layer_list;
  GtkSpinButton   *frontal_spin;
  GtkSpinButton   *batch_spin;
  GtkProgressBar  *progress_bar;
  GtkWidget       *compute_button;
  GtkWidget       *cancel_button;
  GtkDropDown     *colormap_dropdown;
  GtkStack        *results_stack;
  GtkWidget       *results_box;
  GtkLabel        *results_title;
  GtkLabel        *results_note;
  PalEmotionGrid  *grid_a;
  PalEmotionGrid  *grid_b;
};

G_DEFINE_FINAL_TYPE (PalEmotionView, pal_emotion_view, GTK_TYPE_WIDGET)

static const PalDatasetFormat formats[] = {
  PAL_DATASET_AUTO, PAL_DATASET_RAFDB, PAL_DATASET_AFFECTNET,
  PAL_DATASET_FER2013, PAL_DATASET_FERPLUS, PAL_DATASET_FOLDER,
};

static const char *
split_title (PalSplit split)
{
  switch (split)
    {
    case PAL_SPLIT_TRAIN: return _("training split");
    case PAL_SPLIT_VAL: return _("validation split");
    case PAL_SPLIT_TEST: return _("test split");
    default: return _("all splits");
    }
}

static char *
file_title (const char *path)
{
  char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".safetensors"))
    base[strlen (base) - strlen (".safetensors")] = '\0';
  return base;
}

static gboolean
is_busy (PalEmotionView *self)
{
  return pal_emotion_job_get_running (self->job) || self->demo_cancellable != NULL;
}

/* --- the state of the controls ------------------------------------------------------ */

static void
update_actions (PalEmotionView *self)
{
  gboolean busy = is_busy (self);
  gboolean results = pal_emotion_grid_has_means (self->grid_a);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.compute", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.cancel", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.export", results);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.save-csv",
                                 results && pal_emotion_job_get_n_results (self->job) > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.copy", results);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "emotion.copy-table",
                                 results && pal_emotion_job_get_n_results (self->job) > 0);
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_opacity (self->results_box, busy ? 0.45 : 1.0);
}

/* What a model row says of @path. */
static char *
model_display_name (const char *path)
{
  if (!path)
    return NULL;
  if (strcmp (path, PAL_FACEAPI_MODEL_NAME) == 0)
    return g_strdup (_("face-api expression"));
  return g_path_get_basename (path);
}

static void
update_model_rows (PalEmotionView *self)
{
  const char *a = pal_emotion_job_get_model_path (self->job, 0);
  const char *b = pal_emotion_job_get_model_path (self->job, 1);
  g_autofree char *a_name = model_display_name (a);
  g_autofree char *b_name = model_display_name (b);

  adw_action_row_set_subtitle (self->model_a_row, a_name ? a_name : _("None"));
  adw_action_row_set_subtitle (self->model_b_row, b_name ? b_name : _("None: one model"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_a_row), a);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_b_row), b);
  gtk_widget_set_visible (self->clear_b_button, b != NULL);
}

static void
update_dataset_row (PalEmotionView *self)
{
  const char *dir = pal_emotion_job_get_dataset_dir (self->job);
  g_autofree char *demo = pal_demo_synth_dir (DEMO_N, DEMO_SIZE);

  /* the job's dataset may have been set without the page */
  self->demo_dataset = g_strcmp0 (dir, demo) == 0;
  if (self->demo_dataset)
    {
      g_autofree char *subtitle = g_strdup_printf (_("Synthetic demo faces (%d, %d×%d)"), DEMO_N,
                                                   DEMO_SIZE, DEMO_SIZE);
      adw_action_row_set_subtitle (self->dataset_row, subtitle);
    }
  else
    {
      g_autofree char *base = dir ? g_path_get_basename (dir) : NULL;
      adw_action_row_set_subtitle (self->dataset_row, base ? base : _("None"));
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->dataset_row), dir);
  gtk_widget_set_visible (self->demo_button, !self->demo_dataset);
}

/* The layers of model A: its PAL layer first, then every node Grad-CAM
 * can use; the chosen one stays chosen when the new model has it. */
static void
fill_layers (PalEmotionView *self)
{
  g_autofree char *keep = g_strdup (pal_emotion_job_get_layer (self->job));
  GPtrArray *names = g_ptr_array_new ();
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->layer_list));
  g_autoptr (GPtrArray) titles = g_ptr_array_new_with_free_func (g_free);
  guint selected = 0;

  if (self->model_a)
    {
      PalGraph *g = pal_model_get_graph (self->model_a);
      const char *def = pal_emotion_job_default_layer (self->model_a);

      g_ptr_array_add (titles, g_strdup_printf (_("Default (%s)"), def ? def : "–"));
      for (int node = 1; node < pal_graph_get_n_nodes (g); node++)
        {
          const char *name = pal_graph_node_name (g, node);
          int c, h, w;

          if (!pal_graph_check_attribution_node (g, node, FALSE, NULL))
            continue;
          pal_graph_node_shape (g, node, &c, &h, &w);
          if (g_strcmp0 (name, keep) == 0)
            selected = names->len + 1;   /* row 0 is the default */
          g_ptr_array_add (names, g_strdup (name));
          g_ptr_array_add (titles, g_strdup_printf ("%s  (%d×%d×%d)", name, c, h, w));
        }
    }
  else
    g_ptr_array_add (titles, g_strdup (_("Default")));
  g_ptr_array_add (names, NULL);
  g_ptr_array_add (titles, NULL);

  self->updating_layers = TRUE;
  g_strfreev (self->layer_names);
  self->layer_names = (char **) g_ptr_array_free (names, FALSE);
  gtk_string_list_splice (self->layer_list, 0, n_old, (const char *const *) titles->pdata);
  adw_combo_row_set_selected (self->layer_row, selected);
  self->updating_layers = FALSE;
  pal_emotion_job_set_layer (self->job, selected == 0 ? NULL : self->layer_names[selected - 1]);
}

static void
on_layer_selected (PalEmotionView *self)
{
  guint i = adw_combo_row_get_selected (self->layer_row);

  if (self->updating_layers || !self->layer_names)
    return;
  if (i == 0)
    pal_emotion_job_set_layer (self->job, NULL);
  else if (i - 1 < g_strv_length (self->layer_names))
    pal_emotion_job_set_layer (self->job, self->layer_names[i - 1]);
}

static void
on_format_selected (PalEmotionView *self)
{
  guint i = adw_combo_row_get_selected (self->format_row);

  pal_emotion_job_set_dataset (self->job, pal_emotion_job_get_dataset_dir (self->job),
                               formats[MIN (i, G_N_ELEMENTS (formats) - 1)]);
}

static void
on_split_selected (PalEmotionView *self)
{
  static const PalSplit splits[] = { PAL_SPLIT_TRAIN, PAL_SPLIT_VAL, PAL_SPLIT_TEST, PAL_SPLIT_ALL };
  guint i = adw_combo_row_get_selected (self->split_row);

  pal_emotion_job_set_split (self->job, splits[MIN (i, G_N_ELEMENTS (splits) - 1)]);
}

static void
on_spin_changed (PalEmotionView *self)
{
  pal_emotion_job_set_frontal_eps (self->job, gtk_spin_button_get_value (self->frontal_spin));
  pal_emotion_job_set_batch_size (self->job, gtk_spin_button_get_value_as_int (self->batch_spin));
}

static void
on_colormap_selected (PalEmotionView *self)
{
  PalColormap cm = pal_colormap_from_index (gtk_drop_down_get_selected (self->colormap_dropdown));

  pal_emotion_grid_set_colormap (self->grid_a, cm);
  pal_emotion_grid_set_colormap (self->grid_b, cm);
}

/* --- models and dataset ------------------------------------------------------------ */

/* Opens @path as the model of @slot; a broken file is reported and the
 * slot keeps its model. */
static gboolean
set_model (PalEmotionView *self, int slot, const char *path, gboolean report)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = pal_faceapi_open_model (path, NULL, &error);

  if (!model)
    {
      if (report)
        pal_show_error (GTK_WIDGET (self), _("Could not open the model"), error);
      else
        g_debug ("%s", error->message);
      return FALSE;
    }
  pal_emotion_job_set_model_path (self->job, slot, path);
  if (slot == 0)
    {
      g_clear_pointer (&self->model_a, pal_model_unref);
      self->model_a = g_steal_pointer (&model);
      fill_layers (self);
    }
  update_model_rows (self);
  return TRUE;
}

static void
on_model_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (user_data);
  int slot = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "slot"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path)
        set_model (self, slot, path, TRUE);
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
choose_model_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);
  int slot = g_variant_get_int32 (param);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (slot == 0 ? _("Choose Model A") : _("Choose Model B"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_filter_set_name (filter, _("Models (.safetensors)"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_set_data (G_OBJECT (chooser), "slot", GINT_TO_POINTER (slot));
  g_signal_connect (chooser, "response", G_CALLBACK (on_model_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* face-api's expression network in a slot: by name, loaded (and checked)
 * as a file would be, and again by each run. */
gboolean
pal_emotion_view_use_faceapi_model (PalEmotionView *self, int slot)
{
  g_return_val_if_fail (PAL_IS_EMOTION_VIEW (self), FALSE);
  g_return_val_if_fail (slot >= 0 && slot < PAL_EMOTION_JOB_N_SLOTS, FALSE);

  return set_model (self, slot, PAL_FACEAPI_MODEL_NAME, TRUE);
}

static void
use_faceapi_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  pal_emotion_view_use_faceapi_model (PAL_EMOTION_VIEW (widget), g_variant_get_int32 (param));
}

static void
clear_model_b_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);

  pal_emotion_job_set_model_path (self->job, 1, NULL);
  update_model_rows (self);
}

static PalDatasetFormat
chosen_format (PalEmotionView *self)
{
  return formats[MIN (adw_combo_row_get_selected (self->format_row), G_N_ELEMENTS (formats) - 1)];
}

static void
on_dataset_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (user_data);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path)
        {
          self->demo_dataset = FALSE;
          pal_emotion_job_set_dataset (self->job, path, chosen_format (self));
          update_dataset_row (self);
        }
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
choose_dataset_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Choose a Dataset Folder"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                         _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_dataset_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
use_demo_faces (PalEmotionView *self)
{
  g_autofree char *dir = pal_demo_synth_dir (DEMO_N, DEMO_SIZE);

  self->demo_dataset = TRUE;
  adw_combo_row_set_selected (self->format_row, 0);
  pal_emotion_job_set_dataset (self->job, dir, PAL_DATASET_AUTO);
  update_dataset_row (self);
}

static void
use_demo_faces_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  use_demo_faces (PAL_EMOTION_VIEW (widget));
}

/* --- computing ----------------------------------------------------------------------- */

static void
on_demo_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PalEmotionView) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = pal_demo_synth_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED)
      || !self->demo_cancellable)
    return;   /* cancelled, or the page went away */
  g_clear_object (&self->demo_cancellable);
  if (!dir)
    {
      update_actions (self);
      pal_show_error (GTK_WIDGET (self), _("Could not make the demo faces"), error);
      return;
    }
  /* still the demo set the user asked for */
  if (self->demo_dataset)
    pal_emotion_job_set_dataset (self->job, dir, PAL_DATASET_AUTO);
  pal_emotion_job_start (self->job);
}

static void
compute_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);

  if (is_busy (self))
    return;
  if (self->demo_dataset && !pal_demo_synth_ready (DEMO_N, DEMO_SIZE))
    {
      self->demo_cancellable = g_cancellable_new ();
      gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
      gtk_progress_bar_set_text (self->progress_bar, _("Making the synthetic demo faces…"));
      gtk_progress_bar_pulse (self->progress_bar);
      update_actions (self);
      pal_demo_synth_ensure_async (DEMO_N, DEMO_SIZE, self->demo_cancellable, on_demo_ready,
                                   g_object_ref (self));
      return;
    }
  pal_emotion_job_start (self->job);
}

static void
cancel_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);

  if (self->demo_cancellable)
    {
      g_cancellable_cancel (self->demo_cancellable);
      g_clear_object (&self->demo_cancellable);
      update_actions (self);
      pal_toast (widget, "%s", _("Stopped"));
      return;
    }
  pal_emotion_job_cancel (self->job);
}

static void
on_job_running (PalEmotionView *self)
{
  if (pal_emotion_job_get_running (self->job))
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
      gtk_progress_bar_set_text (self->progress_bar, _("Opening the models and the faces…"));
    }
  update_dataset_row (self);
  update_actions (self);
}

static void
on_job_progress (PalEmotionJob *job, int slot, int stage, int done, int total,
                 PalEmotionView *self)
{
  const char *path = pal_emotion_job_get_model_path (job, slot);
  g_autofree char *model = path ? file_title (path) : g_strdup ("?");
  g_autofree char *text = NULL;

  if (stage == PAL_ANALYSIS_STAGE_LANDMARKS)
    /* translators: model name, then counts */
    text = g_strdup_printf (_("%s: reading faces, %d of %d"), model, done, total);
  else
    /* translators: model name, then counts */
    text = g_strdup_printf (_("%s: Grad-CAM, %d of %d images"), model, done, total);
  gtk_progress_bar_set_text (self->progress_bar, text);
  gtk_progress_bar_set_fraction (self->progress_bar, pal_emotion_job_get_fraction (job));
}

static void
show_results (PalEmotionView *self)
{
  PalEmotionJob *job = self->job;
  const PalGradcamMeans *a = pal_emotion_job_get_result (job, 0);
  const PalGradcamMeans *b = pal_emotion_job_get_result (job, 1);
  const char *dataset = pal_emotion_job_get_result_dataset (job);
  g_autofree char *data_name = NULL;
  g_autofree char *title = NULL;
  g_autoptr (GString) note = g_string_new (NULL);
  const char *names[PAL_ANALYSIS_MAX_CLASSES + 1] = { NULL };
  int used = 0;

  if (!a)
    return;
  for (int k = 0; k < a->n_classes; k++)
    {
      names[k] = pal_emotion_class_title (k);
      used += a->counts[k];
    }
  pal_emotion_grid_set_means (self->grid_a, a, names, pal_emotion_job_get_model_name (job, 0));
  pal_emotion_grid_set_means (self->grid_b, b, names,
                              b ? pal_emotion_job_get_model_name (job, 1) : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->grid_b), b != NULL);

  {
    g_autofree char *demo = pal_demo_synth_dir (DEMO_N, DEMO_SIZE);

    data_name = g_strcmp0 (dataset, demo) == 0 ? g_strdup (_("synthetic demo faces"))
                                               : g_path_get_basename (dataset);
  }
  if (a->frontal_eps > 0)
    /* translators: dataset, split, distance in pixels, number of images */
    title = g_strdup_printf (_("Mean Grad-CAM per emotion · %s, %s, faces frontal within %g px: %d images"),
                             data_name, split_title (pal_emotion_job_get_result_split (job)),
                             a->frontal_eps, used);
  else
    /* translators: dataset, split, number of images */
    title = g_strdup_printf (_("Mean Grad-CAM per emotion · %s, %s: %d images"), data_name,
                             split_title (pal_emotion_job_get_result_split (job)), used);
  gtk_label_set_text (self->results_title, title);

  g_string_append_printf (note,
                          _("Each tile: the emotion’s mean face under its mean Grad-CAM map "
                            "(at %s, %d×%d, coloured over the map’s own range). The k landmarks "
                            "where the map is highest are compared with the emotion’s action-unit "
                            "landmarks (Table 4, k = the set’s size); chance = k / 68. Neutral has "
                            "no action units: its ten most activated landmarks are ringed."),
                          a->layer, a->map_width, a->map_height);
  if (a->n_no_landmarks || a->n_not_frontal || a->n_failed)
    {
      g_string_append_c (note, ' ');
      g_string_append_printf (note, _("Left out of %d: %d without landmarks, %d not frontal, "
                                      "%d unreadable."),
                              a->n_split, a->n_no_landmarks, a->n_not_frontal, a->n_failed);
    }
  gtk_label_set_text (self->results_note, note->str);
  gtk_stack_set_visible_child_name (self->results_stack, "results");
}

static void
on_job_finished (PalEmotionJob *job, const GError *error, PalEmotionView *self)
{
  update_actions (self);
  if (g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED))
    {
      pal_toast (GTK_WIDGET (self), "%s", _("Stopped"));
      return;
    }
  if (error)
    {
      pal_show_error (GTK_WIDGET (self), _("Could not compute the per-emotion maps"), error);
      return;
    }
  show_results (self);
  update_actions (self);
}

/* --- export ---------------------------------------------------------------------------- */

static gboolean
write_csv (PalEmotionView *self, const char *path, GError **error)
{
  g_autofree char *csv = pal_emotion_job_to_csv (self->job);

  if (!csv)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, _("Could not write %s: no table yet"),
                   path);
      return FALSE;
    }
  if (!pal_file_replace_data (path, csv, strlen (csv)))
    {
      int err = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), _("Could not write %s: %s"),
                   path, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static void
on_png_path (const char *path, gpointer user_data)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *csv_path = NULL;
  g_autofree char *base = NULL;

  if (!pal_export_widget_png (self->results_box, 2.0, path, &error))
    {
      pal_show_error (GTK_WIDGET (self), _("Could not export the maps"), error);
      return;
    }
  /* the table beside the picture */
  base = g_str_has_suffix (path, ".png") ? g_strndup (path, strlen (path) - 4) : g_strdup (path);
  csv_path = g_strconcat (base, ".csv", NULL);
  if (pal_emotion_job_get_n_results (self->job) > 0 && !write_csv (self, csv_path, &error))
    {
      pal_show_error (GTK_WIDGET (self), _("Could not save the table"), error);
      return;
    }
  {
    g_autofree char *png_name = g_path_get_basename (path);
    g_autofree char *csv_name = g_path_get_basename (csv_path);

    if (pal_emotion_job_get_n_results (self->job) > 0)
      pal_toast (GTK_WIDGET (self), _("Saved %s and %s"), png_name, csv_name);
    else
      pal_toast (GTK_WIDGET (self), _("Saved %s"), png_name);
  }
}

static void
on_csv_path (const char *path, gpointer user_data)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_path_get_basename (path);

  if (!write_csv (self, path, &error))
    pal_show_error (GTK_WIDGET (self), _("Could not save the table"), error);
  else
    pal_toast (GTK_WIDGET (self), _("Saved %s"), name);
}

static char *
suggested_name (PalEmotionView *self, const char *ext)
{
  const char *a = pal_emotion_job_get_model_name (self->job, 0);

  return g_strdup_printf ("emotion-maps-%s.%s", a ? a : "model", ext);
}

void
pal_emotion_view_export (PalEmotionView *self)
{
  g_autofree char *name = NULL;

  g_return_if_fail (PAL_IS_EMOTION_VIEW (self));

  if (!pal_emotion_grid_has_means (self->grid_a))
    {
      pal_toast (GTK_WIDGET (self), "%s", _("Compute the maps first"));
      return;
    }
  name = suggested_name (self, "png");
  pal_export_choose_file (GTK_WIDGET (self), _("Export the Maps as PNG"), name, "image/png",
                          on_png_path, self, NULL);
}

void
pal_emotion_view_copy (PalEmotionView *self)
{
  g_return_if_fail (PAL_IS_EMOTION_VIEW (self));

  if (!pal_emotion_grid_has_means (self->grid_a))
    {
      pal_toast (GTK_WIDGET (self), "%s", _("Compute the maps first"));
      return;
    }
  pal_export_copy_widget (self->results_box, 2.0);
  pal_toast (GTK_WIDGET (self), "%s", _("Picture copied"));
}

PalEmotionJob *
pal_emotion_view_get_job (PalEmotionView *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_VIEW (self), NULL);
  return self->job;
}

static void
export_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  pal_emotion_view_export (PAL_EMOTION_VIEW (widget));
}

static void
copy_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  pal_emotion_view_copy (PAL_EMOTION_VIEW (widget));
}

static void
save_csv_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);
  g_autofree char *name = suggested_name (self, "csv");

  pal_export_choose_file (widget, _("Save the Table as CSV"), name, "text/csv",
                          on_csv_path, self, NULL);
}

static void
copy_table_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (widget);
  g_autoptr (GString) text = g_string_new (NULL);
  const char *const *names = pal_emotion_job_get_class_names (self->job);

  for (int slot = 0; slot < PAL_EMOTION_JOB_N_SLOTS; slot++)
    {
      const PalGradcamMeans *m = pal_emotion_job_get_result (self->job, slot);
      g_autofree char *table = NULL;

      if (!m)
        continue;
      table = pal_gradcam_means_to_string (m, names);
      g_string_append_printf (text, "%s%s (%s)\n%s", text->len ? "\n" : "",
                              pal_emotion_job_get_model_name (self->job, slot), m->layer, table);
    }
  if (text->len == 0)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text->str);
  pal_toast (widget, "%s", _("Table copied"));
}

/* --- GObject ----------------------------------------------------------------------------- */

static void
pal_emotion_view_dispose (GObject *object)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (object);

  if (self->job)
    {
      g_signal_handlers_disconnect_by_data (self->job, self);
      pal_emotion_job_cancel (self->job);
      g_clear_object (&self->job);
    }
  if (self->demo_cancellable)
    g_cancellable_cancel (self->demo_cancellable);
  g_clear_object (&self->demo_cancellable);
  g_clear_pointer (&self->model_a, pal_model_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), PAL_TYPE_EMOTION_VIEW);
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (pal_emotion_view_parent_class)->dispose (object);
}

static void
pal_emotion_view_finalize (GObject *object)
{
  PalEmotionView *self = PAL_EMOTION_VIEW (object);

  g_strfreev (self->layer_names);
  G_OBJECT_CLASS (pal_emotion_view_parent_class)->finalize (object);
}

static void
pal_emotion_view_class_init (PalEmotionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_emotion_view_dispose;
  object_class->finalize = pal_emotion_view_finalize;

  g_type_ensure (PAL_TYPE_EMOTION_GRID);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/palstudio/PalStudio/ui/pal-emotion-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, model_a_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, model_b_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, clear_b_button);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, dataset_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, demo_button);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, format_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, split_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, layer_row);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, layer_list);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, frontal_spin);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, batch_spin);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, compute_button);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, results_stack);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, results_box);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, results_title);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, results_note);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, grid_a);
  gtk_widget_class_bind_template_child (widget_class, PalEmotionView, grid_b);

  gtk_widget_class_install_action (widget_class, "emotion.choose-model", "i",
                                   choose_model_activated);
  gtk_widget_class_install_action (widget_class, "emotion.use-faceapi", "i",
                                   use_faceapi_activated);
  gtk_widget_class_install_action (widget_class, "emotion.clear-model-b", NULL,
                                   clear_model_b_activated);
  gtk_widget_class_install_action (widget_class, "emotion.choose-dataset", NULL,
                                   choose_dataset_activated);
  gtk_widget_class_install_action (widget_class, "emotion.use-demo-faces", NULL,
                                   use_demo_faces_activated);
  gtk_widget_class_install_action (widget_class, "emotion.compute", NULL, compute_activated);
  gtk_widget_class_install_action (widget_class, "emotion.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "emotion.export", NULL, export_activated);
  gtk_widget_class_install_action (widget_class, "emotion.save-csv", NULL, save_csv_activated);
  gtk_widget_class_install_action (widget_class, "emotion.copy", NULL, copy_activated);
  gtk_widget_class_install_action (widget_class, "emotion.copy-table", NULL,
                                   copy_table_activated);
}

static void
pal_emotion_view_init (PalEmotionView *self)
{
  const char *demo = pal_application_get_demo_dir ();
  g_autoptr (GtkStringList) colormaps = gtk_string_list_new (pal_colormap_names ());

  gtk_widget_init_template (GTK_WIDGET (self));

  self->job = pal_emotion_job_new ();
  g_signal_connect_swapped (self->job, "notify::running", G_CALLBACK (on_job_running), self);
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);

  gtk_drop_down_set_model (self->colormap_dropdown, G_LIST_MODEL (colormaps));
  for (guint i = 0; pal_colormap_names ()[i]; i++)
    if (pal_colormap_from_index (i) == PAL_COLORMAP_JET)
      gtk_drop_down_set_selected (self->colormap_dropdown, i);
  g_signal_connect_swapped (self->colormap_dropdown, "notify::selected",
                            G_CALLBACK (on_colormap_selected), self);
  g_signal_connect_swapped (self->layer_row, "notify::selected",
                            G_CALLBACK (on_layer_selected), self);
  g_signal_connect_swapped (self->format_row, "notify::selected",
                            G_CALLBACK (on_format_selected), self);
  g_signal_connect_swapped (self->split_row, "notify::selected",
                            G_CALLBACK (on_split_selected), self);
  g_signal_connect_swapped (self->frontal_spin, "value-changed",
                            G_CALLBACK (on_spin_changed), self);
  g_signal_connect_swapped (self->batch_spin, "value-changed",
                            G_CALLBACK (on_spin_changed), self);

  /* the defaults: the two demo models on the synthetic demo faces */
  if (demo)
    {
      g_autofree char *pal = g_build_filename (demo, "demo-pal.safetensors", NULL);
      g_autofree char *base = g_build_filename (demo, "demo-baseline.safetensors", NULL);

      set_model (self, 0, pal, FALSE);
      set_model (self, 1, base, FALSE);
    }
  if (!self->model_a)
    fill_layers (self);
  use_demo_faces (self);
  update_model_rows (self);
  update_actions (self);
}
