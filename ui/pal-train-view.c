/* pal-train-view.c: the Train page
 *
 * A form of settings on the left (defaults from pal_train_config_init(),
 * the paper's), the run on the right: Start / Stop / Resume, a progress
 * bar with throughput and time left, live curves of the losses and the
 * accuracies, and when a run ends the best model's confusion matrix on the
 * validation split with a button that opens the model in Inspect.
 *
 * The run itself is a PalTrainSession (the page's view model); it keeps
 * going while another page is shown.  With "Synthetic demo faces" the set
 * is made first, once, in the user's cache (pal-demo-data.h).  Each new
 * run gets its own folder ARCH-DATE-TIME under the runs folder.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pal-application.h"
#include "pal-arch.h"
#include "pal-confusion-view.h"
#include "pal-demo-data.h"
#include "pal-error.h"
#include "pal-export.h"
#include "pal-graph.h"
#include "pal-plot.h"
#include "pal-train-view.h"
#include "pal-window.h"

#define DEMO_N    700
#define DEMO_SIZE 48

/* The format row's items, in order. */
static const char *const formats[] = { "auto", "rafdb", "affectnet", "fer2013", "ferplus", "folder" };
static const char *const attributions[] = { "grad", "grad-input" };
static const char *const channel_modes[] = { "all", "mean", "first" };

struct _PalTrainView
{
  GtkWidget          parent_instance;

  PalTrainSession   *session;
  GCancellable      *demo_cancellable;   /* making the demo set; NULL otherwise */
  PalTrainConfig     pending;            /* the run waiting for the demo set */
  gboolean           have_pending;
  char              *dataset_path;
  char              *arch_file;
  char              *out_parent;
  GStrv              arch_names;         /* the arch row's builtin names; "" for small48, NULL-ended */
  GStrv              layer_names;        /* the layer row's names after "Default" */
  guint              loss_ce, loss_pal, acc_batches, acc_train, acc_val;

  /* template */
  GtkWidget         *form_box;
  GtkSwitch         *demo_switch;
  AdwActionRow      *dataset_row;
  AdwComboRow       *format_row;
  AdwComboRow       *arch_row;
  AdwExpanderRow    *pal_row;
  AdwComboRow       *layer_row;
  AdwComboRow       *attribution_row;
  AdwComboRow       *channels_row;
  AdwActionRow      *c1_row;
  GtkSpinButton     *c1_spin;
  GtkSpinButton     *lambda_spin;
  GtkSpinButton     *sigma_spin;
  GtkSpinButton     *noise_spin;
  GtkSpinButton     *epochs_spin;
  GtkSpinButton     *batch_spin;
  AdwEntryRow       *lr_row;
  AdwEntryRow       *wd_row;
  GtkSpinButton     *seed_spin;
  AdwActionRow      *out_row;
  GtkWidget         *start_button;
  GtkWidget         *stop_button;
  GtkWidget         *resume_button;
  GtkToggleButton   *steps_toggle;
  GtkProgressBar    *progress_bar;
  GtkLabel          *status_label;
  GtkLabel          *speed_label;
  GtkWidget         *report_box;
  PalPlot           *loss_plot;
  PalPlot           *acc_plot;
  GtkWidget         *results_box;
  PalConfusionView  *confusion_view;
  GtkLabel          *results_title;
  GtkLabel          *results_summary;
};

G_DEFINE_FINAL_TYPE (PalTrainView, pal_train_view, GTK_TYPE_WIDGET)

