/* pal.c: the pal command line tool
 *
 * Every command prints one line "pal COMMAND: message" on error and exits
 * with status 1 (2 for bad usage).
 */
#include "pal-cli.h"
#include "pal-faceapi.h"
#include "pal-rand.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail (const char *cmd, GError *error)
{
  g_printerr ("pal %s: %s\n", cmd, error ? error->message : "failed");
  return 1;
}

static gboolean
parse_options (GOptionContext *ctx, int *argc, char ***argv, const char *cmd)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("pal %s: %s (see pal %s --help)\n", cmd, error->message, cmd);
      return FALSE;
    }
  return TRUE;
}

gboolean
pal_cli_parse_attribution (const char *s, PalAttribution *out, GError **error)
{
  if (g_strcmp0 (s, "grad") == 0)
    *out = PAL_ATTR_GRAD;
  else if (g_strcmp0 (s, "grad-input") == 0 || g_strcmp0 (s, "gradxinput") == 0)
    *out = PAL_ATTR_GRAD_INPUT;
  else
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "unknown attribution '%s' (grad or grad-input)", s ? s : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
pal_cli_parse_channels (const char *s, PalChannels *ch, int *c1, GError **error)
{
  *c1 = 0;
  if (g_strcmp0 (s, "all") == 0)
    *ch = PAL_CHANNELS_ALL;
  else if (g_strcmp0 (s, "mean") == 0)
    *ch = PAL_CHANNELS_MEAN;
  else if (g_strcmp0 (s, "first") == 0)
    *ch = PAL_CHANNELS_FIRST;
  else if (s && g_str_has_prefix (s, "first:"))
    {
      char *end;
      gint64 v = g_ascii_strtoll (s + 6, &end, 10);
      if (end == s + 6 || *end || v < 1 || v > G_MAXINT)
        goto bad;
      *ch = PAL_CHANNELS_FIRST;
      *c1 = (int) v;
    }
  else
    goto bad;
  return TRUE;
bad:
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
               "unknown channel strategy '%s' (all, mean, first or first:C1)", s ? s : "");
  return FALSE;
}

/* --- pal init ------------------------------------------------------------- */

static int
cmd_init (int argc, char **argv)
{
  g_autofree char *arch = NULL, *out = NULL, *arch_file = NULL;
  gint64 seed = 0;
  int input_size = 0;
  GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Built-in architecture (bench-vgg, vgg16, resnet18), or faceapi", "NAME" },
    { "arch-file", 0, 0, G_OPTION_ARG_FILENAME, &arch_file, "Architecture in the text form", "FILE" },
    { "input-size", 0, 0, G_OPTION_ARG_INT, &input_size, "Input size for vgg16/resnet18 (default 224)", "PX" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the initial weights (default 0)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Model file to write", "MODEL" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- a freshly initialised model");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autofree char *spec = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Convolution and linear weights are drawn from He's normal initialisation\n"
    "(fan in, ReLU gain); biases are zero.  --arch faceapi writes face-api's trained\n"
    "expression network instead (from $PAL_FACEAPI_DIR or where tools/fetch-face-api\n"
    "puts it), as a model file like any other.  Examples:\n"
    "  pal init --arch bench-vgg --seed 1 --out model.safetensors\n"
    "  pal init --arch faceapi --out face-api-expression.safetensors\n");
  if (!parse_options (ctx, &argc, &argv, "init"))
    return 2;
  if (!out || (!arch && !arch_file))
    {
      g_printerr ("pal init: --out and one of --arch or --arch-file are required\n");
      return 2;
    }
  if (!arch_file && g_strcmp0 (arch, "faceapi") == 0)
    {
      /* trained weights, nothing to initialise */
      model = pal_faceapi_load_expression_model (NULL, &error);
      if (!model || !pal_model_save (model, out, &error))
        return fail ("init", error);
      g_print ("%s: %s, face-api's trained weights, %" G_GSIZE_FORMAT " parameters\n", out,
               pal_model_get_arch_name (model),
               pal_graph_get_n_floats (pal_model_get_graph (model)));
      return 0;
    }
  if (arch_file)
    {
      if (!g_file_get_contents (arch_file, &spec, NULL, &error))
        return fail ("init", error);
      if (!strchr (spec, '\n'))
        {
          char *t = g_strconcat (spec, "\n", NULL);
          g_free (spec);
          spec = t;
        }
    }
  else
    spec = input_size ? g_strdup_printf ("%s@%d", arch, input_size) : g_strdup (arch);

  model = pal_model_new (spec, &error);
  if (!model)
    return fail ("init", error);
  pal_model_init (model, (guint64) seed);
  {
    g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, seed);
    pal_model_set_meta (model, "init.seed", s);
  }
  if (!pal_model_save (model, out, &error))
    return fail ("init", error);
  g_print ("%s: %s, %" G_GSIZE_FORMAT " parameters\n", out, pal_model_get_arch_name (model),
           pal_graph_get_n_floats (pal_model_get_graph (model)));
  return 0;
}

