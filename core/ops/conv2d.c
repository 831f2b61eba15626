/* conv2d.c: convolution as im2col + sgemm, per image, images split over workers
 *
 * Forward, per image and group:   out_g [cout_g, oh*ow] = W_g [cout_g, K] col [K, oh*ow]
 * Weight gradient:                dW_g [cout_g, K]     += dout_g col^T
 * Input gradient:                 dcol [K, oh*ow]       = W_g^T dout_g, then col2im
 * with K = cin_g * kh * kw.  A 1x1, stride 1, unpadded conv uses the input
 * itself as col.  Each worker accumulates weight gradients of its images in
 * its own partial buffer; partials are summed in worker order afterwards.
 * 3x3 stride-1 ungrouped convs with cin >= 8 go to Winograd (winograd.c).
 */
#include "pal-ops.h"

#include "../pal-blas.h"
#include <string.h>

static gboolean
is_pointwise (const PalConvGeom *g)
{
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1
         && g->pt == 0 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

gsize
pal_conv2d_col_floats (const PalConvGeom *g)
{
  if (is_pointwise (g))
    return 0;
  return (gsize) (g->cin / g->groups) * g->kh * g->kw * g->oh * g->ow;
}

gsize
pal_conv2d_part_floats (const PalConvGeom *g)
{
  return (gsize) g->cout * (g->cin / g->groups) * g->kh * g->kw + g->cout;
}

/* col [cg * kh * kw, oh * ow] from one image's channels [cg, h, w] */
static void
im2col (float *col, const float *im, int cg, const PalConvGeom *g)
{
  int ohw = g->oh * g->ow;

  for (int c = 0; c < cg; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++)
        {
          float *row = col + (gsize) ((c * g->kh + ki) * g->kw + kj) * ohw;
          const float *plane = im + (gsize) c * g->h * g->w;

          for (int oy = 0; oy < g->oh; oy++)
            {
              int iy = oy * g->sh - g->pt + ki;
              float *r = row + oy * g->ow;

              if (iy < 0 || iy >= g->h)
                {
                  memset (r, 0, sizeof (float) * g->ow);
                  continue;
                }
              const float *src = plane + (gsize) iy * g->w;
              if (g->sw == 1)
                {
                  int x0 = kj - g->pl;     /* ix = ox + x0 */
                  int lo = MIN (MAX (0, -x0), g->ow), hi = MIN (g->ow, g->w - x0);

                  if (hi < lo)
                    hi = lo;
                  for (int ox = 0; ox < lo; ox++)
                    r[ox] = 0.f;
                  if (hi > lo)
                    memcpy (r + lo, src + lo + x0, sizeof (float) * (hi - lo));
                  for (int ox = hi; ox < g->ow; ox++)
                    r[ox] = 0.f;
                }
              else
                for (int ox = 0; ox < g->ow; ox++)
                  {
                    int ix = ox * g->sw - g->pl + kj;
                    r[ox] = (ix >= 0 && ix < g->w) ? src[ix] : 0.f;
                  }
            }
        }
}

/* im [cg, h, w] += col2im(col) */
static void
col2im_add (float *im, const float *col, int cg, const PalConvGeom *g)
{
  int ohw = g->oh * g->ow;

  for (int c = 0; c < cg; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++)
        {
          const float *row = col + (gsize) ((c * g->kh + ki) * g->kw + kj) * ohw;
          float *plane = im + (gsize) c * g->h * g->w;

          for (int oy = 0; oy < g->oh; oy++)
            {
              int iy = oy * g->sh - g->pt + ki;
              const float *r = row + oy * g->ow;

              if (iy < 0 || iy >= g->h)
                continue;
              float *dst = plane + (gsize) iy * g->w;
              if (g->sw == 1)
                {
                  int x0 = kj - g->pl;
                  int lo = MAX (0, -x0), hi = MIN (g->ow, g->w - x0);

                  for (int ox = lo; ox < hi; ox++)
                    dst[ox + x0] += r[ox];
                }
              else
                for (int ox = 0; ox < g->ow; ox++)
                  {
                    int ix = ox * g->sw - g->pl + kj;
                    if (ix >= 0 && ix < g->w)
                      dst[ix] += r[ox];
                  }
            }
        }
}

typedef struct {
  float *out;
  const float *in, *w, *b;
  float *din, *dw, *db;
  const float *dout;
  const PalConvGeom *g;
  PalScratch *s;
} ConvJob;

static void
forward_chunk (int begin, int end, int worker, void *data)
{
  ConvJob *j = data;
  const PalConvGeom *g = j->g;
  int cg = g->cin / g->groups, og = g->cout / g->groups;
  int K = cg * g->kh * g->kw, ohw = g->oh * g->ow;
  gboolean pw = is_pointwise (g);

  for (int i = begin; i < end; i++)
    {
      const float *im = j->in + (gsize) i * g->cin * g->h * g->w;
      float *out = j->out + (gsize) i * g->cout * ohw;

      for (int gr = 0; gr < g->groups; gr++)
        {
          const float *col = im + (gsize) gr * cg * g->h * g->w;

          if (!pw)
            {
              im2col (j->s->col[worker], col, cg, g);
              col = j->s->col[worker];
            }
          pal_sgemm (FALSE, FALSE, og, ohw, K,
                       1.f, j->w + (gsize) gr * og * K, K, col, ohw,
                       0.f, out + (gsize) gr * og * ohw, ohw);
        }
      if (j->b)
        for (int o = 0; o < g->cout; o++)
          {
            float bv = j->b[o], *p = out + (gsize) o * ohw;
            for (int k = 0; k < ohw; k++)
              p[k] += bv;
          }
    }
}

void
pal_conv2d_forward (float *out, const float *in, const float *w, const float *b,
                    int n, const PalConvGeom *g, PalScratch *s)
{
  ConvJob j = { .out = out, .in = in, .w = w, .b = b, .g = g, .s = s };

  if (pal_conv2d_uses_winograd (g, n, s))
    {
      pal_conv2d_wino_forward (out, in, w, b, n, g, s);
      return;
    }
  pal_parallel_for (n, forward_chunk, &j);
}

static void
backward_chunk (int begin, int end, int worker, void *data)
{
  ConvJob *j = data;
  const PalConvGeom *g = j->g;
  int cg = g->cin / g->groups, og = g->cout / g->groups;
  int K = cg * g->kh * g->kw, ohw = g->oh * g->ow;
  gboolean pw = is_pointwise (g);
  float *col = j->s->col[worker];
  float *pdw = j->s->part[worker];
  float *pdb = pdw + (gsize) g->cout * K;

  if (j->dw || j->db)
    memset (pdw, 0, sizeof (float) * pal_conv2d_part_floats (g));

  for (int i = begin; i < end; i++)
    {
      const float *im = j->in ? j->in + (gsize) i * g->cin * g->h * g->w : NULL;
      const float *dout = j->dout + (gsize) i * g->cout * ohw;
      float *din = j->din ? j->din + (gsize) i * g->cin * g->h * g->w : NULL;

      for (int gr = 0; gr < g->groups; gr++)
        {
          const float *dout_g = dout + (gsize) gr * og * ohw;
          const float *w_g = j->w ? j->w + (gsize) gr * og * K : NULL;

          if (j->dw)
            {
              const float *c = im + (gsize) gr * cg * g->h * g->w;
              if (!pw)
                {
                  im2col (col, c, cg, g);
                  c = col;
                }
              pal_sgemm (FALSE, TRUE, og, K, ohw,
                           1.f, dout_g, ohw, c, ohw,
                           1.f, pdw + (gsize) gr * og * K, K);
            }
          if (din)
            {
              float *din_g = din + (gsize) gr * cg * g->h * g->w;
              if (pw)
                pal_sgemm (TRUE, FALSE, K, ohw, og,
                             1.f, w_g, K, dout_g, ohw, 1.f, din_g, ohw);
              else
                {
                  pal_sgemm (TRUE, FALSE, K, ohw, og,
                               1.f, w_g, K, dout_g, ohw, 0.f, col, ohw);
                  col2im_add (din_g, col, cg, g);
                }
            }
        }
      if (j->db)
        for (int o = 0; o < g->cout; o++)
          {
            const float *p = dout + (gsize) o * ohw;
            float acc = 0.f;
            for (int k = 0; k < ohw; k++)
              acc += p[k];
            pdb[o] += acc;
          }
    }
}

void
pal_conv2d_backward (float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w,
                     int n, const PalConvGeom *g, PalScratch *s)
{
  ConvJob j = { .din = din, .dw = dw, .db = db, .dout = dout, .in = in, .w = w,
                .g = g, .s = s };
  int nw = MIN (n, pal_get_threads ());
  gsize nwt = (gsize) g->cout * (g->cin / g->groups) * g->kh * g->kw;

  if (pal_conv2d_uses_winograd (g, n, s))
    {
      pal_conv2d_wino_backward (din, dw, db, dout, in, w, n, g, s);
      return;
    }
  g_assert (!dw || in);
  g_assert (!din || w);
  g_assert (s->n_workers >= pal_get_threads ());
  pal_parallel_for (n, backward_chunk, &j);
  for (int k = 0; k < nw; k++)
    {
      if (dw)
        pal_accumulate (dw, s->part[k], nwt);
      if (db)
        pal_accumulate (db, s->part[k] + nwt, g->cout);
    }
}
