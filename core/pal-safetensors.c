/* pal-safetensors.c - safe reader and atomic writer for .safetensors files */
#include "pal-safetensors.h"
#include "pal-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

G_DEFINE_QUARK (pal-safetensors-error-quark, pal_safetensors_error)

/* A valid header nests 3 deep (root, tensor entry, shape); json-glib
 * recurses without limit, so deeper input is refused before parsing. */
#define MAX_JSON_DEPTH 16

typedef struct
{
  const char *name;
  guint       size;
} DType;

static const DType dtypes[] = {
  { "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 },
  { "I32", 4 }, { "I16", 2 }, { "I8", 1 },  { "U8", 1 },   { "BOOL", 1 },
};

static const DType *
dtype_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (dtypes[i].name, name) == 0)
      return &dtypes[i];
  return NULL;
}

static char *
shape_to_string (int ndim, const gint64 *shape)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Element and byte counts of a shape with non-negative dims; FALSE on
 * overflow. */
static gboolean
shape_size (int ndim, const gint64 *shape, guint elsize,
            guint64 *numel, guint64 *nbytes)
{
  guint64 n = 1;

  for (int i = 0; i < ndim; i++)
    if (!g_uint64_checked_mul (&n, n, (guint64) shape[i]))
      return FALSE;
  *numel = n;
  return g_uint64_checked_mul (nbytes, n, elsize);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

struct _PalSafetensors
{
  char         *path;
  GBytes       *bytes;      /* the file's contents (a mapping, or memory) */
  PalStTensor  *tensors;    /* n_tensors, sorted by data offset */
  guint         n_tensors;
  GStringChunk *names;      /* storage of the tensor names */
  GHashTable   *index;      /* name -> PalStTensor*, both borrowed */
  GHashTable   *metadata;   /* char* -> char*, owned */
};

static void st_error (GError **error, const char *path, PalSafetensorsError code,
                      const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Sets an error whose message starts with "PATH: ". */
static void
st_error (GError **error, const char *path, PalSafetensorsError code,
          const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, PAL_SAFETENSORS_ERROR, code, "%s: %s", path, msg);
}

/* json-glib accepts more than JSON (single-quoted strings, comments, data
 * after the top-level value), recurses without a depth limit and leaks on
 * some errors.  Check lexically first that the header is made of JSON tokens
 * only, nests at most MAX_JSON_DEPTH deep and is a single object; json-glib
 * then does the real parsing. */
static gboolean
check_json_lexically (const char *path, const char *s, gsize len, GError **error)
{
  guint depth = 0;
  gboolean in_string = FALSE, escaped = FALSE, closed = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        continue;
      if (closed)
        {
          st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                    "invalid JSON header: unexpected data after the "
                    "top-level object at byte %" G_GSIZE_FORMAT, i);
          return FALSE;
        }
      if (depth == 0 && c != '{')
        {
          st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                    "header is not a JSON object");
          return FALSE;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > MAX_JSON_DEPTH)
            {
              st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                        "invalid JSON header: nested more than %d levels deep",
                        MAX_JSON_DEPTH);
              return FALSE;
            }
        }
      else if (c == '}' || c == ']')
        closed = --depth == 0;
      else if (c == '\0' || !strchr ("0123456789+-.eE:,truefalsn", c))
        {
          st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                    "invalid JSON header: unexpected character at byte %"
                    G_GSIZE_FORMAT, i);
          return FALSE;
        }
    }
  return TRUE;
}

/* json-glib keeps the last of duplicated object members; catch duplicates
 * from the parser's signals, with one set of seen names per open object. */
typedef struct
{
  GPtrArray *open;     /* GHashTable* sets, innermost object last */
  char      *dup;      /* first duplicated key */
  char      *owner;    /* top-level key whose value holds it, if nested */
  gboolean   nested;   /* dup is not a top-level key */
} DupCheck;

static void
on_object_start (G_GNUC_UNUSED JsonParser *parser, gpointer user_data)
{
  DupCheck *dc = user_data;

  g_ptr_array_add (dc->open, g_hash_table_new_full (g_str_hash, g_str_equal,
                                                    g_free, NULL));
}

