/* fuzz-ferplus.c: FER+'s fer2013new.csv with the fer2013.csv it relabels
 * (pal_dataset_parse_text).  The input is fer2013new.csv, a NUL byte,
 * then fer2013.csv. */
#include "fuzz-dataset-common.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  const char *nul = memchr (text, '\0', size);
  gsize plus_len = nul ? (gsize) (nul - text) : size;
  const char *fer = nul ? nul + 1 : text + size;

  fuzz_dataset (PAL_DATASET_FERPLUS, fer, size - (fer - text), text, plus_len, size & 1);
  return 0;
}
