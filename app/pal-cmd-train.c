/* pal-cmd-train.c: `pal train`, a training run from flags or an INI file
 *
 * The flags are made from the settings table of pal-trainer.h, one per
 * INI key (--key VALUE; a boolean also --key and --no-key), so the help,
 * the INI file and the flags cannot drift apart.  Settings are applied in
 * this order: the defaults, the --config file (or the run's config.ini
 * with --resume), then the flags.
 *
 * The run goes on a worker thread (pal_train_async()); its reports are
 * copied to the main loop, which draws them: one updating line on a
 * terminal, plain lines otherwise.  Ctrl-C (SIGINT) or SIGTERM cancels the
 * GCancellable: the run stops after the current step and keeps its
 * checkpoints.
 */
#include "pal-cli.h"
#include "pal-trainer.h"

#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  GPtrArray    *pairs;        /* key, value, key, value ... from the flags */
  GMainLoop    *loop;
  GCancellable *cancel;
  gboolean      tty;
  gboolean      quiet;
  gboolean      line_open;    /* a progress line is on screen without its newline */
  int           n_signals;
  char          final[256];   /* the message of the FINISHED report */
  gboolean      ok;
  GError       *error;
} TrainCli;

/* --- flags from the settings table ------------------------------------------ */

static gboolean
on_setting (const char *option_name, const char *value, gpointer data, GError **error)
{
  TrainCli *cli = data;
  const char *name = option_name + 2;   /* "--key" */
  gboolean negated = g_str_has_prefix (name, "no-") && !pal_train_setting_lookup (name);

  if (negated)
    name += 3;
  g_ptr_array_add (cli->pairs, g_strdup (name));
  g_ptr_array_add (cli->pairs, g_strdup (negated ? "false" : value ? value : "true"));
  return TRUE;
}

/* One entry per setting (and --no-KEY for booleans), their strings kept in
 * @strings. */
static GOptionEntry *
setting_entries (GPtrArray *strings)
{
  int n;
  const PalTrainSetting *table = pal_train_settings (&n);
  GOptionEntry *entries = g_new0 (GOptionEntry, 2 * n + 1);
  int k = 0;

  for (int i = 0; i < n; i++)
    {
      const PalTrainSetting *s = &table[i];
      g_autofree char *def = NULL;
      char *help;

      if (s->type == PAL_SETTING_BOOL)
        def = g_strdup_printf ("default %s, --no-%s; ", s->default_text, s->key);
      else if (*s->default_text)
        def = g_strdup_printf ("default %s; ", s->default_text);
      else
        def = g_strdup ("");
      help = g_strdup_printf ("%s (%s[%s] %s)", s->help, def, s->group, s->key);
      g_ptr_array_add (strings, help);

      entries[k].long_name = s->key;
      entries[k].arg = G_OPTION_ARG_CALLBACK;
      entries[k].arg_data = (gpointer) on_setting;
      entries[k].description = help;
      if (s->type == PAL_SETTING_BOOL)
        {
          entries[k].flags = G_OPTION_FLAG_OPTIONAL_ARG;
          entries[k].arg_description = "[BOOL]";
        }
      else
        {
          entries[k].flags = s->type == PAL_SETTING_PATH ? G_OPTION_FLAG_FILENAME : 0;
          entries[k].arg_description = s->value_name;
        }
      k++;
      if (s->type == PAL_SETTING_BOOL)
        {
          char *no = g_strconcat ("no-", s->key, NULL);

          g_ptr_array_add (strings, no);
          entries[k].long_name = no;
          entries[k].flags = G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN;
          entries[k].arg = G_OPTION_ARG_CALLBACK;
          entries[k].arg_data = (gpointer) on_setting;
          entries[k].description = "";
          k++;
        }
    }
  return entries;
}

/* --- drawing the reports ------------------------------------------------------- */

static char *
duration (double s)
{
  gint64 t;

  if (!isfinite (s) || s < 0)
    return g_strdup ("--:--");
  t = (gint64) (s + 0.5);
  if (t >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", t / 3600, (int) (t / 60 % 60),
                            (int) (t % 60));
  return g_strdup_printf ("%d:%02d", (int) (t / 60), (int) (t % 60));
}

static char *
percent (double v)
{
  return isfinite (v) ? g_strdup_printf ("%.1f%%", 100 * v) : g_strdup ("-");
}

static void
end_line (TrainCli *cli)
{
  if (cli->line_open)
    {
      fputc ('\n', stdout);
      cli->line_open = FALSE;
    }
}

