/* pal-application.c: start-up, actions, accelerators, the About window
 *
 * Started without files, a window opens on the demo (a face, its
 * landmarks, a PAL-trained and a baseline model).  Files given on the
 * command line or through "open" are handed to a new window, which sorts
 * them into images, landmarks and models.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "pal-application.h"
#include "pal-window.h"

/* from the compiled resources (resources/meson.build) */
extern void pal_register_resource (void);

struct _PalApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (PalApplication, pal_application, ADW_TYPE_APPLICATION)

void
pal_i18n_init (void)
{
  const char *dir = g_getenv ("PAL_STUDIO_LOCALEDIR");

  bindtextdomain (GETTEXT_PACKAGE, dir && *dir ? dir : PAL_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static gboolean
holds_demo (const char *dir)
{
  g_autofree char *face = g_build_filename (dir, "demo-face.jpg", NULL);

  return g_file_test (face, G_FILE_TEST_IS_REGULAR);
}

const char *
pal_application_get_demo_dir (void)
{
  static char *dir;

  if (g_once_init_enter (&dir))
    {
      const char *env = g_getenv ("PAL_STUDIO_DATADIR");
      const char *found = "";

      if (env && *env && holds_demo (env))
        found = env;
      else if (holds_demo (PAL_PKGDATADIR))
        found = PAL_PKGDATADIR;
      else if (holds_demo (PAL_SOURCE_DATADIR))
        found = PAL_SOURCE_DATADIR;
      g_once_init_leave (&dir, g_strdup (found));
    }
  return *dir ? dir : NULL;
}

static PalWindow *
new_window (PalApplication *self)
{
  PalWindow *window = pal_window_new (self);

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
pal_application_activate (GApplication *app)
{
  PalWindow *window = new_window (PAL_APPLICATION (app));

  pal_window_load_demo (window);
}

static void
pal_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  PalWindow *window = new_window (PAL_APPLICATION (app));

  pal_window_open_files (window, files, n_files);
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GApplication *app = G_APPLICATION (user_data);
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* closing the windows saves their state */
  for (GList *l = windows; l; )
    {
      GList *next = l->next;
      gtk_window_close (GTK_WINDOW (l->data));
      l = next;
    }
  g_application_quit (app);
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  const char *developers[] = { _("PAL Studio developers"), NULL };
  AdwAboutWindow *about;

  about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  adw_about_window_set_application_name (about, _("PAL Studio"));
  adw_about_window_set_application_icon (about, PAL_APP_ID);
  adw_about_window_set_version (about, PAL_VERSION);
  adw_about_window_set_developer_name (about, _("PAL Studio developers"));
  adw_about_window_set_developers (about, developers);
  adw_about_window_set_license_type (about, GTK_LICENSE_GPL_3_0);
  adw_about_window_set_comments (about,
    _("Train facial-expression networks with the Privileged Attribution Loss "
      "and see what they look at."));
  /* translators: your name, to be credited in the About window */
  adw_about_window_set_translator_credits (about, _("translator-credits"));
  adw_about_window_add_link (about, _("Privileged Attribution Loss (Bonnard et al., 2022)"),
                             "https://arxiv.org/abs/2207.14402");
  gtk_window_present (GTK_WINDOW (about));
}

static void
pal_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", quit_activated },
    { "about", about_activated },
  };
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.export", { "<Control>e", NULL } },
    { "win.copy", { "<Control><Shift>c", NULL } },
    { "win.show-help-overlay", { "F1", "<Control>question", NULL } },
  };

  G_APPLICATION_CLASS (pal_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
pal_application_class_init (PalApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = pal_application_activate;
  app_class->open = pal_application_open;
  app_class->startup = pal_application_startup;
}

static void
pal_application_init (PalApplication *self)
{
}

PalApplication *
pal_application_new (void)
{
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      pal_register_resource ();
      g_once_init_leave (&registered, 1);
    }
  return g_object_new (PAL_TYPE_APPLICATION,
                       "application-id", PAL_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/palstudio/PalStudio",
                       NULL);
}
