/* test-synth.c: synthetic faces, their landmarks and the RAF-DB layout */
#include "pal-error.h"
#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-rand.h"
#include "pal-synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test-util.h"

enum { NEUTRAL, HAPPY, SAD, SURPRISE, FEAR, DISGUST, ANGER };

static char *scratch;   /* one scratch directory for the whole run */

/* --- helpers -------------------------------------------------------------- */

static PalImage *
face (int klass, int size, guint64 seed, const PalSynthOptions *opt, PalLandmarks *lm)
{
  g_autoptr (GError) error = NULL;
  PalImage *image = NULL;
  guint64 rng = seed;

  g_assert_true (pal_synth_face (&image, lm, klass, size, &rng, opt, &error));
  g_assert_no_error (error);
  g_assert_nonnull (image);
  g_assert_cmpint (image->width, ==, size);
  g_assert_cmpint (image->height, ==, size);
  g_assert_cmpint (image->channels, ==, 3);
  return image;
}

/* Landmarks in a frame of the face itself: origin between the eyes, x
 * along the line through the eye centres, unit the distance between them;
 * y points down the face.  Pose (scale, rotation, shift) drops out. */
static void
face_frame (const PalLandmarks *lm, PalLandmarks *out)
{
  double lx = 0, ly = 0, rx = 0, ry = 0, ox, oy, ux, uy, d;

  for (int i = 36; i < 42; i++)
    {
      lx += lm->x[i] / 6;
      ly += lm->y[i] / 6;
      rx += lm->x[i + 6] / 6;
      ry += lm->y[i + 6] / 6;
    }
  ox = (lx + rx) / 2;
  oy = (ly + ry) / 2;
  d = hypot (rx - lx, ry - ly);
  ux = (rx - lx) / d;
  uy = (ry - ly) / d;
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      double x = lm->x[i] - ox, y = lm->y[i] - oy;

      out->x[i] = (float) ((x * ux + y * uy) / d);
      out->y[i] = (float) ((-x * uy + y * ux) / d);
    }
}

/* Measures of an expression, in the face frame. */
typedef struct {
  double corner_lift;     /* mouth centre's y - the corners' y: > 0 when they are higher */
  double mouth_width;     /* 48 to 54 */
  double mouth_open;      /* inner lips apart, 62 to 66 */
  double lip_thickness;   /* outer upper to outer lower, 51 to 57 */
  double lip_to_nose;     /* 33 to 51 */
  double brow_height;     /* how far the brows are above the eyes' centres */
  double brow_eye;        /* mean upper lid y - mean brow y */
  double inner_brow_eye;  /* the same for the inner ends 21, 22 */
  double inner_brow_gap;  /* 21 to 22 */
  double eye_open;        /* mean of upper to lower lid */
} Measures;

static Measures
measure (const PalLandmarks *lm)
{
  PalLandmarks f;
  Measures m;
  double brow = 0, lid = 0;

  face_frame (lm, &f);
  m.corner_lift = (f.y[51] + f.y[57] + f.y[62] + f.y[66]) / 4 - (f.y[48] + f.y[54]) / 2;
  m.mouth_width = f.x[54] - f.x[48];
  m.mouth_open = f.y[66] - f.y[62];
  m.lip_thickness = f.y[57] - f.y[51];
  m.lip_to_nose = f.y[51] - f.y[33];
  for (int i = 17; i <= 26; i++)
    brow += f.y[i] / 10;
  lid = (f.y[37] + f.y[38] + f.y[43] + f.y[44]) / 4;
  m.brow_height = -brow;
  m.brow_eye = lid - brow;
  m.inner_brow_eye = lid - (f.y[21] + f.y[22]) / 2;
  m.inner_brow_gap = f.x[22] - f.x[21];
  m.eye_open = (f.y[41] + f.y[40] + f.y[47] + f.y[46] - f.y[37] - f.y[38] - f.y[43] - f.y[44]) / 4;
  return m;
}

static double
luminance_at (const PalImage *image, double x, double y)
{
  int xi = (int) lround (x), yi = (int) lround (y);
  const guint8 *p;

  xi = CLAMP (xi, 0, image->width - 1);
  yi = CLAMP (yi, 0, image->height - 1);
  p = image->data + ((gsize) yi * image->width + xi) * image->channels;
  return image->channels == 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
}

