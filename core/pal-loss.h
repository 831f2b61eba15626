/* pal-loss.h: cross-entropy and the PAL correlation term (internal) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PAL_STD_EPS 1e-6

/* probs [n, k] = softmax(logits); dlogits [n, k] = (probs - onehot) / n
 * (may be NULL).  Returns the mean cross-entropy; counts argmax hits. */
double pal_softmax_ce (float *probs, float *dlogits, const float *logits,
                       const gint32 *labels, int n, int k, int *n_correct);

/* softmax only */
void   pal_softmax    (float *probs, const float *logits, int n, int k);

/* L = -(1/len) sum_i std(m)_i p_i for a standardised prior p; returns L and
 * adds coef * dL/dm into dm (may be NULL). */
double pal_corr_loss  (const float *m, const float *p, int len, float *dm, double coef);

G_END_DECLS
