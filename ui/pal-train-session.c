/* pal-train-session.c: the Train page's view model
 *
 * The training thread's reports (plain structs) are appended to a queue
 * under a mutex; the first report of a batch schedules an idle source in
 * the session's main context that drains the queue, in order.  When
 * pal_train_async() returns, the queue is drained once more before the end
 * is handled, so "finished" always follows the last "progress".
 *
 * The session holds a reference to itself while a run (and its
 * evaluation) is under way: the trainer's progress_data must stay valid,
 * and a page that goes away must not take the run's state with it.  It
 * also holds the default GApplication, so that closing the last window
 * during a run lets the cancelled run write its checkpoint first.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pal-error.h"
#include "pal-model-io.h"
#include "pal-safetensors.h"
#include "pal-train-session.h"

/* pal_train draws its validation split with the seed (run.seed) XOR this
 * stream; it must equal VAL_STREAM in core/pal-trainer.c (as
 * app/pal-cmd-eval.c does). */
#define TRAIN_VAL_STREAM 0x510e527fade682d1ull
#define EVAL_BATCH       32

typedef struct {
  GArray *x_step;    /* double */
  GArray *x_epoch;   /* double */
  GArray *y;         /* double */
} Series;

struct _PalTrainSession
{
  GObject           parent_instance;

  GMainContext     *context;       /* where the run was started */
  GCancellable     *cancellable;   /* of the run under way */
  GApplication     *app;           /* held while running */
  PalTrainConfig    cfg;
  gboolean          have_cfg;
  gboolean          running;
  gboolean          can_resume;
  double            fraction;
  double            images_per_s;
  double            eta;
  char             *status;
  PalTrainProgress  last;
  gboolean          have_last;
  Series            series[PAL_N_SERIES];

  /* reports on their way from the training thread */
  GMutex            lock;
  GArray           *queue;         /* PalTrainProgress */
  gboolean          drain_pending;

  /* results */
  PalConfusion     *confusion;
  char            **class_names;
  PalSplit          eval_split;
  GError           *eval_error;
  char             *best_path;
  char             *last_path;
};

G_DEFINE_FINAL_TYPE (PalTrainSession, pal_train_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  PROP_FRACTION,
  PROP_IMAGES_PER_SECOND,
  PROP_ETA,
  PROP_STATUS,
  PROP_RUN_DIR,
  N_PROPS
};

