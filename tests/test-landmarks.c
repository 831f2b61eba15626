/* test-landmarks.c: landmark files, mirroring, Eq. 8 and the PAL prior */
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-landmarks.h"
#include "pal-rand.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#ifdef G_OS_UNIX
#include <signal.h>
#include <sys/resource.h>
#endif

#include "test-util.h"

static char *scratch;   /* one scratch directory for the whole run */
static char *data_dir;  /* tests/data/landmarks in the source tree */

/* The face of tests/data/landmarks/face.txt (0-based, a 250 x 250 image):
 * a common 68-point mean shape (OpenFace's alignment template) scaled by 200
 * and moved by (25, 15), to 3 decimals.  face.pts holds the same plus 1. */
static const float face[PAL_N_LANDMARKS][2] = {
  { 40.848, 82.845 }, { 41.584, 106.391 }, { 44.359, 130.130 }, { 49.428, 153.384 },
  { 58.738, 175.068 }, { 72.958, 194.147 }, { 90.132, 210.414 }, { 109.464, 223.658 },
  { 131.356, 227.161 }, { 153.259, 222.964 }, { 172.621, 209.454 }, { 189.889, 192.925 },
  { 203.959, 173.499 }, { 212.879, 151.309 }, { 217.224, 127.448 }, { 219.116, 103.352 },
  { 219.239, 79.424 }, { 57.769, 64.830 }, { 68.561, 55.851 }, { 83.260, 53.473 },
  { 98.492, 55.716 }, { 112.859, 61.627 }, { 142.289, 60.628 }, { 157.031, 54.185 },
  { 172.493, 51.472 }, { 187.647, 53.566 }, { 199.151, 62.059 }, { 128.069, 78.727 },
  { 128.244, 94.240 }, { 128.424, 109.760 }, { 128.633, 125.632 }, { 111.740, 135.811 },
  { 120.100, 139.153 }, { 129.143, 141.854 }, { 138.175, 138.759 }, { 146.411, 135.315 },
  { 75.484, 81.210 }, { 84.733, 75.529 }, { 96.150, 75.604 }, { 105.744, 82.735 },
  { 95.501, 84.998 }, { 84.358, 85.096 }, { 151.265, 81.827 }, { 160.815, 74.291 },
  { 172.194, 73.944 }, { 181.573, 79.261 }, { 173.062, 83.370 }, { 162.000, 83.747 },
  { 95.634, 164.238 }, { 107.918, 158.811 }, { 120.536, 156.367 }, { 129.547, 158.418 },
  { 138.966, 156.083 }, { 152.039, 158.131 }, { 164.903, 162.884 }, { 152.889, 176.047 },
  { 140.282, 182.087 }, { 130.080, 183.341 }, { 120.283, 182.501 }, { 107.759, 177.009 },
  { 101.017, 164.996 }, { 120.591, 164.026 }, { 129.678, 164.785 }, { 139.212, 163.666 },
  { 159.482, 163.835 }, { 139.508, 170.322 }, { 129.802, 171.674 }, { 120.512, 171.390 },
};

/* --- helpers -------------------------------------------------------------- */

static PalLandmarks
face_landmarks (void)
{
  PalLandmarks lm;

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm.x[k] = face[k][0];
      lm.y[k] = face[k][1];
    }
  return lm;
}

static char *
scratch_path (const char *name)
{
  return g_build_filename (scratch, name, NULL);
}

/* Writes @len bytes of @text (-1: a string) to a scratch file; its path. */
static char *
write_scratch (const char *name, const char *text, gssize len)
{
  char *path = scratch_path (name);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, len, &error));
  g_assert_no_error (error);
  return path;
}

static void
assert_close_to_face (const PalLandmarks *lm, double tol)
{
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat_with_epsilon (lm->x[k], face[k][0], tol);
      g_assert_cmpfloat_with_epsilon (lm->y[k], face[k][1], tol);
    }
}

/* The text of a valid .pts file of the face (1-based), as lines. */
static GPtrArray *
face_pts_lines (void)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (lines, g_strdup ("version: 1"));
  g_ptr_array_add (lines, g_strdup ("n_points:  68"));
  g_ptr_array_add (lines, g_strdup ("{"));
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    g_ptr_array_add (lines, g_strdup_printf ("%.3f %.3f", face[k][0] + 1.0, face[k][1] + 1.0));
  g_ptr_array_add (lines, g_strdup ("}"));
  return lines;
}

/* Replaces line @lineno (1-based) by @text, or removes it if @text is NULL. */
static void
set_line (GPtrArray *lines, guint lineno, const char *text)
{
  g_assert_cmpuint (lineno, >=, 1);
  g_assert_cmpuint (lineno, <=, lines->len);
  if (text == NULL)
    g_ptr_array_remove_index (lines, lineno - 1);
  else
    {
      g_free (lines->pdata[lineno - 1]);
      lines->pdata[lineno - 1] = g_strdup (text);
    }
}

/* Inserts @text before line @lineno (1-based; len + 1 appends). */
static void
insert_line (GPtrArray *lines, guint lineno, const char *text)
{
  g_ptr_array_insert (lines, (gint) lineno - 1, g_strdup (text));
}

static char *
join_lines (GPtrArray *lines, const char *eol)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (s, "%s%s", (const char *) lines->pdata[i], eol);
  return g_string_free (s, FALSE);
}

