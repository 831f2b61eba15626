/* test-analysis.c: the Emotional DAN analysis (Table 4 sets, ranking,
 * overlap, frontal selection, accumulation, a whole run, cancellation) */
#include "pal-analysis.h"
#include "pal-dataset.h"
#include "pal-error.h"
#include "pal-model.h"
#include "pal-parallel.h"
#include "pal-render.h"
#include "pal-synth.h"

#include <math.h>
#include <string.h>

#include "test-util.h"

enum { NEUTRAL, HAPPY, SAD, SURPRISE, FEAR, DISGUST, ANGER };

static char *scratch;    /* one scratch directory for the whole run */
static char *synth_dir;  /* 70 synthetic faces of 48 x 48, made once */

/* A tiny network for 48 x 48 inputs; Grad-CAM at c2 (8 x 24 x 24). */
static const char tiny_arch[] =
  "input data shape=3x48x48\n"
  "conv c1 out=4 k=3 pad=1 act=relu\n"
  "maxpool p1 k=2\n"
  "conv c2 out=8 k=3 pad=1 act=relu\n"
  "maxpool p2 k=2\n"
  "flatten flat\n"
  "linear fc out=7\n";

/* --- helpers -------------------------------------------------------------- */

/* The synthetic neutral template in the pixels of a @size image. */
static void
template_face (PalLandmarks *lm, float size)
{
  pal_synth_template (lm);
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      lm->x[j] = size / 2 + lm->x[j] * size * 0.35f;
      lm->y[j] = size * 0.4f + lm->y[j] * size * 0.35f;
    }
}

static PalModel *
tiny_model (void)
{
  g_autoptr (GError) error = NULL;
  PalModel *m = pal_model_new (tiny_arch, &error);

  g_assert_no_error (error);
  g_assert_nonnull (m);
  pal_model_init (m, 3);
  return m;
}

