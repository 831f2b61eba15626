/* fuzz-fer2013.c: FER2013's fer2013.csv (pal_dataset_parse_text) */
#include "fuzz-dataset-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* the last bit of the size picks include_contempt */
  fuzz_dataset (PAL_DATASET_FER2013, (const char *) data, size, NULL, 0, size & 1);
  return 0;
}
