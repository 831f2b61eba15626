/* pal-trainer.c: the training loop, its settings, checkpoints and progress
 *
 * One run is a Run: the dataset, the model with its workspace and Adam, the
 * loader, the position (epoch, batch, step), the running sums of the
 * reports, the best validation accuracy, the log.  pal_train() sets it up
 * (fresh, or from the last checkpoint), then runs the steps:
 *
 *   batch = loader next;  dropout seed = f(seed, step);
 *   grads (CE + lambda PAL);  Adam step;  sums;  report every N steps;
 *   at an epoch's last batch: validation, best.safetensors when it
 *   improves, the last checkpoint, the epoch report.
 *
 * Checkpoint = last.safetensors (the model) + last-optim.safetensors
 * (Adam's moments and the rest, in its metadata as text: doubles with 17
 * significant digits round-trip exactly).  While a checkpoint is written,
 * the optimizer file of the one before waits as
 * last-optim-previous.safetensors until the new last.safetensors is in
 * place, so that a run killed between the two files still leaves a pair.
 * The position saved is where the next step starts: (epoch, batch) and
 * the flag val_pending when the validation of the epoch just finished has
 * not run yet (a run cancelled during it), which a resume then runs first.
 */
#include "pal-trainer.h"

#include "pal-arch.h"
#include "pal-dataset.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-loader.h"
#include "pal-metrics.h"
#include "pal-model-io.h"
#include "pal-optim.h"
#include "pal-parallel.h"
#include "pal-rand.h"
#include "pal-safetensors.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OPTIM_FORMAT     "pal-studio-optim/1"
/* Streams of the seed for the things the loader does not draw. */
#define DROPOUT_STREAM   0x3c6ef372fe94f82bull
#define BALANCED_STREAM  0xa54ff53a5f1d36f1ull
#define VAL_STREAM       0x510e527fade682d1ull

/* --- the settings table --------------------------------------------------- */

#define F(field) G_STRUCT_OFFSET (PalTrainConfig, field)

static const PalTrainSetting settings[] = {
  /* [data] */
  { "data", "dataset", PAL_SETTING_PATH, F (dataset), "DIR", "", NULL, 0, 0, TRUE,
    "Dataset folder: RAF-DB, AffectNet, FER2013, FER+ or one subfolder per class "
    "(also the command's argument)" },
  { "data", "format", PAL_SETTING_STRING, F (format), "FORMAT", "auto",
    "auto|rafdb|affectnet|fer2013|ferplus|folder", 0, 0, FALSE,
    "Dataset layout: auto, rafdb, affectnet, fer2013, ferplus or folder" },
  { "data", "images", PAL_SETTING_PATH, F (images), "DIR", "", NULL, 0, 0, TRUE,
    "Image folder (RAF-DB: ROOT/Image/aligned, AffectNet: ROOT/Manually_Annotated_Images)" },
  { "data", "landmarks", PAL_SETTING_PATH, F (landmarks), "DIR", "", NULL, 0, 0, TRUE,
    "Folder of .pts landmark files (RAF-DB: ROOT/Landmarks)" },
  { "data", "contempt", PAL_SETTING_BOOL, F (contempt), NULL, "false", NULL, 0, 0, FALSE,
    "Keep contempt as an 8th class" },
  { "data", "val-fraction", PAL_SETTING_DOUBLE, F (val_fraction), "F", "0.1", NULL, 0, 0.99, FALSE,
    "Share of train drawn as the validation split with the test set's class "
    "proportions; a dataset's own validation split is used instead where it has one; "
    "0: no validation (best = last epoch)" },
  { "data", "augment", PAL_SETTING_BOOL, F (augment), NULL, "true", NULL, 0, 0, FALSE,
    "Augment training samples (rotation, then flip)" },
  { "data", "rotation", PAL_SETTING_DOUBLE, F (rotation), "DEG", "10", NULL, 0, 180, FALSE,
    "Rotation of the augmentation, uniform in +- DEG degrees" },
  { "data", "flip", PAL_SETTING_BOOL, F (flip), NULL, "true", NULL, 0, 0, FALSE,
    "Horizontal flip of the augmentation, with probability 0.5" },
  { "data", "balanced", PAL_SETTING_BOOL, F (balanced), NULL, "false", NULL, 0, 0, FALSE,
    "Class-balanced batches: each draw picks a class uniformly, then one of its samples "
    "(AffectNet's protocol)" },
  { "data", "sigma", PAL_SETTING_DOUBLE, F (sigma), "PX", "3", NULL, 0.01, 1000, FALSE,
    "Sigma of the prior's Gaussians (Eq. 8) in pixels of a 224 input, scaled to the "
    "network's input" },
  { "data", "landmark-noise", PAL_SETTING_DOUBLE, F (landmark_noise), "PX", "0", NULL, 0, 1000, FALSE,
    "Gaussian noise on the landmarks before the prior, pixels of a 224 input "
    "(the paper's sensitivity study)" },
  { "data", "workers", PAL_SETTING_INT, F (workers), "N", "2", NULL, 0, 256, TRUE,
    "Loader threads (0: load in the training thread)" },
  /* [model] */
  { "model", "arch", PAL_SETTING_STRING, F (arch), "NAME", "vgg16", NULL, 0, 0, FALSE,
    "Built-in architecture: vgg16, resnet18 or bench-vgg" },
  { "model", "input-size", PAL_SETTING_INT, F (input_size), "PX", "0", NULL, 0, 4096, FALSE,
    "Input side of vgg16 and resnet18 (0: 224)" },
  { "model", "arch-file", PAL_SETTING_PATH, F (arch_file), "FILE", "", NULL, 0, 0, FALSE,
    "Architecture in the text form (docs: core/pal-arch.h); replaces arch" },
  { "model", "weights", PAL_SETTING_PATH, F (weights), "MODEL", "", NULL, 0, 0, FALSE,
    "Start from the weights of this safetensors file: every tensor of the architecture "
    "found there with its shape is loaded, the rest keep He initialisation" },
  { "model", "bn-frozen", PAL_SETTING_BOOL, F (bn_frozen), NULL, "false", NULL, 0, 0, FALSE,
    "Batch norm in inference form during training (PAL may then sit before batch norm)" },
  /* [pal] */
  { "pal", "pal", PAL_SETTING_BOOL, F (pal), NULL, "true", NULL, 0, 0, FALSE,
    "Train with PAL; false: cross-entropy only (the baseline)" },
  { "pal", "layer", PAL_SETTING_STRING, F (layer), "NODE", "", NULL, 0, 0, FALSE,
    "PAL layer, a node name (default: the architecture's own, features.28 for vgg16, "
    "layer4.1 for resnet18, conv7 for bench-vgg; for a text architecture the last "
    "convolution-like node with a spatial map)" },
  { "pal", "attribution", PAL_SETTING_STRING, F (attribution), "A", "grad-input",
    "grad|grad-input", 0, 0, FALSE,
    "Attribution: grad (|g|) or grad-input (|g| F, the paper's best)" },
  { "pal", "channels", PAL_SETTING_STRING, F (channels), "S", "first",
    "all|mean|first", 0, 0, FALSE,
    "Channel strategy: each channel, the mean of all, or the mean of the first c1 "
    "(the paper's best, 'mean of half')" },
  { "pal", "c1", PAL_SETTING_INT, F (c1), "C1", "0", NULL, 0, 1 << 20, FALSE,
    "Channels of the 'first' strategy (0: half of the layer's)" },
  { "pal", "lambda", PAL_SETTING_DOUBLE, F (lambda), "L", "1", NULL, 0, 1e6, FALSE,
    "Weight of PAL in the loss" },
  /* [optim] */
  { "optim", "lr", PAL_SETTING_DOUBLE, F (lr), "LR", "0", NULL, 0, 1e30, FALSE,
    "Base learning rate of Adam; 0: 5e-5 when starting from weights (the paper's), "
    "1e-3 from He initialisation" },
  { "optim", "power", PAL_SETTING_DOUBLE, F (power), "P", "0.9", NULL, 0, 100, FALSE,
    "Polynomial decay: lr (1 - step / steps)^P; 0: constant" },
  { "optim", "weight-decay", PAL_SETTING_DOUBLE, F (weight_decay), "WD", "0", NULL, 0, 1, FALSE,
    "L2 weight decay, added to the gradient (as PyTorch's Adam)" },
  { "optim", "batch", PAL_SETTING_INT, F (batch), "B", "16", NULL, 1, 4096, FALSE,
    "Batch size" },
  { "optim", "epochs", PAL_SETTING_INT, F (epochs), "N", "75", NULL, 1, 1000000, FALSE,
    "Epochs (passes over the training split)" },
  { "optim", "iterations", PAL_SETTING_INT, F (iterations), "N", "0", NULL, 0, G_MAXINT, FALSE,
    "Steps in all; > 0 replaces epochs (AffectNet's protocol: 40000)" },
  /* [run] */
  { "run", "out", PAL_SETTING_PATH, F (out), "DIR", "", NULL, 0, 0, TRUE,
    "Run folder (config.ini, best.safetensors, last.safetensors, log.jsonl)" },
  { "run", "seed", PAL_SETTING_INT64, F (seed), "S", "0", NULL, 0, 0, FALSE,
    "Seed of the initial weights, the validation split, the order, the augmentation "
    "and dropout" },
  { "run", "threads", PAL_SETTING_INT, F (threads), "N", "0", NULL, 0, 64, TRUE,
    "Compute threads (0: all cores); a run repeats bit for bit for a given count" },
  { "run", "checkpoint-every", PAL_SETTING_INT, F (checkpoint_every), "N", "0", NULL, 0, G_MAXINT, TRUE,
    "Also write the last checkpoint every N steps (0: at epoch ends only)" },
  { "run", "report-every", PAL_SETTING_INT, F (report_every), "N", "10", NULL, 1, G_MAXINT, TRUE,
    "Steps between progress reports and log lines" },
};

