/* pal-demo-data.h: the synthetic face set the Train and Per-emotion pages
 * offer when the user has no dataset at hand (docs/SYNTH.md) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where the set of @n faces of @size pixels lives (made or not yet):
 * $XDG_CACHE_HOME/pal-studio/synth-N-SIZE. */
char     *pal_demo_synth_dir          (int n, int size);
/* TRUE when that folder holds a complete set. */
gboolean  pal_demo_synth_ready        (int n, int size);
/* Makes the set on a worker thread unless it is already complete (a
 * partial one is made again); the callback runs on the caller's main
 * context.  pal_demo_synth_finish() returns the folder. */
void      pal_demo_synth_ensure_async (int n, int size, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
char     *pal_demo_synth_finish       (GAsyncResult *result, GError **error);

G_END_DECLS
