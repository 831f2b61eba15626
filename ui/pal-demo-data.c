/* pal-demo-data.c: the synthetic face set offered when no dataset is at hand
 *
 * Made with pal_synth_dataset() (docs/SYNTH.md) into the user's cache
 * folder, once: a file ".complete" is written after the set, so a set cut
 * short (the app closed, the disk full) is made again next time.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "pal-demo-data.h"
#include "pal-error.h"
#include "pal-synth.h"

#define COMPLETE_MARK ".complete"

char *
pal_demo_synth_dir (int n, int size)
{
  g_autofree char *name = g_strdup_printf ("synth-%d-%d", n, size);

  return g_build_filename (g_get_user_cache_dir (), "pal-studio", name, NULL);
}

gboolean
pal_demo_synth_ready (int n, int size)
{
  g_autofree char *dir = pal_demo_synth_dir (n, size);
  g_autofree char *mark = g_build_filename (dir, COMPLETE_MARK, NULL);

  return g_file_test (mark, G_FILE_TEST_IS_REGULAR);
}

typedef struct {
  int n, size;
} Request;

static void
ensure_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Request *req = task_data;
  g_autofree char *dir = pal_demo_synth_dir (req->n, req->size);
  g_autofree char *mark = g_build_filename (dir, COMPLETE_MARK, NULL);
  GError *error = NULL;
  PalSynthOptions opt;

  if (!g_file_test (mark, G_FILE_TEST_IS_REGULAR))
    {
      pal_synth_options_init (&opt);
      opt.n = req->n;
      opt.size = req->size;
      if (!pal_synth_dataset (dir, &opt, cancellable, NULL, NULL, &error))
        {
          g_prefix_error (&error, _("Could not make the synthetic faces in %s: "), dir);
          g_task_return_error (task, error);
          return;
        }
      if (!g_file_set_contents (mark, "", 0, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&dir), g_free);
}

void
pal_demo_synth_ensure_async (int n, int size, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Request *req = g_new (Request, 1);

  req->n = n;
  req->size = size;
  g_task_set_source_tag (task, pal_demo_synth_ensure_async);
  g_task_set_task_data (task, req, g_free);
  g_task_run_in_thread (task, ensure_thread);
}

char *
pal_demo_synth_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
