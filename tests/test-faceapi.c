/* test-faceapi.c: face-api's networks on the engine, against the spec's
 * oracle (specs/FACEAPI_SPEC.md section 7) and faceapi_torch.py
 *
 * Needs the npm package installed by tools/fetch-face-api under
 * data/face-api/; without it every test fails and says so.
 */
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-faceapi.h"
#include "pal-model-io.h"
#include "pal-parallel.h"
#include "pal-tfjs.h"
#include "test-util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *pkg_dir;      /* .../node_modules/@vladmandic/face-api */
static char *model_dir;    /* pkg_dir/model */
static PalFaceApi *fa;     /* loaded once */

static gboolean
have_package (void)
{
  if (g_file_test (model_dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  g_test_fail_printf ("face-api is not installed at %s: run tools/fetch-face-api", pkg_dir);
  return FALSE;
}

static PalFaceApi *
get_faceapi (void)
{
  g_autoptr (GError) error = NULL;

  if (!fa)
    {
      fa = pal_faceapi_load (model_dir, &error);
      g_assert_no_error (error);
    }
  return fa;
}

/* Expression probabilities in face-api's order -> the canonical order. */
static void
to_canonical (const double fa_order[7], double out[7])
{
  static const int perm[7] = { 0, 1, 2, 6, 4, 5, 3 };

  for (int k = 0; k < 7; k++)
    out[k] = fa_order[perm[k]];
}

/* ---- the manifest reader ------------------------------------------------ */

static guint8 *
read_bin (const char *name, gsize *len)
{
  g_autofree char *path = g_build_filename (model_dir, name, NULL);
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return (guint8 *) data;
}

static PalTfjsWeights *
load_model (const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s-weights_manifest.json", name);
  g_autofree char *path = g_build_filename (model_dir, file, NULL);
  g_autoptr (GError) error = NULL;
  PalTfjsWeights *w = pal_tfjs_load (path, &error);

  g_assert_no_error (error);
  return w;
}

static void
test_manifests (void)
{
  static const struct {
    const char *name;
    int tensors;
    gsize values, bytes;
  } models[] = {
    { "face_expression_model", 49, 323687, 329468 },
    { "face_landmark_68_model", 49, 356840, 356840 },
    { "tiny_face_detector_model", 19, 193321, 193321 },
  };

  if (!have_package ())
    return;
  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    {
      g_autoptr (PalTfjsWeights) w = load_model (models[m].name);
      gsize values = 0, bytes = 0;

      g_assert_cmpint (pal_tfjs_get_n_tensors (w), ==, models[m].tensors);
      for (int i = 0; i < pal_tfjs_get_n_tensors (w); i++)
        {
          const PalTfjsTensor *t = pal_tfjs_get_tensor (w, i);
          g_assert_cmpuint (t->offset, ==, bytes);
          values += t->numel;
          bytes += t->nbytes;
          for (gsize k = 0; k < t->numel; k++)
            g_assert_true (isfinite (t->data[k]));
        }
      g_assert_cmpuint (values, ==, models[m].values);
      g_assert_cmpuint (bytes, ==, models[m].bytes);
    }
}

/* A few values dequantised here from the raw bytes and the manifest's
 * constants (spec section 2). */
static void
test_dequantisation (void)
{
  g_autoptr (PalTfjsWeights) ew = NULL;
  g_autoptr (PalTfjsWeights) lw = NULL;
  g_autofree guint8 *eb = NULL, *lb = NULL;
  gsize elen, llen;
  const PalTfjsTensor *t;

  if (!have_package ())
    return;
  ew = load_model ("face_expression_model");
  lw = load_model ("face_landmark_68_model");
  eb = read_bin ("face_expression_model.bin", &elen);
  lb = read_bin ("face_landmark_68_model.bin", &llen);
  g_assert_cmpuint (elen, ==, 329468);
  g_assert_cmpuint (llen, ==, 356840);

  t = pal_tfjs_require (ew, "dense0/conv0/filters", 4, (gint64[]) { 3, 3, 3, 32 }, NULL);
  g_assert_nonnull (t);
  g_assert_cmpint (t->storage, ==, PAL_TFJS_UINT8);
  g_assert_cmpuint (t->offset, ==, 0);
  for (int k = 0; k < 864; k += 97)
    g_assert_cmpfloat (t->data[k], ==,
                       (float) (-0.7125408074435067 + 0.0057930146946626555 * eb[k]));

  t = pal_tfjs_lookup (ew, "dense0/conv0/bias");
  g_assert_cmpint (t->storage, ==, PAL_TFJS_FLOAT32);
  g_assert_cmpuint (t->offset, ==, 864);
  for (int k = 0; k < 32; k += 7)
    {
      guint32 u = eb[864 + 4 * k] | (eb[865 + 4 * k] << 8) | (eb[866 + 4 * k] << 16)
                  | ((guint32) eb[867 + 4 * k] << 24);
      float v;
      memcpy (&v, &u, 4);
      g_assert_cmpfloat (t->data[k], ==, v);
    }

  t = pal_tfjs_require (ew, "fc/weights", 2, (gint64[]) { 256, 7 }, NULL);
  g_assert_cmpuint (t->offset, ==, 327648);
  for (int k = 0; k < 1792; k += 131)
    g_assert_cmpfloat (t->data[k], ==,
                       (float) (-0.7203072066400565 + 0.004834276554631252 * eb[327648 + k]));

  /* the landmark net's biases are quantised too: the last tensor */
  t = pal_tfjs_require (lw, "fc/bias", 1, (gint64[]) { 136 }, NULL);
  g_assert_cmpint (t->storage, ==, PAL_TFJS_UINT8);
  g_assert_cmpuint (t->offset, ==, 356840 - 136);
  for (int k = 0; k < 136; k += 15)
    g_assert_cmpfloat (t->data[k], ==,
                       (float) (0.07683877646923065 + 0.0025084222648658005 * lb[356840 - 136 + k]));

  /* wrong shape asked for: an error naming the manifest and the tensor */
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (pal_tfjs_require (ew, "fc/bias", 1, (gint64[]) { 8 }, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_SHAPE);
    g_assert_nonnull (strstr (error->message, "face_expression_model-weights_manifest.json"));
    g_assert_nonnull (strstr (error->message, "fc/bias"));
  }
}

/* Shards by name from a NULL-terminated table: name, bytes, length, ... */
static GBytes *
table_shard (const char *name, gsize max_bytes, gpointer user_data, GError **error)
{
  const void *const *table = user_data;

  for (; table[0]; table += 3)
    if (strcmp (table[0], name) == 0)
      return g_bytes_new_static (table[1], GPOINTER_TO_SIZE (table[2]));
  g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: no such shard", name);
  return NULL;
}

/* A manifest and its shards from memory. */
static void
test_bytes (void)
{
  static const char manifest[] =
    "[{\"paths\": [\"a.bin\", \"b.bin\"], \"weights\": ["
    "{\"name\": \"w\", \"shape\": [2], \"dtype\": \"float32\"},"
    "{\"name\": \"q\", \"shape\": [3], \"dtype\": \"float32\","
    " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1}}]}]";
  /* 1.0f, -2.0f (float32, little-endian), then 0, 2, 255 (uint8); the
   * second float straddles the shards */
  static const guint8 a[6] = { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00 };
  static const guint8 b[5] = { 0x00, 0xC0, 0, 2, 255 };
  const void *table[] = { "a.bin", a, GSIZE_TO_POINTER (6), "b.bin", b, GSIZE_TO_POINTER (5),
                          NULL };
  const void *short_table[] = { "a.bin", a, GSIZE_TO_POINTER (6), "b.bin", b,
                                GSIZE_TO_POINTER (4), NULL };
  const void *missing[] = { "a.bin", a, GSIZE_TO_POINTER (6), NULL };
  g_autoptr (GBytes) mb = g_bytes_new_static (manifest, sizeof manifest - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalTfjsWeights) w = NULL;
  const PalTfjsTensor *t;

  w = pal_tfjs_load_bytes ("mem/m-weights_manifest.json", mb, table_shard, table, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pal_tfjs_get_n_tensors (w), ==, 2);
  t = pal_tfjs_lookup (w, "w");
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, -2.0f);
  t = pal_tfjs_lookup (w, "q");
  g_assert_cmpfloat (t->data[0], ==, -1.0f);
  g_assert_cmpfloat (t->data[1], ==, 0.0f);
  g_assert_cmpfloat (t->data[2], ==, 126.5f);
  g_clear_pointer (&w, pal_tfjs_free);

  w = pal_tfjs_load_bytes ("mem/m-weights_manifest.json", mb, table_shard, short_table, &error);
  g_assert_null (w);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "mem/b.bin: truncated"));
  g_clear_error (&error);
  w = pal_tfjs_load_bytes ("mem/m-weights_manifest.json", mb, table_shard, missing, &error);
  g_assert_null (w);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "b.bin"));
}