static PalDataset *
synth_dataset (void)
{
  g_autoptr (GError) error = NULL;
  PalDataset *ds = pal_dataset_open (synth_dir, PAL_DATASET_AUTO, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

/* --- Table 4 ---------------------------------------------------------------- */

static void
test_table4 (void)
{
  /* the unions of the rows of Table 4 */
  static const int sizes[] = { 0, 12, 18, 29, 33, 20, 36, 0 };
  static const int rows[] = { 0, 2, 3, 4, 6, 3, 3, 0 };
  int set[PAL_N_LANDMARKS];

  for (int k = 0; k < 8; k++)
    {
      const PalEmotionAUs *e = pal_emotion_aus (k);
      int n = pal_emotion_landmarks (k, set);

      g_assert_cmpint (n, ==, sizes[k]);
      if (!rows[k])
        {
          g_assert_null (e);
          continue;
        }
      g_assert_nonnull (e);
      g_assert_cmpint (e->klass, ==, k);
      g_assert_cmpint (e->n_aus, ==, rows[k]);
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpint (set[i], >=, 0);
          g_assert_cmpint (set[i], <, PAL_N_LANDMARKS);
          if (i)
            g_assert_cmpint (set[i], >, set[i - 1]);
        }
      /* every row's landmarks are in the set, and the set is no more */
      for (int a = 0; a < e->n_aus; a++)
        {
          g_assert_nonnull (e->aus[a].name);
          g_assert_cmpint (pal_landmarks_overlap (e->aus[a].landmarks, e->aus[a].n_landmarks,
                                                  set, n), ==, e->aus[a].n_landmarks);
        }
    }
  g_assert_null (pal_emotion_aus (-1));

  /* happiness: AU6 cheek raiser on the cheeks, AU12 on the mouth corners */
  g_assert_cmpstr (pal_emotion_aus (HAPPY)->emotion, ==, "Happiness");
  g_assert_cmpstr (pal_emotion_aus (HAPPY)->aus[0].au, ==, "6");
  g_assert_cmpstr (pal_emotion_aus (HAPPY)->aus[0].name, ==, "Cheek Raiser");
  g_assert_cmpstr (pal_emotion_aus (HAPPY)->aus[1].name, ==, "Lip Corner Puller");
  pal_emotion_landmarks (HAPPY, set);
  {
    static const int happy[] = { 1, 2, 14, 15, 48, 49, 53, 54, 55, 59, 60, 64 };
    g_assert_cmpmem (set, sizeof happy, happy, sizeof happy);
  }
  /* disgust's nose wrinkler is the nose, 27 .. 35 */
  g_assert_cmpstr (pal_emotion_aus (DISGUST)->aus[0].au, ==, "9");
  g_assert_cmpint (pal_emotion_aus (DISGUST)->aus[0].n_landmarks, ==, 9);
  /* anger's lip tightener is the whole mouth, 48 .. 67 */
  g_assert_cmpint (pal_emotion_aus (ANGER)->aus[2].n_landmarks, ==, 20);
  g_assert_cmpstr (pal_emotion_aus (ANGER)->aus[1].au, ==, "5+7");
}

/* --- sampling, ranking, overlap ------------------------------------------- */

static void
test_sample (void)
{
  const float map[6] = { 0, 1, 2,
                         3, 4, 5 };   /* 3 x 2 */

  g_assert_cmpfloat (pal_map_sample (map, 3, 2, 1, 1), ==, 4);
  g_assert_cmpfloat_with_epsilon (pal_map_sample (map, 3, 2, 0.5f, 0), 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (pal_map_sample (map, 3, 2, 1.5f, 0.5f), 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (pal_map_sample (map, 3, 2, 0.25f, 0.75f), 2.5, 1e-6);
  /* clamped outside, the border pixel */
  g_assert_cmpfloat (pal_map_sample (map, 3, 2, -3, -1), ==, 0);
  g_assert_cmpfloat (pal_map_sample (map, 3, 2, 7, 9), ==, 5);
  g_assert_cmpfloat (pal_map_sample (map, 3, 2, 2.5f, 0), ==, 2);
  g_assert_cmpfloat (pal_map_sample (map, 3, 2, NAN, 0), ==, 0);
  /* a 1 x 1 map */
  g_assert_cmpfloat (pal_map_sample (map + 4, 1, 1, 0.3f, 0.8f), ==, 4);
}

/* Landmark j at the centre of pixel (4 (j % 10) + 2, 4 (j / 10) + 2) of a
 * 40 x 28 map that is zero except at the landmarks. */
static void
grid_face (PalLandmarks *lm, float *map, const float value[PAL_N_LANDMARKS])
{
  memset (map, 0, sizeof (float) * 40 * 28);
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      lm->x[j] = 4 * (j % 10) + 2;
      lm->y[j] = 4 * (j / 10) + 2;
      map[(int) lm->y[j] * 40 + (int) lm->x[j]] = value[j];
    }
}

static void
test_rank_overlap (void)
{
  float value[PAL_N_LANDMARKS] = { 0 }, act[PAL_N_LANDMARKS];
  float map[40 * 28];
  int order[PAL_N_LANDMARKS], set[PAL_N_LANDMARKS], k;
  PalLandmarks lm;

  /* peaks at the mouth corners, then the nose (27 .. 36) a little lower */
  value[48] = 10;
  value[54] = 9;
  for (int j = 27; j <= 36; j++)
    value[j] = 1 + j / 100.0f;
  grid_face (&lm, map, value);
  pal_landmarks_rank (map, 40, 28, &lm, order, act);
  g_assert_cmpint (order[0], ==, 48);
  g_assert_cmpint (order[1], ==, 54);
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (order[2 + i], ==, 36 - i);
  /* the rest are 0: in index order */
  g_assert_cmpint (order[12], ==, 0);
  g_assert_cmpint (order[13], ==, 1);
  g_assert_cmpint (order[67], ==, 67);
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    g_assert_cmpfloat (act[j], ==, value[j]);

  /* happy: k = 12, and of 48, 54, 36 .. 27 only the mouth corners are in */
  k = pal_emotion_landmarks (HAPPY, set);
  g_assert_cmpint (k, ==, 12);
  g_assert_cmpint (pal_landmarks_overlap (order, k, set, k), ==, 2);
  /* disgust (nose and mouth): all 12 of them, but k = 20 takes 8 zeros (0 .. 7) too */
  k = pal_emotion_landmarks (DISGUST, set);
  g_assert_cmpint (pal_landmarks_overlap (order, 12, set, k), ==, 11);
  g_assert_cmpint (pal_landmarks_overlap (order, k, set, k), ==, 11);
  /* a landmark listed twice counts once */
  g_assert_cmpint (pal_landmarks_overlap ((int[]) { 48, 48, 54 }, 3, set, k), ==, 2);

  /* a map that is exactly the happy set ranks it first */
  memset (value, 0, sizeof value);
  k = pal_emotion_landmarks (HAPPY, set);
  for (int i = 0; i < k; i++)
    value[set[i]] = 1 + i;
  grid_face (&lm, map, value);
  pal_landmarks_rank (map, 40, 28, &lm, order, NULL);
  g_assert_cmpint (pal_landmarks_overlap (order, k, set, k), ==, k);
}

/* On a real face layout: a map peaked (smoothly) at landmarks 48 and 54
 * ranks them first. */
static void
test_rank_face (void)
{
  const int size = 64;
  g_autofree float *map = g_new0 (float, size * size);
  int order[PAL_N_LANDMARKS], set[PAL_N_LANDMARKS], k;
  PalLandmarks lm;

  template_face (&lm, size);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        double d48 = hypot (x - lm.x[48], y - lm.y[48]);
        double d54 = hypot (x - lm.x[54], y - lm.y[54]);

        map[y * size + x] = (float) (exp (-d48 * d48 / 8.0) + 0.9 * exp (-d54 * d54 / 8.0));
      }
  pal_landmarks_rank (map, size, size, &lm, order, NULL);
  g_assert_cmpint (order[0], ==, 48);
  g_assert_cmpint (order[1], ==, 54);
  /* the next are the mouth's: the happy overlap is more than the two corners */
  k = pal_emotion_landmarks (HAPPY, set);
  g_assert_cmpint (pal_landmarks_overlap (order, 2, set, k), ==, 2);
  g_assert_cmpint (pal_landmarks_overlap (order, k, set, k), >, 2);
}

/* --- frontal ------------------------------------------------------------------ */

static void
test_frontal (void)
{
  PalLandmarks ref, lm;
  const double eps = 2.0;

  template_face (&ref, 100);
  g_assert_cmpint (pal_eye_corners[0], ==, 36);
  g_assert_cmpint (pal_eye_corners[1], ==, 39);
  g_assert_cmpint (pal_eye_corners[2], ==, 42);
  g_assert_cmpint (pal_eye_corners[3], ==, 45);
  g_assert_true (pal_face_is_frontal (&ref, &ref, eps));
  g_assert_false (pal_face_is_frontal (&ref, &ref, 0.0));   /* strictly less than eps */

  for (int i = 0; i < PAL_N_EYE_CORNERS; i++)
    {
      int j = pal_eye_corners[i];

      /* within eps along a diagonal: kept */
      lm = ref;
      lm.x[j] += 0.9 * eps / sqrt (2.0);
      lm.y[j] -= 0.9 * eps / sqrt (2.0);
      g_assert_true (pal_face_is_frontal (&lm, &ref, eps));
      /* just beyond: rejected */
      lm = ref;
      lm.x[j] -= 1.1 * eps / sqrt (2.0);
      lm.y[j] += 1.1 * eps / sqrt (2.0);
      g_assert_false (pal_face_is_frontal (&lm, &ref, eps));
      g_assert_true (pal_face_is_frontal (&lm, &ref, 1.2 * eps));
    }
  /* the other landmarks do not matter */
  lm = ref;
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    if (j != 36 && j != 39 && j != 42 && j != 45)
      lm.x[j] += 10 * eps;
  g_assert_true (pal_face_is_frontal (&lm, &ref, eps));
  /* a whole face shifted: every corner moves */
  lm = ref;
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    lm.y[j] += 1.5 * eps;
  g_assert_false (pal_face_is_frontal (&lm, &ref, eps));
}

/* --- accumulation ------------------------------------------------------------ */

static void
test_accumulate (void)
{
  const int w = 4, h = 2;
  g_autoptr (PalGradcamAccum) acc = pal_gradcam_accum_new (5, w, h);
  g_autoptr (PalGradcamMeans) m = NULL;
  const float cam_a[2] = { 0, 4 };          /* 2 x 1: upsampled 0, 1, 3, 4 */
  const float cam_b[1] = { 2 };             /* 1 x 1: flat 2 */
  const float cam_c[4] = { 0, 0, 0, 4 };    /* 4 x 1: as it is */
  float image_a[4 * 2 * 3], image_b[4 * 2 * 3];
  PalLandmarks la, lb, lc;
  const float want_map[4] = { 1, 1.5f, 2.5f, 3 };   /* mean of 0 1 3 4 and 2 2 2 2 */

  for (int i = 0; i < w * h * 3; i++)
    {
      image_a[i] = 10;
      image_b[i] = 30 + i;
    }
  /* x = 0, 0.25, 0.5, 0.75 by j % 4 (exact in binary, so are the means) */
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      la.x[j] = lb.x[j] = 0.25f * (j % 4);
      la.y[j] = 1;
      lb.y[j] = 0;
      lc.x[j] = j == 48 || j == 54 ? 3 : 0;   /* on the 4, or on a 0 */
      lc.y[j] = 0;
    }
  /* happy (1) twice, neutral (0) once, sad (2) never, surprise (3) a flat
   * map, fear (4) a map above 0 at two landmarks only */
  pal_gradcam_accum_add (acc, 1, cam_a, 2, 1, &la, image_a, TRUE);
  pal_gradcam_accum_add (acc, 1, cam_b, 1, 1, &lb, image_b, FALSE);
  pal_gradcam_accum_add (acc, 0, cam_b, 1, 1, &la, NULL, TRUE);
  pal_gradcam_accum_add (acc, 3, cam_b, 1, 1, &lb, NULL, FALSE);
  pal_gradcam_accum_add (acc, 4, cam_c, 4, 1, &lc, NULL, FALSE);
  m = pal_gradcam_accum_finish (acc);

  g_assert_cmpint (m->n_classes, ==, 5);
  g_assert_cmpint (m->width, ==, w);
  g_assert_cmpint (m->height, ==, h);
  g_assert_cmpint (m->counts[0], ==, 1);
  g_assert_cmpint (m->counts[1], ==, 2);
  g_assert_cmpint (m->counts[2], ==, 0);
  g_assert_cmpint (m->counts[3], ==, 1);
  g_assert_cmpint (m->correct[0], ==, 1);
  g_assert_cmpint (m->correct[1], ==, 1);
  g_assert_cmpint (m->correct[3], ==, 0);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        g_assert_cmpfloat_with_epsilon (m->maps[(1 * h + y) * w + x], want_map[x], 1e-6);
        g_assert_cmpfloat_with_epsilon (m->maps[(0 * h + y) * w + x], 2.0, 1e-6);
        g_assert_cmpfloat (m->maps[(2 * h + y) * w + x], ==, 0);
      }
  for (int i = 0; i < w * h * 3; i++)
    {
      g_assert_cmpfloat_with_epsilon (m->images[1 * w * h * 3 + i], (10 + 30 + i) / 2.0, 1e-5);
      g_assert_cmpfloat (m->images[0 * w * h * 3 + i], ==, 128);   /* no image given */
      g_assert_cmpfloat (m->images[2 * w * h * 3 + i], ==, 128);
    }

  /* mean faces: per class, and over all five images */
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      g_assert_cmpfloat (m->faces[1].x[j], ==, la.x[j]);
      g_assert_cmpfloat (m->faces[1].y[j], ==, 0.5);
      g_assert_cmpfloat (m->faces[0].y[j], ==, 1);
      g_assert_cmpfloat (m->faces[3].y[j], ==, 0);
      g_assert_cmpfloat (m->faces[4].x[j], ==, lc.x[j]);
      g_assert_cmpfloat_with_epsilon (m->mean_face.x[j], (4 * la.x[j] + lc.x[j]) / 5, 1e-6);
      g_assert_cmpfloat_with_epsilon (m->mean_face.y[j], 0.4, 1e-6);
      /* an empty class gets the overall mean face */
      g_assert_cmpfloat (m->faces[2].x[j], ==, m->mean_face.x[j]);
      g_assert_cmpfloat (m->faces[2].y[j], ==, m->mean_face.y[j]);
    }

  /* happy's map at its face: 1 + x / 2, so the landmarks with j % 4 == 3
   * (x = 0.75) come first, in index order: the top 12 are 3, 7, .. 47, and
   * of the happy set only 15 is among them */
  g_assert_cmpint (m->k[0], ==, 0);
  g_assert_cmpint (m->k[1], ==, 12);
  g_assert_cmpint (m->k[2], ==, 18);
  g_assert_cmpint (m->k[3], ==, 29);
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    g_assert_cmpfloat_with_epsilon (m->activation[1][j], 1 + 0.125 * (j % 4), 1e-6);
  for (int i = 0; i < 17; i++)
    {
      g_assert_cmpint (m->ranking[1][i], ==, 3 + 4 * i);
      g_assert_cmpint (m->ranking[1][17 + i], ==, 2 + 4 * i);
    }
  g_assert_false (m->flat[1]);
  g_assert_cmpint (m->n_top[1], ==, 12);
  g_assert_cmpint (m->overlap[1], ==, 1);
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_fraction (m, 1), 1.0 / 12, 1e-12);
  g_assert_true (isnan (pal_gradcam_means_fraction (m, 0)));   /* no set */
  g_assert_true (isnan (pal_gradcam_means_fraction (m, 2)));   /* no images */
  /* a map with the same value at every landmark ranks nothing */
  g_assert_true (m->flat[0]);
  g_assert_true (m->flat[3]);
  g_assert_cmpint (m->n_top[3], ==, 0);
  g_assert_cmpint (m->overlap[3], ==, 0);
  g_assert_true (isnan (pal_gradcam_means_fraction (m, 3)));
  /* fear: only 48 and 54 are above 0, so the top list holds those two
   * (not 31 more zeros in index order); both are in fear's 33 */
  g_assert_false (m->flat[4]);
  g_assert_cmpint (m->k[4], ==, 33);
  g_assert_cmpint (m->n_top[4], ==, 2);
  g_assert_cmpint (m->ranking[4][0], ==, 48);
  g_assert_cmpint (m->ranking[4][1], ==, 54);
  g_assert_cmpint (m->overlap[4], ==, 2);
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_fraction (m, 4), 2.0 / 33, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_average (m), (1.0 / 12 + 2.0 / 33) / 2,
                                  1e-12);
  /* chance: k / 68; the mean over the classes the average takes (happy, fear) */
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_chance (m, 1), 12.0 / 68, 1e-12);
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_chance (m, 2), 18.0 / 68, 1e-12);
  g_assert_true (isnan (pal_gradcam_means_chance (m, 0)));
  g_assert_cmpfloat_with_epsilon (pal_gradcam_means_chance (m, -1), (12.0 + 33.0) / 2 / 68,
                                  1e-12);

  /* the text table says the top list is short */
  {
    g_autofree char *text = pal_gradcam_means_to_string (m, NULL);

    g_assert_nonnull (strstr (text, "48 54 (only 2 landmarks above 0)"));
    g_assert_nonnull (strstr (text, "flat map"));
  }

  /* the accumulator goes on after a finish: sad gets happy's first map */
  pal_gradcam_accum_add (acc, 2, cam_a, 2, 1, &la, NULL, FALSE);
  {
    g_autoptr (PalGradcamMeans) m2 = pal_gradcam_accum_finish (acc);

    g_assert_cmpint (m2->counts[2], ==, 1);
    g_assert_cmpint (m2->counts[1], ==, 2);
    g_assert_false (m2->flat[2]);
    g_assert_false (isnan (pal_gradcam_means_fraction (m2, 2)));
    g_assert_cmpint (m2->ranking[2][0], ==, 3);
  }
}