static void
draw (TrainCli *cli, const PalTrainProgress *p)
{
  g_autofree char *eta = duration (p->eta_s);
  g_autofree char *acc = percent (p->train_accuracy);
  g_autofree char *val = percent (p->val_accuracy);
  g_autofree char *best = percent (p->best_val_accuracy);

  switch (p->event)
    {
    case PAL_TRAIN_STEP:
      if (cli->quiet)
        return;
      if (cli->tty)
        {
          char bar[21];
          int fill = p->batches_per_epoch > 0 ? 20 * p->batch / p->batches_per_epoch : 0;

          for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
          bar[20] = 0;
          printf ("\repoch %d/%d [%s] %d/%d  ce %.4f  pal %+.4f  acc %s  val %s  "
                  "%.0f img/s  ETA %s\033[K",
                  p->epoch, p->n_epochs, bar, p->batch, p->batches_per_epoch, p->ce, p->pal,
                  acc, val, p->images_per_s, eta);
          cli->line_open = TRUE;
        }
      else
        printf ("step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "  epoch %d/%d  ce %.4f  "
                "pal %+.4f  acc %s  lr %.3g  %.0f img/s  ETA %s\n",
                p->step, p->total_steps, p->epoch, p->n_epochs, p->ce, p->pal, acc, p->lr,
                p->images_per_s, eta);
      break;
    case PAL_TRAIN_EPOCH_END:
      if (cli->quiet)
        return;
      if (cli->tty)
        fputc ('\r', stdout);
      cli->line_open = FALSE;
      printf ("epoch %d/%d  ce %.4f  pal %+.4f  train %s  val %s  (best %s, epoch %d)  "
              "lr %.3g  %.0f img/s  ETA %s%s\n",
              p->epoch, p->n_epochs, p->ce, p->pal, acc, val, best, p->best_epoch, p->lr,
              p->images_per_s, eta, cli->tty ? "\033[K" : "");
      break;
    case PAL_TRAIN_CHECKPOINT:
      break;
    case PAL_TRAIN_FINISHED:
      g_strlcpy (cli->final, p->message, sizeof cli->final);
      break;
    case PAL_TRAIN_CANCELLED:
    case PAL_TRAIN_FAILED:
      /* said once, at the end, from the result */
      break;
    }
  fflush (stdout);
}

/* The report, copied, on its way to the main loop. */
typedef struct {
  TrainCli        *cli;
  PalTrainProgress p;
} Report;

static gboolean
report_idle (gpointer data)
{
  Report *r = data;

  draw (r->cli, &r->p);
  return G_SOURCE_REMOVE;
}

/* Called from the training thread: copy, and let the main loop draw it
 * (idle sources of one priority run in the order added). */
static void
on_progress (const PalTrainProgress *p, gpointer data)
{
  Report *r = g_new (Report, 1);

  r->cli = data;
  r->p = *p;
  g_idle_add_full (G_PRIORITY_DEFAULT, report_idle, r, g_free);
}

static gboolean
on_signal (gpointer data)
{
  TrainCli *cli = data;

  if (cli->n_signals++ == 0)
    {
      end_line (cli);
      g_printerr ("pal train: stopping after this step (the checkpoints are kept); "
                  "press Ctrl-C again to quit at once\n");
      g_cancellable_cancel (cli->cancel);
      return G_SOURCE_CONTINUE;
    }
  end_line (cli);
  g_printerr ("pal train: quit without waiting; the files of the last checkpoint are intact\n");
  _exit (130);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  TrainCli *cli = data;

  cli->ok = pal_train_finish (result, &cli->error);
  g_main_loop_quit (cli->loop);
}

/* --- the command ------------------------------------------------------------------ */

static char *
default_out (const PalTrainConfig *cfg)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *base = NULL;

  if (cfg->arch_file)
    {
      g_autofree char *file = g_path_get_basename (cfg->arch_file);
      char *dot = strrchr (file, '.');
      if (dot && dot != file)
        *dot = 0;
      base = g_strdup (file);
    }
  else
    base = g_strdup (cfg->arch);
  return g_strdup_printf ("runs/%s-%s", base, stamp);
}

