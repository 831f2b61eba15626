/* pal-cli.h: shared bits of the pal command line tool */
#pragma once

#include "pal-core.h"

G_BEGIN_DECLS

int  pal_cmd_bench (int argc, char **argv);
int  pal_cmd_synth (int argc, char **argv);   /* pal-cmd-synth.c */
int  pal_cmd_data  (int argc, char **argv);   /* pal-cmd-data.c */
int  pal_cmd_prior (int argc, char **argv);   /* pal-cmd-prior.c */

/* Parses "grad" / "grad-input" */
gboolean pal_cli_parse_attribution (const char *s, PalAttribution *out, GError **error);
/* Parses "all" / "mean" / "first" / "first:C1" */
gboolean pal_cli_parse_channels (const char *s, PalChannels *ch, int *c1, GError **error);

G_END_DECLS
