/* fuzz-dlib.c: dlib's shape predictor reader (pal_dlib_model_load_bytes),
 * then the model run on a small image; and the same bytes as a cache file
 * (pal_dlib_model_from_cache_bytes).  A cache file with a wrong checksum is
 * refused, so the fuzzer mostly reaches its header and size checks. */
#include "fuzz-common.h"
#include "pal-dlib.h"

#include <string.h>

static void
check_model (const PalDlibModel *m)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = pal_image_new (24, 20, 1);
  g_autofree int *points = NULL;
  int parts, cascades, trees, depth, features;

  pal_dlib_model_get_size (m, &parts, &cascades, &trees, &depth, &features);
  if (parts < 1 || cascades < 1 || trees < 1 || depth < 1 || features < 1)
    abort ();
  for (int c = 0; c < cascades; c++)
    {
      for (int i = 0; i < (1 << depth) - 1; i++)
        {
          int idx1, idx2;
          float thresh;

          pal_dlib_model_get_split (m, c, trees - 1, i, &idx1, &idx2, &thresh);
          if (idx1 < 0 || idx1 >= features || idx2 < 0 || idx2 >= features)
            abort ();
        }
      for (int k = 0; k < features; k++)
        {
          int anchor;
          float dx, dy;

          pal_dlib_model_get_feature (m, c, k, &anchor, &dx, &dy);
          if (anchor < 0 || anchor >= parts)
            abort ();
        }
    }
  for (int i = 0; i < 24 * 20; i++)
    image->data[i] = (guint8) (i * 37);
  points = g_new (int, 2 * parts);
  if (!pal_dlib_predict_points (m, image, 2, 3, 20, 17, points, &error))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDlibModel) m = pal_dlib_model_load_bytes (data, size, "fuzz.dat", &error);
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr (PalDlibModel) cached = NULL;

  FUZZ_CHECK_RESULT (m != NULL, error);
  if (m != NULL)
    check_model (m);

  cached = pal_dlib_model_from_cache_bytes (bytes);
  if (cached != NULL)
    check_model (cached);
  return 0;
}
