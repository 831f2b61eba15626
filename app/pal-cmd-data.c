/* pal-cmd-data.c: `pal data`, a dataset's counts, broken rows and loader speed */
#include "pal-cli.h"
#include "pal-dataset.h"
#include "pal-loader.h"

#include <stdio.h>

static void
count_error (int index, int epoch, const GError *error, gpointer user_data)
{
  /* the first few are worth seeing; the loader counts them all */
  if (g_atomic_int_add ((int *) user_data, 1) < 5)
    g_printerr ("pal data: skipped sample %d: %s\n", index, error->message);
}

static int
bench_loader (PalDataset *ds, int workers, int batch, int input, int map, int n_batches,
              guint64 seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree int *idx = NULL;
  PalLoaderOptions opt;
  PalLoaderSource src = pal_dataset_as_source (ds);
  PalLoader *loader;
  int n_idx, got = 0, errors = 0;
  gint64 t0;
  double secs;

  idx = pal_dataset_indices (ds, PAL_SPLIT_TRAIN, &n_idx);
  if (n_idx == 0)
    {
      g_printerr ("pal data: the dataset has no training samples to load\n");
      return 1;
    }
  pal_loader_options_init (&opt);
  opt.indices = idx;
  opt.n_indices = n_idx;
  opt.batch_size = batch;
  opt.height = opt.width = input;
  opt.map_height = opt.map_width = map;
  opt.n_classes = pal_dataset_get_n_classes (ds);
  opt.n_workers = workers;
  opt.seed = seed;
  opt.on_error = count_error;
  opt.on_error_data = &errors;
  loader = pal_loader_new (&src, &opt, &error);
  if (!loader)
    {
      g_printerr ("pal data: %s\n", error->message);
      return 1;
    }

  t0 = g_get_monotonic_time ();
  for (int b = 0; b < n_batches; b++)
    {
      PalBatch *bt = NULL;

      if (!pal_loader_next (loader, &bt, NULL, &error))
        {
          g_printerr ("pal data: %s\n", error->message);
          pal_loader_free (loader);
          return 1;
        }
      if (!bt)
        break;
      got += bt->n;
      pal_batch_release (bt);
    }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  g_print ("loader: %d images in %.2f s, %.0f images/s (%d workers, batch %d, "
           "input %dx%d, prior %dx%d, augmentation on); %" G_GINT64_FORMAT " failed\n",
           got, secs, got / MAX (secs, 1e-9), workers, batch, input, input, map, map,
           pal_loader_get_n_failed (loader));
  pal_loader_free (loader);
  return 0;
}

int
pal_cmd_data (int argc, char **argv)
{
  g_autofree char *format = NULL, *landmarks = NULL, *images = NULL;
  gboolean strict = FALSE, contempt = FALSE, bench = FALSE;
  double val = 0.0;
  gint64 seed = 0;
  int n_issues = 10, workers = 2, batch = 16, input = 96, map = 12, n_batches = 50;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "auto (default), rafdb, affectnet, fer2013, ferplus or folder", "F" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &strict, "A broken row is fatal (default: skipped and counted)", NULL },
    { "contempt", 0, 0, G_OPTION_ARG_NONE, &contempt, "Keep contempt as an 8th class", NULL },
    { "landmarks", 0, 0, G_OPTION_ARG_FILENAME, &landmarks, "Folder of .pts files (RAF-DB; default ROOT/Landmarks)", "DIR" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "Image folder (RAF-DB, AffectNet)", "DIR" },
    { "val", 0, 0, G_OPTION_ARG_DOUBLE, &val, "Draw a validation split of this fraction of train, with the test set's class proportions", "FRACTION" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the validation split and the loader (default 0)", "S" },
    { "issues", 0, 0, G_OPTION_ARG_INT, &n_issues, "Broken rows to list (default 10)", "N" },
    { "bench", 0, 0, G_OPTION_ARG_NONE, &bench, "Time the loader alone on the training split", NULL },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers, "Loader threads (default 2)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Batch size (default 16)", "B" },
    { "input", 0, 0, G_OPTION_ARG_INT, &input, "Network input size (default 96)", "PX" },
    { "map", 0, 0, G_OPTION_ARG_INT, &map, "Prior size at the PAL layer (default 12)", "PX" },
    { "batches", 0, 0, G_OPTION_ARG_INT, &n_batches, "Batches to time (default 50)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DATASET - counts, broken rows and loader speed of a dataset");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = NULL;
  g_autofree char *desc = NULL;
  PalDatasetOptions opt = { 0 };
  PalDatasetFormat fmt = PAL_DATASET_AUTO;
  const PalDatasetIssue *issues;
  int n;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Formats and label mappings: docs/DATASETS.md.  Examples:\n"
    "  pal data ~/data/RAF-DB --val 0.1\n"
    "  pal data ~/data/fer2013 --bench --workers 2\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal data: %s (see pal data --help)\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      g_printerr ("pal data: give one dataset folder (see pal data --help)\n");
      return 2;
    }
  if (workers < 0 || batch < 1 || input < 8 || map < 1 || map > input || n_batches < 1
      || val < 0.0 || val >= 1.0)
    {
      g_printerr ("pal data: an option is out of range (see pal data --help)\n");
      return 2;
    }
  if (format && !pal_dataset_format_from_string (format, &fmt, &error))
    {
      g_printerr ("pal data: %s\n", error->message);
      return 2;
    }
  opt.strict = strict;
  opt.include_contempt = contempt;
  opt.landmarks_dir = landmarks;
  opt.image_dir = images;
  ds = pal_dataset_open (argv[1], fmt, &opt, &error);
  if (!ds)
    {
      g_printerr ("pal data: %s\n", error->message);
      return 1;
    }
  if (val > 0.0 && !pal_dataset_make_validation (ds, val, (guint64) seed, &error))
    {
      g_printerr ("pal data: %s\n", error->message);
      return 1;
    }

  desc = pal_dataset_describe (ds);
  g_print ("%s", desc);
  issues = pal_dataset_get_issues (ds, &n);
  for (int i = 0; i < n && i < n_issues; i++)
    g_print ("  %s\n", issues[i].message);
  if (n > n_issues)
    g_print ("  ... and %d more (--issues N lists more)\n", n - n_issues);

  if (bench)
    return bench_loader (ds, workers, batch, input, map, n_batches, (guint64) seed);
  return 0;
}