#undef F

const PalTrainSetting *
pal_train_settings (int *n)
{
  *n = G_N_ELEMENTS (settings);
  return settings;
}

const PalTrainSetting *
pal_train_setting_lookup (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (g_strcmp0 (settings[i].key, key) == 0)
      return &settings[i];
  return NULL;
}

#define FIELD(cfg, s, type) ((type *) (void *) ((char *) (cfg) + (s)->offset))

static gboolean
choice_ok (const char *choices, const char *value)
{
  g_auto (GStrv) list = g_strsplit (choices, "|", -1);

  return value && g_strv_contains ((const char *const *) list, value);
}

/* Parses @value into the field of @s; errors name the key. */
static gboolean
setting_parse (PalTrainConfig *cfg, const PalTrainSetting *s, const char *value, GError **error)
{
  char *end = NULL;

  if (!value)
    value = "";
  switch (s->type)
    {
    case PAL_SETTING_BOOL:
      {
        static const char *const yes[] = { "true", "yes", "on", "1", NULL };
        static const char *const no[] = { "false", "no", "off", "0", NULL };
        g_autofree char *v = g_ascii_strdown (value, -1);

        g_strstrip (v);

        if (g_strv_contains (yes, v))
          *FIELD (cfg, s, gboolean) = TRUE;
        else if (g_strv_contains (no, v))
          *FIELD (cfg, s, gboolean) = FALSE;
        else
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': '%s' is not a boolean (true or false)", s->key, value);
            return FALSE;
          }
        return TRUE;
      }
    case PAL_SETTING_INT:
    case PAL_SETTING_INT64:
      {
        gint64 v;

        errno = 0;
        v = g_ascii_strtoll (value, &end, 10);
        if (end == value || *end || errno)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': '%s' is not an integer", s->key, value);
            return FALSE;
          }
        if (s->type == PAL_SETTING_INT64 && s->min == 0 && s->max == 0)
          {
            *FIELD (cfg, s, gint64) = v;
            return TRUE;
          }
        if (v < (gint64) s->min || v > (gint64) s->max)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': %s is out of range (%.0f .. %.0f)", s->key, value,
                         s->min, s->max);
            return FALSE;
          }
        if (s->type == PAL_SETTING_INT64)
          *FIELD (cfg, s, gint64) = v;
        else
          *FIELD (cfg, s, int) = (int) v;
        return TRUE;
      }
    case PAL_SETTING_DOUBLE:
      {
        double v;

        errno = 0;
        v = g_ascii_strtod (value, &end);
        if (end == value || *end || errno || !isfinite (v))
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': '%s' is not a number", s->key, value);
            return FALSE;
          }
        if (v < s->min || v > s->max)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': %s is out of range (%g .. %g)", s->key, value,
                         s->min, s->max);
            return FALSE;
          }
        *FIELD (cfg, s, double) = v;
        return TRUE;
      }
    case PAL_SETTING_STRING:
    case PAL_SETTING_PATH:
      {
        char **field = FIELD (cfg, s, char *);

        if (s->choices && !choice_ok (s->choices, value))
          {
            g_auto (GStrv) c = g_strsplit (s->choices, "|", -1);
            g_autofree char *list = g_strjoinv (", ", c);

            g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                         "setting '%s': '%s' is not one of %s", s->key, value, list);
            return FALSE;
          }
        g_free (*field);
        *field = *value ? g_strdup (value) : NULL;
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

/* A double in the shortest text that reads back to the same value. */
static char *
double_text (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (int digits = 6; digits <= 17; digits++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  return g_strdup (buf);
}

static char *
setting_text (const PalTrainConfig *cfg, const PalTrainSetting *s)
{
  switch (s->type)
    {
    case PAL_SETTING_BOOL:
      return g_strdup (*FIELD (cfg, s, gboolean) ? "true" : "false");
    case PAL_SETTING_INT:
      return g_strdup_printf ("%d", *FIELD (cfg, s, int));
    case PAL_SETTING_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, *FIELD (cfg, s, gint64));
    case PAL_SETTING_DOUBLE:
      return double_text (*FIELD (cfg, s, double));
    case PAL_SETTING_STRING:
    case PAL_SETTING_PATH:
      return g_strdup (*FIELD (cfg, s, char *) ? *FIELD (cfg, s, char *) : "");
    }
  g_assert_not_reached ();
}

void
pal_train_config_init (PalTrainConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    {
      gboolean ok = setting_parse (cfg, &settings[i], settings[i].default_text, NULL);
      g_assert (ok);
    }
}

void
pal_train_config_clear (PalTrainConfig *cfg)
{
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i].type == PAL_SETTING_STRING || settings[i].type == PAL_SETTING_PATH)
      g_clear_pointer (FIELD (cfg, &settings[i], char *), g_free);
}

void
pal_train_config_copy (PalTrainConfig *dst, const PalTrainConfig *src)
{
  *dst = *src;
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i].type == PAL_SETTING_STRING || settings[i].type == PAL_SETTING_PATH)
      {
        char **f = FIELD (dst, &settings[i], char *);
        *f = g_strdup (*f);
      }
}

gboolean
pal_train_config_set (PalTrainConfig *cfg, const char *key, const char *value, GError **error)
{
  const PalTrainSetting *s = pal_train_setting_lookup (key);

  if (!s)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "unknown setting '%s'", key);
      return FALSE;
    }
  return setting_parse (cfg, s, value, error);
}

char *
pal_train_config_get (const PalTrainConfig *cfg, const char *key)
{
  const PalTrainSetting *s = pal_train_setting_lookup (key);

  return s ? setting_text (cfg, s) : NULL;
}

