/* pal-dlib.c: dlib's shape predictor: the serialized file, a cache, inference
 *
 * The file (dlib serialize.h, shape_predictor version 1) is one stream of
 * variable-length integers: a control byte (bits 0-3: the number N of
 * magnitude bytes, bit 7: negative) and N little-endian bytes.  A float is
 * two of them, mantissa then exponent.  The layout:
 *
 *   int version (1)
 *   matrix<float,0,1> initial_shape            -nr, -nc, nr floats
 *   vector<vector<regression_tree>> forests    per tree: splits (idx1, idx2,
 *                                              thresh), leaves (matrices)
 *   vector<vector<unsigned long>> anchor_idx
 *   vector<vector<vector<float,2>>> deltas
 *
 * Every model dlib trains has the same number of trees per cascade, of
 * feature pixels per cascade and the same depth for every tree; this reader
 * supports exactly those (anything else is refused) and stores the numbers
 * in flat arrays.
 *
 * The cache file is a fixed header (CacheHeader) and the arrays as they lie
 * in memory: initial shape, leaves, deltas (floats), splits, anchors.
 */
#include "pal-dlib.h"
#include "pal-error.h"
#include "pal-file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* Limits checked before anything is allocated.  The 68-point model has 68
 * parts, 15 cascades of 500 trees of depth 4 and 500 feature pixels. */
#define MAX_PARTS      4096
#define MAX_CASCADES   1024
#define MAX_TREES      100000
#define MAX_DEPTH      16
#define MAX_FEATURES   65535     /* indices are stored as guint16 */

/* Rectangle corners and image sizes stay within this, so every coordinate
 * computed in double is exact where it must be. */
#define MAX_COORD      (1 << 24)

#define CACHE_MAGIC    "PALDLIB\n"
#define CACHE_VERSION  1u
#define CACHE_BYTE_ORDER 0x01020304u

typedef struct
{
  guint16 idx1, idx2;   /* feature pixels compared */
  float   thresh;       /* go left when f[idx1] - f[idx2] > thresh */
} Split;

struct _PalDlibModel
{
  int     n_parts, n_cascades, n_trees, depth, n_features;
  int     n_splits, n_leaves;   /* per tree: 2^depth - 1, 2^depth */
  float  *initial;    /* [2 n_parts] x0, y0, x1, y1, ... */
  float  *leaves;     /* [n_cascades, n_trees, n_leaves, 2 n_parts] */
  float  *deltas;     /* [n_cascades, n_features, 2] */
  Split  *splits;     /* [n_cascades, n_trees, n_splits] */
  guint16 *anchors;   /* [n_cascades, n_features] */
  GMappedFile *map;   /* when the arrays lie in a mapped cache file */
  GBytes  *bytes;     /* or in a cache file's content in memory */
};

void
pal_dlib_model_free (PalDlibModel *model)
{
  if (model == NULL)
    return;
  if (model->map != NULL)
    g_mapped_file_unref (model->map);
  else if (model->bytes != NULL)
    g_bytes_unref (model->bytes);
  else
    {
      g_free (model->initial);
      g_free (model->leaves);
      g_free (model->deltas);
      g_free (model->splits);
      g_free (model->anchors);
    }
  g_free (model);
}

static gsize
n_leaf_floats (const PalDlibModel *m)
{
  return (gsize) m->n_cascades * m->n_trees * m->n_leaves * 2 * m->n_parts;
}

static gsize
n_split_entries (const PalDlibModel *m)
{
  return (gsize) m->n_cascades * m->n_trees * m->n_splits;
}

static gsize
n_feature_entries (const PalDlibModel *m)
{
  return (gsize) m->n_cascades * m->n_features;
}

/* ------------------------------------------------------------------------ */
/* The serialized stream                                                    */
/* ------------------------------------------------------------------------ */

typedef struct
{
  const char   *path;
  const guint8 *start, *p, *end;
  const guint8 *mark;             /* the start of the number read last */
  int           cascade, tree;    /* where we are, for messages; -1: n/a */
  GError      **error;
  gboolean      failed;
} Reader;