/* Loads @path, which must succeed. */
static void
load_ok (const char *path, PalLandmarks *lm)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = pal_landmarks_load (path, lm, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Loading @path fails with PAL_ERROR_PARSE (or @code) and exactly the
 * message "PATH: @msg"; the output is left alone. */
static void
assert_load_error (const char *path, int code, const char *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("%s: %s", path, msg);
  PalLandmarks lm, orig;

  memset (&lm, 0x5a, sizeof lm);
  orig = lm;
  g_assert_false (pal_landmarks_load (path, &lm, &error));
  g_assert_error (error, PAL_ERROR, code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpint (memcmp (&lm, &orig, sizeof lm), ==, 0);
}

/* Writes @lines (LF) to face.pts in scratch and checks the load error. */
static void
assert_pts_error (GPtrArray *lines, const char *msg)
{
  g_autofree char *text = join_lines (lines, "\n");
  g_autofree char *path = write_scratch ("face.pts", text, -1);

  assert_load_error (path, PAL_ERROR_PARSE, msg);
}

/* --- reading -------------------------------------------------------------- */

static void
test_load_samples (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pts = g_build_filename (data_dir, "face.pts", NULL);
  g_autofree char *crlf = g_build_filename (data_dir, "face-crlf.pts", NULL);
  g_autofree char *txt = g_build_filename (data_dir, "face.txt", NULL);
  g_autofree char *contents = NULL;
  PalLandmarks a, b, c;

  /* the samples are what they claim: LF without a final newline, CRLF,
   * plain text with tabs and runs of spaces */
  g_assert_true (g_file_get_contents (pts, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (contents, "version: 1\nn_points:  68\n{\n41.848 83.845\n"));
  g_assert_true (g_str_has_suffix (contents, "\n}"));
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (crlf, &contents, NULL, &error));
  g_assert_true (g_str_has_prefix (contents, "version: 1\r\nn_points:  68\r\n{\r\n"));
  g_assert_true (g_str_has_suffix (contents, "\r\n}\r\n"));
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (txt, &contents, NULL, &error));
  g_assert_nonnull (strchr (contents, '\t'));
  g_assert_nonnull (strstr (contents, "\n\n"));

  load_ok (pts, &a);
  assert_close_to_face (&a, 1e-4);
  /* the first point, 1-based "41.848 83.845" on disk */
  g_assert_cmpfloat_with_epsilon (a.x[0], 40.848, 1e-4);
  g_assert_cmpfloat_with_epsilon (a.y[0], 82.845, 1e-4);

  load_ok (crlf, &b);
  g_assert_cmpint (memcmp (&a, &b, sizeof a), ==, 0);

  load_ok (txt, &c);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat (c.x[k], ==, face[k][0]);   /* 0-based, as written */
      g_assert_cmpfloat (c.y[k], ==, face[k][1]);
    }
}

static void
test_load_tolerant (void)
{
  g_autoptr (GPtrArray) lines = face_pts_lines ();
  PalLandmarks lm;

  /* blanks anywhere, tabs, blank lines, CRLF, a BOM, no final newline */
  set_line (lines, 1, "  version :\t1  ");
  set_line (lines, 2, "\tn_points:68");
  set_line (lines, 3, "  {\t");
  set_line (lines, 4, " \t41.848\t \t83.845 \t");
  insert_line (lines, 5, "");
  insert_line (lines, 5, "   \t ");
  insert_line (lines, 1, "\xEF\xBB\xBF");   /* a byte order mark on a blank line */
  {
    g_autofree char *joined = join_lines (lines, "\r\n");
    g_autofree char *text = g_strconcat (joined, "  \r\n\r\n\t", NULL);  /* blanks after '}' */
    g_autofree char *path = write_scratch ("tolerant.pts", text, -1);

    load_ok (path, &lm);
    assert_close_to_face (&lm, 1e-4);
  }

  /* plain text: CRLF, no final newline, leading blank lines, signs and
   * exponents */
  {
    GString *s = g_string_new ("\r\n  \r\n");
    g_autofree char *text = NULL, *path = NULL;

    for (int k = 0; k < PAL_N_LANDMARKS; k++)
      g_string_append_printf (s, "%s%.3f   %+.6e\r\n", k % 2 ? "\t" : "",
                              face[k][0], (double) face[k][1]);
    g_string_truncate (s, s->len - 2);
    text = g_string_free (s, FALSE);
    path = write_scratch ("tolerant.txt", text, -1);
    load_ok (path, &lm);
    assert_close_to_face (&lm, 1e-3);
  }
}

static void
test_load_errors (void)
{
  GPtrArray *lines;
  g_autofree char *path = NULL;

  /* the examples of the specification */
  lines = face_pts_lines ();
  set_line (lines, 7, "abc");
  assert_pts_error (lines, "line 7: expected two numbers, got 'abc'");
  g_ptr_array_unref (lines);

  lines = face_pts_lines ();
  set_line (lines, 2, "n_points: 67");
  assert_pts_error (lines, "n_points is 67, expected 68");
  set_line (lines, 2, "n_points: 99999999999999999999999");
  assert_pts_error (lines, "n_points is 99999999999999999999999, expected 68");
  set_line (lines, 2, "n_points: 68.0");
  assert_pts_error (lines, "line 2: expected 'n_points: 68', got 'n_points: 68.0'");
  g_ptr_array_unref (lines);

  lines = face_pts_lines ();
  set_line (lines, 50, NULL);
  assert_pts_error (lines, "line 71: 67 points before '}', expected 68");
  insert_line (lines, 50, "1 2");
  insert_line (lines, 50, "3 4");
  assert_pts_error (lines, "line 73: 69 points before '}', expected 68");
  g_ptr_array_unref (lines);

  /* malformed points */
  lines = face_pts_lines ();
  set_line (lines, 10, "1.5");
  assert_pts_error (lines, "line 10: expected two numbers, got '1.5'");
  set_line (lines, 10, "1.5 2.5 3.5");
  assert_pts_error (lines, "line 10: expected two numbers, got '1.5 2.5 3.5'");
  set_line (lines, 10, "1.5 2,5");
  assert_pts_error (lines, "line 10: expected two numbers, got '1.5 2,5'");
  set_line (lines, 10, "1.5 0x");
  assert_pts_error (lines, "line 10: expected two numbers, got '1.5 0x'");
  set_line (lines, 10, "# a comment");
  assert_pts_error (lines, "line 10: expected two numbers, got '# a comment'");
  set_line (lines, 10, "nan 3");
  assert_pts_error (lines, "line 10: 'nan' is not a finite number");
  set_line (lines, 10, "3 inf");
  assert_pts_error (lines, "line 10: 'inf' is not a finite number");
  set_line (lines, 10, "3 -Infinity");
  assert_pts_error (lines, "line 10: '-Infinity' is not a finite number");
  set_line (lines, 10, "1e39 3");   /* finite as a double, not as a float */
  assert_pts_error (lines, "line 10: '1e39' is not a finite number");
  set_line (lines, 10, "1e999 3");
  assert_pts_error (lines, "line 10: '1e999' is not a finite number");
  /* invalid UTF-8 and long text are quoted as valid, short UTF-8 */
  set_line (lines, 10, "\xff\xfe 3");
  assert_pts_error (lines, "line 10: expected two numbers, got '\xef\xbf\xbd\xef\xbf\xbd 3'");
  set_line (lines, 10, "0123456789012345678901234567890123456789012345");
  assert_pts_error (lines, "line 10: expected two numbers, got "
                    "'0123456789012345678901234567890123456789...'");
  g_ptr_array_unref (lines);

  /* the header and the braces */
  lines = face_pts_lines ();
  set_line (lines, 1, "version: 2");
  assert_pts_error (lines, "line 1: version is 2, expected 1");
  set_line (lines, 1, "version 1");
  assert_pts_error (lines, "line 1: expected 'version: 1', got 'version 1'");
  set_line (lines, 1, "version: 1");
  set_line (lines, 2, NULL);
  assert_pts_error (lines, "line 2: expected 'n_points: 68', got '{'");
  g_ptr_array_unref (lines);

  lines = face_pts_lines ();
  set_line (lines, 3, "[");
  assert_pts_error (lines, "line 3: expected '{', got '['");
  set_line (lines, 3, NULL);
  assert_pts_error (lines, "line 3: expected '{', got '41.848 83.845'");
  g_ptr_array_unref (lines);

  lines = face_pts_lines ();
  insert_line (lines, 2, "# comment");
  assert_pts_error (lines, "line 2: expected 'n_points: 68', got '# comment'");
  g_ptr_array_unref (lines);

  /* text after '}', on its line or later; blanks are fine (above) */
  lines = face_pts_lines ();
  insert_line (lines, lines->len + 1, "");
  insert_line (lines, lines->len + 1, "extra");
  assert_pts_error (lines, "line 74: unexpected text after '}': 'extra'");
  set_line (lines, 74, "}");
  assert_pts_error (lines, "line 74: unexpected text after '}': '}'");
  set_line (lines, 74, "");
  set_line (lines, 72, "} 1 2");
  assert_pts_error (lines, "line 72: unexpected text after '}': '1 2'");
  g_ptr_array_unref (lines);

  /* files that end early */
  lines = face_pts_lines ();
  set_line (lines, 72, NULL);
  assert_pts_error (lines, "end of file after line 71 (68 points), expected '}'");
  g_ptr_array_set_size (lines, 3);
  assert_pts_error (lines, "end of file after line 3 (0 points), expected '}'");
  g_ptr_array_set_size (lines, 2);
  assert_pts_error (lines, "end of file after line 2, expected '{'");
  g_ptr_array_set_size (lines, 1);
  assert_pts_error (lines, "end of file after line 1, expected 'n_points: 68'");
  g_ptr_array_unref (lines);

  /* a NUL byte in line 5 */
  {
    g_autoptr (GPtrArray) l = face_pts_lines ();
    g_autofree char *text = join_lines (l, "\n");
    gsize len = strlen (text);
    char *fifth = text;

    for (int i = 0; i < 4; i++)
      fifth = strchr (fifth, '\n') + 1;
    fifth[2] = '\0';
    path = write_scratch ("face.pts", text, (gssize) len);
    assert_load_error (path, PAL_ERROR_PARSE, "line 5: unexpected NUL byte");
  }
}