enum {
  OPEN_MODEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- small helpers -------------------------------------------------------------- */

static char *
small48_path (void)
{
  const char *dir = pal_application_get_demo_dir ();
  char *path;

  if (!dir)
    return NULL;
  path = g_build_filename (dir, "small48.arch", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_clear_pointer (&path, g_free);
  return path;
}

static char *
default_out_parent (void)
{
  return g_build_filename (g_get_user_data_dir (), "pal-studio", "runs", NULL);
}

static const char *
format_label (PalDatasetFormat format)
{
  switch (format)
    {
    case PAL_DATASET_RAFDB: return _("RAF-DB");
    case PAL_DATASET_AFFECTNET: return _("AffectNet");
    case PAL_DATASET_FER2013: return _("FER2013");
    case PAL_DATASET_FERPLUS: return _("FER+");
    case PAL_DATASET_FOLDER: return _("One folder per class");
    case PAL_DATASET_AUTO:
    default: return _("Automatic");
    }
}

static char *
format_duration (double s)
{
  if (s < 60)
    return g_strdup_printf (_("%.0f s left"), MAX (s, 1.0));
  if (s < 3600)
    return g_strdup_printf (_("%.0f min left"), ceil (s / 60));
  return g_strdup_printf (_("%d h %02d min left"), (int) (s / 3600), (int) fmod (s / 60, 60));
}

/* The arch row's choice: *name a built-in, or *file; index of the
 * "Architecture file" item is the last. */
static gboolean
arch_is_file_item (PalTrainView *self, guint index)
{
  return index == g_strv_length (self->arch_names);
}

static void
arch_choice (PalTrainView *self, char **name, char **file)
{
  guint i = adw_combo_row_get_selected (self->arch_row);

  *name = NULL;
  *file = NULL;
  if (arch_is_file_item (self, i))
    *file = g_strdup (self->arch_file);
  else if (i < g_strv_length (self->arch_names) && *self->arch_names[i])
    *name = g_strdup (self->arch_names[i]);
  else
    *file = small48_path ();
}

/* --- the form ------------------------------------------------------------------- */

static void
update_dataset_rows (PalTrainView *self)
{
  gboolean demo = gtk_switch_get_active (self->demo_switch);
  guint fmt = adw_combo_row_get_selected (self->format_row);

  gtk_widget_set_sensitive (GTK_WIDGET (self->dataset_row), !demo);
  gtk_widget_set_sensitive (GTK_WIDGET (self->format_row), !demo);
  adw_action_row_set_subtitle (self->dataset_row,
                               self->dataset_path ? self->dataset_path : _("None chosen"));
  if (!demo && fmt == 0 && self->dataset_path)
    {
      g_autofree char *text = g_strdup_printf (_("Detected: %s"),
                                               format_label (pal_dataset_detect (self->dataset_path)));

      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->format_row), text);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->format_row), "");
}

static void
on_demo_toggled (PalTrainView *self)
{
  update_dataset_rows (self);
}

static void
on_format_changed (PalTrainView *self)
{
  update_dataset_rows (self);
}

static void
on_channels_changed (PalTrainView *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->c1_row),
                            adw_combo_row_get_selected (self->channels_row) == 2);
}

/* The layer row: "Default (NAME)" and every node PAL accepts. */
static void
fill_layers (PalTrainView *self)
{
  g_autofree char *name = NULL, *file = NULL, *text = NULL;
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_autofree char *default_label = NULL;
  const char *default_name = NULL;
  PalGraph *g = NULL;

  arch_choice (self, &name, &file);
  if (name)
    {
      text = pal_arch_builtin_text (name, 0, 0, NULL);
      default_name = pal_arch_default_layer (name);
    }
  else if (file)
    g_file_get_contents (file, &text, NULL, NULL);
  if (text)
    g = pal_arch_parse (text, NULL);
  if (g)
    {
      for (int i = pal_graph_get_n_nodes (g) - 1; i > 0; i--)
        {
          PalOp op = pal_graph_node_op (g, i);
          int c, h, w;

          pal_graph_node_shape (g, i, &c, &h, &w);
          if (h * w < 2 || (op != PAL_OP_CONV2D && op != PAL_OP_RELU && op != PAL_OP_ADD
                            && op != PAL_OP_BATCHNORM)
              || !pal_graph_check_attribution_node (g, i, TRUE, NULL))
            continue;
          if (!default_name)
            default_name = pal_graph_node_name (g, i);
          g_strv_builder_add (names, pal_graph_node_name (g, i));
        }
    }
  default_label = default_name ? g_strdup_printf (_("Default (%s)"), default_name)
                               : g_strdup (_("Default"));
  gtk_string_list_append (list, default_label);
  g_strfreev (self->layer_names);
  self->layer_names = g_strv_builder_end (names);
  for (guint i = 0; self->layer_names[i]; i++)
    {
      int c, h, w;
      g_autofree char *label = NULL;

      pal_graph_node_shape (g, pal_graph_find (g, self->layer_names[i]), &c, &h, &w);
      label = g_strdup_printf ("%s · %d × %d × %d", self->layer_names[i], c, h, w);
      gtk_string_list_append (list, label);
    }
  adw_combo_row_set_model (self->layer_row, G_LIST_MODEL (list));
  adw_combo_row_set_selected (self->layer_row, 0);
  if (g)
    pal_graph_unref (g);
}

