/* pal-trainer.h: the training loop, its settings, checkpoints and progress
 *
 * A run trains one model on one dataset with CE + lambda * PAL
 * (pal-exec.h) and Adam with polynomial decay (pal-optim.h), from batches
 * of the loader (pal-loader.h), and keeps what it learns in a run folder:
 *
 *   config.ini            the settings (a GKeyFile, pal_train_config_save())
 *   best.safetensors      the weights with the best validation accuracy
 *   last.safetensors      the weights of the last checkpoint ...
 *   last-optim.safetensors  ... and the rest of the state: Adam's m and v,
 *                         the step, the epoch and batch, the running sums
 *   log.jsonl             one JSON object per progress report
 *
 * Every file is replaced atomically, so a run stopped at any point (Ctrl-C,
 * a crash, a full disk) leaves the previous version of each.  The two
 * "last" files carry the same step in their metadata; resuming checks it.
 *
 * Settings.  Every setting is a (group, key) of one table,
 * pal_train_settings(): the INI file uses [group] key = value, the command
 * line --key VALUE, and the help text of both is generated from the table.
 * pal_train_config_set() parses one value from its text form; defaults are
 * the paper's RAF-DB settings (docs/TRAINING.md says which are scaled to the
 * network).
 *
 * Determinism.  Everything random is a function of the seed: the initial
 * weights, the validation split, the loader's order and augmentation per
 * (seed, epoch) (and per (seed, epoch, position) for class-balanced draws),
 * the dropout masks per (seed, step).  So a run resumed from its last
 * checkpoint reaches the same weights, bit for bit, as the same run left
 * uninterrupted, provided the thread count is the same (reductions are
 * deterministic per thread count, pal-parallel.h).
 *
 * Threads.  pal_train() blocks; pal_train_async() runs it on a worker
 * thread (a GTask) and calls back in the caller's main context.  The
 * progress callback is called from the training thread: it must not touch
 * a GUI directly.  It receives a PalTrainProgress, a plain struct with no
 * pointers, so a GUI copies it (g_memdup2) and hands the copy to its main
 * loop with g_idle_add_full (..., g_free); idle sources of one priority run
 * in the order they were added, so the reports arrive in order.
 *
 * Cancelling (GCancellable) takes effect before the next step starts, or
 * interrupts the wait for a batch or the validation pass; the state after
 * the last completed step is saved as the last checkpoint, and the best
 * checkpoint of the run so far stays as it is.
 */
#pragma once

#include <gio/gio.h>

#include "pal-model.h"

G_BEGIN_DECLS

/* --- settings ------------------------------------------------------------ */

/* Every setting of a run.  Strings are owned (g_free), NULL when unset.
 * pal_train_config_init() fills in the defaults of the settings table. */
typedef struct {
  /* [data] */
  char    *dataset;          /* dataset folder (pal-dataset.h) */
  char    *format;           /* auto, rafdb, affectnet, fer2013, ferplus, folder */
  char    *images;           /* image folder (RAF-DB, AffectNet); NULL: the layout's */
  char    *landmarks;        /* .pts folder; NULL: the layout's */
  gboolean contempt;         /* contempt as an 8th class */
  double   val_fraction;     /* validation share of train, [0, 1) (0.1) */
  gboolean augment;          /* rotation and flip of training samples (TRUE) */
  double   rotation;         /* degrees, uniform in +- this (10) */
  gboolean flip;             /* horizontal flip, p = 0.5 (TRUE) */
  gboolean balanced;         /* class-balanced batches (FALSE) */
  double   sigma;            /* prior sigma, pixels of a 224 input (3) */
  double   landmark_noise;   /* landmark noise sigma, pixels of a 224 input (0) */
  int      workers;          /* loader threads (2) */
  /* [model] */
  char    *arch;             /* built-in name (vgg16, resnet18, bench-vgg) */
  int      input_size;       /* input side for vgg16/resnet18 (0: 224) */
  char    *arch_file;        /* architecture text file (instead of arch) */
  char    *weights;          /* model file to start from; NULL: He init */
  gboolean bn_frozen;        /* batch norm in inference form throughout */
  /* [pal] */
  gboolean pal;              /* TRUE: CE + lambda PAL; FALSE: CE only */
  char    *layer;            /* PAL layer, a node name; NULL: the default */
  char    *attribution;      /* grad or grad-input */
  char    *channels;         /* all, mean or first */
  int      c1;               /* channels for "first"; 0: C/2 */
  double   lambda;           /* weight of PAL (1) */
  /* [optim] */
  double   lr;               /* base learning rate; 0: automatic */
  double   power;            /* polynomial decay power (0.9) */
  double   weight_decay;     /* L2 (0) */
  int      batch;            /* batch size (16) */
  int      epochs;           /* epochs (75) */
  int      iterations;       /* steps; > 0 replaces epochs (0) */
  /* [run] */
  char    *out;              /* run folder */
  gint64   seed;             /* (0) */
  int      threads;          /* compute threads; 0: all cores */
  int      checkpoint_every; /* steps between mid-epoch checkpoints; 0: epoch ends only */
  int      report_every;     /* steps between progress reports (10) */
} PalTrainConfig;

