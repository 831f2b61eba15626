/* pal-parallel.h: a small fixed pool of worker threads for the kernels
 *
 * Work is split statically: task range [0, n) is cut into one contiguous
 * chunk per worker, in order, so results that are reduced per worker are
 * reduced in the same order every run (deterministic for a given thread
 * count).  BLAS is called from inside workers and must then run
 * single-threaded; pal_set_threads() arranges that.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* fn is called once per worker that has work, with its chunk [begin, end). */
typedef void (*PalChunkFunc) (int begin, int end, int worker, void *data);

/* Sets the number of threads the core uses (>= 1; 0 means all cores).
 * Call it before any work starts; it also sets OpenBLAS to one thread. */
void pal_set_threads      (int n_threads);
int  pal_get_threads      (void);

/* Runs fn over [0, n) on up to pal_get_threads() workers and waits.
 * Not reentrant: call it from one thread at a time (the core's callers
 * serialise through their workspace). */
void pal_parallel_for     (int n, PalChunkFunc fn, void *data);

/* The chunk of worker w of nw over [0, n). */
static inline void
pal_chunk (int n, int w, int nw, int *begin, int *end)
{
  *begin = (int) ((gint64) n * w / nw);
  *end = (int) ((gint64) n * (w + 1) / nw);
}

G_END_DECLS
