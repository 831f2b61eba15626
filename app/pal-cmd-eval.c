/* pal-cmd-eval.c: `pal eval`, accuracy and confusion matrix of a model on a dataset
 *
 * The evaluation (pal_evaluate_full(), pal-metrics.h) runs on a worker
 * thread while the main thread waits in a main loop for SIGINT / SIGTERM:
 * the first cancels (the batch under way finishes), a second one exits at
 * once.  Progress is one line on stderr, rewritten with \r, only when stderr
 * is a terminal.
 */
#include "pal-cli.h"
#include "pal-dataset.h"
#include "pal-faceapi.h"
#include "pal-image.h"
#include "pal-metrics.h"
#include "pal-render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Failed samples whose reason is printed; the rest are only counted. */
#define MAX_FAIL_MESSAGES 5

/* pal train draws its validation split with the seed (run.seed) XOR this
 * stream; it must equal VAL_STREAM in core/pal-trainer.c. */
#define TRAIN_VAL_STREAM 0x510e527fade682d1ull

/* "Not given" for --seed. */
#define SEED_UNSET G_MININT64

typedef struct {
  /* in */
  PalModel     *model;
  PalDataset   *ds;
  PalSplit      split;
  int           batch;
  GCancellable *cancellable;
  gboolean      tty;
  gint64        t0;
  int           agree_node;        /* -1: no agreement pass */
  int           agree_c1;
  float         agree_sigma;
  /* out */
  PalConfusion *confusion;
  PalAgreement  agreement;
  gint64        n_failed;
  GError       *error;
  /* bookkeeping */
  int           n_fail_messages;   /* atomic: loader threads report failures */
} EvalJob;

static void
on_progress (gint64 done, gint64 total, gpointer user_data)
{
  EvalJob *job = user_data;
  double secs = (g_get_monotonic_time () - job->t0) / 1e6;

  if (!job->tty)
    return;
  fprintf (stderr, "\revaluating: %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT
           " images (%.0f%%), %.0f images/s\033[K",
           done, total, 100.0 * done / MAX (total, 1), done / MAX (secs, 1e-9));
  fflush (stderr);
}

static void
on_fail (int index, const GError *error, gpointer user_data)
{
  EvalJob *job = user_data;

  if (g_atomic_int_add (&job->n_fail_messages, 1) < MAX_FAIL_MESSAGES)
    g_printerr ("%spal eval: skipped sample %d: %s\n",
                job->tty ? "\r\033[K" : "", index, error->message);
}

static gpointer
eval_thread (gpointer data)
{
  EvalJob *job = data;

  job->confusion = pal_evaluate_full (job->model, job->ds, job->split, job->batch,
                                      job->cancellable, on_progress, job, on_fail, job,
                                      &job->n_failed, &job->error);
  if (job->confusion && job->agree_node >= 0)
    {
      job->t0 = g_get_monotonic_time ();
      if (!pal_evaluate_agreement (job->model, job->ds, job->split, job->agree_node,
                                   job->agree_c1, job->agree_sigma, job->batch,
                                   job->cancellable, on_progress, job, &job->agreement,
                                   &job->error))
        g_clear_pointer (&job->confusion, pal_confusion_free);
    }
  return NULL;
}

/* The training settings a model carries as "train.KEY" metadata (pal train
 * writes every setting there): the validation share, the seed and contempt,
 * each left as it is when absent or malformed. */
static void
train_settings (PalModel *model, double *val_fraction, gint64 *seed, gboolean *contempt)
{
  const char *f = pal_model_get_meta (model, "train.val-fraction");
  const char *s = pal_model_get_meta (model, "train.seed");
  char *end;

  if (f && *f)
    {
      double v = g_ascii_strtod (f, &end);
      if (!*end && v >= 0.0 && v < 1.0)
        *val_fraction = v;
    }
  if (s && *s)
    {
      gint64 v = g_ascii_strtoll (s, &end, 10);
      if (!*end)
        *seed = v;
    }
  if (g_strcmp0 (pal_model_get_meta (model, "train.contempt"), "true") == 0)
    *contempt = TRUE;
}

/* The confusion matrix as a picture: a table of "count (row %)" cells
 * shaded by the row-normalised value, row headers with the class's sample
 * count, the accuracies in the title. */