typedef enum {
  PAL_SETTING_BOOL,
  PAL_SETTING_INT,
  PAL_SETTING_INT64,
  PAL_SETTING_DOUBLE,
  PAL_SETTING_STRING,
  PAL_SETTING_PATH,          /* a string naming a file or folder */
} PalSettingType;

/* One row of the settings table. */
typedef struct {
  const char     *group;     /* INI group: data, model, pal, optim, run */
  const char     *key;       /* INI key and command-line flag (--key) */
  PalSettingType  type;
  gsize           offset;    /* of the field in PalTrainConfig */
  const char     *value_name;  /* placeholder in --help ("LR"), NULL for booleans */
  const char     *default_text;  /* the default as text; "" for none */
  const char     *choices;   /* "a|b|c" for a closed set, else NULL */
  double          min, max;  /* range of a number (inclusive) */
  gboolean        resumable; /* may differ on --resume (run-time only) */
  const char     *help;      /* one sentence */
} PalTrainSetting;

/* The table, in the order of the INI file; *@n receives its length. */
const PalTrainSetting *pal_train_settings        (int *n);
/* The row of @key, or NULL. */
const PalTrainSetting *pal_train_setting_lookup  (const char *key);

void      pal_train_config_init     (PalTrainConfig *cfg);
void      pal_train_config_clear    (PalTrainConfig *cfg);
/* @dst receives a deep copy of @src (@dst's own content is not freed). */
void      pal_train_config_copy     (PalTrainConfig *dst, const PalTrainConfig *src);

/* Sets @key from its text form ("true"/"false"/"yes"/"no"/"1"/"0" for
 * booleans; "" unsets a string); PAL_ERROR_INVALID names the key and the
 * accepted values. */
gboolean  pal_train_config_set      (PalTrainConfig *cfg, const char *key, const char *value,
                                     GError **error);
/* The text form of @key's value ("" for an unset string); g_free() it. */
char     *pal_train_config_get      (const PalTrainConfig *cfg, const char *key);

/* Reads every [group] key of @kf; an unknown group or key, or a key in the
 * wrong group, is an error naming it (a typo must not pass silently). */
gboolean  pal_train_config_load_keyfile (PalTrainConfig *cfg, GKeyFile *kf, GError **error);
gboolean  pal_train_config_load     (PalTrainConfig *cfg, const char *path, GError **error);
/* All settings, with their help as comments. */
GKeyFile *pal_train_config_to_keyfile (const PalTrainConfig *cfg);
/* Writes pal_train_config_to_keyfile() atomically. */
gboolean  pal_train_config_save     (const PalTrainConfig *cfg, const char *path, GError **error);

/* Checks what the table cannot (a dataset and a run folder are given, one
 * architecture, the c1 of "first"); the rest is checked when the run
 * starts (the layer needs the model, the classes need the dataset). */
gboolean  pal_train_config_validate (const PalTrainConfig *cfg, GError **error);

