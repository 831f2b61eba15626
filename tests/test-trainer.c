/* test-trainer.c: the training loop on a tiny synthetic set
 *
 * One dataset of 140 synthetic faces of 32 x 32 (pal-synth.h), made once in
 * a scratch folder, a few of them without their landmark file; a small
 * text architecture (three convolutions, dropout, a linear layer).  Each
 * test trains a few epochs into its own run folder:
 *
 *   - training lowers the loss and beats chance on train; the reports come
 *     in order with sane figures; the run log is one JSON object a line;
 *     best.safetensors carries the PAL and training metadata;
 *   - a cancel takes effect within one step and keeps the checkpoints;
 *   - a resumed run ends with the weights of the uninterrupted run, bit for
 *     bit (from an epoch end and from the middle of an epoch, with
 *     class-balanced batches);
 *   - a loss that overflows stops the run at its step, the last checkpoint
 *     still loads;
 *   - PAL off reports a PAL term of 0, PAL on a negative one;
 *   - settings round-trip through config.ini, and bad ones are refused.
 */
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-model-io.h"
#include "pal-safetensors.h"
#include "pal-synth.h"
#include "pal-trainer.h"
#include "test-util.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static char *scratch;      /* removed at the end */
static char *dataset;      /* scratch/faces */

static const char tiny_arch[] =
  "# a tiny network for 32 x 32 faces\n"
  "input data shape=3x32x32\n"
  "conv conv1 out=8 k=3 pad=1 act=relu\n"
  "maxpool pool1 k=2\n"
  "conv conv2 out=16 k=3 pad=1 act=relu\n"
  "maxpool pool2 k=2\n"
  "conv conv3 out=16 k=3 pad=1 act=relu\n"
  "flatten flat\n"
  "dropout drop p=0.2\n"
  "linear fc out=7\n";

/* The settings every test starts from: the tiny network, 2 threads (a
 * bit-for-bit comparison needs one thread count), a learning rate for
 * training from scratch. */
static void
base_config (PalTrainConfig *cfg, const char *run_name)
{
  g_autofree char *arch = g_build_filename (scratch, "tiny.arch", NULL);
  g_autofree char *out = g_build_filename (scratch, run_name, NULL);

  pal_train_config_init (cfg);
  g_assert_true (pal_train_config_set (cfg, "dataset", dataset, NULL));
  g_assert_true (pal_train_config_set (cfg, "arch-file", arch, NULL));
  g_assert_true (pal_train_config_set (cfg, "out", out, NULL));
  cfg->lr = 3e-3;
  cfg->epochs = 2;
  cfg->threads = 2;
  cfg->workers = 2;
  cfg->report_every = 2;
  cfg->seed = 7;
}

/* Every report of a run, in order. */
typedef struct {
  GArray       *events;      /* PalTrainProgress */
  GCancellable *cancel;
  PalTrainEvent cancel_on;   /* cancel at the first report of this kind ... */
  gint64        cancel_step; /* ... at or after this step (-1: never) */
  GThread      *thread;      /* the thread reports must come from */
} Recorder;

static void
recorder_init (Recorder *rec)
{
  memset (rec, 0, sizeof *rec);
  rec->events = g_array_new (FALSE, FALSE, sizeof (PalTrainProgress));
  rec->cancel = g_cancellable_new ();
  rec->cancel_step = -1;
  rec->thread = g_thread_self ();
}

static void
recorder_clear (Recorder *rec)
{
  g_array_unref (rec->events);
  g_object_unref (rec->cancel);
}

static void
record (const PalTrainProgress *p, gpointer data)
{
  Recorder *rec = data;

  g_assert_true (g_thread_self () == rec->thread);
  g_array_append_val (rec->events, *p);
  if (rec->cancel_step >= 0 && p->event == rec->cancel_on && p->step >= rec->cancel_step
      && !g_cancellable_is_cancelled (rec->cancel))
    g_cancellable_cancel (rec->cancel);
}

static const PalTrainProgress *
event_at (Recorder *rec, guint i)
{
  return &g_array_index (rec->events, PalTrainProgress, i);
}

static const PalTrainProgress *
last_event (Recorder *rec)
{
  g_assert_cmpuint (rec->events->len, >, 0);
  return event_at (rec, rec->events->len - 1);
}

static char *
run_file (const PalTrainConfig *cfg, const char *name)
{
  return g_build_filename (cfg->out, name, NULL);
}