static void
on_object_member (G_GNUC_UNUSED JsonParser *parser,
                  G_GNUC_UNUSED JsonObject *object, const char *name,
                  gpointer user_data)
{
  DupCheck *dc = user_data;

  if (dc->open->len == 0)
    return;
  if (!g_hash_table_add (g_ptr_array_index (dc->open, dc->open->len - 1),
                         g_strdup (name))
      && dc->dup == NULL)
    {
      dc->dup = g_strdup (name);
      dc->nested = dc->open->len > 1;
    }
  /* A member is announced after its value, so the top-level key announced
   * next is the one containing a nested duplicate. */
  else if (dc->nested && dc->owner == NULL && dc->open->len == 1)
    dc->owner = g_strdup (name);
}

static void
on_object_end (G_GNUC_UNUSED JsonParser *parser,
               G_GNUC_UNUSED JsonObject *object, gpointer user_data)
{
  DupCheck *dc = user_data;

  if (dc->open->len > 0)
    g_ptr_array_set_size (dc->open, dc->open->len - 1);
}

/* Parses the header; returns the root object (owned by @parser). */
static JsonObject *
parse_header (const char *path, JsonParser *parser, const char *header,
              gsize len, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!check_json_lexically (path, header, len, error))
    return NULL;

  DupCheck dc = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref),
                  NULL, NULL, FALSE };
  g_signal_connect (parser, "object-start", G_CALLBACK (on_object_start), &dc);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &dc);
  g_signal_connect (parser, "object-end", G_CALLBACK (on_object_end), &dc);
  gboolean parsed = json_parser_load_from_data (parser, header, len, &local);
  g_signal_handlers_disconnect_by_data (parser, &dc);
  g_ptr_array_unref (dc.open);
  g_autofree char *dup = dc.dup;
  g_autofree char *owner = dc.owner;

  if (!parsed)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "invalid JSON header: %s", local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "header is not a JSON object");
      return NULL;
    }
  if (dup != NULL && !dc.nested)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "duplicate tensor name '%s' in header", dup);
      return NULL;
    }
  if (dup != NULL)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "duplicate key '%s' in the header entry '%s'",
                dup, owner ? owner : "?");
      return NULL;
    }
  return json_node_get_object (root);
}

