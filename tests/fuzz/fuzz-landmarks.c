/* fuzz-landmarks.c: .pts and plain "x y" landmark files (pal_landmarks_parse) */
#include "fuzz-common.h"
#include "pal-landmarks.h"

#include <math.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  PalLandmarks lm;
  gboolean ok = pal_landmarks_parse ((const char *) data, size, "fuzz.pts", &lm, &error);

  FUZZ_CHECK_RESULT (ok, error);
  if (ok)
    for (int i = 0; i < PAL_N_LANDMARKS; i++)
      if (!isfinite (lm.x[i]) || !isfinite (lm.y[i]))
        abort ();
  return 0;
}