/* --- pal info ------------------------------------------------------------- */

static int
cmd_info (int argc, char **argv)
{
  g_autofree char *arch = NULL;
  GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Architecture, for a file of plain weights", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL - architecture, parameters and metadata");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (GList) keys = NULL;
  PalGraph *g;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "MODEL faceapi is face-api's trained expression network (see pal init --arch\n"
    "faceapi to write it as a file).\n");
  if (!parse_options (ctx, &argc, &argv, "info"))
    return 2;
  if (argc != 2)
    {
      g_printerr ("pal info: give one model file\n");
      return 2;
    }
  model = pal_faceapi_open_model (argv[1], arch, &error);
  if (!model)
    return fail ("info", error);
  g = pal_model_get_graph (model);
  g_print ("model:        %s\narchitecture: %s\nparameters:   %" G_GSIZE_FORMAT "\nclasses:     ",
           argv[1], pal_model_get_arch_name (model), pal_graph_get_n_floats (g));
  for (int k = 0; k < pal_model_get_n_classes (model); k++)
    g_print (" %s", pal_model_get_class_name (model, k));
  g_print ("\n\nnodes:\n");
  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    {
      int c, h, w;
      pal_graph_node_shape (g, i, &c, &h, &w);
      g_print ("  %-24s %-10s %4d x %3d x %3d\n", pal_graph_node_name (g, i),
               pal_op_name (pal_graph_node_op (g, i)), c, h, w);
    }
  keys = g_hash_table_get_keys (pal_model_get_meta_table (model));
  keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
  if (keys)
    g_print ("\nmetadata:\n");
  for (GList *l = keys; l; l = l->next)
    g_print ("  %s = %s\n", (char *) l->data, pal_model_get_meta (model, l->data));
  return 0;
}

/* --- pal grads ------------------------------------------------------------ */

