/* test-model-io.c: models, their initialisation and their files */
#include "pal-arch.h"
#include "pal-error.h"
#include "pal-model-io.h"
#include "pal-safetensors.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#ifdef G_OS_UNIX
#include <signal.h>
#include <sys/resource.h>

#include "test-util.h"
#endif

static char *scratch;   /* one scratch directory for the whole run */

static const char custom_text[] =
  "# custom\n"
  "input data shape=3x12x12\n"
  "conv c1 out=4 k=3 pad=1 bias=0\n"
  "batchnorm bn act=relu\n"
  "conv c2 out=6 k=3 stride=2 pad=0,1,1,0 groups=2 act=leaky:0.1\n"
  "maxpool mp k=2\n"
  "flatten flat\n"
  "dropout drop p=0.25\n"
  "linear fc out=3\n";

/* --- helpers -------------------------------------------------------------- */

static char *
scratch_path (const char *name)
{
  return g_build_filename (scratch, name, NULL);
}

static PalModel *
new_model (const char *arch, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  PalModel *m = pal_model_new (arch, &error);

  g_assert_no_error (error);
  g_assert_nonnull (m);
  pal_model_init (m, seed);
  return m;
}

static PalModel *
save_and_load (PalModel *m, const char *file, const char *arch)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = scratch_path (file);
  PalModel *back;

  g_assert_true (pal_model_save (m, path, &error));
  g_assert_no_error (error);
  back = pal_model_load (path, arch, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (g_unlink (path), ==, 0);
  return back;
}

static void
assert_same_params (PalModel *a, PalModel *b)
{
  gsize n = pal_graph_get_n_floats (pal_model_get_graph (a));

  g_assert_cmpuint (n, ==, pal_graph_get_n_floats (pal_model_get_graph (b)));
  g_assert_cmpint (memcmp (pal_model_get_params (a), pal_model_get_params (b),
                           n * sizeof (float)), ==, 0);
}

/* pal_model_load(@path, @arch) fails in PAL_ERROR with a message naming
 * @path and holding @want and @want2 (when not NULL). */
static void
assert_load_fails (const char *path, const char *arch, const char *want, const char *want2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m = pal_model_load (path, arch, &error);

  g_assert_null (m);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PAL_ERROR);
  if (!strstr (error->message, path) || (want && !strstr (error->message, want))
      || (want2 && !strstr (error->message, want2)))
    g_error ("message '%s' should name '%s', '%s' and '%s'", error->message, path,
             want ? want : "", want2 ? want2 : "");
}

/* Writes @m's parameters as plain weights, without @skip, with @repl stored
 * as (@dtype, @nd, @shape) zeros, plus "extra.num_batches_tracked" (I64) and
 * the metadata pairs in @meta (NULL-terminated). */
static void
write_weights (const char *path, PalModel *m, const char *skip, const char *repl,
               const char *dtype, int nd, const gint64 *shape, const char *const *meta)
{
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *zeros = g_malloc0 (1 << 16);
  PalGraph *g = pal_model_get_graph (m);
  gint64 nbt = 42;

  for (int i = 0; meta && meta[i]; i += 2)
    pal_st_writer_set_metadata (w, meta[i], meta[i + 1]);
  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      const char *name = pal_graph_param_name (g, p);
      gint64 s[4];
      int n = pal_graph_param_shape (g, p, s);

      if (g_strcmp0 (name, skip) == 0)
        continue;
      if (g_strcmp0 (name, repl) == 0)
        pal_st_writer_add (w, name, dtype, nd, shape, zeros);
      else
        pal_st_writer_add (w, name, "F32", n, s,
                           pal_model_get_params (m) + pal_graph_param_offset (g, p));
    }
  pal_st_writer_add (w, "extra.num_batches_tracked", "I64", 0, NULL, &nbt);
  g_assert_true (pal_st_writer_save (w, path, &error));
  g_assert_no_error (error);
}

