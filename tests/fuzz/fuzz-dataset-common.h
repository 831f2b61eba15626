/* fuzz-dataset-common.h: a label file in memory through the dataset reader */
#pragma once

#include "fuzz-common.h"
#include "pal-dataset.h"
#include "pal-dataset-private.h"

/* No such folder: image and .pts paths lead nowhere, as fast as possible. */
#define FUZZ_ROOT "/nonexistent/pal-fuzz"

static void
fuzz_dataset (PalDatasetFormat format, const char *text, gsize len,
              const char *plus_text, gsize plus_len, gboolean contempt)
{
  PalDatasetOptions opt = { .include_contempt = contempt, .max_issues = 20 };
  g_autoptr (GError) error = NULL;
  PalDataset *ds = pal_dataset_parse_text (format, FUZZ_ROOT, text, len,
                                           plus_text, plus_len, &opt, &error);

  FUZZ_CHECK_RESULT (ds != NULL, error);
  if (ds == NULL)
    return;

  int n = pal_dataset_get_n (ds), n_classes = pal_dataset_get_n_classes (ds), n_issues;
  const PalDatasetIssue *issues = pal_dataset_get_issues (ds, &n_issues);

  if (n < 1 || n_issues > 20)
    abort ();
  for (int i = 0; i < n; i++)
    {
      const PalSample *s = pal_dataset_get (ds, i);

      if (s->label < 0 || s->label >= n_classes || (s->path == NULL) == (s->pixels == NULL))
        abort ();
    }
  for (int i = 0; i < n_issues; i++)
    if (issues[i].message == NULL || issues[i].reason > PAL_SKIP_LAST_BROKEN)
      abort ();
  g_free (pal_dataset_describe (ds));
  if (!pal_dataset_has_own_validation (ds))
    pal_dataset_make_validation (ds, PAL_DATASET_DEFAULT_VAL_FRACTION, 1, NULL);
  pal_dataset_unref (ds);
}
