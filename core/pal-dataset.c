/* pal-dataset.c: RAF-DB, AffectNet, FER2013 / FER+ and folder readers,
 * validation splits and class-balanced sampling (see pal-dataset.h and
 * docs/DATASETS.md) */
#include "pal-dataset.h"
#include "pal-dataset-private.h"

#include "pal-error.h"
#include "pal-file.h"
#include "pal-model.h"
#include "pal-rand.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FER_SIDE      48
#define FER_PIXELS    (FER_SIDE * FER_SIDE)
#define MAX_FIELDS    64          /* CSV fields looked at; more are only counted */
#define DEFAULT_MAX_ISSUES 1000
#define CLASS_CONTEMPT 7

/* The canonical classes plus contempt, NULL-terminated at 7 or 8. */
static const char *const class_names_7[] = {
  "neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", NULL,
};
static const char *const class_names_8[] = {
  "neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt", NULL,
};

/* Label codes -> canonical classes; -1: not a code of the dataset. */

/* RAF-DB: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger,
 * 7 Neutral. */
static const int rafdb_map[8] = { -1, 3, 4, 5, 1, 2, 6, 0 };
/* FER2013: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise,
 * 6 Neutral. */
static const int fer2013_map[7] = { 6, 5, 4, 1, 2, 3, 0 };
/* AffectNet: 0 Neutral .. 6 Anger are the canonical order itself; 7
 * Contempt; 8 None, 9 Uncertain, 10 No-Face are left out. */

/* FER+ vote columns, in fer2013new.csv's order, with their class (or the
 * reason the majority is left out). */
static const struct {
  const char *column;
  int         label;     /* >= 0: class; < 0: -(PalSkipReason + 1) */
} ferplus_columns[] = {
  { "neutral", 0 }, { "happiness", 1 }, { "surprise", 3 }, { "sadness", 2 },
  { "anger", 6 }, { "disgust", 5 }, { "fear", 4 },
  { "contempt", CLASS_CONTEMPT },
  { "unknown", -(PAL_SKIP_UNCERTAIN + 1) },
  { "NF", -(PAL_SKIP_NO_FACE + 1) },
};
#define N_FERPLUS_VOTES G_N_ELEMENTS (ferplus_columns)

/* Folder names of the classes (case-insensitive). */
static const struct {
  const char *name;
  int         label;
} folder_names[] = {
  { "neutral", 0 }, { "neutrality", 0 },
  { "happy", 1 }, { "happiness", 1 }, { "joy", 1 },
  { "sad", 2 }, { "sadness", 2 },
  { "surprise", 3 }, { "surprised", 3 },
  { "fear", 4 }, { "fearful", 4 }, { "afraid", 4 }, { "scared", 4 },
  { "disgust", 5 }, { "disgusted", 5 },
  { "anger", 6 }, { "angry", 6 },
  { "contempt", CLASS_CONTEMPT }, { "contemptuous", CLASS_CONTEMPT },
};

static const struct {
  const char *name;
  PalSplit    split;
} folder_splits[] = {
  { "train", PAL_SPLIT_TRAIN }, { "training", PAL_SPLIT_TRAIN },
  { "val", PAL_SPLIT_VAL }, { "valid", PAL_SPLIT_VAL }, { "validation", PAL_SPLIT_VAL },
  { "test", PAL_SPLIT_TEST }, { "testing", PAL_SPLIT_TEST },
};

static const char *const split_names[PAL_N_SPLITS] = { "train", "val", "test" };

struct _PalDataset
{
  grefcount         ref;
  PalDatasetFormat  format;
  char             *root;
  int               n_classes;
  const char *const *class_names;

  GArray           *samples;       /* PalSample */
  GArray           *landmarks;     /* PalLandmarks, pointed to by the samples */
  GByteArray       *pixels;        /* FER2013: FER_PIXELS per sample, in sample order */
  GStringChunk     *strings;       /* paths, file names, issue messages */
  guint8           *drawn;         /* per sample: moved to val by make_validation */

  GArray           *issues;        /* PalDatasetIssue */
  int               max_issues;
  int               n_rows;
  int               skipped[PAL_N_SKIP_REASONS];
  int               n_missing_landmarks;
  gboolean          own_val;
};

/* ------------------------------------------------------------------------ */
/* Building                                                                 */
/* ------------------------------------------------------------------------ */

/* The state of pal_dataset_open() while the label files are read. */
typedef struct
{
  PalDataset              *ds;
  const PalDatasetOptions *opt;
  GArray                  *lm_index;   /* int per sample: index into landmarks, or -1 */
  GString                 *scratch;
  /* pal_dataset_parse_text(): the label files' text, in place of the files */
  gboolean                 in_memory;
  const char              *text, *plus_text;
  gsize                    text_len, plus_len;
} Builder;

/* Records a broken row.  Returns FALSE (with @error set) when the options
 * make it fatal. */
static gboolean broken (Builder *b, PalSkipReason reason, const char *file, int line,
                        GError **error, const char *format, ...) G_GNUC_PRINTF (6, 7);

static gboolean
broken (Builder *b, PalSkipReason reason, const char *file, int line,
        GError **error, const char *format, ...)
{
  PalDataset *ds = b->ds;
  va_list args;
  g_autofree char *what = NULL;
  g_autofree char *msg = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  msg = line > 0 ? g_strdup_printf ("%s:%d: %s", file, line, what)
                 : g_strdup_printf ("%s: %s", file, what);

  ds->skipped[reason]++;
  if (b->opt->strict)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s", msg);
      return FALSE;
    }
  if ((int) ds->issues->len < ds->max_issues)
    {
      PalDatasetIssue issue = {
        .reason = reason,
        .file = g_string_chunk_insert_const (ds->strings, file),
        .line = line,
        .message = g_string_chunk_insert (ds->strings, msg),
      };
      g_array_append_val (ds->issues, issue);
    }
  return TRUE;
}

/* Appends a sample; @path and @pixels are copied. */
static void
add_sample (Builder *b, const char *path, const guint8 *pixels, int label, PalSplit split,
            int line, const PalLandmarks *lm, const int *box)
{
  PalDataset *ds = b->ds;
  PalSample s = { 0 };
  int li = -1;

  s.path = path ? g_string_chunk_insert (ds->strings, path) : NULL;
  s.label = label;
  s.split = split;
  s.line = line;
  if (lm)
    {
      li = ds->landmarks->len;
      g_array_append_val (ds->landmarks, *lm);
      s.has_landmarks = TRUE;
    }
  else
    ds->n_missing_landmarks++;
  if (box)
    {
      s.has_box = TRUE;
      memcpy (s.box, box, sizeof s.box);
    }
  if (pixels)
    g_byte_array_append (ds->pixels, pixels, FER_PIXELS);
  g_array_append_val (ds->samples, s);
  g_array_append_val (b->lm_index, li);
}

/* With check_images, a row whose image does not exist is broken: *@keep
 * says whether the row stays.  FALSE (with @error set) when that is fatal. */
