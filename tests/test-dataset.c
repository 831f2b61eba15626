/* test-dataset.c: the dataset readers, splits and the balanced sampler
 *
 * Every fixture is written by the test into a scratch directory: label
 * files as text, images as tiny PNG / JPEG files. */
#include "pal-dataset.h"
#include "pal-dataset-private.h"
#include "pal-error.h"
#include "pal-model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "test-util.h"

static char *scratch;   /* one scratch directory for the whole run */

/* A fresh directory scratch/NAME. */
static char *
fresh_dir (const char *name)
{
  char *dir = g_build_filename (scratch, name, NULL);

  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    rm_rf (dir);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

/* Writes @text to DIR/REL, creating folders. */
static void
write_text (const char *dir, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* A w x h image whose pixel (x, y) is (10 x + v, 10 y + v, 77) (or its
 * first channel in gray), saved as PNG, or JPEG when REL ends in .jpg
 * and @jpeg is set. */
static void
write_image (const char *dir, const char *rel, int w, int h, int channels, int v,
             gboolean jpeg)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) img = pal_image_new (w, h, channels);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *p = img->data + ((gsize) y * w + x) * channels;

        p[0] = (guint8) (10 * x + v);
        if (channels == 3)
          {
            p[1] = (guint8) (10 * y + v);
            p[2] = 77;
          }
      }
  if (jpeg)
    g_assert_true (pal_image_save_jpeg (img, path, 95, &error));
  else
    g_assert_true (pal_image_save_png (img, path, &error));
  g_assert_no_error (error);
}

/* Landmarks of a test sample: point k at (k + base, 2 k + base / 2),
 * 0-based. */
static void
make_landmarks (PalLandmarks *lm, float base)
{
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm->x[k] = k + base;
      lm->y[k] = 2 * k + base / 2;
    }
}

/* An iBUG .pts file (1-based on disk) of make_landmarks (@base). */
static void
write_pts (const char *dir, const char *rel, float base)
{
  GString *s = g_string_new ("version: 1\nn_points: 68\n{\n");
  PalLandmarks lm;

  make_landmarks (&lm, base);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    g_string_append_printf (s, "%.3f %.3f\n", lm.x[k] + 1.0, lm.y[k] + 1.0);
  g_string_append (s, "}\n");
  write_text (dir, rel, s->str);
  g_string_free (s, TRUE);
}

static void
assert_landmarks (const PalLandmarks *lm, float base, float dx, float dy)
{
  PalLandmarks want;

  make_landmarks (&want, base);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat_with_epsilon (lm->x[k], want.x[k] + dx, 1e-3);
      g_assert_cmpfloat_with_epsilon (lm->y[k], want.y[k] + dy, 1e-3);
    }
}

static PalDataset *
open_ok (const char *root, PalDatasetFormat format, const PalDatasetOptions *opt)
{
  g_autoptr (GError) error = NULL;
  PalDataset *ds = pal_dataset_open (root, format, opt, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

/* TRUE if some recorded issue has @reason and a message containing
 * "FILE:LINE:" (FILE a base name). */
static gboolean
has_issue (PalDataset *ds, PalSkipReason reason, const char *file, int line)
{
  int n;
  const PalDatasetIssue *issues = pal_dataset_get_issues (ds, &n);
  g_autofree char *want = line > 0 ? g_strdup_printf ("%s:%d:", file, line)
                                    : g_strdup_printf ("%s: ", file);

  for (int i = 0; i < n; i++)
    if (issues[i].reason == reason && issues[i].line == line
        && strstr (issues[i].message, want) && g_str_has_suffix (issues[i].file, file))
      return TRUE;
  return FALSE;
}

/* Opening with strict fails with a message naming FILE:LINE. */
static void
assert_strict_fails (const char *root, PalDatasetFormat format, PalDatasetOptions opt,
                     const char *file, int line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *want = g_strdup_printf ("%s:%d:", file, line);
  PalDataset *ds;

  opt.strict = TRUE;
  ds = pal_dataset_open (root, format, &opt, &error);
  g_assert_null (ds);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  if (!strstr (error->message, want))
    g_error ("'%s' does not name %s", error->message, want);
}

/* --- RAF-DB --------------------------------------------------------------- */

/* Codes 1..7 map to surprise, fear, disgust, happy, sad, anger, neutral. */
static const int raf_expected[8] = { -1, 3, 4, 5, 1, 2, 6, 0 };

static char *
make_rafdb (const char *name)
{
  char *root = fresh_dir (name);
  static const char *const rows[] = {
    "train_00001.jpg 1", "train_00002.jpg 2", "train_00003.jpg 3", "train_00004.jpg 4",
    "train_00005.jpg 5", "test_00001.jpg 6", "test_00002.jpg 7",
  };
  GString *list = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *stem = g_strndup (rows[i], strchr (rows[i], '.') - rows[i]);
      g_autofree char *img = g_strdup_printf ("Image/aligned/%s_aligned.jpg", stem);
      g_autofree char *orig = g_strdup_printf ("Image/original/%s.jpg", stem);

      g_string_append_printf (list, "%s\n", rows[i]);
      write_image (root, img, 8, 8, 3, (int) i, TRUE);
      write_image (root, orig, 12, 10, 3, (int) i, FALSE);
      if (i != 2 && i != 6)   /* two samples without landmarks */
        {
          g_autofree char *pts = g_strdup_printf ("Landmarks/%s_aligned.pts", stem);
          g_autofree char *opts = g_strdup_printf ("LmOriginal/%s.pts", stem);
          write_pts (root, pts, (float) i);
          write_pts (root, opts, (float) i + 100);
        }
    }
  write_text (root, "EmoLabel/list_patition_label.txt", list->str);
  g_string_free (list, TRUE);
  return root;
}

static void
test_rafdb (void)
{
  g_autofree char *root = make_rafdb ("rafdb");
  g_autoptr (PalDataset) ds = NULL;
  int k;
  const char *const *names;

  g_assert_cmpint (pal_dataset_detect (root), ==, PAL_DATASET_RAFDB);
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_format (ds), ==, PAL_DATASET_RAFDB);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 7);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 7);
  g_assert_cmpint (pal_dataset_get_n_broken (ds), ==, 0);
  g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds), ==, 2);

  names = pal_dataset_class_names (ds, &k);
  g_assert_cmpint (k, ==, 7);
  g_assert_null (names[7]);
  for (int c = 0; c < 7; c++)
    g_assert_cmpstr (names[c], ==, pal_expression_classes[c]);

  for (int i = 0; i < 7; i++)
    {
      const PalSample *s = pal_dataset_get (ds, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) img = NULL;
      g_autofree char *base = g_path_get_basename (s->path);
      PalLandmarks lm;

      g_assert_cmpint (s->label, ==, raf_expected[i + 1]);
      g_assert_cmpint (s->split, ==, i < 5 ? PAL_SPLIT_TRAIN : PAL_SPLIT_TEST);
      g_assert_cmpint (s->line, ==, i + 1);
      g_assert_true (g_str_has_suffix (base, "_aligned.jpg"));
      g_assert_null (s->pixels);
      g_assert_false (s->has_box);
      g_assert_cmpint (s->has_landmarks, ==, i != 2 && i != 6);
      if (s->has_landmarks)
        assert_landmarks (s->landmarks, (float) i, 0, 0);
      else
        g_assert_null (s->landmarks);

      memset (&lm, 0xff, sizeof lm);   /* untouched without landmarks */
      img = pal_dataset_load_image (ds, i, &lm, &error);
      g_assert_no_error (error);
      g_assert_cmpint (img->width, ==, 8);
      g_assert_cmpint (img->height, ==, 8);
      if (s->has_landmarks)
        assert_landmarks (&lm, (float) i, 0, 0);
      else
        g_assert_true (isnan (lm.x[0]));
    }
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TRAIN, -1), ==, 5);
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TEST, -1), ==, 2);
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TEST, 0), ==, 1);
  g_assert_false (pal_dataset_has_own_validation (ds));

  /* Original images, landmarks from another folder. */
  {
    g_autofree char *lm_dir = g_build_filename (root, "LmOriginal", NULL);
    PalDatasetOptions opt = { .raf_original = TRUE, .landmarks_dir = lm_dir };
    g_autoptr (PalDataset) ds2 = open_ok (root, PAL_DATASET_RAFDB, &opt);
    const PalSample *s = pal_dataset_get (ds2, 0);
    g_autofree char *base = g_path_get_basename (s->path);
    g_autoptr (GError) error = NULL;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds2, 0, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (base, ==, "train_00001.jpg");
    g_assert_cmpint (img->width, ==, 12);
    g_assert_true (s->has_landmarks);
    assert_landmarks (s->landmarks, 100, 0, 0);
    g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds2), ==, 2);
  }
}

