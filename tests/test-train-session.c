/* test-train-session.c: the Train page's view model, without a display
 *
 * One set of 70 synthetic faces of 48 x 48 (pal-synth.h) in a scratch
 * folder, the small48 architecture of data/.  Each test drives the session
 * with a GMainLoop as the page would:
 *
 *   - a 2-epoch run completes: reports arrive on the main thread, the
 *     curves are finite, the fraction reaches 1, "finished" carries no
 *     error and best.safetensors, the best model's confusion matrix covers
 *     the validation split; a second start meanwhile is refused;
 *   - a stop during a run ends it as cancelled with its last checkpoint, and
 *     a resume finishes it, with the curves read back from the log;
 *   - a dataset folder that does not exist fails the run with an error
 *     naming the folder; settings without a dataset are refused at start.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pal-error.h"
#include "pal-model-io.h"
#include "pal-synth.h"
#include "pal-train-session.h"
#include "test-util.h"

static char *scratch;
static char *dataset;
static char *arch_path;

typedef struct {
  GMainLoop *loop;
  GThread   *main_thread;
  guint      n_progress;
  gint64     last_step;
  gboolean   in_order;
  gint64     stop_at_step;   /* stop at the first report at or after it; -1: never */
  gboolean   finished;
  GError    *error;
  char      *best;
  char      *last;
} Watch;

static void
on_progress (PalTrainSession *session, gpointer progress, Watch *w)
{
  const PalTrainProgress *p = progress;

  g_assert_true (g_thread_self () == w->main_thread);
  g_assert_nonnull (p);
  g_assert_true (pal_train_session_get_running (session));
  if (p->step < w->last_step)
    w->in_order = FALSE;
  w->last_step = p->step;
  w->n_progress++;
  if (w->stop_at_step >= 0 && p->event == PAL_TRAIN_STEP && p->step >= w->stop_at_step)
    {
      pal_train_session_stop (session);
      w->stop_at_step = -1;
    }
}

static void
on_finished (PalTrainSession *session, const GError *error, const char *best,
             const char *last, Watch *w)
{
  g_assert_true (g_thread_self () == w->main_thread);
  g_assert_false (pal_train_session_get_running (session));
  w->finished = TRUE;
  w->error = error ? g_error_copy (error) : NULL;
  w->best = g_strdup (best);
  w->last = g_strdup (last);
  g_main_loop_quit (w->loop);
}

static gboolean
on_timeout (gpointer data)
{
  g_error ("the run did not finish in time");
  return G_SOURCE_REMOVE;
}

static void
watch_init (Watch *w, PalTrainSession *session)
{
  memset (w, 0, sizeof *w);
  w->loop = g_main_loop_new (NULL, FALSE);
  w->main_thread = g_thread_self ();
  w->in_order = TRUE;
  w->stop_at_step = -1;
  g_signal_connect (session, "progress", G_CALLBACK (on_progress), w);
  g_signal_connect (session, "finished", G_CALLBACK (on_finished), w);
}

/* Runs the main loop until "finished". */
static void
watch_wait (Watch *w)
{
  guint timeout = g_timeout_add_seconds (280, on_timeout, NULL);

  g_main_loop_run (w->loop);
  g_source_remove (timeout);
  g_assert_true (w->finished);
}

/* Ready for another run of the same session. */
static void
watch_reset (Watch *w)
{
  g_clear_error (&w->error);
  g_clear_pointer (&w->best, g_free);
  g_clear_pointer (&w->last, g_free);
  w->finished = FALSE;
  w->n_progress = 0;
  w->last_step = 0;
  w->in_order = TRUE;
}

static void
watch_clear (Watch *w, PalTrainSession *session)
{
  g_signal_handlers_disconnect_by_data (session, w);
  watch_reset (w);
  g_main_loop_unref (w->loop);
}

