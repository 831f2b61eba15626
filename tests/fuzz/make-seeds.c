/* make-seeds.c: writes the seed corpora of the fuzz targets
 *
 *     make-seeds DIR        (DIR is tests/fuzz/corpus)
 *
 * Small valid files of each kind, made by the core's own writers where
 * there is one (pal_image_save_*, pal_landmarks_save_pts, pal_model_save,
 * PalStWriter, pal_train_config_save), plus a few variants that exercise
 * other branches of a parser (a PNG palette, 16 bits, interlacing; a
 * progressive and a CMYK JPEG; broken rows in the label files).  The tfjs
 * weights and the dlib shape predictor are written here in their formats
 * (the core only reads them).
 */
#include "pal-arch.h"
#include "pal-dlib.h"
#include "pal-error.h"
#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"
#include "pal-model-io.h"
#include "pal-safetensors.h"
#include "pal-tfjs.h"
#include "pal-trainer.h"
#include "../dlib-writer.h"

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *top;

static char *
seed_path (const char *target, const char *name)
{
  g_autofree char *dir = g_build_filename (top, target, NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    g_error ("%s: cannot create", dir);
  return g_build_filename (dir, name, NULL);
}

static void
write_seed (const char *target, const char *name, const char *data, gssize len)
{
  g_autofree char *path = seed_path (target, name);
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, data, len, &error))
    g_error ("%s", error->message);
}

static void
check (gboolean ok, GError *error)
{
  if (!ok)
    g_error ("%s", error ? error->message : "failed");
}

/* --- images --------------------------------------------------------------- */

static PalImage *
pattern (int w, int h, int channels)
{
  PalImage *im = pal_image_new (w, h, channels);

  for (int i = 0; i < w * h * channels; i++)
    im->data[i] = (guint8) (i * 37 + (i / channels) * 11);
  return im;
}

/* A PNG straight from libpng: @color_type, @bit_depth, @interlace. */
static void
png_variant (const char *name, int w, int h, int color_type, int bit_depth, int interlace)
{
  g_autofree char *path = seed_path ("fuzz-image", name);
  FILE *f = fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  png_color palette[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 } };
  png_byte trans[2] = { 0, 128 };

  if (f == NULL || setjmp (png_jmpbuf (png)))
    g_error ("%s: cannot write", path);
  png_init_io (png, f);
  png_set_IHDR (png, info, w, h, bit_depth, color_type, interlace,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    {
      png_set_PLTE (png, info, palette, 4);
      png_set_tRNS (png, info, trans, 2, NULL);
    }
  png_write_info (png, info);
  png_set_packing (png);
  int passes = png_set_interlace_handling (png);
  gsize rowbytes = png_get_rowbytes (png, info);
  g_autofree guint8 *row = g_malloc0 (rowbytes * 8 + 64);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < h; y++)
      {
        for (gsize i = 0; i < rowbytes * 8; i++)
          row[i] = color_type == PNG_COLOR_TYPE_PALETTE ? (guint8) ((i + y) % 4)
                                                        : (guint8) (i * 29 + y * 7);
        png_write_row (png, row);
      }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (f);
}

/* A JPEG straight from libjpeg: progressive, or CMYK. */
static void
jpeg_variant (const char *name, int w, int h, gboolean progressive, gboolean cmyk)
{
  g_autofree char *path = seed_path ("fuzz-image", name);
  FILE *f = fopen (path, "wb");
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  int comps = cmyk ? 4 : 3;
  g_autofree guint8 *row = g_malloc (w * comps);

  if (f == NULL)
    g_error ("%s: cannot write", path);
  c.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&c);
  jpeg_stdio_dest (&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = comps;
  c.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults (&c);
  jpeg_set_quality (&c, 75, TRUE);
  if (progressive)
    jpeg_simple_progression (&c);
  jpeg_start_compress (&c, TRUE);
  while (c.next_scanline < c.image_height)
    {
      JSAMPROW r = row;
      for (int i = 0; i < w * comps; i++)
        row[i] = (guint8) (i * 13 + c.next_scanline * 5);
      jpeg_write_scanlines (&c, &r, 1);
    }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);
  fclose (f);
}

