/* bench-inspector.c: how fast the Inspect view's maps follow a change
 *
 * Two bench-vgg models (different initial weights) in the inspector's two
 * slots, the demo face with its landmarks; then N changes, alternately of
 * the target class and of the layer, each timed from the setter's call to
 * the "results-changed" of both slots with the new generation (the main
 * loop runs meanwhile, as in the application).  Prints the median and the
 * 90th percentile, and the worker's own time per slot.
 *
 *   bench-inspector [--changes N] [--threads T]
 */
#include "config.h"

#include <stdlib.h>

#include "pal-inspector.h"
#include "pal-parallel.h"

typedef struct {
  guint64 generation;   /* the request being timed */
  gboolean done[PAL_INSPECTOR_N_SLOTS];
} Wait;

static void
on_results_changed (PalInspector *insp, int slot, gpointer data)
{
  Wait *w = data;
  const PalInspectorResult *res = pal_inspector_get_result (insp, slot);

  if (res && res->generation == w->generation)
    w->done[slot] = TRUE;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
percentile (double *v, int n, double p)
{
  int i;

  qsort (v, n, sizeof *v, cmp_double);
  i = (int) (p * (n - 1) + 0.5);
  return v[CLAMP (i, 0, n - 1)];
}

/* Applies change @i and waits for both slots' answer; the milliseconds. */
static double
timed_change (PalInspector *insp, Wait *w, int i, double *compute_ms)
{
  static const char *const layers[] = { "conv8", "conv7", "conv6", "conv5" };
  guint64 before = pal_inspector_get_generation (insp);
  gint64 t0 = g_get_monotonic_time ();

  /* each call changes something: the target runs through the classes and
   * the sum (it starts at the sum), the layer through the last four */
  if (i % 2 == 0)
    pal_inspector_set_target (insp, (i / 2) % 8 == 7 ? -1 : (i / 2) % 8);
  else
    pal_inspector_set_layer (insp, layers[(i / 2) % G_N_ELEMENTS (layers)]);
  w->generation = pal_inspector_get_generation (insp);
  g_assert (w->generation > before);
  w->done[0] = w->done[1] = FALSE;
  while (!w->done[0] || !w->done[1])
    g_main_context_iteration (NULL, TRUE);
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    compute_ms[s] = pal_inspector_get_result (insp, s)->compute_ms;
  return (g_get_monotonic_time () - t0) / 1000.0;
}

int
main (int argc, char **argv)
{
  int n_changes = 30, threads = 0;
  GOptionEntry entries[] = {
    { "changes", 'n', 0, G_OPTION_ARG_INT, &n_changes, "Changes to time (default 30)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time the Inspect view's updates");
  g_autoptr (PalInspector) insp = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree double *wall = NULL, *work = NULL;
  Wait w = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bench-inspector: %s\n", error->message);
      return 2;
    }
  n_changes = MAX (n_changes, 2);
  pal_set_threads (threads);

  insp = pal_inspector_new ();
  g_signal_connect (insp, "results-changed", G_CALLBACK (on_results_changed), &w);
  if (!pal_inspector_load_image (insp, PAL_SOURCE_DATADIR "/demo-face.jpg", NULL, &error))
    {
      g_printerr ("bench-inspector: %s\n", error->message);
      return 1;
    }
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    {
      g_autoptr (PalModel) model = pal_model_new ("bench-vgg", &error);

      if (!model)
        {
          g_printerr ("bench-inspector: %s\n", error->message);
          return 1;
        }
      pal_model_init (model, 1 + s);
      pal_inspector_set_model (insp, s, model, s == 0 ? "bench-vgg-a" : "bench-vgg-b");
    }
  pal_inspector_set_layer (insp, "conv7");
  pal_inspector_wait (insp, NULL);   /* the workspaces are made here */
  for (int s = 0; s < PAL_INSPECTOR_N_SLOTS; s++)
    if (pal_inspector_get_result (insp, s)->error)
      {
        g_printerr ("bench-inspector: %s\n", pal_inspector_get_result (insp, s)->error->message);
        return 1;
      }

  wall = g_new (double, n_changes);
  work = g_new (double, 2 * n_changes);
  for (int i = 0; i < n_changes; i++)
    wall[i] = timed_change (insp, &w, i, work + 2 * i);

  g_print ("bench-vgg, 2 slots, %d threads, %d changes (target / layer)\n",
           pal_get_threads (), n_changes);
  g_print ("change to both slots' results: median %.1f ms, p90 %.1f ms\n",
           percentile (wall, n_changes, 0.5), percentile (wall, n_changes, 0.9));
  g_print ("worker time per slot:          median %.1f ms, p90 %.1f ms\n",
           percentile (work, 2 * n_changes, 0.5), percentile (work, 2 * n_changes, 0.9));
  return 0;
}
