/* pal-landmarks.c: 68-point landmark files, mirroring, the PAL prior */
#include "pal-landmarks.h"
#include "pal-error.h"
#include "pal-file.h"
#include "pal-exec.h"
#include "pal-rand.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* A 68-point .pts file is about 1.3 kB; anything over 1 MiB is not one and
 * is refused before its contents are read. */
#define MAX_FILE_SIZE ((gsize) 1 << 20)

/* Text quoted in messages is cut to this many characters. */
#define MAX_QUOTE 40

/* The Gaussians of Eq. 8 are evaluated within this many sigmas of their
 * centre only. */
#define RADIUS_SIGMAS 4.0

/* --- the mirror permutation ----------------------------------------------- */

/* iBUG 300-W numbering (0-based): the jaw runs from the right ear (image
 * left) to the left ear; brows 17..21 and 22..26 run left to right in the
 * image; the nose bridge 27..30 lies on the axis; the nose bottom 31..35 runs
 * left to right; each eye starts at its corner on the image's left (36
 * outer, 42 inner), goes along the upper lid (37, 38 / 43, 44) to the other
 * corner (39 inner / 45 outer) and back along the lower lid (40, 41 /
 * 46, 47); the outer lip runs 48 (corner) .. 54 (corner) over the top and
 * 55..59 back under the bottom, the inner lip 60..64 and 65..67 likewise. */
const int pal_landmarks_mirror[PAL_N_LANDMARKS] = {
  /* jaw 0..16 <-> 16..0 */
  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
  /* brows 17..21 <-> 26..22 */
  26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
  /* nose bridge 27..30: on the axis */
  27, 28, 29, 30,
  /* nose bottom 31..35 <-> 35..31 */
  35, 34, 33, 32, 31,
  /* eyes: corners 36 <-> 45 (outer), 39 <-> 42 (inner); upper lids
   * 37 <-> 44, 38 <-> 43; lower lids 40 <-> 47, 41 <-> 46 */
  45, 44, 43, 42, 47, 46,
  39, 38, 37, 36, 41, 40,
  /* outer lip 48..54 <-> 54..48, 55..59 <-> 59..55 */
  54, 53, 52, 51, 50, 49, 48,
  59, 58, 57, 56, 55,
  /* inner lip 60..64 <-> 64..60, 65..67 <-> 67..65 */
  64, 63, 62, 61, 60,
  67, 66, 65,
};

void
pal_landmarks_flip (PalLandmarks *lm, int width)
{
  g_return_if_fail (lm != NULL);

  PalLandmarks src = *lm;
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      int j = pal_landmarks_mirror[i];
      lm->x[i] = (float) ((double) width - 1.0 - src.x[j]);
      lm->y[i] = src.y[j];
    }
}

void
pal_landmarks_transform (PalLandmarks *lm, const double m[6])
{
  g_return_if_fail (lm != NULL && m != NULL);

  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      double x = lm->x[i], y = lm->y[i];
      lm->x[i] = (float) (m[0] * x + m[1] * y + m[2]);
      lm->y[i] = (float) (m[3] * x + m[4] * y + m[5]);
    }
}

void
pal_landmarks_bounds (const PalLandmarks *lm, float box[4])
{
  g_return_if_fail (lm != NULL && box != NULL);

  box[0] = box[2] = lm->x[0];
  box[1] = box[3] = lm->y[0];
  for (int i = 1; i < PAL_N_LANDMARKS; i++)
    {
      box[0] = MIN (box[0], lm->x[i]);
      box[1] = MIN (box[1], lm->y[i]);
      box[2] = MAX (box[2], lm->x[i]);
      box[3] = MAX (box[3], lm->y[i]);
    }
}

/* --- parsing helpers ------------------------------------------------------- */

/* @s as valid UTF-8, cut to MAX_QUOTE characters, for a message. */
static char *
quote (const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);

  if (g_utf8_strlen (valid, -1) <= MAX_QUOTE)
    return g_steal_pointer (&valid);
  g_autofree char *cut = g_utf8_substring (valid, 0, MAX_QUOTE);
  return g_strconcat (cut, "...", NULL);
}