static void
image_seeds (void)
{
  g_autoptr (PalImage) rgb = pattern (7, 5, 3);
  g_autoptr (PalImage) gray = pattern (9, 4, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *p1 = seed_path ("fuzz-image", "rgb.png");
  g_autofree char *p2 = seed_path ("fuzz-image", "gray.png");
  g_autofree char *p3 = seed_path ("fuzz-image", "rgb.jpg");
  g_autofree char *p4 = seed_path ("fuzz-image", "gray.jpg");

  check (pal_image_save_png (rgb, p1, &error), error);
  check (pal_image_save_png (gray, p2, &error), error);
  check (pal_image_save_jpeg (rgb, p3, 90, &error), error);
  check (pal_image_save_jpeg (gray, p4, 90, &error), error);
  png_variant ("palette.png", 6, 3, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE);
  png_variant ("gray16-alpha.png", 3, 3, PNG_COLOR_TYPE_GRAY_ALPHA, 16, PNG_INTERLACE_NONE);
  png_variant ("gray1.png", 10, 2, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE);
  png_variant ("rgba-interlaced.png", 9, 9, PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_ADAM7);
  jpeg_variant ("progressive.jpg", 16, 12, TRUE, FALSE);
  jpeg_variant ("cmyk.jpg", 8, 8, FALSE, TRUE);
}

/* --- landmarks ------------------------------------------------------------ */

static void
face (PalLandmarks *lm)
{
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm->x[i] = 20.0f + (float) (i % 17) * 3.5f;
      lm->y[i] = 30.0f + (float) (i / 17) * 9.25f;
    }
}

static void
landmark_seeds (void)
{
  PalLandmarks lm;
  g_autoptr (GError) error = NULL;
  g_autofree char *pts = seed_path ("fuzz-landmarks", "face.pts");
  GString *plain = g_string_new (NULL), *field = g_string_new (NULL);

  face (&lm);
  check (pal_landmarks_save_pts (&lm, pts, &error), error);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      g_string_append_printf (plain, "%g %g\r\n", lm.x[i], lm.y[i]);
      g_string_append_printf (field, "%s%g;%g", i ? ";" : "", lm.x[i], lm.y[i]);
    }
  write_seed ("fuzz-landmarks", "plain.txt", plain->str, -1);
  write_seed ("fuzz-affectnet-landmarks", "field.txt", field->str, -1);
  write_seed ("fuzz-affectnet-landmarks", "short.txt", "1.5;2;3e1;-4", -1);
  g_string_free (plain, TRUE);
  g_string_free (field, TRUE);
}

/* --- label files ---------------------------------------------------------- */

static void
dataset_seeds (void)
{
  GString *s = g_string_new (NULL);

  write_seed ("fuzz-rafdb", "list_patition_label.txt",
              "train_00001.jpg 5\ntrain_00002.jpg 4\r\ntest_0001.jpg 1\n"
              "\ntest_0002.jpg 7\ntrain_00003.jpg 9\nval_1.jpg 2\nbroken\n", -1);

  g_string_assign (s, "subDirectory_filePath,face_x,face_y,face_width,face_height,"
                      "facial_landmarks,expression,valence,arousal\n");
  g_string_append (s, "1/a.jpg,10,12,80,80,\"");
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    g_string_append_printf (s, "%s%d.5;%d", i ? ";" : "", 20 + i, 30 + i / 2);
  g_string_append (s, "\",1,0.5,-0.2\n");
  g_string_append (s, "2/b.png,0,0,50,60,,7,0,0\n"
                      "3/c.jpg,1,2,0,4,,2,0,0\n"
                      "4/d.jpg,1,2,3,4,,10,-2,-2\n"
                      "5/e.jpg,x,2,3,4,,3,0,0\n");
  write_seed ("fuzz-affectnet", "training.csv", s->str, -1);

  /* one FER2013 row of 48 x 48 pixels, a short one, a bad Usage */
  GString *pixels = g_string_new (NULL);
  for (int i = 0; i < 48 * 48; i++)
    g_string_append_printf (pixels, "%s%d", i ? " " : "", (i * 7) % 10);
  g_string_printf (s, "emotion,pixels,Usage\n3,%s,Training\n"
                      "2,1 2 3,PublicTest\n6,%s,Elsewhere\n", pixels->str, "0 0");
  write_seed ("fuzz-fer2013", "fer2013.csv", s->str, -1);

  /* fer2013new.csv, a NUL byte, fer2013.csv (fuzz-ferplus.c) */
  g_string_assign (s, "Usage,Image name,neutral,happiness,surprise,sadness,anger,"
                      "disgust,fear,contempt,unknown,NF\n"
                      "Training,fer0000000.png,0,8,1,0,0,0,0,1,0,0\n");
  g_string_append_c (s, '\0');
  g_string_append_printf (s, "emotion,pixels,Usage\n0,%s,Training\n", pixels->str);
  write_seed ("fuzz-ferplus", "ferplus.csv", s->str, s->len);
  g_string_free (pixels, TRUE);
  g_string_free (s, TRUE);
}

/* --- models ---------------------------------------------------------------- */

static const char small_arch[] =
  "# a small net with every kind of node\n"
  "input  data  shape=3x8x8\n"
  "conv   conv1 out=4 k=3 pad=1 act=relu\n"
  "batchnorm bn1 act=leaky:0.1\n"
  "maxpool pool1 k=2\n"
  "conv   conv2 out=4 k=3 pad=1\n"
  "conv   down  in=pool1 out=4 k=1 stride=1 bias=0\n"
  "add    block in=conv2,down act=relu\n"
  "avgpool pool2 k=2 count_pad=0\n"
  "dropout drop p=0.5\n"
  "flatten flat\n"
  "linear fc out=7\n";

