/* pal-faces.c: faces in any photo -- detection, 68 landmarks, expression
 *
 * The chain (docs/FACES.md, "Faces from photos"):
 *   1. face-api's TinyFaceDetector at its default input (416) gives boxes,
 *      best score first, after non-maximum suppression; when it finds
 *      none, at 224 then 160 (a face filling the picture is too large for
 *      it at 416);
 *   2. the 68 landmarks of each box come from dlib's shape predictor on the
 *      rectangle pal_face_dlib_rect() makes of the box, or from face-api's
 *      landmark net on the box itself;
 *   3. the expression always comes from face-api's own chain: its landmark
 *      net's points (computed here when dlib placed the landmarks), their
 *      "aligned rect", the expression net.  So the probabilities are
 *      face-api's whatever the landmark method.
 */
#include "pal-faces.h"
#include "pal-dlib.h"
#include "pal-error.h"
#include "pal-faceapi.h"

#include <math.h>
#include <string.h>

/* The detector sizes a photo without a face at face-api's 416 is tried at,
 * in turn: a face filling the picture is too large for the detector at
 * 416 (docs/FACES.md, "Close-ups").  Not smaller: at 96 more faces are
 * found, but the boxes are too coarse for dlib (points half an eye
 * distance off). */
static const int close_up_sizes[] = { 224, 160 };

struct _PalFaceFinder {
  PalFaceApi       *fa;
  PalDlibModel     *dlib;     /* NULL with the face-api method */
  PalLandmarkMethod method;
  int               det_size; /* the detector's input; 0: face-api's default */
};

const char *
pal_landmark_method_name (PalLandmarkMethod method)
{
  return method == PAL_LANDMARK_METHOD_FACEAPI ? "faceapi" : "dlib";
}

gboolean
pal_landmark_method_parse (const char *name, PalLandmarkMethod *method)
{
  if (!name)
    return FALSE;
  if (g_ascii_strcasecmp (name, "dlib") == 0)
    *method = PAL_LANDMARK_METHOD_DLIB;
  else if (g_ascii_strcasecmp (name, "faceapi") == 0 || g_ascii_strcasecmp (name, "face-api") == 0)
    *method = PAL_LANDMARK_METHOD_FACEAPI;
  else
    return FALSE;
  return TRUE;
}

void
pal_face_dlib_rect (const float box[4], int rect[4])
{
  double w = box[2], h = box[3];
  double side = PAL_FACE_DLIB_SCALE * (w + h) / 2.0;
  double cx = box[0] + w / 2.0, cy = box[1] + h / 2.0 + PAL_FACE_DLIB_SHIFT_Y * h;
  double n = MAX (floor (side + 0.5), 1.0);

  /* dlib wants coordinates within +-2^24: a detector box always is */
  rect[0] = (int) CLAMP (floor (cx - n / 2.0 + 0.5), -1e7, 1e7);
  rect[1] = (int) CLAMP (floor (cy - n / 2.0 + 0.5), -1e7, 1e7);
  rect[2] = rect[0] + (int) MIN (n, 1e7) - 1;
  rect[3] = rect[1] + (int) MIN (n, 1e7) - 1;
}

PalFaceFinder *
pal_face_finder_new (const char *faceapi_dir, const char *dlib_path,
                     PalLandmarkMethod method, GError **error)
{
  g_autoptr (PalFaceFinder) f = g_new0 (PalFaceFinder, 1);

  f->method = method;
  if (!(f->fa = pal_faceapi_load (faceapi_dir, error)))
    return NULL;
  if (method == PAL_LANDMARK_METHOD_DLIB)
    {
      const char *path = dlib_path ? dlib_path : PAL_DLIB_DEFAULT_MODEL;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_IO,
                       "%s: no such file: dlib's 68-point shape predictor is not installed "
                       "(Debian's package libdlib-data installs it; or use face-api's "
                       "landmarks instead of dlib's)", path);
          return NULL;
        }
      if (!(f->dlib = pal_dlib_model_load_cached (path, NULL, NULL, error)))
        return NULL;
    }
  return g_steal_pointer (&f);
}

void
pal_face_finder_free (PalFaceFinder *finder)
{
  if (!finder)
    return;
  pal_faceapi_free (finder->fa);
  pal_dlib_model_free (finder->dlib);
  g_free (finder);
}

PalLandmarkMethod
pal_face_finder_get_method (PalFaceFinder *finder)
{
  return finder->method;
}

/* Landmarks (and the expression) of the face in @box; face->box and
 * face->score are set by the caller. */
