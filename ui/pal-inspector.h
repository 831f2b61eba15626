/* pal-inspector.h: the Inspect view's model (no GTK: testable without a display)
 *
 * Holds what the user looks at -- one face image, its 68 landmarks (or
 * none), up to two models in slots 0 and 1 -- and the choices that shape the
 * maps: layer, target, Grad-CAM class, C1, the prior's sigma and landmark
 * noise.  Each change schedules a computation on the inspector's own worker
 * thread (inputs copied on the main thread, the latest request wins: a
 * request superseded before it starts is skipped, a result that is stale
 * when it arrives is dropped).  Results come back on the main context of the
 * thread that created the inspector, announced by "results-changed".
 *
 * Maps are at the node's own resolution (map_w x map_h) and cover the whole
 * image as the model sees it (the image resized to the model's input, as
 * the loader does without augmentation), so a view draws a map stretched
 * over the whole picture.
 */
#pragma once

#include <gio/gio.h>

#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"

G_BEGIN_DECLS

#define PAL_INSPECTOR_N_SLOTS 2

/* The seven maps of a slot, in this order. */
typedef enum {
  PAL_MAP_GRAD_FIRST,      /* Grad, constrained half (first C1 channels) */
  PAL_MAP_GRAD_REST,       /* Grad, free half */
  PAL_MAP_GRAD_ALL,        /* Grad, all channels */
  PAL_MAP_GI_FIRST,        /* Grad*Input, constrained half */
  PAL_MAP_GI_REST,
  PAL_MAP_GI_ALL,
  PAL_MAP_GRADCAM,         /* Grad-CAM of cam_class */
  PAL_N_MAPS
} PalMapKind;

/* Translated title of a map kind ("Grad · constrained half", ...). */
const char *pal_map_kind_title (PalMapKind kind);

/* What one slot's model gave for the current inputs.  Owned by the
 * inspector; valid until the next "results-changed" for that slot. */
typedef struct {
  guint64   generation;          /* of the request it answers */
  char     *model_name;          /* file name without .safetensors */
  GError   *error;               /* set when this slot could not be computed:
                                  * the other fields are then empty */
  char     *node_name;           /* the layer the maps are at */
  int       map_w, map_h;
  int       c1;                  /* the split used: first C1 channels */
  int       channels;            /* C of the node */
  float    *maps[PAL_N_MAPS];    /* [map_h, map_w] each */
  double    r[PAL_N_MAPS];       /* Pearson with the prior; NaN without landmarks */
  double    inside[PAL_N_MAPS];  /* share of the map's mass inside the landmark
                                  * regions; NaN without landmarks */
  float    *probs;               /* [n_classes] */
  int       n_classes;
  int       predicted;
  int       target;              /* PAL_TARGET_SUM or a class */
  int       cam_class;           /* the class Grad-CAM shows */
  gboolean  flat;                /* the Grad maps are constant by construction */
  double    compute_ms;          /* time the worker spent on this slot */
} PalInspectorResult;

#define PAL_TYPE_INSPECTOR (pal_inspector_get_type ())
G_DECLARE_FINAL_TYPE (PalInspector, pal_inspector, PAL, INSPECTOR, GObject)

PalInspector *pal_inspector_new            (void);

/* --- the face --------------------------------------------------------- */

/* Loads an image and the landmarks beside it (same name with .pts, if such
 * a file exists and is valid; a broken one is reported through
 * @landmarks_error, may be NULL, and the image still loads).  On failure
 * the previous image stays. */
gboolean      pal_inspector_load_image     (PalInspector *self, const char *path,
                                            GError **landmarks_error, GError **error);
/* Takes @image (transfer full); @path may be NULL. Clears the landmarks. */
void          pal_inspector_set_image      (PalInspector *self, PalImage *image, const char *path);
const PalImage *pal_inspector_get_image    (PalInspector *self);   /* NULL: none */
const char   *pal_inspector_get_image_path (PalInspector *self);