enum {
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* --- small setters ----------------------------------------------------------- */

static void
set_running (PalTrainSession *self, gboolean running)
{
  if (self->running == running)
    return;
  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
set_double (PalTrainSession *self, double *field, double value, int prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_status (PalTrainSession *self, const char *status)
{
  if (g_strcmp0 (self->status, status) == 0)
    return;
  g_free (self->status);
  self->status = g_strdup (status);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

static void
clear_results (PalTrainSession *self)
{
  g_clear_pointer (&self->confusion, pal_confusion_free);
  g_clear_pointer (&self->class_names, g_strfreev);
  g_clear_error (&self->eval_error);
  g_clear_pointer (&self->best_path, g_free);
  g_clear_pointer (&self->last_path, g_free);
  self->eval_split = PAL_SPLIT_VAL;
}

/* --- history ------------------------------------------------------------------ */

static void
series_truncate (Series *s, PalTrainAxis axis, double from)
{
  GArray *x = axis == PAL_TRAIN_AXIS_STEP ? s->x_step : s->x_epoch;
  guint keep = x->len;

  while (keep > 0 && g_array_index (x, double, keep - 1) >= from)
    keep--;
  g_array_set_size (s->x_step, keep);
  g_array_set_size (s->x_epoch, keep);
  g_array_set_size (s->y, keep);
}

static void
series_add (Series *s, double x_step, double x_epoch, double y)
{
  g_array_append_val (s->x_step, x_step);
  g_array_append_val (s->x_epoch, x_epoch);
  g_array_append_val (s->y, y);
}

static double
last_x (Series *s, PalTrainAxis axis)
{
  GArray *x = axis == PAL_TRAIN_AXIS_STEP ? s->x_step : s->x_epoch;

  return x->len ? g_array_index (x, double, x->len - 1) : -INFINITY;
}

/* Takes a report into the curves.  A report at or before the last point
 * (the part of a resumed run after its checkpoint) replaces what followed. */
static void
history_add (PalTrainSession *self, const PalTrainProgress *p)
{
  double step = (double) p->step;

  if (p->event == PAL_TRAIN_STEP)
    {
      double epoch = p->batches_per_epoch > 0
                       ? (p->epoch - 1) + (double) p->batch / p->batches_per_epoch
                       : p->epoch;

      if (step <= last_x (&self->series[PAL_SERIES_STEP_CE], PAL_TRAIN_AXIS_STEP))
        for (int i = PAL_SERIES_STEP_CE; i <= PAL_SERIES_STEP_TRAIN_ACC; i++)
          series_truncate (&self->series[i], PAL_TRAIN_AXIS_STEP, step);
      series_add (&self->series[PAL_SERIES_STEP_CE], step, epoch, p->ce);
      series_add (&self->series[PAL_SERIES_STEP_PAL], step, epoch, p->pal);
      series_add (&self->series[PAL_SERIES_STEP_TRAIN_ACC], step, epoch, p->train_accuracy);
    }
  else if (p->event == PAL_TRAIN_EPOCH_END)
    {
      double epoch = p->epoch;

      if (epoch <= last_x (&self->series[PAL_SERIES_EPOCH_VAL_ACC], PAL_TRAIN_AXIS_EPOCH))
        for (int i = PAL_SERIES_EPOCH_TRAIN_ACC; i <= PAL_SERIES_EPOCH_PAL; i++)
          series_truncate (&self->series[i], PAL_TRAIN_AXIS_EPOCH, epoch);
      series_add (&self->series[PAL_SERIES_EPOCH_TRAIN_ACC], step, epoch, p->train_accuracy);
      series_add (&self->series[PAL_SERIES_EPOCH_VAL_ACC], step, epoch, p->val_accuracy);
      series_add (&self->series[PAL_SERIES_EPOCH_CE], step, epoch, p->ce);
      series_add (&self->series[PAL_SERIES_EPOCH_PAL], step, epoch, p->pal);
    }
}

static void
history_clear (PalTrainSession *self)
{
  for (int i = 0; i < PAL_N_SERIES; i++)
    {
      g_array_set_size (self->series[i].x_step, 0);
      g_array_set_size (self->series[i].x_epoch, 0);
      g_array_set_size (self->series[i].y, 0);
    }
}

static double
json_double (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || JSON_NODE_TYPE (n) != JSON_NODE_VALUE)
    return NAN;
  return json_node_get_double (n);
}

/* The step of @run_dir's last checkpoint (from last.safetensors' metadata,
 * without reading the weights); -1 when unknown. */
static gint64
checkpoint_step (const char *run_dir)
{
  g_autofree char *path = g_build_filename (run_dir, "last.safetensors", NULL);
  g_autoptr (PalSafetensors) st = pal_safetensors_open (path, NULL);
  const char *v = st ? pal_safetensors_get_metadata (st, "train.checkpoint-step") : NULL;

  return v && *v ? g_ascii_strtoll (v, NULL, 10) : -1;
}

/* The reports of @run_dir's log.jsonl up to its last checkpoint (the part
 * a resume keeps), into the history.  A missing or damaged log only leaves
 * the curves shorter. */
static void
history_load_log (PalTrainSession *self, const char *run_dir)
{
  g_autofree char *path = g_build_filename (run_dir, "log.jsonl", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gint64 until = checkpoint_step (run_dir);

  if (until < 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      PalTrainProgress p = { 0 };
      const char *event;
      JsonObject *o;

      if (!*lines[i] || !json_parser_load_from_data (parser, lines[i], -1, NULL)
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      o = json_node_get_object (json_parser_get_root (parser));
      event = json_object_get_string_member_with_default (o, "event", "");
      if (g_str_equal (event, "step"))
        p.event = PAL_TRAIN_STEP;
      else if (g_str_equal (event, "epoch"))
        p.event = PAL_TRAIN_EPOCH_END;
      else
        continue;
      p.step = json_object_get_int_member_with_default (o, "step", 0);
      if (p.step > until)
        break;
      p.epoch = json_object_get_int_member_with_default (o, "epoch", 0);
      p.n_epochs = json_object_get_int_member_with_default (o, "n_epochs", 0);
      p.batch = json_object_get_int_member_with_default (o, "batch", 0);
      p.batches_per_epoch = json_object_get_int_member_with_default (o, "batches_per_epoch", 0);
      p.total_steps = json_object_get_int_member_with_default (o, "total_steps", 0);
      p.ce = json_double (o, "ce");
      p.pal = json_double (o, "pal");
      p.train_accuracy = json_double (o, "train_accuracy");
      p.val_accuracy = json_double (o, "val_accuracy");
      history_add (self, &p);
    }
}

/* --- reports --------------------------------------------------------------- */

static void
update_status (PalTrainSession *self, const PalTrainProgress *p)
{
  g_autofree char *text = NULL;

  switch (p->event)
    {
    case PAL_TRAIN_STEP:
    case PAL_TRAIN_CHECKPOINT:
      text = g_strdup_printf (_("Epoch %d of %d · step %lld of %lld"),
                              p->epoch, p->n_epochs, (long long) p->step,
                              (long long) p->total_steps);
      break;
    case PAL_TRAIN_EPOCH_END:
      if (isfinite (p->val_accuracy))
        text = g_strdup_printf (_("Epoch %d of %d done · validation accuracy %.1f %%"),
                                p->epoch, p->n_epochs, 100 * p->val_accuracy);
      else
        text = g_strdup_printf (_("Epoch %d of %d done"), p->epoch, p->n_epochs);
      break;
    case PAL_TRAIN_FINISHED:
      if (isfinite (p->best_val_accuracy) && p->best_epoch > 0)
        text = g_strdup_printf (_("Finished · best validation accuracy %.1f %% (epoch %d)"),
                                100 * p->best_val_accuracy, p->best_epoch);
      else
        text = g_strdup (_("Finished"));
      break;
    case PAL_TRAIN_CANCELLED:
      text = g_strdup_printf (_("Stopped after step %lld of %lld"),
                              (long long) p->step, (long long) p->total_steps);
      break;
    case PAL_TRAIN_FAILED:
    default:
      return;   /* the end says it, with the error */
    }
  set_status (self, text);
}

static void
take_report (PalTrainSession *self, const PalTrainProgress *p)
{
  self->last = *p;
  self->have_last = TRUE;
  history_add (self, p);
  if (p->total_steps > 0)
    set_double (self, &self->fraction, CLAMP ((double) p->step / p->total_steps, 0.0, 1.0),
                PROP_FRACTION);
  if (p->event == PAL_TRAIN_FINISHED)
    set_double (self, &self->fraction, 1.0, PROP_FRACTION);
  if (p->event == PAL_TRAIN_STEP && isfinite (p->images_per_s) && p->images_per_s > 0)
    set_double (self, &self->images_per_s, p->images_per_s, PROP_IMAGES_PER_SECOND);
  if (isfinite (p->eta_s))
    set_double (self, &self->eta, MAX (p->eta_s, 0.0), PROP_ETA);
  if (p->event == PAL_TRAIN_FINISHED)
    set_double (self, &self->eta, 0.0, PROP_ETA);
  update_status (self, p);
  g_signal_emit (self, signals[PROGRESS], 0, p);
}

/* Main context: every report queued so far, in order. */
static void
drain_queue (PalTrainSession *self)
{
  g_autoptr (GArray) reports = NULL;

  g_mutex_lock (&self->lock);
  reports = self->queue;
  self->queue = g_array_new (FALSE, FALSE, sizeof (PalTrainProgress));
  self->drain_pending = FALSE;
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < reports->len; i++)
    take_report (self, &g_array_index (reports, PalTrainProgress, i));
}

static gboolean
drain_idle (gpointer data)
{
  drain_queue (PAL_TRAIN_SESSION (data));
  return G_SOURCE_REMOVE;
}

/* Training thread. */
static void
on_progress (const PalTrainProgress *p, gpointer data)
{
  PalTrainSession *self = data;
  gboolean schedule;

  g_mutex_lock (&self->lock);
  g_array_append_val (self->queue, *p);
  schedule = !self->drain_pending;
  self->drain_pending = TRUE;
  g_mutex_unlock (&self->lock);

  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, drain_idle, g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[pal] training progress");
      g_source_attach (source, self->context);
      g_source_unref (source);
    }
}

/* --- the end of a run ---------------------------------------------------------- */

static char *
existing_file (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_clear_pointer (&path, g_free);
  return path;
}

/* Emits "finished" and lets go of the run. */
static void
finish (PalTrainSession *self, const GError *error)
{
  g_clear_pointer (&self->best_path, g_free);
  g_clear_pointer (&self->last_path, g_free);
  self->best_path = existing_file (self->cfg.out, "best.safetensors");
  self->last_path = existing_file (self->cfg.out, "last.safetensors");
  self->can_resume = error && self->last_path
                     && (g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED)
                         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  if (error && !self->can_resume)
    {
      g_autofree char *text = g_strdup_printf (_("Failed: %s"), error->message);

      set_status (self, text);
    }
  if (self->fraction < 1.0 || error)
    set_double (self, &self->eta, -1.0, PROP_ETA);
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  g_signal_emit (self, signals[FINISHED], 0, error, self->best_path, self->last_path);
  if (self->app)
    g_application_release (self->app);
  g_clear_object (&self->app);
  g_object_unref (self);   /* the run's reference */
}

typedef struct {
  PalTrainConfig cfg;
  char          *model_path;
  /* out */
  PalConfusion  *confusion;
  char         **names;
  PalSplit       split;
} EvalJob;

static void
eval_job_free (gpointer data)
{
  EvalJob *job = data;

  pal_train_config_clear (&job->cfg);
  g_free (job->model_path);
  g_clear_pointer (&job->confusion, pal_confusion_free);
  g_strfreev (job->names);
  g_free (job);
}

/* Worker thread: the best model over the run's validation split, drawn as
 * the run drew it. */
static void
eval_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  EvalJob *job = data;
  const PalTrainConfig *cfg = &job->cfg;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (PalDataset) ds = NULL;
  PalDatasetOptions opt = { 0 };
  PalDatasetFormat fmt;
  const char *const *names;
  GError *error = NULL;
  int k;

  model = pal_model_load (job->model_path, NULL, &error);
  if (!model || !pal_dataset_format_from_string (cfg->format, &fmt, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  opt.include_contempt = cfg->contempt;
  opt.image_dir = cfg->images;
  opt.landmarks_dir = cfg->landmarks;
  ds = pal_dataset_open (cfg->dataset, fmt, &opt, &error);
  if (!ds
      || (!pal_dataset_has_own_validation (ds) && cfg->val_fraction > 0
          && !pal_dataset_make_validation (ds, cfg->val_fraction,
                                           (guint64) cfg->seed ^ TRAIN_VAL_STREAM, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  job->split = pal_dataset_count (ds, PAL_SPLIT_VAL, -1) > 0 ? PAL_SPLIT_VAL : PAL_SPLIT_TEST;
  job->confusion = pal_evaluate (model, ds, job->split, EVAL_BATCH, cancellable,
                                 NULL, NULL, NULL, &error);
  if (!job->confusion)
    {
      g_task_return_error (task, error);
      return;
    }
  names = pal_dataset_class_names (ds, &k);
  job->names = g_strdupv ((char **) names);
  g_task_return_boolean (task, TRUE);
}

static void
on_eval_done (GObject *source, GAsyncResult *result, gpointer data)
{
  PalTrainSession *self = data;
  EvalJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      self->confusion = g_steal_pointer (&job->confusion);
      self->class_names = g_steal_pointer (&job->names);
      self->eval_split = job->split;
    }
  else
    self->eval_error = g_steal_pointer (&error);
  if (self->have_last && self->last.event == PAL_TRAIN_FINISHED)
    update_status (self, &self->last);
  else
    set_status (self, _("Finished"));
  finish (self, NULL);
}

static void
evaluate (PalTrainSession *self, const char *best_path)
{
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, on_eval_done, self);
  EvalJob *job = g_new0 (EvalJob, 1);

  pal_train_config_copy (&job->cfg, &self->cfg);
  job->model_path = g_strdup (best_path);
  g_task_set_source_tag (task, evaluate);
  g_task_set_task_data (task, job, eval_job_free);
  g_task_set_return_on_cancel (task, FALSE);
  set_status (self, _("Evaluating the best model…"));
  g_task_run_in_thread (task, eval_thread);
}

static void
on_train_done (GObject *source, GAsyncResult *result, gpointer data)
{
  PalTrainSession *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *best = NULL;

  drain_queue (self);
  if (!pal_train_finish (result, &error))
    {
      finish (self, error);
      return;
    }
  set_double (self, &self->fraction, 1.0, PROP_FRACTION);
  best = existing_file (self->cfg.out, "best.safetensors");
  if (best)
    evaluate (self, best);
  else
    finish (self, NULL);
}

/* --- running ----------------------------------------------------------------- */

static gboolean
begin (PalTrainSession *self, const PalTrainConfig *cfg, gboolean resume, GError **error)
{
  if (self->running)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _("A training run is already under way"));
      return FALSE;
    }
  if (!pal_train_config_validate (cfg, error))
    return FALSE;

  if (self->have_cfg)
    pal_train_config_clear (&self->cfg);
  pal_train_config_copy (&self->cfg, cfg);
  self->have_cfg = TRUE;
  self->have_last = FALSE;
  self->can_resume = FALSE;
  clear_results (self);
  history_clear (self);
  if (resume)
    history_load_log (self, cfg->out);

  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->app = g_application_get_default ();
  if (self->app)
    {
      g_object_ref (self->app);
      g_application_hold (self->app);
    }
  set_double (self, &self->fraction, 0.0, PROP_FRACTION);
  set_double (self, &self->images_per_s, 0.0, PROP_IMAGES_PER_SECOND);
  set_double (self, &self->eta, -1.0, PROP_ETA);
  set_status (self, resume ? _("Resuming…") : _("Starting…"));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN_DIR]);
  set_running (self, TRUE);

  g_object_ref (self);   /* dropped in finish () */
  pal_train_async (&self->cfg, resume, on_progress, self, self->cancellable,
                   on_train_done, self);
  return TRUE;
}

gboolean
pal_train_session_start (PalTrainSession *self, const PalTrainConfig *cfg, GError **error)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), FALSE);
  g_return_val_if_fail (cfg != NULL, FALSE);

  return begin (self, cfg, FALSE, error);
}

