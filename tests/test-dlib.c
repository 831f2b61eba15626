/* test-dlib.c: dlib's shape predictor: reader, cache, predictions
 *
 * The real model is Debian's libdlib-data file; the photos are the demo
 * pictures of the npm package @vladmandic/face-api (tools/fetch-face-api).
 * The expected points in data/dlib/points.txt come from dlib 19.24 itself
 * (tools/dlib-reference.cc) run on the pixels our decoder gives:
 *
 *   G_TEST_SRCDIR=tests test-dlib --write-pnm DIR
 *
 * writes DIR/sampleN.ppm and DIR/sampleN-gray.pgm (gray_of() below).
 *
 * The big file is parsed once per run (through the cache, into a scratch
 * directory) and shared by the tests.
 */
#include "pal-dlib.h"
#include "pal-error.h"
#include "pal-image.h"
#include "dlib-writer.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define N_SAMPLES 6

static char *scratch;              /* removed at the end */
static PalDlibModel *real_model;   /* parsed once */
static double real_built_s, real_hit_s;

/* ------------------------------------------------------------------------ */
/* Inputs                                                                   */
/* ------------------------------------------------------------------------ */

static const char *
model_path (void)
{
  return PAL_DLIB_DEFAULT_MODEL;
}

/* The real model, or NULL after failing the test with what to install. */
static PalDlibModel *
get_real_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cache_dir = NULL;
  g_autoptr (PalDlibModel) again = NULL;
  PalDlibCacheResult result;
  gint64 t0, t1, t2;

  if (real_model != NULL)
    return real_model;
  if (!g_file_test (model_path (), G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing: install the Debian package libdlib-data",
                          model_path ());
      return NULL;
    }
  cache_dir = g_build_filename (scratch, "real-cache", NULL);
  t0 = g_get_monotonic_time ();
  real_model = pal_dlib_model_load_cached (model_path (), cache_dir, &result, &error);
  t1 = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, PAL_DLIB_CACHE_BUILT);
  again = pal_dlib_model_load_cached (model_path (), cache_dir, &result, &error);
  t2 = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, PAL_DLIB_CACHE_HIT);
  g_assert_true (pal_dlib_model_equal (real_model, again));
  real_built_s = (t1 - t0) / 1e6;
  real_hit_s = (t2 - t1) / 1e6;
  return real_model;
}

static char *
photo_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "face-api", "node_modules",
                                "@vladmandic", "face-api", "demo", NULL);
}

/* The gray test input: a luma of our own, different from dlib's (R+G+B)/3,
 * so the gray path is checked on other values than the RGB one. */