static gboolean
image_exists (Builder *b, const char *path, const char *file, int line,
              gboolean *keep, GError **error)
{
  *keep = TRUE;
  if (!b->opt->check_images || g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  *keep = FALSE;
  return broken (b, PAL_SKIP_MISSING_IMAGE, file, line, error,
                 "image %s does not exist", path);
}

/* Landmarks from a .pts file if it exists: *@have is FALSE for a missing
 * file, *@keep FALSE for an unreadable one (a broken row).  FALSE (with
 * @error set) when that is fatal. */
static gboolean
load_pts (Builder *b, const char *pts, const char *file, int line,
          PalLandmarks *lm, gboolean *have, gboolean *keep, GError **error)
{
  g_autoptr (GError) local = NULL;

  *have = FALSE;
  *keep = TRUE;
  if (!g_file_test (pts, G_FILE_TEST_EXISTS))
    return TRUE;
  if (pal_landmarks_load (pts, lm, &local))
    {
      *have = TRUE;
      return TRUE;
    }
  *keep = FALSE;
  return broken (b, PAL_SKIP_BAD_LANDMARKS, file, line, error, "landmarks: %s",
                 local->message);
}

/* ------------------------------------------------------------------------ */
/* Text helpers                                                             */
/* ------------------------------------------------------------------------ */

typedef struct
{
  const char *p, *end;
  int         line;
} LineReader;

static void
line_reader_init (LineReader *r, const char *data, gsize len)
{
  r->p = data;
  r->end = data + len;
  r->line = 0;
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)   /* UTF-8 BOM */
    r->p += 3;
}

/* The next line without its end ("\n" or "\r\n"); FALSE at the end. */
static gboolean
line_reader_next (LineReader *r, const char **s, gsize *len)
{
  const char *nl;

  if (r->p >= r->end)
    return FALSE;
  nl = memchr (r->p, '\n', r->end - r->p);
  if (!nl)
    nl = r->end;
  *s = r->p;
  *len = nl - r->p;
  if (*len > 0 && (*s)[*len - 1] == '\r')
    (*len)--;
  r->p = nl < r->end ? nl + 1 : r->end;
  r->line++;
  return TRUE;
}

static gboolean
is_blank (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (s[i]))
      return FALSE;
  return TRUE;
}

typedef struct
{
  const char *s;
  gsize       len;
  gboolean    quoted;    /* was in double quotes: "" stands for " */
} Field;

/* Splits a CSV line (RFC 4180 quoting, no line breaks inside quotes) into
 * at most MAX_FIELDS fields; returns the number of fields, which may be
 * more.  Unquoted fields are trimmed of spaces. */
static int
split_csv (const char *line, gsize len, Field *f)
{
  const char *p = line, *end = line + len;
  int n = 0;

  for (;;)
    {
      Field cur = { 0 };

      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      if (p < end && *p == '"')
        {
          const char *q = ++p;

          while (q < end && !(*q == '"' && (q + 1 >= end || q[1] != '"')))
            q += (*q == '"') ? 2 : 1;
          cur.s = p;
          cur.len = (q < end ? q : end) - p;
          cur.quoted = TRUE;
          p = q < end ? q + 1 : end;
          while (p < end && *p != ',')
            p++;
        }
      else
        {
          const char *q = memchr (p, ',', end - p);

          if (!q)
            q = end;
          cur.s = p;
          cur.len = q - p;
          while (cur.len > 0 && (cur.s[cur.len - 1] == ' ' || cur.s[cur.len - 1] == '\t'))
            cur.len--;
          p = q;
        }
      if (n < MAX_FIELDS)
        f[n] = cur;
      n++;
      if (p >= end)
        break;
      p++;   /* the comma */
    }
  return n;
}

/* Whitespace-separated fields (RAF-DB's list). */
static int
split_ws (const char *line, gsize len, Field *f)
{
  const char *p = line, *end = line + len;
  int n = 0;

  for (;;)
    {
      const char *q;

      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p >= end)
        break;
      q = p;
      while (q < end && !g_ascii_isspace (*q))
        q++;
      if (n < MAX_FIELDS)
        f[n] = (Field) { p, q - p, FALSE };
      n++;
      p = q;
    }
  return n;
}

/* The field as a string in @scratch (valid until the next use). */
static const char *
field_str (const Field *f, GString *scratch)
{
  g_string_truncate (scratch, 0);
  if (!f->quoted)
    return g_string_append_len (scratch, f->s, f->len)->str;
  for (gsize i = 0; i < f->len; i++)
    {
      g_string_append_c (scratch, f->s[i]);
      if (f->s[i] == '"' && i + 1 < f->len && f->s[i + 1] == '"')
        i++;
    }
  return scratch->str;
}

/* A quoted copy of a field for messages, cut at 40 bytes. */
static char *
field_show (const Field *f)
{
  gsize n = MIN (f->len, 40);
  g_autofree char *raw = g_strndup (f->s, n);

  return g_strdup_printf ("'%s%s'", raw, n < f->len ? "..." : "");
}

/* A decimal integer (optional sign), no other characters. */
static gboolean
parse_int (const Field *f, int *out)
{
  const char *p = f->s, *end = f->s + f->len;
  gboolean neg = FALSE;
  gint64 v = 0;

  if (p < end && (*p == '-' || *p == '+'))
    neg = *p++ == '-';
  if (p >= end)
    return FALSE;
  for (; p < end; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      v = v * 10 + (*p - '0');
      if (v > G_MAXINT)
        return FALSE;
    }
  *out = neg ? (int) -v : (int) v;
  return TRUE;
}

static gboolean
field_equal (const Field *f, const char *name)
{
  return f->len == strlen (name) && g_ascii_strncasecmp (f->s, name, f->len) == 0;
}

/* Column indices of @names in a header (case-insensitive); a missing one is
 * an error naming the file. */
static gboolean
find_columns (const Field *f, int n, const char *const *names, int *idx, int n_names,
              const char *file, GError **error)
{
  for (int k = 0; k < n_names; k++)
    {
      idx[k] = -1;
      for (int j = 0; j < MIN (n, MAX_FIELDS); j++)
        if (field_equal (&f[j], names[k]))
          {
            idx[k] = j;
            break;
          }
      if (idx[k] < 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s:1: no column '%s' in the header", file, names[k]);
          return FALSE;
        }
    }
  return TRUE;
}

/* Maps a file; an empty one gives data NULL, len 0. */
static GMappedFile *
map_file (const char *path, const char **data, gsize *len, GError **error)
{
  GMappedFile *mf = pal_file_map (path, error);

  if (!mf)
    return NULL;
  *data = g_mapped_file_get_contents (mf);
  *len = g_mapped_file_get_length (mf);
  return mf;
}

/* The text of label file @path: mapped into *@mf, or in memory the text
 * given to pal_dataset_parse_text() (@plus: FER+'s votes). */
static gboolean
label_text (Builder *b, gboolean plus, const char *path, GMappedFile **mf,
            const char **data, gsize *len, GError **error)
{
  if (b->in_memory)
    {
      *data = plus ? b->plus_text : b->text;
      *len = plus ? b->plus_len : b->text_len;
      return TRUE;
    }
  *mf = map_file (path, data, len, error);
  return *mf != NULL;
}

/* The header line (the first non-blank line), split. */
static gboolean
read_header (LineReader *r, const char *file, Field *f, int *n, GError **error)
{
  const char *s;
  gsize len;

  while (line_reader_next (r, &s, &len))
    if (!is_blank (s, len))
      {
        *n = split_csv (s, len, f);
        return TRUE;
      }
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: empty file, expected a header", file);
  return FALSE;
}

/* The stem of a file name: without directories and extension. */
static char *
file_stem (const char *name)
{
  g_autofree char *base = g_path_get_basename (name);
  char *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  return g_strdup (base);
}

/* ------------------------------------------------------------------------ */
/* RAF-DB                                                                   */
/* ------------------------------------------------------------------------ */

#define RAFDB_LIST "EmoLabel/list_patition_label.txt"