/* Landmarks in the image's pixels; NULL when there are none. */
const PalLandmarks *pal_inspector_get_landmarks (PalInspector *self);
gboolean      pal_inspector_load_landmarks (PalInspector *self, const char *path, GError **error);
void          pal_inspector_set_landmarks  (PalInspector *self, const PalLandmarks *lm);  /* NULL clears */
/* A default face shape fitted to the image's centre, for placing by hand. */
void          pal_inspector_place_mean_landmarks (PalInspector *self);
/* Moves point @i (0..67); the maps' numbers follow. */
void          pal_inspector_move_landmark  (PalInspector *self, int i, float x, float y);
/* Writes the current landmarks as .pts (atomically). */
gboolean      pal_inspector_save_landmarks (PalInspector *self, const char *path, GError **error);
/* TRUE when the landmarks changed since they were loaded or saved. */
gboolean      pal_inspector_get_landmarks_modified (PalInspector *self);

/* --- the crop to the face ------------------------------------------------- */

/* The side of the crop's square over the larger side of the landmarks'
 * bounding box, with no model loaded: the whole face with a margin of 30 %
 * of its size on each side (forehead, chin, a little hair), much as the
 * datasets' face crops frame a face. */
#define PAL_INSPECTOR_CROP_FACTOR 1.6

/* The factor the crop uses: the smallest pal_face_crop_scale() of the
 * models loaded (1.2 when face-api's expression net is one of them: the
 * framing it was trained on), else PAL_INSPECTOR_CROP_FACTOR.  Loading or
 * clearing a model while cropped crops again with the new factor. */
double        pal_inspector_get_crop_factor (PalInspector *self);

/* Replaces the image by a square crop around the current landmarks, of side
 * pal_inspector_get_crop_factor() times the larger side of their bounding box
 * (pal_landmarks_bounds), centred on it.  The square moves as little as
 * needed to stay inside the photo; only when it is larger than the photo
 * along an axis (or the landmarks lie outside it) does it leave the photo,
 * and what lies outside is black (no pixel is invented).  The landmarks
 * are shifted into the crop, the maps are computed again for it.  The
 * photo and the crop's rectangle are kept: pal_inspector_uncrop() goes
 * back.  Cropping again while cropped crops the photo afresh around the
 * current landmarks.  The image path stays the photo's.
 *
 * While cropped, pal_inspector_get_image() is the crop and every landmark
 * function (get, set, move, place, the prior) works in the crop's pixels,
 * except pal_inspector_load_landmarks() and pal_inspector_save_landmarks():
 * a landmark file belongs to the photo, so loading one goes back to the
 * whole photo first, and saving writes the landmarks in the photo's
 * pixels (mapped back).  A new image forgets the crop.
 *
 * Emits "crop-changed", then "landmarks-changed"; not "image-changed" (the
 * photo is the same, so e.g. its faces are not looked for again).  Fails
 * without an image or landmarks, or when the square would be too large. */
gboolean      pal_inspector_crop_to_face   (PalInspector *self, GError **error);
/* Goes back to the whole photo, the landmarks (including any moved
 * meanwhile) mapped back into it.  Does nothing when not cropped. */
void          pal_inspector_uncrop         (PalInspector *self);
/* TRUE when cropped; @rect (may be NULL) gets the crop's x, y, width and
 * height in the photo's pixels (x and y may be negative when the square
 * leaves the photo), or 0, 0 and the image's size (0 x 0 without one)
 * when not cropped. */
gboolean      pal_inspector_get_crop       (PalInspector *self, int rect[4]);

/* The prior heatmap over the whole image at @width x @height (e.g. the
 * displayed size), with the current sigma and noise; NULL without
 * landmarks.  Free with g_free(). */
float        *pal_inspector_render_prior   (PalInspector *self, int width, int height);