typedef enum {
  NUM_OK,
  NUM_INVALID,     /* not a number */
  NUM_NON_FINITE,  /* nan, inf, or beyond the range of a float */
} NumResult;

/* Parses the whole of @tok (no surrounding blanks) as a number, as
 * g_ascii_strtod() reads it (C locale), that a float can hold. */
static NumResult
parse_number (const char *tok, double *out)
{
  char *end = NULL;
  double v;

  if (*tok == '\0' || g_ascii_isspace (*tok))
    return NUM_INVALID;
  v = g_ascii_strtod (tok, &end);
  if (end == tok || *end != '\0')
    return NUM_INVALID;
  if (!isfinite (v) || fabs (v) > FLT_MAX)
    return NUM_NON_FINITE;
  *out = v;
  return NUM_OK;
}

/* Splits @line (stripped, writable) at runs of blanks into at most @max
 * tokens; returns the number of tokens found, which may exceed @max (the
 * extra ones are not stored). */
static int
split_blanks (char *line, char **tok, int max)
{
  int n = 0;
  char *p = line;

  while (*p != '\0')
    {
      while (*p != '\0' && g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;
      if (n < max)
        tok[n] = p;
      n++;
      while (*p != '\0' && !g_ascii_isspace (*p))
        p++;
      if (*p != '\0')
        *p++ = '\0';
    }
  return n;
}

/* The text being parsed, split into lines in place. */
typedef struct {
  const char *name;     /* the file, for messages */
  char       *next;     /* start of the next line, NULL at the end */
  int         lineno;   /* 1-based number of the line last returned */
} LineReader;

/* The next line, stripped of surrounding blanks and of its '\r\n' or '\n'
 * (the last line needs no newline); NULL at the end. */
static char *
next_line (LineReader *r)
{
  char *line = r->next, *nl;

  /* the text after a final newline is no line */
  if (line == NULL || *line == '\0')
    return NULL;
  nl = strchr (line, '\n');
  if (nl != NULL)
    {
      *nl = '\0';
      r->next = nl + 1;
    }
  else
    r->next = NULL;
  r->lineno++;
  return g_strstrip (line);
}

static void set_parse_error (GError **error, const LineReader *r, gboolean with_line,
                             const char *format, ...) G_GNUC_PRINTF (4, 5);

/* "NAME: line N: MESSAGE", or "NAME: MESSAGE" without @with_line. */
static void
set_parse_error (GError **error, const LineReader *r, gboolean with_line,
                 const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (with_line)
    g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: line %d: %s",
                 r->name, r->lineno, msg);
  else
    g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: %s", r->name, msg);
}

/* A line of exactly two finite numbers into *x, *y; the line is consumed. */
static gboolean
parse_point_line (LineReader *r, char *line, double *x, double *y, GError **error)
{
  g_autofree char *shown = quote (line);
  char *tok[2];
  double v[2];

  if (split_blanks (line, tok, 2) != 2)
    {
      set_parse_error (error, r, TRUE, "expected two numbers, got '%s'", shown);
      return FALSE;
    }
  for (int i = 0; i < 2; i++)
    {
      NumResult res = parse_number (tok[i], &v[i]);

      if (res == NUM_INVALID)
        {
          set_parse_error (error, r, TRUE, "expected two numbers, got '%s'", shown);
          return FALSE;
        }
      if (res == NUM_NON_FINITE)
        {
          g_autofree char *bad = quote (tok[i]);
          set_parse_error (error, r, TRUE, "'%s' is not a finite number", bad);
          return FALSE;
        }
    }
  *x = v[0];
  *y = v[1];
  return TRUE;
}

/* If @line is "KEY: VALUE" (blanks allowed around ':', VALUE one token),
 * the VALUE; otherwise NULL. */
