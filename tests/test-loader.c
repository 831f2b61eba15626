/* test-loader.c: augmentation keeps the landmarks on the face, and the
 * prefetching loader gives the same batches whatever its threads.
 *
 * Everything runs on an in-memory source built here: small images with a
 * pattern that differs per sample, landmarks placed at random in them, some
 * samples without landmarks and some that fail to load.
 */
#include "pal-augment.h"
#include "pal-error.h"
#include "pal-loader.h"
#include "pal-rand.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* --- augmentation ----------------------------------------------------------- */

/* 68 landmarks on a 9 x 8 grid of cells of 14 pixels about the centre of a
 * @size image, each jittered inside its cell (integer positions with
 * @integer); far enough apart that each dot has its own neighbourhood. */
static void
grid_landmarks (PalLandmarks *lm, int size, guint64 seed, gboolean integer)
{
  guint64 rng = seed;
  double x0 = 0.5 * (size - 1) - 4 * 14, y0 = 0.5 * (size - 1) - 3.5 * 14;

  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      double x = x0 + (i % 9) * 14 + 4.0 * (pal_rand_uniform (&rng) - 0.5);
      double y = y0 + (i / 9) * 14 + 4.0 * (pal_rand_uniform (&rng) - 0.5);
      lm->x[i] = (float) (integer ? round (x) : x);
      lm->y[i] = (float) (integer ? round (y) : y);
    }
}

/* Channel 0: a Gaussian dot (sigma 1 pixel, peak 255) on each landmark.
 * Channel 1: a 3 x 3 square of grey 3 (i + 1) about landmark i, rounded.
 * Channel 2: black. */
static PalImage *
dot_image (const PalLandmarks *lm, int size)
{
  PalImage *im = pal_image_new (size, size, 3);

  memset (im->data, 0, (gsize) size * size * 3);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int cx = (int) lround (lm->x[i]), cy = (int) lround (lm->y[i]);
      for (int y = cy - 4; y <= cy + 4; y++)
        for (int x = cx - 4; x <= cx + 4; x++)
          {
            double dx = x - lm->x[i], dy = y - lm->y[i];
            double v = 255.0 * exp (-(dx * dx + dy * dy) / 2.0);
            guint8 *p = im->data + ((gsize) y * size + x) * 3;
            if (v > p[0])
              p[0] = (guint8) lround (v);
            if (abs (x - cx) <= 1 && abs (y - cy) <= 1)
              p[1] = (guint8) (3 * (i + 1));
          }
    }
  return im;
}

/* The brightest pixel of channel 0 within 3 pixels of (x, y). */
static void
brightest_near (const PalImage *im, double x, double y, int *bx, int *by)
{
  int best = -1;

  for (int v = (int) lround (y) - 3; v <= (int) lround (y) + 3; v++)
    for (int u = (int) lround (x) - 3; u <= (int) lround (x) + 3; u++)
      {
        int p;
        if (u < 0 || v < 0 || u >= im->width || v >= im->height)
          continue;
        p = im->data[((gsize) v * im->width + u) * im->channels];
        if (p > best)
          {
            best = p;
            *bx = u;
            *by = v;
          }
      }
}

static void
test_augment_follows_landmarks (void)
{
  const int size = 200;
  PalAugmentOptions opt = PAL_AUGMENT_OPTIONS_DEFAULT;
  int n_flipped = 0, n_big = 0;

  for (int key = 0; key < 24; key++)
    {
      PalLandmarks lm, moved;
      PalAugmentParams p;
      g_autoptr (PalImage) im = NULL;
      g_autoptr (PalImage) out = NULL;

      grid_landmarks (&lm, size, 1000 + key, FALSE);
      im = dot_image (&lm, size);
      moved = lm;
      pal_augment_draw (&opt, 7, 3, key, &p);
      g_assert_cmpfloat (fabs (p.angle), <=, 10.0);
      n_flipped += p.flip;
      n_big += fabs (p.angle) > 5.0;
      out = pal_augment (im, &moved, &opt, 7, 3, key);
      g_assert_cmpint (out->width, ==, size);
      g_assert_cmpint (out->height, ==, size);

      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          int bx = -1, by = -1;
          brightest_near (out, moved.x[i], moved.y[i], &bx, &by);
          if (hypot (bx - moved.x[i], by - moved.y[i]) > 1.0)
            g_error ("key %d (angle %.2f, flip %d): landmark %d at (%.2f, %.2f), "
                     "brightest pixel at (%d, %d)", key, p.angle, p.flip, i,
                     moved.x[i], moved.y[i], bx, by);
        }
    }
  /* the draws covered both flips and large angles */
  g_assert_cmpint (n_flipped, >, 3);
  g_assert_cmpint (n_flipped, <, 21);
  g_assert_cmpint (n_big, >, 3);
}

