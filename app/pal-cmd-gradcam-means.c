/* pal-cmd-gradcam-means.c: `pal gradcam-means`, the Emotional DAN analysis
 *
 * Mean Grad-CAM map of each emotion over one split, its most activated
 * landmarks and their overlap with the action-unit landmarks of the
 * emotion (Tautkute et al., Tables 4 and 5; pal-analysis.h has the method).
 * The analysis runs on a worker thread while the main thread waits in a
 * main loop for SIGINT / SIGTERM: the first cancels (before the next
 * batch), a second one exits at once.  Progress is one line on stderr,
 * rewritten with \r, only when stderr is a terminal.
 */
#include "pal-cli.h"
#include "pal-analysis.h"
#include "pal-dataset.h"
#include "pal-faceapi.h"
#include "pal-file.h"
#include "pal-image.h"
#include "pal-render.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  /* in */
  PalModel              *model;
  int                    layer;
  PalDataset            *ds;
  PalSplit               split;
  PalGradcamMeansOptions opt;
  GCancellable          *cancellable;
  gboolean               tty;
  gint64                 t0;
  /* out */
  PalGradcamMeans       *result;
  GError                *error;
} Job;

static void
on_progress (PalAnalysisStage stage, int done, int total, gpointer user_data)
{
  Job *job = user_data;
  double secs = (g_get_monotonic_time () - job->t0) / 1e6;

  if (!job->tty)
    return;
  fprintf (stderr, "\r%s: %d / %d images (%.0f%%), %.0f s\033[K",
           stage == PAL_ANALYSIS_STAGE_LANDMARKS ? "reading faces" : "grad-cam",
           done, total, 100.0 * done / MAX (total, 1), secs);
  fflush (stderr);
}

static gpointer
run_thread (gpointer data)
{
  Job *job = data;

  job->result = pal_gradcam_means_run (job->model, job->layer, job->ds, job->split,
                                       &job->opt, job->cancellable, on_progress, job,
                                       &job->error);
  return NULL;
}

static int
usage_error (const char *message)
{
  g_printerr ("pal gradcam-means: %s (see pal gradcam-means --help)\n", message);
  return 2;
}

static int
fail (const char *message)
{
  g_printerr ("pal gradcam-means: %s\n", message);
  return 1;
}

