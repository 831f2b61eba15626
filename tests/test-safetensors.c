/* test-safetensors.c - tests for the safetensors reader and writer */
#include "pal-safetensors.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#ifdef G_OS_UNIX
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "test-util.h"
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static char *
scratch_new (void)
{
  return scratch_dir_new ("pal-st-test-XXXXXX");
}

/* Writes a file made of @header_len (as stored), @json and @data_len bytes
 * of @data (zeros if @data is NULL). */
static void
write_raw (const char *path, guint64 header_len, const char *json,
           const void *data, gsize data_len)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (header_len);

  g_byte_array_append (b, (const guint8 *) &le, 8);
  g_byte_array_append (b, (const guint8 *) json, (guint) strlen (json));
  if (data != NULL)
    g_byte_array_append (b, data, (guint) data_len);
  else
    {
      guint old = b->len;
      g_byte_array_set_size (b, old + (guint) data_len);
      memset (b->data + old, 0, data_len);
    }
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
}

/* A well-formed header @json followed by @data_len zero bytes. */
static void
write_json (const char *path, const char *json, gsize data_len)
{
  write_raw (path, strlen (json), json, NULL, data_len);
}

/* Opening @path must fail with @code, a message starting with the path and
 * containing @needle (if not NULL). */
static void
assert_open_fails (const char *path, int code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);

  g_assert_null (st);
  g_assert_error (error, PAL_SAFETENSORS_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, needle);
}

static GBytes *
read_bytes (const char *path)
{
  char *contents;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (contents, len);
}

/* Header length stored in the first 8 bytes of @bytes. */
static guint64
stored_header_len (GBytes *bytes)
{
  guint64 n;

  g_assert_cmpuint (g_bytes_get_size (bytes), >=, 8);
  memcpy (&n, g_bytes_get_data (bytes, NULL), 8);
  return GUINT64_FROM_LE (n);
}

/* A small valid file: metadata, a [2, 3] F32 "w" and a [4] I64 "labels". */
static const float good_w[6] = { 1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 65504.0f };
static const gint64 good_labels[4] = { 0, -1, 7, G_MAXINT32 };

