/* pool.c: max and average pooling over planes, global average pooling
 *
 * Planes (one per image and channel) are independent and split over
 * workers.  Max pool records the argmax of every output (an index into its
 * input plane), which serves the backward pass and the JVP (a gather).
 */
#include "pal-ops.h"

#include <math.h>
#include <string.h>

typedef struct {
  float *out, *din;
  gint32 *argmax;
  const gint32 *cargmax;
  const float *in, *dout;
  const PalPoolGeom *g;
} PoolJob;

/* The common 2x2 window with stride 2 and no padding (TF's "SAME" on an odd
 * size pads the bottom or right: the general loop takes that). */
static gboolean
is_2x2 (const PalPoolGeom *g)
{
  return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->pt == 0 && g->pl == 0
         && 2 * g->oh <= g->h && 2 * g->ow <= g->w;
}

/* One output row of a 2x2 pool.  The first maximum in row-major order wins;
 * a window with a NaN gives NaN.  Branch-free selects that the compiler
 * vectorises (cloned for AVX-512 and AVX2): on real activations the winner
 * is random, so branches would mispredict. */
__attribute__ ((target_clones ("avx512f", "avx2", "default")))
static void
maxpool_2x2_row (float *restrict o, gint32 *restrict a, const float *restrict r0,
                 const float *restrict r1, int ow, gint32 base, gint32 w)
{
  for (int ox = 0; ox < ow; ox++)
    {
      float c0 = r0[2 * ox], c1 = r0[2 * ox + 1], c2 = r1[2 * ox], c3 = r1[2 * ox + 1];
      gint32 i01 = c1 > c0 ? 1 : 0, i23 = c3 > c2 ? w + 1 : w;
      float m01 = c1 > c0 ? c1 : c0, m23 = c3 > c2 ? c3 : c2;
      gint32 arg = m23 > m01 ? i23 : i01;
      float v = m23 > m01 ? m23 : m01;
      int nan = (c0 != c0) | (c1 != c1) | (c2 != c2) | (c3 != c3);

      o[ox] = nan ? c0 + c1 + c2 + c3 : v;
      a[ox] = base + 2 * ox + arg;
    }
}

static void
maxpool_2x2 (float *out, gint32 *am, const float *in, const PalPoolGeom *g)
{
  for (int oy = 0; oy < g->oh; oy++)
    {
      const float *r0 = in + (gsize) (2 * oy) * g->w;

      maxpool_2x2_row (out + (gsize) oy * g->ow, am + (gsize) oy * g->ow, r0, r0 + g->w,
                       g->ow, 2 * oy * g->w, g->w);
    }
}

static void
maxpool_chunk (int begin, int end, int worker, void *data)
{
  PoolJob *j = data;
  const PalPoolGeom *g = j->g;
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow;

  (void) worker;
  if (is_2x2 (g))
    {
      for (int p = begin; p < end; p++)
        maxpool_2x2 (j->out + p * osz, j->argmax + p * osz, j->in + p * isz, g);
      return;
    }
  for (int p = begin; p < end; p++)
    {
      const float *in = j->in + p * isz;
      float *out = j->out + p * osz;
      gint32 *am = j->argmax + p * osz;

      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
          {
            float best = -INFINITY;
            gint32 arg = -1;

            for (int ki = 0; ki < g->kh; ki++)
              {
                int iy = oy * g->sh - g->pt + ki;
                if (iy < 0 || iy >= g->h)
                  continue;
                for (int kj = 0; kj < g->kw; kj++)
                  {
                    int ix = ox * g->sw - g->pl + kj;
                    if (ix < 0 || ix >= g->w)
                      continue;
                    /* first maximum wins; NaN propagates as in PyTorch */
                    float v = in[iy * g->w + ix];
                    if (v > best || isnan (v) || arg < 0)
                      {
                        best = v;
                        arg = iy * g->w + ix;
                        if (isnan (v))
                          goto found;
                      }
                  }
              }
          found:
            out[oy * g->ow + ox] = arg < 0 ? 0.f : best;
            am[oy * g->ow + ox] = arg;
          }
    }
}

void
pal_maxpool_forward (float *out, gint32 *argmax, const float *in, int np,
                     const PalPoolGeom *g)
{
  PoolJob j = { .out = out, .argmax = argmax, .in = in, .g = g };

  pal_parallel_for (np, maxpool_chunk, &j);
}