static void
base_config (PalTrainConfig *cfg, const char *run_name)
{
  g_autofree char *out = g_build_filename (scratch, run_name, NULL);

  pal_train_config_init (cfg);
  g_assert_true (pal_train_config_set (cfg, "dataset", dataset, NULL));
  g_assert_true (pal_train_config_set (cfg, "arch-file", arch_path, NULL));
  g_assert_true (pal_train_config_set (cfg, "out", out, NULL));
  cfg->lr = 3e-3;
  cfg->epochs = 2;
  cfg->batch = 8;
  cfg->threads = 2;
  cfg->workers = 1;
  cfg->report_every = 1;
  cfg->seed = 5;
}

/* Every point of @series finite (accuracies in [0, 1]), x increasing. */
static guint
check_series (PalTrainSession *session, PalTrainSeries series, gboolean accuracy)
{
  const double *x, *y, *xe;
  guint n = pal_train_session_get_series (session, series, PAL_TRAIN_AXIS_STEP, &x, &y);

  g_assert_cmpuint (pal_train_session_get_series (session, series, PAL_TRAIN_AXIS_EPOCH,
                                                  &xe, NULL), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_true (isfinite (y[i]));
      g_assert_true (isfinite (x[i]));
      g_assert_true (isfinite (xe[i]));
      if (accuracy)
        {
          g_assert_cmpfloat (y[i], >=, 0.0);
          g_assert_cmpfloat (y[i], <=, 1.0);
        }
      if (i > 0)
        {
          g_assert_cmpfloat (x[i], >, x[i - 1]);
          g_assert_cmpfloat (xe[i], >, xe[i - 1]);
        }
    }
  return n;
}

static gint64
model_meta_int (const char *path, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) model = pal_model_load (path, NULL, &error);
  const char *v;

  g_assert_no_error (error);
  v = pal_model_get_meta (model, key);
  g_assert_nonnull (v);
  return g_ascii_strtoll (v, NULL, 10);
}

