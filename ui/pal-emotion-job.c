/* pal-emotion-job.c: the Per-emotion maps page's model
 *
 * A run is a Run (the inputs, copied on the main thread) handed to a GTask
 * in a thread; its generation number says whether it is still the current
 * one when its progress or its result reaches the main context.  The
 * worker opens the models and the dataset itself, resolves the layer as
 * `pal gradcam-means` does, and runs pal_gradcam_means_run() for each
 * model in turn.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pal-arch.h"
#include "pal-emotion-job.h"
#include "pal-error.h"
#include "pal-faceapi.h"
#include "pal-model-io.h"

struct _PalEmotionJob
{
  GObject           parent_instance;

  GMainContext     *context;
  /* inputs */
  char             *model_paths[PAL_EMOTION_JOB_N_SLOTS];
  char             *dataset_dir;
  PalDatasetFormat  format;
  PalSplit          split;
  char             *layer;
  double            frontal_eps;
  int               batch_size;
  /* the run */
  guint64           generation;
  GCancellable     *cancellable;
  gboolean          running;
  int               run_n_models;
  gboolean          run_frontal;
  double            fraction;
  /* results */
  PalGradcamMeans  *results[PAL_EMOTION_JOB_N_SLOTS];
  char             *model_names[PAL_EMOTION_JOB_N_SLOTS];
  char            **class_names;
  char             *result_dataset;
  PalSplit          result_split;
};

G_DEFINE_FINAL_TYPE (PalEmotionJob, pal_emotion_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SPLIT,
  PROP_LAYER,
  PROP_FRONTAL_EPS,
  PROP_BATCH_SIZE,
  PROP_RUNNING,
  N_PROPS
};

enum {
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* --- a run ------------------------------------------------------------------- */

typedef struct {
  PalEmotionJob         *job;          /* a reference, for the progress messages */
  guint64                generation;
  GMainContext          *context;
  char                  *model_paths[PAL_EMOTION_JOB_N_SLOTS];
  int                    n_models;
  char                  *dataset_dir;
  PalDatasetFormat       format;
  PalSplit               split;
  char                  *layer;
  PalGradcamMeansOptions opt;
  int                    slot;         /* the model being analysed (worker) */
} Run;

typedef struct {
  PalGradcamMeans *results[PAL_EMOTION_JOB_N_SLOTS];
  char            *model_names[PAL_EMOTION_JOB_N_SLOTS];
  char           **class_names;
} Output;

typedef struct {
  PalEmotionJob *job;
  guint64        generation;
  int            slot, stage, done, total;
} Progress;

static void
run_free (Run *run)
{
  g_clear_object (&run->job);
  g_clear_pointer (&run->context, g_main_context_unref);
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    g_free (run->model_paths[i]);
  g_free (run->dataset_dir);
  g_free (run->layer);
  g_free (run);
}

static void
output_free (Output *out)
{
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    {
      g_clear_pointer (&out->results[i], pal_gradcam_means_free);
      g_free (out->model_names[i]);
    }
  g_strfreev (out->class_names);
  g_free (out);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Output, output_free)

static void
progress_free (Progress *p)
{
  g_clear_object (&p->job);
  g_free (p);
}

static gboolean
progress_dispatch (gpointer data)
{
  Progress *p = data;
  PalEmotionJob *self = p->job;
  double within;

  if (p->generation != self->generation || !self->running)
    return G_SOURCE_REMOVE;   /* a dropped run */

  within = p->total > 0 ? (double) p->done / p->total : 1.0;
  if (self->run_frontal)
    within = p->stage == PAL_ANALYSIS_STAGE_LANDMARKS ? 0.2 * within : 0.2 + 0.8 * within;
  self->fraction = (p->slot + within) / MAX (self->run_n_models, 1);
  g_signal_emit (self, signals[PROGRESS], 0, p->slot, p->stage, p->done, p->total);
  return G_SOURCE_REMOVE;
}

/* Worker thread: after each batch. */
static void
on_run_progress (PalAnalysisStage stage, int done, int total, gpointer user_data)
{
  Run *run = user_data;
  Progress *p = g_new0 (Progress, 1);

  p->job = g_object_ref (run->job);
  p->generation = run->generation;
  p->slot = run->slot;
  p->stage = stage;
  p->done = done;
  p->total = total;
  g_main_context_invoke_full (run->context, G_PRIORITY_DEFAULT, progress_dispatch, p,
                              (GDestroyNotify) progress_free);
}

static char *
model_display_name (const char *path)
{
  char *base;

  if (strcmp (path, PAL_FACEAPI_MODEL_NAME) == 0)
    return g_strdup (_("face-api expression"));
  base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".safetensors"))
    base[strlen (base) - strlen (".safetensors")] = '\0';
  return base;
}