static gboolean
face_in_box (PalFaceFinder *f, const PalImage *image, const PalFaceBox *box,
             gboolean expression, PalFace *face, GError **error)
{
  PalLandmarks fa_lm;
  gboolean need_fa = f->method == PAL_LANDMARK_METHOD_FACEAPI || expression;

  face->method = f->method;
  memset (face->dlib_rect, 0, sizeof face->dlib_rect);
  for (int k = 0; k < PAL_FACE_N_EXPRESSIONS; k++)
    face->expression[k] = NAN;

  if (need_fa && !pal_faceapi_landmarks (f->fa, image, box, &fa_lm, error))
    return FALSE;
  if (f->method == PAL_LANDMARK_METHOD_DLIB)
    {
      pal_face_dlib_rect (face->box, face->dlib_rect);
      if (!pal_dlib_predict (f->dlib, image, face->dlib_rect[0], face->dlib_rect[1],
                             face->dlib_rect[2], face->dlib_rect[3], &face->lm, error))
        return FALSE;
    }
  else
    face->lm = fa_lm;
  if (expression
      && !pal_faceapi_expression (f->fa, image, &fa_lm, NULL, face->expression, error))
    return FALSE;
  return TRUE;
}

PalFace *
pal_face_finder_run (PalFaceFinder *finder, const PalImage *image, float min_score,
                     gboolean expression, int *n_faces, GError **error)
{
  g_autofree PalFaceBox *boxes = NULL;
  g_autofree PalFace *faces = NULL;
  g_autoptr (GError) local = NULL;
  float threshold = min_score > 0.f ? min_score : PAL_FACEAPI_SCORE_THRESHOLD;
  int n = 0;

  *n_faces = 0;
  if (!image || image->width < 1 || image->height < 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "an empty image has no faces to find");
      return NULL;
    }
  if (!(threshold < 1.f))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the minimum detector score must be below 1, not %g", min_score);
      return NULL;
    }
  /* no face may come back as NULL without an error */
  boxes = pal_faceapi_detect (finder->fa, image, finder->det_size, threshold, &n, &local);
  /* a face filling the photo (a close-up, an aligned crop) is too large
   * for the detector at 416: at a smaller size it is not (docs/FACES.md) */
  for (gsize i = 0; !local && n == 0 && finder->det_size == 0 && i < G_N_ELEMENTS (close_up_sizes);
       i++)
    {
      g_free (boxes);
      boxes = pal_faceapi_detect (finder->fa, image, close_up_sizes[i], threshold, &n, &local);
    }
  if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  faces = g_new0 (PalFace, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      PalFace *face = &faces[i];

      face->box[0] = boxes[i].x;
      face->box[1] = boxes[i].y;
      face->box[2] = boxes[i].w;
      face->box[3] = boxes[i].h;
      face->score = boxes[i].score;
      if (!face_in_box (finder, image, &boxes[i], expression, face, error))
        return NULL;
    }
  *n_faces = n;
  return g_steal_pointer (&faces);
}

gboolean
pal_face_finder_set_detector_size (PalFaceFinder *finder, int size, GError **error)
{
  g_return_val_if_fail (finder != NULL, FALSE);

  if (size != 0 && (size < 64 || size > 1024 || size % 32 != 0))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the detector's input size must be a multiple of 32 from 64 to 1024 "
                   "(or 0 for %d), not %d", PAL_FACEAPI_INPUT_SIZE, size);
      return FALSE;
    }
  finder->det_size = size;
  return TRUE;
}

gboolean
pal_face_finder_in_box (PalFaceFinder *finder, const PalImage *image, const float *box,
                        gboolean expression, PalFace *face, GError **error)
{
  PalFaceBox b;

  if (!image || image->width < 1 || image->height < 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "an empty image has no face");
      return FALSE;
    }
  if (box)
    {
      for (int k = 0; k < 4; k++)
        if (!isfinite (box[k]) || fabsf (box[k]) > 1e7f)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "the face box (%g, %g, %g x %g) is not a box", box[0], box[1],
                         box[2], box[3]);
            return FALSE;
          }
      if (!(box[2] >= 1.f && box[3] >= 1.f))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "the face box (%g, %g, %g x %g) is empty", box[0], box[1], box[2],
                       box[3]);
          return FALSE;
        }
      if (!(box[0] < image->width && box[1] < image->height && box[0] + box[2] > 0.f
            && box[1] + box[3] > 0.f))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "the face box (%g, %g, %g x %g) lies outside the %d x %d image",
                       box[0], box[1], box[2], box[3], image->width, image->height);
          return FALSE;
        }
      b = (PalFaceBox) { box[0], box[1], box[2], box[3], 1.f };
    }
  else
    b = (PalFaceBox) { 0.f, 0.f, (float) image->width, (float) image->height, 1.f };

  memset (face, 0, sizeof *face);
  face->box[0] = b.x;
  face->box[1] = b.y;
  face->box[2] = b.w;
  face->box[3] = b.h;
  face->score = 1.f;
  return face_in_box (finder, image, &b, expression, face, error);
}

double
pal_face_crop_scale (PalModel *model)
{
  if (model && pal_model_get_meta (model, "faceapi.model"))
    return 1.2;
  return 1.6;
}
