/* pal-window.c: the main window
 *
 * A header bar with the page switcher and the primary menu over three
 * pages (Inspect, Train, Per-emotion maps), and a toast overlay for the
 * problems that do not stop anything.  The window's size is remembered in
 * $XDG_CONFIG_HOME/pal-studio/state.ini.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "pal-emotion-view.h"
#include "pal-inspect-view.h"
#include "pal-train-view.h"
#include "pal-window.h"

struct _PalWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *stack;
  PalInspectView       *inspect_view;
  PalTrainView         *train_view;
  PalEmotionView       *emotion_view;

  guint                 n_toasts;     /* shown since the window opened */
  GPtrArray            *toasts;       /* shown or queued, not yet dismissed */
};

G_DEFINE_FINAL_TYPE (PalWindow, pal_window, ADW_TYPE_APPLICATION_WINDOW)

/* --- remembered state ------------------------------------------------------ */

static char *
state_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "pal-studio", "state.ini", NULL);
}

static void
restore_state (PalWindow *self)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path ();
  int w, h;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return;
  w = g_key_file_get_integer (kf, "window", "width", NULL);
  h = g_key_file_get_integer (kf, "window", "height", NULL);
  if (w >= 360 && h >= 294 && w <= 16384 && h <= 16384)
    gtk_window_set_default_size (GTK_WINDOW (self), w, h);
  if (g_key_file_get_boolean (kf, "window", "maximized", NULL))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
save_state (PalWindow *self)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = state_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  int w, h;

  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_key_file_set_integer (kf, "window", "width", w);
  g_key_file_set_integer (kf, "window", "height", h);
  g_key_file_set_boolean (kf, "window", "maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  if (g_mkdir_with_parents (dir, 0700) != 0
      || !g_key_file_save_to_file (kf, path, &error))
    g_debug ("window state not saved to %s: %s", path, error ? error->message : g_strerror (errno));
}

static gboolean
pal_window_close_request (GtkWindow *window)
{
  save_state (PAL_WINDOW (window));
  return GTK_WINDOW_CLASS (pal_window_parent_class)->close_request (window);
}

/* --- messages ---------------------------------------------------------------- */

static void
on_toast_dismissed (AdwToast *toast, PalWindow *self)
{
  g_signal_handlers_disconnect_by_data (toast, self);
  g_ptr_array_remove (self->toasts, toast);
}

static void
add_toast (PalWindow *self, AdwToast *toast)
{
  self->n_toasts++;
  if (self->toasts)   /* NULL once disposed */
    {
      g_ptr_array_add (self->toasts, g_object_ref (toast));
      g_signal_connect (toast, "dismissed", G_CALLBACK (on_toast_dismissed), self);
    }
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
pal_toast (GtkWidget *widget, const char *format, ...)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *text = NULL;
  g_autofree char *markup = NULL;
  AdwToast *toast;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (!PAL_IS_WINDOW (root))
    {
      g_message ("%s", text);
      return;
    }
  /* a toast's title is Pango markup: file names and what was read from a
   * broken file may hold '<' or '&' */
  markup = g_markup_escape_text (text, -1);
  toast = adw_toast_new (markup);
  adw_toast_set_timeout (toast, 6);
  add_toast (PAL_WINDOW (root), toast);
}

guint
pal_window_get_n_toasts (PalWindow *self)
{
  g_return_val_if_fail (PAL_IS_WINDOW (self), 0);

  return self->n_toasts;
}

void
pal_window_dismiss_toasts (PalWindow *self)
{
  g_autoptr (GPtrArray) toasts = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_if_fail (PAL_IS_WINDOW (self) && self->toasts);

  /* each dismissal removes its toast from self->toasts; the queued ones
   * first, the one shown last (dismissed in the order added, libadwaita 1.2
   * crashed in the animation of the next toast) */
  for (guint i = 0; i < self->toasts->len; i++)
    g_ptr_array_add (toasts, g_object_ref (self->toasts->pdata[i]));
  for (guint i = toasts->len; i > 0; i--)
    adw_toast_dismiss (toasts->pdata[i - 1]);
}

