/* test-faces.c: the face finder (detector + dlib or face-api landmarks +
 * expression) on the demo photos of face-api's npm package
 *
 * Needs the package installed by tools/fetch-face-api under data/face-api/
 * and Debian's libdlib-data; without them the tests fail and say so.
 * dlib's parsed-model cache goes to the build folder (faces-cache/).
 */
#include "pal-dlib.h"
#include "pal-error.h"
#include "pal-faceapi.h"
#include "pal-faces.h"
#include "pal-parallel.h"
#include "test-util.h"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *pkg_dir;      /* .../node_modules/@vladmandic/face-api */
static char *model_dir;    /* pkg_dir/model */
static PalFaceFinder *finders[2];   /* by PalLandmarkMethod, loaded once */
static PalDlibModel *dlib;
static PalFaceApi *fa;

static gboolean
have_models (void)
{
  if (!g_file_test (model_dir, G_FILE_TEST_IS_DIR))
    {
      g_test_fail_printf ("face-api is not installed at %s: run tools/fetch-face-api", pkg_dir);
      return FALSE;
    }
  if (!g_file_test (PAL_DLIB_DEFAULT_MODEL, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing: install Debian's libdlib-data", PAL_DLIB_DEFAULT_MODEL);
      return FALSE;
    }
  return TRUE;
}

static PalFaceFinder *
get_finder (PalLandmarkMethod method)
{
  g_autoptr (GError) error = NULL;

  if (!finders[method])
    {
      finders[method] = pal_face_finder_new (model_dir, NULL, method, &error);
      g_assert_no_error (error);
      g_assert_cmpint (pal_face_finder_get_method (finders[method]), ==, method);
    }
  return finders[method];
}

static PalImage *
load_sample (const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.jpg", name);
  g_autofree char *path = g_build_filename (pkg_dir, "demo", file, NULL);
  g_autoptr (GError) error = NULL;
  PalImage *img = pal_image_load (path, &error);

  g_assert_no_error (error);
  return img;
}

static double
inter_ocular (const PalLandmarks *lm)
{
  return hypot ((lm->x[36] + lm->x[39]) / 2 - (lm->x[42] + lm->x[45]) / 2,
                (lm->y[36] + lm->y[39]) / 2 - (lm->y[42] + lm->y[45]) / 2);
}

/* Mean distance between two sets of points, in units of @ref's eye distance. */
static double
lm_error (const PalLandmarks *a, const PalLandmarks *ref)
{
  double e = 0;

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    e += hypot (a->x[k] - ref->x[k], a->y[k] - ref->y[k]);
  return e / PAL_N_LANDMARKS / inter_ocular (ref);
}

static void
assert_probabilities (const float p[7])
{
  double sum = 0;

  for (int k = 0; k < PAL_FACE_N_EXPRESSIONS; k++)
    {
      g_assert_true (p[k] >= 0.f && p[k] <= 1.f);
      sum += p[k];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
}

static void
test_method_names (void)
{
  PalLandmarkMethod m = PAL_LANDMARK_METHOD_FACEAPI;

  g_assert_cmpstr (pal_landmark_method_name (PAL_LANDMARK_METHOD_DLIB), ==, "dlib");
  g_assert_cmpstr (pal_landmark_method_name (PAL_LANDMARK_METHOD_FACEAPI), ==, "faceapi");
  g_assert_true (pal_landmark_method_parse ("dlib", &m));
  g_assert_cmpint (m, ==, PAL_LANDMARK_METHOD_DLIB);
  g_assert_true (pal_landmark_method_parse ("FaceAPI", &m));
  g_assert_cmpint (m, ==, PAL_LANDMARK_METHOD_FACEAPI);
  g_assert_true (pal_landmark_method_parse ("face-api", &m));
  g_assert_false (pal_landmark_method_parse ("hog", &m));
  g_assert_false (pal_landmark_method_parse ("", &m));
  g_assert_false (pal_landmark_method_parse (NULL, &m));
}

/* The detector box -> dlib rectangle mapping, by hand. */
static void
test_dlib_rect (void)
{
  const float box[4] = { 100.f, 200.f, 300.f, 260.f };
  int r[4];

  /* side 0.84 * 280 = 235.2 -> 235; centre (250, 330 - 13 = 317) */
  pal_face_dlib_rect (box, r);
  g_assert_cmpint (r[2] - r[0] + 1, ==, 235);
  g_assert_cmpint (r[3] - r[1] + 1, ==, 235);
  g_assert_cmpint (r[0], ==, 133);    /* floor (250 - 117.5 + 0.5) */
  g_assert_cmpint (r[1], ==, 200);    /* floor (317 - 117.5 + 0.5) */
}

/* face-api's own chain (faceapi_torch.py pipeline, as in test-faceapi.c):
 * boxes and probabilities (face-api's order) of the faces, best first. */
static const struct {
  const char *image;
  double score, box[4], probs[7];
} faceapi_faces[] = {
  { "sample1", 0.778971, { 775.89525, 445.09805, 313.12533, 256.34283 },
    { 0.0021249, 0.2442095, 0.7536288, 0.0000067, 0.0000213, 0.0000083, 0.0000005 } },
  { "sample1", 0.773727, { 1422.37706, 214.60740, 306.77056, 282.78368 },
    { 0.0000692, 0.9988431, 0.0007065, 0.0000003, 0.0000003, 0.0000000, 0.0003807 } },
  { "sample1", 0.720293, { 336.62588, 396.78655, 305.31148, 251.09580 },
    { 0.1256232, 0.8743069, 0.0000696, 0.0000001, 0.0000000, 0.0000000, 0.0000002 } },
  { "sample2", 0.851381, { 1403.47376, 173.39701, 276.61996, 263.76699 },
    { 0.0231183, 0.0050160, 0.9718623, 0.0000002, 0.0000000, 0.0000029, 0.0000002 } },
};

/* dlib's HOG detector's boxes (L, T, R, B) of the same faces
 * (tests/data/dlib/points.txt), in the order above. */
static const int hog_rects[][4] = {
  { 830, 472, 1045, 687 }, { 1451, 233, 1666, 448 }, { 376, 376, 591, 591 },
  { 1448, 214, 1627, 393 },
};

static void
check_photos (PalLandmarkMethod method)
{
  static const char *const images[] = { "sample1", "sample2" };
  static const int perm[7] = { 0, 1, 2, 6, 4, 5, 3 };   /* face-api -> canonical */
  PalFaceFinder *finder;
  guint k = 0;

  if (!have_models ())
    return;
  finder = get_finder (method);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autoptr (PalImage) img = load_sample (images[i]);
      g_autoptr (GError) error = NULL;
      g_autofree PalFace *faces = NULL;
      g_autofree PalFace *bare = NULL;
      int n = -1, want_n = 0, n_bare = -1;

      for (guint j = 0; j < G_N_ELEMENTS (faceapi_faces); j++)
        want_n += strcmp (faceapi_faces[j].image, images[i]) == 0;
      faces = pal_face_finder_run (finder, img, 0.f, TRUE, &n, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, want_n);

      for (int f = 0; f < n; f++, k++)
        {
          const PalFace *face = &faces[f];
          PalLandmarks lm, hog_lm;
          PalFaceBox box = { face->box[0], face->box[1], face->box[2], face->box[3], face->score };
          double dbox = 0, dp = 0;
          int rect[4];

          /* the detector's box and score, as face-api gives them */
          for (int c = 0; c < 4; c++)
            dbox = MAX (dbox, fabs (face->box[c] - faceapi_faces[k].box[c]));
          g_assert_cmpfloat (dbox, <=, 0.01);
          g_assert_cmpfloat (fabs (face->score - faceapi_faces[k].score), <=, 1e-5);
          g_assert_cmpint (face->method, ==, method);

          /* the landmarks: dlib's on the mapped rectangle, or face-api's */
          if (method == PAL_LANDMARK_METHOD_DLIB)
            {
              pal_face_dlib_rect (face->box, rect);
              g_assert_cmpmem (rect, sizeof rect, face->dlib_rect, sizeof rect);
              g_assert_true (pal_dlib_predict (dlib, img, rect[0], rect[1], rect[2], rect[3],
                                               &lm, &error));
              g_assert_no_error (error);
              g_assert_cmpmem (&lm, sizeof lm, &face->lm, sizeof lm);
              /* ... close to dlib's points on its own detector's box */
              g_assert_true (pal_dlib_predict (dlib, img, hog_rects[k][0], hog_rects[k][1],
                                               hog_rects[k][2], hog_rects[k][3], &hog_lm,
                                               &error));
              g_test_message ("%s face %d: dlib rect %d %d %d %d (HOG %d %d %d %d), points "
                              "off the HOG box's by %.3f of the eye distance", images[i], f,
                              rect[0], rect[1], rect[2], rect[3], hog_rects[k][0],
                              hog_rects[k][1], hog_rects[k][2], hog_rects[k][3],
                              lm_error (&face->lm, &hog_lm));
              g_assert_cmpfloat (lm_error (&face->lm, &hog_lm), <, 0.1);
            }
          else
            {
              static const int zero[4] = { 0 };

              g_assert_cmpmem (face->dlib_rect, sizeof zero, zero, sizeof zero);
              g_assert_true (pal_faceapi_landmarks (fa, img, &box, &lm, &error));
              g_assert_no_error (error);
              g_assert_cmpmem (&lm, sizeof lm, &face->lm, sizeof lm);
            }

          /* the expression is face-api's, whatever the landmarks */
          assert_probabilities (face->expression);
          for (int c = 0; c < 7; c++)
            dp = MAX (dp, fabs (face->expression[c] - faceapi_faces[k].probs[perm[c]]));
          g_assert_cmpfloat (dp, <=, 1e-4);
        }

      /* without the expression: the same faces, NaN probabilities */
      bare = pal_face_finder_run (finder, img, 0.f, FALSE, &n_bare, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n_bare, ==, n);
      for (int f = 0; f < n; f++)
        {
          g_assert_cmpmem (&bare[f].lm, sizeof (PalLandmarks), &faces[f].lm, sizeof (PalLandmarks));
          for (int c = 0; c < 7; c++)
            g_assert_true (isnan (bare[f].expression[c]));
        }
    }
}

static void
test_photos_dlib (void)
{
  check_photos (PAL_LANDMARK_METHOD_DLIB);
}

static void
test_photos_faceapi (void)
{
  check_photos (PAL_LANDMARK_METHOD_FACEAPI);
}

/* The score threshold: only the faces above it. */
static void
test_min_score (void)
{
  g_autoptr (PalImage) img = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree PalFace *faces = NULL;
  int n = -1;

  if (!have_models ())
    return;
  img = load_sample ("sample1");
  faces = pal_face_finder_run (get_finder (PAL_LANDMARK_METHOD_FACEAPI), img, 0.75f, FALSE,
                               &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2);   /* 0.779 and 0.774, not 0.720 */
  g_assert_cmpfloat (faces[0].score, >=, faces[1].score);
  g_assert_null (pal_face_finder_run (get_finder (PAL_LANDMARK_METHOD_FACEAPI), img, 1.5f,
                                      FALSE, &n, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_cmpint (n, ==, 0);
}

/* No face: a plain grey picture, a tiny one, and the synthetic demo face
 * (drawn with Cairo: face-api does not take it for a face). */
static void
test_no_face (void)
{
  g_autoptr (PalImage) grey = pal_image_new (640, 480, 3);
  g_autoptr (PalImage) tiny = pal_image_new (2, 3, 1);
  g_autoptr (PalImage) waves = pal_image_new (240, 180, 3);
  g_autoptr (GError) error = NULL;

  if (!have_models ())
    return;
  memset (grey->data, 128, (gsize) 640 * 480 * 3);
  memset (tiny->data, 30, 6);
  /* colour ramps and waves: tried at every size, as a close-up would be */
  for (int y = 0; y < 180; y++)
    for (int x = 0; x < 240; x++)
      {
        guint8 *px = waves->data + ((gsize) y * 240 + x) * 3;

        px[0] = (guint8) (x * 255 / 240);
        px[1] = (guint8) (y * 255 / 180);
        px[2] = (guint8) (127 + 100 * sin (x / 9.0) * cos (y / 13.0));
      }
  for (int m = 0; m < 2; m++)
    {
      const PalImage *imgs[] = { grey, tiny, waves };

      for (guint i = 0; i < G_N_ELEMENTS (imgs); i++)
        {
          g_autofree PalFace *faces = NULL;
          int n = -1;

          faces = pal_face_finder_run (get_finder (m), imgs[i], 0.f, TRUE, &n, &error);
          g_assert_no_error (error);
          g_assert_nonnull (faces);
          g_assert_cmpint (n, ==, 0);
        }
    }
}

/* Faces that fill the picture, as in a selfie or a dataset's aligned crop:
 * too large for the detector at face-api's 416, found at the smaller sizes
 * the finder then tries.  The crops are 100 x 100 squares of 1.3 times the
 * landmarks' bounds of the demo photos' faces (as RAF-DB's aligned faces);
 * their points must agree with the photo's, moved and scaled (within 0.2
 * eye distances: the photo's points are dlib's too, on a sharper face).
 * Not every one is found: the detector is erratic on such crops. */
static void
test_close_up (void)
{
  static const char *const images[] = { "sample1", "sample2", "sample3", "sample4" };
  g_autofree char *demo = g_test_build_filename (G_TEST_DIST, "..", "data", "demo-face.jpg", NULL);
  g_autofree char *demo_pts = g_test_build_filename (G_TEST_DIST, "..", "data", "demo-face.pts",
                                                     NULL);
  g_autoptr (GError) error = NULL;
  PalFaceFinder *finder;
  int n_crops = 0, found_416 = 0, found = 0;

  if (!have_models ())
    return;
  finder = get_finder (PAL_LANDMARK_METHOD_DLIB);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autoptr (PalImage) img = load_sample (images[i]);
      g_autofree PalFace *faces = NULL;
      int n;

      faces = pal_face_finder_run (finder, img, 0.f, FALSE, &n, &error);
      g_assert_no_error (error);
      for (int f = 0; f < n; f++)
        {
          g_autoptr (PalImage) crop = NULL, small = NULL;
          g_autofree PalFace *at_416 = NULL, *got = NULL;
          PalLandmarks ref;
          float b[4];
          int side, x0, y0, n416, ngot;
          double k;

          pal_landmarks_bounds (&faces[f].lm, b);   /* x0, y0, x1, y1 */
          side = (int) (1.3 * MAX (b[2] - b[0], b[3] - b[1]));
          x0 = (int) ((b[0] + b[2]) / 2 - side / 2.0);
          y0 = (int) ((b[1] + b[3]) / 2 - side / 2.0);
          if (x0 < 0 || y0 < 0 || x0 + side > img->width || y0 + side > img->height)
            continue;
          crop = pal_image_crop (img, x0, y0, side, side);
          small = pal_image_resize (crop, 100, 100);
          k = 100.0 / side;
          for (int p = 0; p < PAL_N_LANDMARKS; p++)
            {
              ref.x[p] = (float) ((faces[f].lm.x[p] - x0 + 0.5) * k - 0.5);
              ref.y[p] = (float) ((faces[f].lm.y[p] - y0 + 0.5) * k - 0.5);
            }
          n_crops++;

          g_assert_true (pal_face_finder_set_detector_size (finder, 416, &error));
          at_416 = pal_face_finder_run (finder, small, 0.f, FALSE, &n416, &error);
          g_assert_no_error (error);
          g_assert_true (pal_face_finder_set_detector_size (finder, 0, &error));
          got = pal_face_finder_run (finder, small, 0.f, FALSE, &ngot, &error);
          g_assert_no_error (error);
          found_416 += n416 > 0;
          if (ngot > 0)
            {
              /* the face in the middle (a neighbour's may show at an edge) */
              int best = 0;
              double e;

              for (int j = 1; j < ngot; j++)
                if (hypot (got[j].box[0] + got[j].box[2] / 2 - 50, got[j].box[1] + got[j].box[3] / 2 - 50)
                    < hypot (got[best].box[0] + got[best].box[2] / 2 - 50,
                             got[best].box[1] + got[best].box[3] / 2 - 50))
                  best = j;
              e = lm_error (&got[best].lm, &ref);

              found++;
              g_test_message ("%s face %d: 100 x 100 crop, %s at 416, %d found, error %.3f eye "
                              "distances", images[i], f + 1, n416 ? "found" : "missed", ngot, e);
              g_assert_cmpfloat (e, <, 0.2);
            }
          else
            g_test_message ("%s face %d: 100 x 100 crop, not found", images[i], f + 1);
        }
    }
  g_test_message ("100 x 100 crops: %d, found at 416 alone %d, found %d", n_crops, found_416,
                  found);
  g_assert_cmpint (n_crops, >=, 6);
  g_assert_cmpint (2 * found, >=, n_crops);
  g_assert_cmpint (found_416, <, found);

  /* the 96 x 96 synthetic demo face, against its own landmarks */
  {
    g_autoptr (PalImage) img = pal_image_load (demo, &error);
    g_autofree PalFace *faces = NULL;
    PalLandmarks ref;
    int n;

    g_assert_no_error (error);
    g_assert_true (pal_landmarks_load (demo_pts, &ref, &error));
    g_assert_no_error (error);
    for (int m = 0; m < 2; m++)
      {
        g_clear_pointer (&faces, g_free);
        faces = pal_face_finder_run (get_finder (m), img, 0.f, FALSE, &n, &error);
        g_assert_no_error (error);
        g_assert_cmpint (n, ==, 1);
        g_test_message ("demo face, %s: error %.3f eye distances", pal_landmark_method_name (m),
                        lm_error (&faces[0].lm, &ref));
        g_assert_cmpfloat (lm_error (&faces[0].lm, &ref), <, 0.15);
      }
  }

  /* sizes the detector does not take */
  g_assert_false (pal_face_finder_set_detector_size (finder, 100, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_face_finder_set_detector_size (finder, 32, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
}

/* A face cut out with a margin: pal_face_finder_in_box() with the face's
 * box in the crop gives the points found in the whole photo, moved. */
static void
test_in_box (void)
{
  g_autoptr (PalImage) img = NULL;
  g_autoptr (PalImage) crop = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_models ())
    return;
  img = load_sample ("sample2");
  for (int m = 0; m < 2; m++)
    {
      g_autofree PalFace *faces = NULL;
      PalFace in, whole;
      float box[4];
      int n, x0, y0, w, h;
      double d = 0;

      faces = pal_face_finder_run (get_finder (m), img, 0.f, TRUE, &n, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, 1);
      /* the box grown by half its size on each side, within the photo */
      x0 = MAX ((int) (faces[0].box[0] - faces[0].box[2] / 2), 0);
      y0 = MAX ((int) (faces[0].box[1] - faces[0].box[3] / 2), 0);
      w = MIN ((int) (faces[0].box[2] * 2), img->width - x0);
      h = MIN ((int) (faces[0].box[3] * 2), img->height - y0);
      g_clear_pointer (&crop, pal_image_free);
      crop = pal_image_crop (img, x0, y0, w, h);
      box[0] = faces[0].box[0] - x0;
      box[1] = faces[0].box[1] - y0;
      box[2] = faces[0].box[2];
      box[3] = faces[0].box[3];

      g_assert_true (pal_face_finder_in_box (get_finder (m), crop, box, TRUE, &in, &error));
      g_assert_no_error (error);
      g_assert_cmpint (in.method, ==, m);
      g_assert_cmpfloat (in.score, ==, 1.f);
      g_assert_cmpmem (in.box, sizeof box, box, sizeof box);
      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        d = MAX (d, MAX (fabs (in.lm.x[k] + x0 - faces[0].lm.x[k]),
                         fabs (in.lm.y[k] + y0 - faces[0].lm.y[k])));
      g_test_message ("%s: in_box on a crop, landmarks within %.4f px of the photo's",
                      pal_landmark_method_name (m), d);
      g_assert_cmpfloat (d, <=, m == PAL_LANDMARK_METHOD_DLIB ? 0.0 : 0.01);
      if (m == PAL_LANDMARK_METHOD_DLIB)
        {
          g_assert_cmpint (in.dlib_rect[0] + x0, ==, faces[0].dlib_rect[0]);
          g_assert_cmpint (in.dlib_rect[3] + y0, ==, faces[0].dlib_rect[3]);
        }
      assert_probabilities (in.expression);
      for (int c = 0; c < 7; c++)
        g_assert_cmpfloat (fabs (in.expression[c] - faces[0].expression[c]), <=, 1e-4);

      /* no box: the whole crop; no expression: NaN */
      g_assert_true (pal_face_finder_in_box (get_finder (m), crop, NULL, FALSE, &whole, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (whole.box[2], ==, (float) w);
      g_assert_cmpfloat (whole.box[3], ==, (float) h);
      g_assert_true (isnan (whole.expression[0]));
      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        g_assert_true (isfinite (whole.lm.x[k]) && isfinite (whole.lm.y[k]));

      /* a box that is not one */
      box[2] = 0.f;
      g_assert_false (pal_face_finder_in_box (get_finder (m), crop, box, FALSE, &in, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
      g_clear_error (&error);
      box[2] = NAN;
      g_assert_false (pal_face_finder_in_box (get_finder (m), crop, box, FALSE, &in, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
      g_clear_error (&error);
      box[0] = -5000.f;
      box[2] = 100.f;
      g_assert_false (pal_face_finder_in_box (get_finder (m), crop, box, FALSE, &in, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
      g_clear_error (&error);
    }
}

/* Missing model files: errors that say what is missing and how to get it. */
static void
test_missing_models (void)
{
  g_autofree char *scratch = scratch_dir_new ("test-faces-XXXXXX");
  g_autofree char *nowhere = g_build_filename (scratch, "no-models", NULL);
  g_autofree char *no_dat = g_build_filename (scratch, "shape_predictor.dat", NULL);
  g_autoptr (GError) error = NULL;
  PalFaceFinder *f;

  if (!have_models ())
    {
      scratch_free (g_steal_pointer (&scratch));
      return;
    }
  g_assert_null (pal_face_finder_new (nowhere, NULL, PAL_LANDMARK_METHOD_FACEAPI, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, nowhere));
  g_assert_nonnull (strstr (error->message, "tools/fetch-face-api"));
  g_clear_error (&error);

  g_assert_null (pal_face_finder_new (model_dir, no_dat, PAL_LANDMARK_METHOD_DLIB, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, no_dat));
  g_assert_nonnull (strstr (error->message, "libdlib-data"));
  g_clear_error (&error);

  /* a file that is not a shape predictor */
  g_assert_true (g_file_set_contents (no_dat, "not dlib", -1, NULL));
  g_assert_null (pal_face_finder_new (model_dir, no_dat, PAL_LANDMARK_METHOD_DLIB, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, no_dat));
  g_clear_error (&error);

  /* face-api's landmarks need no dlib file */
  f = pal_face_finder_new (model_dir, no_dat, PAL_LANDMARK_METHOD_FACEAPI, &error);
  g_assert_no_error (error);
  pal_face_finder_free (f);
  scratch_free (g_steal_pointer (&scratch));
}

/* pal_faceapi_default_dir(): $PAL_FACEAPI_DIR, else the source tree's copy. */
static void
test_default_dir (void)
{
  g_autofree char *env = g_strdup (g_getenv ("PAL_FACEAPI_DIR"));
  g_autofree char *d1 = NULL;
  g_autofree char *d2 = NULL;
  g_autoptr (GFile) f1 = NULL;
  g_autoptr (GFile) f2 = NULL;

  if (!have_models ())
    return;
  g_setenv ("PAL_FACEAPI_DIR", "/some/where", TRUE);
  d1 = pal_faceapi_default_dir ();
  g_assert_cmpstr (d1, ==, "/some/where");
  g_unsetenv ("PAL_FACEAPI_DIR");
  d2 = pal_faceapi_default_dir ();
  g_assert_true (g_path_is_absolute (d2));
  g_assert_true (g_str_has_suffix (d2, "/face-api/model"));
  f1 = g_file_new_for_path (d2);
  f2 = g_file_new_for_path (model_dir);
  g_assert_true (g_file_equal (f1, f2));
  if (env)
    g_setenv ("PAL_FACEAPI_DIR", env, TRUE);
}

/* Not a check: the whole chain on a 1920 x 1280 photo, median of 9 runs
 * (run with -m perf; once otherwise). */
static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
test_speed (void)
{
  g_autoptr (PalImage) img = NULL;
  int runs = g_test_perf () ? 9 : 1;

  if (!have_models ())
    return;
  img = load_sample ("sample1");
  g_assert_cmpint (img->width, ==, 1920);
  g_assert_cmpint (img->height, ==, 1280);
  for (int threads = 1; threads <= 2; threads++)
    for (int m = 0; m < 2; m++)
      {
        double t[9], t_bare[9];
        int n = 0;

        pal_set_threads (threads);
        for (int r = 0; r < runs; r++)
          {
            g_autoptr (GError) error = NULL;
            g_autofree PalFace *f1 = NULL;
            g_autofree PalFace *f2 = NULL;
            gint64 t0 = g_get_monotonic_time (), t1;

            f1 = pal_face_finder_run (get_finder (m), img, 0.f, TRUE, &n, &error);
            t1 = g_get_monotonic_time ();
            f2 = pal_face_finder_run (get_finder (m), img, 0.f, FALSE, &n, &error);
            g_assert_no_error (error);
            t[r] = (t1 - t0) / 1000.0;
            t_bare[r] = (g_get_monotonic_time () - t1) / 1000.0;
          }
        qsort (t, runs, sizeof (double), cmp_double);
        qsort (t_bare, runs, sizeof (double), cmp_double);
        g_test_message ("sample1.jpg 1920x1280, %d faces, %s landmarks, %d thread(s): faces + "
                        "landmarks + expression %.1f ms, without expression %.1f ms "
                        "(median of %d)", n, pal_landmark_method_name (m), threads,
                        t[runs / 2], t_bare[runs / 2], runs);
        if (g_test_perf ())
          g_printerr ("# faces speed, %s, %d thread(s): %.1f ms (no expression %.1f ms), "
                      "%d faces\n", pal_landmark_method_name (m), threads, t[runs / 2],
                      t_bare[runs / 2], n);
      }
  pal_set_threads (1);
}

int
main (int argc, char **argv)
{
  g_autofree char *top = NULL;
  g_autofree char *cache = NULL;
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* dlib's cache in the build folder, not the user's */
  cache = g_test_build_filename (G_TEST_BUILT, "faces-cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  pal_set_threads (2);
  pal_set_threads (1);
  top = g_test_build_filename (G_TEST_DIST, "..", NULL);
  pkg_dir = g_build_filename (top, "data", "face-api", "node_modules", "@vladmandic", "face-api",
                              NULL);
  model_dir = g_build_filename (pkg_dir, "model", NULL);
  if (g_file_test (model_dir, G_FILE_TEST_IS_DIR))
    fa = pal_faceapi_load (model_dir, &error);
  g_assert_no_error (error);
  if (g_file_test (PAL_DLIB_DEFAULT_MODEL, G_FILE_TEST_EXISTS))
    dlib = pal_dlib_model_load_cached (PAL_DLIB_DEFAULT_MODEL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/faces/method-names", test_method_names);
  g_test_add_func ("/faces/dlib-rect", test_dlib_rect);
  g_test_add_func ("/faces/photos-dlib", test_photos_dlib);
  g_test_add_func ("/faces/photos-faceapi", test_photos_faceapi);
  g_test_add_func ("/faces/min-score", test_min_score);
  g_test_add_func ("/faces/no-face", test_no_face);
  g_test_add_func ("/faces/close-up", test_close_up);
  g_test_add_func ("/faces/in-box", test_in_box);
  g_test_add_func ("/faces/missing-models", test_missing_models);
  g_test_add_func ("/faces/default-dir", test_default_dir);
  g_test_add_func ("/faces/speed", test_speed);
  ret = g_test_run ();
  pal_face_finder_free (finders[0]);
  pal_face_finder_free (finders[1]);
  pal_faceapi_free (fa);
  pal_dlib_model_free (dlib);
  g_free (pkg_dir);
  g_free (model_dir);
  return ret;
}