static void
test_load_plain_errors (void)
{
  GString *s = g_string_new (NULL);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    g_string_append_printf (s, "%.3f %.3f\n", face[k][0], face[k][1]);
  text = g_string_free (s, FALSE);

  /* 67, 69 points */
  {
    g_autofree char *t67 = g_strndup (text, strrchr (text, '\n') - text);
    g_autofree char *t69 = NULL;

    *(strrchr (t67, '\n') + 1) = '\0';
    path = write_scratch ("face.txt", t67, -1);
    assert_load_error (path, PAL_ERROR_PARSE, "67 points, expected 68");
    t69 = g_strconcat (text, "\n  \n1 2\n", NULL);
    g_free (path);
    path = write_scratch ("face.txt", t69, -1);
    assert_load_error (path, PAL_ERROR_PARSE, "69 points, expected 68");
  }

  /* empty, blank */
  g_free (path);
  path = write_scratch ("face.txt", "", -1);
  assert_load_error (path, PAL_ERROR_PARSE, "0 points, expected 68");
  g_free (path);
  path = write_scratch ("face.txt", " \n\t\r\n", -1);
  assert_load_error (path, PAL_ERROR_PARSE, "0 points, expected 68");

  /* a bad line: the line number counts blank lines too */
  {
    g_autofree char *bad = g_strconcat ("\n", "1 2\n", "abc\n", text, NULL);
    g_free (path);
    path = write_scratch ("face.txt", bad, -1);
    assert_load_error (path, PAL_ERROR_PARSE, "line 3: expected two numbers, got 'abc'");
  }
  {
    g_autofree char *bad = g_strconcat ("1 nan\n", text, NULL);
    g_free (path);
    path = write_scratch ("face.txt", bad, -1);
    assert_load_error (path, PAL_ERROR_PARSE, "line 1: 'nan' is not a finite number");
  }
  /* a .pts header that does not start the file is not recognised */
  {
    g_autoptr (GPtrArray) lines = face_pts_lines ();
    g_autofree char *pts = NULL;

    insert_line (lines, 1, "1 2");
    pts = join_lines (lines, "\n");
    g_free (path);
    path = write_scratch ("face.txt", pts, -1);
    assert_load_error (path, PAL_ERROR_PARSE,
                       "line 2: expected two numbers, got 'version: 1'");
  }
}

static void
test_load_files (void)
{
  g_autofree char *missing = scratch_path ("missing.pts");
  g_autofree char *dir = scratch_path ("dir.pts");
  g_autofree char *big = scratch_path ("big.pts");
  g_autofree char *msg = NULL;
  g_autoptr (GError) error = NULL;
  PalLandmarks lm;

  msg = g_strdup (g_strerror (ENOENT));
  assert_load_error (missing, PAL_ERROR_IO, msg);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_false (pal_landmarks_load (dir, &lm, &error));
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  /* a valid file padded with blanks past 1 MiB: refused by its size */
  {
    g_autoptr (GPtrArray) lines = face_pts_lines ();
    g_autofree char *text = join_lines (lines, "\n");
    gsize len = strlen (text), total = ((gsize) 1 << 20) + 1;
    char *padded = g_malloc (total);

    memcpy (padded, text, len);
    memset (padded + len, ' ', total - len);
    g_assert_true (g_file_set_contents (big, padded, (gssize) total, NULL));
    assert_load_error (big, PAL_ERROR_PARSE,
                       "1048577 bytes is too large for a landmark file (the limit is 1 MiB)");
    /* exactly 1 MiB is read */
    g_assert_true (g_file_set_contents (big, padded, (gssize) total - 1, NULL));
    load_ok (big, &lm);
    assert_close_to_face (&lm, 1e-4);
    g_free (padded);
    g_unlink (big);
  }
}

/* --- AffectNet ------------------------------------------------------------ */

static char *
affectnet_field (int n_values)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n_values; i++)
    g_string_append_printf (s, "%s%.3f", i ? (i % 5 ? ";" : " ; ") : "",
                            face[(i / 2) % PAL_N_LANDMARKS][i % 2]);
  return g_string_free (s, FALSE);
}