static void
update_arch_subtitle (PalTrainView *self)
{
  g_autofree char *name = NULL, *file = NULL;

  g_autofree char *base = NULL;

  arch_choice (self, &name, &file);
  base = file ? g_path_get_basename (file) : NULL;
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->arch_row), base ? base : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->arch_row), file);
}

static void
on_arch_file_chosen (GObject *dialog, int response, gpointer data)
{
  PalTrainView *self = data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      g_free (self->arch_file);
      self->arch_file = g_file_get_path (file);
      adw_combo_row_set_selected (self->arch_row, g_strv_length (self->arch_names));
      fill_layers (self);
      update_arch_subtitle (self);
    }
  else if (!self->arch_file && arch_is_file_item (self, adw_combo_row_get_selected (self->arch_row)))
    adw_combo_row_set_selected (self->arch_row, 0);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
on_choose_arch (PalTrainView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Choose an Architecture File"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_filter_add_pattern (filter, "*.arch");
  gtk_file_filter_add_pattern (filter, "*.txt");
  gtk_file_filter_set_name (filter, _("Architectures"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (on_arch_file_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_arch_changed (PalTrainView *self)
{
  if (!self->arch_names)
    return;
  if (arch_is_file_item (self, adw_combo_row_get_selected (self->arch_row)) && !self->arch_file)
    {
      on_choose_arch (self);
      return;
    }
  fill_layers (self);
  update_arch_subtitle (self);
}

typedef void (*FolderFunc) (PalTrainView *self, const char *path);

typedef struct {
  PalTrainView *self;
  FolderFunc    func;
} FolderChoice;

static void
on_folder_chosen (GObject *dialog, int response, gpointer data)
{
  FolderChoice *choice = data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path)
        choice->func (choice->self, path);
    }
  g_object_unref (choice->self);
  g_free (choice);
  g_object_unref (dialog);
}

static void
choose_folder (PalTrainView *self, const char *title, const char *accept, FolderFunc func)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  FolderChoice *choice = g_new0 (FolderChoice, 1);

  chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, accept,
                                         _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  choice->self = g_object_ref (self);
  choice->func = func;
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_chosen), choice);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
set_dataset (PalTrainView *self, const char *path)
{
  g_free (self->dataset_path);
  self->dataset_path = g_strdup (path);
  gtk_switch_set_active (self->demo_switch, FALSE);
  update_dataset_rows (self);
}

static void
on_choose_dataset (PalTrainView *self)
{
  choose_folder (self, _("Choose the Dataset Folder"), _("_Select"), set_dataset);
}

static void
set_out_parent (PalTrainView *self, const char *path)
{
  g_free (self->out_parent);
  self->out_parent = g_strdup (path);
  adw_action_row_set_subtitle (self->out_row, path);
}

static void
on_choose_out (PalTrainView *self)
{
  choose_folder (self, _("Choose Where Runs Are Kept"), _("_Select"), set_out_parent);
}

/* Puts @cfg's values in the form (the defaults at start). */
static void
show_config (PalTrainView *self, const PalTrainConfig *cfg)
{
  g_autofree char *lr = pal_train_config_get (cfg, "lr");
  g_autofree char *wd = pal_train_config_get (cfg, "weight-decay");

  adw_expander_row_set_enable_expansion (self->pal_row, cfg->pal);
  for (guint i = 0; i < G_N_ELEMENTS (attributions); i++)
    if (g_strcmp0 (cfg->attribution, attributions[i]) == 0)
      adw_combo_row_set_selected (self->attribution_row, i);
  for (guint i = 0; i < G_N_ELEMENTS (channel_modes); i++)
    if (g_strcmp0 (cfg->channels, channel_modes[i]) == 0)
      adw_combo_row_set_selected (self->channels_row, i);
  gtk_spin_button_set_value (self->c1_spin, cfg->c1);
  gtk_spin_button_set_value (self->lambda_spin, cfg->lambda);
  gtk_spin_button_set_value (self->sigma_spin, cfg->sigma);
  gtk_spin_button_set_value (self->noise_spin, cfg->landmark_noise);
  gtk_spin_button_set_value (self->epochs_spin, cfg->epochs);
  gtk_spin_button_set_value (self->batch_spin, cfg->batch);
  gtk_spin_button_set_value (self->seed_spin, (double) cfg->seed);
  gtk_editable_set_text (GTK_EDITABLE (self->lr_row), lr);
  gtk_editable_set_text (GTK_EDITABLE (self->wd_row), wd);
  on_channels_changed (self);
}