/* --- the models -------------------------------------------------------- */

/* Loads a model into @slot (0 or 1).  On failure the slot keeps its model. */
gboolean      pal_inspector_load_model     (PalInspector *self, int slot, const char *path,
                                            GError **error);
void          pal_inspector_set_model      (PalInspector *self, int slot, PalModel *model,
                                            const char *name);
void          pal_inspector_clear_model    (PalInspector *self, int slot);
PalModel     *pal_inspector_get_model      (PalInspector *self, int slot);   /* NULL: empty */
const char   *pal_inspector_get_model_path (PalInspector *self, int slot);

/* Nodes with a spatial map (attributable) of the first loaded model, in
 * graph order, NULL-terminated; free with g_strfreev(). */
char        **pal_inspector_list_layers    (PalInspector *self);
/* Class names of the first loaded model (NULL-terminated, g_strfreev()). */
char        **pal_inspector_list_classes   (PalInspector *self);

/* --- the choices (also GObject properties of the same names) ------------ */

/* "layer": node name; NULL or "" means each model's own PAL layer (its
 * metadata "pal.layer"; for a model trained without PAL, the layer its
 * metadata "inspect.layer" suggests, else the other model's PAL layer when
 * it has one of that name, else its last layer with a map). */
void          pal_inspector_set_layer      (PalInspector *self, const char *layer);
const char   *pal_inspector_get_layer      (PalInspector *self);
/* "target": PAL_TARGET_SUM (-1) or a class index. */
void          pal_inspector_set_target     (PalInspector *self, int target);
int           pal_inspector_get_target     (PalInspector *self);
/* "cam-class": the Grad-CAM class; -1: each model's predicted class. */
void          pal_inspector_set_cam_class  (PalInspector *self, int klass);
int           pal_inspector_get_cam_class  (PalInspector *self);
/* "c1": the constrained channels; -1: what each model was trained with
 * (C/2 when it names none). */
void          pal_inspector_set_c1         (PalInspector *self, int c1);
int           pal_inspector_get_c1         (PalInspector *self);
/* "sigma": the prior's sigma in pixels of a 224 x 224 input (default 3);
 * "noise": landmark noise, the same unit (default 0). */
void          pal_inspector_set_sigma      (PalInspector *self, double sigma);
double        pal_inspector_get_sigma      (PalInspector *self);
void          pal_inspector_set_noise      (PalInspector *self, double noise);
double        pal_inspector_get_noise      (PalInspector *self);
/* "inside": the landmark regions are where the prior is at least this
 * share of its peak (default 0.2, as `pal attribute`). */
void          pal_inspector_set_inside     (PalInspector *self, double inside);
double        pal_inspector_get_inside     (PalInspector *self);

/* --- results ------------------------------------------------------------ */

/* The latest result of @slot, NULL when the slot is empty or has not been
 * computed yet. */
const PalInspectorResult *pal_inspector_get_result (PalInspector *self, int slot);
/* TRUE while a computation is scheduled or running ("busy" property). */
gboolean      pal_inspector_get_busy       (PalInspector *self);
/* Iterates @context until no computation is pending (for tests). */
void          pal_inspector_wait           (PalInspector *self, GMainContext *context);

/* Signals:
 *   "results-changed" (int slot)    a new result (or error) for @slot
 *   "image-changed"   ()            image replaced
 *   "landmarks-changed" ()          landmarks set, moved, cleared
 *   "crop-changed"    ()            cropped to the face or back to the photo
 *   "models-changed"  ()            a slot's model loaded or cleared
 * and notify:: for every property (layer, target, cam-class, c1, sigma,
 * noise, inside, busy). */

/* The generation of the latest request (PalInspectorResult.generation of
 * the results it will bring); 0 before the first.  For tests and for views
 * that want to tell a fresh result from an earlier one. */
guint64       pal_inspector_get_generation (PalInspector *self);

G_END_DECLS