static void
save_good (const char *path)
{
  g_autoptr(PalStWriter) w = pal_st_writer_new ();
  g_autoptr(GError) error = NULL;

  pal_st_writer_set_metadata (w, "format", "pt");
  pal_st_writer_add (w, "w", "F32", 2, (gint64[]) { 2, 3 }, good_w);
  pal_st_writer_add (w, "labels", "I64", 1, (gint64[]) { 4 }, good_labels);
  g_assert_true (pal_st_writer_save (w, path, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

static void
test_roundtrip (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;

  /* -0.0 and a NaN with a payload check that data are copied bit-exactly. */
  guint32 nan_bits = 0x7fc01234;
  float a[6] = { 1.5f, -0.0f, 3.25f, 1e-38f, -65504.0f, 0 };
  memcpy (&a[5], &nan_bits, 4);
  float scalar = 42.5f;
  gint64 labels[4] = { 0, -1, 7, G_MAXINT32 };
  guint8 bytes[5] = { 0, 1, 127, 128, 255 };
  double f64[2] = { G_PI, -1e300 };
  guint16 bf16[3] = { 0x3f80, 0xbf80, 0x7f80 };
  guint8 flags[2] = { 1, 0 };

  const char *odd_name = "layer.0/\"weird\" \\ name\n\t\xc3\xa9\xe2\x9c\x93";
  const char *meta_key = "quo\"te\\key\xc3\xbc";
  const char *meta_value = "va\"l\\ue\nnext\tline \x01 \xe6\x97\xa5\xe6\x9c\xac";

  struct
  {
    const char *name, *dtype;
    int ndim;
    gint64 shape[2];
    const void *data;
    gsize nbytes;
  } spec[] = {
    { "a", "F32", 2, { 2, 3 }, a, sizeof a },
    { "scalar", "F32", 0, { 0 }, &scalar, sizeof scalar },
    { "empty", "F32", 1, { 0 }, NULL, 0 },
    { "labels", "I64", 1, { 4 }, labels, sizeof labels },
    { odd_name, "U8", 1, { 5 }, bytes, sizeof bytes },
    { "f64", "F64", 2, { 1, 2 }, f64, sizeof f64 },
    { "bf16", "BF16", 1, { 3 }, bf16, sizeof bf16 },
    { "flags", "BOOL", 1, { 2 }, flags, sizeof flags },
  };

  {
    g_autoptr(PalStWriter) w = pal_st_writer_new ();
    pal_st_writer_set_metadata (w, "format", "pt");
    pal_st_writer_set_metadata (w, meta_key, "replaced below");
    pal_st_writer_set_metadata (w, "\xc3\xbcnicode", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    pal_st_writer_set_metadata (w, meta_key, meta_value);
    for (gsize i = 0; i < G_N_ELEMENTS (spec); i++)
      pal_st_writer_add (w, spec[i].name, spec[i].dtype, spec[i].ndim,
                         spec[i].shape, spec[i].data);
    g_assert_true (pal_st_writer_save (w, path, &error));
    g_assert_no_error (error);
  }

  /* Key order in the header: metadata first, then the tensors as added. */
  g_autoptr(GBytes) raw = read_bytes (path);
  const char *header = (const char *) g_bytes_get_data (raw, NULL) + 8;
  g_assert_true (g_str_has_prefix (header, "{\"__metadata__\":{\"format\":\"pt\","));
  const char *prev = header;
  for (gsize i = 0; i < 4; i++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\":{", spec[i].name);
      const char *at = strstr (header, quoted);
      g_assert_true (at != NULL && at > prev);
      prev = at;
    }

  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_safetensors_get_path (st), ==, path);
  g_assert_cmpuint (pal_safetensors_get_n_tensors (st), ==, G_N_ELEMENTS (spec));
  g_assert_null (pal_safetensors_get_nth (st, G_N_ELEMENTS (spec)));
  for (guint i = 0; i < G_N_ELEMENTS (spec); i++)
    {
      const PalStTensor *t = pal_safetensors_get_nth (st, i);
      g_assert_nonnull (t);
      g_assert_true (pal_safetensors_lookup (st, spec[i].name) == t);
      g_assert_cmpstr (t->name, ==, spec[i].name);
      g_assert_cmpstr (t->dtype, ==, spec[i].dtype);
      g_assert_cmpint (t->ndim, ==, spec[i].ndim);
      gsize numel = 1;
      for (int d = 0; d < t->ndim; d++)
        {
          g_assert_cmpint (t->shape[d], ==, spec[i].shape[d]);
          numel *= (gsize) spec[i].shape[d];
        }
      g_assert_cmpuint (t->numel, ==, numel);
      g_assert_cmpuint (t->nbytes, ==, spec[i].nbytes);
      if (t->nbytes > 0)
        g_assert_cmpmem (t->data, t->nbytes, spec[i].data, spec[i].nbytes);
    }

  float a_back[6], scalar_back = 0, empty_back[1];
  g_assert_true (pal_safetensors_read_f32 (st, "a", 2, (gint64[]) { 2, 3 }, a_back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (a_back, sizeof a_back, a, sizeof a);
  g_assert_true (pal_safetensors_read_f32 (st, "scalar", 0, NULL, &scalar_back, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (scalar_back, ==, 42.5f);
  g_assert_true (pal_safetensors_read_f32 (st, "empty", 1, (gint64[]) { 0 }, empty_back, &error));
  g_assert_no_error (error);

  gint32 labels_back[4];
  g_assert_true (pal_safetensors_read_labels (st, "labels", 4, labels_back, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (labels_back[i], ==, labels[i]);
  gint32 bytes_back[5];
  g_assert_true (pal_safetensors_read_labels (st, odd_name, 5, bytes_back, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bytes_back[4], ==, 255);

  g_assert_cmpstr (pal_safetensors_get_metadata (st, "format"), ==, "pt");
  g_assert_cmpstr (pal_safetensors_get_metadata (st, meta_key), ==, meta_value);
  g_assert_cmpstr (pal_safetensors_get_metadata (st, "\xc3\xbcnicode"), ==,
                   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  g_assert_null (pal_safetensors_get_metadata (st, "missing"));
  g_assert_cmpuint (g_hash_table_size (pal_safetensors_get_metadata_table (st)), ==, 3);

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

static void
test_empty_file (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "empty.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PalStWriter) w = pal_st_writer_new ();

  g_assert_true (pal_st_writer_save (w, path, &error));
  g_assert_no_error (error);
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pal_safetensors_get_n_tensors (st), ==, 0);
  g_assert_cmpuint (g_hash_table_size (pal_safetensors_get_metadata_table (st)), ==, 0);
  g_assert_null (pal_safetensors_lookup (st, "w"));

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

/* A folder or a FIFO named as a model is refused at once (opening a FIFO
 * for reading would wait for a writer forever). */
static void
test_not_a_file (void)
{
  char *dir = scratch_new ();
  g_autofree char *fifo = g_build_filename (dir, "model.safetensors", NULL);
  const char *paths[] = { dir, fifo };

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("%s: not a regular file", paths[i]);
      PalSafetensors *st = pal_safetensors_open (paths[i], &error);

      g_assert_null (st);
      g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_IO);
      g_assert_cmpstr (error->message, ==, expected);
    }
  g_unlink (fifo);
  scratch_free (dir);
}

static void
test_alignment (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "align.safetensors", NULL);
  guint8 byte = 0xab;

  /* Names of every length modulo 8 exercise every amount of padding. */
  for (int len = 1; len <= 17; len++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PalStWriter) w = pal_st_writer_new ();
      g_autofree char *name = g_strnfill (len, 'n');

      pal_st_writer_add (w, name, "U8", 1, (gint64[]) { 1 }, &byte);
      g_assert_true (pal_st_writer_save (w, path, &error));
      g_assert_no_error (error);

      g_autoptr(GBytes) raw = read_bytes (path);
      gsize size;
      const char *bytes = g_bytes_get_data (raw, &size);
      guint64 n = stored_header_len (raw);
      g_assert_cmpuint ((8 + n) % 8, ==, 0);
      g_assert_cmpuint (size, ==, 8 + n + 1);
      g_autofree char *json = g_strndup (bytes + 8, n);
      g_assert_true (g_str_has_suffix (g_strchomp (json), "}"));
      for (guint64 i = strlen (json); i < n; i++)
        g_assert_cmpint (bytes[8 + i], ==, ' ');
      g_assert_cmpint ((guint8) bytes[8 + n], ==, 0xab);

      g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (pal_safetensors_lookup (st, name)->data[0], ==, 0xab);
    }
  scratch_free (dir);
}

/* Tensor data need not be aligned: read_f32 must still work. */
static void
test_unaligned (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "unaligned.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  const char *json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]}}";
  guint8 data[9] = { 0 };
  float expect[2] = { 3.5f, -7.25f }, got[2];

  for (int i = 0; i < 2; i++)
    {
      guint32 bits;
      memcpy (&bits, &expect[i], 4);
      bits = GUINT32_TO_LE (bits);
      memcpy (data + 1 + 4 * i, &bits, 4);
    }
  write_raw (path, strlen (json), json, data, sizeof data);
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pal_safetensors_read_f32 (st, "x", 1, (gint64[]) { 2 }, got, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, sizeof got, expect, sizeof expect);

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

/* ------------------------------------------------------------------------ */
/* Malformed files                                                          */
/* ------------------------------------------------------------------------ */

static void
test_truncated (void)
{
  char *dir = scratch_new ();
  g_autofree char *good = g_build_filename (dir, "good.safetensors", NULL);
  g_autofree char *path = g_build_filename (dir, "cut.safetensors", NULL);

  save_good (good);
  g_autoptr(GBytes) raw = read_bytes (good);
  gsize size;
  const char *bytes = g_bytes_get_data (raw, &size);
  guint64 data_start = 8 + stored_header_len (raw);

  for (gsize cut = 0; cut < size; cut++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (g_file_set_contents (path, bytes, cut, NULL));
      g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
      g_assert_null (st);
      g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_FORMAT);
      g_assert_true (g_str_has_prefix (error->message, path));
      if (cut < 8)
        g_assert_nonnull (strstr (error->message, "too short"));
      else
        g_assert_nonnull (strstr (error->message, "truncated"));
      /* Inside the data, the first tensor that does not fit is named:
       * "w" takes the first 24 bytes, "labels" the next 32. */
      if (cut >= data_start)
        g_assert_nonnull (strstr (error->message, cut < data_start + 24 ? "'w'" : "'labels'"));
    }
  scratch_free (dir);
}

static void
test_header_too_large (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "huge.safetensors", NULL);

  write_raw (path, G_GUINT64_CONSTANT (1) << 30, "{}", NULL, 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_TOO_LARGE, "limit of 104857600 bytes");
  write_raw (path, G_MAXUINT64, "{}", NULL, 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_TOO_LARGE, "limit");
  scratch_free (dir);
}

static void
test_header_beyond_file (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "short.safetensors", NULL);

  write_raw (path, 1000, "{}", NULL, 16);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "truncated");
  write_raw (path, 0, "", NULL, 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "JSON");
  g_assert_true (g_file_set_contents (path, "abc", 3, NULL));
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "too short");
  scratch_free (dir);
}

static void
test_invalid_json (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "bad-json.safetensors", NULL);
  const char *bad[] = {
    "{\"w\": {\"dtype\": \"F32\",",            /* unterminated */
    "{\"w\" \"x\"}",                            /* missing colon */
    "{'w': {}}",                                /* single quotes */
    "{\"w\": 0x10}",                            /* hex */
    "{\"w\": 1 /* comment */}",                 /* comment */
    "{} {}",                                    /* trailing data */
    "[1, 2]",                                   /* not an object */
    "\"string\"",
    "",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      write_json (path, bad[i], 0);
      assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, NULL);
    }

  /* Invalid UTF-8 and an embedded NUL. */
  write_json (path, "{\"w\xff\": {}}", 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, NULL);
  write_raw (path, 10, "{}", "\0{\"a\":{}}", 8);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, NULL);

  /* Deep nesting must be refused, not overflow json-glib's stack. */
  const int depth = 1000000;
  g_autoptr(GString) deep = g_string_new ("{\"w\":");
  for (int i = 0; i < depth; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < depth; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  write_json (path, deep->str, 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "nested");
  scratch_free (dir);
}

static void
test_wrong_byte_count (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "count.safetensors", NULL);

  write_json (path, "{\"conv.w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT,
                     "tensor 'conv.w': header says 20 bytes but shape [2, 3] of F32 needs 24");
  scratch_free (dir);
}