static gboolean
read_rafdb (Builder *b, GError **error)
{
  PalDataset *ds = b->ds;
  const PalDatasetOptions *opt = b->opt;
  g_autofree char *file = g_build_filename (ds->root, RAFDB_LIST, NULL);
  g_autofree char *image_dir = NULL, *lm_dir = NULL;
  g_autoptr (GMappedFile) mf = NULL;
  gboolean original = opt->raf_original;
  const char *data, *s;
  gsize len, slen;
  LineReader r;

  if (opt->image_dir)
    image_dir = g_strdup (opt->image_dir);
  else
    {
      g_autofree char *aligned = g_build_filename (ds->root, "Image", "aligned", NULL);
      g_autofree char *orig = g_build_filename (ds->root, "Image", "original", NULL);

      /* Only the original images there: use them. */
      if (!original && !g_file_test (aligned, G_FILE_TEST_IS_DIR)
          && g_file_test (orig, G_FILE_TEST_IS_DIR))
        original = TRUE;
      image_dir = g_strdup (original ? orig : aligned);
    }
  lm_dir = opt->landmarks_dir ? g_strdup (opt->landmarks_dir)
                              : g_build_filename (ds->root, "Landmarks", NULL);

  if (!label_text (b, FALSE, file, &mf, &data, &len, error))
    return FALSE;
  line_reader_init (&r, data, len);
  while (line_reader_next (&r, &s, &slen))
    {
      Field f[MAX_FIELDS];
      int n, code;
      PalSplit split;
      g_autofree char *name = NULL, *stem = NULL, *image = NULL, *image_stem = NULL;
      g_autofree char *pts = NULL;
      PalLandmarks lm;
      gboolean have_lm, keep;

      if (is_blank (s, slen))
        continue;
      ds->n_rows++;
      n = split_ws (s, slen, f);
      if (n != 2)
        {
          if (!broken (b, PAL_SKIP_FIELD_COUNT, file, r.line, error,
                       "%d fields, expected 2 (image name, label code)", n))
            return FALSE;
          continue;
        }
      name = g_strndup (f[0].s, f[0].len);
      if (!parse_int (&f[1], &code))
        {
          g_autofree char *shown = field_show (&f[1]);
          if (!broken (b, PAL_SKIP_BAD_NUMBER, file, r.line, error,
                       "label code %s is not an integer", shown))
            return FALSE;
          continue;
        }
      if (code < 1 || code > 7)
        {
          if (!broken (b, PAL_SKIP_UNKNOWN_CODE, file, r.line, error,
                       "unknown label code %d (RAF-DB's are 1 to 7)", code))
            return FALSE;
          continue;
        }
      if (g_str_has_prefix (name, "train_"))
        split = PAL_SPLIT_TRAIN;
      else if (g_str_has_prefix (name, "test_"))
        split = PAL_SPLIT_TEST;
      else
        {
          if (!broken (b, PAL_SKIP_BAD_SPLIT, file, r.line, error,
                       "image name '%s' starts with neither train_ nor test_", name))
            return FALSE;
          continue;
        }

      stem = file_stem (name);
      if (original)
        {
          image = g_build_filename (image_dir, name, NULL);
          image_stem = g_strdup (stem);
        }
      else
        {
          image_stem = g_strconcat (stem, "_aligned", NULL);
          g_autofree char *base = g_strconcat (image_stem, ".jpg", NULL);
          image = g_build_filename (image_dir, base, NULL);
        }
      if (!image_exists (b, image, file, r.line, &keep, error))
        return FALSE;
      if (!keep)
        continue;

      g_autofree char *pts_base = g_strconcat (image_stem, ".pts", NULL);
      pts = g_build_filename (lm_dir, pts_base, NULL);
      if (!load_pts (b, pts, file, r.line, &lm, &have_lm, &keep, error))
        return FALSE;
      if (!keep)
        continue;
      add_sample (b, image, NULL, rafdb_map[code], split, r.line, have_lm ? &lm : NULL, NULL);
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* AffectNet                                                                */
/* ------------------------------------------------------------------------ */

/* training.csv or validation.csv, at the root or where AffectNet's archive
 * puts it; NULL if neither exists. */
static char *
affectnet_csv (const char *root, const char *name)
{
  char *p = g_build_filename (root, name, NULL);

  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return p;
  g_free (p);
  p = g_build_filename (root, "Manually_Annotated_file_lists", name, NULL);
  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return p;
  g_free (p);
  return NULL;
}

static gboolean
read_affectnet_csv (Builder *b, const char *file, PalSplit split, const char *image_dir,
                    GError **error)
{
  static const char *const columns[] = {
    "subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
    "facial_landmarks", "expression",
  };
  enum { C_PATH, C_X, C_Y, C_W, C_H, C_LM, C_EXPR, N_COLS };
  PalDataset *ds = b->ds;
  g_autoptr (GMappedFile) mf = NULL;
  const char *data = NULL, *s;
  gsize len = 0, slen;
  Field f[MAX_FIELDS];
  int col[N_COLS], n_header;
  LineReader r;

  if (!label_text (b, FALSE, file, &mf, &data, &len, error))
    return FALSE;
  line_reader_init (&r, data, len);
  if (!read_header (&r, file, f, &n_header, error)
      || !find_columns (f, n_header, columns, col, N_COLS, file, error))
    return FALSE;

  while (line_reader_next (&r, &s, &slen))
    {
      int n, code, box[4], label;
      gboolean keep, bad = FALSE;
      PalLandmarks lm;
      gboolean have_lm = FALSE;
      g_autofree char *image = NULL;

      if (is_blank (s, slen))
        continue;
      ds->n_rows++;
      n = split_csv (s, slen, f);
      if (n != n_header)
        {
          if (!broken (b, PAL_SKIP_FIELD_COUNT, file, r.line, error,
                       "%d fields, expected %d", n, n_header))
            return FALSE;
          continue;
        }
      for (int k = 0; k < 4 && !bad; k++)
        if (!parse_int (&f[col[C_X + k]], &box[k]))
          {
            g_autofree char *shown = field_show (&f[col[C_X + k]]);
            if (!broken (b, PAL_SKIP_BAD_NUMBER, file, r.line, error,
                         "%s %s is not an integer", columns[C_X + k], shown))
              return FALSE;
            bad = TRUE;
          }
      if (bad)
        continue;
      if (!parse_int (&f[col[C_EXPR]], &code))
        {
          g_autofree char *shown = field_show (&f[col[C_EXPR]]);
          if (!broken (b, PAL_SKIP_BAD_NUMBER, file, r.line, error,
                       "expression %s is not an integer", shown))
            return FALSE;
          continue;
        }
      if (code < 0 || code > 10)
        {
          if (!broken (b, PAL_SKIP_UNKNOWN_CODE, file, r.line, error,
                       "unknown expression code %d (AffectNet's are 0 to 10)", code))
            return FALSE;
          continue;
        }
      /* The protocol's exclusions come before the checks of the box and the
       * landmarks, which a No-Face row need not have. */
      if (code == 7 && !b->opt->include_contempt)
        {
          ds->skipped[PAL_SKIP_CONTEMPT]++;
          continue;
        }
      if (code >= 8)
        {
          ds->skipped[code == 8 ? PAL_SKIP_NONE
                      : code == 9 ? PAL_SKIP_UNCERTAIN : PAL_SKIP_NO_FACE]++;
          continue;
        }
      label = code;
      /* A box over the image's edges is clipped at load; an empty one is
       * no face box. */
      if (box[2] <= 0 || box[3] <= 0)
        {
          if (!broken (b, PAL_SKIP_BAD_NUMBER, file, r.line, error,
                       "face box %d,%d %dx%d is empty",
                       box[0], box[1], box[2], box[3]))
            return FALSE;
          continue;
        }
      if (!is_blank (f[col[C_LM]].s, f[col[C_LM]].len))
        {
          g_autoptr (GError) local = NULL;
          const char *text = field_str (&f[col[C_LM]], b->scratch);

          /* Its message starts "facial_landmarks: ", after our FILE:LINE. */
          if (!pal_landmarks_parse_affectnet (text, &lm, "facial_landmarks", 0, &local))
            {
              if (!broken (b, PAL_SKIP_BAD_LANDMARKS, file, r.line, error, "%s",
                           local->message))
                return FALSE;
              continue;
            }
          have_lm = TRUE;
        }
      image = g_build_filename (image_dir, field_str (&f[col[C_PATH]], b->scratch), NULL);
      if (!image_exists (b, image, file, r.line, &keep, error))
        return FALSE;
      if (!keep)
        continue;
      add_sample (b, image, NULL, label, split, r.line, have_lm ? &lm : NULL, box);
    }
  return TRUE;
}

static gboolean
read_affectnet (Builder *b, GError **error)
{
  PalDataset *ds = b->ds;
  g_autofree char *train = affectnet_csv (ds->root, "training.csv");
  g_autofree char *val = affectnet_csv (ds->root, "validation.csv");
  g_autofree char *image_dir = b->opt->image_dir
    ? g_strdup (b->opt->image_dir)
    : g_build_filename (ds->root, "Manually_Annotated_Images", NULL);

  if (b->in_memory)
    return read_affectnet_csv (b, "training.csv", PAL_SPLIT_TRAIN, image_dir, error);
  if (!train && !val)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO,
                   "%s: neither training.csv nor validation.csv (AffectNet)", ds->root);
      return FALSE;
    }
  /* AffectNet's public protocol: its validation set is the test set. */
  if (train && !read_affectnet_csv (b, train, PAL_SPLIT_TRAIN, image_dir, error))
    return FALSE;
  if (val && !read_affectnet_csv (b, val, PAL_SPLIT_TEST, image_dir, error))
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* FER2013 and FER+                                                         */
/* ------------------------------------------------------------------------ */

/* Space-separated values 0..255 into @dst (up to FER_PIXELS); returns how
 * many there are, or -1 with *@bad_at set at a value that is not one. */
static int
parse_pixels (const Field *f, guint8 *dst, const char **bad_at)
{
  const char *p = f->s, *end = f->s + f->len;
  int n = 0;

  for (;;)
    {
      int v = 0, digits = 0;

      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      if (p >= end)
        break;
      *bad_at = p;
      while (p < end && g_ascii_isdigit (*p) && digits < 4)
        {
          v = v * 10 + (*p++ - '0');
          digits++;
        }
      if (digits == 0 || v > 255 || (p < end && *p != ' ' && *p != '\t'))
        return -1;
      if (n < FER_PIXELS)
        dst[n] = (guint8) v;
      n++;
    }
  return n;
}

/* FER+ majority per data row of fer2013new.csv: label >= 0, or
 * -(reason + 1); line for messages. */
typedef struct
{
  int label;
  int line;
} FerPlusRow;

static gboolean
read_ferplus (Builder *b, const char *file, GArray *rows, GError **error)
{
  g_autoptr (GMappedFile) mf = NULL;
  const char *data = NULL, *s;
  gsize len = 0, slen;
  Field f[MAX_FIELDS];
  const char *names[N_FERPLUS_VOTES];
  int col[N_FERPLUS_VOTES], n_header;
  LineReader r;

  for (guint k = 0; k < N_FERPLUS_VOTES; k++)
    names[k] = ferplus_columns[k].column;
  if (!label_text (b, TRUE, file, &mf, &data, &len, error))
    return FALSE;
  line_reader_init (&r, data, len);
  if (!read_header (&r, file, f, &n_header, error)
      || !find_columns (f, n_header, names, col, N_FERPLUS_VOTES, file, error))
    return FALSE;

  while (line_reader_next (&r, &s, &slen))
    {
      FerPlusRow row = { .label = 0, .line = r.line };
      int n, votes[N_FERPLUS_VOTES], best = -1, n_best = 0;

      if (is_blank (s, slen))
        continue;
      n = split_csv (s, slen, f);
      if (n != n_header)
        {
          row.label = -(PAL_SKIP_FIELD_COUNT + 1);
          g_array_append_val (rows, row);
          continue;
        }
      for (guint k = 0; k < N_FERPLUS_VOTES; k++)
        if (!parse_int (&f[col[k]], &votes[k]) || votes[k] < 0)
          {
            row.label = -(PAL_SKIP_BAD_NUMBER + 1);
            break;
          }
      if (row.label < 0)
        {
          g_array_append_val (rows, row);
          continue;
        }
      for (guint k = 0; k < N_FERPLUS_VOTES; k++)
        {
          if (best < 0 || votes[k] > votes[best])
            {
              best = k;
              n_best = 1;
            }
          else if (votes[k] == votes[best])
            n_best++;
        }
      if (n_best > 1 || votes[best] == 0)
        row.label = -(PAL_SKIP_TIE + 1);
      else if (ferplus_columns[best].label == CLASS_CONTEMPT && !b->opt->include_contempt)
        row.label = -(PAL_SKIP_CONTEMPT + 1);
      else
        row.label = ferplus_columns[best].label;
      g_array_append_val (rows, row);
    }
  return TRUE;
}

static gboolean
read_fer2013 (Builder *b, gboolean ferplus, GError **error)
{
  static const char *const columns[] = { "emotion", "pixels", "Usage" };
  enum { C_EMOTION, C_PIXELS, C_USAGE, N_COLS };
  PalDataset *ds = b->ds;
  g_autofree char *file = g_build_filename (ds->root, "fer2013.csv", NULL);
  g_autofree char *plus_file = NULL;
  g_autoptr (GArray) plus = NULL;
  g_autoptr (GMappedFile) mf = NULL;
  const char *data = NULL, *s;
  gsize len = 0, slen;
  Field f[MAX_FIELDS];
  int col[N_COLS], n_header, row_index = 0;
  guint8 pixels[FER_PIXELS];
  LineReader r;

  if (ferplus)
    {
      plus_file = b->opt->ferplus_csv ? g_strdup (b->opt->ferplus_csv)
                                      : g_build_filename (ds->root, "fer2013new.csv", NULL);
      plus = g_array_new (FALSE, FALSE, sizeof (FerPlusRow));
      if (!read_ferplus (b, plus_file, plus, error))
        return FALSE;
    }

  if (!label_text (b, FALSE, file, &mf, &data, &len, error))
    return FALSE;
  line_reader_init (&r, data, len);
  if (!read_header (&r, file, f, &n_header, error)
      || !find_columns (f, n_header, columns, col, N_COLS, file, error))
    return FALSE;

  while (line_reader_next (&r, &s, &slen))
    {
      int n, code = 0, label, count;
      PalSplit split;
      const char *bad_at = NULL;
      const Field *usage;

      if (is_blank (s, slen))
        continue;
      ds->n_rows++;
      row_index++;
      if (plus && row_index > (int) plus->len)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s has %u rows, fewer than %s (line %d)",
                       plus_file, plus->len, file, r.line);
          return FALSE;
        }
      n = split_csv (s, slen, f);
      if (n != n_header)
        {
          if (!broken (b, PAL_SKIP_FIELD_COUNT, file, r.line, error,
                       "%d fields, expected %d", n, n_header))
            return FALSE;
          continue;
        }
      if (!plus)
        {
          if (!parse_int (&f[col[C_EMOTION]], &code))
            {
              g_autofree char *shown = field_show (&f[col[C_EMOTION]]);
              if (!broken (b, PAL_SKIP_BAD_NUMBER, file, r.line, error,
                           "emotion %s is not an integer", shown))
                return FALSE;
              continue;
            }
          if (code < 0 || code > 6)
            {
              if (!broken (b, PAL_SKIP_UNKNOWN_CODE, file, r.line, error,
                           "unknown emotion code %d (FER2013's are 0 to 6)", code))
                return FALSE;
              continue;
            }
        }
      usage = &f[col[C_USAGE]];
      if (field_equal (usage, "Training"))
        split = PAL_SPLIT_TRAIN;
      else if (field_equal (usage, "PublicTest"))
        split = PAL_SPLIT_VAL;
      else if (field_equal (usage, "PrivateTest"))
        split = PAL_SPLIT_TEST;
      else
        {
          g_autofree char *shown = field_show (usage);
          if (!broken (b, PAL_SKIP_BAD_SPLIT, file, r.line, error,
                       "Usage %s is not Training, PublicTest or PrivateTest", shown))
            return FALSE;
          continue;
        }
      count = parse_pixels (&f[col[C_PIXELS]], pixels, &bad_at);
      if (count != FER_PIXELS)
        {
          gboolean go;

          if (count < 0)
            {
              const char *end = f[col[C_PIXELS]].s + f[col[C_PIXELS]].len, *q = bad_at;
              while (q < end && q - bad_at < 20 && *q != ' ')
                q++;
              g_autofree char *shown = g_strndup (bad_at, q - bad_at);
              go = broken (b, PAL_SKIP_BAD_PIXELS, file, r.line, error,
                           "pixel value '%s' is not an integer in 0..255", shown);
            }
          else
            go = broken (b, PAL_SKIP_BAD_PIXELS, file, r.line, error,
                         "%d pixel values, expected %d (48 x 48)", count, FER_PIXELS);
          if (!go)
            return FALSE;
          continue;
        }
      if (plus)
        {
          const FerPlusRow *pr = &g_array_index (plus, FerPlusRow, row_index - 1);

          if (pr->label >= 0)
            label = pr->label;
          else
            {
              PalSkipReason reason = -pr->label - 1;

              if (reason <= PAL_SKIP_LAST_BROKEN)
                {
                  if (!broken (b, reason, plus_file, pr->line, error, "%s",
                               reason == PAL_SKIP_FIELD_COUNT
                               ? "wrong number of fields"
                               : "a vote count is not a non-negative integer"))
                    return FALSE;
                }
              else
                ds->skipped[reason]++;
              continue;
            }
        }
      else
        label = fer2013_map[code];
      add_sample (b, NULL, pixels, label, split, r.line, NULL, NULL);
    }
  if (plus && row_index != (int) plus->len)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s has %u rows, %s has %d: FER+ needs one row per FER2013 row",
                   plus_file, plus->len, file, row_index);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Folder                                                                   */
