/* fuzz-model.c: a model file (pal_model_load): safetensors, the
 * architecture in its metadata, the class names, the weights */
#include "fuzz-common.h"
#include "pal-model-io.h"

#include <sys/mman.h>
#include <unistd.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  int fd = memfd_create ("fuzz-model", MFD_CLOEXEC);
  gsize done = 0;

  if (fd < 0)
    abort ();
  while (done < size)
    {
      gssize n = write (fd, data + done, size - done);
      if (n <= 0)
        abort ();
      done += n;
    }
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autoptr (PalModel) model = pal_model_load (path, NULL, &error);

  FUZZ_CHECK_RESULT (model != NULL, error);
  close (fd);
  return 0;
}
