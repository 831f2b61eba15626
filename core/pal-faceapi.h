/* pal-faceapi.h: face-api's three networks run by the core's engine
 *
 * The npm package @vladmandic/face-api (MIT; tools/fetch-face-api installs
 * it under data/face-api/) ships TensorFlow.js weights (pal-tfjs.h) of
 *   TinyFaceDetector    faces in a photo of any size (boxes and scores),
 *   FaceLandmark68Net   68 iBUG landmarks of a face box,
 *   FaceExpressionNet   7 expression probabilities of a face crop.
 * Each is built here as a graph of the engine (its architecture text, with
 * TF's "SAME" padding written out as asymmetric pads, separable convs as a
 * depthwise conv, groups = C, then a 1x1 conv) and the TensorFlow layouts
 * converted to ours (HWIO -> OIHW, [in, out] -> [out, in]).  Pre- and
 * post-processing follow face-api 1.7.15 exactly (specs/FACEAPI_SPEC.md):
 * zero padding to a square (bottom/right for the detector, centred for the
 * 112 x 112 nets), TF's legacy bilinear resize, (pixel - mean RGB) / 255,
 * box decoding with the 5 anchors, non-maximum suppression at IoU 0.4, the
 * landmark net's un-padding, and the expression crop from the landmarks
 * (face-api's "aligned rect": their bounding box grown by 20 %).
 *
 * Coordinates: a PalFaceBox is in image pixels with pixel (x, y) covering
 * [x, x+1) x [y, y+1) (pal-image.h), as face-api gives it.  Landmarks are
 * 0-based pixel indices as everywhere in the core (pal-landmarks.h): the
 * centre of the top-left pixel is (0, 0), so they are face-api's points
 * minus 0.5.
 *
 * Expression classes are in the core's canonical order
 * (pal_expression_classes: neutral, happy, sad, surprise, fear, disgust,
 * anger); face-api's own order is neutral, happy, sad, angry, fearful,
 * disgusted, surprised, and the final layer's rows are permuted at load.
 *
 * A PalFaceApi is used by one thread at a time.
 */
#pragma once

#include <glib.h>

#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"

G_BEGIN_DECLS

/* The model folder below the project's top directory. */
#define PAL_FACEAPI_DEFAULT_DIR "data/face-api/node_modules/@vladmandic/face-api/model"

/* Defaults of face-api's TinyFaceDetectorOptions. */
#define PAL_FACEAPI_INPUT_SIZE 416
#define PAL_FACEAPI_SCORE_THRESHOLD 0.5f

typedef struct {
  float x, y, w, h;        /* image pixels, unclipped, as face-api gives them */
  float score;             /* sigmoid of the objectness, 0..1 */
} PalFaceBox;

typedef struct _PalFaceApi PalFaceApi;

/* The model folder: $PAL_FACEAPI_DIR if set; else the first existing of
 * the source tree's data/face-api/.../model (where tools/fetch-face-api
 * puts it) and the installed DATADIR/pal-studio/face-api/model, both fixed
 * at build time; else PAL_FACEAPI_DEFAULT_DIR (relative to the current
 * directory).  Newly allocated. */
char        *pal_faceapi_default_dir      (void);

/* Loads the three networks from @dir (NULL: pal_faceapi_default_dir()):
 * tiny_face_detector_model, face_landmark_68_model and
 * face_expression_model (each NAME-weights_manifest.json + its .bin).  A
 * missing folder says to run tools/fetch-face-api. */
PalFaceApi  *pal_faceapi_load             (const char *dir, GError **error);
void         pal_faceapi_free             (PalFaceApi *fa);

/* Faces of @image (gray or RGB, any size), best score first, after
 * non-maximum suppression.  @input_size: the detector's input (a multiple
 * of 32; 0 gives 416); @score_threshold: boxes scoring at most this are
 * dropped (face-api's default 0.5).  Returns the boxes (free with g_free)
 * and their count in *n_faces (0 is not an error); NULL with @error on bad
 * arguments. */
PalFaceBox  *pal_faceapi_detect           (PalFaceApi *fa, const PalImage *image,
                                           int input_size, float score_threshold,
                                           int *n_faces, GError **error);

/* The 68 landmarks of the face in @box (as pal_faceapi_detect() gives it),
 * in image pixels of @image, 0-based.  Fails when the box, clipped to the
 * image, is empty. */
gboolean     pal_faceapi_landmarks        (PalFaceApi *fa, const PalImage *image,
                                           const PalFaceBox *box, PalLandmarks *out,
                                           GError **error);

/* The crop face-api gives the expression net: from @landmarks (0-based),
 * their bounding box grown by 10 % of its size on each side; without
 * landmarks, @box itself; then clipped to the image and floored.  FALSE
 * when nothing of it lies in the image. */
gboolean     pal_faceapi_expression_rect  (const PalImage *image, const PalLandmarks *landmarks,
                                           const PalFaceBox *box, int rect[4]);

/* Expression probabilities [7] (canonical order, see above) of the face
 * given by @landmarks (face-api's aligned rect) or, when NULL, by @box. */
gboolean     pal_faceapi_expression       (PalFaceApi *fa, const PalImage *image,
                                           const PalLandmarks *landmarks,
                                           const PalFaceBox *box, float probs[7],
                                           GError **error);
/* The same for a face crop already cut out (any size): it is padded to a
 * square (centred), resized to 112 x 112 and normalised as face-api does. */
gboolean     pal_faceapi_expression_crop  (PalFaceApi *fa, const PalImage *crop,
                                           float probs[7], GError **error);

/* The expression network as a model like any other (borrowed; ref it to
 * keep it): input 3 x 112 x 112, logits of the 7 canonical classes, class
 * names set, metadata "input.mean" = face-api's mean RGB / 255 and
 * "input.std" = 1,1,1 (so pal_model_get_normalisation() gives face-api's
 * (pixel - mean) / 255), "faceapi.*" keys naming its source and
 * preprocessing; pal_model_save() writes it as a normal model file.  Its
 * last spatial layer is "dense3" (7 x 7 x 256), followed by a global
 * average pool: Grad is flat there, Grad*Input and Grad-CAM are not. */
PalModel    *pal_faceapi_expression_model (PalFaceApi *fa);

/* Loads only the expression network from @dir (NULL: the default) as a
 * new model. */
PalModel    *pal_faceapi_load_expression_model (const char *dir, GError **error);

/* Where a model file is asked for (the command line, the application),
 * this name stands for face-api's expression network. */
#define PAL_FACEAPI_MODEL_NAME "faceapi"

/* The model file at @path (with @arch when the file does not store its
 * architecture), or face-api's expression network from the default folder
 * when @path is PAL_FACEAPI_MODEL_NAME (and @arch NULL).  Errors name the
 * file, or say where face-api's files are looked for and how to get them. */
PalModel    *pal_faceapi_open_model (const char *path, const char *arch, GError **error);

/* The network input of a face crop as face-api makes it: centred zero
 * padding to a square, legacy bilinear resize to @size x @size, then
 * dst [3, size, size] = (value - mean[c]) / 255 (mean in 0..255). */
void         pal_faceapi_crop_tensor      (const PalImage *image, const int rect[4], int size,
                                           gboolean centre, const float mean[3], float *dst);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalFaceApi, pal_faceapi_free)

G_END_DECLS