static void
assert_affectnet_error (const char *text, const char *name, int line, const char *msg)
{
  g_autoptr (GError) error = NULL;
  PalLandmarks lm, orig;

  memset (&lm, 0x5a, sizeof lm);
  orig = lm;
  g_assert_false (pal_landmarks_parse_affectnet (text, &lm, name, line, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==, msg);
  g_assert_cmpint (memcmp (&lm, &orig, sizeof lm), ==, 0);
}

static void
test_affectnet (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *good = affectnet_field (136);
  g_autofree char *padded = g_strdup_printf (" \t%s\r\n", good);
  g_autofree char *f135 = affectnet_field (135);
  g_autofree char *f137 = affectnet_field (137);
  g_autofree char *trailing = g_strconcat (good, ";", NULL);
  PalLandmarks lm;

  g_assert_true (pal_landmarks_parse_affectnet (good, &lm, "training.csv", 12, &error));
  g_assert_no_error (error);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat (lm.x[k], ==, face[k][0]);   /* 0-based as given */
      g_assert_cmpfloat (lm.y[k], ==, face[k][1]);
    }
  memset (&lm, 0, sizeof lm);
  g_assert_true (pal_landmarks_parse_affectnet (padded, &lm, "training.csv", 12, &error));
  g_assert_no_error (error);
  assert_close_to_face (&lm, 1e-6);

  assert_affectnet_error (f135, "training.csv", 12,
                          "training.csv: line 12: 135 landmark values, expected 136");
  assert_affectnet_error (f137, "training.csv", 12,
                          "training.csv: line 12: 137 landmark values, expected 136");
  assert_affectnet_error (trailing, "training.csv", 12,
                          "training.csv: line 12: 137 landmark values, expected 136");
  assert_affectnet_error ("", "training.csv", 3,
                          "training.csv: line 3: 0 landmark values, expected 136");
  assert_affectnet_error (" \t", NULL, 0, "landmarks: 0 landmark values, expected 136");

  /* a bad value, by its 1-based position */
  {
    g_auto (GStrv) v = g_strsplit (good, ";", -1);
    g_autofree char *text = NULL;

    g_free (v[4]);
    v[4] = g_strdup (" abc ");
    text = g_strjoinv (";", v);
    assert_affectnet_error (text, "training.csv", 12,
                            "training.csv: line 12: landmark value 5 is 'abc', not a number");
    g_free (v[4]);
    v[4] = g_strdup ("");
    g_free (text);
    text = g_strjoinv (";", v);
    assert_affectnet_error (text, "training.csv", 12,
                            "training.csv: line 12: landmark value 5 is '', not a number");
    g_free (v[4]);
    v[4] = g_strdup ("1 2");
    g_free (text);
    text = g_strjoinv (";", v);
    assert_affectnet_error (text, "training.csv", 12,
                            "training.csv: line 12: landmark value 5 is '1 2', not a number");
    g_free (v[4]);
    v[4] = g_strdup ("nan");
    g_free (text);
    text = g_strjoinv (";", v);
    assert_affectnet_error (text, "training.csv", 12,
                            "training.csv: line 12: landmark value 5 is 'nan', "
                            "not a finite number");
    g_free (text);
    text = g_strjoinv (";", v);
    assert_affectnet_error (text, "x.csv", 0,
                            "x.csv: landmark value 5 is 'nan', not a finite number");
  }
}

/* --- writing -------------------------------------------------------------- */

static void
test_save_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = scratch_path ("saved.pts");
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  PalLandmarks lm = face_landmarks (), back;
  guint64 rng = 7;

  g_assert_true (pal_landmarks_save_pts (&lm, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  lines = g_strsplit (contents, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3 + 68 + 1 + 1);
  g_assert_cmpstr (lines[0], ==, "version: 1");
  g_assert_cmpstr (lines[1], ==, "n_points:  68");
  g_assert_cmpstr (lines[2], ==, "{");
  g_assert_cmpstr (lines[3], ==, "41.848 83.845");          /* 1-based */
  g_assert_cmpstr (lines[3 + 8], ==, "132.356 228.161");
  g_assert_cmpstr (lines[71], ==, "}");
  g_assert_cmpstr (lines[72], ==, "");                       /* final newline */

  load_ok (path, &back);
  assert_close_to_face (&back, 1e-4);

  /* arbitrary values, negative ones and large ones: within the 3 decimals */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm.x[k] = (float) (pal_rand_uniform (&rng) * 3000.0 - 500.0);
      lm.y[k] = (float) (pal_rand_uniform (&rng) * 20.0 - 10.0);
    }
  g_assert_true (pal_landmarks_save_pts (&lm, path, &error));
  g_assert_no_error (error);
  load_ok (path, &back);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat_with_epsilon (back.x[k], lm.x[k], 5e-4 + 1e-4);
      g_assert_cmpfloat_with_epsilon (back.y[k], lm.y[k], 5e-4 + 1e-5);
    }
  g_unlink (path);
}

static void
assert_save_error (GError **error, const char *path, int code)
{
  g_autofree char *prefix = g_strdup_printf ("Could not save '%s': ", path);

  g_assert_error (*error, PAL_ERROR, code);
  g_assert_true (g_str_has_prefix ((*error)->message, prefix));
  g_clear_error (error);
}

static void
test_save_atomic (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = scratch_path ("atomic");
  g_autofree char *path = g_build_filename (dir, "x.pts", NULL);
  g_autofree char *nodir = g_build_filename (dir, "nowhere", "x.pts", NULL);
  g_autofree char *subdir = g_build_filename (dir, "taken", NULL);
  g_autofree char *inside = g_build_filename (subdir, "keep", NULL);
  g_autofree char *before = NULL, *after = NULL;
  PalLandmarks a = face_landmarks (), b = face_landmarks ();

  pal_landmarks_flip (&b, 250);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (pal_landmarks_save_pts (&a, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 1);   /* no temporary left */
  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));

  /* a point that is not finite: refused before anything is written */
  b.x[3] = NAN;
  g_assert_false (pal_landmarks_save_pts (&b, path, &error));
  assert_save_error (&error, path, PAL_ERROR_INVALID);
  b.x[3] = 1.0f;

#ifdef G_OS_UNIX
  /* a write that fails half-way (RLIMIT_FSIZE applies to root too) */
  {
    struct rlimit old_limit, limit;
    void (*old_handler) (int);
    gboolean saved;

    g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
    limit = old_limit;
    limit.rlim_cur = 100;
    old_handler = signal (SIGXFSZ, SIG_IGN);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
    saved = pal_landmarks_save_pts (&b, path, &error);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
    signal (SIGXFSZ, old_handler);
    g_assert_false (saved);
    g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
    assert_save_error (&error, path, PAL_ERROR_IO);
  }
