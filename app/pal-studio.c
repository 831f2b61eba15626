/* pal-studio.c: the PAL Studio application */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "pal-application.h"
#include "pal-parallel.h"

int
main (int argc, char *argv[])
{
  g_autoptr (PalApplication) app = NULL;

  setlocale (LC_ALL, "");
  pal_i18n_init ();
  /* the kernels' threads, and OpenBLAS's settings (environment variables)
   * made before GTK starts threads of its own */
  pal_set_threads (0);
  app = pal_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