static const char *
key_value (const char *line, const char *key)
{
  gsize n = strlen (key);
  const char *p;

  if (strncmp (line, key, n) != 0)
    return NULL;
  p = line + n;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p++ != ':')
    return NULL;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return NULL;
  for (const char *q = p; *q != '\0'; q++)
    if (g_ascii_isspace (*q))
      return NULL;
  return p;
}

/* TRUE if @s is an optional sign and decimal digits. */
static gboolean
is_integer (const char *s)
{
  if (*s == '+' || *s == '-')
    s++;
  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s))
    s++;
  return *s == '\0';
}

/* --- .pts ----------------------------------------------------------------- */

typedef enum {
  PTS_VERSION,
  PTS_N_POINTS,
  PTS_OPEN,
  PTS_POINTS,
  PTS_DONE,
} PtsState;

/* iBUG .pts: "version: 1", "n_points: 68", "{", 68 "x y" lines (1-based),
 * "}".  Blank lines are skipped anywhere; nothing but blanks may follow the
 * closing brace; there are no comments. */
static gboolean
parse_pts (LineReader *r, PalLandmarks *out, GError **error)
{
  PtsState state = PTS_VERSION;
  int count = 0;
  char *line;

  while ((line = next_line (r)) != NULL)
    {
      const char *value;
      g_autofree char *shown = NULL;

      if (*line == '\0')
        continue;
      switch (state)
        {
        case PTS_VERSION:
          value = key_value (line, "version");
          if (value == NULL || !is_integer (value))
            {
              shown = quote (line);
              set_parse_error (error, r, TRUE, "expected 'version: 1', got '%s'", shown);
              return FALSE;
            }
          if (g_ascii_strtoll (value, NULL, 10) != 1)
            {
              shown = quote (value);
              set_parse_error (error, r, TRUE, "version is %s, expected 1", shown);
              return FALSE;
            }
          state = PTS_N_POINTS;
          break;

        case PTS_N_POINTS:
          value = key_value (line, "n_points");
          if (value == NULL || !is_integer (value))
            {
              shown = quote (line);
              set_parse_error (error, r, TRUE, "expected 'n_points: %d', got '%s'",
                               PAL_N_LANDMARKS, shown);
              return FALSE;
            }
          /* out of range of a gint64 is not 68 either (G_MAXINT64) */
          if (g_ascii_strtoll (value, NULL, 10) != PAL_N_LANDMARKS)
            {
              shown = quote (value);
              set_parse_error (error, r, FALSE, "n_points is %s, expected %d",
                               shown, PAL_N_LANDMARKS);
              return FALSE;
            }
          state = PTS_OPEN;
          break;

        case PTS_OPEN:
          if (strcmp (line, "{") != 0)
            {
              shown = quote (line);
              set_parse_error (error, r, TRUE, "expected '{', got '%s'", shown);
              return FALSE;
            }
          state = PTS_POINTS;
          break;

        case PTS_POINTS:
          if (line[0] == '}')
            {
              const char *rest = line + 1;
              while (g_ascii_isspace (*rest))
                rest++;
              if (*rest != '\0')
                {
                  shown = quote (rest);
                  set_parse_error (error, r, TRUE, "unexpected text after '}': '%s'",
                                   shown);
                  return FALSE;
                }
              if (count != PAL_N_LANDMARKS)
                {
                  set_parse_error (error, r, TRUE, "%d points before '}', expected %d",
                                   count, PAL_N_LANDMARKS);
                  return FALSE;
                }
              state = PTS_DONE;
              break;
            }
          {
            double x, y;
            if (!parse_point_line (r, line, &x, &y, error))
              return FALSE;
            /* 1-based on disk; points past the 68th are counted for the
             * message at '}' */
            if (count < PAL_N_LANDMARKS)
              {
                out->x[count] = (float) (x - 1.0);
                out->y[count] = (float) (y - 1.0);
              }
            count++;
          }
          break;

        case PTS_DONE:
          shown = quote (line);
          set_parse_error (error, r, TRUE, "unexpected text after '}': '%s'", shown);
          return FALSE;
        }
    }

  switch (state)
    {
    case PTS_DONE:
      return TRUE;
    case PTS_VERSION:   /* not reached: the caller saw "version" */
    case PTS_N_POINTS:
      set_parse_error (error, r, FALSE, "end of file after line %d, expected 'n_points: %d'",
                       r->lineno, PAL_N_LANDMARKS);
      return FALSE;
    case PTS_OPEN:
      set_parse_error (error, r, FALSE, "end of file after line %d, expected '{'", r->lineno);
      return FALSE;
    case PTS_POINTS:
    default:
      set_parse_error (error, r, FALSE, "end of file after line %d (%d points), expected '}'",
                       r->lineno, count);
      return FALSE;
    }
}

