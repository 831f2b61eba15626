/* fuzz-arch.c: the architecture text form (pal_arch_parse), then the
 * model it describes (pal_model_new: the parameters are allocated) */
#include "fuzz-common.h"
#include "pal-arch.h"
#include "pal-model.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalGraph) graph = pal_arch_parse (text, &error);

  FUZZ_CHECK_RESULT (graph != NULL, error);
  if (graph == NULL)
    return 0;

  if (pal_graph_get_n_floats (graph) > PAL_ARCH_MAX_PARAMS)
    abort ();
  /* Up to PAL_ARCH_MAX_PARAMS floats (1 GiB) is a legitimate size for a
   * model the user describes (vgg16 has 134 M parameters); build the model
   * only when it stays within the malloc limit of the run. */
  if (pal_graph_get_n_floats (graph) > (64u << 20))
    return 0;

  /* pal_model_new() reads a line without a newline as a built-in name */
  g_autofree char *arch = g_strconcat (text, "\n", NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (PalModel) model = pal_model_new (arch, &local);
  FUZZ_CHECK_RESULT (model != NULL, local);
  return 0;
}