/* ------------------------------------------------------------------------ */

static int
folder_class (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (folder_names); i++)
    if (g_ascii_strcasecmp (name, folder_names[i].name) == 0)
      return folder_names[i].label;
  return -1;
}

static int
folder_split (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (folder_splits); i++)
    if (g_ascii_strcasecmp (name, folder_splits[i].name) == 0)
      return folder_splits[i].split;
  return -1;
}

static gboolean
is_image_name (const char *name)
{
  const char *dot = strrchr (name, '.');

  return dot && (g_ascii_strcasecmp (dot, ".jpg") == 0 || g_ascii_strcasecmp (dot, ".jpeg") == 0
                 || g_ascii_strcasecmp (dot, ".png") == 0);
}

/* Case-insensitive first ("Anger" before "bored"), then bytewise. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  int d = g_ascii_strcasecmp (x, y);

  return d ? d : strcmp (x, y);
}

/* The sorted entries of @dir that are (or are not) folders, hidden ones
 * left out. */
static GPtrArray *
list_dir (const char *dir, gboolean folders, GError **error)
{
  GError *local = NULL;
  GDir *d = g_dir_open (dir, 0, &local);
  GPtrArray *out;
  const char *name;

  if (!d)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  out = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = NULL;

      if (name[0] == '.')
        continue;
      path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR) == folders)
        g_ptr_array_add (out, g_strdup (name));
    }
  g_dir_close (d);
  g_ptr_array_sort (out, compare_names);
  return out;
}

