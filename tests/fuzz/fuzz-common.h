/* fuzz-common.h: what every fuzz target shares
 *
 * GLib's messages are dropped (a parser reports through GError, and
 * printing would slow the run down), except criticals and warnings: those
 * mean that input reached a programmer-error check, so they abort and
 * libFuzzer keeps the input.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  return 0;
}

/* Exactly one of a result and an error. */
#define FUZZ_CHECK_RESULT(ok, error) \
  do { if (!(ok) == ((error) == NULL)) abort (); } while (0)
