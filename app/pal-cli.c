/* pal-cli.c: what several pal commands share */
#include "pal-cli.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  const char   *cmd;
  const char   *stopping;
  GThreadFunc   work;
  gpointer      data;
  GCancellable *cancellable;
  GMainLoop    *loop;
  int           n_signals;
} Runner;

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
runner_thread (gpointer data)
{
  Runner *r = data;

  r->work (r->data);
  g_idle_add (quit_loop, r->loop);
  return NULL;
}

static gboolean
on_signal (gpointer data)
{
  Runner *r = data;

  if (r->n_signals++ == 0)
    {
      g_printerr ("%spal %s: stopping %s (again to quit at once)\n",
                  isatty (STDERR_FILENO) ? "\r\033[K" : "", r->cmd, r->stopping);
      g_cancellable_cancel (r->cancellable);
      return G_SOURCE_CONTINUE;
    }
  _exit (130);
}

void
pal_cli_run_cancellable (const char *cmd, const char *stopping, GThreadFunc work,
                         gpointer data, GCancellable *cancellable)
{
  Runner r = { cmd, stopping, work, data, cancellable, g_main_loop_new (NULL, FALSE), 0 };
  g_autofree char *name = g_strconcat ("pal-", cmd, NULL);
  guint sig_int = g_unix_signal_add (SIGINT, on_signal, &r);
  guint sig_term = g_unix_signal_add (SIGTERM, on_signal, &r);
  GThread *thread = g_thread_new (name, runner_thread, &r);

  g_main_loop_run (r.loop);
  g_thread_join (thread);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_main_loop_unref (r.loop);
}

gboolean
pal_cli_parse_split (const char *s, PalSplit *out)
{
  if (g_strcmp0 (s, "test") == 0)
    *out = PAL_SPLIT_TEST;
  else if (g_strcmp0 (s, "val") == 0 || g_strcmp0 (s, "validation") == 0)
    *out = PAL_SPLIT_VAL;
  else if (g_strcmp0 (s, "train") == 0)
    *out = PAL_SPLIT_TRAIN;
  else if (g_strcmp0 (s, "all") == 0)
    *out = PAL_SPLIT_ALL;
  else
    return FALSE;
  return TRUE;
}

const char *
pal_cli_split_name (PalSplit split)
{
  return split == PAL_SPLIT_TRAIN ? "train" : split == PAL_SPLIT_VAL ? "val"
         : split == PAL_SPLIT_TEST ? "test" : "all";
}