static void
model_seeds (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = pal_model_new (small_arch, &error);
  g_autofree char *path = seed_path ("fuzz-model", "small.safetensors");

  check (model != NULL, error);
  pal_model_set_meta (model, "note", "seed");
  check (pal_model_save (model, path, &error), error);

  /* a plain safetensors file: other dtypes, a scalar, an empty tensor */
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  static const float f[6] = { 1, -2, 3.5f, 0, 1e-3f, 7 };
  static const gint64 l[3] = { 0, 6, -1 };
  static const guint8 u[4] = { 1, 2, 3, 255 };
  static const gint32 i32[2] = { 5, 6 };
  gint64 s23[2] = { 2, 3 }, s3[1] = { 3 }, s4[1] = { 4 }, s2[1] = { 2 }, s0[2] = { 0, 5 };
  g_autofree char *st = seed_path ("fuzz-safetensors", "tensors.safetensors");

  pal_st_writer_set_metadata (w, "format", "pt");
  pal_st_writer_add (w, "weight", "F32", 2, s23, f);
  pal_st_writer_add (w, "labels", "I64", 1, s3, l);
  pal_st_writer_add (w, "bytes", "U8", 1, s4, u);
  pal_st_writer_add (w, "ints", "I32", 1, s2, i32);
  pal_st_writer_add (w, "scalar", "F32", 0, NULL, f);
  pal_st_writer_add (w, "empty", "F32", 2, s0, f);
  check (pal_st_writer_save (w, st, &error), error);

  g_autofree char *contents = NULL;
  gsize len;
  check (g_file_get_contents (path, &contents, &len, &error), error);
  write_seed ("fuzz-safetensors", "small-model.safetensors", contents, len);

  write_seed ("fuzz-arch", "small.txt", small_arch, -1);
  write_seed ("fuzz-arch", "header-example.txt",
              "input  data     shape=3x16x16\n"
              "conv   conv1    out=8 k=3 pad=1 act=relu\n"
              "maxpool pool1   k=2\n"
              "conv   conv2    out=8 k=3 pad=1\n"
              "conv   down     in=pool1 out=8 k=1 stride=2 bias=0\n"
              "conv   conv3    in=conv2 out=8 k=3x1 stride=2x1 pad=1,0,1,0 groups=2\n"
              "add    block    in=conv3,down act=relu\n"
              "gap    gap\n"
              "relu   r        act=leaky:0.2\n"
              "flatten flat\n"
              "linear fc       out=3 bias=0\n", -1);
  g_autofree char *vgg = pal_arch_builtin_text ("bench-vgg", 0, 0, &error);
  check (vgg != NULL, error);
  write_seed ("fuzz-arch", "bench-vgg.txt", vgg, -1);
}

/* --- training settings ----------------------------------------------------- */

static void
config_seeds (void)
{
  PalTrainConfig cfg;
  g_autoptr (GError) error = NULL;
  g_autofree char *dflt = seed_path ("fuzz-train-config", "defaults.ini");
  g_autofree char *set = seed_path ("fuzz-train-config", "settings.ini");

  pal_train_config_init (&cfg);
  check (pal_train_config_save (&cfg, dflt, &error), error);
  check (pal_train_config_set (&cfg, "dataset", "/data/raf-db", &error), error);
  check (pal_train_config_set (&cfg, "format", "rafdb", &error), error);
  check (pal_train_config_set (&cfg, "lr", "1e-4", &error), error);
  check (pal_train_config_set (&cfg, "flip", "no", &error), error);
  check (pal_train_config_set (&cfg, "seed", "42", &error), error);
  check (pal_train_config_set (&cfg, "attribution", "grad", &error), error);
  check (pal_train_config_save (&cfg, set, &error), error);
  pal_train_config_clear (&cfg);
}

/* --- tfjs weights ----------------------------------------------------------- */

/* fuzz-tfjs's input: each piece after its length, 4 bytes little-endian. */
static void
put_piece (GByteArray *b, const void *data, gsize len)
{
  guint8 n[4] = { len & 0xFF, (len >> 8) & 0xFF, (len >> 16) & 0xFF, (len >> 24) & 0xFF };

  g_byte_array_append (b, n, 4);
  g_byte_array_append (b, data, (guint) len);
}

static GBytes *
next_shard (const char *name, gsize max_bytes, gpointer user_data, GError **error)
{
  GPtrArray *shards = user_data;

  if (shards->len == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: no such shard", name);
      return NULL;
    }
  return g_ptr_array_steal_index (shards, 0);
}

