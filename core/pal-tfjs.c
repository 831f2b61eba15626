/* pal-tfjs.c: reader of TensorFlow.js weights manifests and their shards
 *
 * Order of work: the manifest's size, its JSON depth, then every spec
 * (name, shape, dtype, quantisation) with overflow-checked sizes, then the
 * shards' sizes against the manifest's sum (a shard file too long is refused
 * before it is read); only then are the tensors allocated.
 */
#include "pal-tfjs.h"
#include "pal-error.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* A valid manifest nests 5 deep (groups, group, weights, spec, shape). */
#define MAX_JSON_DEPTH 16
#define MAX_SHARDS 4096

struct _PalTfjsWeights {
  char          *path;
  GPtrArray     *tensors;      /* PalTfjsTensor* */
};

static void
tensor_free (gpointer p)
{
  PalTfjsTensor *t = p;

  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

void
pal_tfjs_free (PalTfjsWeights *weights)
{
  if (!weights)
    return;
  g_free (weights->path);
  g_ptr_array_unref (weights->tensors);
  g_free (weights);
}

int
pal_tfjs_get_n_tensors (const PalTfjsWeights *weights)
{
  return (int) weights->tensors->len;
}

const PalTfjsTensor *
pal_tfjs_get_tensor (const PalTfjsWeights *weights, int i)
{
  g_return_val_if_fail (i >= 0 && i < (int) weights->tensors->len, NULL);
  return g_ptr_array_index (weights->tensors, i);
}

const PalTfjsTensor *
pal_tfjs_lookup (const PalTfjsWeights *weights, const char *name)
{
  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const PalTfjsTensor *t = g_ptr_array_index (weights->tensors, i);
      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}

const char *
pal_tfjs_get_path (const PalTfjsWeights *weights)
{
  return weights->path;
}

static char *
shape_string (int ndim, const gint64 *shape)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

const PalTfjsTensor *
pal_tfjs_require (const PalTfjsWeights *weights, const char *name, int ndim,
                  const gint64 *shape, GError **error)
{
  const PalTfjsTensor *t = pal_tfjs_lookup (weights, name);
  gboolean same;

  if (!t)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE, "%s: no tensor '%s'", weights->path, name);
      return NULL;
    }
  same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *want = shape_string (ndim, shape);
      g_autofree char *got = shape_string (t->ndim, t->shape);
      g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE, "%s: tensor '%s' has shape %s, expected %s",
                   weights->path, name, got, want);
      return NULL;
    }
  return t;
}

/* Nesting depth of JSON text, brackets inside strings ignored. */
static int
json_depth (const char *s, gsize len)
{
  int depth = 0, max = 0;
  gboolean in_str = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];
      if (in_str)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_str = FALSE;
        }
      else if (c == '"')
        in_str = TRUE;
      else if (c == '[' || c == '{')
        {
          depth++;
          max = MAX (max, depth);
        }
      else if (c == ']' || c == '}')
        depth--;
    }
  return max;
}

/* IEEE half to float, exactly. */
static float
half_to_float (guint16 h)
{
  int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;

  if (exp == 0)
    v = ldexpf ((float) man, -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = ldexpf ((float) (man | 0x400), exp - 25);
  return sign ? -v : v;
}

static gboolean
get_number (JsonObject *o, const char *key, double *out)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) != G_TYPE_DOUBLE && json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (n);
  return isfinite (*out);
}