#endif
  /* the old file is intact, and alone */
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);

  /* a directory that does not exist: nothing is created */
  g_assert_false (pal_landmarks_save_pts (&b, nodir, &error));
  assert_save_error (&error, nodir, PAL_ERROR_IO);
  g_assert_false (g_file_test (nodir, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (dir), ==, 1);

  /* the target is a non-empty directory: the rename fails, the temporary goes */
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
  g_assert_false (pal_landmarks_save_pts (&b, subdir, &error));
  assert_save_error (&error, subdir, PAL_ERROR_IO);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  g_assert_cmpuint (count_entries (subdir), ==, 1);

  /* a successful save replaces the file */
  g_assert_true (pal_landmarks_save_pts (&b, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  {
    PalLandmarks back;

    load_ok (path, &back);
    for (int k = 0; k < PAL_N_LANDMARKS; k++)
      g_assert_cmpfloat_with_epsilon (back.x[k], b.x[k], 6e-4);
  }
  rm_rf (dir);
}

/* --- geometry ------------------------------------------------------------- */

static void
test_mirror_table (void)
{
  /* the pairs as the specification lists them (0-based) */
  static const int pairs[][2] = {
    /* brows 17..21 <-> 26..22 */
    { 17, 26 }, { 18, 25 }, { 19, 24 }, { 20, 23 }, { 21, 22 },
    /* nose bottom */
    { 31, 35 }, { 32, 34 },
    /* eyes */
    { 36, 45 }, { 37, 44 }, { 38, 43 }, { 39, 42 }, { 40, 47 }, { 41, 46 },
    /* outer lip */
    { 48, 54 }, { 49, 53 }, { 50, 52 }, { 55, 59 }, { 56, 58 },
    /* inner lip */
    { 60, 64 }, { 61, 63 }, { 65, 67 },
  };
  static const int fixed[] = { 8, 27, 28, 29, 30, 33, 51, 57, 62, 66 };
  gboolean seen[PAL_N_LANDMARKS] = { FALSE };
  int n_fixed = 0;

  /* a permutation and an involution */
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int j = pal_landmarks_mirror[i];
      g_assert_cmpint (j, >=, 0);
      g_assert_cmpint (j, <, PAL_N_LANDMARKS);
      g_assert_false (seen[j]);
      seen[j] = TRUE;
      g_assert_cmpint (pal_landmarks_mirror[j], ==, i);
      n_fixed += j == i;
    }
  for (int i = 0; i <= 16; i++)
    g_assert_cmpint (pal_landmarks_mirror[i], ==, 16 - i);
  for (gsize p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      g_assert_cmpint (pal_landmarks_mirror[pairs[p][0]], ==, pairs[p][1]);
      g_assert_cmpint (pal_landmarks_mirror[pairs[p][1]], ==, pairs[p][0]);
    }
  for (gsize p = 0; p < G_N_ELEMENTS (fixed); p++)
    g_assert_cmpint (pal_landmarks_mirror[fixed[p]], ==, fixed[p]);
  g_assert_cmpint (n_fixed, ==, G_N_ELEMENTS (fixed));
}

/* The face moved so that its nose bridge (27..30) lies on x = (width-1)/2. */
static PalLandmarks
centred_face (int width)
{
  PalLandmarks lm = face_landmarks ();
  double axis = 0.0;

  for (int k = 27; k <= 30; k++)
    axis += lm.x[k] / 4.0;
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    lm.x[k] = (float) (lm.x[k] + (width - 1) / 2.0 - axis);
  return lm;
}

static void
test_mirror_face (void)
{
  /* the groups of the 68 points: a mirrored point belongs to its own group */
  static const int groups[][2] = {
    { 0, 16 }, { 17, 26 }, { 27, 30 }, { 31, 35 }, { 36, 47 }, { 48, 59 }, { 60, 67 },
  };
  const int width = 250;
  PalLandmarks lm = centred_face (width), flipped = lm, sym, twice;
  double axis = (width - 1) / 2.0;

  /* on a real (nearly symmetric) face, each flipped point lands nearer to the
   * point of the same number than to any other point of its group, and
   * points off the axis change sides */
  pal_landmarks_flip (&flipped, width);
  for (gsize g = 0; g < G_N_ELEMENTS (groups); g++)
    for (int i = groups[g][0]; i <= groups[g][1]; i++)
      {
        double di = hypot (flipped.x[i] - lm.x[i], flipped.y[i] - lm.y[i]);
        int m = pal_landmarks_mirror[i];

        g_assert_cmpint (m, >=, groups[g][0]);
        g_assert_cmpint (m, <=, groups[g][1]);
        g_assert_cmpfloat (di, <, 8.0);   /* pixels of a 200-pixel face */
        for (int j = groups[g][0]; j <= groups[g][1]; j++)
          if (j != i)
            g_assert_cmpfloat (di, <, hypot (flipped.x[i] - lm.x[j], flipped.y[i] - lm.y[j]));
        if (m != i)
          g_assert_true ((lm.x[i] < axis) != (lm.x[m] < axis));
        else
          g_assert_cmpfloat (fabs (lm.x[i] - axis), <, 4.0);
      }

  /* symmetrise about the axis with the permutation: the flip keeps it */
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int m = pal_landmarks_mirror[i];
      sym.x[i] = (float) ((lm.x[i] + (width - 1.0 - lm.x[m])) / 2.0);
      sym.y[i] = (float) ((lm.y[i] + lm.y[m]) / 2.0);
    }
  twice = sym;
  pal_landmarks_flip (&twice, width);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      g_assert_cmpfloat_with_epsilon (twice.x[i], sym.x[i], 1e-4);
      g_assert_cmpfloat (twice.y[i], ==, sym.y[i]);
    }

  /* flipping twice is the identity, for any width */
  for (int w = 1; w <= 512; w += 73)
    {
      twice = lm;
      pal_landmarks_flip (&twice, w);
      pal_landmarks_flip (&twice, w);
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          g_assert_cmpfloat_with_epsilon (twice.x[i], lm.x[i], 1e-4);
          g_assert_cmpfloat (twice.y[i], ==, lm.y[i]);
        }
    }

  /* x -> width - 1 - x: the first pixel's centre and the last one's swap */
  twice = lm;
  twice.x[8] = 0.0f;
  twice.x[27] = 249.0f;
  pal_landmarks_flip (&twice, width);
  g_assert_cmpfloat (twice.x[8], ==, 249.0f);
  g_assert_cmpfloat (twice.x[27], ==, 0.0f);
}