static void
test_rafdb_broken (void)
{
  g_autofree char *root = fresh_dir ("rafdb-broken");
  g_autoptr (PalDataset) ds = NULL;
  PalDatasetOptions opt = { 0 };
  const char *list = "EmoLabel/list_patition_label.txt";

  write_text (root, list,
              "train_00001.jpg 4\n"          /* 1 ok */
              "train_00002.jpg 4 extra\n"    /* 2 field count */
              "train_00003.jpg four\n"       /* 3 bad number */
              "train_00004.jpg 8\n"          /* 4 unknown code */
              "\n"                           /* 5 blank: ignored */
              "val_00001.jpg 1\n"            /* 6 bad split */
              "train_00005.jpg 0\n"          /* 7 unknown code */
              "test_00001.jpg 7\r\n"         /* 8 ok, CRLF */
              "train_00006.jpg 2\n"          /* 9 bad .pts */
              "test_00002.jpg 3");           /* 10 ok, no final newline */
  write_text (root, "Landmarks/train_00006_aligned.pts",
              "version: 1\nn_points: 68\n{\n1 2\n}\n");
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 3);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 9);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_FIELD_COUNT), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_BAD_NUMBER), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_UNKNOWN_CODE), ==, 2);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_BAD_SPLIT), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_BAD_LANDMARKS), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_broken (ds), ==, 6);
  g_assert_true (has_issue (ds, PAL_SKIP_FIELD_COUNT, "list_patition_label.txt", 2));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_NUMBER, "list_patition_label.txt", 3));
  g_assert_true (has_issue (ds, PAL_SKIP_UNKNOWN_CODE, "list_patition_label.txt", 4));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_SPLIT, "list_patition_label.txt", 6));
  g_assert_true (has_issue (ds, PAL_SKIP_UNKNOWN_CODE, "list_patition_label.txt", 7));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_LANDMARKS, "list_patition_label.txt", 9));
  g_assert_cmpint (pal_dataset_get (ds, 1)->label, ==, 0);
  g_assert_cmpint (pal_dataset_get (ds, 1)->line, ==, 8);
  g_assert_cmpint (pal_dataset_get (ds, 2)->label, ==, 5);

  /* Strict: the first broken row is fatal. */
  assert_strict_fails (root, PAL_DATASET_RAFDB, opt, "list_patition_label.txt", 2);

  /* Only the .pts is broken: strict names it. */
  write_text (root, list, "train_00001.jpg 4\ntrain_00006.jpg 2\n");
  assert_strict_fails (root, PAL_DATASET_RAFDB, opt, "list_patition_label.txt", 2);

  /* max_issues keeps fewer messages, exact counts. */
  {
    GString *s = g_string_new (NULL);
    PalDatasetOptions few = { .max_issues = 3 };
    g_autoptr (PalDataset) ds2 = NULL;
    int n;

    for (int i = 0; i < 10; i++)
      g_string_append_printf (s, "train_%05d.jpg 9\n", i + 1);
    g_string_append (s, "test_00001.jpg 1\n");
    write_text (root, list, s->str);
    g_string_free (s, TRUE);
    ds2 = open_ok (root, PAL_DATASET_RAFDB, &few);
    pal_dataset_get_issues (ds2, &n);
    g_assert_cmpint (n, ==, 3);
    g_assert_cmpint (pal_dataset_get_n_skipped (ds2, PAL_SKIP_UNKNOWN_CODE), ==, 10);
  }

  /* check_images: a row whose image is missing. */
  {
    PalDatasetOptions check = { .check_images = TRUE };
    g_autoptr (PalDataset) ds3 = NULL;

    write_text (root, list, "train_00001.jpg 4\ntest_00001.jpg 1\n");
    write_image (root, "Image/aligned/test_00001_aligned.jpg", 8, 8, 1, 0, FALSE);
    ds3 = open_ok (root, PAL_DATASET_RAFDB, &check);
    g_assert_cmpint (pal_dataset_get_n (ds3), ==, 1);
    g_assert_cmpint (pal_dataset_get_n_skipped (ds3, PAL_SKIP_MISSING_IMAGE), ==, 1);
    g_assert_true (has_issue (ds3, PAL_SKIP_MISSING_IMAGE, "list_patition_label.txt", 1));
  }
}

/* --- AffectNet ------------------------------------------------------------ */

#define AN_HEADER \
  "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks," \
  "expression,valence,arousal\n"