gboolean
pal_train_config_load_keyfile (PalTrainConfig *cfg, GKeyFile *kf, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (int g = 0; groups[g]; g++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
      gboolean known_group = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
        known_group |= g_str_equal (settings[i].group, groups[g]);
      if (!known_group)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "unknown group [%s] (data, model, pal, optim, run)", groups[g]);
          return FALSE;
        }
      for (int k = 0; keys && keys[k]; k++)
        {
          const PalTrainSetting *s = pal_train_setting_lookup (keys[k]);
          g_autofree char *value = NULL;

          if (!s)
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                           "[%s]: unknown setting '%s' (see pal train --help)", groups[g], keys[k]);
              return FALSE;
            }
          if (!g_str_equal (s->group, groups[g]))
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                           "setting '%s' belongs in [%s], not [%s]", keys[k], s->group, groups[g]);
              return FALSE;
            }
          /* g_key_file_get_string unescapes; booleans and numbers are read
           * by our own parser so that every setting reads alike.  On a bad
           * escape it sets the error and still returns the value read so
           * far: the error decides. */
          g_autoptr (GError) local = NULL;
          g_autofree char *raw = g_key_file_get_value (kf, groups[g], keys[k], NULL);
          /* GLib 2.74 sets its error twice for a bad escape followed by a
           * backslash at the end: check the escapes first */
          for (const char *p = raw; p && *p; p++)
            if (*p == '\\' && (*++p == '\0' || !strchr ("sntr\\", *p)))
              {
                g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                             "[%s] %s: invalid escape sequence in '%s'", groups[g],
                             keys[k], raw);
                return FALSE;
              }
          value = g_key_file_get_string (kf, groups[g], keys[k], &local);
          if (local != NULL)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local), "[%s] %s: ",
                                          groups[g], keys[k]);
              return FALSE;
            }
          if (!value || !setting_parse (cfg, s, g_strstrip (value), error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
pal_train_config_load (PalTrainConfig *cfg, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len;

  /* read whole, not with g_key_file_load_from_file(), which refuses what
   * is not a regular file: a pipe works (pal train --config <(...)) */
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local)
      || !pal_train_config_load_keyfile (cfg, kf, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

GKeyFile *
pal_train_config_to_keyfile (const PalTrainConfig *cfg)
{
  GKeyFile *kf = g_key_file_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    {
      const PalTrainSetting *s = &settings[i];
      g_autofree char *v = setting_text (cfg, s);
      g_autofree char *comment = *s->default_text
        ? g_strdup_printf (" %s (default %s)", s->help, s->default_text)
        : g_strdup_printf (" %s", s->help);

      g_key_file_set_string (kf, s->group, s->key, v);
      g_key_file_set_comment (kf, s->group, s->key, comment, NULL);
    }
  return kf;
}

gboolean
pal_train_config_save (const PalTrainConfig *cfg, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = pal_train_config_to_keyfile (cfg);
  g_autofree char *data = g_key_file_to_data (kf, NULL, NULL);
  g_autofree char *text = g_strconcat ("# PAL Studio training settings (pal train --config FILE)\n",
                                       data, NULL);
  g_autoptr (GError) local = NULL;

  /* g_file_set_contents writes a temporary file and renames it */
  if (!g_file_set_contents (path, text, -1, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
pal_train_config_validate (const PalTrainConfig *cfg, GError **error)
{
  if (!cfg->dataset)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "no dataset given (setting 'dataset')");
      return FALSE;
    }
  if (!cfg->out)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "no run folder given (setting 'out')");
      return FALSE;
    }
  if (!cfg->arch && !cfg->arch_file)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "no architecture given (setting 'arch' or 'arch-file')");
      return FALSE;
    }
  if (cfg->c1 > 0 && g_strcmp0 (cfg->channels, "first") != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "c1 = %d only applies to channels = first (channels is %s)", cfg->c1,
                   cfg->channels);
      return FALSE;
    }
  return TRUE;
}

double
pal_train_config_effective_lr (const PalTrainConfig *cfg)
{
  if (cfg->lr > 0)
    return cfg->lr;
  return cfg->weights ? 5e-5 : 1e-3;
}

gboolean
pal_train_config_load_run (PalTrainConfig *cfg, const char *run_dir, GError **error)
{
  g_autofree char *path = g_build_filename (run_dir, "config.ini", NULL);

  if (!pal_train_config_load (cfg, path, error))
    return FALSE;
  g_free (cfg->out);
  cfg->out = g_strdup (run_dir);
  return TRUE;
}

const char *
pal_train_event_name (PalTrainEvent event)
{
  static const char *const names[] = { "step", "epoch", "checkpoint", "finished",
                                       "cancelled", "failed" };

  return (guint) event < G_N_ELEMENTS (names) ? names[event] : "?";
}

/* --- a run ------------------------------------------------------------------ */

/* Running sums of a report window or an epoch. */
typedef struct {
  double ce, pal, loss;      /* sums of per-batch means x batch size */
  gint64 correct, n, with_prior;
} Sums;

/* Class-balanced draws as a pure function of (seed, epoch, position): the
 * loader calls next() in position order, so a counter gives the position,
 * and a resumed run (first_epoch = its epoch) draws what the uninterrupted
 * run drew.  pal_balanced_sampler_*() keeps one running state instead. */
typedef struct {
  int     n_present;         /* classes with training samples */
  int    *start;             /* [n_present + 1] into idx */
  int    *idx;               /* training indices grouped by class */
  guint64 seed;
  int     first_epoch, epoch_size;
  gint64  pos;
} Balanced;

typedef struct {
  const PalTrainConfig *cfg;
  gboolean              resume;
  PalTrainProgressFunc  progress;
  gpointer              progress_data;
  GCancellable         *cancellable;

  char                 *config_path, *best_path, *last_path, *optim_path, *log_path;
  char                 *prev_optim_path;  /* the optimizer file of the checkpoint before */
  FILE                 *log;

  PalDataset           *ds;
  int                  *train_idx;
  int                   n_train, n_val;
  Balanced              balanced;
  PalModel             *model;
  PalWorkspace         *ws;
  PalAdam              *adam;
  PalLoader            *loader;
  float                *grad;
  gboolean              use_pal;
  PalLossConfig         pal_cfg;
  int                   ph, pw;
  double                lr;

  /* plan */
  int                   bpe;          /* batches per epoch (nominal) */
  int                   n_epochs;
  gint64                total_steps;
  /* position: where the next step starts */
  int                   epoch;        /* 0-based */
  int                   batch;        /* batches done in it */
  int                   ended_batches;  /* batches of the epoch that ended last */
  gint64                step;
  gboolean              val_pending;  /* epoch - 1 awaits its validation */
  gint64                ckpt_step;    /* step of the last checkpoint written; -1 none */
  gboolean              ckpt_val_pending;
  /* figures */
  Sums                  window, epoch_sums;
  double                val_acc, best_acc;
  int                   best_epoch;   /* 1-based; 0 none */
  double                last_lr;
  PalTrainProgress      last_step;    /* figures of the latest STEP report */
  /* time (this session) */
  gint64                t_start, t_window, t_mark;
  gint64                win_samples;  /* samples of the window trained in this session */
  double                train_s;      /* time spent in steps, not validation */
  gint64                session_steps;
  double                val_s;        /* duration of the latest validation */
} Run;

static int
balanced_next (gpointer data)
{
  Balanced *b = data;
  gint64 p = b->pos++;
  guint64 r = pal_augment_sample_seed (b->seed ^ BALANCED_STREAM,
                                       b->first_epoch + p / b->epoch_size, p % b->epoch_size);
  int c = MIN ((int) (pal_rand_uniform (&r) * b->n_present), b->n_present - 1);
  int n = b->start[c + 1] - b->start[c];
  int i = MIN ((int) (pal_rand_uniform (&r) * n), n - 1);

  return b->idx[b->start[c] + i];
}

static void
balanced_init (Balanced *b, PalDataset *ds, const int *train, int n_train)
{
  int k = pal_dataset_get_n_classes (ds);
  g_autofree int *count = g_new0 (int, k);
  g_autofree int *fill = g_new0 (int, k);
  int c = 0;

  for (int i = 0; i < n_train; i++)
    count[pal_dataset_get (ds, train[i])->label]++;
  b->start = g_new0 (int, k + 1);
  b->idx = g_new (int, MAX (n_train, 1));
  for (int j = 0; j < k; j++)
    if (count[j] > 0)
      {
        fill[j] = b->start[c];
        b->start[c + 1] = b->start[c] + count[j];
        c++;
      }
  b->n_present = c;
  for (int i = 0; i < n_train; i++)
    b->idx[fill[pal_dataset_get (ds, train[i])->label]++] = train[i];
}

static void
sums_add (Sums *s, const PalLosses *l, const PalBatch *b)
{
  s->ce += l->ce * b->n;
  s->pal += l->pal * b->n;
  s->loss += l->loss * b->n;
  s->correct += l->n_correct;
  s->n += b->n;
  for (int i = 0; i < b->n; i++)
    s->with_prior += b->has_prior[i] != 0;
}

static void
sums_fill (const Sums *s, PalTrainProgress *p)
{
  double n = (double) MAX (s->n, 1);

  p->ce = s->ce / n;
  p->pal = s->pal / n;
  p->loss = s->loss / n;
  p->train_accuracy = s->n ? s->correct / n : NAN;
  p->prior_fraction = s->n ? s->with_prior / n : NAN;
  p->n_samples = (int) s->n;
}

static double
now_s (const Run *r)
{
  return (g_get_monotonic_time () - r->t_start) / 1e6;
}

/* --- the log ------------------------------------------------------------------ */

static void
json_number (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
json_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

/* One line of log.jsonl: every figure of @p, null where unknown. */
static void
log_write (Run *r, const PalTrainProgress *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) t = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (t);
  g_autofree char *line = NULL;

  if (!r->log)
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, pal_train_event_name (p->event));
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  json_int (b, "epoch", p->epoch);
  json_int (b, "n_epochs", p->n_epochs);
  json_int (b, "batch", p->batch);
  json_int (b, "batches_per_epoch", p->batches_per_epoch);
  json_int (b, "step", p->step);
  json_int (b, "total_steps", p->total_steps);
  json_number (b, "ce", p->ce);
  json_number (b, "pal", p->pal);
  json_number (b, "loss", p->loss);
  json_number (b, "train_accuracy", p->train_accuracy);
  json_number (b, "prior_fraction", p->prior_fraction);
  json_int (b, "n_samples", p->n_samples);
  json_number (b, "val_accuracy", p->val_accuracy);
  json_number (b, "best_val_accuracy", p->best_val_accuracy);
  json_int (b, "best_epoch", p->best_epoch);
  json_number (b, "lr", p->lr);
  json_number (b, "images_per_s", p->images_per_s);
  json_number (b, "eta_s", p->eta_s);
  json_number (b, "elapsed_s", p->elapsed_s);
  json_int (b, "n_failed", p->n_failed);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, p->message);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  line = json_generator_to_data (gen, NULL);
  fputs (line, r->log);
  fputc ('\n', r->log);
  fflush (r->log);
}