static gboolean
node_get_int (JsonNode *node, gint64 *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static const char *
node_get_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonArray *
member_get_array (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Fills @t (whose name is set) from its header entry @node. */
static gboolean
parse_tensor (const char *path, PalStTensor *t, JsonNode *node,
              const guint8 *data, guint64 data_len, GError **error)
{
  const char *name = t->name;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s': header entry is not an object", name);
      return FALSE;
    }
  JsonObject *obj = json_node_get_object (node);

  const char *dtype_name = node_get_string (json_object_get_member (obj, "dtype"));
  if (dtype_name == NULL)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s': \"dtype\" is missing or not a string", name);
      return FALSE;
    }
  const DType *dtype = dtype_lookup (dtype_name);
  if (dtype == NULL)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_DTYPE,
                "tensor '%s' has unsupported dtype '%s'", name, dtype_name);
      return FALSE;
    }
  t->dtype = dtype->name;

  JsonArray *shape = member_get_array (obj, "shape");
  if (shape == NULL)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s': \"shape\" is missing or not an array", name);
      return FALSE;
    }
  guint ndim = json_array_get_length (shape);
  if (ndim > PAL_ST_MAX_NDIM)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_SHAPE,
                "tensor '%s' has %u dimensions, at most %d are supported",
                name, ndim, PAL_ST_MAX_NDIM);
      return FALSE;
    }
  t->ndim = (int) ndim;
  for (guint i = 0; i < ndim; i++)
    if (!node_get_int (json_array_get_element (shape, i), &t->shape[i]))
      {
        st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                  "tensor '%s': \"shape\" must hold integers only", name);
        return FALSE;
      }
  g_autofree char *shape_str = shape_to_string (t->ndim, t->shape);
  for (guint i = 0; i < ndim; i++)
    if (t->shape[i] < 0)
      {
        st_error (error, path, PAL_SAFETENSORS_ERROR_SHAPE,
                  "tensor '%s' has a negative dimension in shape %s",
                  name, shape_str);
        return FALSE;
      }
  guint64 numel, nbytes;
  if (!shape_size (t->ndim, t->shape, dtype->size, &numel, &nbytes))
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_TOO_LARGE,
                "tensor '%s': shape %s of %s is too large",
                name, shape_str, dtype->name);
      return FALSE;
    }

  JsonArray *offsets = member_get_array (obj, "data_offsets");
  gint64 begin, end;
  if (offsets == NULL || json_array_get_length (offsets) != 2
      || !node_get_int (json_array_get_element (offsets, 0), &begin)
      || !node_get_int (json_array_get_element (offsets, 1), &end)
      || begin < 0 || end < 0)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s': \"data_offsets\" must be an array of two "
                "non-negative integers", name);
      return FALSE;
    }
  if (end < begin)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s' has data_offsets [%" G_GINT64_FORMAT ", %"
                G_GINT64_FORMAT "] that end before they begin", name, begin, end);
      return FALSE;
    }
  if ((guint64) (end - begin) != nbytes)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "tensor '%s': header says %" G_GINT64_FORMAT " bytes but "
                "shape %s of %s needs %" G_GUINT64_FORMAT,
                name, end - begin, shape_str, dtype->name, nbytes);
      return FALSE;
    }
  if ((guint64) end > data_len)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "file is truncated: tensor '%s' ends at byte %" G_GINT64_FORMAT
                " but the data section has %" G_GUINT64_FORMAT " bytes",
                name, end, data_len);
      return FALSE;
    }
  /* end <= data_len <= G_MAXSIZE, so these fit in gsize. */
  t->numel = (gsize) numel;
  t->nbytes = (gsize) nbytes;
  t->data = data + begin;
  return TRUE;
}

static gboolean
parse_metadata (PalSafetensors *st, JsonNode *node, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      st_error (error, st->path, PAL_SAFETENSORS_ERROR_FORMAT,
                "\"__metadata__\" is not an object");
      return FALSE;
    }
  json_object_iter_init_ordered (&iter, json_node_get_object (node));
  while (json_object_iter_next_ordered (&iter, &key, &value))
    {
      const char *str = node_get_string (value);
      if (str == NULL)
        {
          st_error (error, st->path, PAL_SAFETENSORS_ERROR_FORMAT,
                    "metadata value for key '%s' is not a string", key);
          return FALSE;
        }
      g_hash_table_insert (st->metadata, g_strdup (key), g_strdup (str));
    }
  return TRUE;
}

static int
compare_by_offset (const void *a, const void *b)
{
  const PalStTensor *x = a, *y = b;

  if (x->data != y->data)
    return x->data < y->data ? -1 : 1;
  if (x->nbytes != y->nbytes)
    return x->nbytes < y->nbytes ? -1 : 1;
  return strcmp (x->name, y->name);
}

PalSafetensors *
pal_safetensors_open (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      st_error (error, path, PAL_SAFETENSORS_ERROR_IO, "could not open: %s",
                g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      st_error (error, path, PAL_SAFETENSORS_ERROR_IO, "not a regular file");
      return NULL;
    }
  g_autoptr(GMappedFile) file = g_mapped_file_new_from_fd (fd, FALSE, &local);
  close (fd);
  if (file == NULL)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_IO, "could not map: %s",
                local->message);
      return NULL;
    }
  g_autoptr(GBytes) bytes = g_mapped_file_get_bytes (file);

  return pal_safetensors_open_bytes (bytes, path, error);
}