/* @manifest and its shards (NULL-terminated: data, length, ...), checked
 * with the reader before they are written. */
static void
tfjs_seed (const char *name, const char *manifest, ...)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GPtrArray) shards = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) mb = g_bytes_new_static (manifest, strlen (manifest));
  g_autoptr (GError) error = NULL;
  g_autoptr (PalTfjsWeights) w = NULL;
  const void *data;
  va_list ap;

  put_piece (b, manifest, strlen (manifest));
  va_start (ap, manifest);
  while ((data = va_arg (ap, const void *)) != NULL)
    {
      gsize len = va_arg (ap, gsize);
      put_piece (b, data, len);
      g_ptr_array_add (shards, g_bytes_new_static (data, len));
    }
  va_end (ap);
  w = pal_tfjs_load_bytes ("seed-weights_manifest.json", mb, next_shard, shards, &error);
  check (w != NULL, error);
  write_seed ("fuzz-tfjs", name, (const char *) b->data, b->len);
}

static void
tfjs_seeds (void)
{
  float f[6] = { 0.5f, -1.25f, 3.0f, 0.0f, 1e-3f, -7.5f };
  guint8 f_le[24];
  static const guint8 q8[4] = { 0, 1, 128, 255 };
  static const guint8 q16[4] = { 0x00, 0x00, 0xFF, 0xFF };
  static const guint8 h16[6] = { 0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C };   /* 1, -2, inf */

  for (int i = 0; i < 6; i++)
    {
      guint32 u;
      memcpy (&u, &f[i], 4);
      for (int k = 0; k < 4; k++)
        f_le[4 * i + k] = (guint8) (u >> (8 * k));
    }
  /* float32 [2, 3] in the first shard, uint8-quantised [4] in the second */
  tfjs_seed ("two-shards.bin",
             "[{\"paths\": [\"m-shard1of2.bin\", \"m-shard2of2.bin\"], \"weights\": ["
             "{\"name\": \"conv0/filters\", \"shape\": [2, 3], \"dtype\": \"float32\"},"
             "{\"name\": \"conv0/bias\", \"shape\": [4], \"dtype\": \"float32\","
             " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.0039, \"min\": -0.5}}"
             "]}]",
             f_le, (gsize) 24, q8, (gsize) 4, NULL);
  /* two groups: uint16 and float16 quantisation, a scalar */
  tfjs_seed ("two-groups.bin",
             "[{\"paths\": [\"a.bin\"], \"weights\": ["
             "{\"name\": \"fc/weights\", \"shape\": [1, 2], \"dtype\": \"float32\","
             " \"quantization\": {\"dtype\": \"uint16\", \"scale\": 1e-4, \"min\": 0}}]},"
             "{\"paths\": [\"b.bin\", \"c.bin\"], \"weights\": ["
             "{\"name\": \"fc/bias\", \"shape\": [3], \"dtype\": \"float32\","
             " \"quantization\": {\"dtype\": \"float16\"}},"
             "{\"name\": \"scale\", \"shape\": [], \"dtype\": \"float32\"}]}]",
             q16, (gsize) 4, h16, (gsize) 6, f_le, (gsize) 4, NULL);
}

/* --- dlib shape predictor --------------------------------------------------- */

static void
dlib_seeds (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) small = dlib_model (1, 3, 2, 3, 3, 4);
  g_autoptr (GByteArray) deep = dlib_model (1, 2, 1, 2, 7, 5);
  g_autofree char *path = seed_path ("fuzz-dlib", "small.dat");
  g_autofree char *tmp = g_dir_make_tmp ("make-seeds-XXXXXX", &error);
  g_autofree char *cache_path = NULL;
  g_autofree char *cache = NULL;
  g_autoptr (PalDlibModel) m = NULL;
  PalDlibCacheResult result;
  gsize len;

  check (tmp != NULL, error);
  write_seed ("fuzz-dlib", "small.dat", (const char *) small->data, small->len);
  write_seed ("fuzz-dlib", "deep.dat", (const char *) deep->data, deep->len);
  /* the small model's cache file, as pal_dlib_model_load_cached() writes it */
  m = pal_dlib_model_load_cached (path, tmp, &result, &error);
  check (m != NULL, error);
  check (result == PAL_DLIB_CACHE_BUILT, NULL);
  cache_path = pal_dlib_cache_path (path, tmp);
  check (g_file_get_contents (cache_path, &cache, &len, &error), error);
  write_seed ("fuzz-dlib", "small.cache", cache, (gssize) len);
  g_unlink (cache_path);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR (tests/fuzz/corpus)\n", argv[0]);
      return 2;
    }
  top = argv[1];
  image_seeds ();
  landmark_seeds ();
  dataset_seeds ();
  model_seeds ();
  config_seeds ();
  tfjs_seeds ();
  dlib_seeds ();
  return 0;
}