/* The PAL layer @model names (its metadata), else the layer it suggests
 * ("inspect.layer"), else its architecture's default, or NULL. */
static const char *
own_layer (PalModel *model)
{
  const char *name = pal_model_get_meta (model, "pal.layer");

  if (name && *name && pal_graph_find (pal_model_get_graph (model), name) >= 0)
    return name;
  /* the layer the model suggests (face-api's expression network: dense2) */
  name = pal_model_get_meta (model, "inspect.layer");
  if (name && *name && pal_graph_find (pal_model_get_graph (model), name) >= 0)
    return name;
  name = pal_arch_default_layer (pal_model_get_arch_name (model));
  if (name && pal_graph_find (pal_model_get_graph (model), name) >= 0)
    return name;
  return NULL;
}

const char *
pal_emotion_job_default_layer (PalModel *model)
{
  PalGraph *g;
  const char *name;

  g_return_val_if_fail (model != NULL, NULL);

  name = own_layer (model);
  if (name)
    return name;
  g = pal_model_get_graph (model);
  for (int node = pal_graph_get_n_nodes (g) - 1; node > 0; node--)
    if (pal_graph_check_attribution_node (g, node, FALSE, NULL))
      return pal_graph_node_name (g, node);
  return NULL;
}

/* The node of @model the run analyses: the run's layer, else the model's
 * PAL layer, else @first's (model A's, for a model trained without PAL),
 * else its last node with a spatial map. */
static int
resolve_layer (PalModel *model, const char *path, const char *layer, const char *first,
               GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  const char *name = layer && *layer ? layer : own_layer (model);
  int node;

  if (!name && first && pal_graph_find (g, first) >= 0)
    name = first;
  if (!name)
    name = pal_emotion_job_default_layer (model);
  if (!name)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   _("%s has no layer with a spatial map for Grad-CAM"), path);
      return -1;
    }
  node = pal_graph_find (g, name);
  if (node < 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, _("%s has no layer “%s”"), path, name);
      return -1;
    }
  if (!pal_graph_check_attribution_node (g, node, FALSE, error))
    {
      g_prefix_error (error, _("%s, layer “%s”: "), path, name);
      return -1;
    }
  return node;
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Run *run = task_data;
  g_autoptr (Output) out = g_new0 (Output, 1);
  g_autoptr (PalDataset) ds = NULL;
  PalModel *models[PAL_EMOTION_JOB_N_SLOTS] = { NULL, NULL };
  int layers[PAL_EMOTION_JOB_N_SLOTS];
  PalDatasetOptions dopt = { 0 };
  const char *const *names;
  GError *error = NULL;
  int k_data;

  /* the models first: a broken one fails before the dataset is read */
  for (int i = 0; i < run->n_models; i++)
    {
      models[i] = pal_faceapi_open_model (run->model_paths[i], NULL, &error);
      if (!models[i])
        goto fail;
      layers[i] = resolve_layer (models[i], run->model_paths[i], run->layer,
                                 i > 0 ? pal_graph_node_name (pal_model_get_graph (models[0]),
                                                              layers[0])
                                       : NULL,
                                 &error);
      if (layers[i] < 0)
        goto fail;
      if (pal_model_get_n_classes (models[i]) == 8)
        dopt.include_contempt = TRUE;
    }

  ds = pal_dataset_open (run->dataset_dir, run->format, &dopt, &error);
  if (!ds)
    goto fail;
  names = pal_dataset_class_names (ds, &k_data);
  for (int i = 0; i < run->n_models; i++)
    {
      int k_model = pal_model_get_n_classes (models[i]);

      if (k_model != k_data)
        {
          g_set_error (&error, PAL_ERROR, PAL_ERROR_INVALID,
                       _("The model %s has %d classes but the dataset %s has %d"),
                       run->model_paths[i], k_model, run->dataset_dir, k_data);
          goto fail;
        }
    }
  if (!pal_dataset_has_own_validation (ds)
      && (run->split == PAL_SPLIT_VAL || run->split == PAL_SPLIT_TRAIN)
      && !pal_dataset_make_validation (ds, PAL_DATASET_DEFAULT_VAL_FRACTION, 0, &error))
    goto fail;

  for (int i = 0; i < run->n_models; i++)
    {
      run->slot = i;
      out->results[i] = pal_gradcam_means_run (models[i], layers[i], ds, run->split, &run->opt,
                                               cancellable, on_run_progress, run, &error);
      if (!out->results[i])
        {
          if (!g_error_matches (error, PAL_ERROR, PAL_ERROR_CANCELLED))
            g_prefix_error (&error, "%s: ", run->model_paths[i]);
          goto fail;
        }
      out->model_names[i] = model_display_name (run->model_paths[i]);
    }
  out->class_names = g_strdupv ((char **) names);

  for (int i = 0; i < run->n_models; i++)
    pal_model_unref (models[i]);
  g_task_return_pointer (task, g_steal_pointer (&out), (GDestroyNotify) output_free);
  return;