int
pal_cmd_train (int argc, char **argv)
{
  g_autofree char *config = NULL, *resume = NULL;
  gboolean print_config = FALSE, quiet = FALSE;
  GOptionEntry own[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "Settings from an INI file (flags override them)", "FILE" },
    { "resume", 'r', 0, G_OPTION_ARG_FILENAME, &resume, "Continue the run in DIR from its last checkpoint", "DIR" },
    { "print-config", 0, 0, G_OPTION_ARG_NONE, &print_config, "Print the settings as an INI file and exit", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the final line", NULL },
    { NULL }
  };
  TrainCli cli = { 0 };
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autofree GOptionEntry *entries = setting_entries (strings);
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[DATASET] - train a network with PAL");
  GOptionGroup *group;
  g_autoptr (GError) error = NULL;
  PalTrainConfig cfg;
  guint sigint, sigterm;
  int rc;

  cli.pairs = g_ptr_array_new_with_free_func (g_free);
  group = g_option_group_new ("train", "Settings", "Show the settings", &cli, NULL);
  g_option_group_add_entries (group, own);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (ctx, group);
  g_option_context_set_description (ctx,
    "Every setting is a flag and a key of the INI file (--config FILE), in the\n"
    "group shown in brackets: [optim] lr is --lr, or in the file\n"
    "  [optim]\n"
    "  lr = 5e-5\n"
    "Flags override the file; booleans take --key, --key=false or --no-key.\n"
    "pal train --print-config prints every key with its default.\n"
    "\n"
    "The run folder (--out, default runs/ARCH-DATE-TIME) receives config.ini,\n"
    "best.safetensors (the best validation accuracy), last.safetensors and\n"
    "last-optim.safetensors (the checkpoint, at every epoch end), log.jsonl (one\n"
    "JSON object per report).  Ctrl-C stops after the current step and keeps them;\n"
    "pal train --resume DIR continues, with the same result as an uninterrupted\n"
    "run.  Exit status: 0 done, 1 failed, 2 bad usage, 130 stopped by Ctrl-C.\n"
    "\n"
    "Defaults are the paper's RAF-DB settings (docs/TRAINING.md).  Examples:\n"
    "  pal train ~/data/RAF-DB --arch vgg16 --weights vggface.safetensors --out runs/raf\n"
    "  pal train ~/data/AffectNet --balanced --iterations 40000 --lr 4e-5 ...\n"
    "  pal train --resume runs/raf\n");
  rc = 2;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal train: %s (see pal train --help)\n", error->message);
      goto out;
    }
  if (argc > 2 || (resume && (config || argc > 1)))
    {
      g_printerr ("pal train: give at most one dataset, and no dataset or --config "
                  "with --resume (see pal train --help)\n");
      goto out;
    }

  /* defaults < file < flags */
  pal_train_config_init (&cfg);
  if ((resume && !pal_train_config_load_run (&cfg, resume, &error))
      || (config && !pal_train_config_load (&cfg, config, &error)))
    {
      g_printerr ("pal train: %s\n", error->message);
      rc = resume ? 1 : 2;
      goto out_cfg;
    }
  if (argc == 2 && !pal_train_config_set (&cfg, "dataset", argv[1], &error))
    goto bad;
  for (guint i = 0; i + 1 < cli.pairs->len; i += 2)
    if (!pal_train_config_set (&cfg, cli.pairs->pdata[i], cli.pairs->pdata[i + 1], &error))
      goto bad;
  if (!cfg.out)
    cfg.out = default_out (&cfg);

  if (print_config)
    {
      g_autoptr (GKeyFile) kf = pal_train_config_to_keyfile (&cfg);
      g_autofree char *text = g_key_file_to_data (kf, NULL, NULL);
      fputs (text, stdout);
      rc = 0;
      goto out_cfg;
    }
  if (!pal_train_config_validate (&cfg, &error))
    goto bad;

  cli.tty = isatty (STDOUT_FILENO);
  cli.quiet = quiet;
  cli.loop = g_main_loop_new (NULL, FALSE);
  cli.cancel = g_cancellable_new ();
  sigint = g_unix_signal_add (SIGINT, on_signal, &cli);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &cli);
  if (!quiet)
    g_print ("pal train: %s%s -> %s (%s, lr %g, batch %d, %s)\n",
             resume ? "resuming " : "", cfg.dataset, cfg.out,
             cfg.arch_file ? cfg.arch_file : cfg.arch, pal_train_config_effective_lr (&cfg),
             cfg.batch, cfg.pal ? "PAL on" : "PAL off");
  pal_train_async (&cfg, resume != NULL, on_progress, &cli, cli.cancel, on_done, &cli);
  g_main_loop_run (cli.loop);
  /* reports still queued come before the result */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_source_remove (sigint);
  g_source_remove (sigterm);
  end_line (&cli);

  if (cli.ok)
    {
      g_print ("pal train: %s, in %s\n", cli.final, cfg.out);
      rc = 0;
    }
  else if (g_error_matches (cli.error, PAL_ERROR, PAL_ERROR_CANCELLED))
    {
      g_printerr ("pal train: %s; continue with: pal train --resume %s\n", cli.error->message,
                  cfg.out);
      rc = 130;
    }
  else
    {
      g_printerr ("pal train: %s\n", cli.error->message);
      rc = 1;
    }
  g_clear_error (&cli.error);
  g_object_unref (cli.cancel);
  g_main_loop_unref (cli.loop);
  goto out_cfg;

bad:
  g_printerr ("pal train: %s (see pal train --help)\n", error->message);
  rc = 2;
out_cfg:
  pal_train_config_clear (&cfg);
out:
  g_ptr_array_unref (cli.pairs);
  return rc;
}
