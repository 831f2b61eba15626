/* fuzz-affectnet-landmarks.c: AffectNet's facial_landmarks field
 * (pal_landmarks_parse_affectnet) */
#include "fuzz-common.h"
#include "pal-landmarks.h"

#include <math.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strndup ((const char *) data, size);
  PalLandmarks lm;
  gboolean ok = pal_landmarks_parse_affectnet (text, &lm, "training.csv", 2, &error);

  FUZZ_CHECK_RESULT (ok, error);
  if (ok)
    for (int i = 0; i < PAL_N_LANDMARKS; i++)
      if (!isfinite (lm.x[i]) || !isfinite (lm.y[i]))
        abort ();
  return 0;
}