static void
test_unknown_dtype (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "dtype.safetensors", NULL);

  write_json (path, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_DTYPE, "tensor 'w' has unsupported dtype 'F8_E4M3'");
  scratch_free (dir);
}

static void
test_end_before_begin (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "order.safetensors", NULL);

  write_json (path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,4]}}", 8);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "'w'");
  scratch_free (dir);
}

static void
test_offsets_beyond_data (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "beyond.safetensors", NULL);

  write_json (path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", 16);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT,
                     "file is truncated: tensor 'w' ends at byte 24 but the data section has 16 bytes");
  scratch_free (dir);
}

static void
test_overlap (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "overlap.safetensors", NULL);

  write_json (path,
              "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "tensors 'a' and 'b' overlap");

  /* A zero-size tensor inside another one counts as overlapping too... */
  write_json (path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "'z'");

  /* ...but not one at a boundary, and gaps are allowed. */
  g_autoptr(GError) error = NULL;
  write_json (path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
              "\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[12,13]}}", 16);
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_safetensors_get_nth (st, 0)->name, ==, "a");
  g_assert_cmpstr (pal_safetensors_get_nth (st, 1)->name, ==, "z");
  g_assert_cmpstr (pal_safetensors_get_nth (st, 2)->name, ==, "c");

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

