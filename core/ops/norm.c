/* norm.c: batch normalisation over x [n, c, hw], training and inference form
 *
 * Statistics are accumulated in double: a batch of 16 images of 96x96 sums
 * 150k values per channel.
 */
#include "pal-ops.h"

#include <math.h>

void
pal_bn_forward_train (float *out, float *mean, float *invstd,
                      float *running_mean, float *running_var,
                      const float *x, const float *gamma, const float *beta,
                      int n, int c, int hw, float eps, float momentum)
{
  gsize cnt = (gsize) n * hw;

  for (int ch = 0; ch < c; ch++)
    {
      double s = 0.0, ss = 0.0, mu, var;

      for (int i = 0; i < n; i++)
        {
          const float *p = x + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            s += p[k];
        }
      mu = s / (double) cnt;
      for (int i = 0; i < n; i++)
        {
          const float *p = x + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            ss += (p[k] - mu) * (p[k] - mu);
        }
      var = ss / (double) cnt;
      mean[ch] = (float) mu;
      invstd[ch] = (float) (1.0 / sqrt (var + eps));
      if (running_mean)
        {
          double unbiased = cnt > 1 ? ss / (double) (cnt - 1) : var;
          running_mean[ch] = (float) ((1.0 - momentum) * running_mean[ch] + momentum * mu);
          running_var[ch] = (float) ((1.0 - momentum) * running_var[ch] + momentum * unbiased);
        }

      float sc = gamma[ch] * invstd[ch], sh = beta[ch] - (float) mu * sc;
      for (int i = 0; i < n; i++)
        {
          const float *p = x + ((gsize) i * c + ch) * hw;
          float *q = out + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            q[k] = p[k] * sc + sh;
        }
    }
}

void
pal_bn_backward_train (float *dx, float *dgamma, float *dbeta, const float *dout,
                       const float *x, const float *mean, const float *invstd,
                       const float *gamma, int n, int c, int hw)
{
  gsize cnt = (gsize) n * hw;

  for (int ch = 0; ch < c; ch++)
    {
      double sd = 0.0, sdx = 0.0;
      float mu = mean[ch], is = invstd[ch];

      for (int i = 0; i < n; i++)
        {
          const float *d = dout + ((gsize) i * c + ch) * hw;
          const float *p = x + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            {
              sd += d[k];
              sdx += d[k] * (p[k] - mu) * is;
            }
        }
      if (dgamma)
        dgamma[ch] += (float) sdx;
      if (dbeta)
        dbeta[ch] += (float) sd;
      if (!dx)
        continue;
      /* dx = gamma * invstd / N * (N dy - sum dy - xhat sum(dy xhat)) */
      float k1 = gamma[ch] * is, md = (float) (sd / cnt), mdx = (float) (sdx / cnt);
      for (int i = 0; i < n; i++)
        {
          const float *d = dout + ((gsize) i * c + ch) * hw;
          const float *p = x + ((gsize) i * c + ch) * hw;
          float *q = dx + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            q[k] += k1 * (d[k] - md - (p[k] - mu) * is * mdx);
        }
    }
}

void
pal_bn_forward_infer (float *out, const float *x, const float *gamma,
                      const float *beta, const float *rmean, const float *rvar,
                      int n, int c, int hw, float eps)
{
  for (int ch = 0; ch < c; ch++)
    {
      float sc = gamma[ch] / sqrtf (rvar[ch] + eps);
      float sh = (beta ? beta[ch] : 0.f) - (rmean ? rmean[ch] * sc : 0.f);

      for (int i = 0; i < n; i++)
        {
          const float *p = x + ((gsize) i * c + ch) * hw;
          float *q = out + ((gsize) i * c + ch) * hw;
          for (int k = 0; k < hw; k++)
            q[k] = p[k] * sc + sh;
        }
    }
}

void
pal_bn_backward_infer (float *dx, float *dgamma, float *dbeta, const float *dout,
                       const float *x, const float *gamma, const float *rmean,
                       const float *rvar, int n, int c, int hw, float eps)
{
  for (int ch = 0; ch < c; ch++)
    {
      float is = 1.f / sqrtf (rvar[ch] + eps), mu = rmean ? rmean[ch] : 0.f;
      double sd = 0.0, sdx = 0.0;

      for (int i = 0; i < n; i++)
        {
          const float *d = dout + ((gsize) i * c + ch) * hw;
          float *q = dx ? dx + ((gsize) i * c + ch) * hw : NULL;
          const float *p = x ? x + ((gsize) i * c + ch) * hw : NULL;

          for (int k = 0; k < hw; k++)
            {
              sd += d[k];
              if (p)
                sdx += d[k] * (p[k] - mu);
              if (q)
                q[k] += d[k] * gamma[ch] * is;
            }
        }
      if (dgamma)
        dgamma[ch] += (float) (sdx * is);
      if (dbeta)
        dbeta[ch] += (float) sd;
    }
}