PalSafetensors *
pal_safetensors_open_bytes (GBytes *bytes, const char *path, GError **error)
{
  g_return_val_if_fail (bytes != NULL && path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gsize len = 0;
  const guint8 *base = g_bytes_get_data (bytes, &len);
  if (len < 8)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "file is too short (%" G_GSIZE_FORMAT " bytes) to be a "
                "safetensors file", len);
      return NULL;
    }
  guint64 header_len;
  memcpy (&header_len, base, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > PAL_SAFETENSORS_MAX_HEADER_SIZE)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_TOO_LARGE,
                "header length %" G_GUINT64_FORMAT " exceeds the limit of "
                "%u bytes (100 MiB)", header_len, PAL_SAFETENSORS_MAX_HEADER_SIZE);
      return NULL;
    }
  if (header_len > len - 8)
    {
      st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                "file is truncated: header length is %" G_GUINT64_FORMAT
                " bytes but only %" G_GSIZE_FORMAT " bytes follow",
                header_len, len - 8);
      return NULL;
    }
  const char *header = (const char *) base + 8;
  const guint8 *data = base + 8 + header_len;
  guint64 data_len = len - 8 - header_len;

  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root = parse_header (path, parser, header, header_len, error);
  if (root == NULL)
    return NULL;

  g_autoptr(PalSafetensors) st = g_new0 (PalSafetensors, 1);
  st->path = g_strdup (path);
  st->bytes = g_bytes_ref (bytes);
  st->names = g_string_chunk_new (256);
  st->index = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->tensors = g_new0 (PalStTensor, json_object_get_size (root));

  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  json_object_iter_init_ordered (&iter, root);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      if (strcmp (name, "__metadata__") == 0)
        {
          if (!parse_metadata (st, node, error))
            return NULL;
          continue;
        }
      PalStTensor *t = &st->tensors[st->n_tensors++];
      t->name = g_string_chunk_insert (st->names, name);
      if (!parse_tensor (path, t, node, data, data_len, error))
        return NULL;
    }

  if (st->n_tensors > 1)
    qsort (st->tensors, st->n_tensors, sizeof (PalStTensor), compare_by_offset);
  for (guint i = 0; i < st->n_tensors; i++)
    {
      PalStTensor *t = &st->tensors[i];
      if (i > 0 && t->data < t[-1].data + t[-1].nbytes)
        {
          st_error (error, path, PAL_SAFETENSORS_ERROR_FORMAT,
                    "tensors '%s' and '%s' overlap in the data section",
                    t[-1].name, t->name);
          return NULL;
        }
      g_hash_table_insert (st->index, (char *) t->name, t);
    }
  return g_steal_pointer (&st);
}

void
pal_safetensors_free (PalSafetensors *st)
{
  if (st == NULL)
    return;
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_clear_pointer (&st->index, g_hash_table_unref);
  g_clear_pointer (&st->names, g_string_chunk_free);
  g_free (st->tensors);
  g_clear_pointer (&st->bytes, g_bytes_unref);
  g_free (st->path);
  g_free (st);
}

const char *
pal_safetensors_get_path (PalSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->path;
}

guint
pal_safetensors_get_n_tensors (PalSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);
  return st->n_tensors;
}

const PalStTensor *
pal_safetensors_get_nth (PalSafetensors *st, guint i)
{
  g_return_val_if_fail (st != NULL, NULL);
  return i < st->n_tensors ? &st->tensors[i] : NULL;
}

const PalStTensor *
pal_safetensors_lookup (PalSafetensors *st, const char *name)
{
  g_return_val_if_fail (st != NULL && name != NULL, NULL);
  return g_hash_table_lookup (st->index, name);
}

const char *
pal_safetensors_get_metadata (PalSafetensors *st, const char *key)
{
  g_return_val_if_fail (st != NULL && key != NULL, NULL);
  return g_hash_table_lookup (st->metadata, key);
}

GHashTable *
pal_safetensors_get_metadata_table (PalSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->metadata;
}

static const PalStTensor *
find_tensor (PalSafetensors *st, const char *name, GError **error)
{
  const PalStTensor *t = g_hash_table_lookup (st->index, name);

  if (t == NULL)
    st_error (error, st->path, PAL_SAFETENSORS_ERROR_NOT_FOUND,
              "tensor '%s' not found", name);
  return t;
}