/* Plain text: exactly 68 non-blank lines of "x y", 0-based. */
static gboolean
parse_plain (LineReader *r, PalLandmarks *out, GError **error)
{
  int count = 0;
  char *line;

  while ((line = next_line (r)) != NULL)
    {
      double x, y;

      if (*line == '\0')
        continue;
      if (!parse_point_line (r, line, &x, &y, error))
        return FALSE;
      if (count < PAL_N_LANDMARKS)
        {
          out->x[count] = (float) x;
          out->y[count] = (float) y;
        }
      count++;
    }
  if (count != PAL_N_LANDMARKS)
    {
      set_parse_error (error, r, FALSE, "%d points, expected %d", count, PAL_N_LANDMARKS);
      return FALSE;
    }
  return TRUE;
}

char *
pal_landmarks_pts_path_for (const char *image)
{
  g_autofree char *dir = g_path_get_dirname (image);
  g_autofree char *base = g_path_get_basename (image);
  char *dot = strrchr (base, '.');
  g_autofree char *name = NULL;

  g_return_val_if_fail (image != NULL, NULL);

  if (dot && dot != base)
    *dot = '\0';
  name = g_strconcat (base, ".pts", NULL);
  return g_build_filename (dir, name, NULL);
}

/* Reads a regular file of at most MAX_FILE_SIZE bytes, NUL-terminated. */
static char *
read_small_file (const char *path, gsize *len_out, GError **error)
{
  struct stat st;
  int saved_errno;
  int fd = pal_file_open_regular (path, NULL, &st, error);

  if (fd < 0)
    return NULL;
  if ((guint64) st.st_size > MAX_FILE_SIZE)
    {
      close (fd);
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: %" G_GUINT64_FORMAT " bytes is too large for a landmark file "
                   "(the limit is 1 MiB)", path, (guint64) st.st_size);
      return NULL;
    }

  /* the file may have grown since fstat(): stop past the limit */
  GByteArray *buf = g_byte_array_sized_new ((guint) st.st_size + 1);
  guint8 chunk[4096];
  for (;;)
    {
      gssize n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          close (fd);
          g_byte_array_unref (buf);
          g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", path,
                       g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      if (buf->len > MAX_FILE_SIZE)
        {
          close (fd);
          g_byte_array_unref (buf);
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: too large for a landmark file (the limit is 1 MiB)", path);
          return NULL;
        }
    }
  close (fd);
  *len_out = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (buf, FALSE);
}

