/* linear.c: fully connected layer, rows of the batch times W^T
 *
 * Forward   out [n, nout] = in [n, nin] W^T + b   (W [nout, nin])
 * Backward  dW [nout, nin] += dout^T in;  db += sum_n dout;  din += dout W
 * Work is split over output features (forward, dW) or input features (din),
 * so every worker writes its own columns: no partial sums, deterministic.
 */
#include "pal-ops.h"

#include "../pal-blas.h"

typedef struct {
  float *out, *din, *dw, *db;
  const float *in, *w, *b, *dout;
  int n, nin, nout;
} LinJob;

/* Below this many multiply-adds a split costs more than it saves. */
#define SPLIT_MIN_WORK (1 << 18)

static int
n_tasks (gsize work, int cols)
{
  return work < SPLIT_MIN_WORK ? 1 : MIN (cols, 64);
}

static void
forward_chunk (int begin, int end, int worker, void *data)
{
  LinJob *j = data;
  int o0, o1;

  (void) worker;
  for (int t = begin; t < end; t++)
    {
      pal_chunk (j->nout, t, n_tasks ((gsize) j->n * j->nin * j->nout, j->nout), &o0, &o1);
      if (o1 <= o0)
        continue;
      pal_sgemm (FALSE, TRUE, j->n, o1 - o0, j->nin,
                   1.f, j->in, j->nin, j->w + (gsize) o0 * j->nin, j->nin,
                   0.f, j->out + o0, j->nout);
      if (j->b)
        for (int i = 0; i < j->n; i++)
          for (int o = o0; o < o1; o++)
            j->out[(gsize) i * j->nout + o] += j->b[o];
    }
}

void
pal_linear_forward (float *out, const float *in, const float *w, const float *b,
                    int n, int nin, int nout)
{
  LinJob j = { .out = out, .in = in, .w = w, .b = b, .n = n, .nin = nin, .nout = nout };

  pal_parallel_for (n_tasks ((gsize) n * nin * nout, nout), forward_chunk, &j);
}

static void
wgrad_chunk (int begin, int end, int worker, void *data)
{
  LinJob *j = data;
  int nt = n_tasks ((gsize) j->n * j->nin * j->nout, j->nout);

  (void) worker;
  for (int t = begin; t < end; t++)
    {
      int o0, o1;

      pal_chunk (j->nout, t, nt, &o0, &o1);
      if (o1 <= o0)
        continue;
      if (j->dw)
        pal_sgemm (TRUE, FALSE, o1 - o0, j->nin, j->n,
                     1.f, j->dout + o0, j->nout, j->in, j->nin,
                     1.f, j->dw + (gsize) o0 * j->nin, j->nin);
      if (j->db)
        for (int o = o0; o < o1; o++)
          {
            float acc = 0.f;
            for (int i = 0; i < j->n; i++)
              acc += j->dout[(gsize) i * j->nout + o];
            j->db[o] += acc;
          }
    }
}

static void
dgrad_chunk (int begin, int end, int worker, void *data)
{
  LinJob *j = data;
  int nt = n_tasks ((gsize) j->n * j->nin * j->nout, j->nin);

  (void) worker;
  for (int t = begin; t < end; t++)
    {
      int i0, i1;

      pal_chunk (j->nin, t, nt, &i0, &i1);
      if (i1 > i0)
        pal_sgemm (FALSE, FALSE, j->n, i1 - i0, j->nout,
                     1.f, j->dout, j->nout, j->w + i0, j->nin,
                     1.f, j->din + i0, j->nin);
    }
}

void
pal_linear_backward (float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w, int n, int nin, int nout)
{
  LinJob j = { .din = din, .dw = dw, .db = db, .dout = dout, .in = in, .w = w,
               .n = n, .nin = nin, .nout = nout };
  gsize work = (gsize) n * nin * nout;

  if (dw || db)
    pal_parallel_for (n_tasks (work, nout), wgrad_chunk, &j);
  if (din)
    pal_parallel_for (n_tasks (work, nin), dgrad_chunk, &j);
}