static PalImage *
gray_of (const PalImage *rgb)
{
  PalImage *g = pal_image_new (rgb->width, rgb->height, 1);
  gsize n = (gsize) rgb->width * rgb->height;

  for (gsize i = 0; i < n; i++)
    {
      const guint8 *p = rgb->data + 3 * i;
      g->data[i] = (guint8) ((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
  return g;
}

/* sampleN.jpg as RGB, or NULL after failing the test. */
static PalImage *
load_photo (int n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = photo_dir ();
  g_autofree char *name = g_strdup_printf ("sample%d.jpg", n);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (PalImage) image = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing: run tools/fetch-face-api", path);
      return NULL;
    }
  image = pal_image_load (path, &error);
  g_assert_no_error (error);
  if (image->channels == 1)
    return pal_image_to_rgb (image);
  return g_steal_pointer (&image);
}

static gboolean
write_pnm (const PalImage *image, const char *path, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);

  g_string_printf (s, "%s\n%d %d\n255\n", image->channels == 3 ? "P6" : "P5",
                   image->width, image->height);
  g_string_append_len (s, (const char *) image->data,
                       (gssize) image->width * image->height * image->channels);
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

/* test-dlib --write-pnm DIR: the reference program's inputs. */
static int
write_pnms (const char *dir)
{
  for (int n = 1; n <= N_SAMPLES; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) rgb = load_photo (n);
      g_autoptr (PalImage) gray = NULL;
      g_autofree char *name = g_strdup_printf ("sample%d.ppm", n);
      g_autofree char *gname = g_strdup_printf ("sample%d-gray.pgm", n);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *gpath = g_build_filename (dir, gname, NULL);

      if (rgb == NULL)
        {
          g_printerr ("sample%d.jpg is missing: run tools/fetch-face-api\n", n);
          return 1;
        }
      gray = gray_of (rgb);
      if (!write_pnm (rgb, path, &error) || !write_pnm (gray, gpath, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The real file                                                            */
/* ------------------------------------------------------------------------ */

static void
test_real_file (void)
{
  PalDlibModel *m = get_real_model ();
  int parts, cascades, trees, depth, features, idx1, idx2, anchor;
  float thresh, dx, dy;
  const float *init;

  if (m == NULL)
    return;
  pal_dlib_model_get_size (m, &parts, &cascades, &trees, &depth, &features);
  g_assert_cmpint (parts, ==, 68);
  g_assert_cmpint (cascades, ==, 15);
  g_assert_cmpint (trees, ==, 500);
  g_assert_cmpint (depth, ==, 4);
  g_assert_cmpint (features, ==, 500);

  /* Values quoted in FACES_SPEC.md A.1/A.2. */
  init = pal_dlib_model_initial_shape (m);
  g_assert_cmpfloat (init[0], ==, 15808589.0f / (1 << 29));
  g_assert_cmpfloat_with_epsilon (init[1], 0.3219, 1e-4);
  g_assert_cmpfloat_with_epsilon (init[2 * 8], 0.5000, 1e-4);
  g_assert_cmpfloat_with_epsilon (init[2 * 8 + 1], 1.0697, 1e-4);
  g_assert_cmpfloat_with_epsilon (init[2 * 30 + 1], 0.5470, 1e-4);
  g_assert_cmpfloat_with_epsilon (init[2 * 45], 0.7862, 1e-4);
  g_assert_cmpfloat_with_epsilon (init[2 * 54 + 1], 0.7511, 1e-4);
  pal_dlib_model_get_split (m, 0, 0, 0, &idx1, &idx2, &thresh);
  g_assert_cmpint (idx1, ==, 39);
  g_assert_cmpint (idx2, ==, 132);
  g_assert_cmpfloat_with_epsilon (thresh, 34.543655, 1e-5);
  pal_dlib_model_get_feature (m, 0, 0, &anchor, &dx, &dy);
  g_assert_cmpint (anchor, ==, 41);
  g_assert_cmpfloat_with_epsilon (dx, -0.04937, 1e-5);
  g_assert_cmpfloat_with_epsilon (dy, 0.07312, 1e-5);

  /* Leaves within the range the spec found. */
  float lo = 0, hi = 0;
  for (int c = 0; c < cascades; c++)
    for (int t = 0; t < trees; t++)
      for (int l = 0; l < 16; l++)
        {
          const float *leaf = pal_dlib_model_get_leaf (m, c, t, l);
          for (int k = 0; k < 136; k++)
            {
              lo = MIN (lo, leaf[k]);
              hi = MAX (hi, leaf[k]);
            }
        }
  g_assert_cmpfloat (lo, >, -0.0606);
  g_assert_cmpfloat (lo, <, -0.0604);
  g_assert_cmpfloat (hi, >, 0.0603);
  g_assert_cmpfloat (hi, <, 0.0605);
}

static void
test_real_cache (void)
{
  if (get_real_model () == NULL)
    return;
  g_test_message ("parse + cache write: %.3f s, load from the cache: %.3f s",
                  real_built_s, real_hit_s);
  g_assert_cmpfloat (real_hit_s, <, real_built_s);
}

/* ------------------------------------------------------------------------ */
/* Predictions against dlib                                                 */
/* ------------------------------------------------------------------------ */

static void
test_reference_points (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "dlib", "points.txt", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  PalImage *rgb[N_SAMPLES + 1] = { NULL }, *gray[N_SAMPLES + 1] = { NULL };
  PalDlibModel *m = get_real_model ();
  int n_cases = 0, n_gray = 0, n_over = 0;

  if (m == NULL)
    return;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);

  for (int li = 0; lines[li] != NULL; li++)
    {
      g_auto (GStrv) f = NULL;
      int n, box[4], points[2 * PAL_N_LANDMARKS];
      gboolean is_gray;
      PalImage *image;
      PalLandmarks lm;

      if (lines[li][0] == '#' || lines[li][0] == '\0')
        continue;
      f = g_strsplit (lines[li], " ", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 5 + 2 * PAL_N_LANDMARKS);
      g_assert_cmpint (sscanf (f[0], "sample%d", &n), ==, 1);
      g_assert_cmpint (n, >=, 1);
      g_assert_cmpint (n, <=, N_SAMPLES);
      is_gray = strstr (f[0], "-gray") != NULL;
      if (rgb[n] == NULL)
        {
          rgb[n] = load_photo (n);
          if (rgb[n] == NULL)
            goto out;
          gray[n] = gray_of (rgb[n]);
        }
      image = is_gray ? gray[n] : rgb[n];
      for (int k = 0; k < 4; k++)
        box[k] = atoi (f[1 + k]);
      g_assert_true (pal_dlib_predict_points (m, image, box[0], box[1], box[2], box[3],
                                              points, &error));
      g_assert_no_error (error);
      for (int k = 0; k < 2 * PAL_N_LANDMARKS; k++)
        if (points[k] != atoi (f[5 + k]))
          {
            g_test_fail_printf ("%s, box %d %d %d %d: point %d %s is %d, dlib gives %s",
                                f[0], box[0], box[1], box[2], box[3], k / 2,
                                k % 2 ? "y" : "x", points[k], f[5 + k]);
            goto out;
          }
      g_assert_true (pal_dlib_predict (m, image, box[0], box[1], box[2], box[3], &lm, &error));
      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        {
          g_assert_cmpfloat (lm.x[k], ==, (float) points[2 * k]);
          g_assert_cmpfloat (lm.y[k], ==, (float) points[2 * k + 1]);
        }
      n_cases++;
      n_gray += is_gray;
      n_over += box[0] < 0 || box[1] < 0 || box[2] >= image->width || box[3] >= image->height;
    }
  g_test_message ("%d boxes (%d on gray input, %d over the border) equal to dlib's",
                  n_cases, n_gray, n_over);
  g_assert_cmpint (n_cases, >=, 40);
  g_assert_cmpint (n_gray, >=, 20);
  g_assert_cmpint (n_over, >=, 6);

  /* Speed, for the record. */
  {
    int points[2 * PAL_N_LANDMARKS];
    gint64 t0 = g_get_monotonic_time ();
    for (int i = 0; i < 20; i++)
      pal_dlib_predict_points (m, rgb[1], 100, 100, 300, 300, points, NULL);
    g_test_message ("one face: %.2f ms", (g_get_monotonic_time () - t0) / 20 / 1e3);
  }

out:
  for (int n = 0; n <= N_SAMPLES; n++)
    {
      pal_image_free (rgb[n]);
      pal_image_free (gray[n]);
    }
}

static void
test_predict_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = pal_image_new (50, 40, 3);
  PalDlibModel *m = get_real_model ();
  int points[2 * PAL_N_LANDMARKS];

  if (m == NULL)
    return;
  g_assert_false (pal_dlib_predict_points (m, image, -(1 << 25), 0, 10, 10, points, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);

  /* A box wholly outside the image reads zeros and still gives points. */
  g_assert_true (pal_dlib_predict_points (m, image, 1000, 1000, 1100, 1100, points, &error));
  g_assert_no_error (error);
  g_assert_cmpint (points[2 * 8], >=, 1000);
  /* Degenerate boxes are dlib's too: every point on the box. */
  g_assert_true (pal_dlib_predict_points (m, image, 5, 5, 5, 5, points, &error));
  for (int k = 0; k < 2 * PAL_N_LANDMARKS; k++)
    g_assert_cmpint (points[k], ==, 5);
}

/* ------------------------------------------------------------------------ */
/* A small model written here in dlib's encoding                            */
/* ------------------------------------------------------------------------ */

enum { S_PARTS = 3, S_CASCADES = 2, S_TREES = 3, S_SPLITS = 3, S_FEATURES = 4 };

/* A valid predictor; @seed varies its numbers. */
static GByteArray *
small_model (guint seed)
{
  return dlib_model (seed, S_PARTS, S_CASCADES, S_TREES, S_SPLITS, S_FEATURES);
}

static char *
write_scratch (const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (scratch, name, NULL);

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_small_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) bytes = small_model (1);
  g_autofree char *path = write_scratch ("small.dat", bytes->data, bytes->len);
  g_autoptr (PalDlibModel) m = pal_dlib_model_load (path, &error);
  g_autoptr (PalImage) image = pal_image_new (64, 48, 3);
  int parts, cascades, trees, depth, features, idx1, idx2, points[2 * S_PARTS];
  PalLandmarks lm;

  g_assert_no_error (error);
  pal_dlib_model_get_size (m, &parts, &cascades, &trees, &depth, &features);
  g_assert_cmpint (parts, ==, S_PARTS);
  g_assert_cmpint (cascades, ==, S_CASCADES);
  g_assert_cmpint (trees, ==, S_TREES);
  g_assert_cmpint (depth, ==, 2);
  g_assert_cmpint (features, ==, S_FEATURES);
  pal_dlib_model_get_split (m, 1, 2, 1, &idx1, &idx2, NULL);
  g_assert_cmpint (idx1, ==, 3);
  g_assert_cmpint (idx2, ==, 2);
  g_assert_cmpfloat (pal_dlib_model_get_leaf (m, 0, 0, 1)[0], ==, 0.0f);

  for (gsize i = 0; i < (gsize) image->width * image->height * 3; i++)
    image->data[i] = (guint8) (i * 7);
  g_assert_true (pal_dlib_predict_points (m, image, 10, 5, 50, 40, points, &error));
  g_assert_no_error (error);
  /* Not 68 points: PalLandmarks refuses it. */
  g_assert_false (pal_dlib_predict (m, image, 10, 5, 50, 40, &lm, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED);
}

static PalDlibModel *
load_expecting (const char *path, const char *cache_dir, PalDlibCacheResult expected)
{
  g_autoptr (GError) error = NULL;
  PalDlibCacheResult result = -1;
  PalDlibModel *m = pal_dlib_model_load_cached (path, cache_dir, &result, &error);

  g_assert_no_error (error);
  g_assert_nonnull (m);
  g_assert_cmpint (result, ==, expected);
  return m;
}

static void
set_mtime (const char *path, gint64 sec)
{
  struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

  g_assert_cmpint (utimensat (AT_FDCWD, path, ts, 0), ==, 0);
}

/* Rewrites @len bytes at @offset of @path (offset < 0: from the end). */
static void
poke (const char *path, goffset offset, const char *bytes, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize size;

  g_file_get_contents (path, &data, &size, &error);
  g_assert_no_error (error);
  if (offset < 0)
    offset += (goffset) size;
  g_assert_cmpint (offset + (goffset) len, <=, (goffset) size);
  memcpy (data + offset, bytes, len);
  g_file_set_contents (path, data, (gssize) size, &error);
  g_assert_no_error (error);
}

static void
test_cache (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) bytes = small_model (2);
  g_autoptr (GByteArray) other = small_model (3);
  g_autofree char *path = write_scratch ("cached.dat", bytes->data, bytes->len);
  g_autofree char *cache_dir = g_build_filename (scratch, "cache", "deeper", NULL);
  g_autofree char *cache = pal_dlib_cache_path (path, cache_dir);
  g_autofree char *data = NULL;
  g_autoptr (PalDlibModel) plain = pal_dlib_model_load (path, &error);
  PalDlibModel *m;
  gsize size;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (cache, cache_dir));
  set_mtime (path, 1500000000);

  /* Built (the directory too), then reused. */
  m = load_expecting (path, cache_dir, PAL_DLIB_CACHE_BUILT);
  g_assert_true (pal_dlib_model_equal (m, plain));
  pal_dlib_model_free (m);
  g_assert_true (g_file_test (cache, G_FILE_TEST_IS_REGULAR));
  m = load_expecting (path, cache_dir, PAL_DLIB_CACHE_HIT);
  g_assert_true (pal_dlib_model_equal (m, plain));
  pal_dlib_model_free (m);

  /* The source's modification time changes: rebuilt. */
  set_mtime (path, 1500000001);
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_HIT));

  /* New content (another size), same time: rebuilt, and the new model. */
  {
    g_autofree char *same = write_scratch ("cached.dat", other->data, other->len);
    g_autoptr (PalDlibModel) fresh = pal_dlib_model_load (same, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (other->len, !=, bytes->len);
    set_mtime (path, 1500000001);
    m = load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT);
    g_assert_true (pal_dlib_model_equal (m, fresh));
    g_assert_false (pal_dlib_model_equal (m, plain));
    pal_dlib_model_free (m);
  }

  /* A flipped byte in the leaves, a bad header, a truncated or an empty
   * cache, a cache with trailing bytes: each ignored and rebuilt. */
  poke (cache, 100, "\x55", 1);
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_HIT));
  poke (cache, -1, "\x7F", 1);
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  poke (cache, 0, "XALDLIB", 7);
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  g_file_get_contents (cache, &data, &size, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (cache, data, (gssize) size - 3, NULL));
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  g_assert_true (g_file_set_contents (cache, data, 40, NULL));
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  g_assert_true (g_file_set_contents (cache, "", 0, NULL));
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  {
    g_autofree char *longer = g_malloc (size + 8);
    memcpy (longer, data, size);
    memset (longer + size, 0, 8);
    g_assert_true (g_file_set_contents (cache, longer, (gssize) size + 8, NULL));
    pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_REBUILT));
  }
  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_HIT));

  /* A cache directory that cannot be made: the model all the same. */
  {
    g_autofree char *blocked = g_build_filename (path, "cache", NULL);
    pal_dlib_model_free (load_expecting (path, blocked, PAL_DLIB_CACHE_NOT_WRITTEN));
  }

  /* The source is gone: an error naming it, whatever the cache holds. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  m = pal_dlib_model_load_cached (path, cache_dir, NULL, &error);
  g_assert_null (m);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
}

/* The model from bytes in memory, and from a cache file's content. */
static void
test_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) bytes = small_model (6);
  g_autofree char *path = write_scratch ("bytes.dat", bytes->data, bytes->len);
  g_autofree char *cache_dir = g_build_filename (scratch, "bytes-cache", NULL);
  g_autofree char *cache = pal_dlib_cache_path (path, cache_dir);
  g_autofree char *data = NULL;
  g_autoptr (PalDlibModel) plain = pal_dlib_model_load (path, &error);
  g_autoptr (PalDlibModel) m = NULL;
  gsize size;

  g_assert_no_error (error);
  m = pal_dlib_model_load_bytes (bytes->data, bytes->len, "mem.dat", &error);
  g_assert_no_error (error);
  g_assert_true (pal_dlib_model_equal (m, plain));
  g_clear_pointer (&m, pal_dlib_model_free);
  g_assert_null (pal_dlib_model_load_bytes (bytes->data, bytes->len - 1, "mem.dat", &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, "mem.dat: "));
  g_clear_error (&error);

  pal_dlib_model_free (load_expecting (path, cache_dir, PAL_DLIB_CACHE_BUILT));
  g_file_get_contents (cache, &data, &size, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GBytes) b = g_bytes_new (data, size);
    g_autofree char *shifted = g_malloc (size + 1);
    g_autoptr (GBytes) odd = NULL;

    m = pal_dlib_model_from_cache_bytes (b);
    g_assert_nonnull (m);
    g_assert_true (pal_dlib_model_equal (m, plain));
    g_clear_pointer (&m, pal_dlib_model_free);
    /* not 4-aligned: read from a copy */
    memcpy (shifted + 1, data, size);
    odd = g_bytes_new_static (shifted + 1, size);
    m = pal_dlib_model_from_cache_bytes (odd);
    g_assert_nonnull (m);
    g_assert_true (pal_dlib_model_equal (m, plain));
    g_clear_pointer (&m, pal_dlib_model_free);
  }
  data[100] ^= 0x55;
  {
    g_autoptr (GBytes) b = g_bytes_new (data, size);
    g_assert_null (pal_dlib_model_from_cache_bytes (b));
  }
  {
    g_autoptr (GBytes) b = g_bytes_new (data, 40);
    g_assert_null (pal_dlib_model_from_cache_bytes (b));
  }
}