gboolean
pal_landmarks_load (const char *path, PalLandmarks *out, GError **error)
{
  g_return_val_if_fail (path != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gsize len = 0;
  g_autofree char *text = read_small_file (path, &len, error);
  if (text == NULL)
    return FALSE;
  return pal_landmarks_parse (text, len, path, out, error);
}

gboolean
pal_landmarks_parse (const char *text, gsize len, const char *name, PalLandmarks *out,
                     GError **error)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len > MAX_FILE_SIZE)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: too large for a landmark file (the limit is 1 MiB)", name);
      return FALSE;
    }

  /* a writable, NUL-terminated copy: the lines are split in place */
  g_autofree char *copy = g_malloc (len + 1);
  if (len > 0)
    memcpy (copy, text, len);
  copy[len] = '\0';

  LineReader r = { name, copy, 0 };

  /* a NUL byte would end a line early: refuse it, naming its line */
  const char *nul = memchr (copy, '\0', len);
  if (nul != NULL)
    {
      r.lineno = 1;
      for (const char *p = copy; p < nul; p++)
        r.lineno += *p == '\n';
      set_parse_error (error, &r, TRUE, "unexpected NUL byte");
      return FALSE;
    }
  /* a UTF-8 byte order mark is not part of the first line */
  if (g_str_has_prefix (copy, "\xEF\xBB\xBF"))
    r.next += 3;

  /* the format: .pts if the first non-blank line starts with "version" */
  const char *p = r.next;
  while (g_ascii_isspace (*p))
    p++;

  PalLandmarks lm;
  gboolean ok = g_str_has_prefix (p, "version") ? parse_pts (&r, &lm, error)
                                                 : parse_plain (&r, &lm, error);
  if (ok)
    *out = lm;
  return ok;
}

/* --- AffectNet ------------------------------------------------------------ */

gboolean
pal_landmarks_parse_affectnet (const char *text, PalLandmarks *out,
                               const char *name, int line, GError **error)
{
  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *where = line > 0
    ? g_strdup_printf ("%s: line %d: ", name != NULL ? name : "landmarks", line)
    : g_strdup_printf ("%s: ", name != NULL ? name : "landmarks");
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_auto (GStrv) field = *copy != '\0' ? g_strsplit (copy, ";", -1) : g_new0 (char *, 1);
  guint n = g_strv_length (field);
  double v[2 * PAL_N_LANDMARKS];

  if (n != 2 * PAL_N_LANDMARKS)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s%u landmark values, expected %d",
                   where, n, 2 * PAL_N_LANDMARKS);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      const char *f = g_strstrip (field[i]);
      NumResult res = parse_number (f, &v[i]);

      if (res == NUM_OK)
        continue;
      g_autofree char *shown = quote (f);
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%slandmark value %u is '%s', %s", where, i + 1, shown,
                   res == NUM_INVALID ? "not a number" : "not a finite number");
      return FALSE;
    }
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      out->x[k] = (float) v[2 * k];
      out->y[k] = (float) v[2 * k + 1];
    }
  return TRUE;
}

/* --- .pts writer ---------------------------------------------------------- */