/* The class folders under @dir (the root or a split folder). */
static gboolean
read_class_folders (Builder *b, const char *dir, const char *rel, PalSplit split,
                    GError **error)
{
  PalDataset *ds = b->ds;
  g_autoptr (GPtrArray) classes = list_dir (dir, TRUE, error);

  if (!classes)
    return FALSE;
  for (guint i = 0; i < classes->len; i++)
    {
      const char *cname = classes->pdata[i];
      g_autofree char *cdir = g_build_filename (dir, cname, NULL);
      g_autofree char *crel = rel ? g_build_filename (rel, cname, NULL) : g_strdup (cname);
      g_autoptr (GPtrArray) files = NULL;
      int label = folder_class (cname);

      if (label < 0)
        {
          ds->n_rows++;
          if (!broken (b, PAL_SKIP_UNKNOWN_CODE, cdir, 0, error,
                       "'%s' is not a class name (neutral, happy, sad, surprise, fear, "
                       "disgust, anger, contempt or a synonym)", cname))
            return FALSE;
          continue;
        }
      if (!(files = list_dir (cdir, FALSE, error)))
        return FALSE;
      for (guint j = 0; j < files->len; j++)
        {
          const char *fname = files->pdata[j];
          g_autofree char *image = NULL, *stem = NULL, *pts = NULL;
          PalLandmarks lm;
          gboolean have_lm, keep;

          if (!is_image_name (fname))
            continue;
          ds->n_rows++;
          if (label == CLASS_CONTEMPT && !b->opt->include_contempt)
            {
              ds->skipped[PAL_SKIP_CONTEMPT]++;
              continue;
            }
          image = g_build_filename (cdir, fname, NULL);
          if (b->opt->landmarks_dir)
            {
              stem = file_stem (fname);
              g_autofree char *pts_base = g_strconcat (stem, ".pts", NULL);

              pts = g_build_filename (b->opt->landmarks_dir, crel, pts_base, NULL);
            }
          else
            pts = pal_landmarks_pts_path_for (image);
          if (!load_pts (b, pts, image, 0, &lm, &have_lm, &keep, error))
            return FALSE;
          if (!keep)
            continue;
          add_sample (b, image, NULL, label, split, 0, have_lm ? &lm : NULL, NULL);
        }
    }
  return TRUE;
}

