/* pal-export.c: widgets to PNG files and to the clipboard
 *
 * A widget is drawn through gtk_widget_paintable_new() into a snapshot
 * over an opaque background, and the render node is turned into a texture
 * by the widget's own renderer (or a Cairo renderer when the widget is not
 * realised, as in tests).
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "pal-export.h"
#include "pal-file.h"
#include "pal-error.h"

GdkTexture *
pal_export_render_widget (GtkWidget *widget, double scale)
{
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GtkSnapshot) snapshot = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GskRenderer) own = NULL;
  GskRenderer *renderer = NULL;
  GtkNative *native;
  GdkRGBA bg = { 1, 1, 1, 1 };
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  graphene_rect_t bounds;
  GtkStyleContext *style;

  if (w <= 0 || h <= 0 || scale <= 0.0)
    return NULL;

  /* the window's background colour, so that the picture is opaque */
  style = gtk_widget_get_style_context (widget);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!gtk_style_context_lookup_color (style, "window_bg_color", &bg))
    bg = (GdkRGBA) { 1, 1, 1, 1 };
  G_GNUC_END_IGNORE_DEPRECATIONS
  bg.alpha = 1.0f;

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gtk_snapshot_scale (snapshot, (float) scale, (float) scale);
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (!node)
    return NULL;

  native = gtk_widget_get_native (widget);
  if (native)
    renderer = gtk_native_get_renderer (native);
  if (!renderer)
    {
      g_autoptr (GError) error = NULL;

      own = gsk_cairo_renderer_new ();
      if (!gsk_renderer_realize (own, NULL, &error))
        {
          g_warning ("no renderer for the export: %s", error->message);
          return NULL;
        }
      renderer = own;
    }
  bounds = GRAPHENE_RECT_INIT (0, 0, (float) (w * scale), (float) (h * scale));
  {
    GdkTexture *texture = gsk_renderer_render_texture (renderer, node, &bounds);

    if (own)
      gsk_renderer_unrealize (own);
    return texture;
  }
}

gboolean
pal_export_save_png (GdkTexture *texture, const char *path, GError **error)
{
  g_autoptr (GBytes) png = gdk_texture_save_to_png_bytes (texture);
  gsize len;
  const void *data = g_bytes_get_data (png, &len);

  if (!pal_file_replace_data (path, data, len))
    {
      int err = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                   _("Could not write %s: %s"), path, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

gboolean
pal_export_widget_png (GtkWidget *widget, double scale, const char *path, GError **error)
{
  g_autoptr (GdkTexture) texture = pal_export_render_widget (widget, scale);

  if (!texture)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not write %s: there is nothing to draw yet"), path);
      return FALSE;
    }
  return pal_export_save_png (texture, path, error);
}

void
pal_export_copy_widget (GtkWidget *widget, double scale)
{
  g_autoptr (GdkTexture) texture = pal_export_render_widget (widget, scale);

  if (texture)
    gdk_clipboard_set_texture (gtk_widget_get_clipboard (widget), texture);
}

typedef struct {
  PalExportPathFunc callback;
  gpointer          user_data;
  GDestroyNotify    destroy;
} ChooseData;

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  ChooseData *data = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path)
        data->callback (path, data->user_data);
    }
  if (data->destroy)
    data->destroy (data->user_data);
  g_free (data);
  g_object_unref (dialog);
}

void
pal_export_choose_file (GtkWidget *parent, const char *title, const char *suggested_name,
                        const char *mime_type, PalExportPathFunc callback, gpointer user_data,
                        GDestroyNotify destroy)
{
  GtkRoot *root = gtk_widget_get_root (parent);
  GtkFileChooserNative *chooser;
  ChooseData *data = g_new0 (ChooseData, 1);

  chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (suggested_name)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested_name);
  if (mime_type)
    {
      g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

      gtk_file_filter_add_mime_type (filter, mime_type);
      gtk_file_filter_set_name (filter, mime_type);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  data->callback = callback;
  data->user_data = user_data;
  data->destroy = destroy;
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