fail:
  for (int i = 0; i < run->n_models; i++)
    g_clear_pointer (&models[i], pal_model_unref);
  g_task_return_error (task, error);
}

/* --- the job ------------------------------------------------------------------- */

static void
clear_results (PalEmotionJob *self)
{
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    {
      g_clear_pointer (&self->results[i], pal_gradcam_means_free);
      g_clear_pointer (&self->model_names[i], g_free);
    }
  g_clear_pointer (&self->class_names, g_strfreev);
  g_clear_pointer (&self->result_dataset, g_free);
}

static void
set_running (PalEmotionJob *self, gboolean running)
{
  if (self->running == running)
    return;
  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* Drops the current run: nothing of it is announced any more. */
static void
drop_run (PalEmotionJob *self)
{
  self->generation++;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
}

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PalEmotionJob *self = PAL_EMOTION_JOB (source);
  Run *run = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (Output) out = g_task_propagate_pointer (G_TASK (result), &error);

  if (run->generation != self->generation)
    return;   /* dropped: a newer run, a cancel, or the job went away */

  g_clear_object (&self->cancellable);
  if (out)
    {
      for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
        {
          self->results[i] = g_steal_pointer (&out->results[i]);
          self->model_names[i] = g_steal_pointer (&out->model_names[i]);
        }
      self->class_names = g_steal_pointer (&out->class_names);
      self->result_dataset = g_strdup (run->dataset_dir);
      self->result_split = run->split;
      self->fraction = 1.0;
    }
  set_running (self, FALSE);
  g_signal_emit (self, signals[FINISHED], 0, error);
}

void
pal_emotion_job_start (PalEmotionJob *self)
{
  g_autoptr (GTask) task = NULL;
  Run *run;

  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  drop_run (self);
  clear_results (self);
  self->cancellable = g_cancellable_new ();

  run = g_new0 (Run, 1);
  run->job = g_object_ref (self);
  run->generation = self->generation;
  run->context = g_main_context_ref (self->context);
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    if (self->model_paths[i])
      run->model_paths[run->n_models++] = g_strdup (self->model_paths[i]);
  run->dataset_dir = g_strdup (self->dataset_dir);
  run->format = self->format;
  run->split = self->split;
  run->layer = g_strdup (self->layer);
  pal_gradcam_means_options_init (&run->opt);
  run->opt.batch_size = self->batch_size;
  run->opt.frontal_eps = self->frontal_eps;

  self->run_n_models = run->n_models;
  self->run_frontal = self->frontal_eps > 0.0;
  self->fraction = 0.0;

  task = g_task_new (self, self->cancellable, on_run_done, NULL);
  g_task_set_source_tag (task, pal_emotion_job_start);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);
  g_task_set_check_cancellable (task, FALSE);   /* the worker's error says it */
  set_running (self, TRUE);

  if (run->n_models == 0 || !run->dataset_dir)
    {
      g_task_return_new_error (task, PAL_ERROR, PAL_ERROR_INVALID, "%s",
                               run->n_models == 0 ? _("Choose a model first")
                                                  : _("Choose a dataset first"));
      return;
    }
  g_task_run_in_thread (task, run_thread);
}