/* ------------------------------------------------------------------------ */
/* Broken inputs                                                            */
/* ------------------------------------------------------------------------ */

/* Loading @data fails with a parse error that names the file and holds
 * @expect. */
static void
assert_refused (const char *name, const void *data, gsize len, const char *expect)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_scratch (name, data, len);
  g_autoptr (PalDlibModel) m = pal_dlib_model_load (path, &error);

  g_assert_null (m);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, path));
  if (strstr (error->message, expect) == NULL)
    g_test_fail_printf ("%" G_GSIZE_FORMAT " bytes: \"%s\" lacks \"%s\"",
                        len, error->message, expect);
}

static void
test_truncated (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) small = small_model (4);
  static const gsize prefixes[] = { 1, 2, 3, 10, 821, 822, 823, 824, 4096, 100000, 1 << 20 };
  gsize size;
  GMappedFile *file;

  /* Every prefix of a small model, and trailing bytes. */
  for (gsize n = 1; n < small->len; n++)
    assert_refused ("small-prefix.dat", small->data, n, "truncated");
  {
    g_autofree guint8 *longer = g_malloc (small->len + 2);
    memcpy (longer, small->data, small->len);
    longer[small->len] = 1;
    longer[small->len + 1] = 0;
    assert_refused ("small-longer.dat", longer, small->len + 2, "2 bytes follow the end");
  }

  /* Prefixes of the real file. */
  if (!g_file_test (model_path (), G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing: install the Debian package libdlib-data",
                          model_path ());
      return;
    }
  file = g_mapped_file_new (model_path (), FALSE, &error);
  g_assert_no_error (error);
  size = g_mapped_file_get_length (file);
  g_assert_cmpuint (size, ==, 99693937);
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    assert_refused ("real-prefix.dat", g_mapped_file_get_contents (file), prefixes[i],
                    "truncated");
  g_mapped_file_unref (file);
}