/* The facial_landmarks field of make_landmarks (@base). */
static char *
an_landmarks (float base, int n_points)
{
  GString *s = g_string_new (NULL);
  PalLandmarks lm;

  make_landmarks (&lm, base);
  for (int k = 0; k < n_points; k++)
    g_string_append_printf (s, "%s%.2f;%.2f", k ? ";" : "", lm.x[k], lm.y[k]);
  return g_string_free (s, FALSE);
}

static char *
an_row (const char *path, int x, int y, int w, int h, const char *lm, int code)
{
  return g_strdup_printf ("%s,%d,%d,%d,%d,%s,%d,0.5,-0.25\n", path, x, y, w, h, lm, code);
}

static void
test_affectnet (void)
{
  g_autofree char *root = fresh_dir ("affectnet");
  g_autofree char *lm = an_landmarks (3.5, 68);
  GString *train = g_string_new (AN_HEADER), *val = g_string_new (AN_HEADER);
  g_autoptr (PalDataset) ds = NULL;

  write_image (root, "Manually_Annotated_Images/101/a.png", 16, 12, 3, 0, FALSE);
  write_image (root, "Manually_Annotated_Images/102/b.png", 16, 12, 3, 1, FALSE);
  /* Codes 0..10 in training.csv (lines 2..12). */
  for (int code = 0; code <= 10; code++)
    {
      g_autofree char *row = an_row ("101/a.png", 3, 2, 8, 6, lm, code);
      g_string_append (train, row);
    }
  /* validation.csv: a box over the right edge; the whole image, no
   * landmarks; a box over the top left corner; a box outside the image. */
  {
    g_autofree char *row1 = an_row ("102/b.png", 10, 4, 20, 5, lm, 6);
    g_autofree char *row2 = an_row ("102/b.png", 0, 0, 16, 12, "", 1);
    g_autofree char *row3 = an_row ("102/b.png", -2, -3, 6, 5, lm, 2);
    g_autofree char *row4 = an_row ("102/b.png", 50, 50, 5, 5, "", 3);
    g_string_append (val, row1);
    g_string_append (val, row2);
    g_string_append (val, row3);
    g_string_append (val, row4);
  }
  write_text (root, "training.csv", train->str);
  write_text (root, "validation.csv", val->str);

  g_assert_cmpint (pal_dataset_detect (root), ==, PAL_DATASET_AFFECTNET);
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 11);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 15);
  g_assert_cmpint (pal_dataset_get_n_classes (ds), ==, 7);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_CONTEMPT), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_NONE), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_UNCERTAIN), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_NO_FACE), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_broken (ds), ==, 0);
  g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds), ==, 2);
  for (int i = 0; i < 7; i++)
    {
      const PalSample *s = pal_dataset_get (ds, i);

      g_assert_cmpint (s->label, ==, i);   /* 0 Neutral .. 6 Anger: canonical */
      g_assert_cmpint (s->split, ==, PAL_SPLIT_TRAIN);
      g_assert_cmpint (s->line, ==, i + 2);
      g_assert_true (s->has_box);
      g_assert_cmpint (s->box[0], ==, 3);
      g_assert_cmpint (s->box[3], ==, 6);
      g_assert_true (s->has_landmarks);
      assert_landmarks (s->landmarks, 3.5, 0, 0);   /* original frame */
    }
  g_assert_cmpint (pal_dataset_get (ds, 7)->split, ==, PAL_SPLIT_TEST);
  g_assert_cmpint (pal_dataset_get (ds, 7)->label, ==, 6);
  g_assert_false (pal_dataset_get (ds, 8)->has_landmarks);

  /* The crop, and the landmarks moved into it. */
  {
    g_autoptr (GError) error = NULL;
    PalLandmarks out;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds, 0, &out, &error);

    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 8);
    g_assert_cmpint (img->height, ==, 6);
    g_assert_cmpint (img->channels, ==, 3);
    g_assert_cmpint (img->data[0], ==, 30);    /* pixel (3, 2) of the original */
    g_assert_cmpint (img->data[1], ==, 20);
    g_assert_cmpint (img->data[(5 * 8 + 7) * 3 + 0], ==, 100);   /* (10, 7) */
    g_assert_cmpint (img->data[(5 * 8 + 7) * 3 + 1], ==, 70);
    assert_landmarks (&out, 3.5, -3, -2);
  }
  /* A box past the edge is clipped: x 10..15, y 4..8. */
  {
    g_autoptr (GError) error = NULL;
    PalLandmarks out;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds, 7, &out, &error);

    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 6);
    g_assert_cmpint (img->height, ==, 5);
    g_assert_cmpint (img->data[0], ==, 101);
    g_assert_cmpint (img->data[1], ==, 41);
    assert_landmarks (&out, 3.5, -10, -4);
  }
  /* The whole image as the box. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds, 8, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 16);
    g_assert_cmpint (img->height, ==, 12);
  }
  /* A box over the top left corner: x 0..3, y 0..1, no shift. */
  {
    g_autoptr (GError) error = NULL;
    PalLandmarks out;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds, 9, &out, &error);

    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 4);
    g_assert_cmpint (img->height, ==, 2);
    g_assert_cmpint (img->data[0], ==, 1);
    assert_landmarks (&out, 3.5, 0, 0);
  }
  /* A box outside the image fails at load. */
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (pal_dataset_load_image (ds, 10, NULL, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  }

  /* Contempt as an 8th class. */
  {
    PalDatasetOptions opt = { .include_contempt = TRUE };
    g_autoptr (PalDataset) ds8 = open_ok (root, PAL_DATASET_AFFECTNET, &opt);
    int k;
    const char *const *names = pal_dataset_class_names (ds8, &k);

    g_assert_cmpint (k, ==, 8);
    g_assert_cmpstr (names[7], ==, "contempt");
    g_assert_null (names[8]);
    g_assert_cmpint (pal_dataset_get_n (ds8), ==, 12);
    g_assert_cmpint (pal_dataset_get (ds8, 7)->label, ==, 7);
    g_assert_cmpint (pal_dataset_get_n_skipped (ds8, PAL_SKIP_CONTEMPT), ==, 0);
  }

  /* Images elsewhere; the lists where AffectNet's archive puts them. */
  {
    g_autofree char *root2 = fresh_dir ("affectnet-archive");
    g_autofree char *images = g_build_filename (root, "Manually_Annotated_Images", NULL);
    PalDatasetOptions opt = { .image_dir = images, .check_images = TRUE };
    g_autoptr (PalDataset) ds2 = NULL;

    write_text (root2, "Manually_Annotated_file_lists/validation.csv", val->str);
    g_assert_cmpint (pal_dataset_detect (root2), ==, PAL_DATASET_AFFECTNET);
    ds2 = open_ok (root2, PAL_DATASET_AUTO, &opt);
    g_assert_cmpint (pal_dataset_get_n (ds2), ==, 4);
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_TEST, -1), ==, 4);
    g_assert_true (g_str_has_prefix (pal_dataset_get (ds2, 0)->path, images));
  }
  g_string_free (train, TRUE);
  g_string_free (val, TRUE);
}

