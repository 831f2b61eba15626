/* pal-exec.h: running a model: forward, gradients with PAL, attribution
 *
 * A PalWorkspace holds every buffer a model needs for batches of up to
 * max_batch samples: activations and gradients of every node, the
 * first-pass gradients and JVP buffers of the PAL layer's tail, kernel
 * scratch.  All of it is allocated when the workspace is made (and when the
 * PAL layer changes), so a training step allocates nothing.
 *
 * A workspace is used by one thread at a time.
 */
#pragma once

#include "pal-model.h"

G_BEGIN_DECLS

typedef enum {
  PAL_ATTR_GRAD,           /* A = |g|     */
  PAL_ATTR_GRAD_INPUT,     /* A = |g| * F */
} PalAttribution;

typedef enum {
  PAL_CHANNELS_ALL,        /* each channel map against the prior, averaged */
  PAL_CHANNELS_MEAN,       /* the mean over all C channels */
  PAL_CHANNELS_FIRST,      /* the mean over the first C1 channels */
} PalChannels;

typedef struct {
  int            layer;        /* node index of the PAL layer */
  PalAttribution attribution;
  PalChannels    channels;
  int            c1;           /* PAL_CHANNELS_FIRST: 1..C; 0 means C/2 */
  float          lambda;       /* weight of PAL in the loss */
} PalLossConfig;

/* The PAL settings as model metadata: "pal.layer" (node name),
 * "pal.attribution" (grad | grad-input), "pal.channels" (all | mean | first),
 * "pal.c1", "pal.lambda".  A model trained without PAL has none of them. */
void          pal_loss_config_to_model   (const PalLossConfig *cfg, PalModel *model);
/* FALSE without error when the model has no PAL settings; FALSE with
 * @error when they are present but invalid for its graph. */
gboolean      pal_loss_config_from_model (PalLossConfig *cfg, PalModel *model,
                                          GError **error);

typedef struct {
  double ce;                   /* mean cross-entropy */
  double pal;                  /* mean PAL term (negative correlation), 0 without PAL */
  double loss;                 /* ce + lambda * pal */
  int    n_correct;            /* argmax(logits) == label */
} PalLosses;

typedef struct _PalWorkspace PalWorkspace;

PalWorkspace *pal_workspace_new        (PalModel *model, int max_batch, GError **error);
void          pal_workspace_free       (PalWorkspace *ws);
PalModel     *pal_workspace_get_model  (PalWorkspace *ws);
int           pal_workspace_get_max_batch (PalWorkspace *ws);
/* Bytes of buffers held (activations, gradients, scratch). */
gsize         pal_workspace_get_bytes  (PalWorkspace *ws);

/* Seeds the dropout masks of training forwards. */
void          pal_workspace_set_seed   (PalWorkspace *ws, guint64 seed);
/* With @frozen, batch norm runs in inference form (running statistics,
 * not updated) during training too; this makes a tail with batch norm
 * piecewise linear, so PAL can sit before it. */
void          pal_workspace_set_bn_frozen (PalWorkspace *ws, gboolean frozen);

/* Promises that the model's weights will not change while @fixed (an
 * inference workspace, as the viewer's): the Winograd transforms of the
 * convolution kernels are then made once, here, instead of at every call,
 * which makes single-image attribution markedly faster.  Call it again
 * (TRUE) after changing the weights, or with FALSE before training. */
gboolean      pal_workspace_set_weights_fixed (PalWorkspace *ws, gboolean fixed,
                                               GError **error);

/* Turns PAL on (cfg != NULL, lambda may be 0) or off (NULL) for
 * pal_workspace_grads().  Checks the layer (pal_graph_check_attribution_node)
 * and C1, and allocates the tail buffers. */
gboolean      pal_workspace_set_pal    (PalWorkspace *ws, const PalLossConfig *cfg,
                                        GError **error);

/* Forward pass of @n samples x [n, C, H, W].  @train selects the training
 * form of dropout and batch norm.  Returns the logits [n, K], owned by the
 * workspace and valid until the next call. */
const float  *pal_workspace_forward    (PalWorkspace *ws, const float *x, int n, gboolean train);
/* Output of @node [n, c, h, w] after the last forward. */
const float  *pal_workspace_activation (PalWorkspace *ws, int node);

/* Gradient buffer of @node [n, c, h, w] after pal_workspace_grads(): the
 * gradient of the loss with respect to the node's output, or to its
 * pre-activation output when the node has a fused activation. */
const float  *pal_workspace_gradient   (PalWorkspace *ws, int node);

/* One training step's gradients: forward (training form), loss
 * CE(z, labels) + lambda * PAL(priors) and its exact gradient with respect to
 * every parameter, written (not added) into @grad [n_floats] (entries of
 * non-trainable parameters are left 0).  @priors [n, ph, pw] are the landmark
 * heatmaps of the samples at any resolution, not standardised: they are
 * resized by area to the PAL layer's map and standardised here.  @priors may
 * be NULL when PAL is off.  Fails on a label out of range or priors missing. */
gboolean      pal_workspace_grads      (PalWorkspace *ws, const float *x, const gint32 *labels,
                                        const float *priors, int ph, int pw, int n,
                                        float *grad, PalLosses *out, GError **error);

/* --- attribution at inference ---------------------------------------- */

/* Target of an attribution: the sum of the logits, or one class. */
#define PAL_TARGET_SUM (-1)

typedef struct {
  int    n, c, h, w;           /* samples, channels, map size of the node */
  int    c1;                   /* the first C1 channels are the "constrained" half */
  int    n_classes;
  float *grad_first;           /* [n, h, w] sum over c < C1 of |g| */
  float *grad_rest;            /* [n, h, w] sum over c >= C1 of |g| */
  float *grad_all;             /* [n, h, w] sum over all c of |g| */
  float *gi_first;             /* the same for |g| * F */
  float *gi_rest;
  float *gi_all;
  float *probs;                /* [n, n_classes] softmax of the logits */
  gboolean flat;               /* the Grad map is constant by construction */
} PalAttrMaps;

void          pal_attr_maps_free       (PalAttrMaps *maps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalAttrMaps, pal_attr_maps_free)

/* Grad and Grad*Input maps at @node (inference form) for @target
 * (PAL_TARGET_SUM or a class index), split at @c1 (0: C/2). */
PalAttrMaps  *pal_workspace_attribute  (PalWorkspace *ws, const float *x, int n, int node,
                                        int target, int c1, GError **error);

/* Grad-CAM of class @klass at @node: ReLU(sum_k alpha_k F_k) with
 * alpha_k = mean over pixels of dz_klass/dF_k.  @cam [n, h, w]; @probs
 * [n, K] may be NULL. */
gboolean      pal_workspace_gradcam    (PalWorkspace *ws, const float *x, int n, int node,
                                        int klass, float *cam, float *probs, GError **error);

/* --- helpers shared with the data code ------------------------------- */

/* Area resize of a map [sh, sw] to [dh, dw] (each output pixel is the mean of
 * the input area it covers; exact for any ratio). */
void          pal_map_resize_area      (float *dst, int dh, int dw,
                                        const float *src, int sh, int sw);
/* In place: (m - mean) / (sd + 1e-6), population sd. */
void          pal_map_standardise      (float *m, int len);

G_END_DECLS
