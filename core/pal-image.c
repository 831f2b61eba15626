/* pal-image.c: 8-bit images in, PNG/JPEG out, resampling, network input
 *
 * Decoding works on the whole file in memory (mapped): JPEG through
 * libjpeg-turbo's libjpeg API, PNG through libpng's classic API.  Both
 * libraries report errors by calling a function that must not return; here
 * it longjmps back to the decoder, which turns the message into a GError
 * naming the file.  The size in the header is checked against
 * PAL_IMAGE_MAX_PIXELS before the pixels are allocated.
 *
 * Encoding goes to memory first, then to a temporary file beside the
 * destination, which is synced and renamed over it: a failed save leaves the
 * old file as it was.
 */
#include "pal-image.h"
#include "pal-error.h"
#include "pal-file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>      /* before jpeglib.h, which uses FILE and size_t */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

static const guint8 jpeg_magic[3] = { 0xFF, 0xD8, 0xFF };
static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

/* ------------------------------------------------------------------------ */
/* Basics                                                                   */
/* ------------------------------------------------------------------------ */

static inline gsize
image_size (const PalImage *image)
{
  return (gsize) image->width * image->height * image->channels;
}

PalImage *
pal_image_new (int width, int height, int channels)
{
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  g_return_val_if_fail ((guint64) width * height <= PAL_IMAGE_MAX_PIXELS, NULL);

  PalImage *image = g_new (PalImage, 1);
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->data = g_malloc0 (image_size (image));
  return image;
}

void
pal_image_free (PalImage *image)
{
  if (image == NULL)
    return;
  g_free (image->data);
  g_free (image);
}

PalImage *
pal_image_copy (const PalImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  PalImage *copy = pal_image_new (image->width, image->height, image->channels);
  memcpy (copy->data, image->data, image_size (image));
  return copy;
}

/* Refuses a header size over PAL_IMAGE_MAX_PIXELS; TRUE if it fits. */
static gboolean
check_size (guint64 width, guint64 height, const char *name, GError **error)
{
  if (width > 0 && height > 0 && width * height <= PAL_IMAGE_MAX_PIXELS
      && width <= G_MAXINT && height <= G_MAXINT)
    return TRUE;
  if (width == 0 || height == 0)
    g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                 "%s: the image has no pixels (%" G_GUINT64_FORMAT " x %"
                 G_GUINT64_FORMAT ")", name, width, height);
  else
    g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                 "%s: the image is too large (%" G_GUINT64_FORMAT " x %"
                 G_GUINT64_FORMAT " pixels; at most %u pixels are read)",
                 name, width, height, (guint) PAL_IMAGE_MAX_PIXELS);
  return FALSE;
}

static void
set_truncated (GError **error, const char *name)
{
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
               "%s: the file ends early (truncated)", name);
}

/* ------------------------------------------------------------------------ */
/* JPEG                                                                     */
/* ------------------------------------------------------------------------ */

/* libjpeg's error manager, extended with a way back and what was seen. */
/* What libjpeg may allocate for one file (a progressive file keeps all its
 * coefficients, about 3 bytes a pixel in colour). */
#define JPEG_MAX_MEMORY (1u << 30)

/* Even a JPEG of one flat colour needs some bits per 8 x 8 block: more
 * pixels than this per byte of file (above JPEG_SMALL_PIXELS) is a header
 * that claims what the data cannot hold. */
#define JPEG_MAX_PIXELS_PER_BYTE 1024u
#define JPEG_SMALL_PIXELS        (1u << 24)

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf               jump;
  gboolean              truncated;   /* the data ended before EOI */
  char                  message[JMSG_LENGTH_MAX];
  char                  first_warning[JMSG_LENGTH_MAX];
} JpegError;

static void
jpeg_error_exit_cb (j_common_ptr cinfo)
{
  JpegError *err = (JpegError *) cinfo->err;

  /* past max_memory_to_use libjpeg asks for a backing store */
  if (cinfo->err->msg_code == JERR_NO_BACKING_STORE)
    g_snprintf (err->message, sizeof err->message,
                "decoding it needs more than the limit of %u MiB",
                JPEG_MAX_MEMORY >> 20);
  else
    (*cinfo->err->format_message) (cinfo, err->message);
  longjmp (err->jump, 1);
}

/* Warnings (msg_level -1) are counted; trace messages (>= 0) dropped.
 * libjpeg only warns when the data ends early (and goes on with gray), so
 * that warning is made an error here. */