/* The darkest pixel of the 3 x 3 block around (x, y). */
static double
darkest_near (const PalImage *image, double x, double y)
{
  double v = 255;

  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      v = MIN (v, luminance_at (image, x + dx, y + dy));
  return v;
}

/* The mean of the 3 x 3 block around (x, y). */
static double
mean_near (const PalImage *image, double x, double y)
{
  double v = 0;

  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      v += luminance_at (image, x + dx, y + dy) / 9;
  return v;
}

/* The class whose mark colour is nearest the mean of the mark's centre. */
static int
read_mark (const PalImage *image)
{
  int x, y, side, best = -1;
  double c[3] = { 0, 0, 0 }, best_d = G_MAXDOUBLE;

  pal_synth_mark_rect (image->width, &x, &y, &side);
  for (int yy = y + side / 2 - 1; yy <= y + side / 2; yy++)
    for (int xx = x + side / 2 - 1; xx <= x + side / 2; xx++)
      for (int k = 0; k < 3; k++)
        c[k] += image->data[((gsize) yy * image->width + xx) * 3 + k] / 4.0;
  for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
    {
      double d = 0;

      for (int j = 0; j < 3; j++)
        d += (c[j] - pal_synth_mark_colours[k][j]) * (c[j] - pal_synth_mark_colours[k][j]);
      if (d < best_d)
        {
          best_d = d;
          best = k;
        }
    }
  g_assert_cmpfloat (best_d, <, 60.0 * 60.0);   /* a clean mark, not a guess */
  return best;
}

/* --- the template and the expressions ------------------------------------- */

static void
test_template_symmetric (void)
{
  PalLandmarks lm;

  pal_synth_template (&lm);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int j = pal_landmarks_mirror[i];

      g_assert_cmpfloat_with_epsilon (lm.x[i], -lm.x[j], 1e-6);
      g_assert_cmpfloat_with_epsilon (lm.y[i], lm.y[j], 1e-6);
    }
  /* the subject's right (image left) has negative x; the chin is lowest */
  g_assert_cmpfloat (lm.x[36], <, 0);
  g_assert_cmpfloat (lm.x[45], >, 0);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    g_assert_cmpfloat (lm.y[i], <=, lm.y[8]);
  /* the closed mouth: inner lips on each other */
  g_assert_cmpfloat_with_epsilon (lm.y[62], lm.y[66], 1e-6);

  /* expressions stay symmetric, and neutral moves nothing */
  for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
    {
      PalLandmarks e;

      pal_synth_template (&e);
      pal_synth_expression (&e, k, 0.8);
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          int j = pal_landmarks_mirror[i];

          g_assert_cmpfloat_with_epsilon (e.x[i], -e.x[j], 1e-5);
          g_assert_cmpfloat_with_epsilon (e.y[i], e.y[j], 1e-5);
          if (k == NEUTRAL)
            {
              g_assert_cmpfloat (e.x[i], ==, lm.x[i]);
              g_assert_cmpfloat (e.y[i], ==, lm.y[i]);
            }
        }
    }
}

/* Each expression against neutral, @e and @n measured alike; the margins
 * are those of full intensity times @s. */
