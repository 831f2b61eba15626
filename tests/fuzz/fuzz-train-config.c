/* fuzz-train-config.c: the INI training settings
 * (pal_train_config_load_keyfile, pal_train_config_validate) */
#include "fuzz-common.h"
#include "pal-trainer.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  PalTrainConfig cfg;

  if (!g_key_file_load_from_data (kf, (const char *) data, size, G_KEY_FILE_NONE, NULL))
    return 0;
  pal_train_config_init (&cfg);
  gboolean ok = pal_train_config_load_keyfile (&cfg, kf, &error);
  FUZZ_CHECK_RESULT (ok, error);
  if (ok)
    {
      g_autoptr (GError) local = NULL;
      ok = pal_train_config_validate (&cfg, &local);
      FUZZ_CHECK_RESULT (ok, local);

      /* what was read is written back and reads the same */
      g_autoptr (GKeyFile) out = pal_train_config_to_keyfile (&cfg);
      PalTrainConfig again;
      pal_train_config_init (&again);
      if (!pal_train_config_load_keyfile (&again, out, NULL))
        abort ();
      pal_train_config_clear (&again);
    }
  pal_train_config_clear (&cfg);
  return 0;
}