static const char *
get_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* Parses one weight spec into @t (no data yet); @where names it in errors. */
static gboolean
parse_spec (JsonNode *node, PalTfjsTensor *t, const char *path, int group, int index,
            GError **error)
{
  JsonObject *o;
  JsonNode *sn, *qn;
  JsonArray *shape;
  const char *name, *dtype;
  guint64 numel = 1;
  guint elsize;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  o = json_node_get_object (node);
  name = get_string (o, "name");
  dtype = get_string (o, "dtype");
  sn = json_object_get_member (o, "shape");
  if (!name || !*name || !dtype || !sn || !JSON_NODE_HOLDS_ARRAY (sn))
    goto bad;
  t->name = g_strdup (name);
  shape = json_node_get_array (sn);
  t->ndim = (int) json_array_get_length (shape);
  if (t->ndim > PAL_TFJS_MAX_DIMS)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: tensor '%s' has %d dimensions (at most %d)",
                   path, name, t->ndim, PAL_TFJS_MAX_DIMS);
      return FALSE;
    }
  for (int i = 0; i < t->ndim; i++)
    {
      JsonNode *d = json_array_get_element (shape, i);
      double v;

      if (!JSON_NODE_HOLDS_VALUE (d) || json_node_get_value_type (d) != G_TYPE_INT64
          || (v = (double) json_node_get_int (d)) < 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: tensor '%s': dimension %d of its shape is not a count", path, name, i);
          return FALSE;
        }
      t->shape[i] = json_node_get_int (d);
      if (t->shape[i] > PAL_TFJS_MAX_VALUES || (numel *= (guint64) t->shape[i]) > PAL_TFJS_MAX_VALUES)
        {
          g_autofree char *s = shape_string (i + 1, t->shape);
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: tensor '%s': shape %s%s is too large (at most %d values)", path, name,
                       s, i + 1 < t->ndim ? "..." : "", PAL_TFJS_MAX_VALUES);
          return FALSE;
        }
    }
  t->numel = (gsize) numel;
  t->group = group;

  qn = json_object_get_member (o, "quantization");
  if (qn && !JSON_NODE_HOLDS_NULL (qn))
    {
      JsonObject *q;
      const char *qd;

      if (!JSON_NODE_HOLDS_OBJECT (qn) || !(qd = get_string (q = json_node_get_object (qn), "dtype")))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: tensor '%s': bad quantization entry", path, name);
          return FALSE;
        }
      if (strcmp (qd, "uint8") == 0)
        t->storage = PAL_TFJS_UINT8;
      else if (strcmp (qd, "uint16") == 0)
        t->storage = PAL_TFJS_UINT16;
      else if (strcmp (qd, "float16") == 0)
        t->storage = PAL_TFJS_FLOAT16;
      else
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                       "%s: tensor '%s': unknown quantization dtype '%s' "
                       "(known: uint8, uint16, float16)", path, name, qd);
          return FALSE;
        }
      if (t->storage != PAL_TFJS_FLOAT16
          && !(get_number (q, "scale", &t->scale) && get_number (q, "min", &t->min)))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: tensor '%s': quantization needs numbers 'scale' and 'min'", path, name);
          return FALSE;
        }
    }
  else
    t->storage = PAL_TFJS_FLOAT32;
  if (strcmp (dtype, "float32") != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   "%s: tensor '%s': dtype '%s' is not supported (only float32)", path, name, dtype);
      return FALSE;
    }
  elsize = t->storage == PAL_TFJS_FLOAT32 ? 4 : t->storage == PAL_TFJS_UINT8 ? 1 : 2;
  t->nbytes = t->numel * elsize;
  return TRUE;

bad:
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
               "%s: weight %d of group %d needs a string 'name', a 'shape' array and a "
               "string 'dtype'", path, index, group);
  return FALSE;
}

static void
decode (PalTfjsTensor *t, const guint8 *p)
{
  switch (t->storage)
    {
    case PAL_TFJS_FLOAT32:
      for (gsize i = 0; i < t->numel; i++)
        {
          guint32 u = (guint32) p[4 * i] | ((guint32) p[4 * i + 1] << 8)
                      | ((guint32) p[4 * i + 2] << 16) | ((guint32) p[4 * i + 3] << 24);
          memcpy (&t->data[i], &u, 4);
        }
      break;
    case PAL_TFJS_UINT8:
      for (gsize i = 0; i < t->numel; i++)
        t->data[i] = (float) (t->min + t->scale * p[i]);
      break;
    case PAL_TFJS_UINT16:
      for (gsize i = 0; i < t->numel; i++)
        t->data[i] = (float) (t->min + t->scale * (p[2 * i] | (p[2 * i + 1] << 8)));
      break;
    case PAL_TFJS_FLOAT16:
      for (gsize i = 0; i < t->numel; i++)
        t->data[i] = half_to_float ((guint16) (p[2 * i] | (p[2 * i + 1] << 8)));
      break;
    }
}