static void
jpeg_emit_message_cb (j_common_ptr cinfo, int msg_level)
{
  JpegError *err = (JpegError *) cinfo->err;

  if (msg_level >= 0)
    return;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF)
    {
      err->truncated = TRUE;
      longjmp (err->jump, 1);
    }
  if (cinfo->err->num_warnings++ == 0)
    (*cinfo->err->format_message) (cinfo, err->first_warning);
}

static void
jpeg_output_message_cb (j_common_ptr cinfo)
{
  /* Nothing goes to stderr; messages end up in GErrors. */
}

static void
jpeg_error_init (JpegError *err)
{
  memset (err, 0, sizeof *err);
  jpeg_std_error (&err->pub);
  err->pub.error_exit = jpeg_error_exit_cb;
  err->pub.emit_message = jpeg_emit_message_cb;
  err->pub.output_message = jpeg_output_message_cb;
}

/* One row of CMYK (as stored) to RGB.  Adobe's encoders, and libjpeg for
 * files with an Adobe marker, store CMYK inverted (255 = no ink); then
 * R = C K / 255 on the stored values. */
static void
cmyk_row_to_rgb (const guint8 *src, guint8 *dst, int width, gboolean inverted)
{
  for (int x = 0; x < width; x++, src += 4, dst += 3)
    {
      guint c = src[0], m = src[1], y = src[2], k = src[3];

      if (!inverted)
        {
          c = 255 - c;
          m = 255 - m;
          y = 255 - y;
          k = 255 - k;
        }
      dst[0] = (guint8) ((c * k + 127) / 255);
      dst[1] = (guint8) ((m * k + 127) / 255);
      dst[2] = (guint8) ((y * k + 127) / 255);
    }
}

static PalImage *
load_jpeg (const guint8 *data, gsize len, const char *name, GError **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegError jerr;
  PalImage *volatile image = NULL;
  guint8 *volatile cmyk_row = NULL;

  if (len > ULONG_MAX)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "%s: the file is too large", name);
      return NULL;
    }

  memset (&cinfo, 0, sizeof cinfo);
  jpeg_error_init (&jerr);
  cinfo.err = &jerr.pub;
  if (setjmp (jerr.jump))
    {
      if (jerr.truncated)
        set_truncated (error, name);
      else
        g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                     "%s: not a valid JPEG file (%s)", name, jerr.message);
      jpeg_destroy_decompress (&cinfo);
      pal_image_free (image);
      g_free (cmyk_row);
      return NULL;
    }

  jpeg_create_decompress (&cinfo);
  cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
  jpeg_mem_src (&cinfo, data, (unsigned long) len);
  jpeg_read_header (&cinfo, TRUE);

  if (!check_size (cinfo.image_width, cinfo.image_height, name, error))
    {
      jpeg_destroy_decompress (&cinfo);
      return NULL;
    }
  guint64 pixels = (guint64) cinfo.image_width * cinfo.image_height;
  if (pixels > JPEG_SMALL_PIXELS && pixels > (guint64) len * JPEG_MAX_PIXELS_PER_BYTE)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: %u x %u pixels from a JPEG file of %" G_GSIZE_FORMAT " bytes, "
                   "more than the limit of %u pixels a byte: truncated or corrupt",
                   name, (guint) cinfo.image_width, (guint) cinfo.image_height, len,
                   JPEG_MAX_PIXELS_PER_BYTE);
      jpeg_destroy_decompress (&cinfo);
      return NULL;
    }

  int channels = 3;
  gboolean cmyk = FALSE;
  switch (cinfo.jpeg_color_space)
    {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      channels = 1;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;   /* YCCK -> CMYK in libjpeg */
      cmyk = TRUE;
      break;
    default:
      cinfo.out_color_space = JCS_RGB;
      break;
    }

  jpeg_start_decompress (&cinfo);
  if (cinfo.output_width != cinfo.image_width
      || cinfo.output_height != cinfo.image_height
      || cinfo.output_components != (cmyk ? 4 : channels))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "%s: unexpected JPEG output layout", name);
      jpeg_destroy_decompress (&cinfo);
      return NULL;
    }

  image = pal_image_new ((int) cinfo.output_width, (int) cinfo.output_height,
                         channels);
  gsize stride = (gsize) image->width * channels;
  if (cmyk)
    {
      gboolean inverted = cinfo.saw_Adobe_marker;

      cmyk_row = g_malloc ((gsize) image->width * 4);
      while (cinfo.output_scanline < cinfo.output_height)
        {
          JSAMPROW row = cmyk_row;
          gsize y = cinfo.output_scanline;

          if (jpeg_read_scanlines (&cinfo, &row, 1) != 1)
            break;
          cmyk_row_to_rgb (cmyk_row, image->data + y * stride, image->width,
                           inverted);
        }
    }
  else
    {
      while (cinfo.output_scanline < cinfo.output_height)
        {
          JSAMPROW rows[16];
          JDIMENSION y = cinfo.output_scanline;
          JDIMENSION n = MIN (cinfo.output_height - y, G_N_ELEMENTS (rows));

          for (JDIMENSION i = 0; i < n; i++)
            rows[i] = image->data + (y + i) * stride;
          if (jpeg_read_scanlines (&cinfo, rows, n) == 0)
            break;
        }
    }
  /* With a memory source a suspension (0 rows) cannot happen; guard anyway. */
  if (cinfo.output_scanline < cinfo.output_height)
    {
      set_truncated (error, name);
      jpeg_destroy_decompress (&cinfo);
      pal_image_free (image);
      g_free (cmyk_row);
      return NULL;
    }
  /* Reads up to EOI: a file cut after the last scan is an error too. */
  jpeg_finish_decompress (&cinfo);
  if (jerr.pub.num_warnings > 0)
    g_debug ("%s: %ld libjpeg warning(s), the first: %s", name,
             jerr.pub.num_warnings, jerr.first_warning);
  jpeg_destroy_decompress (&cinfo);
  g_free (cmyk_row);
  return image;
}