static void
test_affectnet_broken (void)
{
  g_autofree char *root = fresh_dir ("affectnet-broken");
  g_autofree char *lm = an_landmarks (1, 68);
  g_autofree char *lm_short = an_landmarks (1, 67);
  g_autofree char *ok = an_row ("1/a.jpg", 0, 0, 8, 8, lm, 1);
  g_autofree char *bad_lm = an_row ("1/a.jpg", 0, 0, 8, 8, lm_short, 1);
  g_autofree char *bad_code = an_row ("1/a.jpg", 0, 0, 8, 8, lm, 11);
  g_autofree char *bad_box = an_row ("1/a.jpg", 0, 0, 0, 8, lm, 2);
  g_autofree char *noface = an_row ("1/a.jpg", 0, 0, 0, 0, "-1", 10);
  g_autofree char *text = NULL;
  g_autoptr (PalDataset) ds = NULL;
  PalDatasetOptions opt = { 0 };

  text = g_strconcat (AN_HEADER,
                      ok,                                   /* 2 */
                      "1/a.jpg,0,0,8,8\n",                  /* 3 field count */
                      "1/a.jpg,zero,0,8,8,", lm, ",1,0,0\n", /* 4 bad number */
                      bad_code,                             /* 5 unknown code */
                      bad_lm,                               /* 6 bad landmarks */
                      bad_box,                              /* 7 empty box */
                      noface,                               /* 8 No-Face: not broken */
                      "1/a.jpg,0,0,8,8,", lm, ",3.5,0,0\n", /* 9 bad number */
                      ok,                                   /* 10 */
                      NULL);
  write_text (root, "training.csv", text);
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 2);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 9);
  g_assert_cmpint (pal_dataset_get_n_broken (ds), ==, 6);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_NO_FACE), ==, 1);
  g_assert_true (has_issue (ds, PAL_SKIP_FIELD_COUNT, "training.csv", 3));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_NUMBER, "training.csv", 4));
  g_assert_true (has_issue (ds, PAL_SKIP_UNKNOWN_CODE, "training.csv", 5));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_LANDMARKS, "training.csv", 6));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_NUMBER, "training.csv", 7));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_NUMBER, "training.csv", 9));
  g_assert_cmpint (pal_dataset_get (ds, 1)->line, ==, 10);
  assert_strict_fails (root, PAL_DATASET_AFFECTNET, opt, "training.csv", 3);

  /* A header without a needed column. */
  {
    g_autoptr (GError) error = NULL;

    write_text (root, "training.csv", "subDirectory_filePath,face_x\n1/a.jpg,0\n");
    g_assert_null (pal_dataset_open (root, PAL_DATASET_AFFECTNET, NULL, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "training.csv:1:"));
    g_assert_nonnull (strstr (error->message, "face_y"));
  }
}

/* --- FER2013 and FER+ ----------------------------------------------------- */

/* The pixels field of row @r: value (r * 31 + p) % 256 at position p,
 * @n values. */
static void
append_pixels (GString *s, int r, int n)
{
  for (int p = 0; p < n; p++)
    g_string_append_printf (s, "%s%d", p ? " " : "", (r * 31 + p) % 256);
}

static const char *const fer_usage[] = { "Training", "PublicTest", "PrivateTest" };

/* fer2013.csv with @n rows: emotion r % 7, Usage by r % 3. */
static void
write_fer2013 (const char *root, int n)
{
  GString *s = g_string_new ("emotion,pixels,Usage\n");

  for (int r = 0; r < n; r++)
    {
      g_string_append_printf (s, "%d,", r % 7);
      append_pixels (s, r, 2304);
      g_string_append_printf (s, ",%s\n", fer_usage[r % 3]);
    }
  write_text (root, "fer2013.csv", s->str);
  g_string_free (s, TRUE);
}

static void
test_fer2013 (void)
{
  /* 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral. */
  static const int expected[7] = { 6, 5, 4, 1, 2, 3, 0 };
  g_autofree char *root = fresh_dir ("fer2013");
  g_autoptr (PalDataset) ds = NULL;
  g_autoptr (GError) error = NULL;

  write_fer2013 (root, 21);
  g_assert_cmpint (pal_dataset_detect (root), ==, PAL_DATASET_FER2013);
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 21);
  g_assert_true (pal_dataset_has_own_validation (ds));
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TRAIN, -1), ==, 7);
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_VAL, -1), ==, 7);
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TEST, -1), ==, 7);
  g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds), ==, 21);
  for (int r = 0; r < 21; r++)
    {
      const PalSample *s = pal_dataset_get (ds, r);
      g_autoptr (PalImage) img = NULL;
      PalLandmarks lm;

      g_assert_cmpint (s->label, ==, expected[r % 7]);
      g_assert_cmpint (s->split, ==, (PalSplit) (r % 3));
      g_assert_cmpint (s->line, ==, r + 2);
      g_assert_false (s->has_landmarks);
      g_assert_null (s->path);
      g_assert_nonnull (s->pixels);
      img = pal_dataset_load_image (ds, r, &lm, &error);
      g_assert_no_error (error);
      g_assert_cmpint (img->width, ==, 48);
      g_assert_cmpint (img->height, ==, 48);
      g_assert_cmpint (img->channels, ==, 1);
      for (int p = 0; p < 2304; p++)
        g_assert_cmpint (img->data[p], ==, (r * 31 + p) % 256);
    }
  /* Its own validation split: none is drawn. */
  g_assert_false (pal_dataset_make_validation (ds, 0.1, 1, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
}

static void
test_fer2013_broken (void)
{
  g_autofree char *root = fresh_dir ("fer2013-broken");
  GString *s = g_string_new ("emotion,pixels,Usage\n");
  g_autoptr (PalDataset) ds = NULL;
  PalDatasetOptions opt = { 0 };

  g_string_append (s, "3,");                        /* 2 ok */
  append_pixels (s, 0, 2304);
  g_string_append (s, ",Training\n3,");             /* 3: 2303 pixels */
  append_pixels (s, 0, 2303);
  g_string_append (s, ",Training\n3,");             /* 4: 2305 pixels */
  append_pixels (s, 0, 2305);
  g_string_append (s, ",Training\n3,256 ");         /* 5: a value of 256 */
  append_pixels (s, 0, 2303);
  g_string_append (s, ",Training\n3,x ");           /* 6: not a number */
  append_pixels (s, 0, 2303);
  g_string_append (s, ",Training\n7,");             /* 7: unknown code */
  append_pixels (s, 0, 2304);
  g_string_append (s, ",Training\nhappy,");         /* 8: bad number */
  append_pixels (s, 0, 2304);
  g_string_append (s, ",Training\n3,");             /* 9: unknown Usage */
  append_pixels (s, 0, 2304);
  g_string_append (s, ",Validation\n3,");           /* 10: field count */
  append_pixels (s, 0, 2304);
  g_string_append (s, ",Training,extra\n\"0\",\""); /* 11: ok, quoted */
  append_pixels (s, 1, 2304);
  g_string_append (s, "\",PrivateTest\n");
  write_text (root, "fer2013.csv", s->str);
  g_string_free (s, TRUE);

  ds = open_ok (root, PAL_DATASET_FER2013, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 2);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 10);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_BAD_PIXELS), ==, 4);
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_PIXELS, "fer2013.csv", 3));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_PIXELS, "fer2013.csv", 4));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_PIXELS, "fer2013.csv", 5));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_PIXELS, "fer2013.csv", 6));
  g_assert_true (has_issue (ds, PAL_SKIP_UNKNOWN_CODE, "fer2013.csv", 7));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_NUMBER, "fer2013.csv", 8));
  g_assert_true (has_issue (ds, PAL_SKIP_BAD_SPLIT, "fer2013.csv", 9));
  g_assert_true (has_issue (ds, PAL_SKIP_FIELD_COUNT, "fer2013.csv", 10));
  {
    int n;
    const PalDatasetIssue *issues = pal_dataset_get_issues (ds, &n);

    g_assert_cmpint (n, ==, 8);
    g_assert_nonnull (strstr (issues[0].message, "2303"));
  }
  g_assert_cmpint (pal_dataset_get (ds, 1)->label, ==, 6);
  g_assert_cmpint (pal_dataset_get (ds, 1)->split, ==, PAL_SPLIT_TEST);
  g_assert_cmpint (pal_dataset_get (ds, 1)->pixels[1], ==, 32);
  assert_strict_fails (root, PAL_DATASET_FER2013, opt, "fer2013.csv", 3);
}