static void
test_augment_flip_mirror (void)
{
  const int size = 160;
  PalAugmentOptions flip_only = { 0.0, TRUE, 0 };
  PalLandmarks lm, moved;
  PalAugmentParams p;
  g_autoptr (PalImage) im = NULL;
  g_autoptr (PalImage) out = NULL;
  int key = 0;

  g_assert_cmpint (pal_landmarks_mirror[36], ==, 45);
  g_assert_cmpint (pal_landmarks_mirror[45], ==, 36);

  /* the first key that draws a flip */
  do
    pal_augment_draw (&flip_only, 5, 0, ++key, &p);
  while (!p.flip);
  g_assert_cmpfloat (p.angle, ==, 0.0);

  grid_landmarks (&lm, size, 77, TRUE);
  im = dot_image (&lm, size);
  moved = lm;
  out = pal_augment (im, &moved, &flip_only, 5, 0, key);

  /* 36 is where 45 was, mirrored; and so for every point */
  g_assert_cmpfloat (moved.x[36], ==, size - 1 - lm.x[45]);
  g_assert_cmpfloat (moved.y[36], ==, lm.y[45]);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int m = pal_landmarks_mirror[i];
      int x = (int) moved.x[i], y = (int) moved.y[i];

      g_assert_cmpfloat (moved.x[i], ==, size - 1 - lm.x[m]);
      g_assert_cmpfloat (moved.y[i], ==, lm.y[m]);
      /* the image's square there is the one drawn for landmark m */
      g_assert_cmpint (out->data[((gsize) y * size + x) * 3 + 1], ==, 3 * (m + 1));
      g_assert_cmpint (out->data[((gsize) y * size + x) * 3], ==, 255);
    }
}

static void
test_augment_geometry (void)
{
  double fwd[6], inv[6];
  double x = 0.5 * (99 - 1) + 20, y = 0.5 * (79 - 1);
  double fx, fy;

  /* positive angles turn counter-clockwise on screen: a point right of the
   * centre moves up (y decreases) */
  pal_augment_rotation (10.0, 99, 79, fwd, inv);
  fx = fwd[0] * x + fwd[1] * y + fwd[2];
  fy = fwd[3] * x + fwd[4] * y + fwd[5];
  g_assert_cmpfloat (fy, <, y - 3.0);
  g_assert_cmpfloat (fabs (hypot (fx - 49.0, fy - 39.0) - 20.0), <, 1e-9);
  /* the inverse undoes it */
  g_assert_cmpfloat (fabs (inv[0] * fx + inv[1] * fy + inv[2] - x), <, 1e-9);
  g_assert_cmpfloat (fabs (inv[3] * fx + inv[4] * fy + inv[5] - y), <, 1e-9);
}

static void
test_augment_draws (void)
{
  PalAugmentOptions opt = PAL_AUGMENT_OPTIONS_DEFAULT;
  PalAugmentOptions none = PAL_AUGMENT_OPTIONS_NONE;
  PalAugmentOptions rot = { 4.0, FALSE, 0 };
  PalAugmentParams a, b;
  int n_flip = 0, n_same = 0;

  for (int k = 0; k < 2000; k++)
    {
      pal_augment_draw (&opt, 11, 2, k, &a);
      pal_augment_draw (&opt, 11, 2, k, &b);
      g_assert_cmpfloat (a.angle, ==, b.angle);
      g_assert_cmpint (a.flip, ==, b.flip);
      g_assert_cmpfloat (fabs (a.angle), <=, 10.0);
      n_flip += a.flip;
      /* another epoch, another draw */
      pal_augment_draw (&opt, 11, 3, k, &b);
      n_same += a.angle == b.angle;
      /* options off one by one keep the other's draw */
      pal_augment_draw (&rot, 11, 2, k, &b);
      g_assert_cmpfloat (fabs (b.angle - 0.4 * a.angle), <, 1e-9);
      g_assert_false (b.flip);
      pal_augment_draw (&none, 11, 2, k, &b);
      g_assert_cmpfloat (b.angle, ==, 0.0);
      g_assert_false (b.flip);
    }
  g_assert_cmpint (n_flip, >, 900);
  g_assert_cmpint (n_flip, <, 1100);
  g_assert_cmpint (n_same, ==, 0);

  /* nothing to do: an exact copy, landmarks untouched */
  {
    PalLandmarks lm, moved;
    g_autoptr (PalImage) im = NULL;
    g_autoptr (PalImage) out = NULL;

    grid_landmarks (&lm, 160, 3, FALSE);
    im = dot_image (&lm, 160);
    moved = lm;
    out = pal_augment (im, &moved, NULL, 1, 2, 3);
    g_assert_true (out != im);
    g_assert_cmpmem (out->data, 160 * 160 * 3, im->data, 160 * 160 * 3);
    g_assert_cmpmem (&moved, sizeof moved, &lm, sizeof lm);
  }
}