/* ------------------------------------------------------------------------ */
/* PNG                                                                      */
/* ------------------------------------------------------------------------ */

/* The most deflate can expand its input. */
#define PNG_MAX_INFLATE 1032u

/* libpng's I/O and error pointer, for reading and for writing. */
typedef struct
{
  const guint8 *data;        /* reading: the file */
  gsize         len, pos;
  GByteArray   *out;         /* writing: the encoded file */
  gboolean      truncated;
  char          message[256];
} PngIo;

static void
png_error_cb (png_structp png, png_const_charp message)
{
  PngIo *io = png_get_error_ptr (png);

  g_strlcpy (io->message, message, sizeof io->message);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp png, png_const_charp message)
{
  /* Warnings (bad ancillary chunks, odd profiles) do not stop a load. */
}

static void
png_read_cb (png_structp png, png_bytep out, size_t n)
{
  PngIo *io = png_get_io_ptr (png);

  if (n > io->len - io->pos)
    {
      io->truncated = TRUE;
      png_error (png, "truncated");
    }
  memcpy (out, io->data + io->pos, n);
  io->pos += n;
}

static PalImage *
load_png (const guint8 *data, gsize len, const char *name, GError **error)
{
  PngIo io = { .data = data, .len = len };
  PalImage *volatile image = NULL;
  png_structp png;
  png_infop info;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &io, png_error_cb,
                                png_warning_cb);
  info = png ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "%s: could not start libpng", name);
      return NULL;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      if (io.truncated)
        set_truncated (error, name);
      else
        g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                     "%s: not a valid PNG file (%s)", name, io.message);
      png_destroy_read_struct (&png, &info, NULL);
      pal_image_free (image);
      return NULL;
    }

  /* Our own limit (a pixel count) applies, not libpng's 1000000 a side. */
  png_set_user_limits (png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_set_read_fn (png, &io, png_read_cb);
  png_read_info (png, info);

  png_uint_32 width, height;
  int bit_depth, color_type, interlace;
  png_get_IHDR (png, info, &width, &height, &bit_depth, &color_type,
                &interlace, NULL, NULL);
  if (!check_size (width, height, name, error))
    {
      png_destroy_read_struct (&png, &info, NULL);
      return NULL;
    }
  /* Deflate expands at most 1032 times: refuse a header that claims more
   * pixels than the file can hold before they are allocated. */
  guint64 raw = (guint64) height * (png_get_rowbytes (png, info) + 1);
  if (raw > (guint64) len * PNG_MAX_INFLATE)
    {
      png_destroy_read_struct (&png, &info, NULL);
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: %u x %u pixels cannot come from a PNG file of %"
                   G_GSIZE_FORMAT " bytes (deflate expands at most %u times): "
                   "truncated or corrupt", name, (guint) width, (guint) height, len,
                   PNG_MAX_INFLATE);
      return NULL;
    }

  /* Everything to 8-bit gray or RGB: palettes expanded, small gray depths
   * widened, 16 bits scaled with rounding, alpha (and palette
   * transparency) dropped, interlacing undone. */
  int channels = (color_type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (bit_depth == 16)
    png_set_scale_16 (png);
  png_set_strip_alpha (png);
  int passes = png_set_interlace_handling (png);
  png_read_update_info (png, info);
  if (png_get_bit_depth (png, info) != 8
      || png_get_channels (png, info) != channels
      || png_get_rowbytes (png, info) != (gsize) width * channels)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "%s: unexpected PNG layout after conversion", name);
      png_destroy_read_struct (&png, &info, NULL);
      return NULL;
    }

  image = pal_image_new ((int) width, (int) height, channels);
  gsize stride = (gsize) width * channels;
  /* Each pass of an interlaced image fills its pixels of the full rows. */
  for (int pass = 0; pass < passes; pass++)
    for (png_uint_32 y = 0; y < height; y++)
      png_read_row (png, image->data + y * stride, NULL);
  /* Up to IEND: a file cut after the image data is an error too. */
  png_read_end (png, NULL);
  png_destroy_read_struct (&png, &info, NULL);
  return image;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* TRUE if @data (@len bytes, fewer than @n) begins @magic. */
