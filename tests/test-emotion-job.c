/* test-emotion-job.c: the Per-emotion maps page's model without a display:
 * a run through a main loop, its progress, its result against a direct
 * pal_gradcam_means_run(), two models, cancelling, a superseded run, errors */
#include "config.h"

#include <string.h>

#include "pal-analysis.h"
#include "pal-dataset.h"
#include "pal-emotion-job.h"
#include "pal-error.h"
#include "pal-faceapi.h"
#include "pal-graph.h"
#include "pal-model-io.h"
#include "pal-parallel.h"
#include "pal-synth.h"

#include "test-util.h"

static char *scratch;    /* one scratch directory for the whole run */
static char *synth_dir;  /* 70 synthetic faces of 48 x 48, made once */
static const char *model_pal = PAL_SOURCE_DATADIR "/demo-pal.safetensors";
static const char *model_base = PAL_SOURCE_DATADIR "/demo-baseline.safetensors";

/* What a run announced. */
typedef struct {
  GMainLoop *loop;
  int        n_finished;
  GError    *error;
  int        n_progress[PAL_EMOTION_JOB_N_SLOTS];
  int        last_done[PAL_EMOTION_JOB_N_SLOTS];
  int        last_total[PAL_EMOTION_JOB_N_SLOTS];
  int        last_slot;
  gboolean   monotone;
  gboolean   cancel_on_progress;
  double     last_fraction;
} Watch;

static void
on_progress (PalEmotionJob *job, int slot, int stage, int done, int total, Watch *w)
{
  g_assert_cmpint (slot, >=, 0);
  g_assert_cmpint (slot, <, PAL_EMOTION_JOB_N_SLOTS);
  g_assert_cmpint (stage, ==, PAL_ANALYSIS_STAGE_GRADCAM);   /* no frontal selection */
  g_assert_true (pal_emotion_job_get_running (job));
  if (slot < w->last_slot || done < w->last_done[slot] || done > total
      || pal_emotion_job_get_fraction (job) < w->last_fraction)
    w->monotone = FALSE;
  w->last_slot = slot;
  w->last_done[slot] = done;
  w->last_total[slot] = total;
  w->last_fraction = pal_emotion_job_get_fraction (job);
  w->n_progress[slot]++;
  if (w->cancel_on_progress)
    pal_emotion_job_cancel (job);
}

static void
on_finished (PalEmotionJob *job, const GError *error, Watch *w)
{
  g_assert_false (pal_emotion_job_get_running (job));
  w->n_finished++;
  g_clear_error (&w->error);
  if (error)
    w->error = g_error_copy (error);
  g_main_loop_quit (w->loop);
}

static gboolean
on_timeout (gpointer data)
{
  g_error ("the run did not finish in time");
  return G_SOURCE_REMOVE;
}

static void
watch_init (Watch *w, PalEmotionJob *job)
{
  memset (w, 0, sizeof *w);
  w->loop = g_main_loop_new (NULL, FALSE);
  w->monotone = TRUE;
  g_signal_connect (job, "progress", G_CALLBACK (on_progress), w);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), w);
}

static void
watch_clear (Watch *w)
{
  g_clear_pointer (&w->loop, g_main_loop_unref);
  g_clear_error (&w->error);
}

/* Runs the main loop until "finished". */
static void
wait_finished (Watch *w)
{
  guint timeout = g_timeout_add_seconds (120, on_timeout, NULL);

  g_main_loop_run (w->loop);
  g_source_remove (timeout);
}

/* Drops the test's reference and iterates until the job is gone: its
 * worker has returned and nothing of it is left behind. */
static void
unref_and_wait (PalEmotionJob *job)
{
  gpointer weak = job;
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_object_add_weak_pointer (G_OBJECT (job), &weak);
  g_object_unref (job);
  /* the last reference may go in the worker, which wakes no main loop */
  while (g_atomic_pointer_get (&weak) && g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (1000);
    }
  g_assert_null (weak);
}

static PalEmotionJob *
new_job (const char *model_a, const char *model_b)
{
  PalEmotionJob *job = pal_emotion_job_new ();

  pal_emotion_job_set_model_path (job, 0, model_a);
  pal_emotion_job_set_model_path (job, 1, model_b);
  pal_emotion_job_set_dataset (job, synth_dir, PAL_DATASET_AUTO);
  return job;
}