gboolean
pal_train_session_resume (PalTrainSession *self, const char *run_dir, GError **error)
{
  PalTrainConfig cfg;
  gboolean ok;

  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), FALSE);
  g_return_val_if_fail (run_dir != NULL, FALSE);

  if (self->running)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _("A training run is already under way"));
      return FALSE;
    }
  pal_train_config_init (&cfg);
  ok = pal_train_config_load_run (&cfg, run_dir, error)
       && begin (self, &cfg, TRUE, error);
  pal_train_config_clear (&cfg);
  return ok;
}

void
pal_train_session_stop (PalTrainSession *self)
{
  g_return_if_fail (PAL_IS_TRAIN_SESSION (self));

  if (self->running && self->cancellable)
    {
      g_cancellable_cancel (self->cancellable);
      set_status (self, _("Stopping…"));
    }
}

void
pal_train_session_clear (PalTrainSession *self)
{
  g_return_if_fail (PAL_IS_TRAIN_SESSION (self));

  if (self->running)
    return;
  history_clear (self);
  clear_results (self);
}

/* --- getters -------------------------------------------------------------------- */

gboolean
pal_train_session_get_running (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), FALSE);
  return self->running;
}

double
pal_train_session_get_fraction (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), 0.0);
  return self->fraction;
}

