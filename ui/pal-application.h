/* pal-application.h: the PAL Studio application (AdwApplication) */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PAL_TYPE_APPLICATION (pal_application_get_type ())
G_DECLARE_FINAL_TYPE (PalApplication, pal_application, PAL, APPLICATION, AdwApplication)

/* Binds the translation domain: $PAL_STUDIO_LOCALEDIR when set (the build
 * tree's po/ for tests), else the installed locale directory. */
void            pal_i18n_init           (void);

PalApplication *pal_application_new     (void);

/* The folder of the demo inputs (demo-face.jpg, demo-pal.safetensors, ...):
 * $PAL_STUDIO_DATADIR, else the installed one, else the source tree's
 * data/.  NULL when none holds the demo. */
const char     *pal_application_get_demo_dir (void);

G_END_DECLS