static gboolean
is_prefix_of (const guint8 *data, gsize len, const guint8 *magic, gsize n)
{
  return len < n && memcmp (data, magic, len) == 0;
}

PalImage *
pal_image_load_from_data (const guint8 *data, gsize len, const char *name,
                          GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (name == NULL)
    name = "(image in memory)";
  if (len == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: the file is empty", name);
      return NULL;
    }
  if (len >= sizeof jpeg_magic && memcmp (data, jpeg_magic, sizeof jpeg_magic) == 0)
    return load_jpeg (data, len, name, error);
  if (len >= sizeof png_magic && memcmp (data, png_magic, sizeof png_magic) == 0)
    return load_png (data, len, name, error);
  if (is_prefix_of (data, len, jpeg_magic, sizeof jpeg_magic)
      || is_prefix_of (data, len, png_magic, sizeof png_magic))
    set_truncated (error, name);
  else
    g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                 "%s: not a JPEG or PNG image", name);
  return NULL;
}

PalImage *
pal_image_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *name = g_filename_display_name (path);
  g_autoptr(GError) map_error = NULL;
  struct stat st;
  int fd = pal_file_open_regular (path, name, &st, error);

  if (fd < 0)
    return NULL;
  if (st.st_size == 0)
    {
      close (fd);
      return pal_image_load_from_data (NULL, 0, name, error);
    }

  /* Mapped, not read: a huge file costs no memory before it is refused. */
  GMappedFile *map = g_mapped_file_new_from_fd (fd, FALSE, &map_error);
  close (fd);
  if (map == NULL)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", name,
                   map_error->message);
      return NULL;
    }
  PalImage *image = pal_image_load_from_data (
    (const guint8 *) g_mapped_file_get_contents (map),
    g_mapped_file_get_length (map), name, error);
  g_mapped_file_unref (map);
  return image;
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                   */
/* ------------------------------------------------------------------------ */

/* Replaces @path with @data (pal-file.h); the old file survives a failure. */
static gboolean
save_atomically (const char *path, const guint8 *data, gsize len, GError **error)
{
  if (!pal_file_replace_data (path, data, len))
    {
      int saved_errno = errno;
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "Could not save '%s': %s",
                   name, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static void
png_write_cb (png_structp png, png_bytep data, size_t n)
{
  PngIo *io = png_get_io_ptr (png);

  if (n > G_MAXUINT - io->out->len)
    png_error (png, "the encoded image exceeds 4 GiB");
  g_byte_array_append (io->out, data, (guint) n);
}

static void
png_flush_cb (png_structp png)
{
}

gboolean
pal_image_save_png (const PalImage *image, const char *path, GError **error)
{
  g_return_val_if_fail (image != NULL && path != NULL, FALSE);
  g_return_val_if_fail (image->channels == 1 || image->channels == 3, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *name = g_filename_display_name (path);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  PngIo io = { .out = out };
  png_structp png;
  png_infop info;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &io, png_error_cb,
                                 png_warning_cb);
  info = png ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "Could not save '%s': could not start libpng", name);
      return FALSE;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "Could not save '%s': %s", name, io.message);
      return FALSE;
    }

  png_set_write_fn (png, &io, png_write_cb, png_flush_cb);
  png_set_IHDR (png, info, (png_uint_32) image->width, (png_uint_32) image->height,
                8, image->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  gsize stride = (gsize) image->width * image->channels;
  for (int y = 0; y < image->height; y++)
    png_write_row (png, image->data + y * stride);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);

  return save_atomically (path, out->data, out->len, error);
}