/* --- reports ------------------------------------------------------------------ */

static double
eta (const Run *r)
{
  double per_step, evals;
  int epochs_done = r->epoch - (r->val_pending ? 1 : 0);

  if (r->session_steps == 0)
    return NAN;
  per_step = r->train_s / r->session_steps;
  evals = r->n_val > 0 ? MAX (r->n_epochs - epochs_done, 0) * r->val_s : 0.0;
  return (r->total_steps - r->step) * per_step + evals;
}

static void
emit (Run *r, PalTrainEvent event, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* Builds the report of @event, logs it and hands it to the callback. */
static void
emit (Run *r, PalTrainEvent event, const char *fmt, ...)
{
  PalTrainProgress p;
  double t = now_s (r);

  if (event == PAL_TRAIN_STEP)
    {
      memset (&p, 0, sizeof p);
      sums_fill (&r->window, &p);
      p.images_per_s = r->win_samples / MAX ((g_get_monotonic_time () - r->t_window) / 1e6, 1e-9);
    }
  else if (event == PAL_TRAIN_EPOCH_END)
    {
      memset (&p, 0, sizeof p);
      sums_fill (&r->epoch_sums, &p);
      p.images_per_s = r->last_step.images_per_s;
    }
  else
    p = r->last_step;

  p.event = event;
  /* the epoch the last step belonged to */
  if (event == PAL_TRAIN_EPOCH_END || (r->batch == 0 && r->epoch > 0))
    p.epoch = r->epoch;
  else
    p.epoch = r->epoch + 1;
  p.batch = r->batch == 0 && r->epoch > 0 ? (r->ended_batches ? r->ended_batches : r->bpe)
                                           : r->batch;
  p.n_epochs = r->n_epochs;
  p.batches_per_epoch = r->bpe;
  p.step = r->step;
  p.total_steps = r->total_steps;
  p.val_accuracy = r->val_acc;
  p.best_val_accuracy = r->best_acc;
  p.best_epoch = r->best_epoch;
  p.lr = r->last_lr;
  p.eta_s = event == PAL_TRAIN_FINISHED ? 0.0 : eta (r);
  p.elapsed_s = t;
  p.n_failed = r->loader ? pal_loader_get_n_failed (r->loader) : 0;
  p.message[0] = 0;
  if (fmt)
    {
      va_list ap;
      va_start (ap, fmt);
      g_vsnprintf (p.message, sizeof p.message, fmt, ap);
      va_end (ap);
    }
  if (event == PAL_TRAIN_STEP)
    r->last_step = p;

  log_write (r, &p);
  if (r->progress)
    r->progress (&p, r->progress_data);
}

/* --- checkpoints --------------------------------------------------------------- */

static void
meta_double (GHashTable *t, const char *key, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_hash_table_insert (t, g_strdup (key), g_strdup (g_ascii_formatd (buf, sizeof buf, "%.17g", v)));
}

static void
meta_int (GHashTable *t, const char *key, gint64 v)
{
  g_hash_table_insert (t, g_strdup (key), g_strdup_printf ("%" G_GINT64_FORMAT, v));
}

static void
sums_to_meta (GHashTable *t, const char *prefix, const Sums *s)
{
  g_autofree char *ce = g_strconcat (prefix, ".ce", NULL);
  g_autofree char *pal = g_strconcat (prefix, ".pal", NULL);
  g_autofree char *loss = g_strconcat (prefix, ".loss", NULL);
  g_autofree char *correct = g_strconcat (prefix, ".correct", NULL);
  g_autofree char *n = g_strconcat (prefix, ".n", NULL);
  g_autofree char *wp = g_strconcat (prefix, ".with_prior", NULL);

  meta_double (t, ce, s->ce);
  meta_double (t, pal, s->pal);
  meta_double (t, loss, s->loss);
  meta_int (t, correct, s->correct);
  meta_int (t, n, s->n);
  meta_int (t, wp, s->with_prior);
}

/* The training figures as "train.*" model metadata: every setting, the
 * plan and where these weights are. */
static void
set_train_meta (Run *r, int epoch_of_weights, double val_of_weights)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *s = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    {
      g_autofree char *key = g_strconcat ("train.", settings[i].key, NULL);
      g_autofree char *v = setting_text (r->cfg, &settings[i]);
      pal_model_set_meta (r->model, key, v);
    }
  g_ascii_formatd (buf, sizeof buf, "%g", r->lr);
  pal_model_set_meta (r->model, "train.lr-effective", buf);
  s = g_strdup_printf ("%d", epoch_of_weights);
  pal_model_set_meta (r->model, "train.epoch", s);
  g_free (s);
  s = g_strdup_printf ("%" G_GINT64_FORMAT, r->step);
  pal_model_set_meta (r->model, "train.step", s);
  g_free (s);
  s = g_strdup_printf ("%" G_GINT64_FORMAT, r->total_steps);
  pal_model_set_meta (r->model, "train.total-steps", s);
  g_free (s);
  s = g_strdup_printf ("%d", r->n_train);
  pal_model_set_meta (r->model, "train.n-train", s);
  g_free (s);
  s = g_strdup_printf ("%d", r->n_val);
  pal_model_set_meta (r->model, "train.n-val", s);
  pal_model_set_meta (r->model, "train.val-accuracy",
                      isfinite (val_of_weights)
                        ? g_ascii_formatd (buf, sizeof buf, "%.6f", val_of_weights) : "");
  g_free (s);
  s = g_strdup_printf ("%d", r->best_epoch);
  pal_model_set_meta (r->model, "train.best-epoch", s);
  pal_model_set_meta (r->model, "train.best-val-accuracy",
                      isfinite (r->best_acc)
                        ? g_ascii_formatd (buf, sizeof buf, "%.6f", r->best_acc) : "");
}

static gboolean
params_finite (Run *r)
{
  const float *p = pal_model_get_params (r->model);
  gsize n = pal_graph_get_n_floats (pal_model_get_graph (r->model));
  float acc = 0.0f;

  /* a NaN or an infinity anywhere makes the product NaN */
  for (gsize i = 0; i < n; i++)
    acc += p[i] * 0.0f;
  return acc == 0.0f;
}

/* Writes last-optim.safetensors, then last.safetensors, both at r->step;
 * the optimizer file they replace stays as last-optim-previous.safetensors
 * until both are written. */
static gboolean
save_checkpoint (Run *r, GError **error)
{
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  g_autoptr (GHashTable) meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 n = (gint64) pal_graph_get_n_floats (pal_model_get_graph (r->model));
  gint64 log_bytes = 0;
  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, r->step);
  g_autoptr (GError) local = NULL;
  GHashTableIter it;
  gpointer k, v;

  if (!params_finite (r))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_NUMERIC,
                   "the weights became NaN or infinite by step %" G_GINT64_FORMAT
                   "; no checkpoint was written", r->step);
      return FALSE;
    }
  if (r->log)
    {
      fflush (r->log);
      log_bytes = ftell (r->log);
    }
  meta_int (meta, "step", r->step);
  meta_int (meta, "epoch", r->epoch);
  meta_int (meta, "batch", r->batch);
  meta_int (meta, "val_pending", r->val_pending);
  meta_int (meta, "adam.step", pal_adam_get_step (r->adam));
  meta_int (meta, "n_floats", n);
  meta_double (meta, "val_accuracy", r->val_acc);
  meta_double (meta, "best_val_accuracy", r->best_acc);
  meta_int (meta, "best_epoch", r->best_epoch);
  meta_double (meta, "last_lr", r->last_lr);
  meta_int (meta, "log.bytes", log_bytes);
  sums_to_meta (meta, "window", &r->window);
  sums_to_meta (meta, "epoch_sums", &r->epoch_sums);
  /* the figures that reports other than steps repeat */
  meta_double (meta, "report.ce", r->last_step.ce);
  meta_double (meta, "report.pal", r->last_step.pal);
  meta_double (meta, "report.loss", r->last_step.loss);
  meta_double (meta, "report.train_accuracy", r->last_step.train_accuracy);
  meta_double (meta, "report.prior_fraction", r->last_step.prior_fraction);
  meta_double (meta, "report.images_per_s", r->last_step.images_per_s);
  meta_int (meta, "report.n_samples", r->last_step.n_samples);

  pal_st_writer_set_metadata (w, "format", OPTIM_FORMAT);
  g_hash_table_iter_init (&it, meta);
  while (g_hash_table_iter_next (&it, &k, &v))
    pal_st_writer_set_metadata (w, k, v);
  pal_st_writer_add (w, "adam.m", "F32", 1, &n, pal_adam_get_m (r->adam));
  pal_st_writer_add (w, "adam.v", "F32", 1, &n, pal_adam_get_v (r->adam));
  if (g_file_test (r->optim_path, G_FILE_TEST_EXISTS)
      && g_rename (r->optim_path, r->prev_optim_path) != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not rename %s to %s: %s",
                   r->optim_path, r->prev_optim_path, g_strerror (errno));
      return FALSE;
    }
  if (!pal_st_writer_save (w, r->optim_path, &local))
    {
      /* the pair as it was */
      (void) g_rename (r->prev_optim_path, r->optim_path);
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }

  set_train_meta (r, r->epoch, NAN);
  pal_model_set_meta (r->model, "train.checkpoint-step", step);
  if (!pal_model_save (r->model, r->last_path, error))
    return FALSE;
  (void) g_unlink (r->prev_optim_path);
  r->ckpt_step = r->step;
  r->ckpt_val_pending = r->val_pending;
  return TRUE;
}

