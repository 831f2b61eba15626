/* pal-model-io.h: models as safetensors files
 *
 * A model file is a standard safetensors file: every parameter as an F32
 * tensor under its PyTorch name, and in __metadata__:
 *   "format"     "pal-studio-model/1"
 *   "arch"       the architecture text (pal-arch.h), so a file is a whole model
 *   "arch_name"  "bench-vgg", "vgg16", "resnet18" or "custom"
 *   "classes"    a JSON array of the class names
 *   every key of pal_model_get_meta_table() ("pal.layer", "train.epochs", ...)
 * Saving writes a temporary file beside the target and renames it, so an
 * earlier file survives any failure.
 */
#pragma once

#include "pal-model.h"

G_BEGIN_DECLS

gboolean  pal_model_save (PalModel *model, const char *path, GError **error);

/* Loads a model file.  With @arch (a built-in name or text), the file may
 * also be plain weights (say, from PyTorch): every parameter of @arch must
 * be present with its shape and dtype F32; other tensors are ignored.
 * Errors name the file and the tensor. */
PalModel *pal_model_load (const char *path, const char *arch, GError **error);

G_END_DECLS
