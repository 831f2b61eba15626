/* pal-dataset-private.h: the label file readers on text in memory
 *
 * For tests and fuzzing, not for the application.
 */
#pragma once

#include "pal-dataset.h"

G_BEGIN_DECLS

/* Reads the samples of label file text as pal_dataset_open() reads the
 * files of a dataset at @root, with the same checks, issues and errors:
 * RAF-DB's list_patition_label.txt, AffectNet's training.csv (its rows go
 * to train) or fer2013.csv (@plus_text: FER+'s fer2013new.csv).  Paths of
 * images and .pts files are made under @root as usual; @text need not be
 * NUL-terminated.  Other formats are refused (PAL_ERROR_INVALID). */
PalDataset  *pal_dataset_parse_text    (PalDatasetFormat format, const char *root,
                                        const char *text, gsize len,
                                        const char *plus_text, gsize plus_len,
                                        const PalDatasetOptions *opt, GError **error);

G_END_DECLS