/* Reads and decodes one group: @paths (shard names), through @get_shard. */
static gboolean
load_group (PalTfjsWeights *w, const char *dir, JsonArray *paths, guint first, guint end,
            gsize need, PalTfjsShardFunc get_shard, gpointer user_data, GError **error)
{
  guint n = json_array_get_length (paths);
  g_autofree guint8 *owned_blob = NULL;
  const guint8 *blob;
  gsize have = 0;
  g_autoptr (GPtrArray) shards = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *last = NULL;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *pn = json_array_get_element (paths, i);
      const char *p;
      GBytes *bytes;
      gsize len;

      if (!JSON_NODE_HOLDS_VALUE (pn) || json_node_get_value_type (pn) != G_TYPE_STRING
          || !*(p = json_node_get_string (pn)) || strchr (p, '/') || strchr (p, '\\')
          || strcmp (p, "..") == 0 || strcmp (p, ".") == 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: shard %u is not a file name beside the manifest", w->path, i);
          return FALSE;
        }
      g_free (last);
      last = g_build_filename (dir, p, NULL);
      bytes = get_shard (p, need - have, user_data, error);
      if (!bytes)
        return FALSE;
      g_ptr_array_add (shards, bytes);
      len = g_bytes_get_size (bytes);
      if (len > need - have)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: %" G_GSIZE_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                       " bytes its manifest %s describes", last, len, need - have, w->path);
          return FALSE;
        }
      have += len;
    }
  if (have != need)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: truncated: the shards hold %" G_GSIZE_FORMAT " bytes, the manifest %s "
                   "describes %" G_GSIZE_FORMAT, last ? last : w->path, have, w->path, need);
      return FALSE;
    }

  if (n == 1 && need > 0)
    blob = g_bytes_get_data (g_ptr_array_index (shards, 0), NULL);
  else
    {
      gsize pos = 0;

      owned_blob = g_try_malloc (MAX (need, 1));
      if (!owned_blob)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "%s: not enough memory for %"
                       G_GSIZE_FORMAT " bytes of weights", w->path, need);
          return FALSE;
        }
      for (guint i = 0; i < n; i++)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (g_ptr_array_index (shards, i), &len);

          if (len > 0)
            memcpy (owned_blob + pos, data, len);
          pos += len;
        }
      blob = owned_blob;
    }

  for (guint i = first; i < end; i++)
    {
      PalTfjsTensor *t = g_ptr_array_index (w->tensors, i);

      t->data = g_try_new (float, MAX (t->numel, 1));
      if (!t->data)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "%s: not enough memory for tensor '%s'",
                       w->path, t->name);
          return FALSE;
        }
      decode (t, blob + t->offset);
    }
  return TRUE;
}

typedef struct
{
  const char *dir;
  const char *manifest_path;
} ShardFiles;

/* The shard @name beside the manifest, refused unread when too long. */
static GBytes *
read_shard_file (const char *name, gsize max_bytes, gpointer user_data, GError **error)
{
  ShardFiles *sf = user_data;
  g_autofree char *path = g_build_filename (sf->dir, name, NULL);
  g_autoptr (GError) local = NULL;
  char *data;
  gsize len;
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int e = errno;
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s (shard of %s)", path,
                   g_strerror (e), sf->manifest_path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: not a regular file", path);
      return NULL;
    }
  if ((guint64) st.st_size > (guint64) max_bytes)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: %" G_GUINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                   " bytes its manifest %s describes", path, (guint64) st.st_size,
                   max_bytes, sf->manifest_path);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