/* jpeg_mem_dest's buffer, on the heap so that it survives a longjmp. */
typedef struct
{
  unsigned char *buf;
  unsigned long  size;
} JpegOut;

gboolean
pal_image_save_jpeg (const PalImage *image, const char *path, int quality,
                     GError **error)
{
  g_return_val_if_fail (image != NULL && path != NULL, FALSE);
  g_return_val_if_fail (image->channels == 1 || image->channels == 3, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *name = g_filename_display_name (path);
  if (quality < 1 || quality > 100)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "Could not save '%s': the JPEG quality must be 1 to 100, not %d",
                   name, quality);
      return FALSE;
    }
  if (image->width > JPEG_MAX_DIMENSION || image->height > JPEG_MAX_DIMENSION)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "Could not save '%s': JPEG allows at most %ld pixels a side, "
                   "the image is %d x %d", name, (long) JPEG_MAX_DIMENSION,
                   image->width, image->height);
      return FALSE;
    }

  struct jpeg_compress_struct cinfo;
  JpegError jerr;
  JpegOut *out = g_new0 (JpegOut, 1);

  memset (&cinfo, 0, sizeof cinfo);
  jpeg_error_init (&jerr);
  cinfo.err = &jerr.pub;
  if (setjmp (jerr.jump))
    {
      jpeg_destroy_compress (&cinfo);
      free (out->buf);
      g_free (out);
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "Could not save '%s': %s", name, jerr.message);
      return FALSE;
    }

  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &out->buf, &out->size);
  cinfo.image_width = (JDIMENSION) image->width;
  cinfo.image_height = (JDIMENSION) image->height;
  cinfo.input_components = image->channels;
  cinfo.in_color_space = image->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  jpeg_start_compress (&cinfo, TRUE);
  gsize stride = (gsize) image->width * image->channels;
  while (cinfo.next_scanline < cinfo.image_height)
    {
      /* libjpeg takes non-const rows but does not write to them. */
      JSAMPROW row = (JSAMPROW) (image->data + cinfo.next_scanline * stride);
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);

  gboolean ok = save_atomically (path, out->buf, out->size, error);
  free (out->buf);
  g_free (out);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Resizing                                                                 */
/* ------------------------------------------------------------------------ */

/* The resampling along one axis from @src to @dst samples: output i is
 * the sum over k < offset[i+1] - offset[i] of
 * weights[offset[i] + k] * input[start[i] + k]. */
typedef struct
{
  int    n;          /* output length */
  int   *start;      /* [n] */
  int   *offset;     /* [n + 1] */
  float *weights;    /* [offset[n]] */
} Axis;

static void
axis_init (Axis *ax, int src, int dst)
{
  ax->n = dst;
  ax->start = g_new (int, dst);
  ax->offset = g_new (int, dst + 1);
  ax->offset[0] = 0;

  if (src > dst)
    {
      /* Area averaging.  In units of 1/dst of an input pixel, input j
       * covers [j dst, (j+1) dst) and output i covers [i src, (i+1) src);
       * the overlaps are exact integers, the weights overlap / src. */
      ax->weights = g_new (float, (gsize) src + 2 * (gsize) dst);
      for (int i = 0; i < dst; i++)
        {
          gint64 lo = (gint64) i * src, hi = lo + src;
          int j0 = (int) (lo / dst), j1 = (int) ((hi - 1) / dst);
          int o = ax->offset[i];

          ax->start[i] = j0;
          for (int j = j0; j <= j1; j++)
            {
              gint64 ov = MIN (hi, (gint64) (j + 1) * dst) - MAX (lo, (gint64) j * dst);
              ax->weights[o++] = (float) ((double) ov / src);
            }
          ax->offset[i + 1] = o;
        }
    }
  else
    {
      /* Bilinear with pixel centres aligned, clamped at the edges (also
       * the identity when src == dst: t is then 0). */
      ax->weights = g_new (float, 2 * (gsize) dst);
      for (int i = 0; i < dst; i++)
        {
          double x = (i + 0.5) * src / dst - 0.5;
          int o = ax->offset[i];

          x = CLAMP (x, 0.0, (double) (src - 1));
          int j = MIN ((int) x, src - 1);
          double t = x - j;
          ax->start[i] = j;
          if (j + 1 < src && t > 0.0)
            {
              ax->weights[o++] = (float) (1.0 - t);
              ax->weights[o++] = (float) t;
            }
          else
            ax->weights[o++] = 1.0f;
          ax->offset[i + 1] = o;
        }
    }
}