/* Sets @key from the text of a field; the error names the field. */
static gboolean
set_field (PalTrainConfig *cfg, const char *key, const char *text, const char *field,
           GError **error)
{
  g_autoptr (GError) local = NULL;

  if (pal_train_config_set (cfg, key, text, &local))
    return TRUE;
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, _("%s: “%s” is not accepted (%s)"),
               field, text, local->message);
  return FALSE;
}

/* The form's settings into @cfg (initialised here); the dataset is left
 * unset for the demo.  On error, @field_out names the field. */
static gboolean
collect_config (PalTrainView *self, PalTrainConfig *cfg, GError **error)
{
  g_autofree char *name = NULL, *file = NULL, *stamp = NULL, *run = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  guint layer = adw_combo_row_get_selected (self->layer_row);
  const char *parent;

  pal_train_config_init (cfg);
  if (!gtk_switch_get_active (self->demo_switch))
    {
      if (!self->dataset_path)
        {
          g_set_error_literal (error, PAL_ERROR, PAL_ERROR_INVALID,
                               _("Dataset folder: choose one, or switch on the synthetic demo faces."));
          return FALSE;
        }
      if (!g_file_test (self->dataset_path, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       _("Dataset folder: %s is not a folder."), self->dataset_path);
          return FALSE;
        }
      cfg->dataset = g_strdup (self->dataset_path);
      g_free (cfg->format);
      cfg->format = g_strdup (formats[MIN (adw_combo_row_get_selected (self->format_row),
                                           G_N_ELEMENTS (formats) - 1)]);
    }

  arch_choice (self, &name, &file);
  if (!name && !file)
    {
      g_set_error_literal (error, PAL_ERROR, PAL_ERROR_INVALID,
                           _("Architecture: choose a built-in one or an architecture file."));
      return FALSE;
    }
  g_free (cfg->arch);
  cfg->arch = g_strdup (name);
  cfg->arch_file = g_strdup (file);

  cfg->pal = adw_expander_row_get_enable_expansion (self->pal_row);
  if (layer > 0 && self->layer_names && layer <= g_strv_length (self->layer_names))
    cfg->layer = g_strdup (self->layer_names[layer - 1]);
  g_free (cfg->attribution);
  cfg->attribution = g_strdup (attributions[MIN (adw_combo_row_get_selected (self->attribution_row), 1)]);
  g_free (cfg->channels);
  cfg->channels = g_strdup (channel_modes[MIN (adw_combo_row_get_selected (self->channels_row), 2)]);
  cfg->c1 = g_str_equal (cfg->channels, "first") ? gtk_spin_button_get_value_as_int (self->c1_spin) : 0;
  cfg->lambda = gtk_spin_button_get_value (self->lambda_spin);
  cfg->sigma = gtk_spin_button_get_value (self->sigma_spin);
  cfg->landmark_noise = gtk_spin_button_get_value (self->noise_spin);
  cfg->epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  cfg->batch = gtk_spin_button_get_value_as_int (self->batch_spin);
  cfg->seed = (gint64) gtk_spin_button_get_value (self->seed_spin);
  if (!set_field (cfg, "lr", gtk_editable_get_text (GTK_EDITABLE (self->lr_row)),
                  _("Learning rate"), error)
      || !set_field (cfg, "weight-decay", gtk_editable_get_text (GTK_EDITABLE (self->wd_row)),
                     _("Weight decay"), error))
    return FALSE;

  parent = self->out_parent;
  stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  if (name)
    run = g_strdup_printf ("%s-%s", name, stamp);
  else
    {
      g_autofree char *base = g_path_get_basename (file);
      char *dot = strrchr (base, '.');

      if (dot)
        *dot = '\0';
      run = g_strdup_printf ("%s-%s", base, stamp);
    }
  cfg->out = g_build_filename (parent, run, NULL);
  return TRUE;
}