static int
cmd_grads (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *batch_path = NULL, *layer = NULL, *out = NULL;
  g_autofree char *attribution = NULL, *channels = NULL, *arch = NULL;
  double lambda = 1.0;
  int threads = 0;
  gboolean no_pal = FALSE, bn_frozen = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file", "MODEL" },
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Architecture, for a file of plain weights", "NAME" },
    { "batch", 'b', 0, G_OPTION_ARG_FILENAME, &batch_path, "Batch: images [N,C,H,W] F32, labels [N] I64/I32, priors [N,h,w] F32", "BATCH" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer, "PAL layer (a node name)", "NODE" },
    { "attribution", 0, 0, G_OPTION_ARG_STRING, &attribution, "grad or grad-input (default grad-input)", "A" },
    { "channels", 0, 0, G_OPTION_ARG_STRING, &channels, "all, mean or first:C1 (default first, C1 = C/2)", "S" },
    { "lambda", 0, 0, G_OPTION_ARG_DOUBLE, &lambda, "Weight of PAL (default 1)", "L" },
    { "no-pal", 0, 0, G_OPTION_ARG_NONE, &no_pal, "Cross-entropy only", NULL },
    { "bn-frozen", 0, 0, G_OPTION_ARG_NONE, &bn_frozen, "Batch norm in inference form", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "T" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output: loss.ce, loss.pal, grad.<param>", "OUT" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- loss and exact gradients of one batch");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalSafetensors) batch = NULL;
  g_autoptr (PalStWriter) w = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree float *x = NULL, *priors = NULL, *grad = NULL;
  g_autofree gint32 *labels = NULL;
  PalWorkspace *ws = NULL;
  const PalStTensor *ti, *tp;
  PalLossConfig cfg = { .attribution = PAL_ATTR_GRAD_INPUT, .channels = PAL_CHANNELS_FIRST };
  PalLosses losses;
  PalGraph *g;
  int c, h, wd, n, ph = 0, pw = 0;
  float ce, pal;
  int rc = 1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Writes a safetensors file with loss.ce and loss.pal (scalars) and grad.<name>\n"
    "for every trainable parameter: the exact gradient of CE + lambda * PAL.\n"
    "Dropout runs in training form with its seeded masks.\n");
  if (!parse_options (ctx, &argc, &argv, "grads"))
    return 2;
  if (!model_path || !batch_path || !out || (!layer && !no_pal))
    {
      g_printerr ("pal grads: --model, --batch, --layer and --out are required\n");
      return 2;
    }
  pal_set_threads (threads);
  cfg.lambda = (float) lambda;
  if ((attribution && !pal_cli_parse_attribution (attribution, &cfg.attribution, &error))
      || (channels && !pal_cli_parse_channels (channels, &cfg.channels, &cfg.c1, &error)))
    return fail ("grads", error);

  model = pal_model_load (model_path, arch, &error);
  if (!model)
    return fail ("grads", error);
  g = pal_model_get_graph (model);
  pal_graph_input_shape (g, &c, &h, &wd);

  batch = pal_safetensors_open (batch_path, &error);
  if (!batch)
    return fail ("grads", error);
  ti = pal_safetensors_lookup (batch, "images");
  if (!ti || ti->ndim != 4 || ti->shape[0] < 1 || ti->shape[0] > 4096)
    {
      g_printerr ("pal grads: %s: needs a tensor 'images' [N, %d, %d, %d] with 1 <= N <= 4096\n",
                  batch_path, c, h, wd);
      return 1;
    }
  n = (int) ti->shape[0];
  x = g_new (float, (gsize) n * c * h * wd);
  labels = g_new (gint32, n);
  if (!pal_safetensors_read_f32 (batch, "images", 4, (gint64[]) { n, c, h, wd }, x, &error)
      || !pal_safetensors_read_labels (batch, "labels", n, labels, &error))
    return fail ("grads", error);
  if (!no_pal)
    {
      tp = pal_safetensors_lookup (batch, "priors");
      if (!tp || tp->ndim != 3 || tp->shape[0] != n || tp->shape[1] < 1 || tp->shape[2] < 1
          || tp->shape[1] > 4096 || tp->shape[2] > 4096)
        {
          g_printerr ("pal grads: %s: needs a tensor 'priors' [%d, h, w]\n", batch_path, n);
          return 1;
        }
      ph = (int) tp->shape[1];
      pw = (int) tp->shape[2];
      priors = g_new (float, (gsize) n * ph * pw);
      if (!pal_safetensors_read_f32 (batch, "priors", 3, (gint64[]) { n, ph, pw }, priors, &error))
        return fail ("grads", error);
      cfg.layer = pal_graph_find (g, layer);
      if (cfg.layer < 0)
        {
          g_printerr ("pal grads: the model has no node '%s' (see pal info)\n", layer);
          return 1;
        }
    }

  ws = pal_workspace_new (model, n, &error);
  if (!ws)
    return fail ("grads", error);
  pal_workspace_set_bn_frozen (ws, bn_frozen);
  grad = g_new (float, MAX (pal_graph_get_n_floats (g), 1));
  if ((!no_pal && !pal_workspace_set_pal (ws, &cfg, &error))
      || !pal_workspace_grads (ws, x, labels, priors, ph, pw, n, grad, &losses, &error))
    {
      rc = fail ("grads", error);
      goto out;
    }

  w = pal_st_writer_new ();
  ce = (float) losses.ce;
  pal = (float) losses.pal;
  pal_st_writer_add (w, "loss.ce", "F32", 0, NULL, &ce);
  pal_st_writer_add (w, "loss.pal", "F32", 0, NULL, &pal);
  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      gint64 shape[4];
      int nd = pal_graph_param_shape (g, p, shape);
      char *name;

      if (!pal_graph_param_trainable (g, p))
        continue;
      name = g_strconcat ("grad.", pal_graph_param_name (g, p), NULL);
      g_ptr_array_add (names, name);
      pal_st_writer_add (w, name, "F32", nd, shape, grad + pal_graph_param_offset (g, p));
    }
  if (!pal_st_writer_save (w, out, &error))
    {
      rc = fail ("grads", error);
      goto out;
    }
  g_print ("loss.ce %.6f  loss.pal %.6f  loss %.6f\n", losses.ce, losses.pal, losses.loss);
  rc = 0;
out:
  pal_workspace_free (ws);
  return rc;
}

/* --- pal random-batch ------------------------------------------------------ */