static void
test_transform_bounds (void)
{
  const double shift_scale[6] = { 2.0, 0.0, 5.0, 0.0, 0.5, -1.0 };
  const double c = cos (0.3), s = sin (0.3);
  /* a rotation by 0.3 about (100, 50) */
  const double rot[6] = { c, -s, 100.0 - c * 100.0 + s * 50.0,
                          s, c, 50.0 - s * 100.0 - c * 50.0 };
  PalLandmarks lm = face_landmarks ();
  float box[4];

  pal_landmarks_bounds (&lm, box);
  g_assert_cmpfloat (box[0], ==, 40.848f);   /* jaw 0 */
  g_assert_cmpfloat (box[1], ==, 51.472f);   /* brow 24 */
  g_assert_cmpfloat (box[2], ==, 219.239f);  /* jaw 16 */
  g_assert_cmpfloat (box[3], ==, 227.161f);  /* chin 8 */

  pal_landmarks_transform (&lm, shift_scale);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      g_assert_cmpfloat_with_epsilon (lm.x[k], 2.0 * face[k][0] + 5.0, 1e-4);
      g_assert_cmpfloat_with_epsilon (lm.y[k], 0.5 * face[k][1] - 1.0, 1e-4);
    }
  pal_landmarks_bounds (&lm, box);
  g_assert_cmpfloat_with_epsilon (box[0], 2.0 * 40.848 + 5.0, 1e-4);
  g_assert_cmpfloat_with_epsilon (box[3], 0.5 * 227.161 - 1.0, 1e-4);

  lm = face_landmarks ();
  pal_landmarks_transform (&lm, rot);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      double dx = face[k][0] - 100.0, dy = face[k][1] - 50.0;
      g_assert_cmpfloat_with_epsilon (lm.x[k], 100.0 + c * dx - s * dy, 1e-4);
      g_assert_cmpfloat_with_epsilon (lm.y[k], 50.0 + s * dx + c * dy, 1e-4);
      /* distances to the centre are kept */
      g_assert_cmpfloat_with_epsilon (hypot (lm.x[k] - 100.0, lm.y[k] - 50.0),
                                      hypot (dx, dy), 1e-3);
    }
}

/* --- Eq. 8 ---------------------------------------------------------------- */

/* Eq. 8 without truncation, in double, at pixel (x, y). */
static double
eq8 (const PalLandmarks *lm, double sigma, int x, int y)
{
  double acc = 0.0;

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      double dx = x - (double) lm->x[k], dy = y - (double) lm->y[k];
      acc += exp (-(dx * dx + dy * dy) / (2.0 * sigma * sigma));
    }
  return acc / sqrt (2.0 * G_PI * sigma * sigma);
}

static double
map_sum (const float *m, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += m[i];
  return s;
}

static void
test_heatmap_exact (void)
{
  static const float sigmas[] = { 3.0f, 2.5f, 0.7f, 9.0f };
  static const int sizes[][2] = { { 250, 250 }, { 61, 37 } };

  for (gsize si = 0; si < G_N_ELEMENTS (sigmas); si++)
    for (gsize zi = 0; zi < G_N_ELEMENTS (sizes); zi++)
      {
        const int w = sizes[zi][0], h = sizes[zi][1];
        const double sigma = sigmas[si], norm = 1.0 / sqrt (2.0 * G_PI * sigma * sigma);
        /* each of the 68 terms is left out where it is below exp(-8) of its
         * peak: that bounds the difference */
        const double tol = 68.0 * exp (-8.0) * norm + 1e-6 * 68.0 * norm;
        g_autofree float *m = g_new (float, (gsize) w * h);
        PalLandmarks lm = face_landmarks ();
        double max_diff = 0.0;

        if (w < 250)   /* part of the face off the map, on both sides */
          {
            const double shrink[6] = { 0.4, 0.0, -20.0, 0.0, 0.3, -15.0 };
            pal_landmarks_transform (&lm, shrink);
          }
        pal_heatmap_render (m, w, h, &lm, (float) sigma, 0.0f, NULL);
        for (int y = 0; y < h; y++)
          for (int x = 0; x < w; x++)
            {
              double d = fabs (m[(gsize) y * w + x] - eq8 (&lm, sigma, x, y));
              max_diff = MAX (max_diff, d);
            }
        g_assert_cmpfloat (max_diff, <=, tol);
      }
}

static void
test_heatmap_sum (void)
{
  const int w = 400, h = 400;
  g_autofree float *m = g_new (float, (gsize) w * h);
  PalLandmarks lm = face_landmarks ();
  const double move[6] = { 1.0, 0.0, 70.0, 0.0, 1.0, 70.0 };   /* away from the edges */

  pal_landmarks_transform (&lm, move);
  for (double sigma = 0.75; sigma <= 12.0; sigma *= 2.0)
    {
      /* 68 Gaussians of volume sqrt(2 pi sigma^2) each:
       * 68 / sqrt(2 pi sigma^2) * 2 pi sigma^2 = 68 sqrt(2 pi) sigma */
      double expected = 68.0 * sqrt (2.0 * G_PI) * sigma;
      double sum;

      pal_heatmap_render (m, w, h, &lm, (float) sigma, 0.0f, NULL);
      sum = map_sum (m, (gsize) w * h);
      g_assert_cmpfloat (fabs (sum - expected), <, 0.01 * expected);
      /* the truncation at 4 sigma loses exp(-8) = 3.4e-4 of it, no more */
      g_assert_cmpfloat (sum, <, expected);
      g_assert_cmpfloat (sum, >, (1.0 - 5e-4) * expected);
    }
}