void
pal_emotion_job_cancel (PalEmotionJob *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  if (!self->running)
    return;
  drop_run (self);
  set_running (self, FALSE);
  error = g_error_new_literal (PAL_ERROR, PAL_ERROR_CANCELLED, _("Stopped"));
  g_signal_emit (self, signals[FINISHED], 0, error);
}

/* --- the inputs ------------------------------------------------------------------ */

void
pal_emotion_job_set_model_path (PalEmotionJob *self, int slot, const char *path)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));
  g_return_if_fail (slot >= 0 && slot < PAL_EMOTION_JOB_N_SLOTS);

  g_free (self->model_paths[slot]);
  self->model_paths[slot] = path && *path ? g_strdup (path) : NULL;
}

const char *
pal_emotion_job_get_model_path (PalEmotionJob *self, int slot)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < PAL_EMOTION_JOB_N_SLOTS, NULL);
  return self->model_paths[slot];
}

void
pal_emotion_job_set_dataset (PalEmotionJob *self, const char *dir, PalDatasetFormat format)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  g_free (self->dataset_dir);
  self->dataset_dir = dir && *dir ? g_strdup (dir) : NULL;
  self->format = format;
}

const char *
pal_emotion_job_get_dataset_dir (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  return self->dataset_dir;
}

void
pal_emotion_job_set_split (PalEmotionJob *self, PalSplit split)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));
  g_return_if_fail (split <= PAL_SPLIT_ALL);

  if (self->split == split)
    return;
  self->split = split;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT]);
}

PalSplit
pal_emotion_job_get_split (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), PAL_SPLIT_TEST);
  return self->split;
}

void
pal_emotion_job_set_layer (PalEmotionJob *self, const char *layer)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  if (layer && !*layer)
    layer = NULL;
  if (g_strcmp0 (self->layer, layer) == 0)
    return;
  g_free (self->layer);
  self->layer = g_strdup (layer);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYER]);
}

const char *
pal_emotion_job_get_layer (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  return self->layer;
}

void
pal_emotion_job_set_frontal_eps (PalEmotionJob *self, double eps)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  eps = MAX (eps, 0.0);
  if (self->frontal_eps == eps)
    return;
  self->frontal_eps = eps;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRONTAL_EPS]);
}

double
pal_emotion_job_get_frontal_eps (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), 0.0);
  return self->frontal_eps;
}

void
pal_emotion_job_set_batch_size (PalEmotionJob *self, int batch_size)
{
  g_return_if_fail (PAL_IS_EMOTION_JOB (self));

  batch_size = CLAMP (batch_size, 1, 4096);
  if (self->batch_size == batch_size)
    return;
  self->batch_size = batch_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_SIZE]);
}

int
pal_emotion_job_get_batch_size (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), 32);
  return self->batch_size;
}

/* --- state and results ------------------------------------------------------------ */

gboolean
pal_emotion_job_get_running (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), FALSE);
  return self->running;
}

double
pal_emotion_job_get_fraction (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), 0.0);
  return self->fraction;
}

int
pal_emotion_job_get_n_results (PalEmotionJob *self)
{
  int n = 0;

  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), 0);
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    if (self->results[i])
      n++;
  return n;
}

const PalGradcamMeans *
pal_emotion_job_get_result (PalEmotionJob *self, int slot)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < PAL_EMOTION_JOB_N_SLOTS, NULL);
  return self->results[slot];
}

const char *
pal_emotion_job_get_model_name (PalEmotionJob *self, int slot)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < PAL_EMOTION_JOB_N_SLOTS, NULL);
  return self->model_names[slot];
}

const char *const *
pal_emotion_job_get_class_names (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  return (const char *const *) self->class_names;
}

