/* pal-cmd-landmarks.c: `pal landmarks`, the missing .pts files of a dataset
 *
 * For every sample of a RAF-DB or class-folder dataset that has no
 * landmarks, finds the face (or takes the whole crop with --fixed-box),
 * places the 68 landmarks (pal-faces.h) and writes the .pts file where
 * pal-dataset looks for it (docs/DATASETS.md):
 *   RAF-DB   <pts dir, default ROOT/Landmarks>/<image stem>.pts
 *   folder   <stem>.pts beside the image, or <pts dir>/[<split>/]<class>/<stem>.pts
 * Existing .pts files are kept, and each file is written atomically, so a
 * run that is stopped (Ctrl-C: after the current image) or killed is
 * continued by running the same command again.  Progress goes to stderr:
 * rewritten in place on a terminal, a line every 10 s otherwise.
 */
#include "pal-cli.h"
#include "pal-dataset.h"
#include "pal-dlib.h"
#include "pal-faces.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N_NAMED 5   /* images named in the summary, per kind */

typedef struct {
  PalDataset    *ds;
  PalFaceFinder *finder;
  const char    *pts_dir;      /* --pts-dir, or NULL */
  gboolean       fixed_box;
  GCancellable  *cancellable;
  gboolean       tty;
  FILE          *report;       /* --report, or NULL */

  int            total;        /* samples without landmarks at the start */
  int            done;
  int            written, kept, no_face, several, unreadable;
  GPtrArray     *no_face_names, *unreadable_names;
  gint64         t0, last_progress;
  GError        *error;        /* what stopped the run */
} LandmarksJob;

/* Where pal-dataset looks for sample @s's landmarks. */
static char *
pts_path (LandmarksJob *job, const PalSample *s)
{
  g_autofree char *base = g_path_get_basename (s->path);
  char *dot = strrchr (base, '.');
  g_autofree char *name = NULL;

  if (dot && dot != base)
    *dot = '\0';
  name = g_strconcat (base, ".pts", NULL);
  if (pal_dataset_get_format (job->ds) == PAL_DATASET_RAFDB)
    {
      if (job->pts_dir)
        return g_build_filename (job->pts_dir, name, NULL);
      return g_build_filename (pal_dataset_get_root (job->ds), "Landmarks", name, NULL);
    }
  if (job->pts_dir)
    {
      /* the same tree as the images: [<split>/]<class>/ */
      g_autofree char *dir = g_path_get_dirname (s->path);
      g_autoptr (GFile) root = g_file_new_for_path (pal_dataset_get_root (job->ds));
      g_autoptr (GFile) d = g_file_new_for_path (dir);
      g_autofree char *rel = g_file_get_relative_path (root, d);

      return g_build_filename (job->pts_dir, rel ? rel : "", name, NULL);
    }
  return pal_landmarks_pts_path_for (s->path);
}

static void
show_progress (LandmarksJob *job, gboolean last)
{
  gint64 now = g_get_monotonic_time ();
  double secs = (now - job->t0) / 1e6;
  double rate = secs > 0 ? (job->done - job->kept) / secs : 0.0;

  if (!last && now - job->last_progress < (job->tty ? 250000 : 10000000))
    return;
  job->last_progress = now;
  if (job->tty)
    fprintf (stderr, "\rlandmarks: %d / %d images, %.1f images/s, %d written, %d no face\033[K",
             job->done, job->total, rate, job->written, job->no_face);
  else
    fprintf (stderr, "landmarks: %d / %d images, %.1f images/s, %d written, %d no face\n",
             job->done, job->total, rate, job->written, job->no_face);
  fflush (stderr);
}

static void
note (GPtrArray *names, const char *path)
{
  if (names->len < N_NAMED)
    g_ptr_array_add (names, g_strdup (path));
}

/* One sample: FALSE only when the run must stop (a .pts cannot be written). */
static gboolean
one_sample (LandmarksJob *job, int index)
{
  const PalSample *s = pal_dataset_get (job->ds, index);
  g_autofree char *pts = pts_path (job, s);
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) img = NULL;
  g_autofree PalFace *faces = NULL;
  PalFace face;
  int n = 0;

  if (g_file_test (pts, G_FILE_TEST_EXISTS))
    {
      job->kept++;
      return TRUE;
    }
  img = pal_dataset_load_image (job->ds, index, NULL, &error);
  if (img && job->fixed_box)
    {
      if (pal_face_finder_in_box (job->finder, img, NULL, FALSE, &face, &error))
        n = 1;
    }
  else if (img)
    {
      faces = pal_face_finder_run (job->finder, img, 0.f, FALSE, &n, &error);
      if (faces && n > 0)
        face = faces[0];
    }
  if (error)
    {
      job->unreadable++;
      note (job->unreadable_names, error->message);
      if (job->report)
        fprintf (job->report, "unreadable\t%s\t%s\n", s->path, error->message);
      return TRUE;
    }
  if (n == 0)
    {
      job->no_face++;
      note (job->no_face_names, s->path);
      if (job->report)
        fprintf (job->report, "no-face\t%s\n", s->path);
      return TRUE;
    }
  if (n > 1)
    {
      job->several++;
      if (job->report)
        fprintf (job->report, "faces=%d\t%s\n", n, s->path);
    }

  dir = g_path_get_dirname (pts);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int e = errno;
      g_set_error (&job->error, PAL_ERROR, PAL_ERROR_IO, "%s: cannot create the folder: %s",
                   dir, g_strerror (e));
      return FALSE;
    }
  if (!pal_landmarks_save_pts (&face.lm, pts, &job->error))
    return FALSE;
  job->written++;
  return TRUE;
}