static gboolean
write_png (const char *path, const PalConfusion *c, const char *const *names,
           const char *title, GError **error)
{
  int n = c->n_classes, rows = n + 1, cols = n + 1;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  g_autofree float *shade = g_new0 (float, (gsize) n * n);
  g_autoptr (PalImage) image = NULL;

  g_ptr_array_add (cells, g_strdup ("true \\ predicted"));
  for (int j = 0; j < n; j++)
    g_ptr_array_add (cells, g_strdup (names[j]));
  for (int k = 0; k < n; k++)
    {
      gint64 row = pal_confusion_class_total (c, k);

      g_ptr_array_add (cells, g_strdup_printf ("%s (%" G_GINT64_FORMAT ")", names[k], row));
      for (int j = 0; j < n; j++)
        {
          gint64 v = c->counts[(gsize) k * n + j];
          double f = row > 0 ? (double) v / (double) row : 0.0;

          /* a class without samples stays unshaded (white) */
          shade[(gsize) k * n + j] = row > 0 ? (float) f : NAN;
          if (row > 0)
            g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT " (%.0f%%)", v, 100.0 * f));
          else
            g_ptr_array_add (cells, g_strdup ("-"));
        }
    }
  g_assert (cells->len == (guint) (rows * cols));
  image = pal_render_table ((const char *const *) cells->pdata, rows, cols, shade,
                            PAL_COLORMAP_VIRIDIS, title);
  pal_render_release_fonts ();   /* the text is drawn: free the font caches */
  if (!image)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "%s: the table could not be drawn", path);
      return FALSE;
    }
  return pal_image_save_png (image, path, error);
}