/* The text table, the CSV and the picture of a hand-made result. */
static void
test_report (void)
{
  const int size = 48;
  g_autoptr (PalGradcamAccum) acc = pal_gradcam_accum_new (7, size, size);
  g_autoptr (PalGradcamMeans) m = NULL;
  g_autoptr (PalImage) picture = NULL;
  g_autofree float *cam = g_new (float, 12 * 12);
  g_autofree float *image = g_new (float, size * size * 3);
  g_autofree char *text = NULL, *csv = NULL;
  g_auto (GStrv) lines = NULL;
  PalLandmarks lm;

  template_face (&lm, size);
  for (int i = 0; i < size * size * 3; i++)
    image[i] = (float) (i % 251);
  for (int k = 0; k < 6; k++)     /* anger (6) stays empty */
    {
      for (int i = 0; i < 12 * 12; i++)
        cam[i] = (float) ((i * (k + 3)) % 17);
      pal_gradcam_accum_add (acc, k, cam, 12, 12, &lm, image, k % 2 == 0);
    }
  m = pal_gradcam_accum_finish (acc);

  text = pal_gradcam_means_to_string (m, NULL);
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 1 + 7 + 1 + 1);   /* header, classes, average, "" */
  g_assert_true (g_str_has_prefix (lines[1], "neutral"));
  g_assert_nonnull (strstr (lines[1], "no action units"));
  g_assert_true (g_str_has_prefix (lines[2], "happy"));
  g_assert_nonnull (strstr (lines[2], "/12"));
  g_assert_true (g_str_has_prefix (lines[8], "average"));
  g_assert_nonnull (strstr (lines[8], "5 emotions"));

  csv = pal_gradcam_means_to_csv (m, NULL);
  g_strfreev (lines);
  lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 1 + 7 + 1);
  g_assert_cmpstr (lines[0], ==, "class,images,correct,k,overlap,fraction,chance,top_k,table4");
  g_assert_cmpstr (lines[1], ==, "neutral,1,1,0,,,,,");
  g_assert_true (g_str_has_prefix (lines[2], "happy,1,0,12,"));
  g_assert_nonnull (strstr (lines[2], ",0.1765,"));   /* 12 / 68 */
  g_assert_true (g_str_has_suffix (lines[2], ",1 2 14 15 48 49 53 54 55 59 60 64"));
  g_assert_true (g_str_has_prefix (lines[7], "anger,0,0,36,,,0.5294,,17 18 19"));

  picture = pal_gradcam_means_render (m, NULL, "a title");
  g_assert_nonnull (picture);
  g_assert_cmpint (picture->channels, ==, 3);
  g_assert_cmpint (picture->width, >=, 4 * 192);   /* four panels of 192 across */
  g_assert_cmpint (picture->height, >=, 2 * 192);
}