static gboolean
meta_get_int (PalSafetensors *st, const char *key, gint64 *out, GError **error)
{
  const char *s = pal_safetensors_get_metadata (st, key);
  char *end;

  if (s)
    {
      *out = g_ascii_strtoll (s, &end, 10);
      if (end != s && !*end)
        return TRUE;
    }
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: metadata '%s' is missing or not an integer",
               pal_safetensors_get_path (st), key);
  return FALSE;
}

static gboolean
meta_get_double (PalSafetensors *st, const char *key, double *out, GError **error)
{
  const char *s = pal_safetensors_get_metadata (st, key);
  char *end;

  if (s)
    {
      *out = g_ascii_strtod (s, &end);
      if (end != s && !*end)
        return TRUE;
    }
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s: metadata '%s' is missing or not a number",
               pal_safetensors_get_path (st), key);
  return FALSE;
}

static gboolean
sums_from_meta (PalSafetensors *st, const char *prefix, Sums *s, GError **error)
{
  const char *names[] = { ".ce", ".pal", ".loss", ".correct", ".n", ".with_prior" };
  gint64 *ints[] = { &s->correct, &s->n, &s->with_prior };
  double *dbls[] = { &s->ce, &s->pal, &s->loss };

  for (int i = 0; i < 6; i++)
    {
      g_autofree char *key = g_strconcat (prefix, names[i], NULL);
      if (i < 3 ? !meta_get_double (st, key, dbls[i], error)
                : !meta_get_int (st, key, ints[i - 3], error))
        return FALSE;
    }
  return TRUE;
}

/* Cuts the log back to @bytes, its length when the checkpoint of @step was
 * written: what the interrupted session logged after that is not part of
 * the resumed run, except the report of that checkpoint itself, which
 * follows at once. */
static gboolean
log_rewind (const char *path, gint64 bytes, gint64 step, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  gint64 keep;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_file_get_contents (path, &text, &len, NULL))
    len = 0;
  keep = MIN (bytes, (gint64) len);
  if (keep < (gint64) len)
    {
      const char *nl = memchr (text + keep, '\n', len - keep);
      g_autoptr (JsonParser) parser = json_parser_new ();

      if (nl && json_parser_load_from_data (parser, text + keep, nl - (text + keep), NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));

          if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""),
                         "checkpoint") == 0
              && json_object_get_int_member_with_default (o, "step", -1) == step)
            keep = nl + 1 - text;
        }
    }
  if (truncate (path, keep) != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not truncate %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The step of an optimizer checkpoint file; -1 if it has none. */
static gint64
optim_step (const char *path)
{
  g_autoptr (PalSafetensors) st = pal_safetensors_open (path, NULL);
  gint64 step;

  if (!st || g_strcmp0 (pal_safetensors_get_metadata (st, "format"), OPTIM_FORMAT) != 0
      || !meta_get_int (st, "step", &step, NULL))
    return -1;
  return step;
}

/* Puts the model, Adam and the position back as the last checkpoint left
 * them, and the log back to its length then. */
static gboolean
load_checkpoint (Run *r, GError **error)
{
  g_autoptr (PalModel) last = NULL;
  g_autoptr (PalSafetensors) st = NULL;
  g_autoptr (GError) local = NULL;
  gint64 n = (gint64) pal_graph_get_n_floats (pal_model_get_graph (r->model));
  gint64 v, n_file, adam_step, log_bytes;
  const char *ck;
  GHashTableIter it;
  gpointer key, value;

  last = pal_model_load (r->last_path, NULL, error);
  if (!last)
    return FALSE;
  if (g_strcmp0 (pal_model_get_arch_text (last), pal_model_get_arch_text (r->model)) != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s holds another architecture than the run's settings describe",
                   r->last_path);
      return FALSE;
    }
  /* a run stopped between the two files of a checkpoint: last.safetensors
   * is the one before, and so is last-optim-previous.safetensors */
  ck = pal_model_get_meta (last, "train.checkpoint-step");
  if (ck && g_file_test (r->prev_optim_path, G_FILE_TEST_EXISTS)
      && optim_step (r->optim_path) != g_ascii_strtoll (ck, NULL, 10)
      && optim_step (r->prev_optim_path) == g_ascii_strtoll (ck, NULL, 10)
      && g_rename (r->prev_optim_path, r->optim_path) != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not rename %s to %s: %s",
                   r->prev_optim_path, r->optim_path, g_strerror (errno));
      return FALSE;
    }
  st = pal_safetensors_open (r->optim_path, &local);
  if (!st)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  if (g_strcmp0 (pal_safetensors_get_metadata (st, "format"), OPTIM_FORMAT) != 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s is not an optimizer checkpoint (%s)",
                   r->optim_path, OPTIM_FORMAT);
      return FALSE;
    }
  if (!meta_get_int (st, "step", &r->step, error)
      || !meta_get_int (st, "n_floats", &n_file, error)
      || !meta_get_int (st, "adam.step", &adam_step, error)
      || !meta_get_int (st, "log.bytes", &log_bytes, error))
    return FALSE;
  if (!ck || g_ascii_strtoll (ck, NULL, 10) != r->step)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s (step %s) and %s (step %" G_GINT64_FORMAT ") are not from the same "
                   "checkpoint: the run stopped while writing them", r->last_path,
                   ck ? ck : "?", r->optim_path, r->step);
      return FALSE;
    }
  if (n_file != n)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE, "%s has %" G_GINT64_FORMAT
                   " moments for a model of %" G_GINT64_FORMAT " floats", r->optim_path, n_file, n);
      return FALSE;
    }
  if (!pal_safetensors_read_f32 (st, "adam.m", 1, &n, pal_adam_get_m (r->adam), &local)
      || !pal_safetensors_read_f32 (st, "adam.v", 1, &n, pal_adam_get_v (r->adam), &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s", local->message);
      return FALSE;
    }
  pal_adam_set_step (r->adam, adam_step);
  if (!meta_get_int (st, "epoch", &v, error))
    return FALSE;
  r->epoch = (int) v;
  if (!meta_get_int (st, "batch", &v, error))
    return FALSE;
  r->batch = (int) v;
  if (!meta_get_int (st, "val_pending", &v, error))
    return FALSE;
  r->val_pending = v != 0;
  if (!meta_get_int (st, "best_epoch", &v, error))
    return FALSE;
  r->best_epoch = (int) v;
  if (!meta_get_double (st, "val_accuracy", &r->val_acc, error)
      || !meta_get_double (st, "best_val_accuracy", &r->best_acc, error)
      || !meta_get_double (st, "last_lr", &r->last_lr, error)
      || !sums_from_meta (st, "window", &r->window, error)
      || !sums_from_meta (st, "epoch_sums", &r->epoch_sums, error)
      || !meta_get_double (st, "report.ce", &r->last_step.ce, error)
      || !meta_get_double (st, "report.pal", &r->last_step.pal, error)
      || !meta_get_double (st, "report.loss", &r->last_step.loss, error)
      || !meta_get_double (st, "report.train_accuracy", &r->last_step.train_accuracy, error)
      || !meta_get_double (st, "report.prior_fraction", &r->last_step.prior_fraction, error)
      || !meta_get_double (st, "report.images_per_s", &r->last_step.images_per_s, error)
      || !meta_get_int (st, "report.n_samples", &v, error))
    return FALSE;
  r->last_step.n_samples = (int) v;
  if (r->epoch < 0 || r->batch < 0 || r->step < 0 || r->step > r->total_steps)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s: position epoch %d, batch %d, step %" G_GINT64_FORMAT
                   " does not fit the run's plan of %" G_GINT64_FORMAT " steps",
                   r->optim_path, r->epoch, r->batch, r->step, r->total_steps);
      return FALSE;
    }

  /* the weights (batch-norm statistics included) and the model's metadata */
  memcpy (pal_model_get_params (r->model), pal_model_get_params (last), n * sizeof (float));
  g_hash_table_iter_init (&it, pal_model_get_meta_table (last));
  while (g_hash_table_iter_next (&it, &key, &value))
    pal_model_set_meta (r->model, key, value);

  if (!log_rewind (r->log_path, log_bytes, r->step, error))
    return FALSE;
  r->ckpt_step = r->step;
  r->ckpt_val_pending = r->val_pending;
  return TRUE;
}