int
pal_cmd_eval (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *data = NULL, *format = NULL, *split_s = NULL;
  g_autofree char *png = NULL, *arch = NULL, *images = NULL, *agreement = NULL;
  gboolean contempt = FALSE;
  int agree_c1 = 0;
  double agree_sigma = 3.0;
  double val_fraction = -1.0;
  gint64 seed = SEED_UNSET;
  int batch = 32, threads = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file, or faceapi for face-api's expression network", "MODEL" },
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Architecture, for a file of plain weights", "NAME" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Dataset folder", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "auto (default), rafdb, affectnet, fer2013, ferplus or folder", "F" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "Image folder (RAF-DB, AffectNet)", "DIR" },
    { "contempt", 0, 0, G_OPTION_ARG_NONE, &contempt, "Keep contempt as an 8th class (for an 8-class model)", NULL },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split_s, "test (default), val, train or all", "SPLIT" },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, "Validation share drawn from train (default: the model's training setting, else 0.1)", "F" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the training run whose split to draw (default: the model's, else 0)", "S" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (default 32)", "B" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "T" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Also draw the confusion matrix into this PNG", "OUT.png" },
    { "agreement", 0, 0, G_OPTION_ARG_STRING, &agreement, "Also average, over the images with landmarks, the correlation of the Grad and Grad*Input maps at this node with the prior and their mass inside the landmark regions", "NODE" },
    { "c1", 0, 0, G_OPTION_ARG_INT, &agree_c1, "With --agreement: the constrained half is the first C1 channels (default C/2)", "C1" },
    { "sigma", 0, 0, G_OPTION_ARG_DOUBLE, &agree_sigma, "With --agreement: prior sigma in pixels of a 224 input (default 3)", "PX" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- accuracy and confusion matrix of a model on a dataset");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalDataset) ds = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autofree char *table = NULL, *title = NULL;
  PalDatasetOptions dopt = { 0 };
  PalDatasetFormat fmt = PAL_DATASET_AUTO;
  PalSplit split = PAL_SPLIT_TEST;
  const char *const *names;
  EvalJob job = { 0 };
  PalConfusion *c;
  int k_model, k_data, n_split;
  gboolean drew_val = FALSE;
  gint64 total, right = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Runs the model (inference form, no augmentation) over one split and prints\n"
    "the accuracy, each class's accuracy (recall), their mean over the classes\n"
    "present, and the confusion matrix as counts and row percentages.  Images\n"
    "that fail to load are skipped and counted.  The model must have as many\n"
    "classes as the dataset (7, or 8 with --contempt).\n"
    "A dataset without its own validation split (RAF-DB, AffectNet) gets one\n"
    "drawn from train for --split val or train, as pal train draws it from its\n"
    "val-fraction and seed; a model written by pal train carries both (and its\n"
    "contempt setting), so they need not be given.  Ctrl-C stops after the\n"
    "current batch.\n"
    "Examples:\n"
    "  pal eval --model run/best.safetensors --data ~/data/RAF-DB\n"
    "  pal eval -m model.safetensors -d synth --split val --seed 1 --png confusion.png\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal eval: %s (see pal eval --help)\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("pal eval: unexpected argument '%s' (see pal eval --help)\n", argv[1]);
      return 2;
    }
  if (!model_path || !data)
    {
      g_printerr ("pal eval: --model and --data are required (see pal eval --help)\n");
      return 2;
    }
  if (split_s && !pal_cli_parse_split (split_s, &split))
    {
      g_printerr ("pal eval: --split must be test, val, train or all, not '%s'\n", split_s);
      return 2;
    }
  if (batch < 1 || batch > 4096)
    {
      g_printerr ("pal eval: --batch must be in 1 .. 4096, not %d\n", batch);
      return 2;
    }
  if (threads < 0)
    {
      g_printerr ("pal eval: --threads must be 0 (all cores) or more, not %d\n", threads);
      return 2;
    }
  if (val_fraction != -1.0 && !(val_fraction >= 0.0 && val_fraction < 1.0))
    {
      g_printerr ("pal eval: --val-fraction must be in [0, 1), not %g\n", val_fraction);
      return 2;
    }
  if (format && !pal_dataset_format_from_string (format, &fmt, &error))
    {
      g_printerr ("pal eval: %s\n", error->message);
      return 2;
    }
  pal_set_threads (threads);

  model = pal_faceapi_open_model (model_path, arch, &error);
  if (!model)
    {
      g_printerr ("pal eval: %s\n", error->message);
      return 1;
    }
  {
    /* what the command line leaves out comes from the model's training run */
    double run_fraction = -1.0;
    gint64 run_seed = SEED_UNSET;
    gboolean run_contempt = FALSE;

    train_settings (model, &run_fraction, &run_seed, &run_contempt);
    if (val_fraction < 0.0)
      val_fraction = run_fraction;
    if (seed == SEED_UNSET)
      seed = run_seed;
    contempt = contempt || run_contempt;
  }
  dopt.include_contempt = contempt;
  dopt.image_dir = images;
  ds = pal_dataset_open (data, fmt, &dopt, &error);
  if (!ds)
    {
      g_printerr ("pal eval: %s\n", error->message);
      return 1;
    }
  names = pal_dataset_class_names (ds, &k_data);
  k_model = pal_model_get_n_classes (model);
  if (k_model != k_data)
    {
      g_printerr ("pal eval: the model %s has %d classes but the dataset %s has %d%s\n",
                  model_path, k_model, data, k_data,
                  k_model == 8 && k_data == 7 && !contempt
                    ? " (--contempt keeps contempt as an 8th class)" : "");
      return 1;
    }
  for (int k = 0; k < k_model; k++)
    if (g_strcmp0 (pal_model_get_class_name (model, k), names[k]) != 0)
      g_printerr ("pal eval: note: the model's class %d is '%s', the dataset's '%s'\n",
                  k, pal_model_get_class_name (model, k), names[k]);

  /* the validation split, drawn as pal train draws it (only train and val
   * depend on it) */
  if (seed == SEED_UNSET)
    seed = 0;
  if (val_fraction < 0.0)
    val_fraction = PAL_DATASET_DEFAULT_VAL_FRACTION;
  if (!pal_dataset_has_own_validation (ds) && val_fraction > 0.0
      && (split == PAL_SPLIT_VAL || split == PAL_SPLIT_TRAIN))
    {
      if (!pal_dataset_make_validation (ds, val_fraction, (guint64) seed ^ TRAIN_VAL_STREAM,
                                        &error))
        {
          g_printerr ("pal eval: %s\n", error->message);
          return 1;
        }
      drew_val = TRUE;
    }
  n_split = pal_dataset_count (ds, split, -1);
  job.agree_node = -1;
  if (agreement)
    {
      PalGraph *g = pal_model_get_graph (model);

      job.agree_node = pal_graph_find (g, agreement);
      if (job.agree_node < 0)
        {
          g_printerr ("pal eval: the model has no node '%s' (see pal info)\n", agreement);
          return 1;
        }
      if (!pal_graph_check_attribution_node (g, job.agree_node, FALSE, &error))
        {
          g_printerr ("pal eval: %s\n", error->message);
          return 1;
        }
      job.agree_c1 = agree_c1;
      job.agree_sigma = (float) agree_sigma;
    }

  /* evaluate on a worker thread; the main loop takes the signals */
  cancellable = g_cancellable_new ();
  job.model = model;
  job.ds = ds;
  job.split = split;
  job.batch = batch;
  job.cancellable = cancellable;
  job.tty = isatty (STDERR_FILENO);
  job.t0 = g_get_monotonic_time ();
  if (job.tty)
    on_progress (0, n_split, &job);
  pal_cli_run_cancellable ("eval", "after this batch", eval_thread, &job, cancellable);
  if (job.tty)
    fprintf (stderr, "\r\033[K");

  if (!job.confusion)
    {
      int rc = g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;

      g_printerr ("pal eval: %s\n", rc == 130 ? "cancelled" : job.error->message);
      g_clear_error (&job.error);
      return rc;
    }
  c = job.confusion;
  total = pal_confusion_total (c);
  for (int k = 0; k < k_model; k++)
    right += c->counts[(gsize) k * k_model + k];

  g_print ("model:    %s (%s, %d classes)\n", model_path, pal_model_get_arch_name (model),
           k_model);
  g_print ("dataset:  %s (%s), %s split: %d samples", data,
           pal_dataset_format_name (pal_dataset_get_format (ds)),
           pal_cli_split_name (split), n_split);
  if (job.n_failed > 0)
    g_print (", %" G_GINT64_FORMAT " failed to load", job.n_failed);
  if (drew_val)
    g_print ("\n          (validation: %g of train drawn with seed %" G_GINT64_FORMAT
             ", as pal train does)", val_fraction, seed);
  g_print ("\n\naccuracy:            %6.2f%%  (%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ")\n",
           100.0 * pal_confusion_accuracy (c), right, total);
  {
    int present = 0;
    for (int k = 0; k < k_model; k++)
      present += pal_confusion_class_total (c, k) > 0;
    g_print ("mean class accuracy: %6.2f%%  (over the %d classes with samples)\n",
             100.0 * pal_confusion_mean_class_accuracy (c), present);
  }
  g_print ("\nper-class accuracy:\n");
  for (int k = 0; k < k_model; k++)
    {
      gint64 row = pal_confusion_class_total (c, k);

      if (row > 0)
        g_print ("  %-10s %6.2f%%  (%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ")\n", names[k],
                 100.0 * pal_confusion_class_accuracy (c, k),
                 c->counts[(gsize) k * k_model + k], row);
      else
        g_print ("  %-10s      -   (no samples)\n", names[k]);
    }
  table = pal_confusion_to_string (c, names);
  g_print ("\n%s", table);

  if (job.agree_node >= 0)
    {
      const PalAgreement *a = &job.agreement;
      static const char *rows[2] = { "Grad", "Grad*Input" };

      g_print ("\nagreement with the landmark prior at '%s' (%" G_GINT64_FORMAT
               " images with landmarks, %" G_GINT64_FORMAT " without):\n"
               "              correlation r            mass inside the landmark regions\n"
               "              constrained  free   all   constrained  free   all\n",
               agreement, a->n, a->n_without);
      for (int r = 0; r < 2; r++)
        g_print ("  %-11s  %+6.3f   %+6.3f %+6.3f   %5.1f%%    %5.1f%% %5.1f%%\n", rows[r],
                 a->pearson[r][0], a->pearson[r][1], a->pearson[r][2],
                 100.0 * a->inside[r][0], 100.0 * a->inside[r][1], 100.0 * a->inside[r][2]);
    }

  if (png)
    {
      g_autofree char *model_base = g_path_get_basename (model_path);
      g_autofree char *data_base = g_path_get_basename (data);

      title = g_strdup_printf ("%s on %s (%s): accuracy %.1f%%, mean class %.1f%%",
                               model_base, data_base, pal_cli_split_name (split),
                               100.0 * pal_confusion_accuracy (c),
                               100.0 * pal_confusion_mean_class_accuracy (c));
      if (!write_png (png, c, names, title, &error))
        {
          g_printerr ("pal eval: %s\n", error->message);
          pal_confusion_free (c);
          return 1;
        }
      g_print ("\n%s: confusion matrix\n", png);
    }
  pal_confusion_free (c);
  return 0;
}
