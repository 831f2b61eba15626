/* test-image.c - tests for image loading, saving, resampling and tensors */
#include "pal-image.h"
#include "pal-error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>      /* before jpeglib.h */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>

#ifdef G_OS_UNIX
#include <signal.h>
#include <sys/stat.h>
#include <sys/resource.h>

#include "test-util.h"
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static char *program_dir;

static char *
scratch_new (void)
{
  return scratch_dir_new ("pal-image-test-XXXXXX");
}

/* A committed sample of tests/data/images: through G_TEST_SRCDIR (meson
 * test), else from the source tree root or beside the build tree. */
static char *
sample_path (const char *name)
{
  char *candidates[] = {
    g_test_build_filename (G_TEST_DIST, "data", "images", name, NULL),
    g_build_filename ("tests", "data", "images", name, NULL),
    g_build_filename (program_dir, "..", "..", "tests", "data", "images", name, NULL),
  };
  char *found = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      if (found == NULL && g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
        found = g_strdup (candidates[i]);
      g_free (candidates[i]);
    }
  if (found == NULL)
    g_error ("sample %s not found; run from the source root or set G_TEST_SRCDIR",
             name);
  return found;
}

static GBytes *
read_bytes (const char *path)
{
  GError *error = NULL;
  char *data;
  gsize len;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static void
write_bytes (const char *path, const void *data, gsize len)
{
  GError *error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* A deterministic pseudo-random byte stream. */
static guint8
noise (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (guint8) (*state >> 24);
}

static PalImage *
noise_image (int w, int h, int ch, guint32 seed)
{
  PalImage *img = pal_image_new (w, h, ch);

  for (gsize i = 0; i < (gsize) w * h * ch; i++)
    img->data[i] = noise (&seed);
  return img;
}

/* Smooth content that JPEG keeps well. */
static PalImage *
smooth_image (int w, int h, int ch)
{
  PalImage *img = pal_image_new (w, h, ch);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        {
          double v = 128 + 90 * sin (0.11 * x + 0.7 * c) * cos (0.09 * y - 0.3 * c);
          img->data[((gsize) y * w + x) * ch + c] = (guint8) lround (v);
        }
  return img;
}

static double
mean_abs_error (const PalImage *a, const PalImage *b)
{
  gsize n = (gsize) a->width * a->height * a->channels;
  double sum = 0.0;

  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->channels, ==, b->channels);
  for (gsize i = 0; i < n; i++)
    sum += abs ((int) a->data[i] - (int) b->data[i]);
  return sum / n;
}

static void
assert_images_equal (const PalImage *a, const PalImage *b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->channels, ==, b->channels);
  g_assert_cmpmem (a->data, (gsize) a->width * a->height * a->channels,
                   b->data, (gsize) b->width * b->height * b->channels);
}

static inline const guint8 *
pixel (const PalImage *img, int x, int y)
{
  return img->data + ((gsize) y * img->width + x) * img->channels;
}

/* Loading @path fails with @code, naming the file; @needle in the message
 * if not NULL. */
static void
assert_load_fails (const char *path, int code, const char *needle)
{
  GError *error = NULL;
  PalImage *img = pal_image_load (path, &error);

  g_assert_null (img);
  g_assert_error (error, PAL_ERROR, code);
  assert_contains (error->message, path);
  if (needle != NULL)
    assert_contains (error->message, needle);
  g_error_free (error);
}

/* The same from memory. */
static void
assert_load_data_fails (const guint8 *data, gsize len, const char *name,
                        int code, const char *needle)
{
  GError *error = NULL;
  PalImage *img = pal_image_load_from_data (data, len, name, &error);

  if (img != NULL)
    g_error ("%s (%" G_GSIZE_FORMAT " bytes) loaded", name, len);
  g_assert_error (error, PAL_ERROR, code);
  assert_contains (error->message, name);
  if (needle != NULL)
    assert_contains (error->message, needle);
  g_error_free (error);
}

/* Encodes @pixels with libjpeg directly (not through pal-image), so that
 * the decoder meets files it did not write: any input colour space, any
 * JPEG colour space, all components sampled 1x1 (exact flat blocks),
 * progressive or not, with or without an Adobe marker. */
static GBytes *
encode_jpeg (const guint8 *pixels, int w, int h, int comps, J_COLOR_SPACE in_cs,
             J_COLOR_SPACE jpeg_cs, gboolean adobe, gboolean progressive,
             int quality)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  unsigned char *buf = NULL;
  unsigned long size = 0;

  c.err = jpeg_std_error (&e);
  jpeg_create_compress (&c);
  jpeg_mem_dest (&c, &buf, &size);
  c.image_width = (JDIMENSION) w;
  c.image_height = (JDIMENSION) h;
  c.input_components = comps;
  c.in_color_space = in_cs;
  jpeg_set_defaults (&c);
  jpeg_set_colorspace (&c, jpeg_cs);
  jpeg_set_quality (&c, quality, TRUE);
  for (int i = 0; i < c.num_components; i++)
    c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  c.write_Adobe_marker = adobe;
  if (progressive)
    jpeg_simple_progression (&c);
  jpeg_start_compress (&c, TRUE);
  while (c.next_scanline < c.image_height)
    {
      JSAMPROW row = (JSAMPROW) (pixels + (gsize) c.next_scanline * w * comps);
      jpeg_write_scanlines (&c, &row, 1);
    }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);

  GBytes *bytes = g_bytes_new (buf, size);
  free (buf);
  return bytes;
}

/* A 16x16 image of four flat 8x8 blocks of @comps samples each. */
static guint8 *
four_blocks (const guint8 colours[4][4], int comps)
{
  guint8 *p = g_malloc (16 * 16 * comps);

  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      memcpy (p + (y * 16 + x) * comps, colours[(y / 8) * 2 + x / 8], comps);
  return p;
}

/* Offset of the first SOFn marker segment of a JPEG; -1 if none. */
static gssize
find_sof (const guint8 *d, gsize len)
{
  gsize i = 2;

  while (i + 4 <= len && d[i] == 0xFF)
    {
      guint8 m = d[i + 1];
      if (m >= 0xC0 && m <= 0xC2)
        return (gssize) i;
      i += 2 + ((gsize) d[i + 2] << 8 | d[i + 3]);
    }
  return -1;
}