static void
check_expression (int k, const Measures *e, const Measures *n, double s)
{
  switch (k)
    {
    case HAPPY:
      g_assert_cmpfloat (e->corner_lift, >, n->corner_lift + 0.05 * s);
      g_assert_cmpfloat (e->mouth_width, >, n->mouth_width);
      g_assert_cmpfloat (e->eye_open, <, n->eye_open);        /* cheeks push the lids */
      break;
    case SAD:
      g_assert_cmpfloat (e->corner_lift, <, n->corner_lift - 0.03 * s);
      g_assert_cmpfloat (e->inner_brow_eye, >, n->inner_brow_eye + 0.03 * s);
      break;
    case SURPRISE:
      g_assert_cmpfloat (e->brow_eye, >, n->brow_eye + 0.08 * s);
      g_assert_cmpfloat (e->eye_open, >, n->eye_open);
      g_assert_cmpfloat (e->mouth_open, >, n->mouth_open + 0.1 * s);
      g_assert_cmpfloat (e->mouth_width, <, n->mouth_width);  /* round, not wide */
      break;
    case FEAR:
      g_assert_cmpfloat (e->brow_height, >, n->brow_height + 0.04 * s);
      g_assert_cmpfloat (e->inner_brow_gap, <, n->inner_brow_gap - 0.03 * s);
      g_assert_cmpfloat (e->eye_open, >, n->eye_open);
      g_assert_cmpfloat (e->mouth_width, >, n->mouth_width + 0.05 * s);
      g_assert_cmpfloat (e->mouth_open, >, n->mouth_open);
      break;
    case DISGUST:
      g_assert_cmpfloat (e->lip_to_nose, <, n->lip_to_nose - 0.02 * s);
      g_assert_cmpfloat (e->brow_height, <, n->brow_height - 0.02 * s);
      g_assert_cmpfloat (e->eye_open, <, n->eye_open);
      break;
    case ANGER:
      g_assert_cmpfloat (e->inner_brow_eye, <, n->inner_brow_eye - 0.05 * s);
      g_assert_cmpfloat (e->inner_brow_gap, <, n->inner_brow_gap - 0.05 * s);
      g_assert_cmpfloat (e->eye_open, <, n->eye_open);
      g_assert_cmpfloat (e->lip_thickness, <, n->lip_thickness);
      break;
    default:
      break;
    }
}

static void
test_expressions_template (void)
{
  PalLandmarks neutral;
  Measures n;

  pal_synth_template (&neutral);
  n = measure (&neutral);
  for (int k = 1; k < PAL_SYNTH_N_CLASSES; k++)
    {
      PalLandmarks e = neutral, half = neutral;
      Measures me;

      pal_synth_expression (&e, k, 1.0);
      me = measure (&e);
      check_expression (k, &me, &n, 1.0);
      /* half the intensity, half the displacement */
      pal_synth_expression (&half, k, 0.5);
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          g_assert_cmpfloat_with_epsilon (half.x[i] - neutral.x[i],
                                          (e.x[i] - neutral.x[i]) / 2, 1e-5);
          g_assert_cmpfloat_with_epsilon (half.y[i] - neutral.y[i],
                                          (e.y[i] - neutral.y[i]) / 2, 1e-5);
        }
    }
}

/* Whole faces: the same generator state gives the same person and pose
 * for every class, so each expression is measured against its own
 * neutral twin. */
static void
test_expressions_faces (void)
{
  for (guint64 seed = 1; seed <= 25; seed++)
    {
      PalLandmarks lm;
      Measures n;
      PalImage *image = face (NEUTRAL, 100, seed, NULL, &lm);

      pal_image_free (image);
      n = measure (&lm);
      for (int k = 1; k < PAL_SYNTH_N_CLASSES; k++)
        {
          Measures e;

          image = face (k, 100, seed, NULL, &lm);
          pal_image_free (image);
          e = measure (&lm);
          check_expression (k, &e, &n, 0.4);   /* intensity from 0.5 */
        }
    }
}

/* --- faces ---------------------------------------------------------------- */

static void
test_face_deterministic (void)
{
  for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
    {
      PalLandmarks a, b, c;
      g_autoptr (PalImage) ia = face (k, 100, 42, NULL, &a);
      g_autoptr (PalImage) ib = face (k, 100, 42, NULL, &b);
      g_autoptr (PalImage) ic = face (k, 100, 43, NULL, &c);

      g_assert_cmpmem (ia->data, 100 * 100 * 3, ib->data, 100 * 100 * 3);
      g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
      g_assert_true (memcmp (ia->data, ic->data, 100 * 100 * 3) != 0);
      g_assert_true (memcmp (&a, &c, sizeof a) != 0);
    }
  /* the generator moves on by the same amount for every class */
  {
    guint64 after[PAL_SYNTH_N_CLASSES];

    for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
      {
        g_autoptr (PalImage) image = NULL;
        PalLandmarks lm;
        guint64 rng = 7;

        g_assert_true (pal_synth_face (&image, &lm, k, 64, &rng, NULL, NULL));
        after[k] = rng;
        g_assert_cmpuint (after[k], ==, after[0]);
      }
  }
}