/* Resizing to another size moves the points with the pixels. */
static void
test_augment_resize (void)
{
  PalAugmentOptions opt = PAL_AUGMENT_OPTIONS_DEFAULT;
  const int sizes[][2] = { { 240, 220 }, { 320, 300 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int key = 0; key < 4; key++)
      {
        PalLandmarks lm, moved;
        PalAugmentParams p;
        g_autoptr (PalImage) im = NULL;
        g_autoptr (PalImage) out = NULL;

        grid_landmarks (&lm, 200, 50 + key, FALSE);
        im = dot_image (&lm, 200);
        moved = lm;
        pal_augment_draw (&opt, 9, 0, key, &p);
        out = pal_augment_apply (im, &moved, key == 0 ? NULL : &p, sizes[s][0], sizes[s][1]);
        g_assert_cmpint (out->width, ==, sizes[s][0]);
        g_assert_cmpint (out->height, ==, sizes[s][1]);
        for (int i = 0; i < PAL_N_LANDMARKS; i++)
          {
            int bx = -1, by = -1;
            brightest_near (out, moved.x[i], moved.y[i], &bx, &by);
            g_assert_cmpfloat (hypot (bx - moved.x[i], by - moved.y[i]), <=, 1.0);
          }
      }
}

/* --- an in-memory source ----------------------------------------------------- */

typedef struct {
  int           n;
  PalImage    **images;
  PalLandmarks *lm;
  gboolean     *has_lm;
  int          *labels;
  guint8      **encoded;   /* JPEG bytes, when decode is set */
  gsize        *encoded_len;
  gboolean      decode;
  int           fail_mod, fail_rem;   /* index % fail_mod == fail_rem fails */
  gulong        sleep_us;             /* per get() */
  int           jitter_us;            /* and a random 0 .. jitter_us more */
  gint          n_calls;
} Source;

static gboolean
source_fails (const Source *s, int i)
{
  return s->fail_mod > 0 && i % s->fail_mod == s->fail_rem;
}

static gboolean
source_get (void *data, int index, PalImage **image, PalLandmarks *lm, gboolean *has_lm,
            int *label, GError **error)
{
  Source *s = data;

  g_atomic_int_inc (&s->n_calls);
  if (s->sleep_us)
    g_usleep (s->sleep_us);
  if (s->jitter_us)
    g_usleep (g_random_int_range (0, s->jitter_us));
  if (source_fails (s, index))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "sample%03d.jpg: truncated file", index);
      return FALSE;
    }
  if (s->decode)
    {
      *image = pal_image_load_from_data (s->encoded[index], s->encoded_len[index],
                                         "sample.jpg", error);
      if (!*image)
        return FALSE;
    }
  else
    *image = pal_image_copy (s->images[index]);
  *lm = s->lm[index];
  *has_lm = s->has_lm[index];
  *label = s->labels[index];
  return TRUE;
}

/* @n samples of @w x @h (RGB, or gray for every seventh): a smooth pattern
 * whose colours depend on the index, and landmarks at random inside the
 * middle of the image; every fifth sample has no landmarks. */
static Source *
source_new (int n, int w, int h)
{
  Source *s = g_new0 (Source, 1);

  s->n = n;
  s->images = g_new0 (PalImage *, n);
  s->lm = g_new0 (PalLandmarks, n);
  s->has_lm = g_new0 (gboolean, n);
  s->labels = g_new0 (int, n);
  for (int i = 0; i < n; i++)
    {
      guint64 rng = pal_mix64 (i + 1);
      int ch = i % 7 == 6 ? 1 : 3;
      PalImage *im = pal_image_new (w, h, ch);

      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          for (int c = 0; c < ch; c++)
            im->data[((gsize) y * w + x) * ch + c] =
              (guint8) ((x * (3 + c + i % 5) + y * (2 + (i + c) % 3) + 37 * i) & 255);
      s->images[i] = im;
      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        {
          s->lm[i].x[k] = (float) (w * (0.2 + 0.6 * pal_rand_uniform (&rng)));
          s->lm[i].y[k] = (float) (h * (0.2 + 0.6 * pal_rand_uniform (&rng)));
        }
      s->has_lm[i] = i % 5 != 4;
      s->labels[i] = i % 7;
    }
  return s;
}

/* Keeps JPEG files of the images in memory; get() then decodes them. */
static void
source_encode (Source *s)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-loader-XXXXXX", &error);
  g_autofree char *path = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "sample.jpg", NULL);
  s->encoded = g_new0 (guint8 *, s->n);
  s->encoded_len = g_new0 (gsize, s->n);
  for (int i = 0; i < s->n; i++)
    {
      g_assert_true (pal_image_save_jpeg (s->images[i], path, 90, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, (char **) &s->encoded[i],
                                          &s->encoded_len[i], &error));
    }
  g_unlink (path);
  g_rmdir (dir);
  s->decode = TRUE;
}

