/* pal-optim.c: Adam, one flat loop per parameter */
#include "pal-optim.h"

#include <math.h>

struct _PalAdam {
  PalModel     *model;
  PalAdamConfig cfg;
  float        *m;    /* [n_floats] */
  float        *v;    /* [n_floats] */
  gint64        t;
};

PalAdamConfig
pal_adam_config_default (float lr)
{
  return (PalAdamConfig) { .lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f };
}

PalAdam *
pal_adam_new (PalModel *model, const PalAdamConfig *cfg)
{
  PalAdam *a = g_new0 (PalAdam, 1);
  gsize n = pal_graph_get_n_floats (pal_model_get_graph (model));

  a->model = pal_model_ref (model);
  a->cfg = *cfg;
  a->m = g_new0 (float, MAX (n, 1));
  a->v = g_new0 (float, MAX (n, 1));
  return a;
}

void
pal_adam_free (PalAdam *adam)
{
  if (!adam)
    return;
  pal_model_unref (adam->model);
  g_free (adam->m);
  g_free (adam->v);
  g_free (adam);
}

float
pal_adam_get_lr (PalAdam *adam)
{
  const PalAdamConfig *c = &adam->cfg;
  double frac;

  if (c->total_steps <= 0 || c->power == 0.f)
    return c->lr;
  frac = 1.0 - (double) adam->t / (double) c->total_steps;
  return (float) (c->lr * pow (MAX (frac, 0.0), c->power));
}

gint64
pal_adam_get_step (PalAdam *adam)
{
  return adam->t;
}

float *
pal_adam_get_m (PalAdam *adam)
{
  return adam->m;
}

float *
pal_adam_get_v (PalAdam *adam)
{
  return adam->v;
}

void
pal_adam_set_step (PalAdam *adam, gint64 step)
{
  adam->t = step;
}

void
pal_adam_step (PalAdam *adam, const float *grad)
{
  PalGraph *g = pal_model_get_graph (adam->model);
  float *w = pal_model_get_params (adam->model);
  const PalAdamConfig *c = &adam->cfg;
  float lr = pal_adam_get_lr (adam);
  float b1 = c->beta1, b2 = c->beta2, wd = c->weight_decay, eps = c->eps;
  float bc1 = (float) (1.0 - pow (b1, (double) (adam->t + 1)));
  float bc2 = (float) (1.0 - pow (b2, (double) (adam->t + 1)));

  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      gsize off = pal_graph_param_offset (g, p), n = pal_graph_param_numel (g, p);

      if (!pal_graph_param_trainable (g, p))
        continue;
      for (gsize i = off; i < off + n; i++)
        {
          float gr = grad[i] + wd * w[i];
          float m = adam->m[i] = b1 * adam->m[i] + (1.f - b1) * gr;
          float v = adam->v[i] = b2 * adam->v[i] + (1.f - b2) * gr * gr;
          w[i] -= lr * (m / bc1) / (sqrtf (v / bc2) + eps);
        }
    }
  adam->t++;
}