static void
test_face_landmarks_inside (void)
{
  PalSynthOptions opt;

  pal_synth_options_init (&opt);
  for (int size = 32; size <= 128; size *= 2)
    for (guint64 seed = 0; seed < 40; seed++)
      {
        PalLandmarks lm;
        g_autoptr (PalImage) image = face ((int) (seed % 7), size, seed * 977 + size, &opt, &lm);
        float box[4];

        pal_landmarks_bounds (&lm, box);
        g_assert_cmpfloat (box[0], >=, 0);
        g_assert_cmpfloat (box[1], >=, 0);
        g_assert_cmpfloat (box[2], <=, size - 1);
        g_assert_cmpfloat (box[3], <=, size - 1);
        /* a face, not a speck: it spans a good part of the image */
        g_assert_cmpfloat (box[2] - box[0], >, 0.4 * size);
        g_assert_cmpfloat (box[3] - box[1], >, 0.4 * size);
      }

  /* the largest pose still fits */
  opt.scale_min = opt.scale_max = 1.1;
  opt.max_shift = 0.04;
  for (guint64 seed = 0; seed < 40; seed++)
    {
      PalLandmarks lm;
      g_autoptr (PalImage) image = face (SURPRISE, 64, seed, &opt, &lm);
      float box[4];

      pal_landmarks_bounds (&lm, box);
      g_assert_cmpfloat (box[0], >=, 0);
      g_assert_cmpfloat (box[1], >=, 0);
      g_assert_cmpfloat (box[2], <=, 63);
      g_assert_cmpfloat (box[3], <=, 63);
    }
}

static void
test_face_pose (void)
{
  PalSynthOptions opt;
  PalLandmarks lm;
  g_autoptr (PalImage) image = NULL;
  double angle;

  /* no pose: upright, centred, symmetric about the vertical midline */
  pal_synth_options_init (&opt);
  opt.scale_min = opt.scale_max = 1.0;
  opt.max_rotation = 0;
  opt.max_shift = 0;
  image = face (NEUTRAL, 100, 5, &opt, &lm);
  g_assert_cmpfloat (fabs (lm.y[36] - lm.y[45]), <, 0.5);
  g_assert_cmpfloat (fabs ((lm.x[0] + lm.x[16]) / 2 - 49.5), <, 1.0);
  g_assert_cmpfloat (lm.y[8], >, lm.y[30]);
  g_assert_cmpfloat (lm.y[30], >, lm.y[27]);
  g_clear_pointer (&image, pal_image_free);

  /* rotation within the limit */
  opt.max_rotation = 12;
  for (guint64 seed = 0; seed < 30; seed++)
    {
      image = face ((int) (seed % 7), 100, seed, &opt, &lm);
      angle = atan2 (lm.y[45] - lm.y[36], lm.x[45] - lm.x[36]) * 180 / G_PI;
      g_assert_cmpfloat (fabs (angle), <, 12 + 4);   /* eye corners carry some jitter */
      g_clear_pointer (&image, pal_image_free);
    }
}

static void
test_face_mouth_darker (void)
{
  for (guint64 seed = 0; seed < 30; seed++)
    for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
      {
        PalLandmarks lm;
        g_autoptr (PalImage) image = face (k, 100, seed * 31 + 3, NULL, &lm);
        /* a cheek: halfway from the jaw (3, 13) to the nose wing (31, 35) */
        double cx = (lm.x[3] + lm.x[31]) / 2, cy = (lm.y[3] + lm.y[31]) / 2;
        double cx2 = (lm.x[13] + lm.x[35]) / 2, cy2 = (lm.y[13] + lm.y[35]) / 2;
        double cheek = MAX (mean_near (image, cx, cy), mean_near (image, cx2, cy2));

        /* the line between the lips: at the middle of the corners (neutral
         * and anger's pressed lips), and somewhere from the upper inner
         * lip's centre down to the lower's (every class: an open mouth
         * shows teeth in between) */
        if (k == NEUTRAL || k == ANGER)
          g_assert_cmpfloat (darkest_near (image, (lm.x[48] + lm.x[54]) / 2,
                                           (lm.y[48] + lm.y[54]) / 2), <, cheek - 10);
        {
          double v = 255;

          for (int t = 0; t <= 8; t++)
            v = MIN (v, darkest_near (image, lm.x[62] + (lm.x[66] - lm.x[62]) * t / 8,
                                      lm.y[62] + (lm.y[66] - lm.y[62]) * t / 8));
          g_assert_cmpfloat (v, <, cheek - 10);
        }
        /* the pupils are dark too */
        g_assert_cmpfloat (darkest_near (image, (lm.x[37] + lm.x[38] + lm.x[40] + lm.x[41]) / 4,
                                         (lm.y[37] + lm.y[38] + lm.y[40] + lm.y[41]) / 4),
                           <, cheek - 10);
      }
}