static gboolean
read_folder (Builder *b, GError **error)
{
  PalDataset *ds = b->ds;
  g_autoptr (GPtrArray) subdirs = list_dir (ds->root, TRUE, error);
  gboolean by_split = FALSE;

  if (!subdirs)
    return FALSE;
  for (guint i = 0; i < subdirs->len; i++)
    if (folder_split (subdirs->pdata[i]) >= 0)
      by_split = TRUE;
  if (!by_split)
    return read_class_folders (b, ds->root, NULL, PAL_SPLIT_TRAIN, error);

  for (guint i = 0; i < subdirs->len; i++)
    {
      const char *name = subdirs->pdata[i];
      g_autofree char *dir = g_build_filename (ds->root, name, NULL);
      int split = folder_split (name);

      if (split < 0)
        {
          ds->n_rows++;
          if (!broken (b, PAL_SKIP_UNKNOWN_CODE, dir, 0, error,
                       "'%s' is not a split folder (train, val, test)", name))
            return FALSE;
          continue;
        }
      if (split == PAL_SPLIT_VAL)
        ds->own_val = TRUE;
      if (!read_class_folders (b, dir, name, split, error))
        return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The dataset                                                              */
/* ------------------------------------------------------------------------ */

PalDatasetFormat
pal_dataset_detect (const char *root)
{
  g_autofree char *raf = g_build_filename (root, RAFDB_LIST, NULL);
  g_autofree char *fer = g_build_filename (root, "fer2013.csv", NULL);
  g_autofree char *an_train = affectnet_csv (root, "training.csv");
  g_autofree char *an_val = affectnet_csv (root, "validation.csv");

  if (g_file_test (raf, G_FILE_TEST_IS_REGULAR))
    return PAL_DATASET_RAFDB;
  if (an_train || an_val)
    return PAL_DATASET_AFFECTNET;
  if (g_file_test (fer, G_FILE_TEST_IS_REGULAR))
    return PAL_DATASET_FER2013;
  return PAL_DATASET_FOLDER;
}

static const char *const format_names[] = {
  [PAL_DATASET_AUTO] = "auto",
  [PAL_DATASET_RAFDB] = "rafdb",
  [PAL_DATASET_AFFECTNET] = "affectnet",
  [PAL_DATASET_FER2013] = "fer2013",
  [PAL_DATASET_FERPLUS] = "ferplus",
  [PAL_DATASET_FOLDER] = "folder",
};

const char *
pal_dataset_format_name (PalDatasetFormat format)
{
  if ((guint) format < G_N_ELEMENTS (format_names))
    return format_names[format];
  return "unknown";
}

gboolean
pal_dataset_format_from_string (const char *s, PalDatasetFormat *out, GError **error)
{
  static const struct { const char *name; PalDatasetFormat format; } aliases[] = {
    { "raf-db", PAL_DATASET_RAFDB }, { "raf", PAL_DATASET_RAFDB },
    { "fer+", PAL_DATASET_FERPLUS }, { "fer", PAL_DATASET_FER2013 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (g_ascii_strcasecmp (s, format_names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  for (gsize i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_ascii_strcasecmp (s, aliases[i].name) == 0)
      {
        *out = aliases[i].format;
        return TRUE;
      }
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
               "unknown dataset format '%s' (auto, rafdb, affectnet, fer2013, ferplus, folder)",
               s);
  return FALSE;
}

static void
dataset_free (PalDataset *ds)
{
  g_free (ds->root);
  g_array_unref (ds->samples);
  g_array_unref (ds->landmarks);
  g_byte_array_unref (ds->pixels);
  g_string_chunk_free (ds->strings);
  g_array_unref (ds->issues);
  g_free (ds->drawn);
  g_free (ds);
}

/* Reads the label files as @builder (its text fields set) says. */
static PalDataset *
dataset_build (const Builder *builder, const char *root, PalDatasetFormat format,
               const PalDatasetOptions *opt, GError **error)
{
  PalDataset *ds;
  Builder b = *builder;
  gboolean ok = FALSE;

  ds = g_new0 (PalDataset, 1);
  g_atomic_ref_count_init (&ds->ref);
  ds->format = format;
  ds->root = g_strdup (root);
  ds->n_classes = opt->include_contempt ? 8 : 7;
  ds->class_names = opt->include_contempt ? class_names_8 : class_names_7;
  ds->samples = g_array_new (FALSE, FALSE, sizeof (PalSample));
  ds->landmarks = g_array_new (FALSE, FALSE, sizeof (PalLandmarks));
  ds->pixels = g_byte_array_new ();
  ds->strings = g_string_chunk_new (64 * 1024);
  ds->issues = g_array_new (FALSE, FALSE, sizeof (PalDatasetIssue));
  ds->max_issues = opt->max_issues > 0 ? opt->max_issues : DEFAULT_MAX_ISSUES;

  b.ds = ds;
  b.opt = opt;
  b.lm_index = g_array_new (FALSE, FALSE, sizeof (int));
  b.scratch = g_string_new (NULL);

  switch (format)
    {
    case PAL_DATASET_RAFDB:
      ok = read_rafdb (&b, error);
      break;
    case PAL_DATASET_AFFECTNET:
      ok = read_affectnet (&b, error);
      break;
    case PAL_DATASET_FER2013:
    case PAL_DATASET_FERPLUS:
      ds->own_val = TRUE;
      ok = read_fer2013 (&b, format == PAL_DATASET_FERPLUS, error);
      break;
    case PAL_DATASET_FOLDER:
      ok = read_folder (&b, error);
      break;
    default:
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "unknown dataset format %d", format);
      break;
    }

  if (ok && ds->samples->len == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s: no usable sample (%s, %d rows read, all skipped)",
                   root, pal_dataset_format_name (format), ds->n_rows);
      ok = FALSE;
    }
  if (ok)
    {
      /* The arrays are complete: point the samples into them. */
      for (guint i = 0; i < ds->samples->len; i++)
        {
          PalSample *s = &g_array_index (ds->samples, PalSample, i);
          int li = g_array_index (b.lm_index, int, i);

          if (li >= 0)
            s->landmarks = &g_array_index (ds->landmarks, PalLandmarks, li);
          if (ds->pixels->len)
            s->pixels = ds->pixels->data + (gsize) i * FER_PIXELS;
        }
      ds->drawn = g_new0 (guint8, ds->samples->len);
    }
  g_array_unref (b.lm_index);
  g_string_free (b.scratch, TRUE);
  if (!ok)
    {
      dataset_free (ds);
      return NULL;
    }
  return ds;
}

PalDataset *
pal_dataset_open (const char *root, PalDatasetFormat format,
                  const PalDatasetOptions *opt, GError **error)
{
  static const PalDatasetOptions defaults = { 0 };
  Builder b = { 0 };

  g_return_val_if_fail (root != NULL, NULL);
  if (!opt)
    opt = &defaults;
  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: not a folder", root);
      return NULL;
    }
  if (format == PAL_DATASET_AUTO)
    format = pal_dataset_detect (root);
  return dataset_build (&b, root, format, opt, error);
}

PalDataset *
pal_dataset_parse_text (PalDatasetFormat format, const char *root,
                        const char *text, gsize len,
                        const char *plus_text, gsize plus_len,
                        const PalDatasetOptions *opt, GError **error)
{
  static const PalDatasetOptions defaults = { 0 };
  Builder b = { 0 };

  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (plus_text != NULL || plus_len == 0, NULL);
  if (format != PAL_DATASET_RAFDB && format != PAL_DATASET_AFFECTNET
      && format != PAL_DATASET_FER2013 && format != PAL_DATASET_FERPLUS)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s: no label file to parse for the %s format", root,
                   pal_dataset_format_name (format));
      return NULL;
    }
  if (!opt)
    opt = &defaults;
  b.in_memory = TRUE;
  b.text = text;
  b.text_len = len;
  b.plus_text = plus_text;
  b.plus_len = plus_len;
  return dataset_build (&b, root, format, opt, error);
}

PalDataset *
pal_dataset_ref (PalDataset *ds)
{
  g_atomic_ref_count_inc (&ds->ref);
  return ds;
}

void
pal_dataset_unref (PalDataset *ds)
{
  if (ds && g_atomic_ref_count_dec (&ds->ref))
    dataset_free (ds);
}

PalDatasetFormat
pal_dataset_get_format (PalDataset *ds)
{
  return ds->format;
}