/* --- a whole run ---------------------------------------------------------- */

typedef struct {
  int calls[2];
  int last_done[2];
  int last_total[2];
  GCancellable *cancel_after_first;   /* cancelled at the first Grad-CAM batch */
} Progress;

static void
on_progress (PalAnalysisStage stage, int done, int total, gpointer user_data)
{
  Progress *p = user_data;

  g_assert_cmpint (stage, >=, 0);
  g_assert_cmpint (stage, <=, 1);
  g_assert_cmpint (done, >, p->last_done[stage]);
  g_assert_cmpint (done, <=, total);
  p->calls[stage]++;
  p->last_done[stage] = done;
  p->last_total[stage] = total;
  if (p->cancel_after_first && stage == PAL_ANALYSIS_STAGE_GRADCAM)
    g_cancellable_cancel (p->cancel_after_first);
}

static void
test_run (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = tiny_model ();
  g_autoptr (PalDataset) ds = synth_dataset ();
  g_autoptr (PalGradcamMeans) m = NULL;
  g_autoptr (PalImage) picture = NULL;
  PalGradcamMeansOptions opt;
  Progress p = { { 0 } };
  int layer = pal_graph_find (pal_model_get_graph (model), "c2");
  int n_test = pal_dataset_count (ds, PAL_SPLIT_TEST, -1), used = 0;

  g_assert_cmpint (pal_dataset_get_n (ds), ==, 70);
  g_assert_cmpint (n_test, ==, 18);
  pal_gradcam_means_options_init (&opt);
  g_assert_cmpint (opt.batch_size, ==, 32);
  g_assert_cmpfloat (opt.frontal_eps, ==, 0);
  opt.batch_size = 4;     /* batches that hold two classes */
  m = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, on_progress, &p,
                             &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);

  g_assert_cmpint (m->n_classes, ==, 7);
  g_assert_cmpint (m->width, ==, 48);
  g_assert_cmpint (m->height, ==, 48);
  g_assert_cmpint (m->map_width, ==, 24);
  g_assert_cmpint (m->map_height, ==, 24);
  g_assert_cmpstr (m->layer, ==, "c2");
  g_assert_cmpint (m->n_split, ==, n_test);
  g_assert_cmpint (m->n_no_landmarks + m->n_not_frontal + m->n_failed, ==, 0);
  for (int k = 0; k < 7; k++)
    {
      g_assert_cmpint (m->counts[k], ==, pal_dataset_count (ds, PAL_SPLIT_TEST, k));
      g_assert_cmpint (m->correct[k], <=, m->counts[k]);
      used += m->counts[k];
    }
  g_assert_cmpint (used, ==, n_test);
  for (gsize i = 0; i < (gsize) 7 * 48 * 48; i++)
    {
      g_assert_true (isfinite (m->maps[i]));
      g_assert_cmpfloat (m->maps[i], >=, 0);
    }
  for (gsize i = 0; i < (gsize) 7 * 48 * 48 * 3; i++)
    g_assert_true (m->images[i] >= -0.5f && m->images[i] <= 255.5f);
  /* the synthetic faces are roughly centred: so is the mean face */
  g_assert_cmpfloat (fabsf (m->mean_face.x[30] - 23.5f), <, 5);
  for (int k = 0; k < 7; k++)
    g_assert_cmpint (m->overlap[k], <=, m->k[k]);

  /* progress: only the Grad-CAM stage, ending at the total */
  g_assert_cmpint (p.calls[PAL_ANALYSIS_STAGE_LANDMARKS], ==, 0);
  g_assert_cmpint (p.calls[PAL_ANALYSIS_STAGE_GRADCAM], ==, (n_test + 3) / 4);
  g_assert_cmpint (p.last_done[PAL_ANALYSIS_STAGE_GRADCAM], ==, n_test);
  g_assert_cmpint (p.last_total[PAL_ANALYSIS_STAGE_GRADCAM], ==, n_test);

  picture = pal_gradcam_means_render (m, NULL, NULL);
  g_assert_nonnull (picture);

  /* the same with a batch of 1 and no loader threads: the same means */
  {
    g_autoptr (PalGradcamMeans) m1 = NULL;

    opt.batch_size = 1;
    opt.n_workers = 0;
    m1 = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, NULL, NULL,
                                &error);
    g_assert_no_error (error);
    for (int k = 0; k < 7; k++)
      g_assert_cmpint (m1->counts[k], ==, m->counts[k]);
    for (gsize i = 0; i < (gsize) 7 * 48 * 48; i++)
      g_assert_cmpfloat_with_epsilon (m1->maps[i], m->maps[i],
                                      1e-4 * (1 + fabsf (m->maps[i])));
  }
}