static gpointer
run_thread (gpointer data)
{
  LandmarksJob *job = data;
  int n = pal_dataset_get_n (job->ds);

  for (int i = 0; i < n; i++)
    {
      if (pal_dataset_get (job->ds, i)->has_landmarks)
        continue;
      if (g_cancellable_is_cancelled (job->cancellable))
        {
          g_set_error (&job->error, PAL_ERROR, PAL_ERROR_CANCELLED,
                       "stopped after %d of %d images: run the same command again to continue",
                       job->done, job->total);
          break;
        }
      if (!one_sample (job, i))
        break;
      job->done++;
      show_progress (job, FALSE);
    }
  return NULL;
}

static void
print_names (const char *what, int count, GPtrArray *names)
{
  if (count == 0)
    return;
  g_print ("%s:\n", what);
  for (guint i = 0; i < names->len; i++)
    g_print ("  %s\n", (const char *) names->pdata[i]);
  if (count > (int) names->len)
    g_print ("  ... and %d more\n", count - (int) names->len);
}

int
pal_cmd_landmarks (int argc, char **argv)
{
  g_autofree char *format = NULL, *method_name = NULL, *pts_dir = NULL, *images = NULL;
  g_autofree char *report = NULL, *faceapi_dir = NULL, *dlib_model = NULL;
  gboolean fixed_box = FALSE;
  int threads = 0, det_size = 0;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "auto (default), rafdb or folder", "F" },
    { "landmarks", 'l', 0, G_OPTION_ARG_STRING, &method_name, "dlib (default: dlib's shape predictor) or faceapi (face-api's landmark net)", "METHOD" },
    { "detector-size", 0, 0, G_OPTION_ARG_INT, &det_size, "Side the detector sees each image at, a multiple of 32 (default 416, face-api's; smaller is faster, finds only larger faces)", "PX" },
    { "fixed-box", 0, 0, G_OPTION_ARG_NONE, &fixed_box, "No detection: the face is the whole image (pre-aligned crops)", NULL },
    { "pts-dir", 0, 0, G_OPTION_ARG_FILENAME, &pts_dir, "Folder of the .pts files, as pal data --landmarks (RAF-DB default ROOT/Landmarks; folder: beside the images)", "DIR" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "Image folder (RAF-DB, as pal data --images)", "DIR" },
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &report, "Write every image with no face, several faces or unreadable to FILE (tab-separated)", "FILE" },
    { "faceapi-dir", 0, 0, G_OPTION_ARG_FILENAME, &faceapi_dir, "face-api's model folder (default: $PAL_FACEAPI_DIR, or where tools/fetch-face-api puts it)", "DIR" },
    { "dlib-model", 0, 0, G_OPTION_ARG_FILENAME, &dlib_model, "dlib's shape predictor (default " PAL_DLIB_DEFAULT_MODEL ")", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DATASET - write the missing .pts files of a dataset");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalDataset) ds = NULL;
  g_autoptr (PalFaceFinder) finder = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) no_face_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) unreadable_names = g_ptr_array_new_with_free_func (g_free);
  PalDatasetOptions opt = { 0 };
  PalDatasetFormat fmt = PAL_DATASET_AUTO;
  PalLandmarkMethod method = PAL_LANDMARK_METHOD_DLIB;
  LandmarksJob job = { 0 };
  int n, rc = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "For every image of a RAF-DB or class-folder dataset without landmarks, finds\n"
    "the face (face-api's detector; the best face when there are several), places\n"
    "the 68 landmarks (dlib, or face-api's net) and writes the .pts file where\n"
    "pal data and pal train look for it (docs/DATASETS.md).  Existing .pts files\n"
    "are kept and each file is written atomically: run the command again after\n"
    "Ctrl-C or a crash to continue.  Images with no face get no .pts (the trainer\n"
    "gives them no prior).  --fixed-box skips detection and takes the whole image\n"
    "as the face box, for pre-aligned crops (RAF-DB's aligned images).  Examples:\n"
    "  pal landmarks ~/data/RAF-DB/basic --fixed-box\n"
    "  pal landmarks ~/data/faces --landmarks faceapi --report no-face.txt\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal landmarks: %s (see pal landmarks --help)\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      g_printerr ("pal landmarks: give one dataset folder (see pal landmarks --help)\n");
      return 2;
    }
  if (format && !pal_dataset_format_from_string (format, &fmt, &error))
    {
      g_printerr ("pal landmarks: %s\n", error->message);
      return 2;
    }
  if (method_name && !pal_landmark_method_parse (method_name, &method))
    {
      g_printerr ("pal landmarks: unknown landmark method '%s' (dlib or faceapi)\n", method_name);
      return 2;
    }
  if (threads < 0)
    {
      g_printerr ("pal landmarks: --threads must be 0 (all cores) or more, not %d\n", threads);
      return 2;
    }
  if (fmt == PAL_DATASET_AUTO)
    fmt = pal_dataset_detect (argv[1]);
  if (fmt != PAL_DATASET_RAFDB && fmt != PAL_DATASET_FOLDER)
    {
      g_printerr ("pal landmarks: %s is a %s dataset: only RAF-DB and class folders take "
                  ".pts files (AffectNet carries its landmarks in its CSV files, FER2013 "
                  "has no image files)\n", argv[1], pal_dataset_format_name (fmt));
      return 2;
    }
  pal_set_threads (threads);

  opt.landmarks_dir = pts_dir;
  opt.image_dir = images;
  ds = pal_dataset_open (argv[1], fmt, &opt, &error);
  if (!ds)
    {
      g_printerr ("pal landmarks: %s\n", error->message);
      return 1;
    }
  finder = pal_face_finder_new (faceapi_dir, dlib_model, method, &error);
  if (!finder)
    {
      g_printerr ("pal landmarks: %s\n", error->message);
      return 1;
    }
  if (!pal_face_finder_set_detector_size (finder, det_size, &error))
    {
      g_printerr ("pal landmarks: --detector-size: %s\n", error->message);
      return 2;
    }

  job.ds = ds;
  job.finder = finder;
  job.pts_dir = pts_dir;
  job.fixed_box = fixed_box;
  job.cancellable = cancellable;
  job.tty = isatty (STDERR_FILENO);
  job.no_face_names = no_face_names;
  job.unreadable_names = unreadable_names;
  n = pal_dataset_get_n (ds);
  job.total = pal_dataset_get_n_missing_landmarks (ds);
  if (report && !(job.report = fopen (report, "w")))
    {
      int e = errno;
      g_printerr ("pal landmarks: %s: %s\n", report, g_strerror (e));
      return 1;
    }
  g_printerr ("pal landmarks: %s (%s): %d images, %d without landmarks; %s landmarks%s\n",
              argv[1], pal_dataset_format_name (pal_dataset_get_format (ds)), n, job.total,
              pal_landmark_method_name (method),
              fixed_box ? ", the whole image as the face box" : "");
  job.t0 = g_get_monotonic_time ();
  if (job.total > 0)
    pal_cli_run_cancellable ("landmarks", "after the current image", run_thread, &job,
                             cancellable);
  if (job.total > 0)
    show_progress (&job, TRUE);
  if (job.tty && job.total > 0)
    fprintf (stderr, "\n");
  if (job.report && fclose (job.report) != 0)
    {
      int e = errno;
      g_printerr ("pal landmarks: %s: %s\n", report, g_strerror (e));
      rc = 1;
    }

  g_print ("written: %d .pts files\n", job.written);
  g_print ("kept:    %d samples with landmarks already (%d before this run, %d found since)\n",
           n - job.total + job.kept, n - job.total, job.kept);
  g_print ("no face: %d images (no .pts written)\n", job.no_face);
  g_print ("several faces: %d images (the best face used)\n", job.several);
  if (job.unreadable)
    g_print ("unreadable: %d images\n", job.unreadable);
  if (pal_dataset_get_n_broken (ds) > 0)
    g_print ("broken rows: %d, left out (pal data lists them)\n", pal_dataset_get_n_broken (ds));
  if (job.total - job.done > 0)
    g_print ("left:    %d images\n", job.total - job.done);
  print_names ("images with no face", job.no_face, no_face_names);
  print_names ("unreadable images", job.unreadable, unreadable_names);
  if (report)
    g_print ("report: %s\n", report);

  if (job.error)
    {
      rc = g_error_matches (job.error, PAL_ERROR, PAL_ERROR_CANCELLED) ? 130 : 1;
      g_printerr ("pal landmarks: %s\n", job.error->message);
      g_clear_error (&job.error);
      return rc;
    }
  return job.unreadable > 0 ? 1 : rc;
}