static void
axis_clear (Axis *ax)
{
  g_free (ax->start);
  g_free (ax->offset);
  g_free (ax->weights);
}

static int
axis_max_taps (const Axis *ax)
{
  int m = 1;

  for (int i = 0; i < ax->n; i++)
    m = MAX (m, ax->offset[i + 1] - ax->offset[i]);
  return m;
}

/* Horizontal pass over one row of @ch channels: @src (input type T) to
 * @dst (float, ax->n pixels). */
#define DEFINE_HPASS(fn, T)                                                  \
  static void                                                                \
  fn (const T *src, float *dst, const Axis *ax, int ch)                      \
  {                                                                          \
    for (int i = 0; i < ax->n; i++)                                          \
      {                                                                      \
        const T *p = src + (gsize) ax->start[i] * ch;                        \
        const float *w = ax->weights + ax->offset[i];                        \
        int taps = ax->offset[i + 1] - ax->offset[i];                        \
                                                                             \
        if (ch == 1)                                                         \
          {                                                                  \
            float a = 0.0f;                                                  \
            for (int k = 0; k < taps; k++)                                   \
              a += w[k] * p[k];                                              \
            dst[i] = a;                                                      \
          }                                                                  \
        else                                                                 \
          {                                                                  \
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f;                           \
            for (int k = 0; k < taps; k++, p += 3)                           \
              {                                                              \
                a0 += w[k] * p[0];                                           \
                a1 += w[k] * p[1];                                           \
                a2 += w[k] * p[2];                                           \
              }                                                              \
            dst[3 * i] = a0;                                                 \
            dst[3 * i + 1] = a1;                                             \
            dst[3 * i + 2] = a2;                                             \
          }                                                                  \
      }                                                                      \
  }

DEFINE_HPASS (hpass_u8, guint8)
DEFINE_HPASS (hpass_f32, float)

/* Vertical pass for one output row of @len values: the weighted sum of
 * @taps input rows, rows[k] (input type T). */
#define DEFINE_VPASS(fn, T)                                                  \
  static void                                                                \
  fn (const T *const *rows, const float *w, int taps, float *dst, gsize len) \
  {                                                                          \
    const T *r = rows[0];                                                    \
    for (gsize j = 0; j < len; j++)                                          \
      dst[j] = w[0] * r[j];                                                  \
    for (int k = 1; k < taps; k++)                                           \
      {                                                                      \
        float wk = w[k];                                                     \
        r = rows[k];                                                         \
        for (gsize j = 0; j < len; j++)                                      \
          dst[j] += wk * r[j];                                               \
      }                                                                      \
  }

DEFINE_VPASS (vpass_u8, guint8)
DEFINE_VPASS (vpass_f32, float)

/* Rounds to nearest, clamped to 0..255. */
static void
row_to_u8 (const float *src, guint8 *dst, gsize len)
{
  for (gsize j = 0; j < len; j++)
    {
      float v = src[j] + 0.5f;
      v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
      dst[j] = (guint8) v;
    }
}