static int
cmd_random_batch (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *arch = NULL, *layer = NULL, *out = NULL;
  int n = 4;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model whose input and layer sizes to use", "MODEL" },
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Or a built-in architecture", "NAME" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer, "Priors at this node's resolution", "NODE" },
    { "n", 'n', 0, G_OPTION_ARG_INT, &n, "Samples (default 4)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed (default 0)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Batch file to write", "BATCH" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- a random batch for pal grads");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalStWriter) w = NULL;
  guint64 rng = (guint64) seed;
  g_autofree float *x = NULL, *priors = NULL;
  g_autofree gint64 *labels = NULL;
  PalGraph *g;
  int c, h, wd, node, pc, ph, pw, k;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Writes images [N,C,H,W] (standard normal), labels [N] (I64, uniform over the\n"
    "classes) and priors [N,h,w]: Gaussian blobs (sigma 1 pixel of the layer) at 68\n"
    "random points of the central half, in the form pal grads reads.\n");
  if (!parse_options (ctx, &argc, &argv, "random-batch"))
    return 2;
  if (!out || !layer || (!model_path && !arch) || n < 1 || n > 4096)
    {
      g_printerr ("pal random-batch: --out, --layer and --model or --arch are required (1 <= n <= 4096)\n");
      return 2;
    }
  model = model_path ? pal_model_load (model_path, arch, &error) : pal_model_new (arch, &error);
  if (!model)
    return fail ("random-batch", error);
  g = pal_model_get_graph (model);
  node = pal_graph_find (g, layer);
  if (node < 0)
    {
      g_printerr ("pal random-batch: the model has no node '%s'\n", layer);
      return 1;
    }
  pal_graph_input_shape (g, &c, &h, &wd);
  pal_graph_node_shape (g, node, &pc, &ph, &pw);
  k = pal_model_get_n_classes (model);
  x = g_new (float, (gsize) n * c * h * wd);
  for (gsize i = 0; i < (gsize) n * c * h * wd; i++)
    x[i] = (float) pal_rand_normal (&rng);
  labels = g_new (gint64, n);
  for (int i = 0; i < n; i++)
    labels[i] = (gint64) (pal_rand_uniform (&rng) * k) % k;
  priors = g_new0 (float, (gsize) n * ph * pw);
  for (int i = 0; i < n; i++)
    for (int p = 0; p < 68; p++)
      {
        double py = ph / 4.0 + ph / 2.0 * pal_rand_uniform (&rng);
        double px = pw / 4.0 + pw / 2.0 * pal_rand_uniform (&rng);
        for (int y = 0; y < ph; y++)
          for (int xx = 0; xx < pw; xx++)
            priors[((gsize) i * ph + y) * pw + xx] +=
              (float) exp (-((y - py) * (y - py) + (xx - px) * (xx - px)) / 2.0);
      }
  w = pal_st_writer_new ();
  pal_st_writer_add (w, "images", "F32", 4, (gint64[]) { n, c, h, wd }, x);
  pal_st_writer_add (w, "labels", "I64", 1, (gint64[]) { n }, labels);
  pal_st_writer_add (w, "priors", "F32", 3, (gint64[]) { n, ph, pw }, priors);
  if (!pal_st_writer_save (w, out, &error))
    return fail ("random-batch", error);
  return 0;
}

/* --- dispatch ------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*fn) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "init", cmd_init, "write a freshly initialised model" },
  { "info", cmd_info, "show a model's architecture, parameters and metadata" },
  { "grads", cmd_grads, "loss and exact CE + PAL gradients of one batch" },
  { "random-batch", cmd_random_batch, "write a random batch for pal grads" },
  { "bench", pal_cmd_bench, "time training and attribution steps" },
  { "synth", pal_cmd_synth, "draw a synthetic face dataset (RAF-DB layout)" },
  { "data", pal_cmd_data, "check a dataset: counts, broken rows, loader speed" },
  { "prior", pal_cmd_prior, "draw the landmark prior of an image" },
  { "train", pal_cmd_train, "train a model, with or without PAL" },
  { "eval", pal_cmd_eval, "accuracy and confusion matrix of a model on a dataset" },
  { "attribute", pal_cmd_attribute, "Grad, Grad*Input and Grad-CAM maps of an image" },
  { "gradcam-means", pal_cmd_gradcam_means, "per-emotion mean Grad-CAM maps over a dataset" },
  { "faces", pal_cmd_faces, "faces, 68 landmarks and expressions in photos" },
  { "landmarks", pal_cmd_landmarks, "write the missing .pts files of a dataset" },
};

static void
usage (FILE *f)
{
  fprintf (f, "Usage: pal COMMAND [OPTION...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (f, "  %-14s %s\n", commands[i].name, commands[i].help);
  fprintf (f, "\nRun 'pal COMMAND --help' for the options of one.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("pal 0.1.0\n");
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        g_autofree char *prg = g_strconcat ("pal ", argv[1], NULL);
        g_set_prgname (prg);
        return commands[i].fn (argc - 1, argv + 1);
      }
  g_printerr ("pal: unknown command '%s' (see pal --help)\n", argv[1]);
  return 2;
}