/* --- setting up ------------------------------------------------------------------ */

static char *
read_arch_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return NULL;
    }
  /* the text form is told from a built-in name by its newline */
  if (!strchr (text, '\n'))
    return g_strconcat (text, "\n", NULL);
  return g_steal_pointer (&text);
}

/* The default PAL layer of a text architecture: the last node with a
 * spatial map that is a convolution, an activation, a sum or a batch norm
 * (not a pool: its attribution is sparse) and that PAL accepts. */
static int
default_layer (PalGraph *g, gboolean training)
{
  for (int i = pal_graph_get_n_nodes (g) - 1; i > 0; i--)
    {
      PalOp op = pal_graph_node_op (g, i);
      int c, h, w;

      pal_graph_node_shape (g, i, &c, &h, &w);
      if (h * w < 2 || (op != PAL_OP_CONV2D && op != PAL_OP_RELU && op != PAL_OP_ADD
                        && op != PAL_OP_BATCHNORM))
        continue;
      if (pal_graph_check_attribution_node (g, i, training, NULL))
        return i;
    }
  return -1;
}

/* Loads every tensor of the architecture found in @path with its shape. */
static gboolean
load_weights (PalModel *model, const char *path, GError **error)
{
  g_autoptr (PalSafetensors) st = NULL;
  g_autoptr (GError) local = NULL;
  PalGraph *g = pal_model_get_graph (model);
  float *params = pal_model_get_params (model);
  int loaded = 0;
  g_autofree char *s = NULL;
  const char *meta;

  st = pal_safetensors_open (path, &local);
  if (!st)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      const PalStTensor *t = pal_safetensors_lookup (st, pal_graph_param_name (g, p));
      gint64 shape[4];
      int nd = pal_graph_param_shape (g, p, shape);

      if (!t || t->ndim != nd || memcmp (t->shape, shape, nd * sizeof (gint64)) != 0)
        continue;
      if (!pal_safetensors_read_f32 (st, t->name, nd, shape,
                                     params + pal_graph_param_offset (g, p), &local))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE, "%s", local->message);
          return FALSE;
        }
      loaded++;
    }
  if (loaded == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE,
                   "%s holds no tensor of the architecture with its name and shape", path);
      return FALSE;
    }
  s = g_strdup_printf ("%d/%d", loaded, pal_graph_get_n_params (g));
  pal_model_set_meta (model, "train.weights-loaded", s);
  /* the input normalisation the weights were trained with */
  if ((meta = pal_safetensors_get_metadata (st, "input.mean")))
    pal_model_set_meta (model, "input.mean", meta);
  if ((meta = pal_safetensors_get_metadata (st, "input.std")))
    pal_model_set_meta (model, "input.std", meta);
  return TRUE;
}

static gboolean
open_dataset (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  PalDatasetOptions opt = { 0 };
  PalDatasetFormat fmt;

  if (!pal_dataset_format_from_string (cfg->format, &fmt, error))
    return FALSE;
  opt.include_contempt = cfg->contempt;
  opt.image_dir = cfg->images;
  opt.landmarks_dir = cfg->landmarks;
  r->ds = pal_dataset_open (cfg->dataset, fmt, &opt, error);
  if (!r->ds)
    return FALSE;
  if (!pal_dataset_has_own_validation (r->ds) && cfg->val_fraction > 0
      && !pal_dataset_make_validation (r->ds, cfg->val_fraction,
                                       (guint64) cfg->seed ^ VAL_STREAM, error))
    return FALSE;
  r->train_idx = pal_dataset_indices (r->ds, PAL_SPLIT_TRAIN, &r->n_train);
  r->n_val = pal_dataset_count (r->ds, PAL_SPLIT_VAL, -1);
  if (r->n_train == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "the dataset %s has no training samples",
                   cfg->dataset);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_model (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  int k = pal_dataset_get_n_classes (r->ds);
  g_autofree char *spec = NULL;
  const char *const *names;

  if (cfg->arch_file)
    {
      if (!(spec = read_arch_file (cfg->arch_file, error)))
        return FALSE;
    }
  else if (k == 7)
    spec = cfg->input_size ? g_strdup_printf ("%s@%d", cfg->arch, cfg->input_size)
                           : g_strdup (cfg->arch);
  else if (!(spec = pal_arch_builtin_text (cfg->arch, cfg->input_size, k, error)))
    return FALSE;

  r->model = pal_model_new (spec, error);
  if (!r->model)
    return FALSE;
  if (pal_model_get_n_classes (r->model) != k)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "the architecture has %d outputs but the dataset %d classes",
                   pal_model_get_n_classes (r->model), k);
      return FALSE;
    }
  pal_model_init (r->model, (guint64) cfg->seed);
  if (cfg->weights && !load_weights (r->model, cfg->weights, error))
    return FALSE;
  names = pal_dataset_class_names (r->ds, NULL);
  pal_model_set_class_names (r->model, names);
  return TRUE;
}

static gboolean
setup_pal (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  PalGraph *g = pal_model_get_graph (r->model);
  int c;

  r->use_pal = cfg->pal;
  r->ph = r->pw = 1;
  if (!r->use_pal)
    return TRUE;

  memset (&r->pal_cfg, 0, sizeof r->pal_cfg);
  if (cfg->layer)
    {
      r->pal_cfg.layer = pal_graph_find (g, cfg->layer);
      if (r->pal_cfg.layer < 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "the architecture has no node '%s' for the PAL layer (see pal info)",
                       cfg->layer);
          return FALSE;
        }
    }
  else
    {
      const char *name = cfg->arch_file ? NULL : pal_arch_default_layer (cfg->arch);

      r->pal_cfg.layer = name ? pal_graph_find (g, name) : default_layer (g, !cfg->bn_frozen);
      if (r->pal_cfg.layer < 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "no node of the architecture can be the PAL layer: name one (setting 'layer')");
          return FALSE;
        }
    }
  r->pal_cfg.attribution = g_str_equal (cfg->attribution, "grad") ? PAL_ATTR_GRAD
                                                                  : PAL_ATTR_GRAD_INPUT;
  r->pal_cfg.channels = g_str_equal (cfg->channels, "all")    ? PAL_CHANNELS_ALL
                        : g_str_equal (cfg->channels, "mean") ? PAL_CHANNELS_MEAN
                                                               : PAL_CHANNELS_FIRST;
  r->pal_cfg.c1 = cfg->c1;
  r->pal_cfg.lambda = (float) cfg->lambda;
  if (!pal_workspace_set_pal (r->ws, &r->pal_cfg, error))
    return FALSE;
  pal_graph_node_shape (g, r->pal_cfg.layer, &c, &r->ph, &r->pw);
  pal_loss_config_to_model (&r->pal_cfg, r->model);
  return TRUE;
}

static gboolean
make_loader (Run *r, PalAugmentOptions *aug, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  PalLoaderSource src = pal_dataset_as_source (r->ds);
  PalLoaderOptions opt;

  pal_loader_options_init (&opt);
  pal_loader_options_set_model (&opt, r->model);
  if (cfg->balanced)
    {
      if (!r->balanced.idx)
        balanced_init (&r->balanced, r->ds, r->train_idx, r->n_train);
      r->balanced.seed = (guint64) cfg->seed;
      r->balanced.first_epoch = r->epoch;
      r->balanced.epoch_size = r->n_train;
      r->balanced.pos = 0;
      opt.sampler = balanced_next;
      opt.sampler_data = &r->balanced;
      opt.epoch_size = r->n_train;
    }
  else
    {
      opt.indices = r->train_idx;
      opt.n_indices = r->n_train;
      opt.shuffle = TRUE;
    }
  /* the order of epoch e depends on (seed, e) only: a resumed run starts
   * the loader at its epoch and sees what the uninterrupted run saw */
  opt.first_epoch = r->epoch;
  opt.n_epochs = cfg->iterations > 0 ? 0 : r->n_epochs - r->epoch;
  opt.batch_size = cfg->batch;
  opt.n_classes = pal_dataset_get_n_classes (r->ds);
  opt.map_height = r->ph;
  opt.map_width = r->pw;
  opt.sigma_224 = (float) cfg->sigma;
  opt.noise_224 = (float) cfg->landmark_noise;
  aug->max_rotation = cfg->rotation;
  aug->flip = cfg->flip;
  aug->border = 0;
  opt.augment = cfg->augment ? aug : NULL;
  opt.seed = (guint64) cfg->seed;
  opt.n_workers = cfg->workers;
  r->loader = pal_loader_new (&src, &opt, error);
  return r->loader != NULL;
}