/* The same analysis, called directly. */
static PalGradcamMeans *
direct_run (const char *model_path, const char *layer_name, int batch_size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = pal_faceapi_open_model (model_path, NULL, &error);
  g_autoptr (PalDataset) ds = NULL;
  PalGradcamMeansOptions opt;
  PalGradcamMeans *m;
  int layer;

  g_assert_no_error (error);
  ds = pal_dataset_open (synth_dir, PAL_DATASET_AUTO, NULL, &error);
  g_assert_no_error (error);
  layer = pal_graph_find (pal_model_get_graph (model), layer_name);
  g_assert_cmpint (layer, >, 0);
  pal_gradcam_means_options_init (&opt);
  opt.batch_size = batch_size;
  m = pal_gradcam_means_run (model, layer, ds, PAL_SPLIT_TEST, &opt, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return m;
}

static void
assert_same_means (const PalGradcamMeans *a, const PalGradcamMeans *b)
{
  gsize n_maps = (gsize) a->n_classes * a->width * a->height;

  g_assert_cmpint (a->n_classes, ==, b->n_classes);
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->map_width, ==, b->map_width);
  g_assert_cmpstr (a->layer, ==, b->layer);
  g_assert_cmpint (a->n_split, ==, b->n_split);
  for (int k = 0; k < a->n_classes; k++)
    {
      g_assert_cmpint (a->counts[k], ==, b->counts[k]);
      g_assert_cmpint (a->correct[k], ==, b->correct[k]);
      g_assert_cmpint (a->overlap[k], ==, b->overlap[k]);
      g_assert_cmpint (a->n_top[k], ==, b->n_top[k]);
      g_assert_cmpmem (a->ranking[k], sizeof a->ranking[k], b->ranking[k], sizeof b->ranking[k]);
    }
  for (gsize i = 0; i < n_maps; i++)
    g_assert_cmpfloat_with_epsilon (a->maps[i], b->maps[i], 1e-5f * (1.0f + b->maps[i]));
  g_assert_cmpmem (a->images, n_maps * 3 * sizeof (float), b->images, n_maps * 3 * sizeof (float));
}

/* --- tests ------------------------------------------------------------------- */

static void
test_defaults (void)
{
  g_autoptr (PalEmotionJob) job = pal_emotion_job_new ();
  int split, batch;
  double eps;
  g_autofree char *layer = NULL;

  g_object_get (job, "split", &split, "batch-size", &batch, "frontal-eps", &eps,
                "layer", &layer, NULL);
  g_assert_cmpint (split, ==, PAL_SPLIT_TEST);
  g_assert_cmpint (batch, ==, 32);
  g_assert_cmpfloat (eps, ==, 0.0);
  g_assert_null (layer);
  g_assert_false (pal_emotion_job_get_running (job));
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 0);
  g_assert_null (pal_emotion_job_get_result (job, 0));
  g_assert_null (pal_emotion_job_to_csv (job));

  pal_emotion_job_set_layer (job, "");
  g_assert_null (pal_emotion_job_get_layer (job));
  pal_emotion_job_set_batch_size (job, 0);
  g_assert_cmpint (pal_emotion_job_get_batch_size (job), ==, 1);
  /* cancelling nothing announces nothing */
  pal_emotion_job_cancel (job);
}

static void
test_run_one (void)
{
  PalEmotionJob *job = new_job (model_pal, NULL);
  g_autoptr (PalGradcamMeans) direct = NULL;
  g_autofree char *csv = NULL;
  const PalGradcamMeans *m;
  Watch w;
  int n_test;

  watch_init (&w, job);
  pal_emotion_job_set_batch_size (job, 4);
  pal_emotion_job_start (job);
  g_assert_true (pal_emotion_job_get_running (job));
  g_assert_cmpint (w.n_progress[0], ==, 0);   /* progress comes through the main loop */
  wait_finished (&w);

  g_assert_no_error (w.error);
  g_assert_cmpint (w.n_finished, ==, 1);
  g_assert_false (pal_emotion_job_get_running (job));
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 1);
  m = pal_emotion_job_get_result (job, 0);
  g_assert_nonnull (m);
  g_assert_null (pal_emotion_job_get_result (job, 1));
  g_assert_cmpstr (pal_emotion_job_get_model_name (job, 0), ==, "demo-pal");
  g_assert_cmpstr (pal_emotion_job_get_class_names (job)[1], ==, "happy");
  g_assert_cmpstr (pal_emotion_job_get_result_dataset (job), ==, synth_dir);
  g_assert_cmpint (pal_emotion_job_get_result_split (job), ==, PAL_SPLIT_TEST);

  /* progress: monotone, one call per batch of 4, ending at the split's size */
  n_test = m->n_split;
  g_assert_cmpint (n_test, ==, 18);
  g_assert_true (w.monotone);
  g_assert_cmpint (w.n_progress[0], ==, (n_test + 3) / 4);
  g_assert_cmpint (w.n_progress[1], ==, 0);
  g_assert_cmpint (w.last_done[0], ==, n_test);
  g_assert_cmpint (w.last_total[0], ==, n_test);
  g_assert_cmpfloat (pal_emotion_job_get_fraction (job), ==, 1.0);

  /* the model's PAL layer, and the same numbers as a direct call */
  g_assert_cmpstr (m->layer, ==, "conv4");
  direct = direct_run (model_pal, "conv4", 4);
  assert_same_means (m, direct);

  /* CSV: a header with the model column and one row per class */
  csv = pal_emotion_job_to_csv (job);
  g_assert_true (g_str_has_prefix (csv, "model,class,images,correct,k,overlap,"));
  g_assert_nonnull (strstr (csv, "\ndemo-pal,happy,"));
  {
    g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 1 + 7 + 1);   /* the last one is empty */
  }

  watch_clear (&w);
  unref_and_wait (job);
}