static void
test_run_frontal (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = tiny_model ();
  g_autoptr (PalDataset) ds = synth_dataset ();
  PalGradcamMeansOptions opt;
  int layer = pal_graph_find (pal_model_get_graph (model), "c2");
  int n_test = pal_dataset_count (ds, PAL_SPLIT_TEST, -1);

  pal_gradcam_means_options_init (&opt);

  /* a huge epsilon keeps every face; the pre-pass reports progress */
  {
    g_autoptr (PalGradcamMeans) m = NULL;
    Progress p = { { 0 } };

    opt.frontal_eps = 1000;
    m = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, on_progress, &p,
                               &error);
    g_assert_no_error (error);
    g_assert_cmpint (m->n_not_frontal, ==, 0);
    g_assert_cmpint (p.last_done[PAL_ANALYSIS_STAGE_LANDMARKS], ==, n_test);
    g_assert_cmpint (p.last_done[PAL_ANALYSIS_STAGE_GRADCAM], ==, n_test);
    /* the reference is the mean face of the split */
    for (int j = 0; j < PAL_N_LANDMARKS; j++)
      g_assert_cmpfloat_with_epsilon (m->frontal_ref.x[j], m->mean_face.x[j], 1e-3);
  }

  /* a few pixels: some kept, the rest counted, each kept face frontal */
  {
    g_autoptr (PalGradcamMeans) m = NULL;
    g_autoptr (PalGradcamMeans) all = NULL;
    int used = 0;

    opt.frontal_eps = 2.5;
    m = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, NULL, NULL,
                               &error);
    g_assert_no_error (error);
    for (int k = 0; k < 7; k++)
      used += m->counts[k];
    g_assert_cmpint (used, >, 0);
    g_assert_cmpint (m->n_not_frontal, >, 0);
    g_assert_cmpint (used + m->n_not_frontal, ==, n_test);
    g_assert_cmpfloat (m->frontal_eps, ==, 2.5);

    /* check the selection by hand against the split's faces */
    opt.frontal_eps = 0;
    all = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, NULL, NULL,
                                 &error);
    g_assert_no_error (error);
    for (int j = 0; j < PAL_N_LANDMARKS; j++)
      g_assert_cmpfloat_with_epsilon (m->frontal_ref.x[j], all->mean_face.x[j], 1e-3);
    {
      int expect = 0;
      g_autofree int *idx = NULL;
      int n;

      idx = pal_dataset_indices (ds, PAL_SPLIT_TEST, &n);
      for (int i = 0; i < n; i++)
        {
          g_autoptr (PalImage) img = NULL;
          PalLandmarks lm;

          img = pal_dataset_load_image (ds, idx[i], &lm, &error);
          g_assert_no_error (error);
          for (int j = 0; j < PAL_N_LANDMARKS; j++)   /* to the 48 x 48 input */
            {
              lm.x[j] = (lm.x[j] + 0.5f) * 48 / img->width - 0.5f;
              lm.y[j] = (lm.y[j] + 0.5f) * 48 / img->height - 0.5f;
            }
          expect += pal_face_is_frontal (&lm, &m->frontal_ref, 2.5);
        }
      g_assert_cmpint (used, ==, expect);
    }
  }

  /* nothing within a hundredth of a pixel */
  opt.frontal_eps = 0.01;
  g_assert_null (pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, NULL,
                                        NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "frontal"));
}

