/* pal-parallel.c: persistent workers, woken per call */
#include "pal-parallel.h"

#include "pal-blas.h"

#define MAX_THREADS 64

typedef struct {
  GMutex        lock;
  GCond         wake;
  GCond         done;
  int           n_threads;
  GThread      *threads[MAX_THREADS];
  guint64       generation;
  int           pending;
  PalChunkFunc  fn;
  void         *data;
  int           n;
  int           n_workers;   /* of this call */
} Pool;

static Pool pool = { .n_threads = 1 };
static GMutex call_lock;   /* one parallel_for at a time */

typedef struct {
  int     id;
  guint64 seen;    /* the generation current when the thread was made */
} WorkerStart;

static gpointer
worker_main (gpointer p)
{
  WorkerStart *start = p;
  int id = start->id;
  guint64 seen = start->seen;

  g_free (start);

  for (;;)
    {
      int b, e;

      g_mutex_lock (&pool.lock);
      while (pool.generation == seen)
        g_cond_wait (&pool.wake, &pool.lock);
      seen = pool.generation;
      g_mutex_unlock (&pool.lock);

      if (id < pool.n_workers)
        {
          pal_chunk (pool.n, id, pool.n_workers, &b, &e);
          if (b < e)
            pool.fn (b, e, id, pool.data);
        }

      g_mutex_lock (&pool.lock);
      if (--pool.pending == 0)
        g_cond_signal (&pool.done);
      g_mutex_unlock (&pool.lock);
    }
  return NULL;
}

void
pal_set_threads (int n_threads)
{
  if (n_threads <= 0)
    n_threads = (int) g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, MAX_THREADS);
  {
    g_autoptr (GError) error = NULL;
    if (!pal_blas_init (&error))
      g_warning ("%s", error->message);
  }

  g_mutex_lock (&call_lock);
  g_mutex_lock (&pool.lock);
  /* Threads only grow; extra ones idle.  Worker 0 is the caller. */
  for (int i = 1; i < n_threads; i++)
    if (!pool.threads[i])
      {
        WorkerStart *start = g_new (WorkerStart, 1);

        /* a new thread must not mistake the last call for a new one */
        start->id = i;
        start->seen = pool.generation;
        pool.threads[i] = g_thread_new ("pal-worker", worker_main, start);
      }
  pool.n_threads = n_threads;
  g_mutex_unlock (&pool.lock);
  g_mutex_unlock (&call_lock);
}

int
pal_get_threads (void)
{
  return pool.n_threads;
}

void
pal_parallel_for (int n, PalChunkFunc fn, void *data)
{
  int nw = MIN (pool.n_threads, n);
  int spawned = 0;
  int b, e;

  if (n <= 0)
    return;
  if (nw <= 1)
    {
      fn (0, n, 0, data);
      return;
    }

  g_mutex_lock (&call_lock);
  g_mutex_lock (&pool.lock);
  for (int i = 1; i < MAX_THREADS; i++)
    if (pool.threads[i])
      spawned++;
  pool.fn = fn;
  pool.data = data;
  pool.n = n;
  pool.n_workers = nw;
  pool.pending = spawned;
  pool.generation++;
  g_cond_broadcast (&pool.wake);
  g_mutex_unlock (&pool.lock);

  pal_chunk (n, 0, nw, &b, &e);
  if (b < e)
    fn (b, e, 0, data);

  g_mutex_lock (&pool.lock);
  while (pool.pending > 0)
    g_cond_wait (&pool.done, &pool.lock);
  g_mutex_unlock (&pool.lock);
  g_mutex_unlock (&call_lock);
}
