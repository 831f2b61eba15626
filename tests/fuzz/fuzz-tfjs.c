/* fuzz-tfjs.c: the TensorFlow.js weights reader (pal_tfjs_load_bytes)
 *
 * The input is the manifest and its shards, each after its length as 4
 * bytes, little-endian (a length past the end takes what is left); the
 * shards are given in the order the reader asks for them, whatever their
 * names.
 */
#include "fuzz-common.h"
#include "pal-error.h"
#include "pal-tfjs.h"

#include <math.h>
#include <string.h>

typedef struct {
  const uint8_t *p, *end;
} Input;

/* The next length-prefixed piece, or NULL when none is left. */
static GBytes *
next_piece (Input *in)
{
  size_t len;

  if (in->end - in->p < 4)
    return NULL;
  len = (size_t) in->p[0] | ((size_t) in->p[1] << 8) | ((size_t) in->p[2] << 16)
        | ((size_t) in->p[3] << 24);
  in->p += 4;
  len = MIN (len, (size_t) (in->end - in->p));
  in->p += len;
  return g_bytes_new_static (in->p - len, len);
}

static GBytes *
get_shard (const char *name, gsize max_bytes, gpointer user_data, GError **error)
{
  GBytes *bytes = next_piece (user_data);

  if (!bytes)
    g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: no such shard", name);
  return bytes;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  Input in = { data, data + size };
  g_autoptr (GBytes) manifest = next_piece (&in);
  g_autoptr (PalTfjsWeights) w = NULL;

  if (!manifest)
    return 0;
  w = pal_tfjs_load_bytes ("fuzz-weights_manifest.json", manifest, get_shard, &in, &error);
  FUZZ_CHECK_RESULT (w != NULL, error);
  if (w == NULL)
    return 0;

  for (int i = 0; i < pal_tfjs_get_n_tensors (w); i++)
    {
      const PalTfjsTensor *t = pal_tfjs_get_tensor (w, i);
      guint64 numel = 1;

      if (t->ndim < 0 || t->ndim > PAL_TFJS_MAX_DIMS || t->data == NULL
          || pal_tfjs_lookup (w, t->name) != t
          || pal_tfjs_require (w, t->name, t->ndim, t->shape, NULL) != t)
        abort ();
      for (int d = 0; d < t->ndim; d++)
        numel *= (guint64) t->shape[d];
      if (numel != t->numel || t->numel > PAL_TFJS_MAX_VALUES)
        abort ();
      /* every value is there; min + scale * q, both finite, is never NaN */
      for (gsize k = 0; k < t->numel; k++)
        if (isnan (t->data[k]) && (t->storage == PAL_TFJS_UINT8 || t->storage == PAL_TFJS_UINT16))
          abort ();
    }
  return 0;
}