const char *
pal_dataset_get_root (PalDataset *ds)
{
  return ds->root;
}

int
pal_dataset_get_n (PalDataset *ds)
{
  return ds->samples->len;
}

const PalSample *
pal_dataset_get (PalDataset *ds, int i)
{
  g_return_val_if_fail (i >= 0 && i < (int) ds->samples->len, NULL);
  return &g_array_index (ds->samples, PalSample, i);
}

const char *const *
pal_dataset_class_names (PalDataset *ds, int *n_classes)
{
  if (n_classes)
    *n_classes = ds->n_classes;
  return ds->class_names;
}

int
pal_dataset_get_n_classes (PalDataset *ds)
{
  return ds->n_classes;
}

PalImage *
pal_dataset_load_image (PalDataset *ds, int i, PalLandmarks *lm_out, GError **error)
{
  const PalSample *s;
  PalImage *img;
  int x0 = 0, y0 = 0;

  g_return_val_if_fail (i >= 0 && i < (int) ds->samples->len, NULL);
  s = &g_array_index (ds->samples, PalSample, i);
  if (s->pixels)
    {
      img = pal_image_new (FER_SIDE, FER_SIDE, 1);
      memcpy (img->data, s->pixels, FER_PIXELS);
    }
  else if (!(img = pal_image_load (s->path, error)))
    return NULL;

  if (s->has_box)
    {
      /* Clipped to the image: AffectNet's boxes may pass its edges. */
      int x1 = MIN (s->box[0] + s->box[2], img->width);
      int y1 = MIN (s->box[1] + s->box[3], img->height);
      PalImage *crop;

      x0 = CLAMP (s->box[0], 0, img->width);
      y0 = CLAMP (s->box[1], 0, img->height);
      if (x1 <= x0 || y1 <= y0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "%s: face box %d,%d %dx%d lies outside the %dx%d image",
                       s->path, s->box[0], s->box[1], s->box[2], s->box[3],
                       img->width, img->height);
          pal_image_free (img);
          return NULL;
        }
      if (x0 > 0 || y0 > 0 || x1 < img->width || y1 < img->height)
        {
          crop = pal_image_crop (img, x0, y0, x1 - x0, y1 - y0);
          pal_image_free (img);
          img = crop;
        }
    }
  if (lm_out && s->has_landmarks)
    {
      *lm_out = *s->landmarks;
      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        {
          lm_out->x[k] -= x0;
          lm_out->y[k] -= y0;
        }
    }
  return img;
}

int *
pal_dataset_indices (PalDataset *ds, PalSplit split, int *n)
{
  int *idx = g_new (int, MAX (ds->samples->len, 1));
  int m = 0;

  for (guint i = 0; i < ds->samples->len; i++)
    if (split == PAL_SPLIT_ALL || g_array_index (ds->samples, PalSample, i).split == split)
      idx[m++] = i;
  if (n)
    *n = m;
  return idx;
}

int
pal_dataset_count (PalDataset *ds, PalSplit split, int label)
{
  int m = 0;

  for (guint i = 0; i < ds->samples->len; i++)
    {
      const PalSample *s = &g_array_index (ds->samples, PalSample, i);

      if ((split == PAL_SPLIT_ALL || s->split == split) && (label < 0 || s->label == label))
        m++;
    }
  return m;
}

gboolean
pal_dataset_has_own_validation (PalDataset *ds)
{
  return ds->own_val;
}

/* A uniform integer in [0, n). */
static int
rand_below (guint64 *rng, int n)
{
  int k = (int) (pal_rand_uniform (rng) * n);

  return MIN (k, n - 1);
}

gboolean
pal_dataset_make_validation (PalDataset *ds, double fraction, guint64 seed, GError **error)
{
  int K = ds->n_classes, n = ds->samples->len;
  g_autofree int *n_train = g_new0 (int, K);
  g_autofree int *n_test = g_new0 (int, K);
  g_autofree int *quota = g_new0 (int, K);
  g_autofree int *weight = g_new0 (int, K);
  g_autofree double *frac = g_new0 (double, K);
  g_autofree int *order = NULL;
  gint64 total_train = 0, total_w = 0, n_val;
  const int *props;
  guint64 rng = seed;

  if (!(fraction >= 0.0 && fraction < 1.0))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "validation fraction %g is not in [0, 1)", fraction);
      return FALSE;
    }
  if (ds->own_val && fraction > 0.0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s has its own validation split; no validation split is drawn from train",
                   ds->root);
      return FALSE;
    }

  /* Put a previous draw back. */
  for (int i = 0; i < n; i++)
    if (ds->drawn[i])
      {
        g_array_index (ds->samples, PalSample, i).split = PAL_SPLIT_TRAIN;
        ds->drawn[i] = 0;
      }
  if (fraction == 0.0)
    return TRUE;

  for (int i = 0; i < n; i++)
    {
      const PalSample *s = &g_array_index (ds->samples, PalSample, i);

      if (s->split == PAL_SPLIT_TRAIN)
        n_train[s->label]++;
      else if (s->split == PAL_SPLIT_TEST)
        n_test[s->label]++;
    }
  /* The test set's proportions over the classes that train has (the
   * train set's own without a test set). */
  for (int c = 0; c < K; c++)
    if (n_train[c] > 0)
      {
        total_train += n_train[c];
        total_w += n_test[c];
      }
  props = total_w > 0 ? n_test : n_train;
  total_w = 0;
  for (int c = 0; c < K; c++)
    if (n_train[c] > 0)
      {
        weight[c] = props[c];
        total_w += props[c];
      }
  if (total_train == 0 || total_w == 0)
    return TRUE;

  n_val = (gint64) floor (fraction * total_train + 0.5);
  /* A class short of training samples shrinks the whole draw, so that the
   * proportions still hold. */
  for (int c = 0; c < K; c++)
    if (weight[c] > 0)
      n_val = MIN (n_val, (gint64) n_train[c] * total_w / weight[c]);

  /* Largest remainder: quotas summing to n_val, each within one of its
   * exact share. */
  {
    gint64 given = 0;

    for (int c = 0; c < K; c++)
      {
        double exact = (double) n_val * weight[c] / total_w;

        quota[c] = (int) floor (exact);
        frac[c] = exact - quota[c];
        given += quota[c];
      }
    while (given < n_val)
      {
        int best = -1;

        for (int c = 0; c < K; c++)
          if (weight[c] > 0 && quota[c] < n_train[c] && frac[c] >= 0.0
              && (best < 0 || frac[c] > frac[best]))
            best = c;
        if (best < 0)
          break;
        quota[best]++;
        frac[best] = -1.0;
        given++;
      }
  }

  /* Per class, a seeded shuffle of its training samples; the first quota
   * go to val. */
  order = g_new (int, MAX (total_train, 1));
  for (int c = 0; c < K; c++)
    {
      int m = 0;

      for (int i = 0; i < n; i++)
        {
          const PalSample *s = &g_array_index (ds->samples, PalSample, i);

          if (s->split == PAL_SPLIT_TRAIN && s->label == c)
            order[m++] = i;
        }
      for (int j = 0; j < quota[c]; j++)
        {
          int k = j + rand_below (&rng, m - j), t = order[j];

          order[j] = order[k];
          order[k] = t;
          g_array_index (ds->samples, PalSample, order[j]).split = PAL_SPLIT_VAL;
          ds->drawn[order[j]] = 1;
        }
    }
  return TRUE;
}

int
pal_dataset_get_n_rows (PalDataset *ds)
{
  return ds->n_rows;
}

