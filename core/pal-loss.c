/* pal-loss.c: cross-entropy, standardisation, the PAL correlation */
#include "pal-loss.h"
#include "pal-exec.h"

#include <math.h>

void
pal_softmax (float *probs, const float *logits, int n, int k)
{
  for (int i = 0; i < n; i++)
    {
      const float *z = logits + (gsize) i * k;
      float *p = probs + (gsize) i * k;
      float mx = z[0];
      double sum = 0.0;

      for (int j = 1; j < k; j++)
        mx = MAX (mx, z[j]);
      for (int j = 0; j < k; j++)
        sum += p[j] = expf (z[j] - mx);
      for (int j = 0; j < k; j++)
        p[j] = (float) (p[j] / sum);
    }
}

double
pal_softmax_ce (float *probs, float *dlogits, const float *logits,
                const gint32 *labels, int n, int k, int *n_correct)
{
  double loss = 0.0;
  int hits = 0;

  for (int i = 0; i < n; i++)
    {
      const float *z = logits + (gsize) i * k;
      float *p = probs + (gsize) i * k;
      float mx = z[0];
      int arg = 0;
      double sum = 0.0;

      for (int j = 1; j < k; j++)
        if (z[j] > mx)
          {
            mx = z[j];
            arg = j;
          }
      for (int j = 0; j < k; j++)
        sum += exp ((double) z[j] - mx);
      for (int j = 0; j < k; j++)
        p[j] = (float) (exp ((double) z[j] - mx) / sum);
      loss += log (sum) - ((double) z[labels[i]] - mx);
      hits += arg == labels[i];
      if (dlogits)
        for (int j = 0; j < k; j++)
          dlogits[(gsize) i * k + j] = (p[j] - (j == labels[i] ? 1.f : 0.f)) / (float) n;
    }
  if (n_correct)
    *n_correct = hits;
  return loss / n;
}

void
pal_map_standardise (float *m, int len)
{
  double mu = 0.0, var = 0.0, d;

  for (int i = 0; i < len; i++)
    mu += m[i];
  mu /= len;
  for (int i = 0; i < len; i++)
    var += (m[i] - mu) * (m[i] - mu);
  d = sqrt (var / len) + PAL_STD_EPS;
  for (int i = 0; i < len; i++)
    m[i] = (float) ((m[i] - mu) / d);
}

/* s = (m - mu) / d, d = sd + eps, L = -(1/len) sum s_i p_i.
 * With a_i = dL/ds_i = -p_i / len:
 *   dL/dm_j = (a_j - mean(a)) / d - (sum_i a_i c_i) c_j / (d^2 len sd),
 * c = m - mu; the second term vanishes with sd (then c = 0 too). */
double
pal_corr_loss (const float *m, const float *p, int len, float *dm, double coef)
{
  double mu = 0.0, var = 0.0, sd, d, loss = 0.0, ma = 0.0, sac = 0.0;

  for (int i = 0; i < len; i++)
    mu += m[i];
  mu /= len;
  for (int i = 0; i < len; i++)
    var += (m[i] - mu) * (m[i] - mu);
  sd = sqrt (var / len);
  d = sd + PAL_STD_EPS;
  for (int i = 0; i < len; i++)
    {
      double c = m[i] - mu, a = -(double) p[i] / len;
      loss += (c / d) * p[i];
      ma += a;
      sac += a * c;
    }
  loss = -loss / len;
  if (dm)
    {
      ma /= len;
      for (int i = 0; i < len; i++)
        {
          double c = m[i] - mu, a = -(double) p[i] / len;
          double g = (a - ma) / d;
          if (sd > 0.0)
            g -= sac * c / (d * d * len * sd);
          dm[i] += (float) (coef * g);
        }
    }
  return loss;
}

void
pal_map_resize_area (float *dst, int dh, int dw, const float *src, int sh, int sw)
{
  /* output pixel (y, x) covers [y sh/dh, (y+1) sh/dh) x [x sw/dw, (x+1) sw/dw)
   * of the input; each input pixel contributes its overlap */
  double fy = (double) sh / dh, fx = (double) sw / dw;

  for (int y = 0; y < dh; y++)
    {
      double y0 = y * fy, y1 = (y + 1) * fy;
      for (int x = 0; x < dw; x++)
        {
          double x0 = x * fx, x1 = (x + 1) * fx, acc = 0.0;

          for (int iy = (int) floor (y0); iy < sh && iy < y1; iy++)
            {
              double wy = MIN (y1, iy + 1.0) - MAX (y0, (double) iy);
              if (wy <= 0.0)
                continue;
              for (int ix = (int) floor (x0); ix < sw && ix < x1; ix++)
                {
                  double wx = MIN (x1, ix + 1.0) - MAX (x0, (double) ix);
                  if (wx > 0.0)
                    acc += wy * wx * src[(gsize) iy * sw + ix];
                }
            }
          dst[(gsize) y * dw + x] = (float) (acc / (fy * fx));
        }
    }
}