gboolean
pal_safetensors_read_f32 (PalSafetensors *st, const char *name, int ndim,
                          const gint64 *shape, float *dst, GError **error)
{
  g_return_val_if_fail (st != NULL && name != NULL, FALSE);
  g_return_val_if_fail (ndim >= 0 && (ndim == 0 || shape != NULL), FALSE);

  const PalStTensor *t = find_tensor (st, name, error);
  if (t == NULL)
    return FALSE;
  if (strcmp (t->dtype, "F32") != 0)
    {
      st_error (error, st->path, PAL_SAFETENSORS_ERROR_DTYPE,
                "tensor '%s' has dtype %s, expected F32", name, t->dtype);
      return FALSE;
    }
  gboolean same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *have = shape_to_string (t->ndim, t->shape);
      g_autofree char *want = shape_to_string (ndim, shape);
      st_error (error, st->path, PAL_SAFETENSORS_ERROR_SHAPE,
                "tensor '%s' has shape %s, expected %s", name, have, want);
      return FALSE;
    }

  if (t->nbytes > 0)
    memcpy (dst, t->data, t->nbytes);
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    for (gsize i = 0; i < t->numel; i++)
      {
        guint32 v;
        memcpy (&v, dst + i, 4);
        v = GUINT32_FROM_LE (v);
        memcpy (dst + i, &v, 4);
      }
  return TRUE;
}