static void
test_run_two (void)
{
  PalEmotionJob *job = new_job (model_pal, model_base);
  g_autoptr (PalGradcamMeans) direct = NULL;
  g_autofree char *csv = NULL;
  const PalGradcamMeans *a, *b;
  gboolean differ = FALSE;
  Watch w;

  watch_init (&w, job);
  pal_emotion_job_set_layer (job, "conv3");
  pal_emotion_job_set_batch_size (job, 8);
  pal_emotion_job_start (job);
  wait_finished (&w);

  g_assert_no_error (w.error);
  g_assert_cmpint (w.n_finished, ==, 1);
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 2);
  a = pal_emotion_job_get_result (job, 0);
  b = pal_emotion_job_get_result (job, 1);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (a->layer, ==, "conv3");
  g_assert_cmpstr (b->layer, ==, "conv3");
  g_assert_cmpint (a->map_width, ==, 12);
  g_assert_cmpstr (pal_emotion_job_get_model_name (job, 1), ==, "demo-baseline");

  /* both slots progressed to the end, model A before model B */
  g_assert_true (w.monotone);
  g_assert_cmpint (w.last_done[0], ==, 18);
  g_assert_cmpint (w.last_done[1], ==, 18);
  g_assert_cmpint (w.n_progress[0], ==, 3);
  g_assert_cmpint (w.n_progress[1], ==, 3);

  /* model B's numbers are its own: the direct call on it, and not A's maps */
  direct = direct_run (model_base, "conv3", 8);
  assert_same_means (b, direct);
  for (gsize i = 0; i < (gsize) a->n_classes * a->width * a->height && !differ; i++)
    differ = a->maps[i] != b->maps[i];
  g_assert_true (differ);

  csv = pal_emotion_job_to_csv (job);
  g_assert_nonnull (strstr (csv, "\ndemo-pal,neutral,"));
  g_assert_nonnull (strstr (csv, "\ndemo-baseline,anger,"));
  g_assert_null (strstr (csv + 1, "model,class"));   /* one header */

  watch_clear (&w);
  unref_and_wait (job);
}

static void
test_cancel (void)
{
  PalEmotionJob *job = new_job (model_pal, model_base);
  Watch w;

  watch_init (&w, job);
  pal_emotion_job_set_batch_size (job, 2);   /* 9 batches a model */
  w.cancel_on_progress = TRUE;
  pal_emotion_job_start (job);
  wait_finished (&w);

  g_assert_error (w.error, PAL_ERROR, PAL_ERROR_CANCELLED);
  /* what the worker still sends is dropped */
  for (int i = 0; i < 50; i++)
    {
      g_usleep (2000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_assert_cmpint (w.n_finished, ==, 1);
  g_assert_cmpint (w.n_progress[0], ==, 1);   /* nothing after the cancel */
  g_assert_cmpint (w.n_progress[1], ==, 0);
  g_assert_false (pal_emotion_job_get_running (job));
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 0);
  g_assert_null (pal_emotion_job_get_result (job, 0));
  g_assert_null (pal_emotion_job_get_class_names (job));

  /* the dropped worker's result never arrives; the job can run again */
  w.cancel_on_progress = FALSE;
  pal_emotion_job_set_model_path (job, 1, NULL);
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_no_error (w.error);
  g_assert_cmpint (w.n_finished, ==, 2);
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 1);

  watch_clear (&w);
  unref_and_wait (job);
}

