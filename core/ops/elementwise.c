/* elementwise.c: activations, residual add, dropout */
#include "pal-ops.h"
#include "../pal-graph.h"

void
pal_act_forward (float *y, gsize len, int act, float alpha)
{
  if (act == PAL_ACT_RELU)
    for (gsize i = 0; i < len; i++)
      y[i] = y[i] > 0.f ? y[i] : 0.f;
  else if (act == PAL_ACT_LEAKY)
    for (gsize i = 0; i < len; i++)
      y[i] = y[i] > 0.f ? y[i] : alpha * y[i];
}

void
pal_act_mask (float *d, const float *y, gsize len, int act, float alpha)
{
  if (act == PAL_ACT_RELU)
    for (gsize i = 0; i < len; i++)
      d[i] = y[i] > 0.f ? d[i] : 0.f;
  else if (act == PAL_ACT_LEAKY)
    for (gsize i = 0; i < len; i++)
      d[i] = y[i] > 0.f ? d[i] : alpha * d[i];
}

void
pal_act_backward (float *dx, const float *d, const float *y, gsize len, int act, float alpha)
{
  if (act == PAL_ACT_RELU)
    for (gsize i = 0; i < len; i++)
      dx[i] += y[i] > 0.f ? d[i] : 0.f;
  else if (act == PAL_ACT_LEAKY)
    for (gsize i = 0; i < len; i++)
      dx[i] += y[i] > 0.f ? d[i] : alpha * d[i];
  else
    pal_accumulate (dx, d, len);
}

void
pal_add_forward (float *out, const float *a, const float *b, gsize len)
{
  for (gsize i = 0; i < len; i++)
    out[i] = a[i] + b[i];
}

void
pal_accumulate (float *y, const float *x, gsize len)
{
  for (gsize i = 0; i < len; i++)
    y[i] += x[i];
}

void
pal_dropout_forward (float *out, const float *in, const guint8 *mask, float scale, gsize len)
{
  for (gsize i = 0; i < len; i++)
    out[i] = mask[i] ? in[i] * scale : 0.f;
}

void
pal_dropout_backward (float *din, const float *dout, const guint8 *mask, float scale, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (mask[i])
      din[i] += dout[i] * scale;
}
