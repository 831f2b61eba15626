/* pal-tfjs.h: TensorFlow.js weights (a "weights manifest" v1 and its shards)
 *
 * A manifest (NAME-weights_manifest.json) is a JSON array of groups
 *
 *     [{"paths": ["NAME.bin", ...],
 *       "weights": [{"name": "conv0/filters", "shape": [3, 3, 3, 16],
 *                    "dtype": "float32",
 *                    "quantization": {"dtype": "uint8", "scale": S, "min": M}},
 *                   ...]}, ...]
 *
 * A group's shards, joined in order, hold its tensors back to back in
 * manifest order, without header, alignment or padding: 4 bytes per value
 * for float32 (little-endian), 1 for uint8 and 2 for uint16 and float16
 * quantisation.  Quantised values are dequantised as tfjs does:
 * value = (float) (min + scale * q), computed in double; float16 values are
 * converted exactly.  Every shard must be used to its last byte.
 *
 * Every tensor is kept as float32 in the manifest's own (TensorFlow) layout:
 * NHWC activations, HWIO conv filters, [in, out] dense weights.
 *
 * Malformed input (a truncated or invalid manifest, a shard that is missing,
 * truncated or too long, a shape that claims more than PAL_TFJS_MAX_VALUES
 * values, an unknown dtype, a shard path leaving the manifest's folder) is a
 * GError in PAL_ERROR naming the file and the tensor; sizes are checked
 * against the files before anything sized from them is allocated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PAL_TFJS_MAX_DIMS    8
/* Limits checked before allocation: values of one tensor, of all tensors,
 * and bytes of a manifest. */
#define PAL_TFJS_MAX_VALUES  (1 << 28)
#define PAL_TFJS_MAX_MANIFEST (16 << 20)

typedef enum {
  PAL_TFJS_FLOAT32,         /* plain float32 */
  PAL_TFJS_UINT8,           /* quantised: 1 byte per value */
  PAL_TFJS_UINT16,          /* quantised: 2 bytes per value */
  PAL_TFJS_FLOAT16,         /* stored as IEEE half */
} PalTfjsStorage;

typedef struct {
  char          *name;
  int            ndim;
  gint64         shape[PAL_TFJS_MAX_DIMS];
  gsize          numel;
  PalTfjsStorage storage;
  double         scale, min;   /* uint8 / uint16 quantisation */
  int            group;        /* index of its group in the manifest */
  gsize          offset;       /* byte offset in the group's joined shards */
  gsize          nbytes;       /* bytes stored */
  float         *data;         /* [numel] dequantised, TensorFlow layout */
} PalTfjsTensor;

typedef struct _PalTfjsWeights PalTfjsWeights;

/* Gives the bytes of the shard @name (a file name from the manifest's
 * "paths") to pal_tfjs_load_bytes(), or NULL with @error set.  A shard of
 * more than @max_bytes (what the manifest leaves for it) is refused anyway
 * and need not be read. */
typedef GBytes *(*PalTfjsShardFunc) (const char *name, gsize max_bytes, gpointer user_data,
                                     GError **error);

/* Reads @manifest_path and the shards it names (beside it). */
PalTfjsWeights      *pal_tfjs_load          (const char *manifest_path, GError **error);
/* The same from a manifest in memory: @manifest_path names it in messages
 * (shards are named as files beside it), @get_shard gives the shards. */
PalTfjsWeights      *pal_tfjs_load_bytes    (const char *manifest_path, GBytes *manifest,
                                             PalTfjsShardFunc get_shard, gpointer user_data,
                                             GError **error);
void                 pal_tfjs_free          (PalTfjsWeights *weights);

int                  pal_tfjs_get_n_tensors (const PalTfjsWeights *weights);
const PalTfjsTensor *pal_tfjs_get_tensor    (const PalTfjsWeights *weights, int i);
/* The tensor called @name, or NULL. */
const PalTfjsTensor *pal_tfjs_lookup        (const PalTfjsWeights *weights, const char *name);
/* Like pal_tfjs_lookup(), but a missing tensor or one whose shape is not
 * @shape (@ndim dims) is an error naming the manifest. */
const PalTfjsTensor *pal_tfjs_require       (const PalTfjsWeights *weights, const char *name,
                                             int ndim, const gint64 *shape, GError **error);
/* The manifest's path, for messages. */
const char          *pal_tfjs_get_path      (const PalTfjsWeights *weights);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalTfjsWeights, pal_tfjs_free)

G_END_DECLS
