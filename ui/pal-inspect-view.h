/* pal-inspect-view.h: the Inspect page -- a face, its overlays, and up to
 * two models' maps side by side */
#pragma once

#include <adwaita.h>

#include "pal-face-search.h"
#include "pal-inspector.h"

G_BEGIN_DECLS

#define PAL_TYPE_INSPECT_VIEW (pal_inspect_view_get_type ())
G_DECLARE_FINAL_TYPE (PalInspectView, pal_inspect_view, PAL, INSPECT_VIEW, GtkWidget)

PalInspector *pal_inspect_view_get_inspector (PalInspectView *self);
/* Loads data/demo-face.jpg, its landmarks and the two demo models. */
void          pal_inspect_view_load_demo     (PalInspectView *self);
/* Sorts @files into images, landmark files (.pts, .txt) and models
 * (.safetensors: first into an empty slot, else slot A); reports each
 * file that cannot be opened (a toast) and opens the rest. */
void          pal_inspect_view_open_files    (PalInspectView *self, GFile **files, int n_files);
/* File chooser for an image, landmarks or model. */
void          pal_inspect_view_open          (PalInspectView *self);
/* File chooser for a model into @slot. */
void          pal_inspect_view_open_model    (PalInspectView *self, int slot);
/* Save dialog: the whole comparison as PNG. */
void          pal_inspect_view_export        (PalInspectView *self);
/* The whole comparison to the clipboard as an image. */
void          pal_inspect_view_copy          (PalInspectView *self);

/* What looks for the faces of a photo opened without landmarks. */
PalFaceSearch *pal_inspect_view_get_face_search (PalInspectView *self);
/* Places the landmarks of face @index of those found (as clicking its box). */
void          pal_inspect_view_choose_face   (PalInspectView *self, int index);
/* Loads face-api's expression network into @slot (as its menu item does);
 * a failure is shown in a dialog and gives FALSE. */
gboolean      pal_inspect_view_use_faceapi_model (PalInspectView *self, int slot);

G_END_DECLS
