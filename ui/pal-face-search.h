/* pal-face-search.h: faces found in the inspector's photo (no GTK: testable
 * without a display)
 *
 * Watches a PalInspector: when it gets an image without landmarks (no .pts
 * beside it), the faces are looked for off the main thread (face-api's
 * detector, then dlib's 68 landmarks, and the expression probabilities).
 * With one face its landmarks are placed at once; with several the user
 * picks one (pal_face_search_choose()); with none, nothing is placed.
 * Landmarks placed this way count as modified (Save offers to write them).
 * A search whose image was replaced meanwhile is dropped.  When the models
 * the search needs are missing, the search fails with an error saying how
 * to get them; nothing else stops.
 */
#pragma once

#include <gio/gio.h>

#include "pal-faces.h"
#include "pal-inspector.h"

G_BEGIN_DECLS

typedef enum {
  PAL_FACE_SEARCH_IDLE,        /* nothing searched for the current image */
  PAL_FACE_SEARCH_RUNNING,     /* looking for faces */
  PAL_FACE_SEARCH_DONE,        /* found 0, 1 or several faces */
  PAL_FACE_SEARCH_FAILED,      /* the finder could not load or run: see the error */
} PalFaceSearchState;

#define PAL_TYPE_FACE_SEARCH (pal_face_search_get_type ())
G_DECLARE_FINAL_TYPE (PalFaceSearch, pal_face_search, PAL, FACE_SEARCH, GObject)

/* A search over @inspector's images (a reference is kept).  @faceapi_dir
 * and @dlib_path: as pal_face_finder_new() takes them (NULL: defaults). */
PalFaceSearch     *pal_face_search_new         (PalInspector *inspector, const char *faceapi_dir,
                                                const char *dlib_path);
PalInspector      *pal_face_search_get_inspector (PalFaceSearch *self);

/* "automatic": search each new image that comes without landmarks
 * (default TRUE). */
void               pal_face_search_set_automatic (PalFaceSearch *self, gboolean automatic);
gboolean           pal_face_search_get_automatic (PalFaceSearch *self);

/* Looks for the faces of the inspector's current image now (whether or
 * not it has landmarks; those found are placed only if it has none when
 * the search ends).  Does nothing without an image. */
void               pal_face_search_start       (PalFaceSearch *self);
/* Stops waiting for the running search (its result will be dropped). */
void               pal_face_search_cancel      (PalFaceSearch *self);

/* "state" */
PalFaceSearchState pal_face_search_get_state   (PalFaceSearch *self);
/* The faces found (image pixels), best detector score first; NULL and 0
 * unless the state is DONE.  Valid until the next "notify::state". */
const PalFace     *pal_face_search_get_faces   (PalFaceSearch *self, int *n_faces);
/* Why the search failed (state FAILED), else NULL. */
const GError      *pal_face_search_get_error   (PalFaceSearch *self);
/* How the landmarks were placed ("dlib" or "faceapi"). */
PalLandmarkMethod  pal_face_search_get_method  (PalFaceSearch *self);

/* Places face @index's landmarks in the inspector (they count as
 * modified) and makes it the "chosen" one; -1 forgets the choice and
 * leaves the landmarks as they are (e.g. after loading a .pts). */
void               pal_face_search_choose      (PalFaceSearch *self, int index);
/* "chosen": the face whose landmarks were placed last, -1: none. */
int                pal_face_search_get_chosen  (PalFaceSearch *self);

/* Iterates @context (NULL: the thread's default) while a search runs
 * (for tests). */
void               pal_face_search_wait        (PalFaceSearch *self, GMainContext *context);

G_END_DECLS