/* --- the run ------------------------------------------------------------------- */

static void
update_buttons (PalTrainView *self)
{
  gboolean running = pal_train_session_get_running (self->session);
  gboolean preparing = self->demo_cancellable != NULL;

  gtk_widget_set_sensitive (self->start_button, !running && !preparing);
  gtk_widget_set_sensitive (self->stop_button, running || preparing);
  gtk_widget_set_sensitive (self->resume_button, !running && !preparing);
  gtk_widget_set_sensitive (self->form_box, !running && !preparing);
  gtk_button_set_label (GTK_BUTTON (self->resume_button),
                        pal_train_session_can_resume (self->session) ? _("_Resume")
                                                                     : _("_Resume…"));
}

static void
update_progress (PalTrainView *self)
{
  double fraction = pal_train_session_get_fraction (self->session);
  double ips = pal_train_session_get_images_per_second (self->session);
  double eta = pal_train_session_get_eta (self->session);
  g_autofree char *percent = g_strdup_printf ("%.0f %%", 100 * fraction);
  g_autoptr (GString) figures = g_string_new (NULL);

  if (!self->demo_cancellable)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, fraction);
      gtk_progress_bar_set_text (self->progress_bar, percent);
    }
  gtk_label_set_text (self->status_label, pal_train_session_get_status (self->session));
  if (pal_train_session_get_running (self->session))
    {
      if (ips > 0)
        g_string_append_printf (figures, _("%.0f images/s"), ips);
      if (eta >= 0 && fraction < 1.0)
        {
          g_autofree char *left = format_duration (eta);

          if (figures->len)
            g_string_append (figures, " · ");
          g_string_append (figures, left);
        }
    }
  gtk_label_set_text (self->speed_label, figures->str);
}

static PalTrainAxis
current_axis (PalTrainView *self)
{
  return gtk_toggle_button_get_active (self->steps_toggle) ? PAL_TRAIN_AXIS_STEP
                                                           : PAL_TRAIN_AXIS_EPOCH;
}

static void
plot_series (PalTrainView *self, PalPlot *plot, guint index, PalTrainSeries series)
{
  const double *x, *y;
  guint n = pal_train_session_get_series (self->session, series, current_axis (self), &x, &y);

  pal_plot_set_data (plot, index, x, y, n);
}

static void
update_plots (PalTrainView *self)
{
  const char *label = current_axis (self) == PAL_TRAIN_AXIS_STEP ? _("step") : _("epoch");

  pal_plot_set_x_label (self->loss_plot, label);
  pal_plot_set_x_label (self->acc_plot, label);
  plot_series (self, self->loss_plot, self->loss_ce, PAL_SERIES_STEP_CE);
  plot_series (self, self->loss_plot, self->loss_pal, PAL_SERIES_STEP_PAL);
  plot_series (self, self->acc_plot, self->acc_batches, PAL_SERIES_STEP_TRAIN_ACC);
  plot_series (self, self->acc_plot, self->acc_train, PAL_SERIES_EPOCH_TRAIN_ACC);
  plot_series (self, self->acc_plot, self->acc_val, PAL_SERIES_EPOCH_VAL_ACC);
}

static void
on_axis_toggled (PalTrainView *self)
{
  update_plots (self);
}