/* After the last step of an epoch (r->epoch already counts it, and
 * val_pending is set): validation, best.safetensors when it improves, the
 * epoch report, the last checkpoint. */
static gboolean
finish_epoch (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  int done = r->epoch;
  double acc = NAN;
  gboolean improved;
  g_autofree char *best_note = NULL;

  if (r->n_val > 0)
    {
      g_autoptr (PalConfusion) conf = NULL;
      gint64 t0 = g_get_monotonic_time ();

      conf = pal_evaluate (r->model, r->ds, PAL_SPLIT_VAL, cfg->batch, r->cancellable,
                           NULL, NULL, NULL, error);
      if (!conf)
        return FALSE;
      acc = pal_confusion_accuracy (conf);
      r->val_s = (g_get_monotonic_time () - t0) / 1e6;
    }
  r->val_acc = acc;
  r->val_pending = FALSE;

  /* without a validation split every epoch is "best": best = last */
  improved = r->n_val == 0 || r->best_epoch == 0 || acc > r->best_acc;
  if (improved)
    {
      if (!params_finite (r))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_NUMERIC,
                       "the weights became NaN or infinite by step %" G_GINT64_FORMAT, r->step);
          return FALSE;
        }
      r->best_acc = acc;
      r->best_epoch = done;
      set_train_meta (r, done, acc);
      pal_model_set_meta (r->model, "train.checkpoint-step", "");
      if (!pal_model_save (r->model, r->best_path, error))
        return FALSE;
      best_note = isfinite (acc)
                    ? g_strdup_printf (" and best.safetensors (validation %.2f%%)", 100 * acc)
                    : g_strdup (" and best.safetensors (no validation split: the latest epoch)");
    }

  emit (r, PAL_TRAIN_EPOCH_END, "epoch %d of %d: validation %s%.2f%%", done, r->n_epochs,
        isfinite (acc) ? "" : "n/a ", isfinite (acc) ? 100 * acc : 0.0);
  memset (&r->epoch_sums, 0, sizeof r->epoch_sums);

  if (!save_checkpoint (r, error))
    return FALSE;
  emit (r, PAL_TRAIN_CHECKPOINT, "wrote last.safetensors%s", best_note ? best_note : "");
  r->t_mark = r->t_window = g_get_monotonic_time ();
  return TRUE;
}

static gboolean
run_steps (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  guint64 dropout_seed = pal_mix64 ((guint64) cfg->seed ^ DROPOUT_STREAM);
  PalBatch *b = NULL;

  /* a mid-epoch checkpoint: the batches of this epoch already trained on */
  for (int i = 0; i < r->batch; i++)
    {
      if (g_cancellable_set_error_if_cancelled (r->cancellable, error)
          || !pal_loader_next (r->loader, &b, r->cancellable, error))
        return FALSE;
      if (!b)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "the checkpoint is at batch %d of epoch %d, past the epoch's end",
                       r->batch, r->epoch + 1);
          return FALSE;
        }
      pal_batch_release (b);
    }

  r->t_mark = r->t_window = g_get_monotonic_time ();
  while (r->step < r->total_steps)
    {
      PalLosses losses;
      gboolean last;
      gint64 t;

      if (g_cancellable_set_error_if_cancelled (r->cancellable, error)
          || !pal_loader_next (r->loader, &b, r->cancellable, error))
        return FALSE;
      if (!b)
        break;

      /* dropout masks from (seed, step): the same whenever the step runs */
      pal_workspace_set_seed (r->ws, pal_mix64 (dropout_seed + (guint64) r->step));
      /* A sample without landmarks has an all-zero prior: its standardised
       * prior is zero, so it adds nothing to PAL nor to its gradient, and the
       * batch mean still divides by all n samples (docs/TRAINING.md). */
      if (!pal_workspace_grads (r->ws, b->x, b->labels, r->use_pal ? b->priors : NULL,
                                b->ph, b->pw, b->n, r->grad, &losses, error))
        {
          if (error && *error && (*error)->domain == PAL_ERROR
              && (*error)->code == PAL_ERROR_NUMERIC)
            g_prefix_error (error, "stopped at step %" G_GINT64_FORMAT " (epoch %d, batch %d): ",
                            r->step + 1, r->epoch + 1, r->batch + 1);
          pal_batch_release (b);
          return FALSE;
        }
      r->last_lr = pal_adam_get_lr (r->adam);
      pal_adam_step (r->adam, r->grad);
      sums_add (&r->window, &losses, b);
      sums_add (&r->epoch_sums, &losses, b);
      r->win_samples += b->n;
      last = b->last;
      pal_batch_release (b);

      r->step++;
      r->batch++;
      r->session_steps++;
      t = g_get_monotonic_time ();
      r->train_s += (t - r->t_mark) / 1e6;
      r->t_mark = t;

      if (r->step % cfg->report_every == 0 || last || r->step == r->total_steps)
        {
          emit (r, PAL_TRAIN_STEP, NULL);
          memset (&r->window, 0, sizeof r->window);
          r->win_samples = 0;
          r->t_window = g_get_monotonic_time ();
        }
      if (last || r->step == r->total_steps)
        {
          r->epoch++;
          r->ended_batches = r->batch;
          r->batch = 0;
          r->val_pending = TRUE;
          if (!finish_epoch (r, error))
            return FALSE;
        }
      else if (cfg->checkpoint_every > 0 && r->step % cfg->checkpoint_every == 0)
        {
          if (!save_checkpoint (r, error))
            return FALSE;
          emit (r, PAL_TRAIN_CHECKPOINT, "wrote last.safetensors at step %" G_GINT64_FORMAT,
                r->step);
          r->t_mark = g_get_monotonic_time ();
        }
    }
  return TRUE;
}

/* --- pal_train ------------------------------------------------------------------ */

/* On resume, every setting that shapes the result must be the run's own. */
static gboolean
check_resume_settings (const PalTrainConfig *cfg, const char *config_path, GError **error)
{
  PalTrainConfig saved;
  gboolean ok = TRUE;

  pal_train_config_init (&saved);
  if (!pal_train_config_load (&saved, config_path, error))
    {
      pal_train_config_clear (&saved);
      return FALSE;
    }
  for (gsize i = 0; ok && i < G_N_ELEMENTS (settings); i++)
    {
      g_autofree char *a = NULL, *b = NULL;

      if (settings[i].resumable)
        continue;
      a = setting_text (&saved, &settings[i]);
      b = setting_text (cfg, &settings[i]);
      if (!g_str_equal (a, b))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "setting '%s' is '%s' but the run was made with '%s': a resumed run "
                       "may only change the data paths, workers, threads, checkpoint-every "
                       "and report-every", settings[i].key, b, a);
          ok = FALSE;
        }
    }
  pal_train_config_clear (&saved);
  return ok;
}

/* Removes the temporary files that writes of the run's own files left
 * when the run was killed: ".NAME.XXXXXX" (pal_file_replace) and
 * "config.ini.XXXXXX" (g_file_set_contents). */
static void
remove_temporaries (const char *dir)
{
  static const char *const prefixes[] = {
    ".best.safetensors.", ".last.safetensors.", ".last-optim.safetensors.", "config.ini.",
  };
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
      if (g_str_has_prefix (name, prefixes[i]) && strlen (name) == strlen (prefixes[i]) + 6)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);

          (void) g_unlink (path);
        }
}

