/* pal-faces.h: faces in any photo -- detection, 68 landmarks, expression
 *
 * One entry point for the command line (`pal faces`, `pal landmarks`) and
 * the application: face-api's TinyFaceDetector finds the faces, dlib's
 * shape predictor (the default) or face-api's landmark net places the 68
 * points, and face-api's expression net gives the 7 probabilities (in the
 * canonical class order of pal-dataset.h).  The expression's crop is always
 * face-api's "aligned rect" of face-api's own landmark net's points (run for
 * it when dlib places the landmarks), so the probabilities are face-api's
 * whatever the method (docs/FACES.md, "Faces from photos").  A finder is
 * used by one thread at a time.
 */
#pragma once

#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"

G_BEGIN_DECLS

typedef enum {
  PAL_LANDMARK_METHOD_DLIB,      /* dlib's shape_predictor_68_face_landmarks.dat */
  PAL_LANDMARK_METHOD_FACEAPI,   /* face-api's FaceLandmark68Net */
} PalLandmarkMethod;

/* "dlib" / "faceapi" */
const char *pal_landmark_method_name  (PalLandmarkMethod method);
gboolean    pal_landmark_method_parse (const char *name, PalLandmarkMethod *method);

#define PAL_FACE_N_EXPRESSIONS 7

typedef struct {
  float             box[4];      /* detector box x, y, w, h, image pixels */
  float             score;       /* detector score, 0..1 */
  PalLandmarks      lm;          /* the 68 points, image pixels, 0-based */
  PalLandmarkMethod method;      /* how lm was found */
  int               dlib_rect[4];  /* L, T, R, B (inclusive) given to dlib;
                                    * all 0 when dlib was not used */
  float             expression[PAL_FACE_N_EXPRESSIONS];  /* NaN when not asked */
} PalFace;

/* The rectangle given to dlib for a detector box: dlib's model was trained
 * on the boxes of dlib's HOG detector (square, brows to chin), which are
 * smaller than TinyFaceDetector's and sit higher.  A square of side
 * PAL_FACE_DLIB_SCALE x (w + h) / 2, centred on the box's centre moved up by
 * PAL_FACE_DLIB_SHIFT_Y x h, fitted on the demo photos so that dlib's
 * points come closest to those it gives on its own HOG boxes
 * (docs/FACES.md, "Faces from photos").  @rect: L, T, R, B, inclusive. */
#define PAL_FACE_DLIB_SCALE   0.84
#define PAL_FACE_DLIB_SHIFT_Y (-0.05)
void           pal_face_dlib_rect       (const float box[4], int rect[4]);

typedef struct _PalFaceFinder PalFaceFinder;

/* Loads face-api's networks from @faceapi_dir (NULL: pal_faceapi_default_dir())
 * and, for the dlib method, dlib's model from @dlib_path (NULL: the
 * Debian path), through its cache.  Errors name the missing file and say
 * how to get it. */
PalFaceFinder *pal_face_finder_new      (const char *faceapi_dir, const char *dlib_path,
                                         PalLandmarkMethod method, GError **error);
void           pal_face_finder_free     (PalFaceFinder *finder);
PalLandmarkMethod pal_face_finder_get_method (PalFaceFinder *finder);

/* The faces of @image with a detector score above @min_score (<= 0: face-api's
 * default, 0.5; 1 or more is PAL_ERROR_INVALID), best first, with landmarks
 * and, when @expression, the expression probabilities.  *@n_faces may be 0
 * (no face: not an error, the result is still non-NULL).  Free with
 * g_free(). */
PalFace       *pal_face_finder_run      (PalFaceFinder *finder, const PalImage *image,
                                         float min_score, gboolean expression,
                                         int *n_faces, GError **error);

/* The side of the square the detector sees each photo at (a multiple of
 * 32 from 64 to 1024).  0, the default: face-api's 416, then, when that
 * finds no face, 224 and 160 (a face that fills the photo is too large for
 * the detector at 416).  Smaller is faster and finds only larger faces.
 * FALSE (PAL_ERROR_INVALID) for another size. */
gboolean       pal_face_finder_set_detector_size (PalFaceFinder *finder, int size,
                                                  GError **error);
/* For pre-aligned crops (RAF-DB aligned, FER2013): the landmarks (and, when
 * @expression, the expression) of the face in the fixed @box (x, y, w, h;
 * NULL: a box covering the whole image), without detection.  The box plays
 * the detector's part: dlib gets pal_face_dlib_rect() of it, face-api's
 * landmark net the box itself; face->score is 1.  A box that is not finite,
 * is empty or lies outside the image is PAL_ERROR_INVALID. */
gboolean       pal_face_finder_in_box   (PalFaceFinder *finder, const PalImage *image,
                                         const float *box, gboolean expression,
                                         PalFace *face, GError **error);

/* The side of a square face crop for @model, over the larger side of the
 * landmarks' bounding box: 1.2 for face-api's expression net (trained on
 * face-api's "aligned rect", the bounds grown by 20 %), 1.6 for the others
 * (the whole face with some hair and neck, as the datasets' face crops and
 * the synthetic faces frame it); 1.6 when @model is NULL. */
double         pal_face_crop_scale      (PalModel *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalFaceFinder, pal_face_finder_free)

G_END_DECLS