/* The parameters of a model file; g_free() them. */
static float *
load_params (const char *path, gsize *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m = pal_model_load (path, NULL, &error);

  g_assert_no_error (error);
  *n = pal_graph_get_n_floats (pal_model_get_graph (m));
  return g_memdup2 (pal_model_get_params (m), *n * sizeof (float));
}

static void
assert_same_weights (const char *a, const char *b)
{
  gsize na, nb;
  g_autofree float *pa = load_params (a, &na);
  g_autofree float *pb = load_params (b, &nb);

  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpmem (pa, na * sizeof (float), pb, nb * sizeof (float));
}

/* --- training learns, reports in order, logs -------------------------------- */

static void
check_log (const char *path, guint n_events)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] && *lines[i]; i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      JsonObject *o;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_true (json_object_has_member (o, "event"));
      g_assert_true (json_object_has_member (o, "ce"));
      g_assert_true (json_object_has_member (o, "val_accuracy"));
      g_assert_true (json_object_has_member (o, "images_per_s"));
      g_assert_cmpint (json_object_get_int_member (o, "step"), >=, 0);
      n++;
    }
  g_assert_cmpuint (n, ==, n_events);
}

static void
test_learns (void)
{
  PalTrainConfig cfg;
  Recorder rec;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) best = NULL;
  g_autofree char *best_path = NULL, *log_path = NULL;
  const PalTrainProgress *first_step = NULL, *last_epoch = NULL;
  gint64 prev_step = 0;
  int prev_epoch = 1, n_epoch_ends = 0;
  double prev_lr = INFINITY;

  base_config (&cfg, "learns");
  cfg.epochs = 20;
  recorder_init (&rec);
  g_assert_true (pal_train (&cfg, FALSE, record, &rec, rec.cancel, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < rec.events->len; i++)
    {
      const PalTrainProgress *p = event_at (&rec, i);

      g_assert_cmpint (p->step, >=, prev_step);
      g_assert_cmpint (p->epoch, >=, prev_epoch);
      g_assert_cmpint (p->epoch, <=, cfg.epochs);
      g_assert_cmpint (p->n_epochs, ==, cfg.epochs);
      g_assert_cmpint (p->total_steps, ==, (gint64) cfg.epochs * p->batches_per_epoch);
      g_assert_cmpint (p->step, <=, p->total_steps);
      g_assert_true (isfinite (p->eta_s) && p->eta_s >= 0);
      g_assert_true (p->elapsed_s >= 0);
      if (p->event == PAL_TRAIN_STEP)
        {
          g_assert_cmpint (p->step, >, prev_step);
          g_assert_true (p->step % cfg.report_every == 0
                         || p->batch == p->batches_per_epoch);
          g_assert_cmpint (p->n_samples, >, 0);
          g_assert_true (isfinite (p->ce) && p->ce > 0);
          g_assert_true (isfinite (p->pal) && p->pal >= -1.0 && p->pal <= 1.0);
          g_assert_cmpfloat_with_epsilon (p->loss, p->ce + cfg.lambda * p->pal, 1e-9);
          g_assert_true (p->train_accuracy >= 0 && p->train_accuracy <= 1);
          g_assert_true (p->images_per_s > 0);
          g_assert_true (p->lr > 0 && p->lr <= cfg.lr && p->lr < prev_lr);
          prev_lr = p->lr;
          if (!first_step)
            first_step = p;
        }
      if (p->event == PAL_TRAIN_EPOCH_END)
        {
          n_epoch_ends++;
          g_assert_cmpint (p->epoch, ==, n_epoch_ends);
          g_assert_cmpint (p->batch, ==, p->batches_per_epoch);
          g_assert_cmpint (p->step, ==, (gint64) p->epoch * p->batches_per_epoch);
          g_assert_true (p->val_accuracy >= 0 && p->val_accuracy <= 1);
          g_assert_true (p->best_val_accuracy >= p->val_accuracy);
          g_assert_cmpint (p->best_epoch, >=, 1);
          g_assert_cmpint (p->best_epoch, <=, p->epoch);
          /* a few samples have no landmarks */
          g_assert_true (p->prior_fraction > 0.8 && p->prior_fraction < 1.0);
          /* the next report says a checkpoint was written */
          g_assert_cmpint (event_at (&rec, i + 1)->event, ==, PAL_TRAIN_CHECKPOINT);
          last_epoch = p;
          g_test_message ("epoch %d: ce %.3f pal %.3f train %.3f val %.3f", p->epoch, p->ce,
                          p->pal, p->train_accuracy, p->val_accuracy);
        }
      prev_step = p->step;
      prev_epoch = p->epoch;
    }
  g_assert_cmpint (n_epoch_ends, ==, cfg.epochs);
  g_assert_cmpint (last_event (&rec)->event, ==, PAL_TRAIN_FINISHED);
  g_assert_cmpint (last_event (&rec)->step, ==, last_event (&rec)->total_steps);
  g_assert_nonnull (strstr (last_event (&rec)->message, "best.safetensors"));

  /* it learns: the loss falls and train accuracy is well above chance (1/7) */
  g_test_message ("first ce %.3f, last epoch ce %.3f, train accuracy %.3f, val %.3f",
                  first_step->ce, last_epoch->ce, last_epoch->train_accuracy,
                  last_epoch->val_accuracy);
  g_assert_cmpfloat (last_epoch->ce, <, first_step->ce - 0.2);
  g_assert_cmpfloat (last_epoch->train_accuracy, >, 0.35);

  /* best.safetensors: PAL settings, training metadata, class names */
  best_path = run_file (&cfg, "best.safetensors");
  best = pal_model_load (best_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_model_get_meta (best, "pal.layer"), ==, "conv3");
  g_assert_cmpstr (pal_model_get_meta (best, "pal.attribution"), ==, "grad-input");
  g_assert_cmpstr (pal_model_get_meta (best, "pal.channels"), ==, "first");
  g_assert_cmpstr (pal_model_get_meta (best, "train.lr"), ==, "0.003");
  g_assert_cmpstr (pal_model_get_meta (best, "train.batch"), ==, "16");
  g_assert_cmpint (atoi (pal_model_get_meta (best, "train.best-epoch")), ==,
                   last_event (&rec)->best_epoch);
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (pal_model_get_meta (best, "train.val-accuracy"),
                                                  NULL),
                                  last_event (&rec)->best_val_accuracy, 1e-6);
  g_assert_cmpstr (pal_model_get_class_name (best, 1), ==, "happy");

  log_path = run_file (&cfg, "log.jsonl");
  check_log (log_path, rec.events->len);

  /* config.ini holds the settings of the run */
  {
    PalTrainConfig saved;
    int n;
    const PalTrainSetting *table = pal_train_settings (&n);

    pal_train_config_init (&saved);
    g_assert_true (pal_train_config_load_run (&saved, cfg.out, &error));
    g_assert_no_error (error);
    for (int i = 0; i < n; i++)
      {
        g_autofree char *a = pal_train_config_get (&cfg, table[i].key);
        g_autofree char *b = pal_train_config_get (&saved, table[i].key);
        g_assert_cmpstr (a, ==, b);
      }
    pal_train_config_clear (&saved);
  }

  /* a second run into the same folder is refused */
  g_assert_false (pal_train (&cfg, FALSE, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "--resume"));

  recorder_clear (&rec);
  pal_train_config_clear (&cfg);
}