static void
test_ferplus (void)
{
  g_autofree char *root = fresh_dir ("ferplus");
  const char *header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,"
                       "fear,contempt,unknown,NF\n";
  /* One FER+ row per fer2013 row (10 rows): votes of the 10 columns. */
  static const char *const votes[] = {
    "0,8,1,0,0,0,0,1,0,0",    /* 2: happy */
    "6,0,0,4,0,0,0,0,0,0",    /* 3: neutral */
    "0,0,5,5,0,0,0,0,0,0",    /* 4: tie */
    "0,0,0,0,1,0,0,7,2,0",    /* 5: contempt */
    "1,0,0,0,0,0,0,0,9,0",    /* 6: unknown */
    "0,0,0,0,0,0,0,0,0,10",   /* 7: NF */
    "0,0,0,0,0,0,0,0,0,0",    /* 8: no votes: a tie */
    "0,0,0,0,3,4,3,0,0,0",    /* 9: disgust */
    "0,0,0,0,0,0,6,0,0,0",    /* 10: fear */
    "0,0,0,9,1,0,0,0,0,0",    /* 11: sad */
  };
  static const int expected[] = { 1, 0, 5, 4, 2 };
  GString *s = g_string_new (header);
  g_autoptr (PalDataset) ds = NULL;

  write_fer2013 (root, 10);
  for (gsize r = 0; r < G_N_ELEMENTS (votes); r++)
    g_string_append_printf (s, "%s,fer%07d.png,%s\n", fer_usage[r % 3], (int) r, votes[r]);
  write_text (root, "fer2013new.csv", s->str);

  /* AUTO reads FER2013's own labels. */
  g_assert_cmpint (pal_dataset_detect (root), ==, PAL_DATASET_FER2013);
  ds = open_ok (root, PAL_DATASET_FERPLUS, NULL);
  g_assert_cmpint (pal_dataset_get_format (ds), ==, PAL_DATASET_FERPLUS);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 5);
  g_assert_cmpint (pal_dataset_get_n_rows (ds), ==, 10);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_TIE), ==, 2);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_CONTEMPT), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_UNCERTAIN), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_NO_FACE), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_broken (ds), ==, 0);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (pal_dataset_get (ds, i)->label, ==, expected[i]);
  /* The pixels and splits still come from fer2013.csv: its row 8 (line
   * 10) is the 4th kept. */
  g_assert_cmpint (pal_dataset_get (ds, 3)->line, ==, 10);
  g_assert_cmpint (pal_dataset_get (ds, 3)->pixels[0], ==, (8 * 31) % 256);
  g_assert_cmpint (pal_dataset_get (ds, 3)->split, ==, PAL_SPLIT_TEST);

  {
    PalDatasetOptions opt = { .include_contempt = TRUE };
    g_autoptr (PalDataset) ds8 = open_ok (root, PAL_DATASET_FERPLUS, &opt);

    g_assert_cmpint (pal_dataset_get_n (ds8), ==, 6);
    g_assert_cmpint (pal_dataset_get (ds8, 2)->label, ==, 7);
  }

  /* A broken FER+ row: reported in fer2013new.csv. */
  g_string_append (s, "Training,x.png,1,2\n");
  write_fer2013 (root, 11);
  write_text (root, "fer2013new.csv", s->str);
  {
    g_autoptr (PalDataset) ds2 = open_ok (root, PAL_DATASET_FERPLUS, NULL);
    PalDatasetOptions opt = { 0 };

    g_assert_cmpint (pal_dataset_get_n (ds2), ==, 5);
    g_assert_true (has_issue (ds2, PAL_SKIP_FIELD_COUNT, "fer2013new.csv", 12));
    assert_strict_fails (root, PAL_DATASET_FERPLUS, opt, "fer2013new.csv", 12);
  }

  /* A row count mismatch is fatal. */
  write_fer2013 (root, 12);
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (pal_dataset_open (root, PAL_DATASET_FERPLUS, NULL, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "fer2013new.csv"));
  }
  g_string_free (s, TRUE);
}

/* --- folder --------------------------------------------------------------- */