static void
show_results (PalTrainView *self)
{
  const PalConfusion *conf = pal_train_session_get_confusion (self->session);
  const GError *eval_error = pal_train_session_get_eval_error (self->session);
  const char *best = pal_train_session_get_best_path (self->session);
  g_autoptr (GString) summary = g_string_new (NULL);

  pal_confusion_view_set_confusion (self->confusion_view, conf,
                                    pal_train_session_get_class_names (self->session));
  gtk_widget_set_visible (GTK_WIDGET (self->confusion_view), conf != NULL);
  if (conf)
    {
      g_autofree char *title = NULL;

      if (pal_train_session_get_eval_split (self->session) == PAL_SPLIT_VAL)
        title = g_strdup_printf (ngettext ("Best model on the validation split (%d image)",
                                           "Best model on the validation split (%d images)",
                                           (int) pal_confusion_total (conf)),
                                 (int) pal_confusion_total (conf));
      else
        title = g_strdup_printf (ngettext ("Best model on the test split (%d image)",
                                           "Best model on the test split (%d images)",
                                           (int) pal_confusion_total (conf)),
                                 (int) pal_confusion_total (conf));
      gtk_label_set_text (self->results_title, title);
      g_string_append_printf (summary, _("Accuracy %.1f %%\nMean class accuracy %.1f %%"),
                              100 * pal_confusion_accuracy (conf),
                              100 * pal_confusion_mean_class_accuracy (conf));
    }
  else
    {
      gtk_label_set_text (self->results_title, _("Best model"));
      if (eval_error && !g_error_matches (eval_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_string_append_printf (summary, _("Could not evaluate it: %s"), eval_error->message);
    }
  if (best)
    {
      if (summary->len)
        g_string_append_c (summary, '\n');
      g_string_append (summary, best);
    }
  gtk_label_set_text (self->results_summary, summary->str);
  gtk_widget_set_visible (self->results_box, best != NULL);
}

static void
on_session_progress (PalTrainSession *session, gpointer progress, PalTrainView *self)
{
  update_plots (self);
}

static void
on_session_notify (PalTrainSession *session, GParamSpec *pspec, PalTrainView *self)
{
  update_progress (self);
  update_buttons (self);
}

static void
on_session_finished (PalTrainSession *session, const GError *error, const char *best,
                     const char *last, PalTrainView *self)
{
  update_plots (self);
  update_progress (self);
  update_buttons (self);
  if (!error)
    {
      show_results (self);
      pal_toast (GTK_WIDGET (self), _("Training finished"));
    }
  else if (g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED)
           || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      show_results (self);
      pal_toast (GTK_WIDGET (self), last ? _("Training stopped; Resume continues from the last checkpoint")
                                         : _("Training stopped"));
    }
  else
    pal_show_error (GTK_WIDGET (self), _("Training Failed"), error);
}

static void
start_run (PalTrainView *self, const PalTrainConfig *cfg)
{
  g_autoptr (GError) error = NULL;

  gtk_widget_set_visible (self->results_box, FALSE);
  if (!pal_train_session_start (self->session, cfg, &error))
    pal_show_error (GTK_WIDGET (self), _("Could Not Start Training"), error);
  update_plots (self);
  update_progress (self);
  update_buttons (self);
}

static void
on_demo_ready (GObject *source, GAsyncResult *result, gpointer data)
{
  PalTrainView *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = pal_demo_synth_finish (result, &error);

  g_clear_object (&self->demo_cancellable);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  if (dir && self->have_pending)
    {
      g_free (self->pending.dataset);
      self->pending.dataset = g_steal_pointer (&dir);
      start_run (self, &self->pending);
    }
  else if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           && !g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED))
    pal_show_error (GTK_WIDGET (self), _("Could Not Make the Demo Faces"), error);
  else
    gtk_label_set_text (self->status_label, _("Ready"));
  if (self->have_pending)
    pal_train_config_clear (&self->pending);
  self->have_pending = FALSE;
  update_buttons (self);
  g_object_unref (self);
}

static void
on_start (PalTrainView *self)
{
  g_autoptr (GError) error = NULL;
  PalTrainConfig cfg;

  if (!collect_config (self, &cfg, &error))
    {
      pal_show_error (GTK_WIDGET (self), _("Invalid Setting"), error);
      pal_train_config_clear (&cfg);
      return;
    }
  if (!gtk_switch_get_active (self->demo_switch))
    {
      start_run (self, &cfg);
      pal_train_config_clear (&cfg);
      return;
    }
  if (pal_demo_synth_ready (DEMO_N, DEMO_SIZE))
    {
      cfg.dataset = pal_demo_synth_dir (DEMO_N, DEMO_SIZE);
      start_run (self, &cfg);
      pal_train_config_clear (&cfg);
      return;
    }
  /* the demo set first */
  self->pending = cfg;
  self->have_pending = TRUE;
  self->demo_cancellable = g_cancellable_new ();
  gtk_label_set_text (self->status_label, _("Making the synthetic faces…"));
  gtk_progress_bar_set_text (self->progress_bar, "");
  gtk_progress_bar_pulse (self->progress_bar);
  pal_demo_synth_ensure_async (DEMO_N, DEMO_SIZE, self->demo_cancellable, on_demo_ready,
                               g_object_ref (self));
  update_buttons (self);
}