int
pal_dataset_get_n_skipped (PalDataset *ds, PalSkipReason reason)
{
  g_return_val_if_fail ((guint) reason < PAL_N_SKIP_REASONS, 0);
  return ds->skipped[reason];
}

int
pal_dataset_get_n_broken (PalDataset *ds)
{
  int n = 0;

  for (int r = 0; r <= PAL_SKIP_LAST_BROKEN; r++)
    n += ds->skipped[r];
  return n;
}

int
pal_dataset_get_n_missing_landmarks (PalDataset *ds)
{
  return ds->n_missing_landmarks;
}

const PalDatasetIssue *
pal_dataset_get_issues (PalDataset *ds, int *n)
{
  if (n)
    *n = ds->issues->len;
  return (const PalDatasetIssue *) ds->issues->data;
}

const char *
pal_skip_reason_name (PalSkipReason reason)
{
  static const char *const names[PAL_N_SKIP_REASONS] = {
    [PAL_SKIP_FIELD_COUNT] = "wrong field count",
    [PAL_SKIP_BAD_NUMBER] = "bad number",
    [PAL_SKIP_UNKNOWN_CODE] = "unknown label code",
    [PAL_SKIP_BAD_SPLIT] = "unknown split",
    [PAL_SKIP_BAD_PIXELS] = "bad pixels",
    [PAL_SKIP_BAD_LANDMARKS] = "bad landmarks",
    [PAL_SKIP_MISSING_IMAGE] = "missing image",
    [PAL_SKIP_CONTEMPT] = "contempt (not included)",
    [PAL_SKIP_NONE] = "AffectNet None",
    [PAL_SKIP_UNCERTAIN] = "uncertain / unknown",
    [PAL_SKIP_NO_FACE] = "no face",
    [PAL_SKIP_TIE] = "FER+ tie",
  };

  if ((guint) reason < PAL_N_SKIP_REASONS)
    return names[reason];
  return "unknown reason";
}

char *
pal_dataset_describe (PalDataset *ds)
{
  GString *s = g_string_new (NULL);
  int K = ds->n_classes, n = ds->samples->len;
  int counts[PAL_N_SPLITS + 1][9] = { { 0 } };
  int width[9], n_skipped = 0;

  for (int i = 0; i < n; i++)
    {
      const PalSample *smp = &g_array_index (ds->samples, PalSample, i);

      counts[smp->split][smp->label]++;
      counts[smp->split][K]++;
      counts[PAL_N_SPLITS][smp->label]++;
      counts[PAL_N_SPLITS][K]++;
    }

  g_string_append_printf (s, "format: %s\nroot: %s\n", pal_dataset_format_name (ds->format),
                          ds->root);
  g_string_append_printf (s, "classes: %d (", K);
  for (int c = 0; c < K; c++)
    g_string_append_printf (s, "%s%s", c ? ", " : "", ds->class_names[c]);
  g_string_append_printf (s, ")\nsamples: %d of %d rows (train %d, val %d, test %d)%s\n", n,
                          ds->n_rows, counts[PAL_SPLIT_TRAIN][K], counts[PAL_SPLIT_VAL][K],
                          counts[PAL_SPLIT_TEST][K],
                          ds->own_val ? ", own validation split" : "");

  /* The table: one column per class, then the total. */
  for (int c = 0; c <= K; c++)
    {
      char buf[32];
      int w = c < K ? (int) strlen (ds->class_names[c]) : 5;

      g_snprintf (buf, sizeof buf, "%d", counts[PAL_N_SPLITS][c]);
      width[c] = MAX (w, (int) strlen (buf));
    }
  g_string_append_printf (s, "%-6s", "");
  for (int c = 0; c <= K; c++)
    g_string_append_printf (s, " %*s", width[c], c < K ? ds->class_names[c] : "total");
  g_string_append_c (s, '\n');
  for (int sp = 0; sp <= PAL_N_SPLITS; sp++)
    {
      g_string_append_printf (s, "%-6s", sp < PAL_N_SPLITS ? split_names[sp] : "all");
      for (int c = 0; c <= K; c++)
        g_string_append_printf (s, " %*d", width[c], counts[sp][c]);
      g_string_append_c (s, '\n');
    }

  g_string_append_printf (s, "landmarks: %d of %d samples (%d without)\n",
                          n - ds->n_missing_landmarks, n, ds->n_missing_landmarks);
  for (int r = 0; r < PAL_N_SKIP_REASONS; r++)
    n_skipped += ds->skipped[r];
  g_string_append_printf (s, "skipped: %d rows (%d broken)\n", n_skipped,
                          pal_dataset_get_n_broken (ds));
  for (int r = 0; r < PAL_N_SKIP_REASONS; r++)
    if (ds->skipped[r])
      g_string_append_printf (s, "  %-24s %d\n", pal_skip_reason_name (r), ds->skipped[r]);
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Class-balanced sampling                                                  */
/* ------------------------------------------------------------------------ */

struct _PalBalancedSampler
{
  guint64  rng;
  int      n_classes;      /* present in the split */
  int     *start;          /* [n_classes + 1] into index */
  int     *index;          /* dataset indices grouped by class */
};

PalBalancedSampler *
pal_balanced_sampler_new (PalDataset *ds, PalSplit split, guint64 seed)
{
  int K = ds->n_classes, n = ds->samples->len, m = 0;
  g_autofree int *count = g_new0 (int, K);
  g_autofree int *fill = g_new0 (int, K);
  PalBalancedSampler *s;
  int present = 0;

  for (int i = 0; i < n; i++)
    {
      const PalSample *smp = &g_array_index (ds->samples, PalSample, i);

      if (split == PAL_SPLIT_ALL || smp->split == split)
        {
          count[smp->label]++;
          m++;
        }
    }
  if (m == 0)
    return NULL;

  s = g_new0 (PalBalancedSampler, 1);
  s->rng = seed;
  s->start = g_new0 (int, K + 1);
  s->index = g_new (int, m);
  /* Classes without samples get no slot. */
  for (int c = 0; c < K; c++)
    if (count[c])
      {
        fill[c] = s->start[present];
        s->start[present + 1] = s->start[present] + count[c];
        present++;
      }
  s->n_classes = present;
  for (int i = 0; i < n; i++)
    {
      const PalSample *smp = &g_array_index (ds->samples, PalSample, i);

      if (split == PAL_SPLIT_ALL || smp->split == split)
        s->index[fill[smp->label]++] = i;
    }
  return s;
}

int
pal_balanced_sampler_next (PalBalancedSampler *s)
{
  int c = rand_below (&s->rng, s->n_classes);
  int a = s->start[c], b = s->start[c + 1];

  return s->index[a + rand_below (&s->rng, b - a)];
}

void
pal_balanced_sampler_free (PalBalancedSampler *s)
{
  if (!s)
    return;
  g_free (s->start);
  g_free (s->index);
  g_free (s);
}

/* --- the loader's view ------------------------------------------------------ */

static gboolean
source_get (void *src, int index, PalImage **image, PalLandmarks *lm,
            gboolean *has_lm, int *label, GError **error)
{
  PalDataset *ds = src;
  const PalSample *s = pal_dataset_get (ds, index);

  *image = pal_dataset_load_image (ds, index, lm, error);
  if (!*image)
    return FALSE;
  *has_lm = s->has_landmarks;
  *label = s->label;
  return TRUE;
}

PalLoaderSource
pal_dataset_as_source (PalDataset *ds)
{
  return (PalLoaderSource) { .n = pal_dataset_get_n (ds), .src = ds, .get = source_get };
}