void
pal_show_error (GtkWidget *widget, const char *heading, const GError *error)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   error ? error->message : NULL);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- pages ------------------------------------------------------------------ */

void
pal_window_show_page (PalWindow *self, const char *name)
{
  adw_view_stack_set_visible_child_name (self->stack, name);
}

const char *
pal_window_get_page (PalWindow *self)
{
  return adw_view_stack_get_visible_child_name (self->stack);
}

GtkWidget *
pal_window_get_view (PalWindow *self, const char *name)
{
  return adw_view_stack_get_child_by_name (self->stack, name);
}

void
pal_window_load_demo (PalWindow *self)
{
  pal_window_show_page (self, "inspect");
  pal_inspect_view_load_demo (self->inspect_view);
}

void
pal_window_open_files (PalWindow *self, GFile **files, int n_files)
{
  pal_window_show_page (self, "inspect");
  pal_inspect_view_open_files (self->inspect_view, files, n_files);
}

/* --- actions ------------------------------------------------------------------ */

static void
open_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalWindow *self = PAL_WINDOW (widget);

  pal_window_show_page (self, "inspect");
  pal_inspect_view_open (self->inspect_view);
}

static void
open_model_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalWindow *self = PAL_WINDOW (widget);

  pal_window_show_page (self, "inspect");
  pal_inspect_view_open_model (self->inspect_view, g_variant_get_int32 (param));
}

static void
export_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalWindow *self = PAL_WINDOW (widget);
  const char *page = pal_window_get_page (self);

  if (g_strcmp0 (page, "train") == 0)
    pal_train_view_export (self->train_view);
  else if (g_strcmp0 (page, "emotions") == 0)
    pal_emotion_view_export (self->emotion_view);
  else
    pal_inspect_view_export (self->inspect_view);
}

static void
copy_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  PalWindow *self = PAL_WINDOW (widget);
  const char *page = pal_window_get_page (self);

  if (g_strcmp0 (page, "train") == 0)
    pal_train_view_copy (self->train_view);
  else if (g_strcmp0 (page, "emotions") == 0)
    pal_emotion_view_copy (self->emotion_view);
  else
    pal_inspect_view_copy (self->inspect_view);
}

/* A model the Train page made, opened in Inspect. */
static void
on_open_model (PalTrainView *view, const char *path, PalWindow *self)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);

  pal_window_show_page (self, "inspect");
  pal_inspect_view_open_files (self->inspect_view, &file, 1);
}

static void
pal_window_dispose (GObject *object)
{
  PalWindow *self = PAL_WINDOW (object);

  for (guint i = 0; self->toasts && i < self->toasts->len; i++)
    g_signal_handlers_disconnect_by_data (self->toasts->pdata[i], self);
  g_clear_pointer (&self->toasts, g_ptr_array_unref);
  G_OBJECT_CLASS (pal_window_parent_class)->dispose (object);
}

static void
pal_window_class_init (PalWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = pal_window_dispose;
  window_class->close_request = pal_window_close_request;

  g_type_ensure (PAL_TYPE_INSPECT_VIEW);
  g_type_ensure (PAL_TYPE_TRAIN_VIEW);
  g_type_ensure (PAL_TYPE_EMOTION_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/palstudio/PalStudio/ui/pal-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PalWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PalWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PalWindow, inspect_view);
  gtk_widget_class_bind_template_child (widget_class, PalWindow, train_view);
  gtk_widget_class_bind_template_child (widget_class, PalWindow, emotion_view);
  gtk_widget_class_bind_template_callback (widget_class, on_open_model);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_activated);
  gtk_widget_class_install_action (widget_class, "win.open-model", "i", open_model_activated);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_activated);
  gtk_widget_class_install_action (widget_class, "win.copy", NULL, copy_activated);
}

static void
pal_window_init (PalWindow *self)
{
  self->toasts = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_widget_init_template (GTK_WIDGET (self));
  restore_state (self);
}

PalWindow *
pal_window_new (PalApplication *app)
{
  return g_object_new (PAL_TYPE_WINDOW, "application", app, NULL);
}