static void
on_stop (PalTrainView *self)
{
  if (self->demo_cancellable)
    g_cancellable_cancel (self->demo_cancellable);
  pal_train_session_stop (self->session);
}

static void
resume_folder (PalTrainView *self, const char *path)
{
  g_autoptr (GError) error = NULL;

  gtk_widget_set_visible (self->results_box, FALSE);
  if (!pal_train_session_resume (self->session, path, &error))
    pal_show_error (GTK_WIDGET (self), _("Could Not Resume"), error);
  update_plots (self);
  update_progress (self);
  update_buttons (self);
}

static void
on_resume (PalTrainView *self)
{
  if (pal_train_session_can_resume (self->session))
    {
      g_autofree char *dir = g_strdup (pal_train_session_get_run_dir (self->session));

      resume_folder (self, dir);
    }
  else
    choose_folder (self, _("Choose a Run Folder to Resume"), _("_Resume"), resume_folder);
}

static void
on_inspect (PalTrainView *self)
{
  const char *best = pal_train_session_get_best_path (self->session);

  if (best)
    g_signal_emit (self, signals[OPEN_MODEL], 0, best);
}

static void
on_open_folder (PalTrainView *self)
{
  const char *dir = pal_train_session_get_run_dir (self->session);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *uri = NULL;

  if (!dir)
    return;
  uri = g_filename_to_uri (dir, NULL, NULL);
  if (uri)
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

/* --- export ------------------------------------------------------------------ */

static void
export_to (const char *path, gpointer data)
{
  PalTrainView *self = data;
  g_autoptr (GError) error = NULL;

  if (pal_export_widget_png (self->report_box, 2, path, &error))
    pal_toast (GTK_WIDGET (self), _("Saved %s"), path);
  else
    pal_show_error (GTK_WIDGET (self), _("Could Not Export"), error);
}

void
pal_train_view_export (PalTrainView *self)
{
  g_return_if_fail (PAL_IS_TRAIN_VIEW (self));

  pal_export_choose_file (GTK_WIDGET (self), _("Export Training Curves"), "training.png",
                          "image/png", export_to, self, NULL);
}

void
pal_train_view_copy (PalTrainView *self)
{
  g_return_if_fail (PAL_IS_TRAIN_VIEW (self));

  pal_export_copy_widget (self->report_box, 2);
  pal_toast (GTK_WIDGET (self), _("Curves copied"));
}

PalTrainSession *
pal_train_view_get_session (PalTrainView *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_VIEW (self), NULL);
  return self->session;
}

/* --- GObject ------------------------------------------------------------------ */

static void
pal_train_view_dispose (GObject *object)
{
  PalTrainView *self = PAL_TRAIN_VIEW (object);

  if (self->demo_cancellable)
    g_cancellable_cancel (self->demo_cancellable);
  if (self->session)
    {
      /* the window is going: stop the run, which saves its checkpoint */
      g_signal_handlers_disconnect_by_data (self->session, self);
      pal_train_session_stop (self->session);
    }
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), PAL_TYPE_TRAIN_VIEW);
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pal_train_view_parent_class)->dispose (object);
}

static void
pal_train_view_finalize (GObject *object)
{
  PalTrainView *self = PAL_TRAIN_VIEW (object);

  if (self->have_pending)
    pal_train_config_clear (&self->pending);
  g_free (self->dataset_path);
  g_free (self->arch_file);
  g_free (self->out_parent);
  g_strfreev (self->arch_names);
  g_strfreev (self->layer_names);

  G_OBJECT_CLASS (pal_train_view_parent_class)->finalize (object);
}