static void
test_face_errors (void)
{
  g_autoptr (GError) error = NULL;
  PalImage *image = NULL;
  PalLandmarks lm;
  guint64 rng = 1;

  g_assert_false (pal_synth_face (&image, &lm, 7, 100, &rng, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_null (image);
  g_clear_error (&error);
  g_assert_false (pal_synth_face (&image, &lm, -1, 100, &rng, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_synth_face (&image, &lm, 0, 16, &rng, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_null (image);
}

/* --- the dataset ---------------------------------------------------------- */

typedef struct {
  int calls, last;
} Progress;

static void
on_progress (int done, int total, gpointer user_data)
{
  Progress *p = user_data;

  g_assert_cmpint (done, >, p->last);
  g_assert_cmpint (done, <=, total);
  p->calls++;
  p->last = done;
}

static char *
write_dataset (const char *name, int n, int size, double shortcut, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_build_filename (scratch, name, NULL);
  PalSynthOptions opt;
  Progress progress = { 0, 0 };

  pal_synth_options_init (&opt);
  opt.n = n;
  opt.size = size;
  opt.shortcut = shortcut;
  opt.seed = seed;
  g_assert_true (pal_synth_dataset (dir, &opt, NULL, on_progress, &progress, &error));
  g_assert_no_error (error);
  g_assert_cmpint (progress.last, ==, n);
  g_assert_cmpint (progress.calls, >=, 1);
  return dir;
}

static void
test_dataset_layout (void)
{
  g_autofree char *dir = write_dataset ("tiny", 14, 64, 1.0, 11);
  g_autofree char *labels_path = g_build_filename (dir, "EmoLabel", "list_patition_label.txt", NULL);
  g_autofree char *image_dir = g_build_filename (dir, "Image", "aligned", NULL);
  g_autofree char *lm_dir = g_build_filename (dir, "Landmarks", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  int per_code[8] = { 0 }, n_train = 0, n_test = 0, test_matches = 0;

  g_assert_true (g_file_get_contents (labels_path, &text, NULL, NULL));
  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 15);   /* 14 and the empty tail */
  g_assert_cmpstr (lines[14], ==, "");
  /* nothing but the samples: no temporary files left behind */
  g_assert_cmpuint (count_entries (dir), ==, 3);
  g_assert_cmpuint (count_entries (image_dir), ==, 14);
  g_assert_cmpuint (count_entries (lm_dir), ==, 14);

  for (int i = 0; i < 14; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) image = NULL;
      g_autofree char *stem = NULL, *jpg = NULL, *pts = NULL, *expect = NULL;
      g_auto (GStrv) f = g_strsplit (lines[i], " ", -1);
      gboolean train = i < 10;
      PalLandmarks lm;
      int code, klass = -1;
      float box[4];

      /* round(14 * 0.25) = 4 in test, after train, numbered from 1 */
      g_assert_cmpuint (g_strv_length (f), ==, 2);
      expect = g_strdup_printf ("%s_%05d.jpg", train ? "train" : "test", train ? i + 1 : i - 9);
      g_assert_cmpstr (f[0], ==, expect);
      code = atoi (f[1]);
      g_assert_cmpint (code, >=, 1);
      g_assert_cmpint (code, <=, 7);
      per_code[code]++;
      for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
        if (pal_synth_raf_codes[k] == code)
          klass = k;
      train ? n_train++ : n_test++;

      stem = g_strndup (f[0], strlen (f[0]) - 4);
      jpg = g_strdup_printf ("%s/%s_aligned.jpg", image_dir, stem);
      pts = g_strdup_printf ("%s/%s_aligned.pts", lm_dir, stem);
      image = pal_image_load (jpg, &error);
      g_assert_no_error (error);
      g_assert_cmpint (image->width, ==, 64);
      g_assert_cmpint (image->height, ==, 64);
      g_assert_cmpint (image->channels, ==, 3);
      g_assert_true (pal_landmarks_load (pts, &lm, &error));
      g_assert_no_error (error);
      pal_landmarks_bounds (&lm, box);
      g_assert_cmpfloat (box[0], >=, 0);
      g_assert_cmpfloat (box[1], >=, 0);
      g_assert_cmpfloat (box[2], <=, 63);
      g_assert_cmpfloat (box[3], <=, 63);

      /* shortcut 1: every train mark gives its label; test marks are random */
      if (train)
        g_assert_cmpint (read_mark (image), ==, klass);
      else if (read_mark (image) == klass)
        test_matches++;
    }
  g_assert_cmpint (n_train, ==, 10);
  g_assert_cmpint (n_test, ==, 4);
  for (int c = 1; c <= 7; c++)
    g_assert_cmpint (per_code[c], ==, 2);
  g_assert_cmpint (test_matches, <, n_test);
  rm_rf (dir);
}

/* The landmark files hold the landmarks of pal_synth_face(), 1-based on
 * disk, and the images its pixels (up to JPEG's loss). */
static void
test_dataset_matches_faces (void)
{
  g_autofree char *dir = write_dataset ("match", 7, 64, -1, 5);
  g_autofree char *text = NULL, *labels_path = NULL;
  g_auto (GStrv) lines = NULL;

  labels_path = g_build_filename (dir, "EmoLabel", "list_patition_label.txt", NULL);
  g_assert_true (g_file_get_contents (labels_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; i < 7; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) image = NULL, disk = NULL;
      g_autofree char *pts = NULL, *jpg = NULL, *pts_text = NULL;
      g_auto (GStrv) f = g_strsplit (lines[i], " ", -1);
      g_autofree char *stem = g_strndup (f[0], strlen (f[0]) - 4);
      gboolean train = g_str_has_prefix (stem, "train");
      int number = atoi (strchr (stem, '_') + 1), klass = -1;
      PalLandmarks lm, want;
      guint64 rng;
      double err = 0;

      for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
        if (pal_synth_raf_codes[k] == atoi (f[1]))
          klass = k;
      /* the sample's stream, as documented in pal_synth_dataset() */
      rng = pal_mix64 (5 ^ pal_mix64 (((guint64) (train ? 1 : 2) << 40) + (guint64) (number - 1)));
      image = face (klass, 64, rng, NULL, &want);

      pts = g_strdup_printf ("%s/Landmarks/%s_aligned.pts", dir, stem);
      g_assert_true (pal_landmarks_load (pts, &lm, &error));
      g_assert_no_error (error);
      for (int p = 0; p < PAL_N_LANDMARKS; p++)
        {
          g_assert_cmpfloat_with_epsilon (lm.x[p], want.x[p], 0.01);
          g_assert_cmpfloat_with_epsilon (lm.y[p], want.y[p], 0.01);
        }
      /* on disk the first point is 1-based */
      g_assert_true (g_file_get_contents (pts, &pts_text, NULL, NULL));
      g_assert_nonnull (strstr (pts_text, "{\n"));
      g_assert_cmpfloat (fabs (g_ascii_strtod (strstr (pts_text, "{\n") + 2, NULL)
                               - (want.x[0] + 1)), <, 0.01);

      jpg = g_strdup_printf ("%s/Image/aligned/%s_aligned.jpg", dir, stem);
      disk = pal_image_load (jpg, &error);
      g_assert_no_error (error);
      for (gsize j = 0; j < 64 * 64 * 3; j++)
        err += fabs ((double) disk->data[j] - image->data[j]);
      g_assert_cmpfloat (err / (64 * 64 * 3), <, 6.0);
    }
  rm_rf (dir);
}

static gboolean
dirs_equal (const char *a, const char *b)
{
  GDir *d = g_dir_open (a, 0, NULL);
  const char *name;
  gboolean same = TRUE;

  g_assert_nonnull (d);
  while (same && (name = g_dir_read_name (d)))
    {
      g_autofree char *pa = g_build_filename (a, name, NULL);
      g_autofree char *pb = g_build_filename (b, name, NULL);

      if (g_file_test (pa, G_FILE_TEST_IS_DIR))
        same = dirs_equal (pa, pb);
      else
        {
          g_autofree char *ca = NULL, *cb = NULL;
          gsize la, lb;

          same = g_file_get_contents (pa, &ca, &la, NULL)
                 && g_file_get_contents (pb, &cb, &lb, NULL)
                 && la == lb && memcmp (ca, cb, la) == 0;
        }
    }
  g_dir_close (d);
  return same && count_entries (a) == count_entries (b);
}

static void
test_dataset_deterministic (void)
{
  g_autofree char *a = write_dataset ("det-a", 21, 48, 0.5, 3);
  g_autofree char *b = write_dataset ("det-b", 21, 48, 0.5, 3);
  g_autofree char *c = write_dataset ("det-c", 21, 48, 0.5, 4);

  g_assert_true (dirs_equal (a, b));
  g_assert_false (dirs_equal (a, c));
  rm_rf (a);
  rm_rf (b);
  rm_rf (c);
}

static void
test_dataset_balance (void)
{
  /* 7 * 3 + 5: the first five classes get one more; each split balanced */
  g_autofree char *dir = write_dataset ("balance", 26, 32, -1, 9);
  g_autofree char *path = g_build_filename (dir, "EmoLabel", "list_patition_label.txt", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  int all[8] = { 0 }, split[2][8] = { { 0 } }, lo[2] = { 99, 99 }, hi[2] = { 0, 0 };

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] && *lines[i]; i++)
    {
      int code = atoi (strchr (lines[i], ' ') + 1);

      all[code]++;
      split[g_str_has_prefix (lines[i], "test")][code]++;
    }
  for (int k = 0; k < PAL_SYNTH_N_CLASSES; k++)
    {
      int code = pal_synth_raf_codes[k];

      g_assert_cmpint (all[code], ==, k < 5 ? 4 : 3);
      for (int s = 0; s < 2; s++)
        {
          lo[s] = MIN (lo[s], split[s][code]);
          hi[s] = MAX (hi[s], split[s][code]);
        }
    }
  g_assert_cmpint (hi[0] - lo[0], <=, 1);
  g_assert_cmpint (hi[1] - lo[1], <=, 1);
  rm_rf (dir);
}

static void
test_dataset_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree char *file = g_build_filename (scratch, "a-file", NULL);
  g_autofree char *under_file = g_build_filename (file, "data", NULL);
  g_autofree char *dir = g_build_filename (scratch, "errors", NULL);
  g_autofree char *labels = g_build_filename (dir, "EmoLabel", "list_patition_label.txt", NULL);
  PalSynthOptions opt;

  pal_synth_options_init (&opt);
  opt.n = 6;
  g_assert_false (pal_synth_dataset (dir, &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  opt.n = 7;
  opt.shortcut = 1.5;
  g_assert_false (pal_synth_dataset (dir, &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  opt.shortcut = -1;
  opt.test_fraction = 1.5;
  g_assert_false (pal_synth_dataset (dir, &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  opt.test_fraction = 0.25;
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));

  /* a folder that cannot be made: its parent is a file */
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_false (pal_synth_dataset (under_file, &opt, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "a-file"));
  g_clear_error (&error);
  g_assert_cmpint (g_unlink (file), ==, 0);

  /* cancelled: an error and no label file */
  g_cancellable_cancel (cancel);
  g_assert_false (pal_synth_dataset (dir, &opt, cancel, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_CANCELLED);
  g_assert_false (g_file_test (labels, G_FILE_TEST_EXISTS));
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("pal-test-synth-XXXXXX", NULL);
  g_assert_nonnull (scratch);

  g_test_add_func ("/synth/template-symmetric", test_template_symmetric);
  g_test_add_func ("/synth/expressions-template", test_expressions_template);
  g_test_add_func ("/synth/expressions-faces", test_expressions_faces);
  g_test_add_func ("/synth/face-deterministic", test_face_deterministic);
  g_test_add_func ("/synth/face-landmarks-inside", test_face_landmarks_inside);
  g_test_add_func ("/synth/face-pose", test_face_pose);
  g_test_add_func ("/synth/face-mouth-darker", test_face_mouth_darker);
  g_test_add_func ("/synth/face-errors", test_face_errors);
  g_test_add_func ("/synth/dataset-layout", test_dataset_layout);
  g_test_add_func ("/synth/dataset-matches-faces", test_dataset_matches_faces);
  g_test_add_func ("/synth/dataset-deterministic", test_dataset_deterministic);
  g_test_add_func ("/synth/dataset-balance", test_dataset_balance);
  g_test_add_func ("/synth/dataset-errors", test_dataset_errors);
  rc = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  return rc;
}
