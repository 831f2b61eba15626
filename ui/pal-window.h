/* pal-window.h: the main window: Inspect, Train and Per-emotion maps pages */
#pragma once

#include <adwaita.h>

#include "pal-application.h"

G_BEGIN_DECLS

#define PAL_TYPE_WINDOW (pal_window_get_type ())
G_DECLARE_FINAL_TYPE (PalWindow, pal_window, PAL, WINDOW, AdwApplicationWindow)

PalWindow  *pal_window_new            (PalApplication *app);

/* The demo face, its landmarks and the two demo models, in Inspect. */
void        pal_window_load_demo      (PalWindow *self);
/* Images, landmark files and models, sorted by their content type and
 * name; each that cannot be opened is reported, the others still open. */
void        pal_window_open_files     (PalWindow *self, GFile **files, int n_files);

/* "inspect", "train" or "emotions". */
void        pal_window_show_page      (PalWindow *self, const char *name);
const char *pal_window_get_page       (PalWindow *self);
GtkWidget  *pal_window_get_view       (PalWindow *self, const char *name);

/* A toast in the window of @widget (a non-fatal problem, or news). */
void        pal_toast                 (GtkWidget *widget, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* A dialog for an error that stopped what the user asked for. */
void        pal_show_error            (GtkWidget *widget, const char *heading, const GError *error);

/* For tests: how many toasts the window has shown since it opened (one per
 * problem reported), and dismissing those shown or waiting in the queue. */
guint       pal_window_get_n_toasts   (PalWindow *self);
void        pal_window_dismiss_toasts (PalWindow *self);

G_END_DECLS