static gboolean
prepare_folder (Run *r, GError **error)
{
  const char *dir = r->cfg->out;

  r->config_path = g_build_filename (dir, "config.ini", NULL);
  r->best_path = g_build_filename (dir, "best.safetensors", NULL);
  r->last_path = g_build_filename (dir, "last.safetensors", NULL);
  r->optim_path = g_build_filename (dir, "last-optim.safetensors", NULL);
  r->prev_optim_path = g_build_filename (dir, "last-optim-previous.safetensors", NULL);
  r->log_path = g_build_filename (dir, "log.jsonl", NULL);
  remove_temporaries (dir);

  if (r->resume)
    {
      if (!g_file_test (r->last_path, G_FILE_TEST_EXISTS)
          || (!g_file_test (r->optim_path, G_FILE_TEST_EXISTS)
              && !g_file_test (r->prev_optim_path, G_FILE_TEST_EXISTS)))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_IO,
                       "%s holds no checkpoint to resume (last.safetensors and "
                       "last-optim.safetensors)", dir);
          return FALSE;
        }
      return check_resume_settings (r->cfg, r->config_path, error);
    }
  if (g_file_test (r->last_path, G_FILE_TEST_EXISTS)
      || g_file_test (r->best_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "%s already holds a run: resume it (pal train --resume %s) or choose "
                   "another folder", dir, dir);
      return FALSE;
    }
  return TRUE;
}

static gboolean
run_all (Run *r, GError **error)
{
  const PalTrainConfig *cfg = r->cfg;
  PalAdamConfig acfg;
  PalAugmentOptions aug;

  if (!pal_train_config_validate (cfg, error) || !prepare_folder (r, error))
    return FALSE;
  pal_set_threads (cfg->threads);

  if (!open_dataset (r, error) || !make_model (r, error))
    return FALSE;
  r->ws = pal_workspace_new (r->model, cfg->batch, error);
  if (!r->ws)
    return FALSE;
  pal_workspace_set_bn_frozen (r->ws, cfg->bn_frozen);
  if (!setup_pal (r, error))
    return FALSE;
  r->grad = g_try_new0 (float, MAX (pal_graph_get_n_floats (pal_model_get_graph (r->model)), 1));
  if (!r->grad)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "not enough memory for the gradients");
      return FALSE;
    }

  /* the plan */
  r->bpe = (r->n_train + cfg->batch - 1) / cfg->batch;
  if (cfg->iterations > 0)
    {
      r->total_steps = cfg->iterations;
      r->n_epochs = (int) ((r->total_steps + r->bpe - 1) / r->bpe);
    }
  else
    {
      r->n_epochs = cfg->epochs;
      r->total_steps = (gint64) cfg->epochs * r->bpe;
    }
  r->lr = pal_train_config_effective_lr (cfg);
  acfg = pal_adam_config_default ((float) r->lr);
  acfg.power = (float) cfg->power;
  acfg.weight_decay = (float) cfg->weight_decay;
  acfg.total_steps = r->total_steps;
  r->adam = pal_adam_new (r->model, &acfg);
  r->last_lr = r->lr;

  if (r->resume)
    {
      if (!load_checkpoint (r, error))
        return FALSE;
    }
  else
    {
      /* made only now that the data and the model are known to be good */
      if (g_mkdir_with_parents (cfg->out, 0777) != 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not create the run folder %s: %s",
                       cfg->out, g_strerror (errno));
          return FALSE;
        }
      set_train_meta (r, 0, NAN);
      if (g_file_test (r->log_path, G_FILE_TEST_EXISTS) && g_unlink (r->log_path) != 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not remove the old %s: %s",
                       r->log_path, g_strerror (errno));
          return FALSE;
        }
    }
  /* the settings as run (on resume, with the run-time ones of this session) */
  if (!pal_train_config_save (cfg, r->config_path, error))
    return FALSE;
  r->log = g_fopen (r->log_path, "a");
  if (!r->log)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "could not open %s: %s", r->log_path,
                   g_strerror (errno));
      return FALSE;
    }

  r->t_start = r->t_mark = r->t_window = g_get_monotonic_time ();
  if (r->val_pending && !finish_epoch (r, error))
    return FALSE;
  if (r->step < r->total_steps)
    {
      if (!make_loader (r, &aug, error) || !run_steps (r, error))
        return FALSE;
    }
  return TRUE;
}

static void
run_free (Run *r)
{
  if (r->loader)
    pal_loader_free (r->loader);
  if (r->log)
    fclose (r->log);
  pal_adam_free (r->adam);
  pal_workspace_free (r->ws);
  g_free (r->grad);
  g_clear_pointer (&r->model, pal_model_unref);
  g_clear_pointer (&r->ds, pal_dataset_unref);
  g_free (r->train_idx);
  g_free (r->balanced.start);
  g_free (r->balanced.idx);
  g_free (r->config_path);
  g_free (r->best_path);
  g_free (r->last_path);
  g_free (r->optim_path);
  g_free (r->prev_optim_path);
  g_free (r->log_path);
}

static char *
best_summary (Run *r)
{
  if (r->best_epoch == 0)
    return g_strdup ("no best.safetensors yet");
  if (!isfinite (r->best_acc))
    return g_strdup_printf ("best.safetensors is epoch %d (no validation split)", r->best_epoch);
  return g_strdup_printf ("best.safetensors is epoch %d (validation %.2f%%)", r->best_epoch,
                          100 * r->best_acc);
}

gboolean
pal_train (const PalTrainConfig *cfg, gboolean resume,
           PalTrainProgressFunc progress, gpointer progress_data,
           GCancellable *cancellable, GError **error)
{
  Run r = { 0 };
  g_autoptr (GError) local = NULL;
  g_autofree char *best = NULL;
  gboolean ok;

  g_return_val_if_fail (cfg != NULL, FALSE);
  r.cfg = cfg;
  r.resume = resume;
  r.progress = progress;
  r.progress_data = progress_data;
  r.cancellable = cancellable;
  r.ckpt_step = -1;
  r.val_acc = r.best_acc = NAN;
  r.last_lr = NAN;
  r.last_step.ce = r.last_step.pal = r.last_step.loss = NAN;
  r.last_step.train_accuracy = r.last_step.prior_fraction = NAN;
  r.last_step.images_per_s = NAN;
  r.t_start = g_get_monotonic_time ();

  ok = run_all (&r, &local);
  best = best_summary (&r);
  if (ok)
    emit (&r, PAL_TRAIN_FINISHED, "finished after %" G_GINT64_FORMAT " steps; %s", r.step, best);
  else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           || g_error_matches (local, PAL_ERROR, PAL_ERROR_CANCELLED))
    {
      g_autoptr (GError) save_error = NULL;
      g_autofree char *note = NULL;

      /* the state after the last completed step, for --resume */
      if (r.adam && r.step > 0
          && (r.step != r.ckpt_step || r.val_pending != r.ckpt_val_pending)
          && !save_checkpoint (&r, &save_error))
        note = g_strdup_printf ("; the last checkpoint could not be written: %s",
                                save_error->message);
      if (!note && r.ckpt_step >= 0)
        note = g_strdup_printf ("; last.safetensors is step %" G_GINT64_FORMAT, r.ckpt_step);
      g_clear_error (&local);
      g_set_error (&local, PAL_ERROR, PAL_ERROR_CANCELLED,
                   "cancelled at step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "; %s%s",
                   r.step, r.total_steps, best, note ? note : "");
      emit (&r, PAL_TRAIN_CANCELLED, "%s", local->message);
    }
  else
    {
      if (g_error_matches (local, PAL_ERROR, PAL_ERROR_NUMERIC))
        {
          /* the cause, then where the good weights are */
          g_autofree char *where = r.ckpt_step >= 0
            ? g_strdup_printf ("last.safetensors (step %" G_GINT64_FORMAT ") is the last good "
                               "checkpoint", r.ckpt_step)
            : g_strdup ("no checkpoint had been written yet");
          char *msg = g_strdup_printf ("%s; %s; %s", local->message, where, best);

          g_free (local->message);
          local->message = msg;
        }
      emit (&r, PAL_TRAIN_FAILED, "%s", local->message);
    }
  run_free (&r);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

/* --- on a worker thread -------------------------------------------------------- */

typedef struct {
  PalTrainConfig       cfg;
  gboolean             resume;
  PalTrainProgressFunc progress;
  gpointer             progress_data;
} AsyncRun;

static void
async_run_free (gpointer data)
{
  AsyncRun *a = data;

  pal_train_config_clear (&a->cfg);
  g_free (a);
}

static void
train_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  AsyncRun *a = data;
  GError *error = NULL;

  if (pal_train (&a->cfg, a->resume, a->progress, a->progress_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
pal_train_async (const PalTrainConfig *cfg, gboolean resume,
                 PalTrainProgressFunc progress, gpointer progress_data,
                 GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  AsyncRun *a = g_new0 (AsyncRun, 1);

  pal_train_config_copy (&a->cfg, cfg);
  a->resume = resume;
  a->progress = progress;
  a->progress_data = progress_data;
  g_task_set_source_tag (task, pal_train_async);
  /* the run reports its own cancellation, after saving its state */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, a, async_run_free);
  g_task_run_in_thread (task, train_thread);
}

gboolean
pal_train_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