PalImage *
pal_image_resize (const PalImage *image, int width, int height)
{
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  int sw = image->width, sh = image->height, ch = image->channels;
  if (width == sw && height == sh)
    return pal_image_copy (image);

  PalImage *out = pal_image_new (width, height, ch);
  if (out == NULL)
    return NULL;

  Axis ax, ay;
  axis_init (&ax, sw, width);
  axis_init (&ay, sh, height);
  gsize sstride = (gsize) sw * ch, dstride = (gsize) width * ch;
  int taps_y = axis_max_taps (&ay);
  const void **rows = g_new (const void *, taps_y);
  float *line = g_new (float, dstride);

  /* Separable; the cheaper order.  The vertical pass streams over
   * contiguous rows and vectorises, the horizontal one gathers: weigh it
   * more. */
  double cost_v_first = (double) sw * ay.offset[height] + 4.0 * height * ax.offset[width];
  double cost_h_first = 4.0 * sh * ax.offset[width] + (double) width * ay.offset[height];

  if (cost_v_first <= cost_h_first)
    {
      /* Each output row: input rows blended, then resampled along x. */
      float *mid = g_new (float, sstride);

      for (int y = 0; y < height; y++)
        {
          int o = ay.offset[y], taps = ay.offset[y + 1] - o;
          for (int k = 0; k < taps; k++)
            rows[k] = image->data + (gsize) (ay.start[y] + k) * sstride;
          vpass_u8 ((const guint8 *const *) rows, ay.weights + o, taps, mid, sstride);
          if (width == sw)
            row_to_u8 (mid, out->data + y * dstride, dstride);
          else
            {
              hpass_f32 (mid, line, &ax, ch);
              row_to_u8 (line, out->data + y * dstride, dstride);
            }
        }
      g_free (mid);
    }
  else
    {
      /* Input rows resampled along x into a ring of taps_y rows (the
       * windows of consecutive outputs only move down), then blended. */
      float *ring = g_new (float, (gsize) taps_y * dstride);
      int next = 0;   /* the next input row to resample */

      for (int y = 0; y < height; y++)
        {
          int o = ay.offset[y], taps = ay.offset[y + 1] - o;
          int first = ay.start[y];

          next = MAX (next, first);
          for (; next < first + taps; next++)
            hpass_u8 (image->data + (gsize) next * sstride,
                      ring + (gsize) (next % taps_y) * dstride, &ax, ch);
          for (int k = 0; k < taps; k++)
            rows[k] = ring + (gsize) ((first + k) % taps_y) * dstride;
          vpass_f32 ((const float *const *) rows, ay.weights + o, taps, line, dstride);
          row_to_u8 (line, out->data + y * dstride, dstride);
        }
      g_free (ring);
    }

  g_free (line);
  g_free (rows);
  axis_clear (&ax);
  axis_clear (&ay);
  return out;
}

/* ------------------------------------------------------------------------ */
/* Geometry                                                                 */
/* ------------------------------------------------------------------------ */