/* A run started over another: only the second one is announced. */
static void
test_superseded (void)
{
  PalEmotionJob *job = new_job (model_base, NULL);
  const PalGradcamMeans *m;
  Watch w;

  watch_init (&w, job);
  pal_emotion_job_set_layer (job, "conv2");
  pal_emotion_job_start (job);
  pal_emotion_job_set_layer (job, "conv4");
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_no_error (w.error);

  /* let the first worker end, if it had not: nothing more is announced */
  for (int i = 0; i < 50; i++)
    {
      g_usleep (2000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_assert_cmpint (w.n_finished, ==, 1);
  m = pal_emotion_job_get_result (job, 0);
  g_assert_nonnull (m);
  g_assert_cmpstr (m->layer, ==, "conv4");
  g_assert_cmpint (m->map_width, ==, 12);

  watch_clear (&w);
  unref_and_wait (job);
}

static void
test_errors (void)
{
  g_autofree char *missing = g_build_filename (scratch, "no-such-dataset", NULL);
  g_autofree char *broken = g_build_filename (scratch, "broken.safetensors", NULL);
  PalEmotionJob *job = new_job (model_pal, NULL);
  Watch w;

  watch_init (&w, job);

  /* a missing dataset: the error names the folder */
  pal_emotion_job_set_dataset (job, missing, PAL_DATASET_AUTO);
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_nonnull (w.error);
  g_assert_nonnull (strstr (w.error->message, missing));
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 0);

  /* a broken model B: the error names its file */
  g_assert_true (g_file_set_contents (broken, "not a model", -1, NULL));
  pal_emotion_job_set_dataset (job, synth_dir, PAL_DATASET_AUTO);
  pal_emotion_job_set_model_path (job, 1, broken);
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_nonnull (w.error);
  g_assert_nonnull (strstr (w.error->message, broken));
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 0);

  /* a layer the model does not have, and one without a spatial map */
  pal_emotion_job_set_model_path (job, 1, NULL);
  pal_emotion_job_set_layer (job, "no-such-layer");
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_error (w.error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (w.error->message, "no-such-layer"));
  pal_emotion_job_set_layer (job, "fc1");
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_nonnull (w.error);
  g_assert_nonnull (strstr (w.error->message, "fc1"));

  /* no model at all */
  pal_emotion_job_set_layer (job, NULL);
  pal_emotion_job_set_model_path (job, 0, NULL);
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_error (w.error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_cmpint (w.n_finished, ==, 5);

  watch_clear (&w);
  unref_and_wait (job);
}

/* face-api's expression network by its name: at the layer it suggests
 * (dense2), the same numbers as a direct run. */
static void
test_faceapi (void)
{
  PalEmotionJob *job = new_job (PAL_FACEAPI_MODEL_NAME, model_pal);
  g_autoptr (PalGradcamMeans) direct = NULL;
  const PalGradcamMeans *m;
  Watch w;

  watch_init (&w, job);
  pal_emotion_job_start (job);
  wait_finished (&w);
  g_assert_no_error (w.error);
  g_assert_cmpint (pal_emotion_job_get_n_results (job), ==, 2);
  g_assert_cmpstr (pal_emotion_job_get_model_name (job, 0), ==, "face-api expression");
  g_assert_cmpstr (pal_emotion_job_get_model_name (job, 1), ==, "demo-pal");
  m = pal_emotion_job_get_result (job, 0);
  g_assert_cmpstr (m->layer, ==, "dense2");
  g_assert_cmpint (m->map_width, ==, 14);
  /* the second model keeps its own PAL layer */
  g_assert_cmpstr (pal_emotion_job_get_result (job, 1)->layer, ==, "conv4");
  direct = direct_run (PAL_FACEAPI_MODEL_NAME, "dense2", 32);
  assert_same_means (m, direct);
  watch_clear (&w);
  unref_and_wait (job);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  PalSynthOptions opt;
  int rc;

  g_test_init (&argc, &argv, NULL);
  pal_set_threads (2);   /* before any thread exists: it sets BLAS's environment */
  scratch = scratch_dir_new ("pal-test-emotion-job-XXXXXX");
  synth_dir = g_build_filename (scratch, "synth", NULL);
  pal_synth_options_init (&opt);
  opt.n = 70;
  opt.size = 48;
  opt.seed = 5;
  g_assert_true (pal_synth_dataset (synth_dir, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/emotion-job/defaults", test_defaults);
  g_test_add_func ("/emotion-job/run-one", test_run_one);
  g_test_add_func ("/emotion-job/run-two", test_run_two);
  g_test_add_func ("/emotion-job/cancel", test_cancel);
  g_test_add_func ("/emotion-job/superseded", test_superseded);
  g_test_add_func ("/emotion-job/errors", test_errors);
  g_test_add_func ("/emotion-job/faceapi", test_faceapi);
  rc = g_test_run ();
  scratch_free (scratch);
  g_free (synth_dir);
  return rc;
}