/* The learning rate a run with @cfg uses: lr, or with lr 0, 5e-5 (the
 * paper's, for fine-tuning) when starting from weights, 1e-3 from He
 * initialisation. */
double    pal_train_config_effective_lr (const PalTrainConfig *cfg);

/* --- progress ------------------------------------------------------------ */

typedef enum {
  PAL_TRAIN_STEP,            /* every report_every steps */
  PAL_TRAIN_EPOCH_END,       /* after an epoch and its validation */
  PAL_TRAIN_CHECKPOINT,      /* last.safetensors (and maybe best) written */
  PAL_TRAIN_FINISHED,        /* the run is complete */
  PAL_TRAIN_CANCELLED,       /* stopped by the GCancellable */
  PAL_TRAIN_FAILED,          /* stopped by an error (message) */
} PalTrainEvent;

/* "step", "epoch", "checkpoint", "finished", "cancelled", "failed" */
const char *pal_train_event_name (PalTrainEvent event);

/* One report, a plain value without pointers (copy it freely).  Accuracies
 * are fractions in [0, 1]; a figure not known yet is NaN. */
typedef struct {
  PalTrainEvent event;
  int     epoch;              /* the epoch the step belongs to, 1 .. n_epochs */
  int     n_epochs;           /* epochs of the run */
  int     batch;              /* batches done in this epoch */
  int     batches_per_epoch;
  gint64  step;               /* optimizer steps done, all sessions */
  gint64  total_steps;
  /* Means over the samples since the previous report (STEP), or over the
   * whole epoch (EPOCH_END): */
  double  ce;                 /* cross-entropy */
  double  pal;                /* PAL term (negative correlation); 0 without PAL */
  double  loss;               /* ce + lambda * pal */
  double  train_accuracy;
  double  prior_fraction;     /* share of those samples that had landmarks */
  int     n_samples;          /* how many samples those means cover */
  double  val_accuracy;       /* after each epoch; the latest so far */
  double  best_val_accuracy;
  int     best_epoch;         /* epoch of best.safetensors; 0: none yet */
  double  lr;                 /* learning rate of the last step */
  double  images_per_s;       /* training throughput since the previous report */
  double  eta_s;              /* estimated seconds to the end */
  double  elapsed_s;          /* wall time of this session */
  gint64  n_failed;           /* samples skipped as unreadable, this session */
  char    message[256];       /* what happened (the error, the file written) */
} PalTrainProgress;

/* Called from the training thread; see the top of this file. */
typedef void (*PalTrainProgressFunc) (const PalTrainProgress *progress, gpointer user_data);

/* --- running ------------------------------------------------------------- */

/* Trains with @cfg into cfg->out (created if needed).  A new run refuses a
 * folder that already holds a checkpoint; with @resume, continues the run
 * in cfg->out from its last checkpoint (cfg is then usually that folder's
 * config.ini: pal_train_config_load_run(); only resumable settings may
 * differ).  Returns TRUE when the run is complete.  Fails with
 * PAL_ERROR_CANCELLED when cancelled, PAL_ERROR_NUMERIC when a loss becomes
 * NaN or infinite (the message names the step), or any error of the data,
 * the model or the files.  The last report (FINISHED, CANCELLED or FAILED)
 * carries the same message. */
gboolean  pal_train           (const PalTrainConfig *cfg, gboolean resume,
                               PalTrainProgressFunc progress, gpointer progress_data,
                               GCancellable *cancellable, GError **error);

/* pal_train() on a worker thread; @cfg is copied.  @callback runs in the
 * thread-default main context of the caller when the run ends; get the
 * result there with pal_train_finish().  @progress_data must stay valid
 * until then. */
void      pal_train_async     (const PalTrainConfig *cfg, gboolean resume,
                               PalTrainProgressFunc progress, gpointer progress_data,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean  pal_train_finish    (GAsyncResult *result, GError **error);

/* Loads @run_dir/config.ini into @cfg (initialised) for a resume, with
 * out set to @run_dir. */
gboolean  pal_train_config_load_run (PalTrainConfig *cfg, const char *run_dir, GError **error);

G_END_DECLS