static void
source_free (Source *s)
{
  for (int i = 0; i < s->n; i++)
    {
      pal_image_free (s->images[i]);
      if (s->encoded)
        g_free (s->encoded[i]);
    }
  g_free (s->encoded);
  g_free (s->encoded_len);
  g_free (s->images);
  g_free (s->lm);
  g_free (s->has_lm);
  g_free (s->labels);
  g_free (s);
}

static PalLoaderSource
loader_source (Source *s)
{
  return (PalLoaderSource) { s->n, s, source_get };
}

static void
count_error (int index, int epoch, const GError *error, gpointer data)
{
  g_assert_nonnull (error);
  g_assert_true (g_str_has_suffix (error->message, "truncated file"));
  g_atomic_int_inc ((gint *) data);
}

/* --- the loader ------------------------------------------------------------------- */

/* Everything a loader produced, batch after batch. */
typedef struct {
  GPtrArray *batches;   /* of PalBatch copies */
} Run;

static PalBatch *
batch_dup (const PalBatch *b)
{
  PalBatch *d = g_memdup2 (b, sizeof *b);
  gsize chw = (gsize) b->c * b->h * b->w, phw = (gsize) b->ph * b->pw;

  d->x = g_memdup2 (b->x, sizeof (float) * b->n * chw);
  d->priors = g_memdup2 (b->priors, sizeof (float) * b->n * phw);
  d->labels = g_memdup2 (b->labels, sizeof (gint32) * b->n);
  d->has_prior = g_memdup2 (b->has_prior, sizeof (gboolean) * b->n);
  d->indices = g_memdup2 (b->indices, sizeof (int) * b->n);
  return d;
}

static void
batch_dup_free (gpointer p)
{
  PalBatch *d = p;

  g_free (d->x);
  g_free (d->priors);
  g_free (d->labels);
  g_free (d->has_prior);
  g_free (d->indices);
  g_free (d);
}

static GPtrArray *
run_loader (Source *s, const PalLoaderOptions *opt, gint64 *n_failed)
{
  g_autoptr (GError) error = NULL;
  PalLoaderSource src = loader_source (s);
  PalLoader *loader = pal_loader_new (&src, opt, &error);
  GPtrArray *out = g_ptr_array_new_with_free_func (batch_dup_free);

  g_assert_no_error (error);
  for (;;)
    {
      PalBatch *b = NULL;
      g_assert_true (pal_loader_next (loader, &b, NULL, &error));
      g_assert_no_error (error);
      if (!b)
        break;
      g_ptr_array_add (out, batch_dup (b));
      pal_batch_release (b);
    }
  /* the end stays the end */
  {
    PalBatch *b = (PalBatch *) 0x1;
    g_assert_true (pal_loader_next (loader, &b, NULL, &error));
    g_assert_null (b);
  }
  if (n_failed)
    *n_failed = pal_loader_get_n_failed (loader);
  pal_loader_free (loader);
  return out;
}

static void
assert_runs_equal (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const PalBatch *p = a->pdata[i], *q = b->pdata[i];
      gsize chw = (gsize) p->c * p->h * p->w, phw = (gsize) p->ph * p->pw;

      g_assert_cmpint (p->n, ==, q->n);
      g_assert_cmpint (p->epoch, ==, q->epoch);
      g_assert_cmpint (p->number, ==, q->number);
      g_assert_cmpint (p->last, ==, q->last);
      g_assert_cmpint (p->n_skipped, ==, q->n_skipped);
      g_assert_cmpmem (p->indices, sizeof (int) * p->n, q->indices, sizeof (int) * q->n);
      g_assert_cmpmem (p->labels, sizeof (gint32) * p->n, q->labels, sizeof (gint32) * q->n);
      g_assert_cmpmem (p->has_prior, sizeof (gboolean) * p->n,
                       q->has_prior, sizeof (gboolean) * q->n);
      g_assert_cmpmem (p->x, sizeof (float) * p->n * chw, q->x, sizeof (float) * q->n * chw);
      g_assert_cmpmem (p->priors, sizeof (float) * p->n * phw,
                       q->priors, sizeof (float) * q->n * phw);
    }
}

