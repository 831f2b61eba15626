/* pal-optim.h: Adam with polynomial learning-rate decay
 *
 *   lr_t = lr (1 - t / T)^power      (t = steps taken, T = total steps; T = 0: constant)
 *   g    = grad + weight_decay * w   (L2, as PyTorch's Adam)
 *   m    = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   w   -= lr_t (m / (1 - b1^(t+1))) / (sqrt(v / (1 - b2^(t+1))) + eps)
 * Only trainable parameters move (batch-norm running statistics do not).
 */
#pragma once

#include "pal-model.h"

G_BEGIN_DECLS

typedef struct {
  float  lr;             /* base learning rate */
  float  beta1, beta2;   /* 0.9, 0.999 */
  float  eps;            /* 1e-8 */
  float  weight_decay;   /* 0 */
  float  power;          /* polynomial decay power; 0 = constant */
  gint64 total_steps;    /* T; 0 = constant */
} PalAdamConfig;

/* The defaults above with @lr. */
PalAdamConfig pal_adam_config_default (float lr);

typedef struct _PalAdam PalAdam;

PalAdam *pal_adam_new      (PalModel *model, const PalAdamConfig *cfg);
void     pal_adam_free     (PalAdam *adam);
/* The learning rate the next step will use. */
float    pal_adam_get_lr   (PalAdam *adam);
gint64   pal_adam_get_step (PalAdam *adam);
/* Moments [n_floats], for checkpoints; pal_adam_set_step restores t. */
float   *pal_adam_get_m    (PalAdam *adam);
float   *pal_adam_get_v    (PalAdam *adam);
void     pal_adam_set_step (PalAdam *adam, gint64 step);
/* One update of the model's parameters with @grad [n_floats]. */
void     pal_adam_step     (PalAdam *adam, const float *grad);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalAdam, pal_adam_free)

G_END_DECLS