static void
test_heatmap_peak (void)
{
  const int w = 64, h = 48;
  const float sigma = 3.0f;
  const double norm = 1.0 / sqrt (2.0 * G_PI * sigma * sigma);
  g_autofree float *m = g_new (float, (gsize) w * h);
  PalLandmarks lm;
  gsize arg = 0;

  /* all 68 on pixel (37, 21): the maximum is there, 68 / sqrt(2 pi s^2),
   * with the next pixels at exp(-1 / (2 s^2)) of it, symmetrically */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm.x[k] = 37.0f;
      lm.y[k] = 21.0f;
    }
  pal_heatmap_render (m, w, h, &lm, sigma, 0.0f, NULL);
  for (gsize i = 1; i < (gsize) w * h; i++)
    if (m[i] > m[arg])
      arg = i;
  g_assert_cmpint (arg % w, ==, 37);
  g_assert_cmpint (arg / w, ==, 21);
  g_assert_cmpfloat_with_epsilon (m[arg], 68.0 * norm, 1e-6 * 68.0 * norm);
  g_assert_cmpfloat (m[arg - 1], ==, m[arg + 1]);
  g_assert_cmpfloat (m[arg - w], ==, m[arg + w]);
  g_assert_cmpfloat_with_epsilon (m[arg + 1], m[arg] * exp (-1.0 / (2.0 * sigma * sigma)),
                                  1e-6 * m[arg]);
  /* each Gaussian is evaluated within 4 sigma = 12 pixels only (a disk) */
  g_assert_cmpfloat (m[21 * w + 37 + 11], >, 0.0f);
  g_assert_cmpfloat (m[21 * w + 37 + 12], >, 0.0f);
  g_assert_cmpfloat (m[21 * w + 37 + 13], ==, 0.0f);
  g_assert_cmpfloat (m[(21 + 8) * w + 37 + 8], >, 0.0f);    /* 11.3 pixels */
  g_assert_cmpfloat (m[(21 + 9) * w + 37 + 9], ==, 0.0f);   /* 12.7 pixels */

  /* 68 landmarks on integer pixels of a coarse lattice: each pixel holds a
   * local maximum of 1 / sqrt(2 pi s^2) */
  {
    const int lw = 12 * 9 + 8, lh = 12 * 8 + 8;
    g_autofree float *ml = g_new (float, (gsize) lw * lh);

    for (int k = 0; k < PAL_N_LANDMARKS; k++)
      {
        lm.x[k] = (float) (4 + 12 * (k % 9) + (k % 3));
        lm.y[k] = (float) (4 + 12 * (k / 9));
      }
    pal_heatmap_render (ml, lw, lh, &lm, 1.5f, 0.0f, NULL);
    for (int k = 0; k < PAL_N_LANDMARKS; k++)
      {
        int x = (int) lm.x[k], y = (int) lm.y[k];
        const float *c = ml + (gsize) y * lw + x;

        g_assert_cmpfloat_with_epsilon (*c, 1.0 / sqrt (2.0 * G_PI * 1.5 * 1.5), 1e-5);
        g_assert_cmpfloat (*c, >, c[-1]);
        g_assert_cmpfloat (*c, >, c[1]);
        g_assert_cmpfloat (*c, >, c[-lw]);
        g_assert_cmpfloat (*c, >, c[lw]);
      }
  }

  /* a landmark between pixels: its four neighbours share the maximum */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm.x[k] = 10.5f;
      lm.y[k] = 30.5f;
    }
  pal_heatmap_render (m, w, h, &lm, sigma, 0.0f, NULL);
  g_assert_cmpfloat (m[30 * w + 10], ==, m[30 * w + 11]);
  g_assert_cmpfloat (m[30 * w + 10], ==, m[31 * w + 11]);
  g_assert_cmpfloat (m[30 * w + 10], >, m[30 * w + 9]);

  /* landmarks far off the map, or not finite, leave it zero */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      lm.x[k] = k % 3 == 0 ? -1e30f : k % 3 == 1 ? 1e9f : NAN;
      lm.y[k] = 5.0f;
    }
  pal_heatmap_render (m, w, h, &lm, sigma, 0.0f, NULL);
  for (gsize i = 0; i < (gsize) w * h; i++)
    g_assert_cmpfloat (m[i], ==, 0.0f);
}

static void
test_heatmap_noise (void)
{
  const int w = 250, h = 250;
  const gsize n = (gsize) w * h;
  g_autofree float *clean = g_new (float, n);
  g_autofree float *a = g_new (float, n);
  g_autofree float *b = g_new (float, n);
  g_autofree float *c = g_new (float, n);
  PalLandmarks lm = face_landmarks (), moved = lm;
  guint64 rng = 42, rng_again = 42, rng_other = 43, rng_copy = 42, unused = 99;

  /* no noise: the generator is not touched (and may be NULL) */
  pal_heatmap_render (clean, w, h, &lm, 3.0f, 0.0f, &unused);
  g_assert_cmpuint (unused, ==, 99);
  pal_heatmap_render (a, w, h, &lm, 3.0f, 0.0f, NULL);
  g_assert_cmpint (memcmp (a, clean, n * sizeof (float)), ==, 0);

  /* the same seed gives the same map; another seed or no noise differ */
  pal_heatmap_render (a, w, h, &lm, 3.0f, 2.0f, &rng);
  pal_heatmap_render (b, w, h, &lm, 3.0f, 2.0f, &rng_again);
  pal_heatmap_render (c, w, h, &lm, 3.0f, 2.0f, &rng_other);
  g_assert_cmpuint (rng, ==, rng_again);
  g_assert_cmpuint (rng, !=, 42);
  g_assert_cmpint (memcmp (a, b, n * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (a, clean, n * sizeof (float)), !=, 0);
  g_assert_cmpint (memcmp (a, c, n * sizeof (float)), !=, 0);
  /* the mass stays (the face is well inside the map) */
  g_assert_cmpfloat_with_epsilon (map_sum (a, n), map_sum (clean, n), 1e-3 * map_sum (clean, n));

  /* the noise is N(0, noise^2) on x then y of each landmark in turn, from
   * pal_rand_normal(): moving the points so by hand gives the same map */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      moved.x[k] = (float) (moved.x[k] + 2.0 * pal_rand_normal (&rng_copy));
      moved.y[k] = (float) (moved.y[k] + 2.0 * pal_rand_normal (&rng_copy));
    }
  g_assert_cmpuint (rng_copy, ==, rng);
  pal_heatmap_render (b, w, h, &moved, 3.0f, 0.0f, NULL);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (a[i], b[i], 1e-5);
}

/* --- the prior ------------------------------------------------------------ */