/* The sample as the loader should have made it, computed here directly. */
static void
check_sample (Source *s, const PalLoaderOptions *opt, const PalBatch *b, int j, gint64 key)
{
  int i = b->indices[j];
  gsize chw = (gsize) b->c * b->h * b->w, phw = (gsize) b->ph * b->pw;
  g_autofree float *x = g_new (float, chw);
  g_autofree float *prior = g_new0 (float, phw);
  g_autoptr (PalImage) aug = NULL;
  PalLandmarks lm = s->lm[i];
  PalAugmentParams p;

  pal_augment_draw (opt->augment, opt->seed, b->epoch, key, &p);
  aug = pal_augment_apply (s->images[i], &lm, &p, opt->width, opt->height);
  pal_image_to_tensor (aug, x, opt->channels, opt->width, opt->height, opt->mean, opt->std);
  if (s->has_lm[i])
    {
      guint64 rng = pal_augment_sample_seed (opt->seed ^ PAL_LOADER_NOISE_STREAM,
                                             b->epoch, key);
      pal_prior_make (prior, b->pw, b->ph, &lm, opt->width, opt->height,
                      opt->width, opt->height, opt->sigma_224, opt->noise_224, &rng);
    }
  g_assert_cmpint (b->labels[j], ==, s->labels[i]);
  g_assert_cmpint (b->has_prior[j], ==, s->has_lm[i]);
  g_assert_cmpmem (b->x + j * chw, chw * sizeof (float), x, chw * sizeof (float));
  g_assert_cmpmem (b->priors + j * phw, phw * sizeof (float), prior, phw * sizeof (float));
}

static void
reference_options (PalLoaderOptions *opt, const int *indices, int n_indices)
{
  pal_loader_options_init (opt);
  opt->indices = indices;
  opt->n_indices = n_indices;
  opt->n_epochs = 3;
  opt->first_epoch = 2;
  opt->batch_size = 8;
  opt->width = 48;
  opt->height = 40;
  opt->map_width = 12;
  opt->map_height = 10;
  opt->noise_224 = 2.0f;
  opt->seed = 42;
  opt->n_classes = 7;
}

static void
test_loader_reference (void)
{
  Source *s = source_new (60, 64, 52);
  g_autofree int *indices = g_new (int, 60);
  g_autoptr (GPtrArray) ref = NULL;
  int n_indices = 0, n_good = 0, n_bad = 0;
  PalLoaderOptions opt;
  gint64 n_failed;
  GHashTable *seen[3];

  s->fail_mod = 11;
  s->fail_rem = 7;
  /* every index but a few; the first samples failing, so batch 0 already
   * has to look further */
  for (int i = 0; i < 60; i++)
    if (i % 13 != 5)
      {
        indices[n_indices++] = i;
        if (source_fails (s, i))
          n_bad++;
        else
          n_good++;
      }

  reference_options (&opt, indices, n_indices);
  opt.n_workers = 0;
  ref = run_loader (s, &opt, &n_failed);
  g_assert_cmpint (n_failed, ==, 3 * n_bad);

  /* contents, order and bookkeeping */
  for (int e = 0; e < 3; e++)
    seen[e] = g_hash_table_new (NULL, NULL);
  {
    int epoch = 2, number = 0, skipped = 0;
    for (guint k = 0; k < ref->len; k++)
      {
        const PalBatch *b = ref->pdata[k];

        g_assert_cmpint (b->epoch, ==, epoch);
        g_assert_cmpint (b->number, ==, number);
        g_assert_cmpint (b->c, ==, 3);
        g_assert_cmpint (b->h, ==, 40);
        g_assert_cmpint (b->w, ==, 48);
        g_assert_cmpint (b->ph, ==, 10);
        g_assert_cmpint (b->pw, ==, 12);
        g_assert_cmpint (b->n, >=, 1);
        g_assert_cmpint (b->n, <=, 8);
        if (!b->last)
          g_assert_cmpint (b->n, ==, 8);
        skipped += b->n_skipped;
        for (int j = 0; j < b->n; j++)
          {
            int i = b->indices[j];
            g_assert_false (source_fails (s, i));
            g_assert_false (g_hash_table_contains (seen[epoch - 2], GINT_TO_POINTER (i + 1)));
            g_hash_table_add (seen[epoch - 2], GINT_TO_POINTER (i + 1));
            check_sample (s, &opt, b, j, i);
          }
        number++;
        if (b->last)
          {
            g_assert_cmpint (g_hash_table_size (seen[epoch - 2]), ==, n_good);
            g_assert_cmpint (skipped, ==, n_bad);
            epoch++;
            number = 0;
            skipped = 0;
          }
      }
    g_assert_cmpint (epoch, ==, 5);
  }
  for (int e = 0; e < 3; e++)
    g_hash_table_unref (seen[e]);

  /* shuffles differ between epochs: compare the first batches */
  {
    const PalBatch *e0 = ref->pdata[0];
    guint k = 1;
    while (((const PalBatch *) ref->pdata[k])->epoch == e0->epoch)
      k++;
    g_assert_false (memcmp (e0->indices, ((const PalBatch *) ref->pdata[k])->indices,
                            sizeof (int) * 8) == 0);
  }

  /* the same with worker threads, and a small queue, samples taking
   * random times to load */
  s->jitter_us = 400;
  {
    const int workers[] = { 1, 3, 3 };
    const int prefetch[] = { 4, 4, 1 };
    for (guint w = 0; w < G_N_ELEMENTS (workers); w++)
      {
        g_autoptr (GPtrArray) run = NULL;
        gint n_errors = 0;

        opt.n_workers = workers[w];
        opt.n_prefetch = prefetch[w];
        opt.on_error = count_error;
        opt.on_error_data = &n_errors;
        run = run_loader (s, &opt, &n_failed);
        assert_runs_equal (ref, run);
        g_assert_cmpint (n_failed, ==, 3 * n_bad);
        g_assert_cmpint (n_errors, ==, 3 * n_bad);
      }
  }

  s->jitter_us = 0;

  /* another seed, other batches */
  {
    g_autoptr (GPtrArray) run = NULL;
    const PalBatch *a = ref->pdata[0], *b;

    opt.seed = 43;
    opt.n_workers = 2;
    opt.on_error = NULL;
    run = run_loader (s, &opt, NULL);
    b = run->pdata[0];
    g_assert_false (memcmp (a->indices, b->indices, sizeof (int) * 8) == 0);
  }

  /* no shuffle, no augmentation: the list in order, as a validation pass */
  {
    g_autoptr (GPtrArray) run = NULL;
    int k = 0;

    opt.seed = 42;
    opt.shuffle = FALSE;
    opt.augment = NULL;
    opt.n_epochs = 1;
    run = run_loader (s, &opt, NULL);
    for (guint r = 0; r < run->len; r++)
      {
        const PalBatch *b = run->pdata[r];
        for (int j = 0; j < b->n; j++)
          {
            while (source_fails (s, indices[k]))
              k++;
            g_assert_cmpint (b->indices[j], ==, indices[k]);
            check_sample (s, &opt, b, j, b->indices[j]);
            k++;
          }
      }
  }
  source_free (s);
}