/* Writes @manifest and @bin (len bytes) as m-weights_manifest.json / m.bin
 * in @dir and loads the manifest; returns the error. */
static GError *
load_broken (const char *dir, const char *manifest, const guint8 *bin, gssize len)
{
  g_autofree char *mp = g_build_filename (dir, "m-weights_manifest.json", NULL);
  g_autofree char *bp = g_build_filename (dir, "m.bin", NULL);
  GError *error = NULL;
  PalTfjsWeights *w;

  g_assert_true (g_file_set_contents (mp, manifest, -1, NULL));
  g_unlink (bp);
  if (len >= 0)
    g_assert_true (g_file_set_contents (bp, (const char *) bin, len, NULL));
  w = pal_tfjs_load (mp, &error);
  g_assert_null (w);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PAL_ERROR);
  g_test_message ("%s", error->message);
  return error;
}

#define SPEC(shape, q) "{\"name\": \"a/w\", \"shape\": " shape ", \"dtype\": \"float32\"" q "}"
#define MANIFEST(specs) "[{\"paths\": [\"m.bin\"], \"weights\": [" specs "]}]"
#define QUANT ", \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1}"

static void
test_broken (void)
{
  char *dir = scratch_dir_new ("pal-tfjs-XXXXXX");
  guint8 bin[64] = { 0 };
  static const struct {
    const char *what, *manifest;
    gssize len;
    const char *needle;
  } cases[] = {
    { "truncated bin", MANIFEST (SPEC ("[2, 3]", "")), 23, "truncated" },
    { "bin too long", MANIFEST (SPEC ("[2, 3]", "")), 25, "more than" },
    { "missing bin", MANIFEST (SPEC ("[2, 3]", "")), -1, "m.bin" },
    { "truncated manifest", "[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a/w\", \"sha", 24,
      "invalid JSON" },
    { "not an array", "{\"paths\": []}", 0, "array of groups" },
    { "no weights", "[{\"paths\": [\"m.bin\"]}]", 0, "'weights'" },
    { "gigabytes", MANIFEST (SPEC ("[65536, 65536, 4]", "")), 24, "too large" },
    { "negative dim", MANIFEST (SPEC ("[2, -3]", "")), 24, "not a count" },
    { "fraction dim", MANIFEST (SPEC ("[2, 1.5]", "")), 24, "not a count" },
    { "unknown dtype", "[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a/w\", \"shape\": [6], "
      "\"dtype\": \"int64\"}]}]", 48, "int64" },
    { "unknown quantization", MANIFEST (SPEC ("[6]", ", \"quantization\": {\"dtype\": \"int4\", "
                                                    "\"scale\": 1, \"min\": 0}")), 6, "int4" },
    { "quantization without scale", MANIFEST (SPEC ("[6]", ", \"quantization\": {\"dtype\": "
                                                          "\"uint8\", \"min\": 0}")), 6, "scale" },
    { "quantised, truncated", MANIFEST (SPEC ("[2, 3]", QUANT)), 5, "truncated" },
    { "path outside", "[{\"paths\": [\"../m.bin\"], \"weights\": [" SPEC ("[1]", "") "]}]", 4,
      "file name" },
    { "twice", MANIFEST (SPEC ("[1]", "") "," SPEC ("[1]", "")), 8, "twice" },
    { "deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      0, "deep" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("case: %s", cases[i].what);
      error = load_broken (dir, cases[i].manifest, bin, cases[i].len);
      if (!strstr (error->message, cases[i].needle))
        g_error ("%s: '%s' does not say '%s'", cases[i].what, error->message, cases[i].needle);
      if (!strstr (cases[i].what, "missing"))
        g_assert_nonnull (strstr (error->message, "m-weights_manifest.json"));
    }

  /* the same small files, well formed: read back */
  {
    g_autofree char *mp = g_build_filename (dir, "m-weights_manifest.json", NULL);
    g_autofree char *bp = g_build_filename (dir, "m.bin", NULL);
    g_autoptr (PalTfjsWeights) w = NULL;
    g_autoptr (GError) error = NULL;
    static const guint8 q[6] = { 0, 1, 2, 3, 4, 255 };

    g_assert_true (g_file_set_contents (mp, MANIFEST (SPEC ("[2, 3]", QUANT)), -1, NULL));
    g_assert_true (g_file_set_contents (bp, (const char *) q, 6, NULL));
    w = pal_tfjs_load (mp, &error);
    g_assert_no_error (error);
    g_assert_cmpint (pal_tfjs_get_tensor (w, 0)->ndim, ==, 2);
    g_assert_cmpfloat (pal_tfjs_get_tensor (w, 0)->data[1], ==, -0.5f);
    g_assert_cmpfloat (pal_tfjs_get_tensor (w, 0)->data[5], ==, 126.5f);
  }

  /* a real model with its .bin cut short, and its manifest cut short */
  if (have_package ())
    {
      g_autofree char *src = g_build_filename (model_dir, "face_expression_model-weights_manifest.json", NULL);
      g_autofree char *mp = g_build_filename (dir, "face_expression_model-weights_manifest.json", NULL);
      g_autofree char *bp = g_build_filename (dir, "face_expression_model.bin", NULL);
      g_autofree char *text = NULL;
      g_autofree guint8 *data = NULL;
      g_autoptr (GError) e1 = NULL;
      g_autoptr (GError) e2 = NULL;
      g_autoptr (GError) e3 = NULL;
      gsize tlen, blen;

      g_assert_true (g_file_get_contents (src, &text, &tlen, NULL));
      data = read_bin ("face_expression_model.bin", &blen);
      g_assert_true (g_file_set_contents (mp, text, tlen, NULL));
      g_assert_true (g_file_set_contents (bp, (const char *) data, blen - 100, NULL));
      g_assert_null (pal_tfjs_load (mp, &e1));
      g_assert_nonnull (strstr (e1->message, "truncated"));
      g_assert_nonnull (strstr (e1->message, "face_expression_model.bin"));
      g_assert_true (g_file_set_contents (mp, text, tlen / 2, NULL));
      g_assert_null (pal_tfjs_load (mp, &e2));
      g_assert_error (e2, PAL_ERROR, PAL_ERROR_PARSE);
      g_assert_nonnull (strstr (e2->message, mp));
      /* the whole loader names the folder and what to do */
      g_assert_null (pal_faceapi_load ("/nonexistent/face-api/model", &e3));
      g_assert_nonnull (strstr (e3->message, "tools/fetch-face-api"));
      g_unlink (mp);
      g_unlink (bp);
    }
  scratch_free (dir);
}

/* ---- the expression net on the spec's crops -------------------------------- */

/* face-api's aligned 112x112 crops of demo/sample*.jpg (rounded to 8 bits
 * as face-api's crops were) and face-api's own probabilities for them (spec
 * section 7, face-api's order, 4 decimals). */
static const struct {
  const char *crop;
  double probs[7];
} oracle[] = {
  { "crop0", { 0.0021, 0.2571, 0.7408, 0.0000, 0.0000, 0.0000, 0.0000 } },
  { "crop5", { 0.7958, 0.1392, 0.0004, 0.0004, 0.0000, 0.0608, 0.0033 } },
  { "crop7", { 0.7517, 0.1072, 0.1164, 0.0035, 0.0001, 0.0006, 0.0205 } },
  { "crop8", { 0.0475, 0.1604, 0.4268, 0.0000, 0.0001, 0.0010, 0.3643 } },
  { "crop9", { 0.3888, 0.0686, 0.5270, 0.0095, 0.0000, 0.0060, 0.0002 } },
  { "crop19", { 0.1205, 0.0042, 0.8303, 0.0430, 0.0001, 0.0000, 0.0018 } },
};

static void
test_expression_crops (void)
{
  if (!have_package ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (oracle); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", oracle[i].crop);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "faceapi", name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) img = pal_image_load (path, &error);
      double want[7], worst = 0.0;
      float probs[7];

      g_assert_no_error (error);
      g_assert_cmpint (img->width, ==, 112);
      g_assert_true (pal_faceapi_expression_crop (get_faceapi (), img, probs, &error));
      g_assert_no_error (error);
      to_canonical (oracle[i].probs, want);
      for (int k = 0; k < 7; k++)
        worst = MAX (worst, fabs (probs[k] - want[k]));
      g_test_message ("%s: max |p - face-api| = %.2e", oracle[i].crop, worst);
      g_assert_cmpfloat (worst, <=, 1e-4);
    }
}

/* ---- the whole chain on photos ------------------------------------------------ */

/* faceapi_torch.py pipeline on demo/sample1.jpg and sample2.jpg: score,
 * box (x, y, w, h), probabilities (face-api's order) and landmarks in
 * face-api's frame (pixel centres at +0.5). */
typedef struct {
  const char *image;
  double score, box[4], probs[7], lm[136];
} Face;

static const Face faces[] = {
  { "sample1", 0.778971, { 775.89525, 445.09805, 313.12533, 256.34283 },
    { 0.0021249, 0.2442095, 0.7536288, 0.0000067, 0.0000213, 0.0000083, 0.0000005 },
    {838.6763, 563.7219,851.1783, 583.2325,866.3133, 601.0252,882.5526, 614.0762
     ,900.6684, 628.9309,921.5100, 639.6058,935.8824, 650.4683,952.8334, 660.8284
     ,979.3409, 659.3603,1001.7038, 640.0671,1019.3253, 614.2373,1033.9322, 590.6904
     ,1040.5230, 563.5162,1040.4836, 537.6195,1034.9661, 514.3906,1027.0542, 489.8847
     ,1016.9114, 463.7845,829.2983, 542.2149,833.4233, 533.1312,842.7367, 528.4556
     ,855.8542, 524.7808,867.4909, 525.4810,906.4292, 504.2268,917.0748, 492.0960
     ,931.2887, 480.7914,950.3397, 474.0984,969.0634, 472.5430,898.7008, 539.3443
     ,904.7085, 557.5381,910.0307, 574.8202,914.6434, 589.1918,912.0950, 593.4981
     ,918.1636, 594.8952,926.9284, 594.2252,935.2536, 586.3516,943.0588, 579.6789
     ,855.9227, 554.4753,859.3108, 549.2944,870.2848, 544.0339,883.2158, 544.4378
     ,875.9691, 552.8357,864.4643, 556.3040,927.8225, 522.0790,934.5089, 510.8637
     ,947.0405, 506.0670,959.7185, 503.6170,951.4421, 514.1496,939.0369, 520.3180
     ,913.7714, 613.6094,917.4066, 612.2810,926.9639, 606.6192,934.9488, 604.8855
     ,942.9225, 599.5704,962.8154, 595.0037,983.5703, 586.6934,971.6078, 607.0374
     ,959.8034, 618.1201,948.4096, 625.3260,938.8862, 628.1772,927.5565, 625.0459
     ,916.7194, 614.1147,929.6732, 612.0811,939.5958, 609.7796,950.4524, 604.9482
     ,979.2717, 588.0189,953.6773, 608.2206,943.3323, 614.5043,934.0448, 615.9596
      } },
  { "sample1", 0.773727, { 1422.37706, 214.60740, 306.77056, 282.78368 },
    { 0.0000692, 0.9988431, 0.0007065, 0.0000003, 0.0000003, 0.0000000, 0.0003807 },
    {1514.1721, 250.5552,1494.4740, 265.2299,1479.1825, 284.9643,1467.3470, 302.9425
     ,1458.0208, 326.0967,1454.7704, 351.1305,1454.0845, 372.9634,1459.5722, 398.0344
     ,1471.0609, 422.9072,1498.6458, 441.0178,1526.5118, 445.8662,1552.4095, 451.0614
     ,1577.5205, 449.4692,1606.6235, 439.2939,1624.0423, 423.1103,1642.5052, 405.8788
     ,1660.7143, 387.2820,1547.4267, 243.4977,1562.3333, 246.1804,1571.4681, 254.5430
     ,1579.0580, 262.0191,1585.0610, 273.3092,1618.3580, 307.7975,1631.5868, 314.8326
     ,1645.5480, 325.3261,1655.7997, 339.1703,1658.6520, 357.1882,1580.3201, 307.7991
     ,1567.6720, 319.1349,1554.9900, 330.1183,1543.6618, 342.3890,1528.3654, 336.8235
     ,1530.4522, 344.4528,1536.6808, 352.6589,1545.0208, 358.6121,1553.7327, 363.8600
     ,1545.1257, 267.2441,1553.5986, 268.8723,1562.4569, 276.9835,1566.5719, 290.9759
     ,1558.5216, 287.6413,1548.0772, 277.3327,1600.8642, 327.9233,1612.3039, 328.4007
     ,1623.4315, 339.7213,1627.4623, 353.9760,1617.0963, 347.7555,1607.3430, 336.9153
     ,1494.2143, 341.9571,1508.2884, 346.9752,1523.7161, 358.3151,1528.1935, 366.4640
     ,1536.6842, 371.1849,1551.7573, 388.4998,1562.4972, 402.7461,1535.8341, 405.3843
     ,1516.9631, 399.6556,1503.1760, 391.8001,1495.2460, 380.6420,1492.0426, 366.0364
     ,1496.2440, 344.0033,1514.8458, 360.5917,1524.4363, 370.5803,1533.7648, 381.1321
     ,1558.6962, 400.7229,1524.4628, 390.3453,1513.4575, 382.0478,1503.9550, 373.2132
      } },
  { "sample1", 0.720293, { 336.62588, 396.78655, 305.31148, 251.09580 },
    { 0.1256232, 0.8743069, 0.0000696, 0.0000001, 0.0000000, 0.0000000, 0.0000002 },
    {398.6132, 458.7345,399.2253, 482.4653,405.4941, 504.9151,413.3982, 523.4073
     ,424.2129, 544.4704,438.5801, 560.8130,450.1306, 574.7497,464.0346, 589.0899
     ,490.1000, 598.1339,518.6435, 590.8077,543.6808, 577.1394,564.9452, 562.9191
     ,581.2096, 542.3018,591.9788, 518.8989,596.3481, 496.0886,598.2866, 472.3110
     ,599.8600, 445.7146,405.0339, 435.3042,412.6533, 428.8138,425.2595, 427.7003
     ,437.7447, 429.2544,449.5418, 434.9760,490.0979, 435.5768,504.0294, 430.6990
     ,520.1109, 427.8278,538.9798, 430.3456,555.2851, 437.1618,469.9510, 463.1663
     ,467.1635, 481.4420,463.7335, 497.6955,462.7178, 512.2981,457.1485, 517.1893
     ,463.1955, 520.5906,471.6886, 523.0667,481.0293, 519.6307,490.0417, 517.4700
     ,424.2768, 456.2296,430.2598, 454.2725,443.0406, 454.1424,453.7762, 460.3027
     ,444.2695, 464.1958,432.0613, 462.3836,500.0994, 460.7276,509.4409, 454.4265
     ,522.3593, 454.4200,533.8961, 458.1848,523.4858, 463.4596,510.1040, 463.4349
     ,449.4060, 540.2746,455.7621, 538.8647,466.0391, 537.3054,473.6328, 538.7725
     ,481.5987, 536.6135,499.9741, 539.3508,519.6489, 540.1239,502.1675, 551.6911
     ,489.2524, 558.1262,477.1290, 559.9261,468.0405, 558.0054,459.0399, 552.5419
     ,452.4195, 540.7493,466.4255, 543.1389,475.9270, 544.2767,486.6837, 544.2846
     ,515.5038, 539.8303,487.6200, 546.7039,476.9109, 547.6079,467.8248, 546.2132
      } },
  { "sample2", 0.851381, { 1403.47376, 173.39701, 276.61996, 263.76699 },
    { 0.0231183, 0.0050160, 0.9718623, 0.0000002, 0.0000000, 0.0000029, 0.0000002 },
    {1455.7273, 279.8024,1465.6792, 301.8783,1478.9606, 320.6463,1492.8354, 335.5340
     ,1509.5818, 351.4059,1528.6518, 363.6848,1542.3611, 375.2821,1557.4463, 387.4777
     ,1582.0564, 389.4516,1604.4176, 373.7187,1624.6382, 351.8215,1641.6990, 329.9536
     ,1651.4493, 303.8684,1654.5492, 279.2783,1652.3020, 256.3306,1646.7312, 231.9306
     ,1639.1243, 205.7015,1446.7772, 260.8531,1451.1830, 253.3329,1462.0310, 252.3176
     ,1475.3161, 251.8220,1487.5341, 254.9965,1527.0254, 240.2860,1539.1623, 229.9522
     ,1553.9027, 220.4044,1573.3155, 215.4639,1591.8213, 215.7297,1515.9990, 274.6693
     ,1519.3651, 292.9736,1521.6022, 310.6128,1525.1644, 325.2666,1523.1247, 328.5476
     ,1529.0398, 330.4093,1537.5076, 330.8492,1545.8739, 324.7096,1554.2137, 319.4984
     ,1470.4919, 278.5838,1474.8382, 275.9013,1487.1051, 272.9202,1500.1228, 275.7307
     ,1491.3587, 282.3782,1479.1818, 283.7311,1546.1672, 261.2895,1553.6154, 252.1287
     ,1566.7439, 248.4333,1579.8130, 247.1649,1570.8036, 257.2413,1557.4906, 261.4875
     ,1525.1229, 350.7074,1528.8978, 348.9064,1536.7681, 344.5610,1544.1185, 343.9637
     ,1551.9760, 339.6741,1569.6464, 337.9820,1589.4162, 332.1007,1576.8727, 349.1421
     ,1565.2848, 358.3916,1554.1665, 363.8946,1545.4585, 365.3610,1535.6154, 361.6898
     ,1528.5419, 350.9408,1539.5453, 350.3387,1548.2480, 348.7337,1558.3311, 346.0731
     ,1585.2569, 333.2225,1560.1763, 347.9650,1550.4557, 352.7436,1542.2810, 353.3939
      } },
};

static void
test_pipeline (void)
{
  static const char *const images[] = { "sample1", "sample2" };

  if (!have_package ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.jpg", images[i]);
      g_autofree char *path = g_build_filename (pkg_dir, "demo", name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (PalImage) img = pal_image_load (path, &error);
      g_autofree PalFaceBox *boxes = NULL;
      int n = -1, want_n = 0, f = 0;

      g_assert_no_error (error);
      boxes = pal_faceapi_detect (get_faceapi (), img, 0, PAL_FACEAPI_SCORE_THRESHOLD, &n, &error);
      g_assert_no_error (error);
      for (guint k = 0; k < G_N_ELEMENTS (faces); k++)
        want_n += strcmp (faces[k].image, images[i]) == 0;
      g_assert_cmpint (n, ==, want_n);
      for (guint k = 0; k < G_N_ELEMENTS (faces); k++)
        {
          const Face *e = &faces[k];
          const PalFaceBox *b;
          PalLandmarks lm;
          float probs[7];
          double want[7], dbox = 0, dlm = 0, dp = 0;

          if (strcmp (e->image, images[i]) != 0)
            continue;
          b = &boxes[f++];
          dbox = MAX (MAX (fabs (b->x - e->box[0]), fabs (b->y - e->box[1])),
                      MAX (fabs (b->w - e->box[2]), fabs (b->h - e->box[3])));
          g_assert_true (pal_faceapi_landmarks (get_faceapi (), img, b, &lm, &error));
          g_assert_no_error (error);
          for (int p = 0; p < 68; p++)
            dlm = MAX (dlm, MAX (fabs (lm.x[p] + 0.5 - e->lm[2 * p]),
                                 fabs (lm.y[p] + 0.5 - e->lm[2 * p + 1])));
          g_assert_true (pal_faceapi_expression (get_faceapi (), img, &lm, NULL, probs, &error));
          g_assert_no_error (error);
          to_canonical (e->probs, want);
          for (int c = 0; c < 7; c++)
            dp = MAX (dp, fabs (probs[c] - want[c]));
          g_test_message ("%s face %d: score %.6f (%.6f), max |d| box %.2e px, landmarks "
                          "%.2e px, probabilities %.2e", images[i], f - 1, b->score, e->score,
                          dbox, dlm, dp);
          g_assert_cmpfloat (fabs (b->score - e->score), <=, 1e-5);
          g_assert_cmpfloat (dbox, <=, 0.01);
          g_assert_cmpfloat (dlm, <=, 0.01);
          g_assert_cmpfloat (dp, <=, 1e-4);
        }
    }
}

/* No face in a plain picture, a tiny one, a gray one: no error. */
static void
test_no_face (void)
{
  g_autoptr (PalImage) flat = pal_image_new (640, 480, 3);
  g_autoptr (PalImage) tiny = pal_image_new (3, 1, 1);
  g_autoptr (GError) error = NULL;
  g_autofree PalFaceBox *b1 = NULL, *b2 = NULL;
  PalFaceBox out = { -500, -500, 10, 10, 1 };
  PalLandmarks lm;
  float probs[7];
  int n = -1;

  if (!have_package ())
    return;
  memset (flat->data, 128, (gsize) 640 * 480 * 3);
  memset (tiny->data, 200, 3);
  b1 = pal_faceapi_detect (get_faceapi (), flat, 0, 0.5f, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  b2 = pal_faceapi_detect (get_faceapi (), tiny, 0, 0.5f, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_null (pal_faceapi_detect (get_faceapi (), flat, 100, 0.5f, &n, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_faceapi_landmarks (get_faceapi (), flat, &out, &lm, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_faceapi_expression (get_faceapi (), flat, NULL, &out, probs, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  out = (PalFaceBox) { NAN, 0, 10, 10, 1 };
  g_assert_false (pal_faceapi_landmarks (get_faceapi (), flat, &out, &lm, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  {
    g_autoptr (PalImage) strip = pal_image_new (4000, 1, 3);
    g_autofree PalFaceBox *b3 = NULL;

    memset (strip->data, 90, (gsize) 4000 * 3);
    b3 = pal_faceapi_detect (get_faceapi (), strip, 0, 0.f, &n, &error);
    g_assert_no_error (error);
    for (int i = 0; i < n; i++)
      g_assert_true (isfinite (b3[i].x) && isfinite (b3[i].h));
  }
}

/* The expression net as a model: classes, normalisation, saved and loaded
 * back as a normal model file, attribution at its last spatial layer. */
static void
test_expression_model (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *crop = g_test_build_filename (G_TEST_DIST, "data", "faceapi", "crop8.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) back = NULL;
  g_autoptr (PalImage) img = NULL;
  g_autoptr (PalAttrMaps) maps = NULL;
  g_autofree float *x = g_new (float, 3 * 112 * 112);
  PalModel *m;
  PalWorkspace *ws;
  float mean[3], std[3], probs[7];
  const float *logits;
  int rect[4] = { 0, 0, 112, 112 };

  if (!have_package ())
    return;
  m = pal_faceapi_expression_model (get_faceapi ());
  g_assert_cmpint (pal_model_get_n_classes (m), ==, 7);
  for (int k = 0; k < 7; k++)
    g_assert_cmpstr (pal_model_get_class_name (m, k), ==, pal_expression_classes[k]);
  pal_model_get_normalisation (m, mean, std);
  g_assert_cmpfloat_with_epsilon (mean[0], 122.782 / 255, 1e-7);
  g_assert_cmpfloat_with_epsilon (mean[2], 104.298 / 255, 1e-7);
  g_assert_cmpfloat (std[1], ==, 1.f);
  g_assert_cmpint (pal_graph_find (pal_model_get_graph (m), "dense3"), >, 0);

  dir = scratch_dir_new ("pal-faceapi-XXXXXX");
  path = g_build_filename (dir, "face-api-expression.safetensors", NULL);
  g_assert_true (pal_model_save (m, path, &error));
  g_assert_no_error (error);
  back = pal_model_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_model_get_meta (back, "input.mean"), ==, pal_model_get_meta (m, "input.mean"));
  g_assert_cmpstr (pal_model_get_class_name (back, 3), ==, "surprise");

  /* the loaded model gives what the loader's pipeline gives */
  img = pal_image_load (crop, &error);
  g_assert_no_error (error);
  g_assert_true (pal_faceapi_expression_crop (get_faceapi (), img, probs, &error));
  pal_faceapi_crop_tensor (img, rect, 112, TRUE, (const float[]) { 122.782f, 117.001f, 104.298f }, x);
  ws = pal_workspace_new (back, 1, &error);
  g_assert_no_error (error);
  logits = pal_workspace_forward (ws, x, 1, FALSE);
  {
    double mx = logits[0], sum = 0;
    for (int k = 1; k < 7; k++)
      mx = MAX (mx, logits[k]);
    for (int k = 0; k < 7; k++)
      sum += exp (logits[k] - mx);
    for (int k = 0; k < 7; k++)
      g_assert_cmpfloat_with_epsilon (exp (logits[k] - mx) / sum, probs[k], 1e-6);
  }
  /* surprise (face-api's 0.3643) is the second class here */
  g_assert_cmpfloat_with_epsilon (probs[3], 0.3643, 1e-4);

  maps = pal_workspace_attribute (ws, x, 1, pal_graph_find (pal_model_get_graph (back), "dense3"),
                                  3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (maps->h, ==, 7);
  g_assert_cmpint (maps->c, ==, 256);
  g_assert_true (maps->flat);
  pal_workspace_free (ws);
  scratch_free (g_steal_pointer (&dir));
}

/* Not a check: detector + landmarks + expression on a 1920 x 1280 photo
 * (run with -m perf). */
static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
time_chain (const PalImage *img, int threads)
{
  double t[7], td[7];
  int runs = g_test_perf () ? 7 : 1, n = 0;
  g_autoptr (GError) error = NULL;

  pal_set_threads (threads);
  for (int r = 0; r < runs; r++)
    {
      gint64 t0 = g_get_monotonic_time (), t1;
      g_autofree PalFaceBox *b = pal_faceapi_detect (fa, img, 0, 0.5f, &n, &error);

      g_assert_no_error (error);
      t1 = g_get_monotonic_time ();
      for (int i = 0; i < n; i++)
        {
          PalLandmarks lm;
          float probs[7];
          g_assert_true (pal_faceapi_landmarks (fa, img, &b[i], &lm, NULL));
          g_assert_true (pal_faceapi_expression (fa, img, &lm, NULL, probs, NULL));
        }
      t[r] = (g_get_monotonic_time () - t0) / 1000.0;
      td[r] = (t1 - t0) / 1000.0;
    }
  qsort (t, runs, sizeof (double), cmp_double);
  qsort (td, runs, sizeof (double), cmp_double);
  g_test_message ("sample1.jpg 1920x1280, %d faces: detect + landmarks + expression "
                  "median %.1f ms (detector alone %.1f ms) over %d runs, %d threads",
                  n, t[runs / 2], td[runs / 2], runs, pal_get_threads ());
  if (g_test_perf ())
    g_printerr ("# faceapi speed, %d thread(s): %.1f ms (detector %.1f ms), %d faces\n",
                threads, t[runs / 2], td[runs / 2], n);
  pal_set_threads (1);
}

static void
test_speed (void)
{
  g_autofree char *path = NULL;
  g_autoptr (PalImage) img = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_package ())
    return;
  path = g_build_filename (pkg_dir, "demo", "sample1.jpg", NULL);
  img = pal_image_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (img->width, ==, 1920);
  g_assert_cmpint (img->height, ==, 1280);
  get_faceapi ();
  time_chain (img, 1);
  time_chain (img, 2);
}

int
main (int argc, char **argv)
{
  g_autofree char *top = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* start the worker before any parallel call (see test-ops.c) */
  pal_set_threads (2);
  pal_set_threads (1);
  top = g_test_build_filename (G_TEST_DIST, "..", NULL);
  pkg_dir = g_build_filename (top, "data", "face-api", "node_modules", "@vladmandic", "face-api",
                              NULL);
  model_dir = g_build_filename (pkg_dir, "model", NULL);

  g_test_add_func ("/faceapi/tfjs/manifests", test_manifests);
  g_test_add_func ("/faceapi/tfjs/dequantisation", test_dequantisation);
  g_test_add_func ("/faceapi/tfjs/broken", test_broken);
  g_test_add_func ("/faceapi/tfjs/bytes", test_bytes);
  g_test_add_func ("/faceapi/expression/oracle-crops", test_expression_crops);
  g_test_add_func ("/faceapi/expression/model", test_expression_model);
  g_test_add_func ("/faceapi/pipeline", test_pipeline);
  g_test_add_func ("/faceapi/no-face", test_no_face);
  g_test_add_func ("/faceapi/speed", test_speed);
  ret = g_test_run ();
  pal_faceapi_free (fa);
  g_free (pkg_dir);
  g_free (model_dir);
  return ret;
}