static void
test_not_predictor (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = pal_image_new (32, 32, 3);
  g_autofree char *jpeg = g_build_filename (scratch, "face.jpg", NULL);
  g_autofree char *jpeg_data = NULL;
  g_autofree char *missing = g_build_filename (scratch, "no-such.dat", NULL);
  gsize len;
  g_autoptr (PalDlibModel) m = NULL;

  memset (image->data, 128, 32 * 32 * 3);
  g_assert_true (pal_image_save_jpeg (image, jpeg, 90, &error));
  g_file_get_contents (jpeg, &jpeg_data, &len, &error);
  g_assert_no_error (error);
  assert_refused ("face-as.dat", jpeg_data, len, "not a dlib shape predictor");
  assert_refused ("empty.dat", "", 0, "empty");
  assert_refused ("text.dat", "version: 1\n", 11, "not a dlib shape predictor");

  /* A dlib stream of something else: version 2, or a huge count. */
  assert_refused ("version2.dat", "\x01\x02", 2, "expected the version number 1");
  {
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_dlib_int (b, 1);
    put_dlib_int (b, -136);
    put_dlib_int (b, -1);
    assert_refused ("header-only.dat", b->data, b->len, "only 0 remain");
    for (int k = 0; k < 136; k++)
      put_dlib_float (b, 0.5f);
    put_dlib_int (b, 15);
    put_dlib_int (b, G_MAXINT64);
    assert_refused ("many-trees.dat", b->data, b->len, "at most 100000");
    b->len -= 9;
    put_dlib_int (b, 500);
    put_dlib_int (b, 15);
    assert_refused ("no-room.dat", b->data, b->len, "the file is truncated");
  }
  {
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_dlib_int (b, 1);
    put_dlib_int (b, -3);
    put_dlib_int (b, -1);
    assert_refused ("odd-shape.dat", b->data, b->len, "a column of 2 to");
  }
  {
    /* A split's feature index beyond the cascade's feature pixels: the
     * first split's idx1 follows the version, the initial shape and three
     * counts, re-encoded here as small_model (5) writes them. */
    g_autoptr (GByteArray) b = small_model (5);
    guint8 *p = b->data;
    g_autoptr (GByteArray) head = g_byte_array_new ();
    guint32 x = 5 * 2654435761u + 1;
    put_dlib_int (head, 1);
    put_dlib_int (head, -2 * S_PARTS);
    put_dlib_int (head, -1);
    for (int k = 0; k < 2 * S_PARTS; k++)
      {
        x = x * 1664525u + 1013904223u;
        put_dlib_float (head, 0.5f + 0.4f * ((float) ((x >> 8) % 2001) / 1000.0f - 1.0f));
      }
    put_dlib_int (head, S_CASCADES);
    put_dlib_int (head, S_TREES);
    put_dlib_int (head, S_SPLITS);
    g_assert_cmpmem (head->data, head->len, p, head->len);
    g_assert_cmpint (p[head->len], ==, 0x01);
    p[head->len + 1] = S_FEATURES;    /* idx1 = 4 of 4 feature pixels */
    assert_refused ("bad-index.dat", b->data, b->len, "beyond the 4");
  }

  m = pal_dlib_model_load (missing, &error);
  g_assert_null (m);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* a FIFO: refused at once, not waited on for a writer */
  {
    g_autofree char *fifo = g_build_filename (scratch, "fifo.dat", NULL);
    g_autofree char *expected = g_strdup_printf ("%s: not a regular file", fifo);

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    m = pal_dlib_model_load (fifo, &error);
    g_assert_null (m);
    g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
    g_assert_cmpstr (error->message, ==, expected);
    g_unlink (fifo);
  }
}

/* ------------------------------------------------------------------------ */

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_dir_close (dir);
    }
  g_remove (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  if (argc == 3 && strcmp (argv[1], "--write-pnm") == 0)
    {
      int one = 1;
      char *dir = argv[2];

      g_test_init (&one, &argv, NULL);
      return write_pnms (dir);
    }

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("test-dlib-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/dlib/real-file", test_real_file);
  g_test_add_func ("/dlib/real-cache", test_real_cache);
  g_test_add_func ("/dlib/reference-points", test_reference_points);
  g_test_add_func ("/dlib/predict-errors", test_predict_errors);
  g_test_add_func ("/dlib/small-model", test_small_model);
  g_test_add_func ("/dlib/cache", test_cache);
  g_test_add_func ("/dlib/bytes", test_bytes);
  g_test_add_func ("/dlib/truncated", test_truncated);
  g_test_add_func ("/dlib/not-predictor", test_not_predictor);
  status = g_test_run ();

  pal_dlib_model_free (real_model);
  remove_tree (scratch);
  g_free (scratch);
  return status;
}
