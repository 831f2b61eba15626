/* fuzz-affectnet.c: AffectNet's training.csv (pal_dataset_parse_text) */
#include "fuzz-dataset-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* the last bit of the size picks include_contempt */
  fuzz_dataset (PAL_DATASET_AFFECTNET, (const char *) data, size, NULL, 0, size & 1);
  return 0;
}
