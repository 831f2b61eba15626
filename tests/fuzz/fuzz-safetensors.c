/* fuzz-safetensors.c: the safetensors reader (pal_safetensors_open_bytes)
 * and its typed reads */
#include "fuzz-common.h"
#include "pal-safetensors.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr (PalSafetensors) st = pal_safetensors_open_bytes (bytes, "fuzz.safetensors",
                                                              &error);

  FUZZ_CHECK_RESULT (st != NULL, error);
  if (st == NULL)
    return 0;

  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, pal_safetensors_get_metadata_table (st));
  while (g_hash_table_iter_next (&it, &key, &value))
    if (g_strcmp0 (pal_safetensors_get_metadata (st, key), value) != 0)
      abort ();

  for (guint i = 0; i < pal_safetensors_get_n_tensors (st); i++)
    {
      const PalStTensor *t = pal_safetensors_get_nth (st, i);
      g_autoptr (GError) local = NULL;

      if (pal_safetensors_lookup (st, t->name) != t
          || t->data < (const guint8 *) data || t->data + t->nbytes > data + size)
        abort ();
      /* the data section is in the input: at most its size */
      if (strcmp (t->dtype, "F32") == 0)
        {
          g_autofree float *dst = g_new (float, MAX (t->numel, 1));
          if (!pal_safetensors_read_f32 (st, t->name, t->ndim, t->shape, dst, &local))
            abort ();
        }
      else if (t->ndim == 1)
        {
          g_autofree gint32 *dst = g_new (gint32, MAX (t->numel, 1));
          gboolean ok = pal_safetensors_read_labels (st, t->name, t->numel, dst, &local);
          FUZZ_CHECK_RESULT (ok, local);
        }
    }
  return 0;
}