/* A failed save: PAL_ERROR_IO naming @path; clears *@error. */
static void
assert_save_error (GError **error, const char *path)
{
  g_assert_error (*error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr ((*error)->message, path));
  g_clear_error (error);
}

/* --- round trips ----------------------------------------------------------- */

static void
test_round_trip_builtin (void)
{
  g_autoptr (PalModel) m = new_model ("bench-vgg", 3);
  g_autoptr (PalModel) back = NULL;
  static const char *const names[7] = { "calm", "joy", "sorrow", "wow", "fright",
                                        "yuck", "r\303\244ge \"x\"" };
  const char *odd = "say \"hi\"\n\ttab \\ back\303\251sl\303\244sh \342\234\223 \360\237\230\200";
  GHashTableIter it;
  gpointer key, value;
  float mean[3], std[3];

  pal_model_set_meta (m, "pal.layer", "conv7");
  pal_model_set_meta (m, "note", odd);
  pal_model_set_meta (m, "input.mean", "0.5,0.25,0.125");
  pal_model_set_class_names (m, names);
  back = save_and_load (m, "vgg.safetensors", NULL);

  assert_same_params (m, back);
  g_assert_cmpstr (pal_model_get_arch_name (back), ==, "bench-vgg");
  g_assert_cmpstr (pal_model_get_arch_text (back), ==, pal_model_get_arch_text (m));
  for (int k = 0; k < 7; k++)
    g_assert_cmpstr (pal_model_get_class_name (back, k), ==, names[k]);
  g_assert_cmpuint (g_hash_table_size (pal_model_get_meta_table (back)), ==,
                    g_hash_table_size (pal_model_get_meta_table (m)));
  g_hash_table_iter_init (&it, pal_model_get_meta_table (m));
  while (g_hash_table_iter_next (&it, &key, &value))
    g_assert_cmpstr (pal_model_get_meta (back, key), ==, value);
  g_assert_cmpstr (pal_model_get_meta (back, "note"), ==, odd);
  g_assert_null (pal_model_get_meta (back, "arch"));   /* the file's own keys stay out */
  g_assert_null (pal_model_get_meta (back, "format"));
  pal_model_get_normalisation (back, mean, std);
  g_assert_cmpfloat (mean[2], ==, 0.125f);
  g_assert_cmpfloat_with_epsilon (std[0], 0.229f, 1e-7);
  g_assert_cmpuint (count_entries (scratch), ==, 0);   /* no temporary left */
}

static void
test_round_trip_custom (void)
{
  g_autoptr (PalModel) m = new_model (custom_text, 11);
  g_autoptr (PalModel) back = NULL;
  g_autoptr (PalModel) back2 = NULL;

  g_assert_cmpstr (pal_model_get_arch_name (m), ==, "custom");
  g_assert_cmpint (pal_model_get_n_classes (m), ==, 3);
  g_assert_cmpstr (pal_model_get_class_name (m, 2), ==, "class2");
  pal_model_set_meta (m, "train.epochs", "12");
  back = save_and_load (m, "custom.safetensors", NULL);
  assert_same_params (m, back);
  g_assert_cmpstr (pal_model_get_arch_name (back), ==, "custom");
  g_assert_cmpstr (pal_model_get_arch_text (back), ==, custom_text);
  g_assert_cmpstr (pal_model_get_class_name (back, 0), ==, "class0");
  g_assert_cmpstr (pal_model_get_meta (back, "train.epochs"), ==, "12");
  /* an explicit architecture text is used as given */
  back2 = save_and_load (m, "custom2.safetensors", custom_text);
  assert_same_params (m, back2);
}

/* A built-in with an input size keeps its name through a file. */
static void
test_round_trip_sized (void)
{
  g_autoptr (PalModel) m = new_model ("resnet18@64", 5);
  g_autoptr (PalModel) back = save_and_load (m, "r64.safetensors", NULL);
  int c, h, w;

  assert_same_params (m, back);
  g_assert_cmpstr (pal_model_get_arch_name (m), ==, "resnet18");
  g_assert_cmpstr (pal_model_get_arch_name (back), ==, "resnet18");
  pal_graph_input_shape (pal_model_get_graph (back), &c, &h, &w);
  g_assert_cmpint (h, ==, 64);
  g_assert_cmpstr (pal_model_get_arch_text (back), ==, pal_model_get_arch_text (m));
}