/* --- cancel ---------------------------------------------------------------- */

static void
test_cancel (void)
{
  PalTrainConfig cfg;
  Recorder rec;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) best = NULL, last = NULL;
  g_autofree char *best_path = NULL, *last_path = NULL;
  const PalTrainProgress *p;
  gint64 cancel_at;

  base_config (&cfg, "cancel");
  cfg.epochs = 3;
  recorder_init (&rec);
  /* cancel at the first report of epoch 2 */
  rec.cancel_on = PAL_TRAIN_STEP;
  rec.cancel_step = 8;
  g_assert_false (pal_train (&cfg, FALSE, record, &rec, rec.cancel, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_CANCELLED);

  /* the report that cancelled was the last step taken */
  g_assert_cmpuint (rec.events->len, >=, 2);
  g_assert_cmpint (event_at (&rec, rec.events->len - 2)->event, ==, PAL_TRAIN_STEP);
  cancel_at = event_at (&rec, rec.events->len - 2)->step;
  g_assert_cmpint (cancel_at, ==, 8);
  p = last_event (&rec);
  g_assert_cmpint (p->event, ==, PAL_TRAIN_CANCELLED);
  g_assert_cmpint (p->step, ==, cancel_at);
  g_assert_cmpstr (p->message, ==, error->message);
  g_assert_nonnull (strstr (error->message, "best.safetensors is epoch 1"));
  g_clear_error (&error);

  best_path = run_file (&cfg, "best.safetensors");
  best = pal_model_load (best_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_model_get_meta (best, "train.epoch"), ==, "1");

  /* the state at the cancel was kept for a resume */
  last_path = run_file (&cfg, "last.safetensors");
  last = pal_model_load (last_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_ascii_strtoll (pal_model_get_meta (last, "train.checkpoint-step"), NULL, 10),
                   ==, cancel_at);

  recorder_clear (&rec);
  pal_train_config_clear (&cfg);
}

