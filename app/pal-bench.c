/* pal-bench.c: `pal bench`, timing steps on bench-vgg
 *
 * The same steps as ../shared/bench/pal_torch.py, printed in its RESULT
 * form so the two can be compared by a script.
 */
#include "pal-cli.h"
#include "pal-rand.h"

#include <math.h>
#include <sys/resource.h>

#define BATCH 16
#define N_LANDMARKS 68

typedef struct {
  PalModel     *model;
  PalWorkspace *ws;
  PalAdam      *adam;
  float        *x, *x1, *priors, *grad;
  gint32       *labels;
  int           layer;
} Bench;

static guint64 rng_state;

static double
uniform (void)
{
  return pal_rand_uniform (&rng_state);
}

static double
normal (void)
{
  return pal_rand_normal (&rng_state);
}

/* pal_torch.py's prior: 68 random points in the central half of the grid,
 * a Gaussian of sigma 1 feature pixel at each, summed. */
static void
make_prior (float *p, int size)
{
  double lo = size / 4.0, hi = 3.0 * size / 4.0;
  double py[N_LANDMARKS], px[N_LANDMARKS];

  for (int k = 0; k < N_LANDMARKS; k++)
    {
      py[k] = lo + (hi - lo) * uniform ();
      px[k] = lo + (hi - lo) * uniform ();
    }
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        double acc = 0.0;
        for (int k = 0; k < N_LANDMARKS; k++)
          acc += exp (-((y - py[k]) * (y - py[k]) + (x - px[k]) * (x - px[k])) / 2.0);
        p[y * size + x] = (float) acc;
      }
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *t, int n)
{
  qsort (t, n, sizeof (double), (int (*) (const void *, const void *)) cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static gboolean
run_step (Bench *b, const char *mode, GError **error)
{
  PalLosses l;

  if (g_str_equal (mode, "attr"))
    {
      g_autoptr (PalAttrMaps) m = pal_workspace_attribute (b->ws, b->x1, 1, b->layer,
                                                           PAL_TARGET_SUM, 0, error);
      return m != NULL;
    }
  if (!pal_workspace_grads (b->ws, b->x, b->labels, b->priors, 12, 12, BATCH, b->grad, &l, error))
    return FALSE;
  pal_adam_step (b->adam, b->grad);
  return TRUE;
}

static gboolean
setup_mode (Bench *b, const char *mode, GError **error)
{
  PalLossConfig cfg = { .layer = b->layer, .channels = PAL_CHANNELS_FIRST, .c1 = 128,
                        .lambda = 1.f };

  /* attribution runs as the viewer does: weights fixed, transforms kept */
  if (!pal_workspace_set_weights_fixed (b->ws, g_str_equal (mode, "attr"), error))
    return FALSE;
  if (g_str_equal (mode, "ce") || g_str_equal (mode, "attr"))
    return pal_workspace_set_pal (b->ws, NULL, error);
  if (g_str_equal (mode, "pal"))
    cfg.attribution = PAL_ATTR_GRAD_INPUT;
  else if (g_str_equal (mode, "pal-grad"))
    cfg.attribution = PAL_ATTR_GRAD;
  else
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "unknown mode '%s' (ce, pal, pal-grad, attr)", mode);
      return FALSE;
    }
  return pal_workspace_set_pal (b->ws, &cfg, error);
}

/* FLOPs of one step of @mode: forward, then input and weight gradients of
 * every weighted node (no input gradient where nothing before needs one),
 * and for PAL the tail's first backward, JVP and PAL weight gradient. */
static double
step_flops (PalGraph *g, const char *mode, int layer)
{
  double fwd = 0.0, first = 0.0, tail = 0.0;
  int n = pal_graph_get_n_nodes (g);

  for (int i = 0; i < n; i++)
    {
      double f = pal_graph_node_flops (g, i);
      fwd += f;
      if (i > layer)
        tail += f;
      if (f > 0.0 && first == 0.0)
        first = f;
    }
  if (g_str_equal (mode, "attr"))
    return fwd + tail;
  fwd *= BATCH;
  tail *= BATCH;
  first *= BATCH;
  return 3.0 * fwd - first + (g_str_equal (mode, "ce") ? 0.0 : 3.0 * tail);
}