gboolean
pal_safetensors_read_labels (PalSafetensors *st, const char *name, gsize n,
                             gint32 *dst, GError **error)
{
  g_return_val_if_fail (st != NULL && name != NULL, FALSE);

  const PalStTensor *t = find_tensor (st, name, error);
  if (t == NULL)
    return FALSE;
  guint size = strcmp (t->dtype, "I64") == 0 ? 8
             : strcmp (t->dtype, "I32") == 0 ? 4
             : strcmp (t->dtype, "U8") == 0 ? 1 : 0;
  if (size == 0)
    {
      st_error (error, st->path, PAL_SAFETENSORS_ERROR_DTYPE,
                "tensor '%s' has dtype %s, expected I64, I32 or U8",
                name, t->dtype);
      return FALSE;
    }
  if (t->ndim != 1 || (guint64) t->shape[0] != n)
    {
      g_autofree char *have = shape_to_string (t->ndim, t->shape);
      st_error (error, st->path, PAL_SAFETENSORS_ERROR_SHAPE,
                "tensor '%s' has shape %s, expected [%" G_GSIZE_FORMAT "]",
                name, have, n);
      return FALSE;
    }

  for (gsize i = 0; i < n; i++)
    {
      const guint8 *p = t->data + i * size;
      gint64 v;

      if (size == 8)
        {
          memcpy (&v, p, 8);
          v = GINT64_FROM_LE (v);
        }
      else if (size == 4)
        {
          gint32 v32;
          memcpy (&v32, p, 4);
          v = GINT32_FROM_LE (v32);
        }
      else
        v = *p;
      if (v < G_MININT32 || v > G_MAXINT32)
        {
          st_error (error, st->path, PAL_SAFETENSORS_ERROR_DTYPE,
                    "tensor '%s': value %" G_GINT64_FORMAT " at index %"
                    G_GSIZE_FORMAT " does not fit in 32 bits", name, v, i);
          return FALSE;
        }
      dst[i] = (gint32) v;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct
{
  char *key;
  char *value;
} MetaEntry;

typedef struct
{
  char        *name;
  const DType *dtype;
  int          ndim;
  gint64       shape[PAL_ST_MAX_NDIM];
  guint64      nbytes;
  const void  *data;
} WriterTensor;

struct _PalStWriter
{
  GArray     *metadata;  /* MetaEntry, in the order first set */
  GArray     *tensors;   /* WriterTensor, in the order added */
  GHashTable *names;     /* set of tensor names, borrowed from tensors */
  GError     *error;     /* first invalid call, reported by save() */
};

static void
meta_entry_clear (gpointer p)
{
  MetaEntry *e = p;

  g_free (e->key);
  g_free (e->value);
}

static void
writer_tensor_clear (gpointer p)
{
  g_free (((WriterTensor *) p)->name);
}

PalStWriter *
pal_st_writer_new (void)
{
  PalStWriter *w = g_new0 (PalStWriter, 1);

  w->metadata = g_array_new (FALSE, FALSE, sizeof (MetaEntry));
  g_array_set_clear_func (w->metadata, meta_entry_clear);
  w->tensors = g_array_new (FALSE, FALSE, sizeof (WriterTensor));
  g_array_set_clear_func (w->tensors, writer_tensor_clear);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  return w;
}

void
pal_st_writer_free (PalStWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->names);
  g_array_unref (w->tensors);
  g_array_unref (w->metadata);
  g_clear_error (&w->error);
  g_free (w);
}

void
pal_st_writer_set_metadata (PalStWriter *w, const char *key, const char *value)
{
  g_return_if_fail (w != NULL && key != NULL && value != NULL);

  if (w->error != NULL)
    return;
  if (!g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
    {
      w->error = g_error_new (PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_FORMAT,
                              "metadata key or value is not valid UTF-8");
      return;
    }
  for (guint i = 0; i < w->metadata->len; i++)
    {
      MetaEntry *e = &g_array_index (w->metadata, MetaEntry, i);
      if (strcmp (e->key, key) == 0)
        {
          g_free (e->value);
          e->value = g_strdup (value);
          return;
        }
    }
  MetaEntry e = { g_strdup (key), g_strdup (value) };
  g_array_append_val (w->metadata, e);
}

/* Validates a tensor for pal_st_writer_add() and fills @t but its name;
 * returns the reason it is invalid, or NULL. */
static GError *
check_tensor (PalStWriter *w, WriterTensor *t, const char *name,
              const char *dtype, int ndim, const gint64 *shape)
{
  GQuark domain = PAL_SAFETENSORS_ERROR;
  guint64 numel;

  if (!g_utf8_validate (name, -1, NULL))
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_FORMAT,
                        "a tensor name is not valid UTF-8");
  if (strcmp (name, "__metadata__") == 0)
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_FORMAT,
                        "tensor name '__metadata__' is reserved");
  if (g_hash_table_contains (w->names, name))
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_FORMAT,
                        "duplicate tensor name '%s'", name);
  t->dtype = dtype_lookup (dtype);
  if (t->dtype == NULL)
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_DTYPE,
                        "tensor '%s' has unsupported dtype '%s'", name, dtype);
  if (ndim < 0 || ndim > PAL_ST_MAX_NDIM || (ndim > 0 && shape == NULL))
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_SHAPE,
                        "tensor '%s' has an invalid number of dimensions (%d)",
                        name, ndim);
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return g_error_new (domain, PAL_SAFETENSORS_ERROR_SHAPE,
                            "tensor '%s' has a negative dimension", name);
      t->shape[i] = shape[i];
    }
  if (!shape_size (ndim, t->shape, t->dtype->size, &numel, &t->nbytes)
      || t->nbytes > G_MAXSIZE)
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_TOO_LARGE,
                        "tensor '%s' is too large", name);
  if (t->nbytes > 0 && t->data == NULL)
    return g_error_new (domain, PAL_SAFETENSORS_ERROR_FORMAT,
                        "tensor '%s' has no data", name);
  return NULL;
}

void
pal_st_writer_add (PalStWriter *w, const char *name, const char *dtype,
                   int ndim, const gint64 *shape, const void *data)
{
  g_return_if_fail (w != NULL && name != NULL && dtype != NULL);

  WriterTensor t = { .data = data };
  if (w->error != NULL
      || (w->error = check_tensor (w, &t, name, dtype, ndim, shape)) != NULL)
    return;
  t.name = g_strdup (name);
  g_array_append_val (w->tensors, t);
  g_hash_table_add (w->names, t.name);
}

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const guchar *p = (const guchar *) str; *p != '\0'; p++)
    switch (*p)
      {
      case '"':  g_string_append (s, "\\\""); break;
      case '\\': g_string_append (s, "\\\\"); break;
      case '\b': g_string_append (s, "\\b"); break;
      case '\f': g_string_append (s, "\\f"); break;
      case '\n': g_string_append (s, "\\n"); break;
      case '\r': g_string_append (s, "\\r"); break;
      case '\t': g_string_append (s, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, (char) *p);
      }
  g_string_append_c (s, '"');
}

