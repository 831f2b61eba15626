/* pal-dlib.h: dlib's shape predictor (regression trees), read and run
 *
 * Reads the file dlib's serialize() writes for a shape_predictor (version 1),
 * such as Debian's /usr/share/dlib/shape_predictor_68_face_landmarks.dat,
 * and runs it on an 8-bit image: the same cascade, feature pixels and
 * rounding as dlib 19.24, so the points are dlib's, to the pixel.
 *
 * The file is parsed whole and checked as it goes: every count and
 * dimension is checked against limits and against the bytes that remain
 * before anything is allocated, every index is checked against what it
 * indexes, and the object must end exactly at the end of the file.
 * Parsing the 100 MB 68-point model takes a noticeable fraction of a second,
 * so pal_dlib_model_load_cached() keeps the parsed model in a compact
 * binary file under the user's cache directory and reuses it while the
 * source keeps its size and modification time.
 *
 * A model is read-only once loaded: any number of threads may predict with
 * it at once.
 */
#pragma once

#include <glib.h>

#include "pal-image.h"
#include "pal-landmarks.h"

G_BEGIN_DECLS

/* Debian's package libdlib-data installs the 68-point model here. */
#define PAL_DLIB_DEFAULT_MODEL "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

typedef struct _PalDlibModel PalDlibModel;

typedef enum {
  PAL_DLIB_CACHE_HIT,          /* the cache was valid and used */
  PAL_DLIB_CACHE_BUILT,        /* no cache yet: parsed, cache written */
  PAL_DLIB_CACHE_REBUILT,      /* stale or broken cache: parsed, rewritten */
  PAL_DLIB_CACHE_NOT_WRITTEN,  /* parsed; the cache could not be written */
} PalDlibCacheResult;

/* Parses the serialized shape_predictor at @path.  Anything else (another
 * dlib object, a truncated file, trailing bytes, an unsupported layout) is
 * a GError naming the file, the byte offset and what was expected. */
PalDlibModel *pal_dlib_model_load        (const char *path, GError **error);
/* The same from @len bytes in memory; @name names them in messages. */
PalDlibModel *pal_dlib_model_load_bytes  (const guint8 *data, gsize len, const char *name,
                                          GError **error);
/* As pal_dlib_model_load(), through the cache in @cache_dir (NULL:
 * $XDG_CACHE_HOME/pal-studio).  The cache file is named after the source's
 * path and records the source's size and modification time and the cache
 * format's version; it is checked (structure, indices, a checksum of the
 * whole content) on every load, and is rebuilt (written atomically) when it
 * is missing, stale or broken.  A cache that cannot be written is not an
 * error.  @result (may be NULL) tells which of these happened. */
PalDlibModel *pal_dlib_model_load_cached (const char *path, const char *cache_dir,
                                          PalDlibCacheResult *result, GError **error);
void          pal_dlib_model_free        (PalDlibModel *model);
/* The model held by a cache file's content @bytes (kept while the model
 * lives), checked as pal_dlib_model_load_cached() checks it, but for the
 * source's size and modification time; NULL when it is broken. */
PalDlibModel *pal_dlib_model_from_cache_bytes (GBytes *bytes);

/* The cache file pal_dlib_model_load_cached() uses for @path. */
char         *pal_dlib_cache_path        (const char *path, const char *cache_dir);

/* The model's shape: landmarks, cascades, trees per cascade, tree depth
 * (a tree has 2^depth - 1 splits and 2^depth leaves), feature pixels per
 * cascade.  Any argument may be NULL. */
void          pal_dlib_model_get_size    (const PalDlibModel *model, int *n_parts,
                                          int *n_cascades, int *n_trees, int *depth,
                                          int *n_features);
/* The mean shape in box coordinates: [x0, y0, x1, y1, ...], n_parts pairs. */
const float  *pal_dlib_model_initial_shape (const PalDlibModel *model);
/* Node @i (heap order: children 2i+1, 2i+2) of tree @t of cascade @c:
 * go to the left child when f[idx1] - f[idx2] > thresh. */
void          pal_dlib_model_get_split   (const PalDlibModel *model, int c, int t, int i,
                                          int *idx1, int *idx2, float *thresh);
/* Feature pixel @k of cascade @c: its anchor landmark and offset. */
void          pal_dlib_model_get_feature (const PalDlibModel *model, int c, int k,
                                          int *anchor, float *dx, float *dy);
/* Leaf @l of tree @t of cascade @c: 2 n_parts shape increments. */
const float  *pal_dlib_model_get_leaf    (const PalDlibModel *model, int c, int t, int l);
/* TRUE when both hold the same numbers, bit for bit. */
gboolean      pal_dlib_model_equal       (const PalDlibModel *a, const PalDlibModel *b);

/* Runs the model on @image (gray, or RGB whose intensity is dlib's
 * (R + G + B) / 3) for the box (@left, @top)-(@right, @bottom), inclusive
 * corners as dlib's rectangle (an x, y, w, h box is x, y, x + w - 1,
 * y + h - 1).  @points receives n_parts (x, y) pairs of integer pixel
 * coordinates, 0-based, as dlib's full_object_detection holds them.
 * Coordinates must lie within +-2^24 (PAL_ERROR_INVALID otherwise). */
gboolean      pal_dlib_predict_points    (const PalDlibModel *model, const PalImage *image,
                                          int left, int top, int right, int bottom,
                                          int *points, GError **error);
/* The same into PalLandmarks (the model must have 68 parts). */
gboolean      pal_dlib_predict           (const PalDlibModel *model, const PalImage *image,
                                          int left, int top, int right, int bottom,
                                          PalLandmarks *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalDlibModel, pal_dlib_model_free)

G_END_DECLS