static void
test_folder (void)
{
  g_autofree char *root = fresh_dir ("folder");
  static const struct { const char *file; int label; } images[] = {
    { "Anger/a.png", 6 }, { "Disgusted/b.jpg", 5 }, { "fearful/c.JPEG", 4 },
    { "HAPPINESS/d.png", 1 }, { "HAPPINESS/e.png", 1 }, { "Neutral/f.png", 0 },
    { "sadness/g.png", 2 }, { "surprised/h.png", 3 },
  };
  g_autoptr (PalDataset) ds = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    write_image (root, images[i].file, 8, 8, 1, (int) i, FALSE);
  write_pts (root, "HAPPINESS/d.pts", 2);
  write_text (root, "HAPPINESS/notes.txt", "not an image\n");
  write_text (root, "README", "a dataset\n");
  write_image (root, "contempt/x.png", 8, 8, 1, 0, FALSE);
  write_image (root, "bored/y.png", 8, 8, 1, 0, FALSE);
  write_image (root, ".cache/z.png", 8, 8, 1, 0, FALSE);

  g_assert_cmpint (pal_dataset_detect (root), ==, PAL_DATASET_FOLDER);
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 8);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_CONTEMPT), ==, 1);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_UNKNOWN_CODE), ==, 1);
  g_assert_true (has_issue (ds, PAL_SKIP_UNKNOWN_CODE, "bored", 0));
  g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds), ==, 7);
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    {
      const PalSample *s = pal_dataset_get (ds, i);

      g_assert_true (g_str_has_suffix (s->path, images[i].file));
      g_assert_cmpint (s->label, ==, images[i].label);
      g_assert_cmpint (s->split, ==, PAL_SPLIT_TRAIN);
      g_assert_cmpint (s->has_landmarks, ==, i == 3);
    }
  assert_landmarks (pal_dataset_get (ds, 3)->landmarks, 2, 0, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PalImage) img = pal_dataset_load_image (ds, 2, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 8);
  }

  /* Split folders. */
  {
    g_autofree char *root2 = fresh_dir ("folder-split");
    g_autofree char *lm_dir = fresh_dir ("folder-split-lm");
    PalDatasetOptions opt = { .include_contempt = TRUE };
    g_autoptr (PalDataset) ds2 = NULL;

    write_image (root2, "train/happy/a.png", 8, 8, 3, 0, FALSE);
    write_image (root2, "train/angry/b.png", 8, 8, 3, 0, FALSE);
    write_image (root2, "Test/sad/c.png", 8, 8, 3, 0, FALSE);
    write_image (root2, "validation/contempt/d.png", 8, 8, 3, 0, FALSE);
    write_pts (lm_dir, "train/happy/a.pts", 5);
    opt.landmarks_dir = lm_dir;
    ds2 = open_ok (root2, PAL_DATASET_FOLDER, &opt);
    g_assert_cmpint (pal_dataset_get_n (ds2), ==, 4);
    g_assert_cmpint (pal_dataset_get_n_missing_landmarks (ds2), ==, 3);
    g_assert_true (pal_dataset_get (ds2, 2)->has_landmarks);   /* train/happy/a.png */
    assert_landmarks (pal_dataset_get (ds2, 2)->landmarks, 5, 0, 0);
    g_assert_true (pal_dataset_has_own_validation (ds2));
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_TRAIN, -1), ==, 2);
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_TEST, 2), ==, 1);
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_VAL, 7), ==, 1);
  }

  /* strict: an unknown class folder is fatal. */
  {
    g_autoptr (GError) error = NULL;
    PalDatasetOptions opt = { .strict = TRUE };

    g_assert_null (pal_dataset_open (root, PAL_DATASET_FOLDER, &opt, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "bored"));
  }
}

/* --- opening, detection, describe ----------------------------------------- */

static void
test_open_errors (void)
{
  g_autofree char *root = fresh_dir ("empty");
  g_autofree char *missing = g_build_filename (scratch, "no-such-dir", NULL);
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
  PalDatasetFormat f;

  g_assert_null (pal_dataset_open (missing, PAL_DATASET_AUTO, NULL, &e1));
  g_assert_error (e1, PAL_ERROR, PAL_ERROR_IO);
  /* An empty folder: no sample. */
  g_assert_null (pal_dataset_open (root, PAL_DATASET_AUTO, NULL, &e2));
  g_assert_error (e2, PAL_ERROR, PAL_ERROR_INVALID);
  /* A chosen format whose files are not there. */
  g_assert_null (pal_dataset_open (root, PAL_DATASET_RAFDB, NULL, &e3));
  g_assert_error (e3, PAL_ERROR, PAL_ERROR_IO);
  g_assert_null (pal_dataset_open (root, PAL_DATASET_AFFECTNET, NULL, &e4));
  g_assert_error (e4, PAL_ERROR, PAL_ERROR_IO);
  /* A header without rows. */
  write_text (root, "fer2013.csv", "emotion,pixels,Usage\n");
  g_assert_null (pal_dataset_open (root, PAL_DATASET_AUTO, NULL, &e5));
  g_assert_error (e5, PAL_ERROR, PAL_ERROR_INVALID);

  /* A FIFO as the label file: refused at once, not waited on */
  {
    g_autofree char *fifo_root = fresh_dir ("fifo");
    g_autofree char *labels = g_build_filename (fifo_root, "EmoLabel", NULL);
    g_autofree char *fifo = g_build_filename (labels, "list_patition_label.txt", NULL);
    g_autoptr (GError) e6 = NULL;

    g_assert_cmpint (g_mkdir_with_parents (labels, 0755), ==, 0);
    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    g_assert_null (pal_dataset_open (fifo_root, PAL_DATASET_RAFDB, NULL, &e6));
    g_assert_error (e6, PAL_ERROR, PAL_ERROR_IO);
    g_assert_nonnull (strstr (e6->message, "list_patition_label.txt: not a regular file"));
  }

  g_assert_true (pal_dataset_format_from_string ("RAF-DB", &f, NULL));
  g_assert_cmpint (f, ==, PAL_DATASET_RAFDB);
  g_assert_true (pal_dataset_format_from_string ("fer+", &f, NULL));
  g_assert_cmpint (f, ==, PAL_DATASET_FERPLUS);
  g_assert_true (pal_dataset_format_from_string ("affectnet", &f, NULL));
  g_assert_cmpint (f, ==, PAL_DATASET_AFFECTNET);
  g_assert_false (pal_dataset_format_from_string ("imagenet", &f, NULL));
  for (int k = PAL_DATASET_AUTO; k <= PAL_DATASET_FOLDER; k++)
    {
      g_assert_true (pal_dataset_format_from_string (pal_dataset_format_name (k), &f, NULL));
      g_assert_cmpint (f, ==, k);
    }
  for (int r = 0; r < PAL_N_SKIP_REASONS; r++)
    g_assert_nonnull (pal_skip_reason_name (r));
}