const char *
pal_emotion_job_get_result_dataset (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);
  return self->result_dataset;
}

PalSplit
pal_emotion_job_get_result_split (PalEmotionJob *self)
{
  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), PAL_SPLIT_TEST);
  return self->result_split;
}

char *
pal_emotion_job_to_csv (PalEmotionJob *self)
{
  GString *s = NULL;

  g_return_val_if_fail (PAL_IS_EMOTION_JOB (self), NULL);

  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    {
      g_autofree char *csv = NULL;
      g_autofree char *model = NULL;
      g_auto (GStrv) lines = NULL;

      if (!self->results[i])
        continue;
      csv = pal_gradcam_means_to_csv (self->results[i], (const char *const *) self->class_names);
      model = g_strdup (self->model_names[i]);
      g_strdelimit (model, ",\"\n\r", '_');
      lines = g_strsplit (csv, "\n", -1);
      for (int l = 0; lines[l]; l++)
        {
          if (!*lines[l])
            continue;
          if (l == 0)
            {
              if (!s)
                g_string_append_printf ((s = g_string_new (NULL)), "model,%s\n", lines[l]);
              continue;
            }
          g_string_append_printf (s, "%s,%s\n", model, lines[l]);
        }
    }
  return s ? g_string_free (s, FALSE) : NULL;
}

/* --- GObject ------------------------------------------------------------------------ */

static void
pal_emotion_job_dispose (GObject *object)
{
  PalEmotionJob *self = PAL_EMOTION_JOB (object);

  drop_run (self);
  G_OBJECT_CLASS (pal_emotion_job_parent_class)->dispose (object);
}

static void
pal_emotion_job_finalize (GObject *object)
{
  PalEmotionJob *self = PAL_EMOTION_JOB (object);

  clear_results (self);
  for (int i = 0; i < PAL_EMOTION_JOB_N_SLOTS; i++)
    g_free (self->model_paths[i]);
  g_free (self->dataset_dir);
  g_free (self->layer);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (pal_emotion_job_parent_class)->finalize (object);
}

static void
pal_emotion_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalEmotionJob *self = PAL_EMOTION_JOB (object);

  switch (prop_id)
    {
    case PROP_SPLIT:
      g_value_set_int (value, self->split);
      break;
    case PROP_LAYER:
      g_value_set_string (value, self->layer);
      break;
    case PROP_FRONTAL_EPS:
      g_value_set_double (value, self->frontal_eps);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_int (value, self->batch_size);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_emotion_job_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  PalEmotionJob *self = PAL_EMOTION_JOB (object);

  switch (prop_id)
    {
    case PROP_SPLIT:
      pal_emotion_job_set_split (self, g_value_get_int (value));
      break;
    case PROP_LAYER:
      pal_emotion_job_set_layer (self, g_value_get_string (value));
      break;
    case PROP_FRONTAL_EPS:
      pal_emotion_job_set_frontal_eps (self, g_value_get_double (value));
      break;
    case PROP_BATCH_SIZE:
      pal_emotion_job_set_batch_size (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_emotion_job_class_init (PalEmotionJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pal_emotion_job_dispose;
  object_class->finalize = pal_emotion_job_finalize;
  object_class->get_property = pal_emotion_job_get_property;
  object_class->set_property = pal_emotion_job_set_property;

  properties[PROP_SPLIT] =
    g_param_spec_int ("split", NULL, NULL, PAL_SPLIT_TRAIN, PAL_SPLIT_ALL, PAL_SPLIT_TEST,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAYER] =
    g_param_spec_string ("layer", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRONTAL_EPS] =
    g_param_spec_double ("frontal-eps", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BATCH_SIZE] =
    g_param_spec_int ("batch-size", NULL, NULL, 1, 4096, 32,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 4, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
pal_emotion_job_init (PalEmotionJob *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->format = PAL_DATASET_AUTO;
  self->split = PAL_SPLIT_TEST;
  self->batch_size = 32;
}

PalEmotionJob *
pal_emotion_job_new (void)
{
  return g_object_new (PAL_TYPE_EMOTION_JOB, NULL);
}