static void fail (Reader *r, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* "PATH: byte N (cascade C, tree T): MESSAGE"; only the first error counts. */
static void
fail (Reader *r, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  g_autofree char *where = NULL;

  if (r->failed)
    return;
  r->failed = TRUE;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (r->cascade >= 0 && r->tree >= 0)
    where = g_strdup_printf (" (cascade %d, tree %d)", r->cascade, r->tree);
  else if (r->cascade >= 0)
    where = g_strdup_printf (" (cascade %d)", r->cascade);
  g_set_error (r->error, PAL_ERROR, PAL_ERROR_PARSE,
               "%s: byte %" G_GSIZE_FORMAT "%s: %s", r->path,
               (gsize) (r->mark - r->start), where ? where : "", msg);
}

static void
fail_truncated (Reader *r, const char *what)
{
  fail (r, "the file ends while reading %s: it is truncated or not a dlib "
        "shape predictor (%" G_GSIZE_FORMAT " bytes)", what,
        (gsize) (r->end - r->start));
}

static gsize
remaining (const Reader *r)
{
  return (gsize) (r->end - r->p);
}

/* An integer of at most @max_bytes magnitude bytes; *negative tells the
 * sign.  FALSE (error set) on a malformed control byte or the end of data. */
static inline gboolean
read_raw_int (Reader *r, const char *what, guint max_bytes,
              guint64 *magnitude, gboolean *negative)
{
  guint c, n;
  guint64 v = 0;

  r->mark = r->p;
  if (G_UNLIKELY (r->p >= r->end))
    {
      fail_truncated (r, what);
      return FALSE;
    }
  c = r->p[0];
  n = c & 0x0F;
  if (G_UNLIKELY ((c & 0x70) != 0 || n == 0 || n > max_bytes))
    {
      fail (r, "expected %s (a dlib integer of at most %u bytes), found the byte "
            "0x%02X: not a dlib shape predictor, or a corrupt one", what, max_bytes, c);
      return FALSE;
    }
  if (G_UNLIKELY (remaining (r) < 1 + (gsize) n))
    {
      fail_truncated (r, what);
      return FALSE;
    }
  for (guint i = n; i > 0; i--)
    v = (v << 8) | r->p[i];
  r->p += 1 + n;
  *magnitude = v;
  *negative = (c & 0x80) != 0;
  return TRUE;
}

/* An unsigned long, at most @max. */
static inline gboolean
read_count (Reader *r, const char *what, guint64 max, guint64 *out)
{
  guint64 v;
  gboolean neg;

  if (!read_raw_int (r, what, 8, &v, &neg))
    return FALSE;
  if (G_UNLIKELY (neg))
    {
      fail (r, "expected %s, found a negative number", what);
      return FALSE;
    }
  if (G_UNLIKELY (v > max))
    {
      fail (r, "expected %s of at most %" G_GUINT64_FORMAT ", found %" G_GUINT64_FORMAT,
            what, max, v);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* A signed integer of a type of @size bytes. */
static inline gboolean
read_signed (Reader *r, const char *what, guint size, gint64 *out)
{
  guint64 v;
  gboolean neg;
  guint64 max = size >= 8 ? (guint64) G_MAXINT64 : ((guint64) 1 << (8 * size - 1)) - 1;

  if (!read_raw_int (r, what, size, &v, &neg))
    return FALSE;
  if (G_UNLIKELY (v > max))
    {
      fail (r, "%s is out of range", what);
      return FALSE;
    }
  *out = neg ? -(gint64) v : (gint64) v;
  return TRUE;
}

/* A float: mantissa (int64) and exponent (int16); must be finite. */
static inline gboolean
read_float (Reader *r, const char *what, float *out)
{
  gint64 mantissa, exponent;
  float v;

  if (G_UNLIKELY (r->p < r->end && (r->p[0] & 0x70) != 0))
    {
      r->mark = r->p;
      fail (r, "expected %s (a dlib float), found the byte 0x%02X: the old text "
            "form of floats is not supported, or this is not a dlib shape predictor",
            what, r->p[0]);
      return FALSE;
    }
  if (!read_signed (r, what, 8, &mantissa) || !read_signed (r, what, 2, &exponent))
    return FALSE;
  v = ldexpf ((float) mantissa, (int) exponent);
  if (G_UNLIKELY (exponent >= 32000 || !isfinite (v)))
    {
      fail (r, "%s is not a finite number", what);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* A matrix<float,0,1> header: the rows must be @rows (or, when @rows is 0,
 * an even number of at most 2 MAX_PARTS, returned), the columns 1. */
static gboolean
read_column_header (Reader *r, const char *what, gint64 *rows)
{
  gint64 nr, nc;

  if (!read_signed (r, what, 8, &nr) || !read_signed (r, what, 8, &nc))
    return FALSE;
  /* New files write -nr, -nc; old ones nr, nc. */
  if (nr < 0 || nc < 0)
    {
      nr = -nr;
      nc = -nc;
    }
  if (*rows != 0)
    {
      if (G_UNLIKELY (nr != *rows || nc != 1))
        {
          fail (r, "expected %s of %" G_GINT64_FORMAT " x 1 numbers, found %"
                G_GINT64_FORMAT " x %" G_GINT64_FORMAT, what, *rows, nr, nc);
          return FALSE;
        }
      return TRUE;
    }
  if (nc != 1 || nr < 2 || nr % 2 != 0 || nr > 2 * MAX_PARTS)
    {
      fail (r, "expected %s as a column of 2 to %d coordinates, found %"
            G_GINT64_FORMAT " x %" G_GINT64_FORMAT, what, 2 * MAX_PARTS, nr, nc);
      return FALSE;
    }
  *rows = nr;
  return TRUE;
}

/* Checks that @count items of at least @min_bytes each can still follow. */
static gboolean
check_fits (Reader *r, const char *what, guint64 count, guint64 min_bytes)
{
  if (min_bytes != 0 && count > remaining (r) / min_bytes)
    {
      fail (r, "%" G_GUINT64_FORMAT " %s need at least %" G_GUINT64_FORMAT
            " bytes, only %" G_GSIZE_FORMAT " remain: the file is truncated or "
            "not a dlib shape predictor", count, what, count * min_bytes, remaining (r));
      return FALSE;
    }
  return TRUE;
}

/* The smallest encodings: an integer 2 bytes, a float 4. */
#define MIN_INT   2
#define MIN_FLOAT 4

static gboolean
parse_forests (Reader *r, PalDlibModel *m)
{
  guint64 n_cascades, n;
  const int dim = 2 * m->n_parts;

  if (!read_count (r, "the number of cascades", MAX_CASCADES, &n_cascades))
    return FALSE;
  if (n_cascades == 0)
    {
      fail (r, "the model has no cascades");
      return FALSE;
    }
  m->n_cascades = (int) n_cascades;

  for (int c = 0; c < m->n_cascades; c++)
    {
      r->cascade = c;
      r->tree = -1;
      if (!read_count (r, "the number of trees of a cascade", MAX_TREES, &n))
        return FALSE;
      if (c == 0)
        {
          if (n == 0)
            {
              fail (r, "a cascade has no trees");
              return FALSE;
            }
          m->n_trees = (int) n;
        }
      else if ((int) n != m->n_trees)
        {
          fail (r, "cascade 0 has %d trees but this one has %" G_GUINT64_FORMAT
                ": models with cascades of different sizes are not supported",
                m->n_trees, n);
          return FALSE;
        }

      for (int t = 0; t < m->n_trees; t++)
        {
          r->tree = t;
          if (!read_count (r, "the number of splits of a tree",
                           ((guint64) 1 << MAX_DEPTH) - 1, &n))
            return FALSE;
          if (c == 0 && t == 0)
            {
              guint64 per_tree, total;

              if (n == 0 || ((n + 1) & n) != 0)
                {
                  fail (r, "a tree has %" G_GUINT64_FORMAT " splits: expected a "
                        "complete binary tree (1, 3, 7, 15, ... splits)", n);
                  return FALSE;
                }
              m->n_splits = (int) n;
              m->n_leaves = (int) n + 1;
              m->depth = g_bit_storage ((gulong) n);
              /* Everything the forests hold must fit in what remains. */
              per_tree = (guint64) m->n_splits * (2 * MIN_INT + MIN_FLOAT)
                + MIN_INT + (guint64) m->n_leaves * (2 * MIN_INT + (guint64) dim * MIN_FLOAT);
              total = (guint64) m->n_cascades * m->n_trees;
              if (!check_fits (r, "trees", total, per_tree))
                return FALSE;
              m->splits = g_new (Split, n_split_entries (m));
              m->leaves = g_new (float, n_leaf_floats (m));
            }
          else if ((int) n != m->n_splits)
            {
              fail (r, "this tree has %" G_GUINT64_FORMAT " splits, the first one %d: "
                    "models with trees of different depths are not supported",
                    n, m->n_splits);
              return FALSE;
            }

          Split *split = m->splits + ((gsize) c * m->n_trees + t) * m->n_splits;
          for (int i = 0; i < m->n_splits; i++)
            {
              guint64 a, b;

              if (!read_count (r, "a split's first feature index", MAX_FEATURES - 1, &a)
                  || !read_count (r, "a split's second feature index", MAX_FEATURES - 1, &b)
                  || !read_float (r, "a split's threshold", &split[i].thresh))
                return FALSE;
              split[i].idx1 = (guint16) a;
              split[i].idx2 = (guint16) b;
            }

          if (!read_count (r, "the number of leaves of a tree", G_MAXUINT64, &n))
            return FALSE;
          if (n != (guint64) m->n_leaves)
            {
              fail (r, "a tree with %d splits must have %d leaves, found %" G_GUINT64_FORMAT,
                    m->n_splits, m->n_leaves, n);
              return FALSE;
            }
          float *leaf = m->leaves + ((gsize) c * m->n_trees + t) * m->n_leaves * dim;
          for (int l = 0; l < m->n_leaves; l++, leaf += dim)
            {
              gint64 rows = dim;

              if (!read_column_header (r, "a leaf's shape increment", &rows))
                return FALSE;
              for (int k = 0; k < dim; k++)
                if (!read_float (r, "a leaf value", &leaf[k]))
                  return FALSE;
            }
        }
    }
  r->cascade = r->tree = -1;
  return TRUE;
}

static gboolean
parse_features (Reader *r, PalDlibModel *m)
{
  guint64 n;

  if (!read_count (r, "the number of cascades of the anchor indices", G_MAXUINT64, &n))
    return FALSE;
  if (n != (guint64) m->n_cascades)
    {
      fail (r, "expected anchor indices for %d cascades, found %" G_GUINT64_FORMAT,
            m->n_cascades, n);
      return FALSE;
    }
  for (int c = 0; c < m->n_cascades; c++)
    {
      r->cascade = c;
      if (!read_count (r, "the number of feature pixels", MAX_FEATURES, &n))
        return FALSE;
      if (c == 0)
        {
          if (n == 0)
            {
              fail (r, "a cascade has no feature pixels");
              return FALSE;
            }
          m->n_features = (int) n;
          /* Anchors, then deltas (2 floats each) for all cascades. */
          if (!check_fits (r, "feature pixels", (guint64) m->n_cascades * m->n_features,
                           MIN_INT + 2 * MIN_FLOAT))
            return FALSE;
          m->anchors = g_new (guint16, n_feature_entries (m));
          m->deltas = g_new (float, 2 * n_feature_entries (m));
        }
      else if (n != (guint64) m->n_features)
        {
          fail (r, "cascade 0 has %d feature pixels but this one %" G_GUINT64_FORMAT
                ": not supported", m->n_features, n);
          return FALSE;
        }
      guint16 *anchor = m->anchors + (gsize) c * m->n_features;
      for (int k = 0; k < m->n_features; k++)
        {
          if (!read_count (r, "a feature pixel's anchor landmark", (guint64) m->n_parts - 1, &n))
            return FALSE;
          anchor[k] = (guint16) n;
        }
    }

  r->cascade = -1;
  if (!read_count (r, "the number of cascades of the feature offsets", G_MAXUINT64, &n))
    return FALSE;
  if (n != (guint64) m->n_cascades)
    {
      fail (r, "expected feature offsets for %d cascades, found %" G_GUINT64_FORMAT,
            m->n_cascades, n);
      return FALSE;
    }
  for (int c = 0; c < m->n_cascades; c++)
    {
      r->cascade = c;
      if (!read_count (r, "the number of feature offsets", G_MAXUINT64, &n))
        return FALSE;
      if (n != (guint64) m->n_features)
        {
          fail (r, "expected %d feature offsets, found %" G_GUINT64_FORMAT, m->n_features, n);
          return FALSE;
        }
      float *delta = m->deltas + (gsize) c * m->n_features * 2;
      for (int k = 0; k < 2 * m->n_features; k++)
        if (!read_float (r, "a feature pixel's offset", &delta[k]))
          return FALSE;
    }
  r->cascade = -1;
  return TRUE;
}

/* Split indices are read before the number of feature pixels is known. */
static gboolean
check_indices (const PalDlibModel *m)
{
  gsize n = n_split_entries (m);

  for (gsize i = 0; i < n; i++)
    if (m->splits[i].idx1 >= m->n_features || m->splits[i].idx2 >= m->n_features)
      return FALSE;
  n = n_feature_entries (m);
  for (gsize i = 0; i < n; i++)
    if (m->anchors[i] >= m->n_parts)
      return FALSE;
  return TRUE;
}

static PalDlibModel *
parse (const char *path, const guint8 *data, gsize len, GError **error)
{
  g_autoptr (PalDlibModel) m = g_new0 (PalDlibModel, 1);
  Reader r = { path, data, data, data + len, data, -1, -1, error, FALSE };
  gint64 version, rows = 0;

  if (len == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: the file is empty: expected a dlib shape predictor", path);
      return NULL;
    }
  if (!read_signed (&r, "the version number of a dlib shape predictor", 4, &version))
    return NULL;
  if (version != 1)
    {
      fail (&r, "expected the version number 1 of a dlib shape predictor, found %"
            G_GINT64_FORMAT, version);
      return NULL;
    }
  if (!read_column_header (&r, "the initial shape", &rows))
    return NULL;
  if (!check_fits (&r, "initial shape coordinates", (guint64) rows, MIN_FLOAT))
    return NULL;
  m->n_parts = (int) (rows / 2);
  m->initial = g_new (float, rows);
  for (int k = 0; k < rows; k++)
    if (!read_float (&r, "an initial shape coordinate", &m->initial[k]))
      return NULL;
  if (!parse_forests (&r, m) || !parse_features (&r, m))
    return NULL;
  if (r.p != r.end)
    {
      r.mark = r.p;
      fail (&r, "%" G_GSIZE_FORMAT " bytes follow the end of the shape predictor: "
            "not a dlib shape predictor file", remaining (&r));
      return NULL;
    }
  if (!check_indices (m))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: a split refers to a feature pixel beyond the %d of its cascade",
                   path, m->n_features);
      return NULL;
    }
  return g_steal_pointer (&m);
}

PalDlibModel *
pal_dlib_model_load (const char *path, GError **error)
{
  GMappedFile *file;
  PalDlibModel *m;

  g_return_val_if_fail (path != NULL, NULL);

  if (!(file = pal_file_map (path, error)))
    return NULL;
  m = parse (path, (const guint8 *) g_mapped_file_get_contents (file),
             g_mapped_file_get_length (file), error);
  g_mapped_file_unref (file);
  return m;
}

PalDlibModel *
pal_dlib_model_load_bytes (const guint8 *data, gsize len, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return parse (name, data, len, error);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */
/* ------------------------------------------------------------------------ */

void
pal_dlib_model_get_size (const PalDlibModel *model, int *n_parts, int *n_cascades,
                         int *n_trees, int *depth, int *n_features)
{
  g_return_if_fail (model != NULL);
  if (n_parts)
    *n_parts = model->n_parts;
  if (n_cascades)
    *n_cascades = model->n_cascades;
  if (n_trees)
    *n_trees = model->n_trees;
  if (depth)
    *depth = model->depth;
  if (n_features)
    *n_features = model->n_features;
}

const float *
pal_dlib_model_initial_shape (const PalDlibModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return model->initial;
}

void
pal_dlib_model_get_split (const PalDlibModel *model, int c, int t, int i,
                          int *idx1, int *idx2, float *thresh)
{
  g_return_if_fail (model != NULL);
  g_return_if_fail (c >= 0 && c < model->n_cascades && t >= 0 && t < model->n_trees
                    && i >= 0 && i < model->n_splits);

  const Split *s = model->splits + ((gsize) c * model->n_trees + t) * model->n_splits + i;
  if (idx1)
    *idx1 = s->idx1;
  if (idx2)
    *idx2 = s->idx2;
  if (thresh)
    *thresh = s->thresh;
}

void
pal_dlib_model_get_feature (const PalDlibModel *model, int c, int k,
                            int *anchor, float *dx, float *dy)
{
  g_return_if_fail (model != NULL);
  g_return_if_fail (c >= 0 && c < model->n_cascades && k >= 0 && k < model->n_features);

  gsize at = (gsize) c * model->n_features + k;
  if (anchor)
    *anchor = model->anchors[at];
  if (dx)
    *dx = model->deltas[2 * at];
  if (dy)
    *dy = model->deltas[2 * at + 1];
}

const float *
pal_dlib_model_get_leaf (const PalDlibModel *model, int c, int t, int l)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (c >= 0 && c < model->n_cascades && t >= 0 && t < model->n_trees
                        && l >= 0 && l < model->n_leaves, NULL);

  return model->leaves
    + (((gsize) c * model->n_trees + t) * model->n_leaves + l) * 2 * model->n_parts;
}

gboolean
pal_dlib_model_equal (const PalDlibModel *a, const PalDlibModel *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  return a->n_parts == b->n_parts && a->n_cascades == b->n_cascades
    && a->n_trees == b->n_trees && a->n_splits == b->n_splits
    && a->n_features == b->n_features
    && memcmp (a->initial, b->initial, 2 * sizeof (float) * a->n_parts) == 0
    && memcmp (a->leaves, b->leaves, sizeof (float) * n_leaf_floats (a)) == 0
    && memcmp (a->deltas, b->deltas, 2 * sizeof (float) * n_feature_entries (a)) == 0
    && memcmp (a->splits, b->splits, sizeof (Split) * n_split_entries (a)) == 0
    && memcmp (a->anchors, b->anchors, sizeof (guint16) * n_feature_entries (a)) == 0;
}

/* ------------------------------------------------------------------------ */
/* The cache                                                                */
/* ------------------------------------------------------------------------ */

typedef struct
{
  char    magic[8];          /* CACHE_MAGIC */
  guint32 version;           /* CACHE_VERSION */
  guint32 byte_order;        /* CACHE_BYTE_ORDER as written by this machine */
  guint64 source_size;
  gint64  source_mtime_sec;
  gint64  source_mtime_nsec;
  guint32 n_parts, n_cascades, n_trees, n_splits, n_features;
  guint32 reserved;          /* 0 */
  guint64 payload_size;      /* bytes after the header */
  guint64 checksum;          /* of the payload, checksum() */
} CacheHeader;

G_STATIC_ASSERT (sizeof (CacheHeader) == 80);
G_STATIC_ASSERT (sizeof (Split) == 8);

typedef struct
{
  const void *data;
  gsize       size;
} Section;

/* The arrays in file order; all but the last have sizes that are multiples
 * of 4 and start 4-aligned after the 80-byte header. */
static int
model_sections (const PalDlibModel *m, Section s[5])
{
  s[0] = (Section) { m->initial, 2 * sizeof (float) * m->n_parts };
  s[1] = (Section) { m->leaves, sizeof (float) * n_leaf_floats (m) };
  s[2] = (Section) { m->deltas, 2 * sizeof (float) * n_feature_entries (m) };
  s[3] = (Section) { m->splits, sizeof (Split) * n_split_entries (m) };
  s[4] = (Section) { m->anchors, sizeof (guint16) * n_feature_entries (m) };
  return 5;
}

/* Four interleaved multiply-xor lanes over 64-bit words, then the tail:
 * memory-bound, and a flipped bit anywhere changes it. */
typedef struct
{
  guint64 lane[4];
  guint8  tail[32];
  gsize   n_tail;
} Checksum;

#define MIX 0x9E3779B97F4A7C15ull

static void
checksum_init (Checksum *c)
{
  c->lane[0] = 0x243F6A8885A308D3ull;
  c->lane[1] = 0x13198A2E03707344ull;
  c->lane[2] = 0xA4093822299F31D0ull;
  c->lane[3] = 0x082EFA98EC4E6C89ull;
  c->n_tail = 0;
}

static inline void
checksum_block (Checksum *c, const guint8 *p)
{
  for (int k = 0; k < 4; k++)
    {
      guint64 w;
      memcpy (&w, p + 8 * k, 8);
      c->lane[k] = (c->lane[k] ^ w) * MIX;
      c->lane[k] ^= c->lane[k] >> 29;
    }
}

static void
checksum_update (Checksum *c, const guint8 *p, gsize len)
{
  if (c->n_tail > 0)
    {
      gsize take = MIN (len, 32 - c->n_tail);
      memcpy (c->tail + c->n_tail, p, take);
      c->n_tail += take;
      p += take;
      len -= take;
      if (c->n_tail < 32)
        return;
      checksum_block (c, c->tail);
      c->n_tail = 0;
    }
  for (; len >= 32; p += 32, len -= 32)
    checksum_block (c, p);
  memcpy (c->tail, p, len);
  c->n_tail = len;
}

static guint64
checksum_finish (Checksum *c, guint64 total)
{
  guint64 h = total * MIX;

  memset (c->tail + c->n_tail, 0, 32 - c->n_tail);
  checksum_block (c, c->tail);
  for (int k = 0; k < 4; k++)
    h = (h ^ c->lane[k]) * MIX + (guint64) k;
  return h ^ (h >> 31);
}

/* FNV-1a, for the cache file's name. */
static guint64
fnv1a (const char *s)
{
  guint64 h = 0xCBF29CE484222325ull;

  for (; *s; s++)
    h = (h ^ (guint8) *s) * 0x100000001B3ull;
  return h;
}

char *
pal_dlib_cache_path (const char *path, const char *cache_dir)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  g_autofree char *base = g_path_get_basename (abs);
  g_autofree char *name = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_str_has_suffix (base, ".dat"))
    base[strlen (base) - 4] = '\0';
  name = g_strdup_printf ("dlib-%s-%016" G_GINT64_MODIFIER "x.cache", base, fnv1a (abs));
  dir = cache_dir ? g_strdup (cache_dir)
                  : g_build_filename (g_get_user_cache_dir (), "pal-studio", NULL);
  return g_build_filename (dir, name, NULL);
}

typedef struct
{
  CacheHeader        header;
  const PalDlibModel *model;
} CacheWrite;

static gboolean
write_cache_content (int fd, gpointer user_data)
{
  CacheWrite *w = user_data;
  Section s[5];
  int n = model_sections (w->model, s);

  if (!pal_file_write_all (fd, &w->header, sizeof w->header))
    return FALSE;
  for (int i = 0; i < n; i++)
    if (!pal_file_write_all (fd, s[i].data, s[i].size))
      return FALSE;
  return TRUE;
}

static gboolean
write_cache (const PalDlibModel *m, const char *cache_path, const struct stat *st)
{
  g_autofree char *dir = g_path_get_dirname (cache_path);
  CacheWrite w = { { CACHE_MAGIC }, m };
  Section s[5];
  int n = model_sections (m, s);
  Checksum c;
  guint64 total = 0;

  checksum_init (&c);
  for (int i = 0; i < n; i++)
    {
      checksum_update (&c, s[i].data, s[i].size);
      total += s[i].size;
    }
  memcpy (w.header.magic, CACHE_MAGIC, 8);
  w.header.version = CACHE_VERSION;
  w.header.byte_order = CACHE_BYTE_ORDER;
  w.header.source_size = (guint64) st->st_size;
  w.header.source_mtime_sec = (gint64) st->st_mtim.tv_sec;
  w.header.source_mtime_nsec = (gint64) st->st_mtim.tv_nsec;
  w.header.n_parts = (guint32) m->n_parts;
  w.header.n_cascades = (guint32) m->n_cascades;
  w.header.n_trees = (guint32) m->n_trees;
  w.header.n_splits = (guint32) m->n_splits;
  w.header.n_features = (guint32) m->n_features;
  w.header.payload_size = total;
  w.header.checksum = checksum_finish (&c, total);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return FALSE;
  return pal_file_replace (cache_path, write_cache_content, &w);
}

/* Points @m's arrays into the cache file content @data (4-aligned) after
 * checking it; FALSE (with the reason in *why) when it is stale (@st: the
 * source's; NULL: not checked) or broken. */
static gboolean
cache_parse (PalDlibModel *m, const guint8 *data, gsize len, const struct stat *st,
             const char **why)
{
  CacheHeader h;
  Section s[5];
  Checksum c;
  guint64 total = 0, n_leaves;

  *why = "broken";
  if (len < sizeof h || ((guintptr) data & 3) != 0)
    return FALSE;
  memcpy (&h, data, sizeof h);
  if (memcmp (h.magic, CACHE_MAGIC, 8) != 0 || h.version != CACHE_VERSION
      || h.byte_order != CACHE_BYTE_ORDER || h.reserved != 0)
    return FALSE;
  if (st != NULL
      && (h.source_size != (guint64) st->st_size
          || h.source_mtime_sec != (gint64) st->st_mtim.tv_sec
          || h.source_mtime_nsec != (gint64) st->st_mtim.tv_nsec))
    {
      *why = "stale";
      return FALSE;
    }
  if (h.n_parts < 1 || h.n_parts > MAX_PARTS || h.n_cascades < 1
      || h.n_cascades > MAX_CASCADES || h.n_trees < 1 || h.n_trees > MAX_TREES
      || h.n_splits < 1 || h.n_splits >= (1u << MAX_DEPTH) || ((h.n_splits + 1) & h.n_splits) != 0
      || h.n_features < 1 || h.n_features > MAX_FEATURES)
    return FALSE;
  m->n_parts = (int) h.n_parts;
  m->n_cascades = (int) h.n_cascades;
  m->n_trees = (int) h.n_trees;
  m->n_splits = (int) h.n_splits;
  m->n_leaves = m->n_splits + 1;
  m->depth = g_bit_storage (h.n_splits);
  m->n_features = (int) h.n_features;
  /* Within the limits these products cannot overflow 64 bits, but the
   * leaves could exceed the address space of a 32-bit machine. */
  n_leaves = (guint64) m->n_cascades * m->n_trees * m->n_leaves * 2 * m->n_parts;
  if (n_leaves > G_MAXSIZE / sizeof (float) / 2)
    return FALSE;
  model_sections (m, s);
  for (int i = 0; i < 5; i++)
    total += s[i].size;
  if (h.payload_size != total || len - sizeof h != total)
    return FALSE;

  data += sizeof h;
  m->initial = (float *) data;
  m->leaves = (float *) (data + s[0].size);
  m->deltas = (float *) (data + s[0].size + s[1].size);
  m->splits = (Split *) (data + s[0].size + s[1].size + s[2].size);
  m->anchors = (guint16 *) (data + s[0].size + s[1].size + s[2].size + s[3].size);

  checksum_init (&c);
  checksum_update (&c, data, total);
  return checksum_finish (&c, total) == h.checksum && check_indices (m);
}

/* The model held by a mapped cache file, or NULL (with the reason in *why)
 * when the file is missing, stale or broken. */
static PalDlibModel *
read_cache (const char *cache_path, const struct stat *st, const char **why)
{
  g_autoptr (PalDlibModel) m = NULL;
  GMappedFile *map;

  map = g_mapped_file_new (cache_path, FALSE, NULL);
  if (map == NULL)
    {
      *why = "missing";
      return NULL;
    }
  m = g_new0 (PalDlibModel, 1);
  m->map = map;
  if (!cache_parse (m, (const guint8 *) g_mapped_file_get_contents (map),
                    g_mapped_file_get_length (map), st, why))
    return NULL;
  return g_steal_pointer (&m);
}

PalDlibModel *
pal_dlib_model_from_cache_bytes (GBytes *bytes)
{
  g_autoptr (PalDlibModel) m = NULL;
  const guint8 *data;
  const char *why;
  gsize len;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  m = g_new0 (PalDlibModel, 1);
  if (((guintptr) data & 3) != 0)
    {
      /* the arrays are read in place: a copy, aligned as malloc aligns */
      m->bytes = g_bytes_new (data, len);
      data = g_bytes_get_data (m->bytes, NULL);
    }
  else
    m->bytes = g_bytes_ref (bytes);
  if (!cache_parse (m, data, len, NULL, &why))
    return NULL;
  return g_steal_pointer (&m);
}

PalDlibModel *
pal_dlib_model_load_cached (const char *path, const char *cache_dir,
                            PalDlibCacheResult *result, GError **error)
{
  g_autofree char *cache_path = NULL;
  PalDlibModel *m;
  const char *why = NULL;
  struct stat st;

  g_return_val_if_fail (path != NULL, NULL);

  if (stat (path, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  cache_path = pal_dlib_cache_path (path, cache_dir);
  m = read_cache (cache_path, &st, &why);
  if (m != NULL)
    {
      if (result)
        *result = PAL_DLIB_CACHE_HIT;
      return m;
    }
  g_debug ("%s: cache %s is %s, parsing the model", path, cache_path, why);

  m = pal_dlib_model_load (path, error);
  if (m == NULL)
    return NULL;
  if (!write_cache (m, cache_path, &st))
    {
      int saved_errno = errno;
      g_debug ("%s: cannot write the cache %s: %s", path, cache_path, g_strerror (saved_errno));
      if (result)
        *result = PAL_DLIB_CACHE_NOT_WRITTEN;
    }
  else if (result)
    *result = strcmp (why, "missing") == 0 ? PAL_DLIB_CACHE_BUILT : PAL_DLIB_CACHE_REBUILT;
  return m;
}

/* ------------------------------------------------------------------------ */
/* Inference                                                                */
/* ------------------------------------------------------------------------ */

/* The 2x2 linear part of the least-squares similarity (scale and rotation)
 * that maps @from onto @to (dlib's find_similarity_transform, Umeyama), in
 * closed form: [[a, -b], [b, a]] / sigma over the centred points. */
static void
similarity (const float *from, const float *to, int n, float A[4])
{
  double mfx = 0, mfy = 0, mtx = 0, mty = 0, sigma = 0, a = 0, b = 0;

  if (n == 1)
    {
      A[0] = 1, A[1] = 0, A[2] = 0, A[3] = 1;
      return;
    }
  for (int i = 0; i < n; i++)
    {
      mfx += from[2 * i];
      mfy += from[2 * i + 1];
      mtx += to[2 * i];
      mty += to[2 * i + 1];
    }
  mfx /= n, mfy /= n, mtx /= n, mty /= n;
  for (int i = 0; i < n; i++)
    {
      double px = from[2 * i] - mfx, py = from[2 * i + 1] - mfy;
      double qx = to[2 * i] - mtx, qy = to[2 * i + 1] - mty;

      sigma += px * px + py * py;
      a += px * qx + py * qy;
      b += px * qy - py * qx;
    }
  if (sigma == 0)
    {
      A[0] = 1, A[1] = 0, A[2] = 0, A[3] = 1;
      return;
    }
  A[0] = (float) (a / sigma);
  A[1] = (float) (-b / sigma);
  A[2] = (float) (b / sigma);
  A[3] = (float) (a / sigma);
}

/* dlib's rounding of a point: floor (v + 0.5), kept within int range. */
static inline int
round_coord (double v)
{
  v = floor (v + 0.5);
  return (int) CLAMP (v, -1e9, 1e9);
}

gboolean
pal_dlib_predict_points (const PalDlibModel *model, const PalImage *image,
                         int left, int top, int right, int bottom,
                         int *points, GError **error)
{
  const PalDlibModel *m = model;
  const double sx = (double) right - left, sy = (double) bottom - top;
  g_autofree float *shape = NULL;
  g_autofree float *feat = NULL;
  int dim, W, H, ch;

  g_return_val_if_fail (model != NULL && image != NULL && points != NULL, FALSE);
  g_return_val_if_fail (image->channels == 1 || image->channels == 3, FALSE);

  dim = 2 * m->n_parts;
  W = image->width;
  H = image->height;
  ch = image->channels;

  if (ABS (left) > MAX_COORD || ABS (top) > MAX_COORD
      || ABS (right) > MAX_COORD || ABS (bottom) > MAX_COORD)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the face box (%d, %d)-(%d, %d) lies too far outside any image",
                   left, top, right, bottom);
      return FALSE;
    }

  shape = g_memdup2 (m->initial, sizeof (float) * dim);
  feat = g_new (float, m->n_features);

  for (int c = 0; c < m->n_cascades; c++)
    {
      const float *delta = m->deltas + (gsize) c * m->n_features * 2;
      const guint16 *anchor = m->anchors + (gsize) c * m->n_features;
      float A[4];

      similarity (m->initial, shape, m->n_parts, A);

      /* The feature pixels: anchored on the current shape, their offsets
       * turned and scaled with it, read as dlib's intensity. */
      for (int k = 0; k < m->n_features; k++)
        {
          float dx = delta[2 * k], dy = delta[2 * k + 1];
          float px = (A[0] * dx + A[1] * dy) + shape[2 * anchor[k]];
          float py = (A[2] * dx + A[3] * dy) + shape[2 * anchor[k] + 1];
          double x = floor (sx * (double) px + left + 0.5);
          double y = floor (sy * (double) py + top + 0.5);

          if (x >= 0 && x < W && y >= 0 && y < H)
            {
              const guint8 *pix = image->data + ((gsize) y * W + (gsize) x) * ch;
              feat[k] = ch == 1 ? pix[0]
                                : (float) (((guint) pix[0] + pix[1] + pix[2]) / 3);
            }
          else
            feat[k] = 0;
        }

      /* Every tree of the cascade adds one leaf. */
      const Split *split = m->splits + (gsize) c * m->n_trees * m->n_splits;
      const float *leaves = m->leaves + (gsize) c * m->n_trees * m->n_leaves * dim;
      for (int t = 0; t < m->n_trees; t++)
        {
          int i = 0;

          while (i < m->n_splits)
            i = feat[split[i].idx1] - feat[split[i].idx2] > split[i].thresh ? 2 * i + 1
                                                                             : 2 * i + 2;
          const float *leaf = leaves + (gsize) (i - m->n_splits) * dim;
          for (int k = 0; k < dim; k++)
            shape[k] += leaf[k];
          split += m->n_splits;
          leaves += (gsize) m->n_leaves * dim;
        }
    }

  for (int j = 0; j < m->n_parts; j++)
    {
      points[2 * j] = round_coord (sx * (double) shape[2 * j] + left);
      points[2 * j + 1] = round_coord (sy * (double) shape[2 * j + 1] + top);
    }
  return TRUE;
}

gboolean
pal_dlib_predict (const PalDlibModel *model, const PalImage *image,
                  int left, int top, int right, int bottom,
                  PalLandmarks *out, GError **error)
{
  int points[2 * PAL_N_LANDMARKS];

  g_return_val_if_fail (model != NULL && out != NULL, FALSE);

  if (model->n_parts != PAL_N_LANDMARKS)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "the shape predictor places %d landmarks, not the %d of iBUG 300-W",
                   model->n_parts, PAL_N_LANDMARKS);
      return FALSE;
    }
  if (!pal_dlib_predict_points (model, image, left, top, right, bottom, points, error))
    return FALSE;
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      out->x[j] = (float) points[2 * j];
      out->y[j] = (float) points[2 * j + 1];
    }
  return TRUE;
}