static void
test_describe (void)
{
  g_autofree char *root = fresh_dir ("describe");
  g_autoptr (PalDataset) ds = NULL;
  g_autofree char *text = NULL;

  write_text (root, "EmoLabel/list_patition_label.txt",
              "train_00001.jpg 4\ntrain_00002.jpg 4\ntest_00001.jpg 7\ntrain_00003.jpg 9\n");
  ds = open_ok (root, PAL_DATASET_AUTO, NULL);
  text = pal_dataset_describe (ds);
  if (g_test_verbose ())
    g_printerr ("%s", text);
  g_assert_nonnull (strstr (text, "format: rafdb"));
  g_assert_nonnull (strstr (text, "samples: 3 of 4 rows (train 2, val 0, test 1)"));
  g_assert_nonnull (strstr (text, "neutral"));
  g_assert_nonnull (strstr (text, "unknown label code"));
  /* The train row: neutral 0, happy 2, ..., total 2. */
  {
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    gboolean found = FALSE;

    for (int i = 0; lines[i]; i++)
      if (g_str_has_prefix (lines[i], "train "))
        {
          g_auto (GStrv) cells = g_strsplit_set (lines[i], " ", -1);
          int vals[16], m = 0;

          for (int j = 1; cells[j]; j++)
            if (*cells[j])
              vals[m++] = atoi (cells[j]);
          g_assert_cmpint (m, ==, 8);
          g_assert_cmpint (vals[0], ==, 0);
          g_assert_cmpint (vals[1], ==, 2);
          g_assert_cmpint (vals[7], ==, 2);
          found = TRUE;
        }
    g_assert_true (found);
  }
}

/* --- validation split, balanced sampler ----------------------------------- */

/* A RAF-DB list only (no image is opened): @train[c] and @test[c] samples
 * of canonical class c. */
static char *
make_counts_dataset (const char *name, const int *train, const int *test)
{
  static const int code_of[7] = { 7, 4, 5, 1, 2, 3, 6 };   /* canonical -> RAF-DB */
  char *root = fresh_dir (name);
  GString *s = g_string_new (NULL);
  int n_train = 0, n_test = 0;

  /* Classes interleaved, so file order is not class order. */
  for (int round = 0; round < 2000; round++)
    for (int c = 0; c < 7; c++)
      {
        if (round < train[c])
          g_string_append_printf (s, "train_%05d.jpg %d\n", ++n_train, code_of[c]);
        if (round < test[c])
          g_string_append_printf (s, "test_%05d.jpg %d\n", ++n_test, code_of[c]);
      }
  write_text (root, "EmoLabel/list_patition_label.txt", s->str);
  g_string_free (s, TRUE);
  return root;
}

/* Checks the validation split: its size (@expect_n_val, or -1 for
 * round(@fraction * train)), its class proportions against @props within
 * one sample, disjoint from the remaining train. */
static void
check_validation (PalDataset *ds, const int *train, const int *test, const int *props,
                  double fraction, int expect_n_val)
{
  int n_train0 = 0, n_props = 0, n_val, n_tr;
  g_autofree int *val = pal_dataset_indices (ds, PAL_SPLIT_VAL, &n_val);
  g_autofree int *tr = pal_dataset_indices (ds, PAL_SPLIT_TRAIN, &n_tr);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (int c = 0; c < 7; c++)
    {
      n_train0 += train[c];
      n_props += props[c];
    }
  if (expect_n_val < 0)
    expect_n_val = (int) floor (fraction * n_train0 + 0.5);
  g_assert_cmpint (n_val, ==, expect_n_val);
  g_assert_cmpint (n_val + n_tr, ==, n_train0);
  for (int c = 0; c < 7; c++)
    {
      double want = (double) n_val * props[c] / n_props;
      int got = pal_dataset_count (ds, PAL_SPLIT_VAL, c);

      if (fabs (got - want) > 1.0)
        g_error ("class %d: %d validation samples, test proportion gives %.2f", c, got, want);
      g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TEST, c), ==, test[c]);
    }
  /* Disjoint from the remaining train, drawn from the original train. */
  for (int i = 0; i < n_val; i++)
    {
      g_autofree char *base = g_path_get_basename (pal_dataset_get (ds, val[i])->path);

      g_assert_true (g_str_has_prefix (base, "train_"));
      g_hash_table_add (seen, GINT_TO_POINTER (val[i] + 1));
    }
  for (int i = 0; i < n_tr; i++)
    g_assert_false (g_hash_table_contains (seen, GINT_TO_POINTER (tr[i] + 1)));
}

static void
test_validation (void)
{
  static const int train[7] = { 300, 500, 120, 200, 80, 60, 250 };
  static const int test[7] = { 100, 50, 30, 40, 20, 10, 61 };
  g_autofree char *root = make_counts_dataset ("validation", train, test);
  g_autoptr (PalDataset) ds = open_ok (root, PAL_DATASET_RAFDB, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree int *first = NULL, *again = NULL, *other = NULL;
  int n1, n2, n3;

  g_assert_cmpint (pal_dataset_get_n (ds), ==, 1510 + 311);
  g_assert_true (pal_dataset_make_validation (ds, 0.1, 42, &error));
  g_assert_no_error (error);
  check_validation (ds, train, test, test, 0.1, -1);
  first = pal_dataset_indices (ds, PAL_SPLIT_VAL, &n1);

  /* A second fraction: the first draw is put back. */
  g_assert_true (pal_dataset_make_validation (ds, 0.25, 42, NULL));
  check_validation (ds, train, test, test, 0.25, -1);

  /* Determinism for a seed; another seed, another draw. */
  g_assert_true (pal_dataset_make_validation (ds, 0.1, 42, NULL));
  again = pal_dataset_indices (ds, PAL_SPLIT_VAL, &n2);
  g_assert_cmpint (n1, ==, n2);
  g_assert_cmpmem (first, n1 * sizeof (int), again, n2 * sizeof (int));
  g_assert_true (pal_dataset_make_validation (ds, 0.1, 43, NULL));
  other = pal_dataset_indices (ds, PAL_SPLIT_VAL, &n3);
  g_assert_cmpint (n3, ==, n1);
  g_assert_true (memcmp (first, other, n1 * sizeof (int)) != 0);

  /* Fraction 0 puts everything back; out of range is refused. */
  g_assert_true (pal_dataset_make_validation (ds, 0, 1, NULL));
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_VAL, -1), ==, 0);
  g_assert_cmpint (pal_dataset_count (ds, PAL_SPLIT_TRAIN, -1), ==, 1510);
  g_assert_false (pal_dataset_make_validation (ds, 1.0, 1, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_dataset_make_validation (ds, -0.1, 1, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);

  /* A class too small for the proportions shrinks the draw: class 5 has 6
   * training samples and 10% of the test set, so at most 60. */
  {
    static const int train2[7] = { 300, 300, 300, 300, 300, 6, 300 };
    static const int test2[7] = { 10, 10, 10, 10, 50, 10, 0 };
    g_autofree char *root2 = make_counts_dataset ("validation-small", train2, test2);
    g_autoptr (PalDataset) ds2 = open_ok (root2, PAL_DATASET_RAFDB, NULL);

    g_assert_true (pal_dataset_make_validation (ds2, 0.5, 7, NULL));
    check_validation (ds2, train2, test2, test2, 0.5, 60);
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_VAL, 5), ==, 6);
    g_assert_cmpint (pal_dataset_count (ds2, PAL_SPLIT_VAL, 6), ==, 0);
  }

  /* A class that test has and train lacks is left out of the proportions. */
  {
    static const int train4[7] = { 100, 100, 100, 100, 100, 100, 0 };
    static const int test4[7] = { 10, 20, 10, 20, 10, 20, 50 };
    static const int props4[7] = { 10, 20, 10, 20, 10, 20, 0 };
    g_autofree char *root4 = make_counts_dataset ("validation-absent", train4, test4);
    g_autoptr (PalDataset) ds4 = open_ok (root4, PAL_DATASET_RAFDB, NULL);

    g_assert_true (pal_dataset_make_validation (ds4, 0.1, 3, NULL));
    check_validation (ds4, train4, test4, props4, 0.1, -1);
  }

  /* No test set: the train set's own proportions. */
  {
    static const int train3[7] = { 100, 200, 50, 30, 20, 10, 90 };
    static const int none[7] = { 0 };
    g_autofree char *root3 = make_counts_dataset ("validation-notest", train3, none);
    g_autoptr (PalDataset) ds3 = open_ok (root3, PAL_DATASET_RAFDB, NULL);

    g_assert_true (pal_dataset_make_validation (ds3, 0.2, 7, NULL));
    check_validation (ds3, train3, none, train3, 0.2, -1);
  }
}