static void
test_bad_metadata (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "meta.safetensors", NULL);

  write_json (path, "{\"__metadata__\":{\"ok\":\"x\",\"epoch\":3}}", 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT,
                     "metadata value for key 'epoch' is not a string");
  write_json (path, "{\"__metadata__\":{\"k\":null}}", 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "'k'");
  write_json (path, "{\"__metadata__\":[\"x\"]}", 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "__metadata__");
  write_json (path, "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT,
                     "duplicate key 'k' in the header entry '__metadata__'");
  scratch_free (dir);
}

static void
test_bad_entries (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "entries.safetensors", NULL);
  const struct
  {
    const char *entry;
    int code;
    const char *needle;
  } cases[] = {
    { "{\"shape\":[1],\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "dtype" },
    { "{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "dtype" },
    { "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "shape" },
    { "{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "shape" },
    { "{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "shape" },
    { "{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_FORMAT, "shape" },
    { "{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", PAL_SAFETENSORS_ERROR_SHAPE, "negative" },
    { "{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}",
      PAL_SAFETENSORS_ERROR_SHAPE, "9 dimensions" },
    { "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}",
      PAL_SAFETENSORS_ERROR_TOO_LARGE, "too large" },
    { "{\"dtype\":\"F32\",\"shape\":[1]}", PAL_SAFETENSORS_ERROR_FORMAT, "data_offsets" },
    { "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}", PAL_SAFETENSORS_ERROR_FORMAT, "data_offsets" },
    { "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}", PAL_SAFETENSORS_ERROR_FORMAT, "data_offsets" },
    { "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}", PAL_SAFETENSORS_ERROR_FORMAT, "data_offsets" },
    /* Beyond the range of gint64: json-glib saturates, the result is refused. */
    { "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551620,18446744073709551624]}",
      PAL_SAFETENSORS_ERROR_FORMAT, NULL },
    { "[0, 4]", PAL_SAFETENSORS_ERROR_FORMAT, "not an object" },
    { "{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}",
      PAL_SAFETENSORS_ERROR_FORMAT, "duplicate key 'dtype'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"ten.sor\":%s}", cases[i].entry);
      write_json (path, json, 8);
      assert_open_fails (path, cases[i].code, "'ten.sor'");
      if (cases[i].needle != NULL)
        assert_open_fails (path, cases[i].code, cases[i].needle);
    }
  scratch_free (dir);
}

static void
test_duplicate_names (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "dup.safetensors", NULL);

  write_json (path,
              "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
              "\"v\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
              "\"\\u0077\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}", 3);
  assert_open_fails (path, PAL_SAFETENSORS_ERROR_FORMAT, "duplicate tensor name 'w'");
  scratch_free (dir);
}

/* Random corruption of a good file must never crash or read out of bounds
 * (run under ASan); whatever opens must have sane tensors. */
static void
test_corruption (void)
{
  char *dir = scratch_new ();
  g_autofree char *good = g_build_filename (dir, "good.safetensors", NULL);
  g_autofree char *path = g_build_filename (dir, "fuzz.safetensors", NULL);

  save_good (good);
  g_autoptr(GBytes) raw = read_bytes (good);
  gsize size;
  const guint8 *bytes = g_bytes_get_data (raw, &size);
  g_autofree guint8 *copy = g_malloc (size);
  guint opened = 0;

  for (int iter = 0; iter < 3000; iter++)
    {
      g_autoptr(GError) error = NULL;

      memcpy (copy, bytes, size);
      int flips = g_test_rand_int_range (1, 4);
      for (int f = 0; f < flips; f++)
        {
          /* Mostly hit the length and JSON, sometimes the data. */
          gsize at = g_test_rand_int_range (0, 8) == 0
                       ? (gsize) g_test_rand_int_range (0, (gint32) size)
                       : (gsize) g_test_rand_int_range (0, (gint32) MIN (size, 8 + 160));
          copy[at] = g_test_rand_bit () ? (guint8) g_test_rand_int ()
                                        : (guint8) "{}[]\",:0123456789 -\\"[g_test_rand_int_range (0, 20)];
        }
      g_assert_true (g_file_set_contents (path, (const char *) copy, size, NULL));
      g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
      if (st == NULL)
        {
          g_assert_true (error != NULL && error->domain == PAL_SAFETENSORS_ERROR);
          g_assert_true (g_str_has_prefix (error->message, path));
          continue;
        }
      opened++;
      guint sum = 0;
      for (guint i = 0; i < pal_safetensors_get_n_tensors (st); i++)
        {
          const PalStTensor *t = pal_safetensors_get_nth (st, i);
          for (gsize b = 0; b < t->nbytes; b++)
            sum += t->data[b];
        }
      (void) sum;
    }
  g_test_message ("%u of 3000 corrupted files opened", opened);
  scratch_free (dir);
}

/* ------------------------------------------------------------------------ */
/* Typed reads                                                              */
/* ------------------------------------------------------------------------ */

static void
test_read_f32_errors (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  float dst[6] = { 9, 9, 9, 9, 9, 9 };

  save_good (path);
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);

  g_assert_false (pal_safetensors_read_f32 (st, "w", 2, (gint64[]) { 3, 2 }, dst, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_SHAPE);
  g_autofree char *expected = g_strdup_printf ("%s: tensor 'w' has shape [2, 3], expected [3, 2]", path);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  g_assert_false (pal_safetensors_read_f32 (st, "w", 1, (gint64[]) { 6 }, dst, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (pal_safetensors_read_f32 (st, "w", 0, NULL, dst, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_false (pal_safetensors_read_f32 (st, "labels", 1, (gint64[]) { 4 }, dst, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_DTYPE);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "tensor 'labels' has dtype I64, expected F32"));
  g_clear_error (&error);

  g_assert_null (pal_safetensors_lookup (st, "nope"));
  g_assert_false (pal_safetensors_read_f32 (st, "nope", 1, (gint64[]) { 6 }, dst, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "'nope'"));
  g_clear_error (&error);

  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (dst[i], ==, 9);  /* untouched by failed reads */
  g_assert_true (pal_safetensors_read_f32 (st, "w", 2, (gint64[]) { 2, 3 }, dst, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (dst, sizeof dst, good_w, sizeof good_w);

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

static void
test_read_labels (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "labels.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  gint32 i32[3] = { -5, 0, G_MININT32 };
  gint64 big[2] = { 1, (gint64) G_MAXINT32 + 1 };
  gint64 small[1] = { (gint64) G_MININT32 - 1 };
  float f[3] = { 0 };
  gint32 dst[3];

  {
    g_autoptr(PalStWriter) w = pal_st_writer_new ();
    pal_st_writer_add (w, "i32", "I32", 1, (gint64[]) { 3 }, i32);
    pal_st_writer_add (w, "big", "I64", 1, (gint64[]) { 2 }, big);
    pal_st_writer_add (w, "small", "I64", 1, (gint64[]) { 1 }, small);
    pal_st_writer_add (w, "f", "F32", 1, (gint64[]) { 3 }, f);
    pal_st_writer_add (w, "matrix", "I32", 2, (gint64[]) { 1, 3 }, i32);
    g_assert_true (pal_st_writer_save (w, path, &error));
    g_assert_no_error (error);
  }
  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);

  g_assert_true (pal_safetensors_read_labels (st, "i32", 3, dst, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (dst, sizeof dst, i32, sizeof i32);

  const struct
  {
    const char *name;
    gsize n;
    int code;
    const char *needle;
  } cases[] = {
    { "big", 2, PAL_SAFETENSORS_ERROR_DTYPE, "tensor 'big': value 2147483648 at index 1" },
    { "small", 1, PAL_SAFETENSORS_ERROR_DTYPE, "'small'" },
    { "f", 3, PAL_SAFETENSORS_ERROR_DTYPE, "tensor 'f' has dtype F32" },
    { "i32", 2, PAL_SAFETENSORS_ERROR_SHAPE, "tensor 'i32' has shape [3], expected [2]" },
    { "matrix", 3, PAL_SAFETENSORS_ERROR_SHAPE, "'matrix'" },
    { "missing", 3, PAL_SAFETENSORS_ERROR_NOT_FOUND, "'missing'" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (pal_safetensors_read_labels (st, cases[i].name, cases[i].n, dst, &error));
      g_assert_error (error, PAL_SAFETENSORS_ERROR, cases[i].code);
      g_assert_true (g_str_has_prefix (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_clear_error (&error);
    }

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                   */
/* ------------------------------------------------------------------------ */

static void
test_save_replaces (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  float v[2] = { 1, 2 };

  save_good (path);
  {
    g_autoptr(PalStWriter) w = pal_st_writer_new ();
    pal_st_writer_add (w, "v", "F32", 1, (gint64[]) { 2 }, v);
    g_assert_true (pal_st_writer_save (w, path, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (count_entries (dir), ==, 1);  /* no temporary left */

  g_autoptr(PalSafetensors) st = pal_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pal_safetensors_get_n_tensors (st), ==, 1);
  g_assert_nonnull (pal_safetensors_lookup (st, "v"));
  g_assert_null (pal_safetensors_lookup (st, "w"));
  g_assert_null (pal_safetensors_get_metadata (st, "format"));

  g_clear_pointer (&st, pal_safetensors_free);
  scratch_free (dir);
}

static void
test_save_missing_dir (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "no-such-dir", "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PalStWriter) w = pal_st_writer_new ();
  float v = 1;

  pal_st_writer_add (w, "v", "F32", 0, NULL, &v);
  g_assert_false (pal_st_writer_save (w, path, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_IO);
  g_autofree char *expected = g_strdup_printf ("Could not save '%s': %s", path,
                                               g_strerror (ENOENT));
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  scratch_free (dir);
}

/* A folder as the path (or a name ending in '/') is refused before
 * anything is written, with the reason a person understands. */
static void
test_save_to_folder (void)
{
  char *dir = scratch_new ();
  g_autofree char *slash = g_strconcat (dir, "/", NULL);
  const char *paths[] = { dir, slash };
  g_autoptr(PalStWriter) w = pal_st_writer_new ();
  float v = 1;

  pal_st_writer_add (w, "v", "F32", 0, NULL, &v);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("Could not save '%s': %s", paths[i],
                                                   g_strerror (EISDIR));

      g_assert_false (pal_st_writer_save (w, paths[i], &error));
      g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_IO);
      g_assert_cmpstr (error->message, ==, expected);
      g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
      g_assert_cmpuint (count_entries (dir), ==, 0);
    }
  scratch_free (dir);
}

/* A write error in the middle of the data (provoked with RLIMIT_FSIZE, which
 * also applies to root) must leave the old file intact and no temporary. */
static void
test_save_failure_keeps_old (void)
{
#ifdef G_OS_UNIX
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PalStWriter) w = pal_st_writer_new ();
  gsize n = 1 << 18;
  g_autofree float *big = g_new0 (float, n);
  struct rlimit old_limit, limit;

  save_good (path);
  g_autoptr(GBytes) before = read_bytes (path);

  pal_st_writer_add (w, "big", "F32", 1, (gint64[]) { (gint64) n }, big);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  limit = old_limit;
  limit.rlim_cur = 64 * 1024;
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  gboolean saved = pal_st_writer_save (w, path, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (saved);
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_IO);
  g_autofree char *expected = g_strdup_printf ("Could not save '%s': %s", path,
                                               g_strerror (EFBIG));
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_autoptr(GBytes) after = read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
  scratch_free (dir);
#else
  g_test_skip ("needs RLIMIT_FSIZE");
#endif
}

static void
test_writer_invalid (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  float v[4] = { 0 };
  const struct
  {
    const char *name, *dtype;
    int ndim;
    gint64 shape[2];
    const void *data;
    int code;
    const char *needle;
  } cases[] = {
    { "x", "F8_E4M3", 1, { 4 }, v, PAL_SAFETENSORS_ERROR_DTYPE, "tensor 'x' has unsupported dtype 'F8_E4M3'" },
    { "v", "F32", 1, { 4 }, v, PAL_SAFETENSORS_ERROR_FORMAT, "duplicate tensor name 'v'" },
    { "__metadata__", "F32", 1, { 4 }, v, PAL_SAFETENSORS_ERROR_FORMAT, "reserved" },
    { "x", "F32", 1, { -1 }, v, PAL_SAFETENSORS_ERROR_SHAPE, "'x'" },
    { "x", "F32", 9, { 1, 1 }, v, PAL_SAFETENSORS_ERROR_SHAPE, "'x'" },
    { "x", "F32", 2, { G_MAXINT64, 4 }, v, PAL_SAFETENSORS_ERROR_TOO_LARGE, "'x'" },
    { "x", "F32", 1, { 4 }, NULL, PAL_SAFETENSORS_ERROR_FORMAT, "'x'" },
    { "bad\xff", "F32", 1, { 4 }, v, PAL_SAFETENSORS_ERROR_FORMAT, "UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PalStWriter) w = pal_st_writer_new ();

      pal_st_writer_add (w, "v", "F32", 1, (gint64[]) { 4 }, v);
      pal_st_writer_add (w, cases[i].name, cases[i].dtype, cases[i].ndim,
                         cases[i].shape, cases[i].data);
      pal_st_writer_add (w, "later", "F32", 1, (gint64[]) { 4 }, v);
      g_assert_false (pal_st_writer_save (w, path, &error));
      g_assert_error (error, PAL_SAFETENSORS_ERROR, cases[i].code);
      g_autofree char *prefix = g_strdup_printf ("Could not save '%s': ", path);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_assert_cmpuint (count_entries (dir), ==, 0);
    }

  g_autoptr(GError) error = NULL;
  g_autoptr(PalStWriter) w = pal_st_writer_new ();
  pal_st_writer_set_metadata (w, "k", "bad\xc3");
  g_assert_false (pal_st_writer_save (w, path, &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_FORMAT);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  scratch_free (dir);
}

/* pal_safetensors_open_bytes(): a file in memory reads as on disk. */
static void
test_open_bytes (void)
{
  char *dir = scratch_new ();
  g_autofree char *path = g_build_filename (dir, "mem.safetensors", NULL);
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  float v[3] = { 1, 2, 3 }, back[3];
  gint64 shape[1] = { 3 };

  pal_st_writer_set_metadata (w, "k", "v");
  pal_st_writer_add (w, "t", "F32", 1, shape, v);
  g_assert_true (pal_st_writer_save (w, path, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));

  g_autoptr (GBytes) bytes = g_bytes_new (contents, len);
  g_autoptr (PalSafetensors) st = pal_safetensors_open_bytes (bytes, "mem", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_safetensors_get_path (st), ==, "mem");
  g_assert_cmpstr (pal_safetensors_get_metadata (st, "k"), ==, "v");
  g_assert_true (pal_safetensors_read_f32 (st, "t", 1, shape, back, &error));
  g_assert_cmpmem (back, sizeof back, v, sizeof v);

  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (bytes, 0, len - 1);
  g_assert_null (pal_safetensors_open_bytes (cut, "cut", &error));
  g_assert_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, "cut: file is truncated"));
  scratch_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/safetensors/roundtrip", test_roundtrip);
  g_test_add_func ("/safetensors/open-bytes", test_open_bytes);
  g_test_add_func ("/safetensors/empty-file", test_empty_file);
  g_test_add_func ("/safetensors/not-a-file", test_not_a_file);
  g_test_add_func ("/safetensors/alignment", test_alignment);
  g_test_add_func ("/safetensors/unaligned", test_unaligned);
  g_test_add_func ("/safetensors/malformed/truncated", test_truncated);
  g_test_add_func ("/safetensors/malformed/header-too-large", test_header_too_large);
  g_test_add_func ("/safetensors/malformed/header-beyond-file", test_header_beyond_file);
  g_test_add_func ("/safetensors/malformed/invalid-json", test_invalid_json);
  g_test_add_func ("/safetensors/malformed/wrong-byte-count", test_wrong_byte_count);
  g_test_add_func ("/safetensors/malformed/unknown-dtype", test_unknown_dtype);
  g_test_add_func ("/safetensors/malformed/end-before-begin", test_end_before_begin);
  g_test_add_func ("/safetensors/malformed/offsets-beyond-data", test_offsets_beyond_data);
  g_test_add_func ("/safetensors/malformed/overlap", test_overlap);
  g_test_add_func ("/safetensors/malformed/metadata", test_bad_metadata);
  g_test_add_func ("/safetensors/malformed/entries", test_bad_entries);
  g_test_add_func ("/safetensors/malformed/duplicate-names", test_duplicate_names);
  g_test_add_func ("/safetensors/malformed/corruption", test_corruption);
  g_test_add_func ("/safetensors/read-f32-errors", test_read_f32_errors);
  g_test_add_func ("/safetensors/read-labels", test_read_labels);
  g_test_add_func ("/safetensors/save/replaces", test_save_replaces);
  g_test_add_func ("/safetensors/save/missing-dir", test_save_missing_dir);
  g_test_add_func ("/safetensors/save/to-folder", test_save_to_folder);
  g_test_add_func ("/safetensors/save/failure-keeps-old", test_save_failure_keeps_old);
  g_test_add_func ("/safetensors/save/invalid", test_writer_invalid);

  return g_test_run ();
}
