/* pal-cli.h: shared bits of the pal command line tool */
#pragma once

#include "pal-core.h"
#include "pal-dataset.h"

G_BEGIN_DECLS

int  pal_cmd_bench (int argc, char **argv);
int  pal_cmd_synth (int argc, char **argv);   /* pal-cmd-synth.c */
int  pal_cmd_data  (int argc, char **argv);   /* pal-cmd-data.c */
int  pal_cmd_prior (int argc, char **argv);   /* pal-cmd-prior.c */
int  pal_cmd_train (int argc, char **argv);   /* pal-cmd-train.c */
int  pal_cmd_eval  (int argc, char **argv);   /* pal-cmd-eval.c */
int  pal_cmd_attribute (int argc, char **argv);     /* pal-cmd-attribute.c */
int  pal_cmd_gradcam_means (int argc, char **argv); /* pal-cmd-gradcam-means.c */
int  pal_cmd_faces (int argc, char **argv);         /* pal-cmd-faces.c */
int  pal_cmd_landmarks (int argc, char **argv);     /* pal-cmd-landmarks.c */

/* Runs @work (@data) on a worker thread while the main thread waits for
 * SIGINT / SIGTERM: the first cancels @cancellable and says "pal CMD:
 * stopping STOPPING", the second exits at once (130).  Returns when @work
 * has returned. */
void pal_cli_run_cancellable (const char *cmd, const char *stopping, GThreadFunc work,
                              gpointer data, GCancellable *cancellable);
/* "test", "val" (or "validation"), "train", "all" */
gboolean    pal_cli_parse_split (const char *s, PalSplit *out);
const char *pal_cli_split_name  (PalSplit split);

/* Parses "grad" / "grad-input" */
gboolean pal_cli_parse_attribution (const char *s, PalAttribution *out, GError **error);
/* Parses "all" / "mean" / "first" / "first:C1" */
gboolean pal_cli_parse_channels (const char *s, PalChannels *ch, int *c1, GError **error);

G_END_DECLS
