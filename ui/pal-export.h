/* pal-export.h: widgets to PNG files and to the clipboard */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What @widget shows, drawn at @scale times its size (1: as on screen;
 * use more for a sharper export) on the window's background colour.  NULL
 * when the widget has no size yet. */
GdkTexture *pal_export_render_widget (GtkWidget *widget, double scale);

/* @texture as PNG at @path, atomically (a failure leaves an earlier file
 * at @path as it was); the error names the file. */
gboolean    pal_export_save_png      (GdkTexture *texture, const char *path, GError **error);

/* pal_export_render_widget() then pal_export_save_png(). */
gboolean    pal_export_widget_png    (GtkWidget *widget, double scale, const char *path,
                                      GError **error);

/* The widget's picture (at @scale) on the clipboard. */
void        pal_export_copy_widget   (GtkWidget *widget, double scale);

/* Asks where to save a file (suggesting @suggested_name) and calls
 * @callback with the chosen path on the main thread; nothing when the user
 * cancels.  @destroy, when not NULL, is called on @user_data once the
 * dialog is answered either way. */
typedef void (*PalExportPathFunc) (const char *path, gpointer user_data);
void        pal_export_choose_file   (GtkWidget *parent, const char *title,
                                      const char *suggested_name, const char *mime_type,
                                      PalExportPathFunc callback, gpointer user_data,
                                      GDestroyNotify destroy);

G_END_DECLS