double
pal_train_session_get_images_per_second (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), 0.0);
  return self->images_per_s;
}

double
pal_train_session_get_eta (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), -1.0);
  return self->eta;
}

const char *
pal_train_session_get_status (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->status;
}

const char *
pal_train_session_get_run_dir (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->have_cfg ? self->cfg.out : NULL;
}

const PalTrainConfig *
pal_train_session_get_config (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->have_cfg ? &self->cfg : NULL;
}

const PalTrainProgress *
pal_train_session_get_last_progress (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->have_last ? &self->last : NULL;
}

gboolean
pal_train_session_can_resume (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), FALSE);
  return !self->running && self->can_resume;
}

guint
pal_train_session_get_series (PalTrainSession *self, PalTrainSeries series, PalTrainAxis axis,
                              const double **x, const double **y)
{
  Series *s;

  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), 0);
  g_return_val_if_fail (series < PAL_N_SERIES, 0);

  s = &self->series[series];
  if (x)
    *x = (const double *) (axis == PAL_TRAIN_AXIS_STEP ? s->x_step : s->x_epoch)->data;
  if (y)
    *y = (const double *) s->y->data;
  return s->y->len;
}

const PalConfusion *
pal_train_session_get_confusion (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->confusion;
}

const char *const *
pal_train_session_get_class_names (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return (const char *const *) self->class_names;
}