gboolean
pal_landmarks_save_pts (const PalLandmarks *lm, const char *path, GError **error)
{
  g_return_val_if_fail (lm != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    if (!isfinite (lm->x[k]) || !isfinite (lm->y[k]))
      {
        g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                     "Could not save '%s': point %d is not finite", path, k);
        return FALSE;
      }

  /* the header as the 300-W files have it; 1-based, 3 decimals */
  g_autoptr (GString) s = g_string_new ("version: 1\nn_points:  68\n{\n");
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      char bx[G_ASCII_DTOSTR_BUF_SIZE], by[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (bx, sizeof bx, "%.3f", (double) lm->x[k] + 1.0);
      g_ascii_formatd (by, sizeof by, "%.3f", (double) lm->y[k] + 1.0);
      g_string_append_printf (s, "%s %s\n", bx, by);
    }
  g_string_append (s, "}\n");

  if (!pal_file_replace_data (path, s->str, s->len))
    {
      int saved_errno = errno;

      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "Could not save '%s': %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* --- Eq. 8 ---------------------------------------------------------------- */

void
pal_heatmap_render (float *dst, int width, int height, const PalLandmarks *lm,
                    float sigma, float noise_sigma, guint64 *rng)
{
  g_return_if_fail (dst != NULL && lm != NULL);
  g_return_if_fail (width > 0 && height > 0);
  g_return_if_fail (sigma > 0.0f && isfinite (sigma));
  g_return_if_fail (noise_sigma >= 0.0f && isfinite (noise_sigma));
  g_return_if_fail (noise_sigma == 0.0f || rng != NULL);

  /* a[y][x] = sum_k exp(-((x - x_k)^2 + (y - y_k)^2) / (2 s^2)) / sqrt(2 pi s^2),
   * pixel (x, y) at its index coordinates.  Each term is evaluated within
   * RADIUS_SIGMAS = 4 sigmas of its centre only: beyond, it is below
   * exp(-16 / 2) = exp(-8) = 3.4e-4 of its peak, and the volume left out is
   * the same fraction, 3.4e-4, of the term's total.  The exponential is
   * separable, so each term costs one row and one column of exp(). */
  const double s = sigma;
  const double inv_2s2 = 1.0 / (2.0 * s * s);
  const double norm = 1.0 / sqrt (2.0 * G_PI * s * s);
  const double r = RADIUS_SIGMAS * s, r2 = r * r;
  const gsize n = (gsize) width * (gsize) height;
  double *acc = g_new0 (double, n);
  double *gx = g_new (double, width), *dx2 = g_new (double, width);

  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      double cx = lm->x[k], cy = lm->y[k];

      if (noise_sigma > 0.0f)
        {
          cx += noise_sigma * pal_rand_normal (rng);
          cy += noise_sigma * pal_rand_normal (rng);
        }
      if (!isfinite (cx) || !isfinite (cy))
        continue;

      /* the pixels within r, clamped to the map before any cast to int */
      double fx0 = MAX (ceil (cx - r), 0.0), fx1 = MIN (floor (cx + r), width - 1.0);
      double fy0 = MAX (ceil (cy - r), 0.0), fy1 = MIN (floor (cy + r), height - 1.0);
      if (fx0 > fx1 || fy0 > fy1)
        continue;
      int x0 = (int) fx0, x1 = (int) fx1, y0 = (int) fy0, y1 = (int) fy1;

      for (int x = x0; x <= x1; x++)
        {
          double d = x - cx;
          dx2[x] = d * d;
          gx[x] = exp (-dx2[x] * inv_2s2);
        }
      for (int y = y0; y <= y1; y++)
        {
          double dy = y - cy, dy2 = dy * dy;
          double gy = norm * exp (-dy2 * inv_2s2);
          double *row = acc + (gsize) y * width;

          for (int x = x0; x <= x1; x++)
            if (dx2[x] + dy2 <= r2)
              row[x] += gy * gx[x];
        }
    }

  for (gsize i = 0; i < n; i++)
    dst[i] = (float) acc[i];
  g_free (dx2);
  g_free (gx);
  g_free (acc);
}

void
pal_prior_make (float *dst, int map_w, int map_h, const PalLandmarks *lm,
                int image_w, int image_h, int input_w, int input_h, float sigma_224,
                float noise_sigma_224, guint64 *rng)
{
  g_return_if_fail (dst != NULL && lm != NULL);
  g_return_if_fail (map_w > 0 && map_h > 0 && image_w > 0 && image_h > 0);
  g_return_if_fail (input_w > 0 && input_h > 0);

  /* image to input coordinates: pixel centres map to pixel centres */
  const double sx = (double) input_w / image_w, sy = (double) input_h / image_h;
  PalLandmarks in;
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      in.x[k] = (float) ((lm->x[k] + 0.5) * sx - 0.5);
      in.y[k] = (float) ((lm->y[k] + 0.5) * sy - 0.5);
    }

  /* sigma and noise are given in pixels of a 224-wide input */
  const float sigma = (float) (sigma_224 * (double) input_w / 224.0);
  const float noise = (float) (noise_sigma_224 * (double) input_w / 224.0);
  float *full = g_new (float, (gsize) input_w * (gsize) input_h);

  pal_heatmap_render (full, input_w, input_h, &in, sigma, noise, rng);
  pal_map_resize_area (dst, map_h, map_w, full, input_h, input_w);
  g_free (full);
}