/* --- initialisation -------------------------------------------------------- */

static void
test_init (void)
{
  g_autoptr (PalModel) a = new_model ("bench-vgg", 7);
  g_autoptr (PalModel) b = new_model ("bench-vgg", 7);
  g_autoptr (PalModel) c = new_model ("bench-vgg", 8);
  g_autoptr (PalModel) r = new_model ("resnet18@32", 1);
  PalGraph *g = pal_model_get_graph (a);
  gsize n, nf = pal_graph_get_n_floats (g);
  const float *v = pal_model_lookup (a, "conv5.weight", &n);
  double sum = 0, sq = 0, sd, want = sqrt (2.0 / (64 * 9));

  assert_same_params (a, b);
  g_assert_cmpint (memcmp (pal_model_get_params (a), pal_model_get_params (c),
                           nf * sizeof (float)), !=, 0);
  g_assert_cmpfloat (pal_model_get_params (a)[0], !=, pal_model_get_params (c)[0]);

  g_assert_cmpuint (n, ==, 128 * 64 * 9);
  for (gsize i = 0; i < n; i++)
    {
      sum += v[i];
      sq += (double) v[i] * v[i];
    }
  sd = sqrt ((sq - sum * sum / n) / (n - 1));
  g_test_message ("conv5.weight: mean %g, std %g, He %g", sum / n, sd, want);
  g_assert_cmpfloat (fabs (sd - want), <, 0.05 * want);
  g_assert_cmpfloat (fabs (sum / n), <, 0.05 * want);
  /* different layers get different draws */
  g_assert_cmpfloat (pal_model_lookup (a, "conv6.weight", NULL)[0], !=, v[0]);

  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    if (g_str_has_suffix (pal_graph_param_name (g, p), ".bias"))
      {
        const float *bias = pal_model_get_params (a) + pal_graph_param_offset (g, p);
        for (gsize i = 0; i < pal_graph_param_numel (g, p); i++)
          g_assert_cmpfloat (bias[i], ==, 0.f);
      }

  {
    static const struct { const char *name; float value; } bn[] = {
      { "bn1.weight", 1.f }, { "bn1.bias", 0.f },
      { "bn1.running_mean", 0.f }, { "bn1.running_var", 1.f },
      { "layer4.1.bn2.running_var", 1.f },
    };
    for (guint k = 0; k < G_N_ELEMENTS (bn); k++)
      {
        const float *x = pal_model_lookup (r, bn[k].name, &n);
        g_assert_nonnull (x);
        for (gsize i = 0; i < n; i++)
          g_assert_cmpfloat (x[i], ==, bn[k].value);
      }
    g_assert_null (pal_model_lookup (r, "bn1.num_batches_tracked", NULL));
  }
  /* init overwrites whatever was there */
  pal_model_get_params (b)[0] = 1e9f;
  pal_model_init (b, 7);
  assert_same_params (a, b);
}

/* --- plain weights --------------------------------------------------------- */

static void
test_plain_weights (void)
{
  g_autoptr (PalModel) m = new_model ("bench-vgg", 4);
  g_autoptr (PalModel) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = scratch_path ("plain.safetensors");

  write_weights (path, m, NULL, NULL, NULL, 0, NULL, NULL);
  back = pal_model_load (path, "bench-vgg", &error);
  g_assert_no_error (error);
  assert_same_params (m, back);
  g_assert_cmpstr (pal_model_get_arch_name (back), ==, "bench-vgg");
  g_assert_cmpstr (pal_model_get_class_name (back, 1), ==, pal_expression_classes[1]);
  g_assert_cmpuint (g_hash_table_size (pal_model_get_meta_table (back)), ==, 0);

  assert_load_fails (path, NULL, "architecture", NULL);
  g_unlink (path);
}