static void
test_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = tiny_model ();
  g_autoptr (PalDataset) ds = synth_dataset ();
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  PalGradcamMeansOptions opt;
  Progress p = { { 0 } };
  int layer = pal_graph_find (pal_model_get_graph (model), "c2");

  pal_gradcam_means_options_init (&opt);
  opt.batch_size = 4;

  /* cancelled at the first batch: no second batch runs */
  p.cancel_after_first = cancel;
  g_assert_null (pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, cancel,
                                        on_progress, &p, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_CANCELLED);
  g_assert_cmpint (p.calls[PAL_ANALYSIS_STAGE_GRADCAM], ==, 1);
  g_clear_error (&error);

  /* already cancelled: nothing runs, in either stage */
  memset (&p, 0, sizeof p);
  opt.frontal_eps = 100;
  g_assert_null (pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, cancel,
                                        on_progress, &p, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_CANCELLED);
  g_assert_cmpint (p.calls[0] + p.calls[1], ==, 0);
}

static void
test_run_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = tiny_model ();
  g_autoptr (PalDataset) ds = synth_dataset ();
  PalGraph *g = pal_model_get_graph (model);
  PalGradcamMeansOptions opt;

  pal_gradcam_means_options_init (&opt);

  /* the logits have no map */
  g_assert_null (pal_gradcam_means_run (model, pal_graph_get_output (g), ds, PAL_SPLIT_TEST,
                                        &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  /* nor does the flattened vector */
  g_assert_null (pal_gradcam_means_run (model, pal_graph_find (g, "flat"), ds, PAL_SPLIT_TEST,
                                        &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  /* a batch size out of range */
  opt.batch_size = 0;
  g_assert_null (pal_gradcam_means_run (model, pal_graph_find (g, "c2"), ds, PAL_SPLIT_TEST,
                                        &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  opt.batch_size = 8;
  /* a negative epsilon */
  opt.frontal_eps = -1;
  g_assert_null (pal_gradcam_means_run (model, pal_graph_find (g, "c2"), ds, PAL_SPLIT_TEST,
                                        &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  opt.frontal_eps = 0;
  /* RAF-DB has no validation split of its own */
  g_assert_null (pal_gradcam_means_run (model, pal_graph_find (g, "c2"), ds, PAL_SPLIT_VAL,
                                        &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no samples"));
  g_clear_error (&error);
  /* a model with fewer classes than the dataset */
  {
    g_autoptr (PalModel) small = pal_model_new ("input data shape=3x48x48\n"
                                                "conv c1 out=2 k=3 pad=1 act=relu\n"
                                                "flatten flat\nlinear fc out=3\n", &error);
    g_assert_no_error (error);
    g_assert_null (pal_gradcam_means_run (small, 1, ds, PAL_SPLIT_TEST, &opt, NULL, NULL, NULL,
                                          &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "classes"));
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  PalSynthOptions opt;
  int rc;

  g_test_init (&argc, &argv, NULL);
  pal_set_threads (2);   /* before any thread exists: it sets BLAS's environment */
  scratch = g_dir_make_tmp ("pal-test-analysis-XXXXXX", NULL);
  g_assert_nonnull (scratch);
  synth_dir = g_build_filename (scratch, "synth", NULL);
  pal_synth_options_init (&opt);
  opt.n = 70;
  opt.size = 48;
  opt.seed = 5;
  g_assert_true (pal_synth_dataset (synth_dir, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/analysis/table4", test_table4);
  g_test_add_func ("/analysis/sample", test_sample);
  g_test_add_func ("/analysis/rank-overlap", test_rank_overlap);
  g_test_add_func ("/analysis/rank-face", test_rank_face);
  g_test_add_func ("/analysis/frontal", test_frontal);
  g_test_add_func ("/analysis/accumulate", test_accumulate);
  g_test_add_func ("/analysis/report", test_report);
  g_test_add_func ("/analysis/run", test_run);
  g_test_add_func ("/analysis/run-frontal", test_run_frontal);
  g_test_add_func ("/analysis/cancel", test_cancel);
  g_test_add_func ("/analysis/run-errors", test_run_errors);
  rc = g_test_run ();
  pal_render_release_fonts ();   /* for LeakSanitizer */
  rm_rf (scratch);
  g_free (scratch);
  g_free (synth_dir);
  return rc;
}