/* A stateful sampler, as pal_balanced_sampler_next(): the loader must call
 * it in position order. */
typedef struct {
  guint64 rng;
  int     n;
} Sampler;

static int
sampler_next (gpointer data)
{
  Sampler *sp = data;
  return (int) (pal_rand_uniform (&sp->rng) * sp->n);
}

static void
test_loader_sampler (void)
{
  Source *s = source_new (30, 40, 40);
  g_autoptr (GPtrArray) ref = NULL;
  PalLoaderOptions opt;
  Sampler sp = { 5, 30 }, check = { 5, 30 };

  s->fail_mod = 9;
  s->fail_rem = 2;
  pal_loader_options_init (&opt);
  opt.sampler = sampler_next;
  opt.sampler_data = &sp;
  opt.epoch_size = 25;
  opt.n_epochs = 2;
  opt.batch_size = 6;
  opt.width = opt.height = 32;
  opt.map_width = opt.map_height = 8;
  opt.seed = 3;
  opt.n_workers = 0;
  ref = run_loader (s, &opt, NULL);

  /* the sampler's draws in order, failures left out, augmented by position */
  {
    guint r = 0;
    int j = 0;
    for (int e = 0; e < 2; e++)
      for (int pos = 0; pos < 25; pos++)
        {
          int i = sampler_next (&check);
          const PalBatch *b;
          if (source_fails (s, i))
            continue;
          b = ref->pdata[r];
          g_assert_cmpint (b->epoch, ==, e);
          g_assert_cmpint (b->indices[j], ==, i);
          check_sample (s, &opt, b, j, pos);
          if (++j == b->n)
            {
              r++;
              j = 0;
            }
        }
    g_assert_cmpuint (r, ==, ref->len);
  }

  for (int w = 1; w <= 3; w += 2)
    {
      g_autoptr (GPtrArray) run = NULL;
      sp.rng = 5;
      opt.n_workers = w;
      run = run_loader (s, &opt, NULL);
      assert_runs_equal (ref, run);
    }
  source_free (s);
}

/* Batches not handed back stop the loader with an error, not a hang; a
 * source where nothing loads is an error too; bad options are refused. */