PalImage *
pal_image_warp_affine (const PalImage *image, const double m[6],
                       int width, int height, guint8 border)
{
  g_return_val_if_fail (image != NULL && m != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  int sw = image->width, sh = image->height, ch = image->channels;
  gsize sstride = (gsize) sw * ch;
  PalImage *out = pal_image_new (width, height, ch);
  if (out == NULL)
    return NULL;
  guint8 *d = out->data;

  for (int v = 0; v < height; v++)
    for (int u = 0; u < width; u++, d += ch)
      {
        double sx = m[0] * u + m[1] * v + m[2];
        double sy = m[3] * u + m[4] * v + m[5];

        /* Also catches NaN: every neighbour outside gives the border. */
        if (!(sx > -1.0 && sx < sw && sy > -1.0 && sy < sh))
          {
            memset (d, border, ch);
            continue;
          }
        int x0 = (int) floor (sx), y0 = (int) floor (sy);
        float tx = (float) (sx - x0), ty = (float) (sy - y0);
        gboolean in_x0 = x0 >= 0, in_x1 = x0 + 1 < sw;
        gboolean in_y0 = y0 >= 0, in_y1 = y0 + 1 < sh;
        /* Index of the top-left neighbour (possibly outside: -1). */
        gssize i00 = (gssize) y0 * (gssize) sstride + (gssize) x0 * ch;
        const guint8 *s = image->data;

        for (int c = 0; c < ch; c++)
          {
            gssize i = i00 + c;
            float p00 = in_y0 && in_x0 ? s[i] : border;
            float p01 = in_y0 && in_x1 ? s[i + ch] : border;
            float p10 = in_y1 && in_x0 ? s[i + (gssize) sstride] : border;
            float p11 = in_y1 && in_x1 ? s[i + (gssize) sstride + ch] : border;
            float top = p00 + tx * (p01 - p00);
            float bottom = p10 + tx * (p11 - p10);
            float val = top + ty * (bottom - top) + 0.5f;

            d[c] = (guint8) CLAMP (val, 0.0f, 255.0f);
          }
      }
  return out;
}

PalImage *
pal_image_flip (const PalImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  int w = image->width, ch = image->channels;
  PalImage *out = pal_image_new (w, image->height, ch);
  gsize stride = (gsize) w * ch;

  for (int y = 0; y < image->height; y++)
    {
      const guint8 *s = image->data + y * stride;
      guint8 *d = out->data + y * stride + stride - ch;
      for (int x = 0; x < w; x++, s += ch, d -= ch)
        memcpy (d, s, ch);
    }
  return out;
}

/* The rectangle may reach outside the image: those pixels are 0.  A width
 * or height below 1 gives NULL (no warning: an empty box is not a bug). */
PalImage *
pal_image_crop (const PalImage *image, int x, int y, int width, int height)
{
  g_return_val_if_fail (image != NULL, NULL);

  if (width < 1 || height < 1)
    return NULL;

  int ch = image->channels;
  PalImage *out = pal_image_new (width, height, ch);
  if (out == NULL)
    return NULL;

  /* The overlap, in 64 bits: x + width may not fit an int. */
  gint64 x0 = MAX ((gint64) x, 0), x1 = MIN ((gint64) x + width, (gint64) image->width);
  gint64 y0 = MAX ((gint64) y, 0), y1 = MIN ((gint64) y + height, (gint64) image->height);
  if (x0 >= x1 || y0 >= y1)
    return out;

  gsize sstride = (gsize) image->width * ch, dstride = (gsize) width * ch;
  gsize n = (gsize) (x1 - x0) * ch;
  for (gint64 sy = y0; sy < y1; sy++)
    memcpy (out->data + (gsize) (sy - y) * dstride + (gsize) (x0 - x) * ch,
            image->data + (gsize) sy * sstride + (gsize) x0 * ch, n);
  return out;
}

/* ------------------------------------------------------------------------ */
/* Colour and the network's input                                           */
/* ------------------------------------------------------------------------ */

PalImage *
pal_image_to_rgb (const PalImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  if (image->channels == 3)
    return pal_image_copy (image);

  PalImage *out = pal_image_new (image->width, image->height, 3);
  gsize n = (gsize) image->width * image->height;
  for (gsize i = 0; i < n; i++)
    memset (out->data + 3 * i, image->data[i], 3);
  return out;
}

/* Luminance 0.299 R + 0.587 G + 0.114 B, rounded (exactly, in integers). */
PalImage *
pal_image_to_gray (const PalImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  if (image->channels == 1)
    return pal_image_copy (image);

  PalImage *out = pal_image_new (image->width, image->height, 1);
  gsize n = (gsize) image->width * image->height;
  const guint8 *s = image->data;
  for (gsize i = 0; i < n; i++, s += 3)
    out->data[i] = (guint8) ((299u * s[0] + 587u * s[1] + 114u * s[2] + 500u) / 1000u);
  return out;
}

/* @mean and @std may be NULL (0 and 1). */
void
pal_image_to_tensor (const PalImage *image, float *dst, int channels,
                     int width, int height,
                     const float mean[3], const float std[3])
{
  g_return_if_fail (image != NULL && dst != NULL);
  g_return_if_fail (channels == 1 || channels == 3);
  g_return_if_fail (width > 0 && height > 0);

  g_autoptr(PalImage) gray = NULL;
  g_autoptr(PalImage) sized = NULL;
  const PalImage *src = image;

  /* To gray first when only the luminance is wanted: less to resize. */
  if (channels == 1 && src->channels == 3)
    src = gray = pal_image_to_gray (src);
  if (src->width != width || src->height != height)
    src = sized = pal_image_resize (src, width, height);

  gsize plane = (gsize) width * height;
  int step = src->channels;
  for (int c = 0; c < channels; c++)
    {
      float lut[256];
      float mu = mean ? mean[c] : 0.0f, sd = std ? std[c] : 1.0f;
      const guint8 *p = src->data + (step == 3 ? c : 0);
      float *d = dst + c * plane;

      for (int v = 0; v < 256; v++)
        lut[v] = ((float) v / 255.0f - mu) / sd;
      for (gsize i = 0; i < plane; i++)
        d[i] = lut[p[i * step]];
    }
}