/* --- resume ---------------------------------------------------------------- */

/* Runs @cfg, cancelled at the first @on report at or after @step, then
 * resumes it to the end; returns the folder's config as resumed. */
static void
interrupted_run (PalTrainConfig *cfg, PalTrainEvent on, gint64 step)
{
  Recorder rec;
  g_autoptr (GError) error = NULL;
  PalTrainConfig again;

  recorder_init (&rec);
  rec.cancel_on = on;
  rec.cancel_step = step;
  g_assert_false (pal_train (cfg, FALSE, record, &rec, rec.cancel, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_CANCELLED);
  g_clear_error (&error);
  if (on == PAL_TRAIN_STEP && last_event (&rec)->batch == last_event (&rec)->batches_per_epoch)
    {
      /* cancelled in the validation: the checkpoint says so */
      g_autofree char *path = run_file (cfg, "last-optim.safetensors");
      g_autoptr (PalSafetensors) st = pal_safetensors_open (path, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (pal_safetensors_get_metadata (st, "val_pending"), ==, "1");
    }
  recorder_clear (&rec);

  /* the resumed run reads the folder's settings */
  pal_train_config_init (&again);
  g_assert_true (pal_train_config_load_run (&again, cfg->out, &error));
  g_assert_no_error (error);
  recorder_init (&rec);
  g_assert_true (pal_train (&again, TRUE, record, &rec, rec.cancel, &error));
  g_assert_no_error (error);
  g_assert_cmpint (event_at (&rec, 0)->step, >, step - 1);
  g_assert_cmpint (last_event (&rec)->event, ==, PAL_TRAIN_FINISHED);
  recorder_clear (&rec);
  pal_train_config_clear (&again);
}

/* The lines of a run log as JSON objects with the timings taken out. */
static GPtrArray *
log_without_timings (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] && *lines[i]; i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *o;

      g_assert_true (json_parser_load_from_data (parser, lines[i], -1, NULL));
      o = json_node_get_object (json_parser_get_root (parser));
      json_object_remove_member (o, "time");
      json_object_remove_member (o, "images_per_s");
      json_object_remove_member (o, "eta_s");
      json_object_remove_member (o, "elapsed_s");
      g_ptr_array_add (out, json_to_string (json_parser_get_root (parser), FALSE));
    }
  return out;
}

static void
compare_runs (const PalTrainConfig *a, const PalTrainConfig *b)
{
  g_autofree char *la = run_file (a, "last.safetensors");
  g_autofree char *lb = run_file (b, "last.safetensors");
  g_autofree char *ba = run_file (a, "best.safetensors");
  g_autofree char *bb = run_file (b, "best.safetensors");
  g_autofree char *ga = run_file (a, "log.jsonl");
  g_autofree char *gb = run_file (b, "log.jsonl");
  g_autoptr (GPtrArray) log_a = log_without_timings (ga);
  g_autoptr (GPtrArray) log_b = log_without_timings (gb);

  assert_same_weights (la, lb);
  assert_same_weights (ba, bb);
  /* the resumed run's log reads as the uninterrupted one's */
  g_assert_cmpuint (log_a->len, ==, log_b->len);
  for (guint i = 0; i < log_a->len; i++)
    g_assert_cmpstr (log_a->pdata[i], ==, log_b->pdata[i]);
}

