/* pal-emotion-job.h: the Per-emotion maps page's model (no GTK: testable
 * without a display)
 *
 * Runs the Emotional DAN analysis (pal-analysis.h) of one or two models on
 * one split of a dataset, at one layer, on a worker thread.  The inputs
 * (model files, dataset folder and format, split, layer, options) are set
 * on the main thread and copied when a run starts; the worker opens the
 * files itself, so a missing dataset or a broken model comes back as the
 * run's error, naming the file.  Progress and the end of a run are
 * announced on the main context of the thread that created the job.
 *
 * Starting a run while another is going drops the older one: its progress
 * and result are never announced.  Cancelling announces "finished" with a
 * PAL_ERROR_CANCELLED error at once; the worker stops before its next
 * batch and its result is dropped.
 */
#pragma once

#include <gio/gio.h>

#include "pal-analysis.h"
#include "pal-dataset.h"
#include "pal-model.h"

G_BEGIN_DECLS

#define PAL_EMOTION_JOB_N_SLOTS 2

#define PAL_TYPE_EMOTION_JOB (pal_emotion_job_get_type ())
G_DECLARE_FINAL_TYPE (PalEmotionJob, pal_emotion_job, PAL, EMOTION_JOB, GObject)

PalEmotionJob *pal_emotion_job_new             (void);

/* --- the inputs (read when a run starts) -------------------------------- */

/* The model file of @slot (0: model A, required; 1: model B, optional);
 * NULL empties the slot. */
void          pal_emotion_job_set_model_path   (PalEmotionJob *self, int slot, const char *path);
const char   *pal_emotion_job_get_model_path   (PalEmotionJob *self, int slot);

/* The dataset's root folder and its format (PAL_DATASET_AUTO: detected). */
void          pal_emotion_job_set_dataset      (PalEmotionJob *self, const char *dir,
                                                PalDatasetFormat format);
const char   *pal_emotion_job_get_dataset_dir  (PalEmotionJob *self);

/* The layer a run uses for @model when none is chosen: its PAL layer
 * (metadata, else its architecture's default), else its last node with a
 * spatial map.  (A second model that names no PAL layer takes the first
 * one's when it has a node of that name.)  NULL when it has none. */
const char   *pal_emotion_job_default_layer    (PalModel *model);

/* Properties of the same names:
 *   "split"        PalSplit as int (default PAL_SPLIT_TEST); val and train of a
 *                  dataset without its own validation are drawn as training
 *                  draws them (fraction 0.1, seed 0)
 *   "layer"        node name; NULL or "" (default): each model's PAL layer
 *   "frontal-eps"  only near-frontal faces, in input pixels; 0 (default): all
 *   "batch-size"   images per Grad-CAM call (default 32)
 *   "running"      read-only: a run is going */
void          pal_emotion_job_set_split        (PalEmotionJob *self, PalSplit split);
PalSplit      pal_emotion_job_get_split        (PalEmotionJob *self);
void          pal_emotion_job_set_layer        (PalEmotionJob *self, const char *layer);
const char   *pal_emotion_job_get_layer        (PalEmotionJob *self);
void          pal_emotion_job_set_frontal_eps  (PalEmotionJob *self, double eps);
double        pal_emotion_job_get_frontal_eps  (PalEmotionJob *self);
void          pal_emotion_job_set_batch_size   (PalEmotionJob *self, int batch_size);
int           pal_emotion_job_get_batch_size   (PalEmotionJob *self);

/* --- running -------------------------------------------------------------- */

/* Starts a run with the current inputs; a run already going is dropped.
 * The results of the previous run are cleared. */
void          pal_emotion_job_start            (PalEmotionJob *self);
/* Stops the run (if any): "finished" with PAL_ERROR_CANCELLED. */
void          pal_emotion_job_cancel           (PalEmotionJob *self);
gboolean      pal_emotion_job_get_running      (PalEmotionJob *self);

/* The share of the run done so far, 0 .. 1, over all its models. */
double        pal_emotion_job_get_fraction     (PalEmotionJob *self);

/* --- the results of the last run that finished well ------------------------ */

/* How many models the results hold (0, 1 or 2). */
int           pal_emotion_job_get_n_results    (PalEmotionJob *self);
/* The analysis of @slot's model, NULL when there is none. */
const PalGradcamMeans *pal_emotion_job_get_result (PalEmotionJob *self, int slot);
/* The model's file name without .safetensors, NULL when no result. */
const char   *pal_emotion_job_get_model_name   (PalEmotionJob *self, int slot);
/* The dataset's class names (canonical order, NULL-terminated), NULL when
 * there are no results. */
const char *const *pal_emotion_job_get_class_names (PalEmotionJob *self);
/* The dataset's folder and split those results were made from. */
const char   *pal_emotion_job_get_result_dataset (PalEmotionJob *self);
PalSplit      pal_emotion_job_get_result_split (PalEmotionJob *self);

/* All results as one CSV: pal_gradcam_means_to_csv() of each model with a
 * first column "model".  NULL without results; g_free() it. */
char         *pal_emotion_job_to_csv           (PalEmotionJob *self);

/* Signals:
 *   "progress" (int slot, int stage, int done, int total)
 *        @done of @total images of PalAnalysisStage @stage for the model
 *        in @slot; within a slot and stage, done only grows
 *   "finished" (GError *error)
 *        the run ended: @error NULL when the results are there
 * and notify::running. */

G_END_DECLS
