/* pal-studio.c: the PAL Studio application */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "pal-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr (PalApplication) app = NULL;

  setlocale (LC_ALL, "");
  pal_i18n_init ();
  app = pal_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