static void
test_resume (void)
{
  PalTrainConfig straight, at_epoch, mid, in_val;
  g_autoptr (GError) error = NULL;

  base_config (&straight, "resume-straight");
  g_assert_true (pal_train (&straight, FALSE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* 1 epoch, then a resume for the second */
  base_config (&at_epoch, "resume-epoch");
  interrupted_run (&at_epoch, PAL_TRAIN_EPOCH_END, 0);
  compare_runs (&straight, &at_epoch);

  /* from the middle of epoch 1 (the cancel writes the checkpoint) */
  base_config (&mid, "resume-mid");
  interrupted_run (&mid, PAL_TRAIN_STEP, 3);
  compare_runs (&straight, &mid);

  /* cancelled in the validation after the last step of epoch 1 (94 training
   * samples: 6 batches): the resume validates first */
  base_config (&in_val, "resume-in-validation");
  interrupted_run (&in_val, PAL_TRAIN_STEP, 6);
  compare_runs (&straight, &in_val);

  /* resuming a finished run does nothing more; a changed setting is refused */
  g_assert_true (pal_train (&mid, TRUE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  mid.lr = 1e-3;
  g_assert_false (pal_train (&mid, TRUE, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'lr'"));

  pal_train_config_clear (&straight);
  pal_train_config_clear (&at_epoch);
  pal_train_config_clear (&mid);
  pal_train_config_clear (&in_val);
}

/* Class-balanced batches, checkpoints every 4 steps, and no dropout seed
 * luck: the resumed run still matches. */
static void
test_resume_balanced (void)
{
  PalTrainConfig straight, mid;
  g_autoptr (GError) error = NULL;

  base_config (&straight, "balanced-straight");
  straight.balanced = TRUE;
  straight.checkpoint_every = 4;
  g_assert_true (pal_train (&straight, FALSE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  base_config (&mid, "balanced-mid");
  mid.balanced = TRUE;
  mid.checkpoint_every = 4;
  interrupted_run (&mid, PAL_TRAIN_STEP, 9);
  compare_runs (&straight, &mid);

  pal_train_config_clear (&straight);
  pal_train_config_clear (&mid);
}

/* --- a loss that overflows --------------------------------------------------- */

static void
test_nan (void)
{
  PalTrainConfig cfg;
  Recorder rec;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) last = NULL;
  g_autofree char *last_path = NULL, *expect = NULL;
  const PalTrainProgress *p;

  base_config (&cfg, "nan");
  cfg.lr = 1e30;
  cfg.checkpoint_every = 1;
  recorder_init (&rec);
  g_assert_false (pal_train (&cfg, FALSE, record, &rec, rec.cancel, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_NUMERIC);
  g_test_message ("%s", error->message);

  p = last_event (&rec);
  g_assert_cmpint (p->event, ==, PAL_TRAIN_FAILED);
  g_assert_cmpstr (p->message, ==, error->message);
  expect = g_strdup_printf ("stopped at step %" G_GINT64_FORMAT " ", p->step + 1);
  g_assert_nonnull (strstr (error->message, expect));
  g_assert_nonnull (strstr (error->message, "last good checkpoint"));
  g_clear_error (&error);

  /* the last checkpoint is the step before, and loads */
  last_path = run_file (&cfg, "last.safetensors");
  last = pal_model_load (last_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_ascii_strtoll (pal_model_get_meta (last, "train.checkpoint-step"), NULL, 10),
                   ==, p->step);

  recorder_clear (&rec);
  pal_train_config_clear (&cfg);
}

/* --- PAL off and on ------------------------------------------------------------ */

static void
test_pal_off_on (void)
{
  PalTrainConfig off, on;
  Recorder roff, ron;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m = NULL;
  g_autofree char *path = NULL;
  int n_steps = 0;

  base_config (&off, "pal-off");
  off.pal = FALSE;
  off.epochs = 1;
  recorder_init (&roff);
  g_assert_true (pal_train (&off, FALSE, record, &roff, roff.cancel, &error));
  g_assert_no_error (error);

  base_config (&on, "pal-on");
  on.epochs = 1;
  on.lambda = 0.5;
  recorder_init (&ron);
  g_assert_true (pal_train (&on, FALSE, record, &ron, ron.cancel, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < roff.events->len; i++)
    if (event_at (&roff, i)->event == PAL_TRAIN_STEP)
      {
        g_assert_cmpfloat (event_at (&roff, i)->pal, ==, 0.0);
        g_assert_cmpfloat (event_at (&roff, i)->loss, ==, event_at (&roff, i)->ce);
      }
  for (guint i = 0; i < ron.events->len; i++)
    if (event_at (&ron, i)->event == PAL_TRAIN_STEP)
      {
        const PalTrainProgress *p = event_at (&ron, i);
        g_assert_cmpfloat (p->pal, !=, 0.0);
        g_assert_cmpfloat_with_epsilon (p->loss, p->ce + 0.5 * p->pal, 1e-9);
        n_steps++;
      }
  g_assert_cmpint (n_steps, >, 0);

  /* the baseline's model carries no PAL settings */
  path = run_file (&off, "best.safetensors");
  m = pal_model_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (pal_model_get_meta (m, "pal.layer"));
  g_assert_cmpstr (pal_model_get_meta (m, "train.pal"), ==, "false");

  recorder_clear (&roff);
  recorder_clear (&ron);
  pal_train_config_clear (&off);
  pal_train_config_clear (&on);
}

/* --- starting from weights ---------------------------------------------------- */

/* A model of 5 classes gives every tensor but the classifier's; with lr 0
 * the run fine-tunes at the paper's 5e-5. */
static void
test_weights (void)
{
  PalTrainConfig cfg;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) five = NULL, best = NULL;
  g_autofree char *text = g_strdup (tiny_arch);
  g_autofree char *path = g_build_filename (scratch, "five.safetensors", NULL);
  g_autofree char *best_path = NULL;

  *strstr (text, "out=7") = 0;
  {
    g_autofree char *t = g_strconcat (text, "out=5\n", NULL);
    five = pal_model_new (t, &error);
  }
  g_assert_no_error (error);
  pal_model_init (five, 99);
  g_assert_true (pal_model_save (five, path, &error));

  base_config (&cfg, "weights");
  cfg.epochs = 1;
  cfg.lr = 0;
  cfg.weights = g_strdup (path);
  g_assert_true (pal_train (&cfg, FALSE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  best_path = run_file (&cfg, "best.safetensors");
  best = pal_model_load (best_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pal_model_get_meta (best, "train.weights-loaded"), ==, "6/8");
  g_assert_cmpstr (pal_model_get_meta (best, "train.lr-effective"), ==, "5e-05");
  pal_train_config_clear (&cfg);
}

/* --- on a worker thread ------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  gboolean   ok;
  GError    *error;
  int        n_reports;  /* forwarded to the main loop */
  GThread   *main;
} AsyncState;

static gboolean
report_idle (gpointer data)
{
  /* a copy of the report, in the main thread */
  G_GNUC_UNUSED PalTrainProgress *p = data;
  return G_SOURCE_REMOVE;
}

static void
forward (const PalTrainProgress *p, gpointer data)
{
  AsyncState *st = data;

  g_assert_true (g_thread_self () != st->main);
  g_atomic_int_inc (&st->n_reports);
  g_idle_add_full (G_PRIORITY_DEFAULT, report_idle, g_memdup2 (p, sizeof *p), g_free);
}

static void
done (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncState *st = data;

  g_assert_true (g_thread_self () == st->main);
  st->ok = pal_train_finish (result, &st->error);
  g_main_loop_quit (st->loop);
}

static void
test_async (void)
{
  PalTrainConfig cfg;
  AsyncState st = { 0 };

  base_config (&cfg, "async");
  cfg.epochs = 1;
  st.loop = g_main_loop_new (NULL, FALSE);
  st.main = g_thread_self ();
  pal_train_async (&cfg, FALSE, forward, &st, NULL, done, &st);
  pal_train_config_clear (&cfg);   /* copied */
  g_main_loop_run (st.loop);
  g_assert_no_error (st.error);
  g_assert_true (st.ok);
  g_assert_cmpint (st.n_reports, >, 3);
  g_main_loop_unref (st.loop);
}

/* --- settings ----------------------------------------------------------------- */

static void
test_config (void)
{
  PalTrainConfig a, b;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (scratch, "config.ini", NULL);
  g_autofree char *bad = g_build_filename (scratch, "bad.ini", NULL);
  const PalTrainSetting *table;
  int n;

  /* the defaults are the paper's */
  pal_train_config_init (&a);
  g_assert_cmpint (a.batch, ==, 16);
  g_assert_cmpint (a.epochs, ==, 75);
  g_assert_cmpfloat (a.rotation, ==, 10.0);
  g_assert_true (a.flip && a.augment && a.pal);
  g_assert_cmpfloat (a.lambda, ==, 1.0);
  g_assert_cmpstr (a.attribution, ==, "grad-input");
  g_assert_cmpstr (a.channels, ==, "first");
  g_assert_cmpfloat (a.sigma, ==, 3.0);
  g_assert_cmpfloat (a.val_fraction, ==, 0.1);
  a.weights = g_strdup ("pretrained.safetensors");
  g_assert_cmpfloat (pal_train_config_effective_lr (&a), ==, 5e-5);
  g_clear_pointer (&a.weights, g_free);
  g_assert_cmpfloat (pal_train_config_effective_lr (&a), ==, 1e-3);

  /* every key: set from text, read back the same text */
  table = pal_train_settings (&n);
  g_assert_cmpint (n, >=, 30);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *v = pal_train_config_get (&a, table[i].key);
      g_assert_nonnull (v);
      g_assert_true (pal_train_config_set (&a, table[i].key, v, &error));
      g_assert_no_error (error);
      g_assert_true (table[i].help && *table[i].help);
      g_assert_true (pal_train_setting_lookup (table[i].key) == &table[i]);
    }

  /* a changed config round-trips through the file */
  g_assert_true (pal_train_config_set (&a, "dataset", "/data/RAF-DB", NULL));
  g_assert_true (pal_train_config_set (&a, "lr", "4e-05", NULL));
  g_assert_true (pal_train_config_set (&a, "balanced", "yes", NULL));
  g_assert_true (pal_train_config_set (&a, "channels", "mean", NULL));
  g_assert_true (pal_train_config_set (&a, "iterations", "40000", NULL));
  g_assert_true (pal_train_config_set (&a, "seed", "-3", NULL));
  g_assert_true (pal_train_config_set (&a, "landmark-noise", "0.1", NULL));
  g_assert_true (pal_train_config_set (&a, "layer", "features.21", NULL));
  g_assert_true (pal_train_config_save (&a, path, &error));
  g_assert_no_error (error);
  pal_train_config_init (&b);
  g_assert_true (pal_train_config_load (&b, path, &error));
  g_assert_no_error (error);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *va = pal_train_config_get (&a, table[i].key);
      g_autofree char *vb = pal_train_config_get (&b, table[i].key);
      g_assert_cmpstr (va, ==, vb);
    }
  g_assert_cmpfloat (b.lr, ==, 4e-5);
  g_assert_cmpfloat (b.landmark_noise, ==, 0.1);
  g_assert_cmpint (b.seed, ==, -3);
  g_assert_true (b.balanced);
  g_assert_cmpstr (b.channels, ==, "mean");

  /* bad values, unknown keys, keys in the wrong group */
  g_assert_false (pal_train_config_set (&b, "lr", "fast", &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pal_train_config_set (&b, "batch", "0", &error));
  g_assert_nonnull (strstr (error->message, "out of range"));
  g_clear_error (&error);
  g_assert_false (pal_train_config_set (&b, "attribution", "lrp", &error));
  g_assert_nonnull (strstr (error->message, "grad, grad-input"));
  g_clear_error (&error);
  g_assert_false (pal_train_config_set (&b, "flip", "maybe", &error));
  g_clear_error (&error);
  g_assert_false (pal_train_config_set (&b, "learning-rate", "1", &error));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (bad, "[optim]\nlearning-rate = 1\n", -1, NULL));
  g_assert_false (pal_train_config_load (&b, bad, &error));
  g_assert_nonnull (strstr (error->message, "learning-rate"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (bad, "[pal]\nlr = 1\n", -1, NULL));
  g_assert_false (pal_train_config_load (&b, bad, &error));
  g_assert_nonnull (strstr (error->message, "[optim]"));
  g_clear_error (&error);
  /* from a pipe, as pal train --config <(...) gives it */
  {
    int fds[2];
    const char *text = "[optim]\nepochs = 7\n";
    g_autofree char *dev = NULL;

    g_assert_cmpint (pipe (fds), ==, 0);
    g_assert_cmpint (write (fds[1], text, strlen (text)), ==, (gssize) strlen (text));
    close (fds[1]);
    dev = g_strdup_printf ("/dev/fd/%d", fds[0]);
    g_assert_true (pal_train_config_load (&b, dev, &error));
    g_assert_no_error (error);
    g_assert_cmpint (b.epochs, ==, 7);
    close (fds[0]);
  }
  /* a missing file is named */
  g_assert_false (pal_train_config_load (&b, "no-such-settings.ini", &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no-such-settings.ini"));
  g_clear_error (&error);

  /* a run needs a dataset and a folder; c1 only with "first" */
  pal_train_config_clear (&b);
  pal_train_config_init (&b);
  g_assert_false (pal_train_config_validate (&b, &error));
  g_clear_error (&error);
  b.dataset = g_strdup ("x");
  b.out = g_strdup ("y");
  g_assert_true (pal_train_config_validate (&b, NULL));
  b.c1 = 4;
  g_free (b.channels);
  b.channels = g_strdup ("mean");
  g_assert_false (pal_train_config_validate (&b, &error));
  g_clear_error (&error);

  pal_train_config_clear (&a);
  pal_train_config_clear (&b);
}

/* A dataset, an architecture or a layer that does not exist: a clear error,
 * and the FAILED report carries it. */
static void
test_errors (void)
{
  PalTrainConfig cfg;
  Recorder rec;
  g_autoptr (GError) error = NULL;

  base_config (&cfg, "errors");
  g_free (cfg.layer);
  cfg.layer = g_strdup ("conv9");
  recorder_init (&rec);
  g_assert_false (pal_train (&cfg, FALSE, record, &rec, rec.cancel, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "conv9"));
  g_assert_cmpint (last_event (&rec)->event, ==, PAL_TRAIN_FAILED);
  g_assert_cmpstr (last_event (&rec)->message, ==, error->message);
  g_clear_error (&error);

  /* the tail of pool2 is fine, of the logits' input not (no spatial map) */
  g_free (cfg.layer);
  cfg.layer = g_strdup ("fc");
  g_assert_false (pal_train (&cfg, FALSE, NULL, NULL, NULL, &error));
  g_clear_error (&error);

  g_free (cfg.layer);
  cfg.layer = NULL;
  g_free (cfg.out);
  cfg.out = g_build_filename (scratch, "errors-resume", NULL);
  g_assert_false (pal_train (&cfg, TRUE, NULL, NULL, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no checkpoint"));

  recorder_clear (&rec);
  pal_train_config_clear (&cfg);
}

/* A bad escape in a value: GLib returns part of the value with its error;
 * the setting must not be taken (found by fuzz-train-config). */
static void
test_config_bad_escape (void)
{
  static const char ini[] = "[data]\ndataset=edata/w\\eight-decay=\n";
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  PalTrainConfig cfg;

  g_assert_true (g_key_file_load_from_data (kf, ini, -1, G_KEY_FILE_NONE, NULL));
  pal_train_config_init (&cfg);
  g_assert_false (pal_train_config_load_keyfile (&cfg, kf, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "[data] dataset: "));
  g_assert_true (cfg.dataset == NULL || *cfg.dataset == '\0');
  pal_train_config_clear (&cfg);

  /* two bad escapes, the last at the end: GLib would set its error twice */
  g_autoptr (GKeyFile) kf2 = g_key_file_new ();
  g_clear_error (&error);
  g_assert_true (g_key_file_load_from_data (kf2, "[optim]\nbatch=2\\V\\\n", -1,
                                            G_KEY_FILE_NONE, NULL));
  pal_train_config_init (&cfg);
  g_assert_false (pal_train_config_load_keyfile (&cfg, kf2, &error));
  g_assert_nonnull (strstr (error->message, "[optim] batch: invalid escape"));
  pal_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *arch = NULL;
  PalSynthOptions opt;
  int rc;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("pal-test-trainer-XXXXXX", NULL);
  g_assert_nonnull (scratch);

  /* 140 faces of 32 x 32: 105 train (about 10 of them to validation), 35 test */
  dataset = g_build_filename (scratch, "faces", NULL);
  pal_synth_options_init (&opt);
  opt.n = 140;
  opt.size = 32;
  opt.seed = 3;
  g_assert_true (pal_synth_dataset (dataset, &opt, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  /* a few training samples without landmarks */
  for (int i = 1; i <= 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("train_%05d_aligned.pts", i * 11);
      g_autofree char *pts = g_build_filename (dataset, "Landmarks", name, NULL);
      g_assert_cmpint (g_unlink (pts), ==, 0);
    }
  arch = g_build_filename (scratch, "tiny.arch", NULL);
  g_assert_true (g_file_set_contents (arch, tiny_arch, -1, NULL));

  g_test_add_func ("/trainer/config", test_config);
  g_test_add_func ("/trainer/config/bad-escape", test_config_bad_escape);
  g_test_add_func ("/trainer/learns", test_learns);
  g_test_add_func ("/trainer/cancel", test_cancel);
  g_test_add_func ("/trainer/resume", test_resume);
  g_test_add_func ("/trainer/resume-balanced", test_resume_balanced);
  g_test_add_func ("/trainer/nan", test_nan);
  g_test_add_func ("/trainer/pal-off-on", test_pal_off_on);
  g_test_add_func ("/trainer/weights", test_weights);
  g_test_add_func ("/trainer/async", test_async);
  g_test_add_func ("/trainer/errors", test_errors);
  rc = g_test_run ();
  rm_rf (scratch);
  g_free (scratch);
  g_free (dataset);
  return rc;
}