PalSplit
pal_train_session_get_eval_split (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), PAL_SPLIT_VAL);
  return self->eval_split;
}

const GError *
pal_train_session_get_eval_error (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->eval_error;
}

const char *
pal_train_session_get_best_path (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->best_path;
}

const char *
pal_train_session_get_last_path (PalTrainSession *self)
{
  g_return_val_if_fail (PAL_IS_TRAIN_SESSION (self), NULL);
  return self->last_path;
}

/* --- GObject ------------------------------------------------------------------- */

PalTrainSession *
pal_train_session_new (void)
{
  return g_object_new (PAL_TYPE_TRAIN_SESSION, NULL);
}

static void
pal_train_session_dispose (GObject *object)
{
  PalTrainSession *self = PAL_TRAIN_SESSION (object);

  /* a run holds a reference: there is none under way here */
  g_clear_object (&self->cancellable);
  g_clear_object (&self->app);

  G_OBJECT_CLASS (pal_train_session_parent_class)->dispose (object);
}

static void
pal_train_session_finalize (GObject *object)
{
  PalTrainSession *self = PAL_TRAIN_SESSION (object);

  if (self->have_cfg)
    pal_train_config_clear (&self->cfg);
  for (int i = 0; i < PAL_N_SERIES; i++)
    {
      g_array_unref (self->series[i].x_step);
      g_array_unref (self->series[i].x_epoch);
      g_array_unref (self->series[i].y);
    }
  g_array_unref (self->queue);
  g_mutex_clear (&self->lock);
  clear_results (self);
  g_free (self->status);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (pal_train_session_parent_class)->finalize (object);
}