/* --- malformed files ------------------------------------------------------- */

static void
test_truncated (void)
{
  g_autoptr (PalModel) m = new_model ("bench-vgg", 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = scratch_path ("full.safetensors");
  g_autofree char *cut = scratch_path ("cut.safetensors");
  g_autofree char *data = NULL;
  gsize size, hlen;
  guint64 le;

  g_assert_true (pal_model_save (m, path, &error));
  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  memcpy (&le, data, 8);
  hlen = (gsize) GUINT64_FROM_LE (le);
  g_assert_cmpuint (8 + hlen, <, size);
  {
    gsize lengths[10] = { 1, 7, 8, 9, 8 + hlen / 2, 8 + hlen - 1, 8 + hlen, 8 + hlen + 4,
                          size / 2, size - 1 };
    for (int i = 0; i < 10; i++)
      {
        g_assert_true (g_file_set_contents (cut, data, (gssize) lengths[i], &error));
        assert_load_fails (cut, NULL, NULL, NULL);
        assert_load_fails (cut, "bench-vgg", NULL, NULL);
      }
  }
  g_assert_true (g_file_set_contents (cut, "", 0, &error));
  assert_load_fails (cut, NULL, NULL, NULL);
  g_unlink (cut);
  g_unlink (path);
}

static void
test_wrong_tensors (void)
{
  g_autoptr (PalModel) m = new_model ("bench-vgg", 2);
  g_autofree char *path = scratch_path ("bad.safetensors");
  const gint64 good[4] = { 32, 3, 3, 3 }, bad[4] = { 32, 3, 3, 2 };
  const char *const named[] = { "arch", "bench-vgg", NULL };

  write_weights (path, m, NULL, "conv1.weight", "F32", 4, bad, NULL);
  assert_load_fails (path, "bench-vgg", "'conv1.weight'", "[32, 3, 3, 2]");
  assert_load_fails (path, "bench-vgg", "[32, 3, 3, 3]", NULL);
  write_weights (path, m, NULL, "fc1.weight", "F32", 1, (gint64[]) { 256 }, named);
  assert_load_fails (path, NULL, "'fc1.weight'", "[256, 9216]");
  write_weights (path, m, NULL, "conv1.weight", "F64", 4, good, NULL);
  assert_load_fails (path, "bench-vgg", "'conv1.weight'", "F64");
  write_weights (path, m, NULL, "conv1.weight", "I32", 4, good, named);
  assert_load_fails (path, NULL, "'conv1.weight'", "I32");
  write_weights (path, m, "fc2.bias", NULL, NULL, 0, NULL, NULL);
  assert_load_fails (path, "bench-vgg", "'fc2.bias'", "missing");
  g_unlink (path);
}

static void
test_bad_metadata (void)
{
  g_autoptr (PalModel) m = new_model ("bench-vgg", 2);
  g_autofree char *path = scratch_path ("meta.safetensors");
  static const struct {
    const char *meta[5];
    const char *want, *want2;
  } cases[] = {
    { { "arch", "nosuchnet" }, "nosuchnet", NULL },
    { { "arch", "bench-vgg@112" }, "bench-vgg", NULL },
    { { "arch", "input data shape=3x8x8\nconv c1 out=4\n" }, "line 2", "c1" },
    { { "arch", "bench-vgg", "classes", "{\"a\": 1}" }, "classes", NULL },
    { { "arch", "bench-vgg", "classes", "not json [" }, "classes", NULL },
    { { "arch", "bench-vgg", "classes", "[1, 2, 3, 4, 5, 6, 7]" }, "classes", NULL },
    { { "arch", "bench-vgg", "classes", "[\"a\", \"b\"]" }, "2 class names", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_weights (path, m, NULL, NULL, NULL, 0, NULL, cases[i].meta);
      assert_load_fails (path, NULL, cases[i].want, cases[i].want2);
    }
  /* the metadata's "arch" is a name here, which is fine */
  {
    const char *const ok[] = { "arch", "bench-vgg", "classes",
                               "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]", NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (PalModel) back = NULL;

    write_weights (path, m, NULL, NULL, NULL, 0, NULL, ok);
    back = pal_model_load (path, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (pal_model_get_class_name (back, 6), ==, "g");
    assert_same_params (m, back);
  }
  g_unlink (path);
}

static void
test_other_arch (void)
{
  g_autoptr (PalModel) r = new_model ("resnet18@64", 1);
  g_autoptr (PalModel) c = new_model (custom_text, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = scratch_path ("other.safetensors");

  g_assert_true (pal_model_save (r, path, &error));
  /* resnet18 has a conv1.weight too, of another shape */
  assert_load_fails (path, "bench-vgg", "'conv1.weight'", "[64, 3, 7, 7]");
  g_assert_true (pal_model_save (c, path, &error));
  assert_load_fails (path, "bench-vgg", "'conv1.weight'", "missing");
  assert_load_fails (path, "resnet18", "'conv1.weight'", NULL);
  g_unlink (path);
}

static void
write_raw (const char *path, guint64 hlen, const char *json, const void *data, gsize n)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint64 le = GUINT64_TO_LE (hlen);

  g_byte_array_append (b, (const guint8 *) &le, 8);
  g_byte_array_append (b, (const guint8 *) json, strlen (json));
  if (n)
    g_byte_array_append (b, data, n);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, &error));
}

static void
test_lying_header (void)
{
  g_autofree char *path = scratch_path ("lie.safetensors");
  g_autofree char *missing = scratch_path ("no-such-file.safetensors");
  guint8 data[64] = { 0 };
  const char *bias = "{\"fc2.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,28]}}";
  const char *big = "{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[32,3,3,3],"
                    "\"data_offsets\":[0,3456]}}";
  const char *wrong = "{\"fc2.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,24]}}";

  /* a header longer than the file, one that runs into the data, a huge one */
  write_raw (path, strlen (bias) + 100, bias, data, 28);
  assert_load_fails (path, "bench-vgg", NULL, NULL);
  write_raw (path, strlen (bias) + 8, bias, data, 28);
  assert_load_fails (path, "bench-vgg", NULL, NULL);
  write_raw (path, G_GUINT64_CONSTANT (1) << 62, bias, data, 28);
  assert_load_fails (path, "bench-vgg", NULL, NULL);
  write_raw (path, strlen (bias) - 1, bias, data, 28);
  assert_load_fails (path, "bench-vgg", NULL, NULL);
  /* tensors beyond the end of the data, or of the wrong byte count */
  write_raw (path, strlen (big), big, data, sizeof data);
  assert_load_fails (path, "bench-vgg", "conv1.weight", NULL);
  write_raw (path, strlen (wrong), wrong, data, 24);
  assert_load_fails (path, "bench-vgg", "fc2.bias", NULL);
  /* a consistent file that lacks almost everything */
  write_raw (path, strlen (bias), bias, data, 28);
  assert_load_fails (path, "bench-vgg", "'conv1.weight'", "missing");
  g_unlink (path);
  assert_load_fails (missing, NULL, NULL, NULL);
  assert_load_fails (missing, "bench-vgg", NULL, NULL);
}

/* --- atomic save ----------------------------------------------------------- */

static void
test_atomic_save (void)
{
  g_autoptr (PalModel) a = new_model ("bench-vgg", 1);
  g_autoptr (PalModel) b = new_model ("bench-vgg", 2);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = scratch_path ("atomic");
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *nodir = g_build_filename (dir, "nowhere", "model.safetensors", NULL);
  g_autofree char *subdir = g_build_filename (dir, "taken", NULL);
  g_autofree char *inside = g_build_filename (subdir, "keep", NULL);
  g_autofree char *before = NULL, *after = NULL;
  gsize n_before, n_after;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (pal_model_save (a, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 1);   /* no temporary left */
  g_assert_true (g_file_get_contents (path, &before, &n_before, NULL));

  /* invalid UTF-8 in the metadata: the writer refuses before writing */
  pal_model_set_meta (b, "bad", "\xff\xfe");
  g_assert_false (pal_model_save (b, path, &error));
  assert_save_error (&error, path);
  pal_model_set_meta (b, "bad", NULL);

#ifdef G_OS_UNIX
  /* a write that fails half-way (RLIMIT_FSIZE applies to root too) */
  {
    struct rlimit old_limit, limit;
    void (*old_handler) (int);
    gboolean saved;

    g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
    limit = old_limit;
    limit.rlim_cur = 1 << 20;
    old_handler = signal (SIGXFSZ, SIG_IGN);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
    saved = pal_model_save (b, path, &error);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
    signal (SIGXFSZ, old_handler);
    g_assert_false (saved);
    g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
    g_clear_error (&error);
  }
#endif
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_true (g_file_get_contents (path, &after, &n_after, NULL));
  g_assert_cmpuint (n_after, ==, n_before);
  g_assert_cmpint (memcmp (before, after, n_before), ==, 0);
  {
    g_autoptr (PalModel) back = pal_model_load (path, NULL, &error);
    g_assert_no_error (error);
    assert_same_params (a, back);
  }

  /* a directory that does not exist: nothing is created */
  g_assert_false (pal_model_save (b, nodir, &error));
  assert_save_error (&error, nodir);
  g_assert_false (g_file_test (nodir, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (dir), ==, 1);

  /* the target is a non-empty directory: the rename fails, the temporary goes */
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
  g_assert_false (pal_model_save (b, subdir, &error));
  assert_save_error (&error, subdir);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  g_assert_cmpuint (count_entries (subdir), ==, 1);

  /* a successful save replaces the file */
  g_assert_true (pal_model_save (b, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  {
    g_autoptr (PalModel) back = pal_model_load (path, NULL, &error);
    g_assert_no_error (error);
    assert_same_params (b, back);
  }
  rm_rf (dir);
}

/* A small file whose architecture claims more parameters than it holds
 * is refused before they are allocated (found by fuzz-arch/fuzz-model). */
static void
test_arch_larger_than_file (void)
{
  g_autofree char *path = g_build_filename (scratch, "claims-vgg16.safetensors", NULL);
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  g_autoptr (GError) error = NULL;
  static const float one = 1;

  pal_st_writer_set_metadata (w, "format", "pal-studio-model/1");
  pal_st_writer_set_metadata (w, "arch", "vgg16");
  pal_st_writer_add (w, "x", "F32", 0, NULL, &one);
  g_assert_true (pal_st_writer_save (w, path, &error));
  g_assert_no_error (error);

  g_autoptr (PalModel) m = pal_model_load (path, NULL, &error);
  g_assert_null (m);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "134289223 parameters"));
  g_assert_nonnull (strstr (error->message, "holds 4 bytes of tensors"));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("pal-model-io-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/model-io/round-trip/builtin", test_round_trip_builtin);
  g_test_add_func ("/model-io/round-trip/custom", test_round_trip_custom);
  g_test_add_func ("/model-io/round-trip/sized", test_round_trip_sized);
  g_test_add_func ("/model-io/init", test_init);
  g_test_add_func ("/model-io/plain-weights", test_plain_weights);
  g_test_add_func ("/model-io/bad/truncated", test_truncated);
  g_test_add_func ("/model-io/bad/tensors", test_wrong_tensors);
  g_test_add_func ("/model-io/bad/metadata", test_bad_metadata);
  g_test_add_func ("/model-io/bad/other-arch", test_other_arch);
  g_test_add_func ("/model-io/bad/header", test_lying_header);
  g_test_add_func ("/model-io/bad/arch-larger-than-file", test_arch_larger_than_file);
  g_test_add_func ("/model-io/atomic-save", test_atomic_save);
  ret = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  return ret;
}