int
pal_cmd_gradcam_means (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *arch = NULL, *data = NULL, *format = NULL;
  g_autofree char *images = NULL, *split_s = NULL, *layer_s = NULL, *out = NULL, *csv = NULL;
  gboolean contempt = FALSE;
  double frontal = 0.0, val_fraction = -1.0;
  gint64 seed = 0;
  int batch = 32, threads = 0, workers = 2;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file, or faceapi for face-api's expression network", "MODEL" },
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "Architecture, for a file of plain weights", "NAME" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Dataset folder", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "auto (default), rafdb, affectnet, fer2013, ferplus or folder", "F" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "Image folder (RAF-DB, AffectNet)", "DIR" },
    { "contempt", 0, 0, G_OPTION_ARG_NONE, &contempt, "Keep contempt as an 8th class (for an 8-class model)", NULL },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split_s, "test (default), val, train or all", "SPLIT" },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, "Validation share drawn from train, as training draws it (default 0.1)", "F" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of that draw: the training run's (default 0)", "S" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer_s, "Grad-CAM layer (a node name; default: the model's PAL layer, else the one it suggests)", "NODE" },
    { "frontal", 0, 0, G_OPTION_ARG_DOUBLE, &frontal, "Only faces whose eye corners lie within EPS input pixels of their mean positions", "EPS" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (default 32)", "B" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "T" },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers, "Image-decoding threads (default 2)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Picture of the mean maps and the table", "PNG" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "The table as CSV", "TABLE.csv" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- per-emotion mean Grad-CAM maps and their landmarks (Emotional DAN)");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalDataset) ds = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (PalGradcamMeans) m = NULL;
  g_autofree char *table = NULL;
  PalDatasetOptions dopt = { 0 };
  PalDatasetFormat fmt = PAL_DATASET_AUTO;
  PalSplit split = PAL_SPLIT_TEST;
  const char *const *names;
  const char *layer_name;
  PalGraph *g;
  Job job = { 0 };
  int k_model, k_data, n_used = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "The analysis of Emotional DAN (Tautkute et al., Section 5.2): for each\n"
    "emotion, the mean of the Grad-CAM maps (of the true class, at --layer) of\n"
    "the split's faces with that label, in the input frame (the datasets are\n"
    "aligned crops; maps are resized to the input and averaged as they are).\n"
    "The mean map is read at the 68 landmarks of the class's mean face; the k\n"
    "most activated are compared with the k landmarks that the paper's Table 4\n"
    "relates to the emotion's action units: overlap = shared / k (Table 5).\n"
    "Neutral has no action units.  --frontal EPS keeps only faces whose eye\n"
    "corners (landmarks 36, 39, 42, 45) lie within EPS pixels (at the input\n"
    "size) of their mean positions over the split (the paper's Eq. 5).\n"
    "Faces without landmarks are left out.  Ctrl-C stops before the next batch.\n"
    "Examples:\n"
    "  pal gradcam-means -m run/best.safetensors -d ~/data/RAF-DB --layer conv4 \\\n"
    "      --frontal 3 --out means.png --csv means.csv\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc > 1)
    {
      g_autofree char *msg = g_strdup_printf ("unexpected argument '%s'", argv[1]);
      return usage_error (msg);
    }
  if (!model_path || !data)
    return usage_error ("--model and --data are required");
  if (split_s && !pal_cli_parse_split (split_s, &split))
    return usage_error ("--split must be test, val, train or all");
  if (batch < 1 || batch > 4096)
    return usage_error ("--batch must be in 1 .. 4096");
  if (threads < 0)
    return usage_error ("--threads must be 0 (all cores) or more");
  if (workers < 0 || workers > 256)
    return usage_error ("--workers must be in 0 .. 256");
  if (!(frontal >= 0.0) || !isfinite (frontal))
    return usage_error ("--frontal must be a positive number of pixels");
  if (val_fraction != -1.0 && !(val_fraction >= 0.0 && val_fraction < 1.0))
    return usage_error ("--val-fraction must be in [0, 1)");
  if (format && !pal_dataset_format_from_string (format, &fmt, &error))
    return usage_error (error->message);
  pal_set_threads (threads);

  model = pal_faceapi_open_model (model_path, arch, &error);
  if (!model)
    return fail (error->message);
  g = pal_model_get_graph (model);
  layer_name = layer_s ? layer_s : pal_model_get_meta (model, "pal.layer");
  if (!layer_name)   /* the layer the model suggests (face-api's: dense2) */
    layer_name = pal_model_get_meta (model, "inspect.layer");
  if (!layer_name)
    layer_name = pal_arch_default_layer (pal_model_get_arch_name (model));
  if (!layer_name)
    return usage_error ("--layer is required: the model names no PAL layer");
  job.layer = pal_graph_find (g, layer_name);
  if (job.layer < 0)
    {
      g_autofree char *msg = g_strdup_printf ("the model has no node '%s' (see pal info %s)",
                                              layer_name, model_path);
      return fail (msg);
    }
  if (!pal_graph_check_attribution_node (g, job.layer, FALSE, &error))
    return fail (error->message);

  dopt.include_contempt = contempt;
  dopt.image_dir = images;
  ds = pal_dataset_open (data, fmt, &dopt, &error);
  if (!ds)
    return fail (error->message);
  names = pal_dataset_class_names (ds, &k_data);
  k_model = pal_model_get_n_classes (model);
  if (k_model != k_data)
    {
      g_autofree char *msg =
        g_strdup_printf ("the model %s has %d classes but the dataset %s has %d%s", model_path,
                         k_model, data, k_data,
                         k_model == 8 && k_data == 7 && !contempt
                           ? " (--contempt keeps contempt as an 8th class)" : "");
      return fail (msg);
    }
  if (pal_dataset_has_own_validation (ds))
    {
      if (val_fraction >= 0.0)
        g_printerr ("pal gradcam-means: note: the dataset has its own validation split; "
                    "--val-fraction is not used\n");
    }
  else if (split == PAL_SPLIT_VAL || split == PAL_SPLIT_TRAIN)
    {
      double f = val_fraction >= 0.0 ? val_fraction : PAL_DATASET_DEFAULT_VAL_FRACTION;

      if (f > 0.0 && !pal_dataset_make_validation (ds, f, (guint64) seed, &error))
        return fail (error->message);
    }

  /* the analysis on a worker thread; the main loop takes the signals */
  cancellable = g_cancellable_new ();
  job.model = model;
  job.ds = ds;
  job.split = split;
  pal_gradcam_means_options_init (&job.opt);
  job.opt.batch_size = batch;
  job.opt.frontal_eps = frontal;
  job.opt.n_workers = workers;
  job.cancellable = cancellable;
  job.tty = isatty (STDERR_FILENO);
  job.t0 = g_get_monotonic_time ();
  pal_cli_run_cancellable ("gradcam-means", "before the next batch", run_thread, &job,
                           cancellable);
  if (job.tty)
    fprintf (stderr, "\r\033[K");
  if (!job.result)
    {
      int rc = g_error_matches (job.error, PAL_ERROR, PAL_ERROR_CANCELLED) ? 130 : 1;

      g_printerr ("pal gradcam-means: %s\n", job.error->message);
      g_clear_error (&job.error);
      return rc;
    }
  m = job.result;

  for (int k = 0; k < m->n_classes; k++)
    n_used += m->counts[k];
  g_print ("model:    %s (%s), Grad-CAM at %s (%dx%d, shown at the input's %dx%d)\n",
           model_path, pal_model_get_arch_name (model), m->layer, m->map_width,
           m->map_height, m->width, m->height);
  g_print ("dataset:  %s (%s), %s split: %d samples, %d used", data,
           pal_dataset_format_name (pal_dataset_get_format (ds)), pal_cli_split_name (split),
           m->n_split, n_used);
  if (m->n_no_landmarks)
    g_print (", %d without landmarks", m->n_no_landmarks);
  if (frontal > 0.0)
    g_print (", %d not frontal within %g px", m->n_not_frontal, frontal);
  if (m->n_failed)
    g_print (", %d failed to load", m->n_failed);
  table = pal_gradcam_means_to_string (m, names);
  g_print ("\n\n%s", table);

  if (csv)
    {
      g_autofree char *text = pal_gradcam_means_to_csv (m, names);

      if (!pal_file_replace_data (csv, text, strlen (text)))
        {
          int e = errno;
          g_printerr ("pal gradcam-means: cannot write %s: %s\n", csv, g_strerror (e));
          return 1;
        }
      g_print ("\n%s: the table as CSV\n", csv);
    }
  if (out)
    {
      g_autofree char *model_base = g_path_get_basename (model_path);
      g_autofree char *data_base = g_path_get_basename (data);
      g_autofree char *title = NULL;
      g_autoptr (PalImage) image = NULL;

      if (frontal > 0.0)
        title = g_strdup_printf ("Mean Grad-CAM per emotion: %s at %s\n"
                                 "%s (%s), faces frontal within %g px: %d images",
                                 model_base, m->layer, data_base, pal_cli_split_name (split), frontal,
                                 n_used);
      else
        title = g_strdup_printf ("Mean Grad-CAM per emotion: %s at %s\n%s (%s): %d images",
                                 model_base, m->layer, data_base, pal_cli_split_name (split), n_used);
      image = pal_gradcam_means_render (m, names, title);
      pal_render_release_fonts ();   /* the text is drawn: free the font caches */
      if (!image || !pal_image_save_png (image, out, &error))
        return fail (error ? error->message : "the picture could not be drawn");
      g_print ("%s%s: mean maps and the table\n", csv ? "" : "\n", out);
    }
  return 0;
}