static void
pal_train_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalTrainSession *self = PAL_TRAIN_SESSION (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_IMAGES_PER_SECOND:
      g_value_set_double (value, self->images_per_s);
      break;
    case PROP_ETA:
      g_value_set_double (value, self->eta);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_RUN_DIR:
      g_value_set_string (value, pal_train_session_get_run_dir (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_train_session_class_init (PalTrainSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pal_train_session_dispose;
  object_class->finalize = pal_train_session_finalize;
  object_class->get_property = pal_train_session_get_property;

  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IMAGES_PER_SECOND] =
    g_param_spec_double ("images-per-second", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ETA] =
    g_param_spec_double ("eta", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUN_DIR] =
    g_param_spec_string ("run-dir", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_ERROR, G_TYPE_STRING, G_TYPE_STRING);
}

static void
pal_train_session_init (PalTrainSession *self)
{
  for (int i = 0; i < PAL_N_SERIES; i++)
    {
      self->series[i].x_step = g_array_new (FALSE, FALSE, sizeof (double));
      self->series[i].x_epoch = g_array_new (FALSE, FALSE, sizeof (double));
      self->series[i].y = g_array_new (FALSE, FALSE, sizeof (double));
    }
  g_mutex_init (&self->lock);
  self->queue = g_array_new (FALSE, FALSE, sizeof (PalTrainProgress));
  self->eta = -1.0;
  self->eval_split = PAL_SPLIT_VAL;
  self->status = g_strdup (_("Ready"));
}