static guint32
crc32_png (const guint8 *p, gsize len)
{
  guint32 crc = 0xFFFFFFFFu;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= p[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  return crc ^ 0xFFFFFFFFu;
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

/* Offset of the first chunk of @type in a PNG (at its length field). */
static gsize
find_chunk (const guint8 *d, gsize len, const char *type)
{
  for (gsize i = 8; i + 8 <= len;)
    {
      gsize n = (gsize) d[i] << 24 | d[i + 1] << 16 | d[i + 2] << 8 | d[i + 3];
      if (memcmp (d + i + 4, type, 4) == 0)
        return i;
      i += 12 + n;
    }
  g_assert_not_reached ();
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

static void
test_png_roundtrip (void)
{
  char *dir = scratch_new ();
  const struct { int w, h, ch; } sizes[] = {
    { 7, 5, 1 }, { 7, 5, 3 }, { 1, 1, 1 }, { 1, 1, 3 }, { 13, 1, 3 }, { 1, 9, 1 },
    { 64, 33, 3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/img%" G_GSIZE_FORMAT ".png", dir, i);
      g_autoptr(PalImage) img = noise_image (sizes[i].w, sizes[i].h, sizes[i].ch,
                                             (guint32) i);
      GError *error = NULL;

      g_assert_true (pal_image_save_png (img, path, &error));
      g_assert_no_error (error);
      g_autoptr(PalImage) back = pal_image_load (path, &error);
      g_assert_no_error (error);
      assert_images_equal (img, back);

      /* From memory, too. */
      g_autoptr(GBytes) bytes = read_bytes (path);
      g_autoptr(PalImage) back2 = pal_image_load_from_data (
        g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "mem.png", &error);
      g_assert_no_error (error);
      assert_images_equal (img, back2);
    }
  g_assert_cmpuint (count_entries (dir), ==, G_N_ELEMENTS (sizes));
  scratch_free (dir);
}

static void
test_jpeg_roundtrip (void)
{
  char *dir = scratch_new ();
  const struct { int w, h, ch; } sizes[] = {
    { 64, 48, 3 }, { 33, 17, 1 }, { 7, 5, 3 }, { 1, 1, 3 }, { 1, 1, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/img%" G_GSIZE_FORMAT ".jpg", dir, i);
      g_autoptr(PalImage) img = smooth_image (sizes[i].w, sizes[i].h, sizes[i].ch);
      GError *error = NULL;

      g_assert_true (pal_image_save_jpeg (img, path, 95, &error));
      g_assert_no_error (error);
      g_autoptr(PalImage) back = pal_image_load (path, &error);
      g_assert_no_error (error);
      double mae = mean_abs_error (img, back);
      g_test_message ("%dx%dx%d: mean abs error %.3f", sizes[i].w, sizes[i].h,
                      sizes[i].ch, mae);
      g_assert_cmpfloat (mae, <, 3.0);
    }

  /* Lower quality: smaller file, larger error, still the picture. */
  g_autoptr(PalImage) img = smooth_image (64, 48, 3);
  g_autofree char *hi = g_build_filename (dir, "hi.jpg", NULL);
  g_autofree char *lo = g_build_filename (dir, "lo.jpg", NULL);
  g_assert_true (pal_image_save_jpeg (img, hi, 95, NULL));
  g_assert_true (pal_image_save_jpeg (img, lo, 20, NULL));
  g_autoptr(GBytes) hi_bytes = read_bytes (hi);
  g_autoptr(GBytes) lo_bytes = read_bytes (lo);
  g_assert_cmpuint (g_bytes_get_size (lo_bytes), <, g_bytes_get_size (hi_bytes));
  g_autoptr(PalImage) back = pal_image_load (lo, NULL);
  g_assert_cmpfloat (mean_abs_error (img, back), <, 10.0);

  /* Quality out of range. */
  GError *error = NULL;
  g_autofree char *bad = g_build_filename (dir, "bad.jpg", NULL);
  g_assert_false (pal_image_save_jpeg (img, bad, 0, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  assert_contains (error->message, bad);
  g_clear_error (&error);
  g_assert_false (pal_image_save_jpeg (img, bad, 101, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  scratch_free (dir);
}

/* ------------------------------------------------------------------------ */
/* JPEG and PNG variants                                                    */
/* ------------------------------------------------------------------------ */

static PalImage *
load_bytes (GBytes *bytes, const char *name)
{
  GError *error = NULL;
  PalImage *img = pal_image_load_from_data (g_bytes_get_data (bytes, NULL),
                                            g_bytes_get_size (bytes), name, &error);
  g_assert_no_error (error);
  g_assert_nonnull (img);
  return img;
}

/* Each 8x8 block of @img (16x16) is @expected within @tol. */
static void
assert_blocks (const PalImage *img, const guint8 expected[4][4], int tol)
{
  g_assert_cmpint (img->width, ==, 16);
  g_assert_cmpint (img->height, ==, 16);
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      for (int c = 0; c < img->channels; c++)
        {
          int want = expected[(y / 8) * 2 + x / 8][c], got = pixel (img, x, y)[c];
          if (abs (got - want) > tol)
            g_error ("pixel (%d, %d) channel %d: %d, expected %d", x, y, c, got, want);
        }
}

static void
test_jpeg_gray (void)
{
  static const guint8 blocks[4][4] = { { 0 }, { 85 }, { 170 }, { 255 } };
  g_autofree guint8 *pixels = four_blocks (blocks, 1);
  g_autoptr(GBytes) jpg = encode_jpeg (pixels, 16, 16, 1, JCS_GRAYSCALE,
                                       JCS_GRAYSCALE, FALSE, FALSE, 100);
  g_autoptr(PalImage) img = load_bytes (jpg, "gray.jpg");

  g_assert_cmpint (img->channels, ==, 1);
  assert_blocks (img, blocks, 1);
}

static void
test_jpeg_rgb (void)
{
  static const guint8 blocks[4][4] = {
    { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 200, 150, 30 },
  };
  g_autofree guint8 *pixels = four_blocks (blocks, 3);

  /* YCbCr (JFIF) and RGB stored as RGB (Adobe marker, no transform). */
  g_autoptr(GBytes) ycc = encode_jpeg (pixels, 16, 16, 3, JCS_RGB, JCS_YCbCr,
                                       FALSE, FALSE, 100);
  g_autoptr(PalImage) a = load_bytes (ycc, "ycc.jpg");
  g_assert_cmpint (a->channels, ==, 3);
  assert_blocks (a, blocks, 3);

  g_autoptr(GBytes) rgb = encode_jpeg (pixels, 16, 16, 3, JCS_RGB, JCS_RGB,
                                       TRUE, FALSE, 100);
  g_autoptr(PalImage) b = load_bytes (rgb, "rgb.jpg");
  g_assert_cmpint (b->channels, ==, 3);
  assert_blocks (b, blocks, 1);
}

static void
test_jpeg_cmyk (void)
{
  /* Stored samples; with an Adobe marker 255 means no ink. */
  static const guint8 stored[4][4] = {
    { 255, 255, 255, 255 }, { 255, 0, 0, 255 }, { 128, 200, 255, 160 },
    { 30, 90, 180, 240 },
  };
  guint8 inverted[4][4], plain[4][4];

  for (int b = 0; b < 4; b++)
    for (int c = 0; c < 3; c++)
      {
        /* R = C K / 255 on inverted samples; (255 - C)(255 - K) on plain. */
        int s = stored[b][c], k = stored[b][3];
        inverted[b][c] = (guint8) lround (s * k / 255.0);
        plain[b][c] = (guint8) lround ((255 - s) * (255 - k) / 255.0);
      }
  g_autofree guint8 *pixels = four_blocks (stored, 4);

  g_autoptr(GBytes) cmyk = encode_jpeg (pixels, 16, 16, 4, JCS_CMYK, JCS_CMYK,
                                        TRUE, FALSE, 100);
  g_autoptr(PalImage) a = load_bytes (cmyk, "cmyk.jpg");
  g_assert_cmpint (a->channels, ==, 3);
  assert_blocks (a, inverted, 2);

  g_autoptr(GBytes) ycck = encode_jpeg (pixels, 16, 16, 4, JCS_CMYK, JCS_YCCK,
                                        TRUE, FALSE, 100);
  g_autoptr(PalImage) b = load_bytes (ycck, "ycck.jpg");
  g_assert_cmpint (b->channels, ==, 3);
  assert_blocks (b, inverted, 3);

  /* No Adobe marker: plain CMYK. */
  g_autoptr(GBytes) bare = encode_jpeg (pixels, 16, 16, 4, JCS_CMYK, JCS_CMYK,
                                        FALSE, FALSE, 100);
  g_autoptr(PalImage) c = load_bytes (bare, "cmyk-plain.jpg");
  assert_blocks (c, plain, 2);
}

static void
test_jpeg_progressive (void)
{
  g_autoptr(PalImage) src = smooth_image (40, 24, 3);
  g_autoptr(GBytes) jpg = encode_jpeg (src->data, 40, 24, 3, JCS_RGB, JCS_YCbCr,
                                       FALSE, TRUE, 95);
  gsize len;
  const guint8 *d = g_bytes_get_data (jpg, &len);
  gssize sof = find_sof (d, len);

  g_assert_cmpint (sof, >, 0);
  g_assert_cmphex (d[sof + 1], ==, 0xC2);   /* SOF2: progressive */
  g_autoptr(PalImage) img = load_bytes (jpg, "progressive.jpg");
  g_assert_cmpfloat (mean_abs_error (src, img), <, 3.0);

  /* Progressive gray. */
  g_autoptr(PalImage) gsrc = smooth_image (24, 40, 1);
  g_autoptr(GBytes) gjpg = encode_jpeg (gsrc->data, 24, 40, 1, JCS_GRAYSCALE,
                                        JCS_GRAYSCALE, FALSE, TRUE, 95);
  g_autoptr(PalImage) gimg = load_bytes (gjpg, "progressive-gray.jpg");
  g_assert_cmpint (gimg->channels, ==, 1);
  g_assert_cmpfloat (mean_abs_error (gsrc, gimg), <, 3.0);
}

/* The 16-bit to 8-bit reduction: rounded. */
static guint8
scale16 (guint v)
{
  return (guint8) ((v * 255u + 32767u) / 65535u);
}

/* The files of tests/data/images, written by make-png-samples.py (not
 * libpng); the formulas are repeated from there. */
static void
test_png_samples (void)
{
  static const guint8 palette[6][3] = {
    { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 }, { 200, 100, 50 },
    { 255, 255, 255 },
  };
  GError *error = NULL;

  {
    g_autofree char *path = sample_path ("palette-4bit.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 5);
    g_assert_cmpint (img->height, ==, 3);
    g_assert_cmpint (img->channels, ==, 3);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 5; x++)
        g_assert_cmpmem (pixel (img, x, y), 3, palette[(x + 2 * y) % 6], 3);
  }
  {
    g_autofree char *path = sample_path ("gray-2bit.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 6);
    g_assert_cmpint (img->height, ==, 2);
    g_assert_cmpint (img->channels, ==, 1);
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 6; x++)
        g_assert_cmpint (*pixel (img, x, y), ==, ((x + y) % 4) * 85);
  }
  {
    g_autofree char *path = sample_path ("gray-16bit.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 4);
    g_assert_cmpint (img->height, ==, 3);
    g_assert_cmpint (img->channels, ==, 1);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++)
        g_assert_cmpint (*pixel (img, x, y), ==,
                         scale16 ((x * 16411 + y * 4933 + 127) & 0xFFFF));
  }
  {
    g_autofree char *path = sample_path ("rgb-16bit-interlaced.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 9);
    g_assert_cmpint (img->height, ==, 7);
    g_assert_cmpint (img->channels, ==, 3);
    for (int y = 0; y < 7; y++)
      for (int x = 0; x < 9; x++)
        {
          const guint8 *p = pixel (img, x, y);
          g_assert_cmpint (p[0], ==, scale16 ((x * 7919 + y * 10007) & 0xFFFF));
          g_assert_cmpint (p[1], ==, scale16 ((x * 31337 + y * 271) & 0xFFFF));
          g_assert_cmpint (p[2], ==, scale16 (((x ^ y) * 4099) & 0xFFFF));
        }
  }
  {
    g_autofree char *path = sample_path ("gray-alpha.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 4);
    g_assert_cmpint (img->height, ==, 3);
    g_assert_cmpint (img->channels, ==, 1);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++)
        g_assert_cmpint (*pixel (img, x, y), ==, x * 60 + y * 5);
  }
  {
    g_autofree char *path = sample_path ("rgba-interlaced.png");
    g_autoptr(PalImage) img = pal_image_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 7);
    g_assert_cmpint (img->height, ==, 5);
    g_assert_cmpint (img->channels, ==, 3);
    for (int y = 0; y < 5; y++)
      for (int x = 0; x < 7; x++)
        {
          const guint8 *p = pixel (img, x, y);
          g_assert_cmpint (p[0], ==, x * 30 + y);
          g_assert_cmpint (p[1], ==, 255 - x * 20 - y * 10);
          g_assert_cmpint (p[2], ==, (x * y * 13) & 255);
        }
  }
}

/* ------------------------------------------------------------------------ */
/* Bad input                                                                */
/* ------------------------------------------------------------------------ */

/* Every proper prefix of a valid file is refused as truncated (the empty
 * one as empty), from memory; a few from disk. */
static void
check_every_prefix (GBytes *bytes, const char *dir, const char *name)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);

  g_assert_cmpuint (len, >, 100);
  assert_load_data_fails (d, 0, name, PAL_ERROR_PARSE, "empty");
  for (gsize cut = 1; cut < len; cut++)
    assert_load_data_fails (d, cut, name, PAL_ERROR_PARSE,
                            "the file ends early (truncated)");

  gsize cuts[] = { 2, 30, len / 2, len - 2, len - 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/cut%" G_GSIZE_FORMAT "-%s",
                                               dir, cuts[i], name);
      write_bytes (path, d, cuts[i]);
      assert_load_fails (path, PAL_ERROR_PARSE, "the file ends early (truncated)");
    }
}

static void
test_load_truncated (void)
{
  char *dir = scratch_new ();
  GError *error = NULL;

  g_autoptr(PalImage) img = smooth_image (40, 24, 3);
  g_autoptr(PalImage) noisy = noise_image (17, 9, 3, 7);
  g_autofree char *jpg_path = g_build_filename (dir, "photo.jpg", NULL);
  g_autofree char *png_path = g_build_filename (dir, "photo.png", NULL);
  g_assert_true (pal_image_save_jpeg (img, jpg_path, 90, &error));
  g_assert_true (pal_image_save_png (noisy, png_path, &error));
  g_assert_no_error (error);
  g_autoptr(GBytes) jpg = read_bytes (jpg_path);
  g_autoptr(GBytes) png = read_bytes (png_path);
  check_every_prefix (jpg, dir, "baseline.jpg");
  check_every_prefix (png, dir, "noise.png");

  g_autoptr(GBytes) prog = encode_jpeg (img->data, 40, 24, 3, JCS_RGB, JCS_YCbCr,
                                        FALSE, TRUE, 90);
  check_every_prefix (prog, dir, "progressive.jpg");
  g_autofree char *interlaced = sample_path ("rgb-16bit-interlaced.png");
  g_autoptr(GBytes) ipng = read_bytes (interlaced);
  check_every_prefix (ipng, dir, "interlaced.png");
  scratch_free (dir);
}

static void
test_load_bad (void)
{
  char *dir = scratch_new ();

  /* Nothing there; a directory; empty; text; another format. */
  g_autofree char *missing = g_build_filename (dir, "missing.jpg", NULL);
  assert_load_fails (missing, PAL_ERROR_IO, g_strerror (ENOENT));
  assert_load_fails (dir, PAL_ERROR_IO, "not a regular file");
  /* a FIFO: refused at once, not waited on for a writer */
  g_autofree char *fifo = g_build_filename (dir, "fifo.jpg", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_load_fails (fifo, PAL_ERROR_IO, "fifo.jpg: not a regular file");

  g_autofree char *empty = g_build_filename (dir, "empty.png", NULL);
  write_bytes (empty, "", 0);
  assert_load_fails (empty, PAL_ERROR_PARSE, "the file is empty");

  g_autofree char *text = g_build_filename (dir, "notes.jpg", NULL);
  const char *words = "This is not an image, whatever its name says.\n";
  write_bytes (text, words, strlen (words));
  assert_load_fails (text, PAL_ERROR_PARSE, "not a JPEG or PNG image");

  g_autofree char *bmp = g_build_filename (dir, "x.bmp", NULL);
  static const guint8 bmp_head[] = { 'B', 'M', 0x46, 0, 0, 0, 0, 0, 0, 0, 0x36, 0 };
  write_bytes (bmp, bmp_head, sizeof bmp_head);
  assert_load_fails (bmp, PAL_ERROR_PARSE, "x.bmp: not a JPEG or PNG image");

  /* A valid PNG with a bad CRC in IHDR, then in IDAT. */
  g_autoptr(PalImage) noisy = noise_image (17, 9, 3, 3);
  g_autofree char *good_png = g_build_filename (dir, "good.png", NULL);
  g_assert_true (pal_image_save_png (noisy, good_png, NULL));
  g_autoptr(GBytes) png = read_bytes (good_png);
  gsize len;
  const guint8 *d = g_bytes_get_data (png, &len);
  {
    g_autofree guint8 *bad = g_memdup2 (d, len);
    g_autofree char *path = g_build_filename (dir, "bad-ihdr-crc.png", NULL);
    bad[32] ^= 0x01;   /* last byte of the IHDR CRC */
    write_bytes (path, bad, len);
    assert_load_fails (path, PAL_ERROR_PARSE, "CRC");
  }
  {
    g_autofree guint8 *bad = g_memdup2 (d, len);
    g_autofree char *path = g_build_filename (dir, "bad-idat-crc.png", NULL);
    gsize at = find_chunk (bad, len, "IDAT");
    gsize n = (gsize) bad[at] << 24 | bad[at + 1] << 16 | bad[at + 2] << 8 | bad[at + 3];
    bad[at + 8 + n] ^= 0x80;   /* first byte of the IDAT CRC */
    write_bytes (path, bad, len);
    assert_load_fails (path, PAL_ERROR_PARSE, "CRC");
  }
  {
    /* Damaged compressed data (CRC made to match): zlib's complaint. */
    g_autofree guint8 *bad = g_memdup2 (d, len);
    g_autofree char *path = g_build_filename (dir, "bad-idat.png", NULL);
    gsize at = find_chunk (bad, len, "IDAT");
    gsize n = (gsize) bad[at] << 24 | bad[at + 1] << 16 | bad[at + 2] << 8 | bad[at + 3];
    bad[at + 8] = 0xFF;   /* the zlib header */
    put_be32 (bad + at + 8 + n, crc32_png (bad + at + 4, n + 4));
    write_bytes (path, bad, len);
    assert_load_fails (path, PAL_ERROR_PARSE, "not a valid PNG file");
  }
  {
    /* Width 0 in IHDR, CRC fixed. */
    g_autofree guint8 *bad = g_memdup2 (d, len);
    g_autofree char *path = g_build_filename (dir, "zero-width.png", NULL);
    put_be32 (bad + 16, 0);
    put_be32 (bad + 29, crc32_png (bad + 12, 17));
    write_bytes (path, bad, len);
    assert_load_fails (path, PAL_ERROR_PARSE, NULL);
  }

  /* A JPEG with a bogus marker segment length. */
  g_autoptr(PalImage) img = smooth_image (16, 16, 3);
  g_autofree char *good_jpg = g_build_filename (dir, "good.jpg", NULL);
  g_assert_true (pal_image_save_jpeg (img, good_jpg, 90, NULL));
  g_autoptr(GBytes) jpg = read_bytes (good_jpg);
  d = g_bytes_get_data (jpg, &len);
  {
    g_autofree guint8 *bad = g_memdup2 (d, len);
    g_autofree char *path = g_build_filename (dir, "bad-sof.jpg", NULL);
    gssize sof = find_sof (bad, len);
    g_assert_cmpint (sof, >, 0);
    bad[sof + 9] = 7;   /* 7 components */
    write_bytes (path, bad, len);
    assert_load_fails (path, PAL_ERROR_PARSE, "not a valid JPEG file");
  }
  {
    /* SOI followed by garbage. */
    g_autofree char *path = g_build_filename (dir, "garbage.jpg", NULL);
    guint8 junk[200] = { 0xFF, 0xD8, 0xFF, 0x12 };
    write_bytes (path, junk, sizeof junk);
    assert_load_fails (path, PAL_ERROR_PARSE, NULL);
  }
  scratch_free (dir);
}

/* Headers claiming 60000 x 60000 pixels: refused before allocation. */
static void
test_load_huge (void)
{
  char *dir = scratch_new ();
  g_autoptr(PalImage) img = smooth_image (16, 16, 3);
  gsize len;

  g_autofree char *jpg_path = g_build_filename (dir, "huge.jpg", NULL);
  g_assert_true (pal_image_save_jpeg (img, jpg_path, 90, NULL));
  g_autoptr(GBytes) jpg = read_bytes (jpg_path);
  const guint8 *jd = g_bytes_get_data (jpg, &len);
  g_autofree guint8 *j = g_memdup2 (jd, len);
  gssize sof = find_sof (j, len);
  g_assert_cmpint (sof, >, 0);
  j[sof + 5] = 60000 >> 8;   /* height */
  j[sof + 6] = 60000 & 0xFF;
  j[sof + 7] = 60000 >> 8;   /* width */
  j[sof + 8] = 60000 & 0xFF;
  write_bytes (jpg_path, j, len);
  assert_load_fails (jpg_path, PAL_ERROR_UNSUPPORTED, "too large (60000 x 60000");

  /* Just over the limit: 16385 x 16384. */
  j[sof + 5] = 16384 >> 8;
  j[sof + 6] = 16384 & 0xFF;
  j[sof + 7] = 16385 >> 8;
  j[sof + 8] = 16385 & 0xFF;
  assert_load_data_fails (j, len, "over.jpg", PAL_ERROR_UNSUPPORTED, "too large");

  /* Within the limit but far more pixels than the file can hold: refused
   * before they are allocated (found by fuzz-image). */
  j[sof + 7] = 16384 >> 8;
  j[sof + 8] = 16384 & 0xFF;
  assert_load_data_fails (j, len, "claims.jpg", PAL_ERROR_PARSE,
                          "16384 x 16384 pixels from a JPEG file of");

  g_autofree char *png_path = g_build_filename (dir, "huge.png", NULL);
  g_assert_true (pal_image_save_png (img, png_path, NULL));
  g_autoptr(GBytes) png = read_bytes (png_path);
  const guint8 *pd = g_bytes_get_data (png, &len);
  g_autofree guint8 *p = g_memdup2 (pd, len);
  g_assert_cmpmem (p + 12, 4, "IHDR", 4);
  put_be32 (p + 16, 60000);
  put_be32 (p + 20, 60000);
  put_be32 (p + 29, crc32_png (p + 12, 17));
  write_bytes (png_path, p, len);
  assert_load_fails (png_path, PAL_ERROR_UNSUPPORTED, "too large (60000 x 60000");

  /* Within the limit but more than deflate can expand the file to
   * (found by fuzz-image). */
  put_be32 (p + 16, 16384);
  put_be32 (p + 20, 16384);
  put_be32 (p + 29, crc32_png (p + 12, 17));
  assert_load_data_fails (p, len, "claims.png", PAL_ERROR_PARSE,
                          "16384 x 16384 pixels cannot come from a PNG file");

  /* Past libpng's default limit of 1000000 a side but within ours: no
   * size error; the image data is then too short. */
  put_be32 (p + 16, 2000000);
  put_be32 (p + 20, 1);
  put_be32 (p + 29, crc32_png (p + 12, 17));
  assert_load_data_fails (p, len, "wide.png", PAL_ERROR_PARSE, NULL);
  scratch_free (dir);
}

/* ------------------------------------------------------------------------ */
/* Atomic saving                                                            */
/* ------------------------------------------------------------------------ */

static void
check_failed_save_keeps_old (gboolean jpeg)
{
#ifdef G_OS_UNIX
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, jpeg ? "face.jpg" : "face.png", NULL);
  g_autoptr(PalImage) small = smooth_image (8, 8, 3);
  g_autoptr(PalImage) other = noise_image (8, 8, 3, 1);
  g_autoptr(PalImage) big = noise_image (128, 128, 3, 2);
  GError *error = NULL;

#define SAVE(img) (jpeg ? pal_image_save_jpeg ((img), path, 95, &error) \
                        : pal_image_save_png ((img), path, &error))

  /* Saving over an existing file replaces it. */
  g_assert_true (SAVE (small));
  g_autoptr(GBytes) first = read_bytes (path);
  g_assert_true (SAVE (other));
  g_assert_no_error (error);
  g_autoptr(GBytes) before = read_bytes (path);
  g_assert_false (g_bytes_equal (first, before));
  g_autoptr(PalImage) back = pal_image_load (path, NULL);
  if (!jpeg)
    assert_images_equal (back, other);

  /* A save that cannot be written in full (files limited to 4 KiB). */
  struct rlimit old_limit, limit;
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  limit = old_limit;
  limit.rlim_cur = 4096;
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  gboolean saved = SAVE (big);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (saved);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_autofree char *expected = g_strdup_printf ("Could not save '%s': %s", path,
                                               g_strerror (EFBIG));
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_assert_cmpuint (count_entries (dir), ==, 1);   /* no temporary file left */
  g_autoptr(GBytes) after = read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));

  /* Into a directory that does not exist. */
  g_autofree char *nowhere = g_build_filename (dir, "no", "such", "dir.png", NULL);
  g_assert_false (jpeg ? pal_image_save_jpeg (small, nowhere, 90, &error)
                       : pal_image_save_png (small, nowhere, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  assert_contains (error->message, nowhere);
  assert_contains (error->message, g_strerror (ENOENT));
  g_clear_error (&error);
#undef SAVE
  scratch_free (dir);
#else
  g_test_skip ("needs RLIMIT_FSIZE");
#endif
}

static void
test_save_atomic_png (void)
{
  check_failed_save_keeps_old (FALSE);
}

static void
test_save_atomic_jpeg (void)
{
  check_failed_save_keeps_old (TRUE);
}

/* ------------------------------------------------------------------------ */
/* Resizing                                                                 */
/* ------------------------------------------------------------------------ */

/* Dense weights of output @i along an axis from @s to @d samples, in
 * double: the definition, not the implementation. */
static void
reference_weights (int s, int d, int i, double *w)
{
  memset (w, 0, sizeof (double) * s);
  if (s > d)
    {
      double f = (double) s / d, x0 = i * f, x1 = (i + 1) * f;
      for (int j = 0; j < s; j++)
        {
          double ov = MIN (x1, j + 1.0) - MAX (x0, (double) j);
          if (ov > 0)
            w[j] = ov / f;
        }
    }
  else
    {
      double x = CLAMP ((i + 0.5) * s / d - 0.5, 0.0, s - 1.0);
      int j = (int) floor (x);
      double t = x - j;
      w[j] += 1.0 - t;
      w[MIN (j + 1, s - 1)] += t;
    }
}

/* pal_image_resize agrees with the definition, rounded to nearest. */
static void
check_resize_against_reference (const PalImage *src, int dw, int dh)
{
  g_autoptr(PalImage) out = pal_image_resize (src, dw, dh);
  int sw = src->width, sh = src->height, ch = src->channels;
  g_autofree double *wx = g_new (double, (gsize) dw * sw);
  g_autofree double *wy = g_new (double, (gsize) dh * sh);

  g_assert_cmpint (out->width, ==, dw);
  g_assert_cmpint (out->height, ==, dh);
  g_assert_cmpint (out->channels, ==, ch);
  for (int i = 0; i < dw; i++)
    reference_weights (sw, dw, i, wx + (gsize) i * sw);
  for (int i = 0; i < dh; i++)
    reference_weights (sh, dh, i, wy + (gsize) i * sh);
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      for (int c = 0; c < ch; c++)
        {
          double v = 0.0;
          for (int j = 0; j < sh; j++)
            for (int i = 0; i < sw; i++)
              v += wy[(gsize) y * sh + j] * wx[(gsize) x * sw + i] * pixel (src, i, j)[c];
          int got = pixel (out, x, y)[c];
          if (fabs (got - v) > 0.5 + 1e-3)
            g_error ("%dx%d -> %dx%d, (%d, %d, %d): %d, expected %.4f",
                     sw, sh, dw, dh, x, y, c, got, v);
        }
}

static void
test_resize_reference (void)
{
  const int sizes[][4] = {
    { 16, 12, 5, 3 }, { 5, 3, 16, 12 }, { 16, 3, 5, 12 }, { 3, 16, 12, 5 },
    { 9, 9, 4, 4 }, { 7, 5, 7, 11 }, { 7, 5, 3, 5 }, { 1, 1, 4, 3 },
    { 10, 1, 3, 1 }, { 1, 10, 1, 4 }, { 13, 11, 1, 1 }, { 6, 4, 9, 6 },
    { 30, 2, 7, 9 }, { 2, 30, 9, 7 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int ch = 1; ch <= 3; ch += 2)
      {
        g_autoptr(PalImage) src = noise_image (sizes[i][0], sizes[i][1], ch, (guint32) i);
        check_resize_against_reference (src, sizes[i][2], sizes[i][3]);
      }
}

static void
test_resize_constant (void)
{
  const int sizes[][2] = { { 1, 1 }, { 3, 2 }, { 50, 37 }, { 224, 224 }, { 641, 480 } };

  for (int ch = 1; ch <= 3; ch += 2)
    {
      g_autoptr(PalImage) src = pal_image_new (97, 61, ch);
      memset (src->data, 173, (gsize) 97 * 61 * ch);
      for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          g_autoptr(PalImage) out = pal_image_resize (src, sizes[i][0], sizes[i][1]);
          for (gsize k = 0; k < (gsize) out->width * out->height * ch; k++)
            g_assert_cmpint (out->data[k], ==, 173);
        }
    }
}

static void
test_resize_block_means (void)
{
  /* 4x4 -> 2x2: each output the mean of its 2x2 block, rounded (half up). */
  static const guint8 gray[16] = {
    0, 10, 100, 101,
    20, 31, 102, 103,
    255, 255, 1, 2,
    254, 255, 2, 2,
  };
  g_autoptr(PalImage) src = pal_image_new (4, 4, 1);
  memcpy (src->data, gray, sizeof gray);
  g_autoptr(PalImage) out = pal_image_resize (src, 2, 2);
  g_assert_cmpint (out->data[0], ==, 15);    /* 61 / 4 = 15.25 */
  g_assert_cmpint (out->data[1], ==, 102);   /* 406 / 4 = 101.5 */
  g_assert_cmpint (out->data[2], ==, 255);   /* 1019 / 4 = 254.75 */
  g_assert_cmpint (out->data[3], ==, 2);     /* 7 / 4 = 1.75 */

  /* RGB: the channels do not mix. */
  g_autoptr(PalImage) rgb = pal_image_new (4, 4, 3);
  for (int i = 0; i < 16; i++)
    {
      rgb->data[3 * i] = gray[i];
      rgb->data[3 * i + 1] = (guint8) (255 - gray[i]);
      rgb->data[3 * i + 2] = (guint8) (i * 16);
    }
  g_autoptr(PalImage) rout = pal_image_resize (rgb, 2, 2);
  const guint8 expected[4][3] = {
    { 15, 240, 40 }, { 102, 154, 72 }, { 255, 0, 168 }, { 2, 253, 200 },
  };
  for (int i = 0; i < 4; i++)
    g_assert_cmpmem (rout->data + 3 * i, 3, expected[i], 3);
}

static void
test_resize_enlarge (void)
{
  /* A ramp 0, 10, ..., 90 across 10 pixels, to 40: corners kept, and
   * inside the ramp stays linear: 10 x, with x = (i + 0.5) / 4 - 0.5. */
  g_autoptr(PalImage) src = pal_image_new (10, 3, 1);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 10; x++)
      src->data[y * 10 + x] = (guint8) (10 * x);
  g_autoptr(PalImage) out = pal_image_resize (src, 40, 7);

  for (int y = 0; y < 7; y++)
    {
      g_assert_cmpint (*pixel (out, 0, y), ==, 0);
      g_assert_cmpint (*pixel (out, 39, y), ==, 90);
      for (int i = 2; i < 38; i++)
        {
          double x = (i + 0.5) / 4 - 0.5;
          g_assert_cmpfloat (fabs (*pixel (out, i, y) - 10 * x), <=, 0.5 + 1e-6);
        }
      /* Non-decreasing everywhere. */
      for (int i = 1; i < 40; i++)
        g_assert_cmpint (*pixel (out, i, y), >=, *pixel (out, i - 1, y));
    }

  /* Corners of an RGB image survive any enlargement. */
  g_autoptr(PalImage) rgb = noise_image (5, 4, 3, 11);
  g_autoptr(PalImage) big = pal_image_resize (rgb, 23, 17);
  g_assert_cmpmem (pixel (big, 0, 0), 3, pixel (rgb, 0, 0), 3);
  g_assert_cmpmem (pixel (big, 22, 0), 3, pixel (rgb, 4, 0), 3);
  g_assert_cmpmem (pixel (big, 0, 16), 3, pixel (rgb, 0, 3), 3);
  g_assert_cmpmem (pixel (big, 22, 16), 3, pixel (rgb, 4, 3), 3);
}

static void
test_resize_identity (void)
{
  g_autoptr(PalImage) src = noise_image (31, 17, 3, 5);
  g_autoptr(PalImage) out = pal_image_resize (src, 31, 17);

  g_assert_true (out != src && out->data != src->data);
  assert_images_equal (src, out);

  /* One axis unchanged: that axis is untouched.  Rows all alike stay the
   * same row at any height; columns alike, the same column at any width. */
  g_autoptr(PalImage) rows = pal_image_new (31, 17, 3);
  for (int y = 0; y < 17; y++)
    memcpy (rows->data + y * 31 * 3, src->data, 31 * 3);
  const int heights[] = { 1, 5, 16, 18, 40 };
  for (gsize i = 0; i < G_N_ELEMENTS (heights); i++)
    {
      g_autoptr(PalImage) tall = pal_image_resize (rows, 31, heights[i]);
      for (int y = 0; y < heights[i]; y++)
        g_assert_cmpmem (pixel (tall, 0, y), 31 * 3, src->data, 31 * 3);
    }
  g_autoptr(PalImage) cols = pal_image_new (17, 31, 1);
  for (int y = 0; y < 31; y++)
    memset (cols->data + y * 17, src->data[y], 17);
  const int widths[] = { 1, 8, 16, 18, 50 };
  for (gsize i = 0; i < G_N_ELEMENTS (widths); i++)
    {
      g_autoptr(PalImage) wide = pal_image_resize (cols, widths[i], 31);
      for (int y = 0; y < 31; y++)
        for (int x = 0; x < widths[i]; x++)
          g_assert_cmpint (*pixel (wide, x, y), ==, src->data[y]);
    }
}

static void
test_resize_speed (void)
{
  g_autoptr(PalImage) photo = smooth_image (4000, 3000, 3);
  gint64 best = G_MAXINT64;

  for (int run = 0; run < 3; run++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(PalImage) small = pal_image_resize (photo, 224, 224);
      best = MIN (best, g_get_monotonic_time () - t0);
      g_assert_cmpint (small->width, ==, 224);
    }
  g_test_message ("4000x3000 RGB -> 224x224: %.1f ms", best / 1000.0);
  /* Generous, for sanitizer and debug builds; the optimised build is far
   * below 100 ms. */
  g_assert_cmpint (best, <, 2 * G_USEC_PER_SEC);
}

/* ------------------------------------------------------------------------ */
/* Geometry, colour, tensors                                                */
/* ------------------------------------------------------------------------ */

static void
test_flip (void)
{
  g_autoptr(PalImage) src = noise_image (7, 5, 3, 9);
  g_autoptr(PalImage) once = pal_image_flip (src);
  g_autoptr(PalImage) twice = pal_image_flip (once);

  assert_images_equal (src, twice);
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 7; x++)
      g_assert_cmpmem (pixel (once, x, y), 3, pixel (src, 6 - x, y), 3);

  g_autoptr(PalImage) gray = noise_image (4, 2, 1, 9);
  g_autoptr(PalImage) gflip = pal_image_flip (gray);
  g_assert_cmpint (*pixel (gflip, 0, 1), ==, *pixel (gray, 3, 1));
}

static void
test_warp (void)
{
  g_autoptr(PalImage) src = noise_image (9, 7, 3, 13);
  const double identity[6] = { 1, 0, 0, 0, 1, 0 };
  g_autoptr(PalImage) same = pal_image_warp_affine (src, identity, 9, 7, 77);
  assert_images_equal (src, same);

  /* Output (u, v) samples the input at (u - 1, v): a shift right by one;
   * the first column is the border. */
  const double shift[6] = { 1, 0, -1, 0, 1, 0 };
  g_autoptr(PalImage) moved = pal_image_warp_affine (src, shift, 9, 7, 77);
  for (int y = 0; y < 7; y++)
    {
      g_assert_cmpmem (pixel (moved, 0, y), 3, ((guint8[]) { 77, 77, 77 }), 3);
      for (int x = 1; x < 9; x++)
        g_assert_cmpmem (pixel (moved, x, y), 3, pixel (src, x - 1, y), 3);
    }

  /* A half-pixel shift averages neighbours. */
  const double half[6] = { 1, 0, 0.5, 0, 1, 0 };
  g_autoptr(PalImage) avg = pal_image_warp_affine (src, half, 8, 7, 0);
  for (int y = 0; y < 7; y++)
    for (int x = 0; x < 8; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (pixel (avg, x, y)[c], ==,
                         (pixel (src, x, y)[c] + pixel (src, x + 1, y)[c] + 1) / 2);

  /* Outside entirely, and a larger output than the input. */
  const double away[6] = { 1, 0, 100, 0, 1, 100 };
  g_autoptr(PalImage) gone = pal_image_warp_affine (src, away, 5, 5, 200);
  for (int i = 0; i < 5 * 5 * 3; i++)
    g_assert_cmpint (gone->data[i], ==, 200);
  g_autoptr(PalImage) bigger = pal_image_warp_affine (src, identity, 12, 9, 3);
  g_assert_cmpmem (pixel (bigger, 8, 6), 3, pixel (src, 8, 6), 3);
  g_assert_cmpmem (pixel (bigger, 9, 6), 3, ((guint8[]) { 3, 3, 3 }), 3);
  g_assert_cmpmem (pixel (bigger, 8, 7), 3, ((guint8[]) { 3, 3, 3 }), 3);

  /* Scale 2 about the origin: even outputs hit input pixels. */
  g_autoptr(PalImage) gray = noise_image (6, 6, 1, 17);
  const double zoom[6] = { 0.5, 0, 0, 0, 0.5, 0 };
  g_autoptr(PalImage) z = pal_image_warp_affine (gray, zoom, 10, 10, 0);
  for (int y = 0; y < 10; y += 2)
    for (int x = 0; x < 10; x += 2)
      g_assert_cmpint (*pixel (z, x, y), ==, *pixel (gray, x / 2, y / 2));
}

static void
test_crop (void)
{
  g_autoptr(PalImage) src = noise_image (10, 8, 3, 21);

  g_autoptr(PalImage) inside = pal_image_crop (src, 2, 3, 4, 5);
  g_assert_cmpint (inside->width, ==, 4);
  g_assert_cmpint (inside->height, ==, 5);
  for (int y = 0; y < 5; y++)
    g_assert_cmpmem (pixel (inside, 0, y), 12, pixel (src, 2, y + 3), 12);

  /* Half outside, top left: zeros there. */
  g_autoptr(PalImage) part = pal_image_crop (src, -3, -2, 6, 5);
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 6; x++)
      {
        const guint8 zero[3] = { 0 };
        if (x >= 3 && y >= 2)
          g_assert_cmpmem (pixel (part, x, y), 3, pixel (src, x - 3, y - 2), 3);
        else
          g_assert_cmpmem (pixel (part, x, y), 3, zero, 3);
      }

  /* Larger than the image on every side. */
  g_autoptr(PalImage) around = pal_image_crop (src, -1, -1, 12, 10);
  for (int y = 0; y < 8; y++)
    g_assert_cmpmem (pixel (around, 1, y + 1), 30, pixel (src, 0, y), 30);
  g_assert_cmpint (pixel (around, 11, 9)[2], ==, 0);

  /* Fully outside: all zeros; empty: NULL. */
  g_autoptr(PalImage) out = pal_image_crop (src, 50, -40, 3, 3);
  for (int i = 0; i < 27; i++)
    g_assert_cmpint (out->data[i], ==, 0);
  g_assert_null (pal_image_crop (src, 0, 0, 0, 5));
  g_assert_null (pal_image_crop (src, 0, 0, 5, -1));
  /* Coordinates near the int limits do not overflow. */
  g_autoptr(PalImage) far = pal_image_crop (src, G_MAXINT - 1, G_MAXINT - 1, 2, 2);
  g_assert_cmpint (far->data[0], ==, 0);
}

static void
test_colour (void)
{
  g_autoptr(PalImage) rgb = pal_image_new (5, 1, 3);
  const guint8 px[5][3] = {
    { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 }, { 255, 255, 255 },
  };
  memcpy (rgb->data, px, sizeof px);
  g_autoptr(PalImage) gray = pal_image_to_gray (rgb);
  g_assert_cmpint (gray->channels, ==, 1);
  g_assert_cmpint (gray->data[0], ==, 76);    /* 76.245 */
  g_assert_cmpint (gray->data[1], ==, 150);   /* 149.685 */
  g_assert_cmpint (gray->data[2], ==, 29);    /* 29.07 */
  g_assert_cmpint (gray->data[3], ==, 18);    /* 18.15 */
  g_assert_cmpint (gray->data[4], ==, 255);

  g_autoptr(PalImage) back = pal_image_to_rgb (gray);
  g_assert_cmpint (back->channels, ==, 3);
  for (int i = 0; i < 5; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpint (back->data[3 * i + c], ==, gray->data[i]);

  /* Already in the asked form: a copy. */
  g_autoptr(PalImage) copy = pal_image_to_rgb (rgb);
  g_assert_true (copy->data != rgb->data);
  assert_images_equal (copy, rgb);
  g_autoptr(PalImage) gcopy = pal_image_to_gray (gray);
  assert_images_equal (gcopy, gray);
}

static void
test_tensor (void)
{
  const float mean[3] = { 0.485f, 0.456f, 0.406f };
  const float std[3] = { 0.229f, 0.224f, 0.225f };
  g_autoptr(PalImage) rgb = noise_image (4, 3, 3, 23);
  float t[3 * 3 * 4];

  rgb->data[(1 * 4 + 2) * 3 + 0] = 200;   /* pixel (2, 1) */
  rgb->data[(1 * 4 + 2) * 3 + 1] = 0;
  rgb->data[(1 * 4 + 2) * 3 + 2] = 255;
  pal_image_to_tensor (rgb, t, 3, 4, 3, mean, std);
  gsize plane = 12, at = 1 * 4 + 2;
  g_assert_cmpfloat_with_epsilon (t[0 * plane + at], (200 / 255.0 - 0.485) / 0.229, 1e-5);
  g_assert_cmpfloat_with_epsilon (t[1 * plane + at], (0 - 0.456) / 0.224, 1e-5);
  g_assert_cmpfloat_with_epsilon (t[2 * plane + at], (1 - 0.406) / 0.225, 1e-5);
  /* CHW: the whole layout. */
  for (int c = 0; c < 3; c++)
    for (gsize i = 0; i < plane; i++)
      g_assert_cmpfloat_with_epsilon (t[c * plane + i],
                                      (rgb->data[i * 3 + c] / 255.0 - mean[c]) / std[c],
                                      1e-5);

  /* Gray fills three channels, each with its own mean and std. */
  g_autoptr(PalImage) gray = pal_image_to_gray (rgb);
  pal_image_to_tensor (gray, t, 3, 4, 3, mean, std);
  for (int c = 0; c < 3; c++)
    for (gsize i = 0; i < plane; i++)
      g_assert_cmpfloat_with_epsilon (t[c * plane + i],
                                      (gray->data[i] / 255.0 - mean[c]) / std[c], 1e-5);

  /* One channel from RGB: the luminance. */
  pal_image_to_tensor (rgb, t, 1, 4, 3, mean, std);
  for (gsize i = 0; i < plane; i++)
    g_assert_cmpfloat_with_epsilon (t[i], (gray->data[i] / 255.0 - mean[0]) / std[0],
                                    1e-5);

  /* Another size: resized first (a constant stays constant); NULL mean
   * and std are 0 and 1. */
  g_autoptr(PalImage) flat = pal_image_new (50, 40, 3);
  memset (flat->data, 51, 50 * 40 * 3);
  g_autofree float *big = g_new (float, 3 * 7 * 5);
  pal_image_to_tensor (flat, big, 3, 7, 5, NULL, NULL);
  for (int i = 0; i < 3 * 7 * 5; i++)
    g_assert_cmpfloat_with_epsilon (big[i], 0.2, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  program_dir = g_path_get_dirname (argv[0]);

  g_test_add_func ("/image/png/roundtrip", test_png_roundtrip);
  g_test_add_func ("/image/png/samples", test_png_samples);
  g_test_add_func ("/image/jpeg/roundtrip", test_jpeg_roundtrip);
  g_test_add_func ("/image/jpeg/gray", test_jpeg_gray);
  g_test_add_func ("/image/jpeg/rgb", test_jpeg_rgb);
  g_test_add_func ("/image/jpeg/cmyk", test_jpeg_cmyk);
  g_test_add_func ("/image/jpeg/progressive", test_jpeg_progressive);
  g_test_add_func ("/image/load/truncated", test_load_truncated);
  g_test_add_func ("/image/load/bad", test_load_bad);
  g_test_add_func ("/image/load/huge", test_load_huge);
  g_test_add_func ("/image/save/atomic-png", test_save_atomic_png);
  g_test_add_func ("/image/save/atomic-jpeg", test_save_atomic_jpeg);
  g_test_add_func ("/image/resize/reference", test_resize_reference);
  g_test_add_func ("/image/resize/constant", test_resize_constant);
  g_test_add_func ("/image/resize/block-means", test_resize_block_means);
  g_test_add_func ("/image/resize/enlarge", test_resize_enlarge);
  g_test_add_func ("/image/resize/identity", test_resize_identity);
  g_test_add_func ("/image/resize/speed", test_resize_speed);
  g_test_add_func ("/image/flip", test_flip);
  g_test_add_func ("/image/warp", test_warp);
  g_test_add_func ("/image/crop", test_crop);
  g_test_add_func ("/image/colour", test_colour);
  g_test_add_func ("/image/tensor", test_tensor);

  int ret = g_test_run ();
  g_free (program_dir);
  return ret;
}