static void
pal_train_view_class_init (PalTrainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pal_train_view_dispose;
  object_class->finalize = pal_train_view_finalize;

  signals[OPEN_MODEL] =
    g_signal_new ("open-model", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (PAL_TYPE_PLOT);
  g_type_ensure (PAL_TYPE_CONFUSION_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/palstudio/PalStudio/ui/pal-train-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, PalTrainView, name)
  BIND (form_box);
  BIND (demo_switch);
  BIND (dataset_row);
  BIND (format_row);
  BIND (arch_row);
  BIND (pal_row);
  BIND (layer_row);
  BIND (attribution_row);
  BIND (channels_row);
  BIND (c1_row);
  BIND (c1_spin);
  BIND (lambda_spin);
  BIND (sigma_spin);
  BIND (noise_spin);
  BIND (epochs_spin);
  BIND (batch_spin);
  BIND (lr_row);
  BIND (wd_row);
  BIND (seed_spin);
  BIND (out_row);
  BIND (start_button);
  BIND (stop_button);
  BIND (resume_button);
  BIND (steps_toggle);
  BIND (progress_bar);
  BIND (status_label);
  BIND (speed_label);
  BIND (report_box);
  BIND (loss_plot);
  BIND (acc_plot);
  BIND (results_box);
  BIND (confusion_view);
  BIND (results_title);
  BIND (results_summary);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_demo_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_format_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_channels_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_arch_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_arch);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_dataset);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_out);
  gtk_widget_class_bind_template_callback (widget_class, on_start);
  gtk_widget_class_bind_template_callback (widget_class, on_stop);
  gtk_widget_class_bind_template_callback (widget_class, on_resume);
  gtk_widget_class_bind_template_callback (widget_class, on_axis_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_inspect);
  gtk_widget_class_bind_template_callback (widget_class, on_open_folder);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pal_train_view_init (PalTrainView *self)
{
  g_autoptr (GtkStringList) archs = gtk_string_list_new (NULL);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_autofree char *small48 = small48_path ();
  const char *const *builtins = pal_arch_builtin_names ();
  PalTrainConfig defaults;
  guint selected = 0;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->session = pal_train_session_new ();
  g_signal_connect (self->session, "progress", G_CALLBACK (on_session_progress), self);
  g_signal_connect (self->session, "finished", G_CALLBACK (on_session_finished), self);
  g_signal_connect (self->session, "notify", G_CALLBACK (on_session_notify), self);

  /* architectures: small48 first when it is there (quick on a CPU), the
   * built-ins, then a file of the user's */
  if (small48)
    {
      gtk_string_list_append (archs, _("small48 (quick)"));
      g_strv_builder_add (names, "");
    }
  pal_train_config_init (&defaults);
  for (int i = 0; builtins[i]; i++)
    {
      gtk_string_list_append (archs, builtins[i]);
      g_strv_builder_add (names, builtins[i]);
    }
  gtk_string_list_append (archs, _("Architecture file…"));
  self->arch_names = g_strv_builder_end (names);
  adw_combo_row_set_model (self->arch_row, G_LIST_MODEL (archs));
  /* the demo faces are 48 x 48: start on small48 (the paper's vgg16 is
   * one choice away) */
  if (!small48)
    for (guint i = 0; self->arch_names[i]; i++)
      if (g_strcmp0 (self->arch_names[i], defaults.arch) == 0)
        selected = i;
  adw_combo_row_set_selected (self->arch_row, selected);
  fill_layers (self);

  self->out_parent = default_out_parent ();
  adw_action_row_set_subtitle (self->out_row, self->out_parent);
  show_config (self, &defaults);
  pal_train_config_clear (&defaults);
  update_dataset_rows (self);

  self->loss_ce = pal_plot_add_series (self->loss_plot, _("Cross-entropy"), "#3584e4", FALSE);
  self->loss_pal = pal_plot_add_series (self->loss_plot, _("PAL"), "#ff7800", FALSE);
  pal_plot_set_placeholder (self->loss_plot, _("The curves grow here as the model trains"));
  self->acc_batches = pal_plot_add_series (self->acc_plot, _("Batches"), "#99c1f1", TRUE);
  self->acc_train = pal_plot_add_series (self->acc_plot, C_("accuracy series", "Train"), "#3584e4", FALSE);
  self->acc_val = pal_plot_add_series (self->acc_plot, _("Validation"), "#ff7800", FALSE);
  pal_plot_set_y_range (self->acc_plot, 0.0, 1.0);
  update_plots (self);

  update_progress (self);
  update_buttons (self);
}
