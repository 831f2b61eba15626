/* pal-train-session.h: the Train page's view model -- one training run at a
 * time, its live figures, its history and its results
 *
 * A session wraps pal_train_async() (core/pal-trainer.h).  The trainer's
 * reports are copied on the training thread and handed to the main context
 * the session was started in, where they update the properties, the history
 * and emit "progress".  When a run ends well, the best model is evaluated on
 * the validation split on a worker thread (pal_evaluate(), pal-metrics.h);
 * then "finished" is emitted.  GIO only: the tests drive it without a
 * display.
 *
 * Signals:
 *   "progress" (gpointer progress): a const PalTrainProgress *, valid during
 *       the emission, after the history took it in.
 *   "finished" (GError *error, const char *best_path, const char *last_path):
 *       error is NULL for a complete run, PAL_ERROR_CANCELLED after
 *       pal_train_session_stop(), else what stopped the run; a path is NULL
 *       when its file does not exist.
 */
#pragma once

#include <gio/gio.h>

#include "pal-dataset.h"
#include "pal-metrics.h"
#include "pal-trainer.h"

G_BEGIN_DECLS

#define PAL_TYPE_TRAIN_SESSION (pal_train_session_get_type ())
G_DECLARE_FINAL_TYPE (PalTrainSession, pal_train_session, PAL, TRAIN_SESSION, GObject)

/* The curves a session keeps. */
typedef enum {
  PAL_SERIES_STEP_CE,          /* per report: cross-entropy */
  PAL_SERIES_STEP_PAL,         /* per report: PAL term */
  PAL_SERIES_STEP_TRAIN_ACC,   /* per report: training accuracy */
  PAL_SERIES_EPOCH_TRAIN_ACC,  /* per epoch: training accuracy */
  PAL_SERIES_EPOCH_VAL_ACC,    /* per epoch: validation accuracy */
  PAL_SERIES_EPOCH_CE,         /* per epoch: cross-entropy */
  PAL_SERIES_EPOCH_PAL,        /* per epoch: PAL term */
  PAL_N_SERIES
} PalTrainSeries;

/* The x of a point: optimizer steps done, or epochs done (fractional for
 * the per-report series: step / batches per epoch). */
typedef enum {
  PAL_TRAIN_AXIS_STEP,
  PAL_TRAIN_AXIS_EPOCH,
} PalTrainAxis;

PalTrainSession *pal_train_session_new        (void);

/* Starts a new run with a copy of @cfg (checked with
 * pal_train_config_validate() first).  Fails (G_IO_ERROR_BUSY) while a run
 * is under way.  The history is cleared. */
gboolean     pal_train_session_start          (PalTrainSession *self, const PalTrainConfig *cfg,
                                               GError **error);
/* Continues the run in @run_dir from its last checkpoint, with the settings
 * of its config.ini (pal_train_config_load_run()).  The history is read
 * back from its log.jsonl. */
gboolean     pal_train_session_resume         (PalTrainSession *self, const char *run_dir,
                                               GError **error);
/* Cancels the run (it saves its last checkpoint and keeps the best one) or
 * the evaluation after it; "finished" follows.  Nothing when idle. */
void         pal_train_session_stop           (PalTrainSession *self);

gboolean     pal_train_session_get_running    (PalTrainSession *self);
/* Steps done / steps of the run, 0 .. 1. */
double       pal_train_session_get_fraction   (PalTrainSession *self);
/* Training throughput of the last report; 0 when not known. */
double       pal_train_session_get_images_per_second (PalTrainSession *self);
/* Seconds to the end of the run; negative when not known. */
double       pal_train_session_get_eta        (PalTrainSession *self);
/* One line saying what the run is doing (translated). */
const char  *pal_train_session_get_status     (PalTrainSession *self);
/* The run folder of the current or last run; NULL before any. */
const char  *pal_train_session_get_run_dir    (PalTrainSession *self);
/* The settings of the current or last run; NULL before any. */
const PalTrainConfig *pal_train_session_get_config (PalTrainSession *self);
/* The last report; NULL before any. */
const PalTrainProgress *pal_train_session_get_last_progress (PalTrainSession *self);
/* TRUE when the last run was stopped and can be resumed. */
gboolean     pal_train_session_can_resume     (PalTrainSession *self);

/* The points of @series: *@x (in @axis units) and *@y, both owned by the
 * session and valid until the next report; returns how many.  A figure
 * not known is NaN. */
guint        pal_train_session_get_series     (PalTrainSession *self, PalTrainSeries series,
                                               PalTrainAxis axis,
                                               const double **x, const double **y);
/* Forgets the curves and the results (not while running). */
void         pal_train_session_clear          (PalTrainSession *self);

/* After "finished": the confusion matrix of the best model on the
 * evaluated split, NULL when there was no evaluation; the class names
 * (NULL-terminated), the split evaluated (PAL_SPLIT_VAL, or PAL_SPLIT_TEST
 * when the run had no validation split) and why an evaluation failed. */
const PalConfusion *pal_train_session_get_confusion   (PalTrainSession *self);
const char *const  *pal_train_session_get_class_names (PalTrainSession *self);
PalSplit            pal_train_session_get_eval_split  (PalTrainSession *self);
const GError       *pal_train_session_get_eval_error  (PalTrainSession *self);
const char         *pal_train_session_get_best_path   (PalTrainSession *self);
const char         *pal_train_session_get_last_path   (PalTrainSession *self);

G_END_DECLS