PalTfjsWeights *
pal_tfjs_load (const char *manifest_path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *dir = NULL;
  char *text;
  gsize len;
  GStatBuf st;
  ShardFiles sf;

  g_return_val_if_fail (manifest_path != NULL, NULL);

  if (g_stat (manifest_path, &st) != 0)
    {
      int e = errno;
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", manifest_path, g_strerror (e));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > PAL_TFJS_MAX_MANIFEST)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: not a weights manifest (%s)",
                   manifest_path, S_ISREG (st.st_mode) ? "larger than 16 MB" : "not a file");
      return NULL;
    }
  if (!g_file_get_contents (manifest_path, &text, &len, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return NULL;
    }
  bytes = g_bytes_new_take (text, len);
  dir = g_path_get_dirname (manifest_path);
  sf = (ShardFiles) { dir, manifest_path };
  return pal_tfjs_load_bytes (manifest_path, bytes, read_shard_file, &sf, error);
}

PalTfjsWeights *
pal_tfjs_load_bytes (const char *manifest_path, GBytes *manifest, PalTfjsShardFunc get_shard,
                     gpointer user_data, GError **error)
{
  g_autoptr (PalTfjsWeights) w = g_new0 (PalTfjsWeights, 1);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *dir = NULL;
  g_autoptr (GError) local = NULL;
  const char *text;
  JsonNode *root;
  JsonArray *groups;
  gsize len, total = 0;

  g_return_val_if_fail (manifest_path != NULL && manifest != NULL && get_shard != NULL, NULL);

  w->path = g_strdup (manifest_path);
  w->tensors = g_ptr_array_new_with_free_func (tensor_free);
  text = g_bytes_get_data (manifest, &len);
  if (len > PAL_TFJS_MAX_MANIFEST || json_depth (text, len) > MAX_JSON_DEPTH)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: not a weights manifest (nested too "
                   "deep or too large)", manifest_path);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, len ? text : "", (gssize) len, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: invalid JSON: %s", manifest_path,
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root) || json_array_get_length (json_node_get_array (root)) == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: not a weights manifest (expected a non-empty array of groups)",
                   manifest_path);
      return NULL;
    }
  groups = json_node_get_array (root);
  dir = g_path_get_dirname (manifest_path);

  for (guint gi = 0; gi < json_array_get_length (groups); gi++)
    {
      JsonNode *gn = json_array_get_element (groups, gi);
      JsonObject *go;
      JsonNode *pn, *wn;
      JsonArray *specs;
      guint first = w->tensors->len;
      gsize offset = 0;

      if (!JSON_NODE_HOLDS_OBJECT (gn)
          || !(pn = json_object_get_member (go = json_node_get_object (gn), "paths"))
          || !JSON_NODE_HOLDS_ARRAY (pn)
          || !(wn = json_object_get_member (go, "weights")) || !JSON_NODE_HOLDS_ARRAY (wn))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                       "%s: group %u needs arrays 'paths' and 'weights'", manifest_path, gi);
          return NULL;
        }
      if (json_array_get_length (json_node_get_array (pn)) > MAX_SHARDS)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: group %u names too many shards",
                       manifest_path, gi);
          return NULL;
        }
      specs = json_node_get_array (wn);
      for (guint k = 0; k < json_array_get_length (specs); k++)
        {
          PalTfjsTensor *t = g_new0 (PalTfjsTensor, 1);

          g_ptr_array_add (w->tensors, t);
          if (!parse_spec (json_array_get_element (specs, k), t, manifest_path, (int) gi, (int) k,
                           error))
            return NULL;
          if (pal_tfjs_lookup (w, t->name) != t)
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: tensor '%s' appears twice",
                           manifest_path, t->name);
              return NULL;
            }
          t->offset = offset;
          offset += t->nbytes;
          total += t->numel;
          if (total > PAL_TFJS_MAX_VALUES)
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                           "%s: the tensors hold more than %d values in all", manifest_path,
                           PAL_TFJS_MAX_VALUES);
              return NULL;
            }
        }
      if (!load_group (w, dir, json_node_get_array (pn), first, w->tensors->len, offset,
                       get_shard, user_data, error))
        return NULL;
    }
  return g_steal_pointer (&w);
}