static void
test_run (void)
{
  g_autoptr (PalTrainSession) session = pal_train_session_new ();
  g_autoptr (GError) error = NULL;
  const PalConfusion *conf;
  const char *const *names;
  PalTrainConfig cfg;
  Watch w;
  guint n_steps;

  g_assert_false (pal_train_session_get_running (session));
  g_assert_null (pal_train_session_get_run_dir (session));
  watch_init (&w, session);
  base_config (&cfg, "run");
  g_assert_true (pal_train_session_start (session, &cfg, &error));
  g_assert_no_error (error);
  g_assert_true (pal_train_session_get_running (session));
  g_assert_cmpstr (pal_train_session_get_run_dir (session), ==, cfg.out);

  /* one run at a time */
  g_assert_false (pal_train_session_start (session, &cfg, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  watch_wait (&w);
  g_assert_no_error (w.error);
  g_assert_true (w.in_order);
  g_assert_cmpuint (w.n_progress, >, 2);
  g_assert_cmpfloat (pal_train_session_get_fraction (session), ==, 1.0);
  g_assert_cmpfloat (pal_train_session_get_images_per_second (session), >, 0.0);
  g_assert_cmpfloat (pal_train_session_get_eta (session), ==, 0.0);
  g_assert_nonnull (pal_train_session_get_status (session));
  g_assert_false (pal_train_session_can_resume (session));
  g_assert_cmpint (pal_train_session_get_last_progress (session)->event, ==, PAL_TRAIN_FINISHED);

  /* the curves */
  n_steps = check_series (session, PAL_SERIES_STEP_CE, FALSE);
  g_assert_cmpuint (n_steps, >, 2);
  g_assert_cmpuint (check_series (session, PAL_SERIES_STEP_PAL, FALSE), ==, n_steps);
  g_assert_cmpuint (check_series (session, PAL_SERIES_STEP_TRAIN_ACC, TRUE), ==, n_steps);
  g_assert_cmpuint (check_series (session, PAL_SERIES_EPOCH_TRAIN_ACC, TRUE), ==, 2);
  g_assert_cmpuint (check_series (session, PAL_SERIES_EPOCH_VAL_ACC, TRUE), ==, 2);
  g_assert_cmpuint (check_series (session, PAL_SERIES_EPOCH_CE, FALSE), ==, 2);
  g_assert_cmpuint (check_series (session, PAL_SERIES_EPOCH_PAL, FALSE), ==, 2);
  {
    const double *x, *y;

    /* PAL on: a negative correlation term */
    pal_train_session_get_series (session, PAL_SERIES_EPOCH_PAL, PAL_TRAIN_AXIS_EPOCH, &x, &y);
    g_assert_cmpfloat (x[0], ==, 1.0);
    g_assert_cmpfloat (x[1], ==, 2.0);
    g_assert_cmpfloat (y[1], <, 0.0);
  }

  /* the files and the results */
  g_assert_nonnull (w.best);
  g_assert_true (g_file_test (w.best, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_str_has_suffix (w.best, "best.safetensors"));
  g_assert_nonnull (w.last);
  g_assert_true (g_file_test (w.last, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (pal_train_session_get_best_path (session), ==, w.best);
  g_assert_null (pal_train_session_get_eval_error (session));
  conf = pal_train_session_get_confusion (session);
  g_assert_nonnull (conf);
  g_assert_cmpint (pal_train_session_get_eval_split (session), ==, PAL_SPLIT_VAL);
  g_assert_cmpint (conf->n_classes, ==, 7);
  g_assert_cmpint (pal_confusion_total (conf), ==, model_meta_int (w.best, "train.n-val"));
  g_assert_cmpint (pal_confusion_total (conf), >, 0);
  names = pal_train_session_get_class_names (session);
  g_assert_nonnull (names);
  g_assert_cmpuint (g_strv_length ((char **) names), ==, 7);
  g_assert_cmpstr (names[1], ==, "happy");

  /* cleared for the next run */
  pal_train_session_clear (session);
  g_assert_cmpuint (pal_train_session_get_series (session, PAL_SERIES_STEP_CE,
                                                  PAL_TRAIN_AXIS_STEP, NULL, NULL), ==, 0);
  g_assert_null (pal_train_session_get_confusion (session));

  watch_clear (&w, session);
  pal_train_config_clear (&cfg);
}

static void
test_stop_resume (void)
{
  g_autoptr (PalTrainSession) session = pal_train_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *run_dir = NULL;
  PalTrainConfig cfg;
  const double *x, *y;
  guint n;
  Watch w;

  watch_init (&w, session);
  base_config (&cfg, "stopped");
  cfg.epochs = 3;
  run_dir = g_strdup (cfg.out);
  w.stop_at_step = 3;
  g_assert_true (pal_train_session_start (session, &cfg, &error));
  g_assert_no_error (error);
  watch_wait (&w);

  /* stopped: cancelled, the last checkpoint kept, resumable */
  g_assert_nonnull (w.error);
  g_assert_true (g_error_matches (w.error, PAL_ERROR, PAL_ERROR_CANCELLED)
                 || g_error_matches (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_nonnull (w.last);
  g_assert_true (g_file_test (w.last, G_FILE_TEST_IS_REGULAR));
  g_assert_true (pal_train_session_can_resume (session));
  g_assert_cmpfloat (pal_train_session_get_fraction (session), <, 1.0);
  g_assert_null (pal_train_session_get_confusion (session));
  g_assert_cmpint (pal_train_session_get_last_progress (session)->event, ==, PAL_TRAIN_CANCELLED);
  g_assert_cmpint (pal_train_session_get_last_progress (session)->step, <, 10);

  /* resumed: complete, with the curves of the whole run */
  watch_reset (&w);
  g_assert_true (pal_train_session_resume (session, run_dir, &error));
  g_assert_no_error (error);
  g_assert_true (pal_train_session_get_running (session));
  watch_wait (&w);
  g_assert_no_error (w.error);
  g_assert_true (w.in_order);
  g_assert_nonnull (w.best);
  g_assert_true (g_file_test (w.best, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpfloat (pal_train_session_get_fraction (session), ==, 1.0);
  g_assert_false (pal_train_session_can_resume (session));
  g_assert_nonnull (pal_train_session_get_confusion (session));

  g_assert_cmpuint (check_series (session, PAL_SERIES_EPOCH_VAL_ACC, TRUE), ==, 3);
  g_assert_cmpuint (check_series (session, PAL_SERIES_STEP_CE, FALSE), >, 0);
  n = pal_train_session_get_series (session, PAL_SERIES_STEP_CE, PAL_TRAIN_AXIS_STEP, &x, &y);
  g_assert_cmpuint (n, ==, pal_train_session_get_last_progress (session)->total_steps);
  g_assert_cmpfloat (x[0], ==, 1.0);
  g_assert_cmpfloat (x[n - 1], ==, pal_train_session_get_last_progress (session)->total_steps);

  watch_clear (&w, session);
  pal_train_config_clear (&cfg);
}

static void
test_bad_dataset (void)
{
  g_autoptr (PalTrainSession) session = pal_train_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (scratch, "no-such-dataset", NULL);
  PalTrainConfig cfg;
  Watch w;

  /* no dataset at all: refused at once, naming the setting */
  pal_train_config_init (&cfg);
  g_assert_false (pal_train_session_start (session, &cfg, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "dataset"));
  g_assert_false (pal_train_session_get_running (session));
  g_clear_error (&error);
  pal_train_config_clear (&cfg);

  /* a folder that does not exist: the run fails, naming it */
  watch_init (&w, session);
  base_config (&cfg, "bad");
  g_assert_true (pal_train_config_set (&cfg, "dataset", missing, NULL));
  g_assert_true (pal_train_session_start (session, &cfg, &error));
  g_assert_no_error (error);
  watch_wait (&w);
  g_assert_nonnull (w.error);
  g_assert_false (g_error_matches (w.error, PAL_ERROR, PAL_ERROR_CANCELLED));
  g_test_message ("error: %s", w.error->message);
  g_assert_nonnull (strstr (w.error->message, missing));
  g_assert_null (w.best);
  g_assert_false (pal_train_session_can_resume (session));
  g_assert_null (pal_train_session_get_confusion (session));
  g_assert_nonnull (strstr (pal_train_session_get_status (session), missing));

  /* and a resume of a folder without a run */
  g_assert_false (pal_train_session_resume (session, missing, &error));
  g_assert_nonnull (error);
  g_assert_false (pal_train_session_get_running (session));

  watch_clear (&w, session);
  pal_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  PalSynthOptions opt;
  int rc;

  g_test_init (&argc, &argv, NULL);
  scratch = scratch_dir_new ("pal-test-train-session-XXXXXX");

  /* 70 faces of 48 x 48: 52 train (5 of them to validation), 18 test */
  dataset = g_build_filename (scratch, "faces", NULL);
  pal_synth_options_init (&opt);
  opt.n = 70;
  opt.size = 48;
  opt.seed = 2;
  g_assert_true (pal_synth_dataset (dataset, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  arch_path = g_test_build_filename (G_TEST_DIST, "..", "data", "small48.arch", NULL);
  g_assert_true (g_file_test (arch_path, G_FILE_TEST_IS_REGULAR));

  g_test_add_func ("/train-session/run", test_run);
  g_test_add_func ("/train-session/stop-resume", test_stop_resume);
  g_test_add_func ("/train-session/bad-dataset", test_bad_dataset);
  rc = g_test_run ();

  g_free (dataset);
  g_free (arch_path);
  scratch_free (scratch);
  return rc;
}
