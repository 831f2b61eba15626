/* pal-model.h: a network with its weights, class names and metadata
 *
 * A model is a graph (from its architecture text), one float block of
 * parameters, the names of its classes and free string metadata (PAL
 * settings, training figures, input normalisation).  Saved as one
 * safetensors file (pal-model-io.h).
 */
#pragma once

#include "pal-graph.h"

G_BEGIN_DECLS

typedef struct _PalModel PalModel;

/* The canonical 7 expression classes, in the core's order. */
extern const char *const pal_expression_classes[7];

/* @arch is a built-in name ("bench-vgg", "vgg16", "resnet18"), optionally
 * with an input size ("resnet18@112"), or an architecture text
 * (pal-arch.h).  Parameters start at zero; call pal_model_init(). */
PalModel    *pal_model_new            (const char *arch, GError **error);
PalModel    *pal_model_ref            (PalModel *model);
void         pal_model_unref          (PalModel *model);

PalGraph    *pal_model_get_graph      (PalModel *model);
/* "bench-vgg", ... or "custom" */
const char  *pal_model_get_arch_name  (PalModel *model);
const char  *pal_model_get_arch_text  (PalModel *model);

/* The parameter block [pal_graph_get_n_floats()], PyTorch layouts. */
float       *pal_model_get_params     (PalModel *model);
/* One parameter's slice by name, or NULL. */
float       *pal_model_lookup         (PalModel *model, const char *name, gsize *numel);

/* He (Kaiming normal, fan_in, ReLU gain) for conv and linear weights, zero
 * biases, batch norm weight 1, bias 0, running mean 0, var 1.  Deterministic
 * for a given seed. */
void         pal_model_init           (PalModel *model, guint64 seed);

int          pal_model_get_n_classes  (PalModel *model);
const char  *pal_model_get_class_name (PalModel *model, int k);
/* @names has pal_model_get_n_classes() entries. */
void         pal_model_set_class_names (PalModel *model, const char *const *names);

/* String metadata, saved with the model ("pal.layer", "train.epochs"...). */
const char  *pal_model_get_meta       (PalModel *model, const char *key);
void         pal_model_set_meta       (PalModel *model, const char *key, const char *value);
/* Borrowed table of all metadata keys and values. */
GHashTable  *pal_model_get_meta_table (PalModel *model);

/* Input normalisation: x = (pixel / 255 - mean[c]) / std[c].  Defaults to
 * ImageNet's; stored as metadata "input.mean" / "input.std". */
void         pal_model_get_normalisation (PalModel *model, float mean[3], float std[3]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalModel, pal_model_unref)

G_END_DECLS