int
pal_cmd_bench (int argc, char **argv)
{
  g_autofree char *threads_s = NULL, *modes_s = NULL;
  int steps = 10, warmup = 3;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_STRING, &threads_s, "Thread counts to run, e.g. 1,2 (default 1,2)", "LIST" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &modes_s, "Modes: ce,pal,pal-grad,attr (default all)", "LIST" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, "Timed steps per mode (default 10)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Untimed steps first (default 3)", "W" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed (default 0)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time training and attribution steps on bench-vgg");
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) thread_list = NULL, mode_list = NULL;
  g_autoptr (GString) results = g_string_new (NULL);
  Bench b = { 0 };
  PalGraph *g;
  int c, h, w;
  struct rusage ru;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Batch 16 for ce (cross-entropy step), pal (CE + PAL, Grad*Input, mean of the\n"
    "first 128 channels at conv7) and pal-grad (the same with Grad), each with the\n"
    "Adam update; attr is the Grad*Input maps of one image.  Prints the median,\n"
    "min and max seconds per step, the FLOP rate, and RESULT lines in the form of\n"
    "pal_torch.py.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal bench: %s\n", error->message);
      return 2;
    }
  if (steps < 1 || warmup < 0)
    {
      g_printerr ("pal bench: --steps must be at least 1\n");
      return 2;
    }
  thread_list = g_strsplit (threads_s ? threads_s : "1,2", ",", -1);
  mode_list = g_strsplit (modes_s ? modes_s : "ce,pal,pal-grad,attr", ",", -1);

  b.model = pal_model_new ("bench-vgg", &error);
  g_assert (b.model);
  pal_model_init (b.model, (guint64) seed);
  g = pal_model_get_graph (b.model);
  b.layer = pal_graph_find (g, "conv7");
  pal_graph_input_shape (g, &c, &h, &w);

  rng_state = (guint64) seed + 1;
  b.x = g_new (float, (gsize) BATCH * c * h * w);
  b.x1 = g_new (float, (gsize) c * h * w);
  b.labels = g_new (gint32, BATCH);
  b.priors = g_new (float, BATCH * 144);
  b.grad = g_new (float, pal_graph_get_n_floats (g));
  for (gsize i = 0; i < (gsize) BATCH * c * h * w; i++)
    b.x[i] = (float) normal ();
  for (gsize i = 0; i < (gsize) c * h * w; i++)
    b.x1[i] = (float) normal ();
  for (int i = 0; i < BATCH; i++)
    b.labels[i] = (gint32) (uniform () * 7) % 7;
  for (int i = 0; i < BATCH; i++)
    make_prior (b.priors + i * 144, 12);

  g_print ("pal bench: bench-vgg, batch %d, %d steps after %d warm-up\n", BATCH, steps, warmup);
  for (char **t = thread_list; *t; t++)
    {
      int nt = atoi (*t);

      if (nt < 1)
        {
          g_printerr ("pal bench: bad thread count '%s'\n", *t);
          return 2;
        }
      pal_set_threads (nt);
      b.ws = pal_workspace_new (b.model, BATCH, &error);
      if (!b.ws)
        {
          g_printerr ("pal bench: %s\n", error->message);
          return 1;
        }
      for (char **m = mode_list; *m; m++)
        {
          g_autofree double *ts = g_new (double, steps);
          PalAdamConfig ac = pal_adam_config_default (5e-5f);
          double med, fl;

          b.adam = pal_adam_new (b.model, &ac);
          if (!setup_mode (&b, *m, &error))
            {
              g_printerr ("pal bench: %s\n", error->message);
              return 2;
            }
          for (int i = 0; i < warmup + steps; i++)
            {
              gint64 t0 = g_get_monotonic_time ();
              if (!run_step (&b, *m, &error))
                {
                  g_printerr ("pal bench: %s\n", error->message);
                  return 1;
                }
              if (i >= warmup)
                ts[i - warmup] = (g_get_monotonic_time () - t0) / 1e6;
            }
          med = median (ts, steps);
          fl = step_flops (g, *m, b.layer);
          g_print ("  %-8s threads=%d  median %.4f s  min %.4f  max %.4f  %.1f GFLOP/s\n",
                   *m, nt, med, ts[0], ts[steps - 1], fl / med / 1e9);
          g_string_append_printf (results,
                                  "RESULT mode=%-8s threads=%d median_s=%.4f min_s=%.4f max_s=%.4f n=%d\n",
                                  *m, nt, med, ts[0], ts[steps - 1], steps);
          g_clear_pointer (&b.adam, pal_adam_free);
        }
      g_print ("  workspace %.1f MB\n", pal_workspace_get_bytes (b.ws) / 1e6);
      g_clear_pointer (&b.ws, pal_workspace_free);
    }
  getrusage (RUSAGE_SELF, &ru);
  g_print ("peak RSS %.1f MB\n", ru.ru_maxrss / 1024.0);
  g_print ("%s", results->str);

  pal_model_unref (b.model);
  g_free (b.x);
  g_free (b.x1);
  g_free (b.labels);
  g_free (b.priors);
  g_free (b.grad);
  return 0;
}