static void
test_balanced (void)
{
  static const int train[7] = { 500, 40, 7, 200, 1, 90, 3 };
  static const int test[7] = { 5, 5, 5, 5, 5, 5, 0 };
  g_autofree char *root = make_counts_dataset ("balanced", train, test);
  g_autoptr (PalDataset) ds = open_ok (root, PAL_DATASET_RAFDB, NULL);
  g_autoptr (PalBalancedSampler) s = pal_balanced_sampler_new (ds, PAL_SPLIT_TRAIN, 5);
  g_autoptr (PalBalancedSampler) s2 = pal_balanced_sampler_new (ds, PAL_SPLIT_TRAIN, 5);
  g_autoptr (PalBalancedSampler) t = pal_balanced_sampler_new (ds, PAL_SPLIT_TEST, 5);
  g_autoptr (GHashTable) small = g_hash_table_new (NULL, NULL);
  int freq[7] = { 0 }, tfreq[7] = { 0 };
  const int n_draws = 7000;

  for (int i = 0; i < n_draws; i++)
    {
      int k = pal_balanced_sampler_next (s);
      const PalSample *smp = pal_dataset_get (ds, k);

      g_assert_cmpint (k, ==, pal_balanced_sampler_next (s2));   /* determinism */
      g_assert_cmpint (smp->split, ==, PAL_SPLIT_TRAIN);
      freq[smp->label]++;
      if (smp->label == 2)
        g_hash_table_add (small, GINT_TO_POINTER (k + 1));
      tfreq[pal_dataset_get (ds, pal_balanced_sampler_next (t))->label]++;
    }
  for (int c = 0; c < 7; c++)
    {
      if (g_test_verbose ())
        g_printerr ("class %d: %d\n", c, freq[c]);
      g_assert_cmpint (abs (freq[c] - n_draws / 7), <=, n_draws / 70);
    }
  /* Every sample of a small class is drawn. */
  g_assert_cmpint (g_hash_table_size (small), ==, 7);
  /* The test split has no class 6: six classes share the draws. */
  g_assert_cmpint (tfreq[6], ==, 0);
  for (int c = 0; c < 6; c++)
    g_assert_cmpint (abs (tfreq[c] - n_draws / 6), <=, n_draws / 60);
  g_assert_null (pal_balanced_sampler_new (ds, PAL_SPLIT_VAL, 1));
}

/* pal_dataset_parse_text(): a label file in memory, read as the file. */
static void
test_parse_text (void)
{
  static const char raf[] = "train_1.jpg 4\ntest_2.jpg 7\nbad 3 4\n";
  g_autoptr (GError) error = NULL;
  PalDataset *ds;
  int n_issues;

  ds = pal_dataset_parse_text (PAL_DATASET_RAFDB, "/nonexistent", raf, strlen (raf),
                               NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pal_dataset_get_n (ds), ==, 2);
  g_assert_cmpint (pal_dataset_get (ds, 0)->label, ==, 1);
  g_assert_cmpint (pal_dataset_get (ds, 1)->split, ==, PAL_SPLIT_TEST);
  g_assert_cmpint (pal_dataset_get_n_skipped (ds, PAL_SKIP_FIELD_COUNT), ==, 1);
  pal_dataset_get_issues (ds, &n_issues);
  g_assert_cmpint (n_issues, ==, 1);
  pal_dataset_unref (ds);

  g_assert_null (pal_dataset_parse_text (PAL_DATASET_FER2013, "/nonexistent", "", 0,
                                         NULL, 0, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (pal_dataset_parse_text (PAL_DATASET_FOLDER, "/nonexistent", "", 0,
                                         NULL, 0, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("pal-test-dataset-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/dataset/rafdb", test_rafdb);
  g_test_add_func ("/dataset/rafdb/broken", test_rafdb_broken);
  g_test_add_func ("/dataset/parse-text", test_parse_text);
  g_test_add_func ("/dataset/affectnet", test_affectnet);
  g_test_add_func ("/dataset/affectnet/broken", test_affectnet_broken);
  g_test_add_func ("/dataset/fer2013", test_fer2013);
  g_test_add_func ("/dataset/fer2013/broken", test_fer2013_broken);
  g_test_add_func ("/dataset/ferplus", test_ferplus);
  g_test_add_func ("/dataset/folder", test_folder);
  g_test_add_func ("/dataset/open-errors", test_open_errors);
  g_test_add_func ("/dataset/describe", test_describe);
  g_test_add_func ("/dataset/validation", test_validation);
  g_test_add_func ("/dataset/balanced", test_balanced);

  rc = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  return rc;
}