static void
test_loader_errors (void)
{
  g_autoptr (GError) error = NULL;
  Source *s = source_new (10, 32, 32);
  PalLoaderSource src = loader_source (s);
  int indices[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  PalLoaderOptions opt;
  PalLoader *loader;
  PalBatch *held[3];

  pal_loader_options_init (&opt);
  opt.indices = indices;
  opt.n_indices = 10;
  opt.batch_size = 2;
  opt.width = opt.height = 24;
  opt.n_prefetch = 2;

  for (int w = 0; w <= 2; w += 2)
    {
      opt.n_workers = w;
      loader = pal_loader_new (&src, &opt, &error);
      g_assert_no_error (error);
      for (int k = 0; k < 3; k++)
        {
          g_assert_true (pal_loader_next (loader, &held[k], NULL, &error));
          g_assert_no_error (error);
          g_assert_nonnull (held[k]);
        }
      g_assert_false (pal_loader_next (loader, &held[0], NULL, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
      g_clear_error (&error);
      /* freed with batches out */
      pal_loader_free (loader);
    }

  /* nothing loads */
  s->fail_mod = 1;
  s->fail_rem = 0;
  for (int w = 0; w <= 2; w += 2)
    {
      PalBatch *b = NULL;
      opt.n_workers = w;
      loader = pal_loader_new (&src, &opt, &error);
      g_assert_no_error (error);
      g_assert_false (pal_loader_next (loader, &b, NULL, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
      g_assert_null (b);
      g_clear_error (&error);
      g_assert_cmpint (pal_loader_get_n_failed (loader), ==, 10);
      pal_loader_free (loader);
    }
  s->fail_mod = 0;

  /* labels beyond n_classes fail their samples */
  {
    PalBatch *b = NULL;
    opt.n_classes = 5;
    opt.n_epochs = 1;
    opt.batch_size = 10;
    loader = pal_loader_new (&src, &opt, &error);
    g_assert_no_error (error);
    g_assert_true (pal_loader_next (loader, &b, NULL, &error));
    g_assert_cmpint (b->n, ==, 8);            /* labels 5 and 6 left out */
    g_assert_cmpint (b->n_skipped, ==, 2);
    g_assert_true (b->last);
    pal_batch_release (b);
    g_assert_true (pal_loader_next (loader, &b, NULL, &error));
    g_assert_null (b);
    pal_loader_free (loader);
    opt.n_classes = 0;
  }

  /* options */
  {
    static const struct {
      const char *what;
      int field;
    } bad[] = { { "index", 0 }, { "batch", 1 }, { "channels", 2 }, { "map", 3 },
                { "sigma", 4 }, { "workers", 5 }, { "empty", 6 }, { "sampler", 7 } };
    for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
      {
        PalLoaderOptions o = opt;
        int bad_indices[] = { 0, 10 };
        switch (bad[k].field)
          {
          case 0: o.indices = bad_indices; o.n_indices = 2; break;
          case 1: o.batch_size = 0; break;
          case 2: o.channels = 2; break;
          case 3: o.map_width = 25; break;
          case 4: o.sigma_224 = 0; break;
          case 5: o.n_workers = -1; break;
          case 6: o.n_indices = 0; break;
          case 7: o.sampler = sampler_next; o.epoch_size = 0; break;
          }
        g_assert_null (pal_loader_new (&src, &o, &error));
        g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
        g_test_message ("%s: %s", bad[k].what, error->message);
        g_clear_error (&error);
      }
  }
  source_free (s);
}

typedef struct {
  GCancellable *cancellable;
  gint64        cancelled_at;
} CancelAfter;

static gpointer
cancel_thread (gpointer data)
{
  CancelAfter *c = data;

  g_usleep (60000);
  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

static void
test_loader_cancel (void)
{
  g_autoptr (GError) error = NULL;
  Source *s = source_new (64, 32, 32);
  PalLoaderSource src = loader_source (s);
  g_autofree int *indices = g_new (int, 64);
  PalLoaderOptions opt;
  gint64 limit = SANITIZED ? 400000 : 150000;

  for (int i = 0; i < 64; i++)
    indices[i] = i;
  s->sleep_us = 20000;              /* 20 ms a sample: a batch of 16 takes 160 ms+ */
  pal_loader_options_init (&opt);
  opt.indices = indices;
  opt.n_indices = 64;
  opt.batch_size = 16;
  opt.width = opt.height = 32;

  for (int w = 0; w <= 2; w += 2)
    {
      PalLoader *loader;
      PalBatch *b = NULL;
      CancelAfter c = { g_cancellable_new (), 0 };
      GThread *t;
      gint64 t0, t1;

      opt.n_workers = w;
      loader = pal_loader_new (&src, &opt, &error);
      g_assert_no_error (error);
      t = g_thread_new ("cancel", cancel_thread, &c);
      g_assert_false (pal_loader_next (loader, &b, c.cancellable, &error));
      t1 = g_get_monotonic_time ();
      g_thread_join (t);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_assert_null (b);
      g_test_message ("%d workers: next() returned %.1f ms after the cancel", w,
                      (t1 - c.cancelled_at) / 1000.0);
      g_assert_cmpint (t1 - c.cancelled_at, <, limit);

      /* an already cancelled call returns at once */
      g_assert_false (pal_loader_next (loader, &b, c.cancellable, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);

      /* the loader goes on: the first batch is still the first */
      if (w > 0)
        {
          g_assert_true (pal_loader_next (loader, &b, NULL, &error));
          g_assert_no_error (error);
          g_assert_cmpint (b->number, ==, 0);
          g_assert_cmpint (b->n, ==, 16);
          pal_batch_release (b);
        }

      /* freed with the workers in the middle of samples */
      t0 = g_get_monotonic_time ();
      pal_loader_free (loader);
      t1 = g_get_monotonic_time ();
      g_test_message ("%d workers: freed in %.1f ms", w, (t1 - t0) / 1000.0);
      g_assert_cmpint (t1 - t0, <, limit);
      g_object_unref (c.cancellable);
    }
  source_free (s);
}

/* Workers overlap their samples: on a source that waits 4 ms a sample
 * (a slow disk) 4 workers go well over twice as fast as 1. */
static void
test_loader_parallel (void)
{
  Source *s = source_new (48, 16, 16);
  int indices[48];
  PalLoaderOptions opt;
  double secs[2];

  for (int i = 0; i < 48; i++)
    indices[i] = i;
  s->sleep_us = 4000;
  pal_loader_options_init (&opt);
  opt.indices = indices;
  opt.n_indices = 48;
  opt.n_epochs = 1;
  opt.batch_size = 8;
  opt.width = opt.height = 16;
  for (int k = 0; k < 2; k++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GPtrArray) run = NULL;

      opt.n_workers = k == 0 ? 1 : 4;
      run = run_loader (s, &opt, NULL);
      secs[k] = (g_get_monotonic_time () - t0) / 1e6;
      g_assert_cmpuint (run->len, ==, 6);
    }
  g_test_message ("48 samples of 4 ms: %.0f ms with 1 worker, %.0f ms with 4",
                  1e3 * secs[0], 1e3 * secs[1]);
  g_assert_cmpfloat (secs[0] / secs[1], >, 2.0);
  source_free (s);
}

/* CPU seconds of the process so far, all threads. */
static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Images per second through decoding (JPEG in memory), resizing,
 * augmentation, normalisation and the prior; and the CPU time per image,
 * which a busy machine does not change as much. */
static void
test_loader_throughput (void)
{
  const int n = SANITIZED ? 48 : 256, size = 160;
  Source *s = source_new (n, size, size);
  g_autofree int *indices = g_new (int, n);
  PalLoaderOptions opt;
  const int workers[] = { 0, 1, 2, 4 };

  source_encode (s);
  for (int i = 0; i < n; i++)
    indices[i] = i;
  pal_loader_options_init (&opt);
  opt.indices = indices;
  opt.n_indices = n;
  opt.n_epochs = 2;
  opt.batch_size = 32;
  opt.width = opt.height = 224;
  opt.map_width = opt.map_height = 28;

  for (guint w = 0; w < G_N_ELEMENTS (workers); w++)
    {
      g_autoptr (GError) error = NULL;
      PalLoaderSource src = loader_source (s);
      PalLoader *loader;
      PalBatch *b = NULL;
      gint64 t0 = g_get_monotonic_time ();
      double cpu0 = cpu_seconds ();
      int total = 0;
      double secs, cpu;

      opt.n_workers = workers[w];
      loader = pal_loader_new (&src, &opt, &error);
      g_assert_no_error (error);
      while (pal_loader_next (loader, &b, NULL, &error) && b)
        {
          total += b->n;
          pal_batch_release (b);
        }
      g_assert_no_error (error);
      secs = (g_get_monotonic_time () - t0) / 1e6;
      cpu = cpu_seconds () - cpu0;
      g_assert_cmpint (total, ==, 2 * n);
      g_test_message ("loader throughput: %.0f images/s with %d workers, %.2f ms of CPU "
                      "an image (%dx%d JPEG -> 3x224x224, prior 28x28, rotation + flip; "
                      "%d cores)", total / secs, workers[w], 1e3 * cpu / total, size, size,
                      g_get_num_processors ());
      pal_loader_free (loader);
    }
  source_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/augment/follows-landmarks", test_augment_follows_landmarks);
  g_test_add_func ("/augment/flip-mirror", test_augment_flip_mirror);
  g_test_add_func ("/augment/geometry", test_augment_geometry);
  g_test_add_func ("/augment/draws", test_augment_draws);
  g_test_add_func ("/augment/resize", test_augment_resize);
  g_test_add_func ("/loader/reference", test_loader_reference);
  g_test_add_func ("/loader/sampler", test_loader_sampler);
  g_test_add_func ("/loader/errors", test_loader_errors);
  g_test_add_func ("/loader/cancel", test_loader_cancel);
  g_test_add_func ("/loader/parallel", test_loader_parallel);
  g_test_add_func ("/loader/throughput", test_loader_throughput);
  return g_test_run ();
}