void
pal_maxpool_backward (float *din, const float *dout, const gint32 *argmax, int np,
                      const PalPoolGeom *g, gboolean overwrite)
{
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow;

  if (overwrite && is_2x2 (g))
    {
      /* every input pixel is written once: the window's max gets the
       * gradient, the others and the uncovered last row/column get 0 */
      for (gsize p = 0; p < (gsize) np; p++)
        {
          float *di = din + p * isz;
          const float *d = dout + p * osz;
          const gint32 *am = argmax + p * osz;

          for (int y = 2 * g->oh; y < g->h; y++)
            memset (di + (gsize) y * g->w, 0, sizeof (float) * g->w);
          for (int oy = 0; oy < g->oh; oy++)
            {
              float *r0 = di + (gsize) (2 * oy) * g->w, *r1 = r0 + g->w;
              gint32 base = 2 * oy * g->w;

              for (int x = 2 * g->ow; x < g->w; x++)
                r0[x] = r1[x] = 0.f;
              for (int ox = 0; ox < g->ow; ox++)
                {
                  gint32 a = am[(gsize) oy * g->ow + ox];
                  float v = d[(gsize) oy * g->ow + ox];

                  r0[2 * ox] = a == base + 2 * ox ? v : 0.f;
                  r0[2 * ox + 1] = a == base + 2 * ox + 1 ? v : 0.f;
                  r1[2 * ox] = a == base + g->w + 2 * ox ? v : 0.f;
                  r1[2 * ox + 1] = a == base + g->w + 2 * ox + 1 ? v : 0.f;
                }
            }
        }
      return;
    }
  if (overwrite)
    memset (din, 0, sizeof (float) * isz * np);
  for (gsize p = 0; p < (gsize) np; p++)
    for (gsize k = 0; k < osz; k++)
      {
        gint32 a = argmax[p * osz + k];
        if (a >= 0)
          din[p * isz + a] += dout[p * osz + k];
      }
}

void
pal_maxpool_gather (float *out, const float *in, const gint32 *argmax, int np,
                    const PalPoolGeom *g)
{
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow;

  for (gsize p = 0; p < (gsize) np; p++)
    for (gsize k = 0; k < osz; k++)
      {
        gint32 a = argmax[p * osz + k];
        out[p * osz + k] = a >= 0 ? in[p * isz + a] : 0.f;
      }
}

/* Number of input pixels an average over (oy, ox) divides by. */
static int
avg_count (const PalPoolGeom *g, int oy, int ox)
{
  int y0, y1, x0, x1;

  if (g->count_pad)
    {
      /* PyTorch: the window clipped to the padded input */
      y0 = oy * g->sh - g->pt;
      x0 = ox * g->sw - g->pl;
      y1 = MIN (y0 + g->kh, g->h + g->pt);
      x1 = MIN (x0 + g->kw, g->w + g->pl);
      return (y1 - y0) * (x1 - x0);
    }
  y0 = MAX (oy * g->sh - g->pt, 0);
  x0 = MAX (ox * g->sw - g->pl, 0);
  y1 = MIN (oy * g->sh - g->pt + g->kh, g->h);
  x1 = MIN (ox * g->sw - g->pl + g->kw, g->w);
  return MAX ((y1 - y0) * (x1 - x0), 1);
}

void
pal_avgpool_forward (float *out, const float *in, int np, const PalPoolGeom *g)
{
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow;

  for (gsize p = 0; p < (gsize) np; p++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++)
        {
          float acc = 0.f;

          for (int ki = 0; ki < g->kh; ki++)
            {
              int iy = oy * g->sh - g->pt + ki;
              if (iy < 0 || iy >= g->h)
                continue;
              for (int kj = 0; kj < g->kw; kj++)
                {
                  int ix = ox * g->sw - g->pl + kj;
                  if (ix >= 0 && ix < g->w)
                    acc += in[p * isz + iy * g->w + ix];
                }
            }
          out[p * osz + oy * g->ow + ox] = acc / (float) avg_count (g, oy, ox);
        }
}

void
pal_avgpool_backward (float *din, const float *dout, int np, const PalPoolGeom *g)
{
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow;

  for (gsize p = 0; p < (gsize) np; p++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++)
        {
          float d = dout[p * osz + oy * g->ow + ox] / (float) avg_count (g, oy, ox);

          for (int ki = 0; ki < g->kh; ki++)
            {
              int iy = oy * g->sh - g->pt + ki;
              if (iy < 0 || iy >= g->h)
                continue;
              for (int kj = 0; kj < g->kw; kj++)
                {
                  int ix = ox * g->sw - g->pl + kj;
                  if (ix >= 0 && ix < g->w)
                    din[p * isz + iy * g->w + ix] += d;
                }
            }
        }
}

void
pal_gap_forward (float *out, const float *in, int np, int hw)
{
  for (gsize p = 0; p < (gsize) np; p++)
    {
      float acc = 0.f;
      for (int k = 0; k < hw; k++)
        acc += in[p * hw + k];
      out[p] = acc / (float) hw;
    }
}

void
pal_gap_backward (float *din, const float *dout, int np, int hw)
{
  for (gsize p = 0; p < (gsize) np; p++)
    {
      float d = dout[p] / (float) hw;
      for (int k = 0; k < hw; k++)
        din[p * hw + k] += d;
    }
}