/* The padded JSON header, or NULL if the offsets overflow. */
static GString *
build_header (PalStWriter *w)
{
  g_autoptr(GString) h = g_string_new ("{");
  guint64 offset = 0, end;

  if (w->metadata->len > 0)
    {
      g_string_append (h, "\"__metadata__\":{");
      for (guint i = 0; i < w->metadata->len; i++)
        {
          MetaEntry *e = &g_array_index (w->metadata, MetaEntry, i);
          if (i > 0)
            g_string_append_c (h, ',');
          append_json_string (h, e->key);
          g_string_append_c (h, ':');
          append_json_string (h, e->value);
        }
      g_string_append_c (h, '}');
    }
  for (guint i = 0; i < w->tensors->len; i++)
    {
      WriterTensor *t = &g_array_index (w->tensors, WriterTensor, i);
      if (!g_uint64_checked_add (&end, offset, t->nbytes))
        return NULL;
      if (h->len > 1)
        g_string_append_c (h, ',');
      append_json_string (h, t->name);
      g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[", t->dtype->name);
      for (int d = 0; d < t->ndim; d++)
        g_string_append_printf (h, "%s%" G_GINT64_FORMAT, d ? "," : "", t->shape[d]);
      g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%"
                              G_GUINT64_FORMAT "]}", offset, end);
      offset = end;
    }
  g_string_append_c (h, '}');
  while ((8 + h->len) % 8 != 0)
    g_string_append_c (h, ' ');
  return g_steal_pointer (&h);
}

/* Writes the data of @t little-endian; FALSE with errno set on failure. */
static gboolean
write_tensor_data (int fd, const WriterTensor *t)
{
  guint size = t->dtype->size;

  if (G_BYTE_ORDER == G_LITTLE_ENDIAN || size == 1)
    return pal_file_write_all (fd, t->data, t->nbytes);

  /* Big-endian host: byte-swap each element through a small buffer. */
  guint8 buf[16384];
  const guint8 *src = t->data;
  for (gsize left = t->nbytes; left > 0;)
    {
      gsize n = MIN (left, sizeof buf);  /* a multiple of size */
      for (gsize i = 0; i < n; i += size)
        for (guint b = 0; b < size; b++)
          buf[i + b] = src[i + size - 1 - b];
      if (!pal_file_write_all (fd, buf, n))
        return FALSE;
      src += n;
      left -= n;
    }
  return TRUE;
}

typedef struct {
  PalStWriter *w;
  GString     *header;
} SaveJob;

/* The whole file: header length, header, tensor data. */
static gboolean
write_file (int fd, gpointer user_data)
{
  SaveJob *job = user_data;
  guint64 header_len = GUINT64_TO_LE ((guint64) job->header->len);
  gboolean ok = pal_file_write_all (fd, &header_len, 8)
                && pal_file_write_all (fd, job->header->str, job->header->len);

  for (guint i = 0; ok && i < job->w->tensors->len; i++)
    ok = write_tensor_data (fd, &g_array_index (job->w->tensors, WriterTensor, i));
  return ok;
}

gboolean
pal_st_writer_save (PalStWriter *w, const char *path, GError **error)
{
  g_return_val_if_fail (w != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (w->error != NULL)
    {
      g_propagate_prefixed_error (error, g_error_copy (w->error),
                                  "Could not save '%s': ", path);
      return FALSE;
    }
  g_autoptr(GString) header = build_header (w);
  if (header == NULL || header->len > PAL_SAFETENSORS_MAX_HEADER_SIZE)
    {
      g_set_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_TOO_LARGE,
                   "Could not save '%s': %s", path,
                   header == NULL ? "the tensors are too large"
                                  : "the header exceeds the limit of 100 MiB");
      return FALSE;
    }

  SaveJob job = { w, header };
  if (!pal_file_replace (path, write_file, &job))
    {
      int saved_errno = errno;
      g_set_error (error, PAL_SAFETENSORS_ERROR, PAL_SAFETENSORS_ERROR_IO,
                   "Could not save '%s': %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}
