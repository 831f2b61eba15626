/* fuzz-image.c: JPEG and PNG decoding (pal_image_load_from_data) */
#include "fuzz-common.h"
#include "pal-image.h"

/* where the pixels read go, so that the reads are not optimised away */
volatile guint fuzz_image_sink;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = pal_image_load_from_data (data, size, "fuzz", &error);

  FUZZ_CHECK_RESULT (image != NULL, error);
  if (image != NULL)
    {
      gsize n = (gsize) image->width * image->height * image->channels;
      guint sum = 0;

      if (image->width < 1 || image->height < 1
          || (image->channels != 1 && image->channels != 3))
        abort ();
      /* every byte was written (MemorySanitizer aside, ASan checks bounds) */
      for (gsize i = 0; i < n; i += 61)
        sum += image->data[i];
      sum += image->data[n - 1];
      fuzz_image_sink = sum;
    }
  return 0;
}