static void
test_prior (void)
{
  const int image_w = 192, image_h = 160, in = 96, map = 12;
  g_autofree float *full = g_new (float, in * in);
  float prior[12 * 12], expected[12 * 12];
  PalLandmarks lm, scaled;
  guint64 rng = 5;
  int arg = 0;

  /* 60 landmarks clustered around image pixel (150, 35), 8 spread out */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      if (k < 60)
        {
          lm.x[k] = (float) (150.0 + 2.0 * pal_rand_normal (&rng));
          lm.y[k] = (float) (35.0 + 2.0 * pal_rand_normal (&rng));
        }
      else
        {
          lm.x[k] = (float) (pal_rand_uniform (&rng) * (image_w - 1));
          lm.y[k] = (float) (pal_rand_uniform (&rng) * (image_h - 1));
        }
    }
  pal_prior_make (prior, map, map, &lm, image_w, image_h, in, in, 3.0f, 0.0f, NULL);

  /* by hand: the input frame, sigma 3 * 96 / 224, area average to 12 x 12 */
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      scaled.x[k] = (float) ((lm.x[k] + 0.5) * in / image_w - 0.5);
      scaled.y[k] = (float) ((lm.y[k] + 0.5) * in / image_h - 0.5);
    }
  pal_heatmap_render (full, in, in, &scaled, (float) (3.0 * in / 224.0), 0.0f, NULL);
  pal_map_resize_area (expected, map, map, full, in, in);
  for (int i = 0; i < map * map; i++)
    g_assert_cmpfloat_with_epsilon (prior[i], expected[i], 1e-6 * (1.0 + fabs (expected[i])));
  /* each cell is the mean of its 8 x 8 block */
  for (int cy = 0; cy < map; cy++)
    for (int cx = 0; cx < map; cx++)
      {
        double mean = 0.0;
        for (int y = 8 * cy; y < 8 * cy + 8; y++)
          for (int x = 8 * cx; x < 8 * cx + 8; x++)
            mean += full[y * in + x] / 64.0;
        g_assert_cmpfloat_with_epsilon (prior[cy * map + cx], mean, 1e-5 * (1.0 + mean));
      }

  /* the peak is the cell of the cluster: (150.5 * 96 / 192 - 0.5) / 8 = 9.3,
   * (35.5 * 96 / 160 - 0.5) / 8 = 2.6 */
  for (int i = 1; i < map * map; i++)
    if (prior[i] > prior[arg])
      arg = i;
  g_assert_cmpint (arg % map, ==, 9);
  g_assert_cmpint (arg / map, ==, 2);

  /* the same landmarks at 224 x 224 of a 224 x 224 image: Eq. 8 itself */
  {
    g_autofree float *p224 = g_new (float, 224 * 224);
    g_autofree float *r224 = g_new (float, 224 * 224);
    guint64 r1 = 11, r2 = 11;

    pal_prior_make (p224, 224, 224, &lm, 224, 224, 224, 224, 3.0f, 2.0f, &r1);
    pal_heatmap_render (r224, 224, 224, &lm, 3.0f, 2.0f, &r2);
    g_assert_cmpint (memcmp (p224, r224, 224 * 224 * sizeof (float)), ==, 0);
    g_assert_cmpuint (r1, ==, r2);
  }

  /* noise and sigma scale with the input width: at 112, half of both */
  {
    g_autofree float *p = g_new (float, 14 * 14);
    g_autofree float *q = g_new (float, 14 * 14);
    g_autofree float *r112 = g_new (float, 112 * 112);
    guint64 r1 = 12, r2 = 12;

    for (int k = 0; k < PAL_N_LANDMARKS; k++)
      {
        scaled.x[k] = (float) ((lm.x[k] + 0.5) * 112 / 224.0 - 0.5);
        scaled.y[k] = (float) ((lm.y[k] + 0.5) * 112 / 224.0 - 0.5);
      }
    pal_prior_make (p, 14, 14, &lm, 224, 224, 112, 112, 3.0f, 4.0f, &r1);
    pal_heatmap_render (r112, 112, 112, &scaled, 1.5f, 2.0f, &r2);
    pal_map_resize_area (q, 14, 14, r112, 112, 112);
    for (int i = 0; i < 14 * 14; i++)
      g_assert_cmpfloat_with_epsilon (p[i], q[i], 1e-6 * (1.0 + fabs (q[i])));
    g_assert_cmpuint (r1, ==, r2);
  }
}

/* --- main ----------------------------------------------------------------- */

/* tests/data/landmarks: from G_TEST_SRCDIR (meson test), else from the
 * source path the compiler saw, relative to the build directory. */
static char *
find_data_dir (void)
{
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");
  g_autofree char *src_dir = NULL;

  if (srcdir != NULL)
    return g_build_filename (srcdir, "data", "landmarks", NULL);
  src_dir = g_path_get_dirname (__FILE__);
  if (g_path_is_absolute (src_dir))
    return g_build_filename (src_dir, "data", "landmarks", NULL);
  /* meson compiles "../tests/test-landmarks.c" from the build root, and the
   * program lies in <build root>/tests */
  g_autofree char *build_root = g_path_get_dirname (g_test_get_dir (G_TEST_BUILT));
  return g_build_filename (build_root, src_dir, "data", "landmarks", NULL);
}

/* pal_landmarks_parse(): text in memory, without a final NUL, reads as
 * the file does. */
static void
test_parse_memory (void)
{
  GString *s = g_string_new ("version: 1\nn_points: 68\n{\n");
  g_autoptr (GError) error = NULL;
  PalLandmarks lm;

  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    g_string_append_printf (s, "%d %d.5\n", i + 1, i + 2);
  g_string_append (s, "}\nXYZ");
  /* the 3 bytes after the brace are outside the length */
  g_assert_true (pal_landmarks_parse (s->str, s->len - 3, "mem.pts", &lm, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (lm.x[0], ==, 0.0f);
  g_assert_cmpfloat (lm.y[67], ==, 68.5f);
  g_assert_false (pal_landmarks_parse (s->str, s->len, "mem.pts", &lm, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, "mem.pts: line 73: "));
  g_clear_error (&error);
  g_assert_false (pal_landmarks_parse ("", 0, "empty.txt", &lm, &error));
  g_assert_cmpstr (error->message, ==, "empty.txt: 0 points, expected 68");
  g_string_free (s, TRUE);
}

/* Where an image's landmarks are looked for. */
static void
test_pts_path_for (void)
{
  static const char *const cases[][2] = {
    { "faces/a.jpg", "faces/a.pts" },
    { "/data/x.y/face.PNG", "/data/x.y/face.pts" },
    { "face", "./face.pts" },
    { "dir/.hidden", "dir/.hidden.pts" },
    { "dir/a.b.jpeg", "dir/a.b.pts" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *pts = pal_landmarks_pts_path_for (cases[i][0]);

      g_assert_cmpstr (pts, ==, cases[i][1]);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("pal-landmarks-XXXXXX", &error);
  g_assert_no_error (error);
  data_dir = find_data_dir ();

  g_test_add_func ("/landmarks/load/samples", test_load_samples);
  g_test_add_func ("/landmarks/load/tolerant", test_load_tolerant);
  g_test_add_func ("/landmarks/load/pts-errors", test_load_errors);
  g_test_add_func ("/landmarks/load/plain-errors", test_load_plain_errors);
  g_test_add_func ("/landmarks/load/files", test_load_files);
  g_test_add_func ("/landmarks/affectnet", test_affectnet);
  g_test_add_func ("/landmarks/parse-memory", test_parse_memory);
  g_test_add_func ("/landmarks/save/round-trip", test_save_round_trip);
  g_test_add_func ("/landmarks/save/atomic", test_save_atomic);
  g_test_add_func ("/landmarks/pts-path-for", test_pts_path_for);
  g_test_add_func ("/landmarks/mirror/table", test_mirror_table);
  g_test_add_func ("/landmarks/mirror/face", test_mirror_face);
  g_test_add_func ("/landmarks/transform-bounds", test_transform_bounds);
  g_test_add_func ("/landmarks/heatmap/exact", test_heatmap_exact);
  g_test_add_func ("/landmarks/heatmap/sum", test_heatmap_sum);
  g_test_add_func ("/landmarks/heatmap/peak", test_heatmap_peak);
  g_test_add_func ("/landmarks/heatmap/noise", test_heatmap_noise);
  g_test_add_func ("/landmarks/prior", test_prior);
  ret = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  g_free (data_dir);
  return ret;
}
