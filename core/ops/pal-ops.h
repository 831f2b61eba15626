/* pal-ops.h: the kernels, one file per op family
 *
 * Conventions (as in llm.c): outputs first; tensors are NCHW float arrays
 * with a shape comment; backward functions ADD into their d-buffers (din,
 * dw, db), any of which may be NULL when not wanted.  The JVP of a linear op
 * (conv, linear) is its forward without bias; the executor composes that
 * with the activation masks.  Kernels split work over images or channels
 * with pal_parallel_for; they never allocate: scratch comes from PalScratch.
 */
#pragma once

#include <glib.h>
#include "../pal-parallel.h"

G_BEGIN_DECLS

#define PAL_MAX_WORKERS 64

/* Per-worker scratch owned by a workspace. */
typedef struct {
  int    n_workers;
  gsize  col_floats;                 /* per worker */
  float *col[PAL_MAX_WORKERS];       /* im2col / col2im buffers */
  gsize  part_floats;                /* per worker */
  float *part[PAL_MAX_WORKERS];      /* partial weight + bias gradients */
  gsize  wino_floats;                /* per worker */
  float *wino[PAL_MAX_WORKERS];      /* Winograd tiles, products, weight-gradient sums */
  gsize  wino_u_floats;              /* shared */
  float *wino_u;                     /* Winograd kernel transforms [16, cout, cin] */
  const float *wino_u_pre;           /* or, for one call, transforms made beforehand
                                      * with pal_conv2d_wino_kernels() */
} PalScratch;

typedef struct {
  int cin, h, w;          /* input, one sample */
  int cout, oh, ow;       /* output */
  int kh, kw, sh, sw;
  int pt, pl;             /* top and left padding (bottom/right follow from oh, ow) */
  int groups;
} PalConvGeom;

gsize pal_conv2d_col_floats  (const PalConvGeom *g);
gsize pal_conv2d_part_floats (const PalConvGeom *g);
/* Winograd F(2x2, 3x3) scratch of a conv called with up to n images: the
 * floats of each PalScratch.wino[worker] (returned) and of wino_u (*shared);
 * both 0 where the conv does not qualify (3x3, stride 1, groups 1, cin >= 8). */
gsize pal_conv2d_wino_floats (const PalConvGeom *g, int n, gsize *shared);

/* out [n, cout, oh, ow] = conv(in [n, cin, h, w], w [cout, cin/groups, kh, kw]) + b [cout]
 * b may be NULL (this is then also the JVP). */
void pal_conv2d_forward  (float *out, const float *in, const float *w, const float *b,
                          int n, const PalConvGeom *g, PalScratch *s);
/* din [n, cin, h, w] += dconv/din^T dout; dw += dout (x) im2col(in); db += sum dout */
void pal_conv2d_backward (float *din, float *dw, float *db, const float *dout,
                          const float *in, const float *w,
                          int n, const PalConvGeom *g, PalScratch *s);

/* The Winograd path (winograd.c), which the two above take when
 * pal_conv2d_uses_winograd(): the switch is on, the conv qualifies and the
 * scratch has its wino buffers (else they use im2col).  The switch starts on
 * unless PAL_CONV_NO_WINOGRAD is set (to anything but 0); for tests and
 * benchmarks.  Set it between calls, not during one. */
void     pal_conv2d_set_winograd  (gboolean enable);
gboolean pal_conv2d_get_winograd  (void);
gboolean pal_conv2d_uses_winograd (const PalConvGeom *g, int n, const PalScratch *s);
/* Fills @u (the *shared floats of pal_conv2d_wino_floats) with the kernel
 * transforms of @w, for weights that stay fixed over many calls. */
void     pal_conv2d_wino_kernels  (float *u, const float *w, const PalConvGeom *g);
void     pal_conv2d_wino_forward  (float *out, const float *in, const float *w, const float *b,
                                   int n, const PalConvGeom *g, PalScratch *s);
void     pal_conv2d_wino_backward (float *din, float *dw, float *db, const float *dout,
                                   const float *in, const float *w,
                                   int n, const PalConvGeom *g, PalScratch *s);

/* out [n, nout] = in [n, nin] w^T [nin, nout] + b [nout]; b may be NULL */
void pal_linear_forward  (float *out, const float *in, const float *w, const float *b,
                          int n, int nin, int nout);
void pal_linear_backward (float *din, float *dw, float *db, const float *dout,
                          const float *in, const float *w, int n, int nin, int nout);

/* Pools over planes [np = n * c] of h x w into oh x ow; pt/pl padding. */
typedef struct {
  int h, w, oh, ow, kh, kw, sh, sw, pt, pl;
  gboolean count_pad;     /* avg: divide by kh*kw (PyTorch's default) */
} PalPoolGeom;

/* argmax [np, oh, ow]: index into the input plane of each output's maximum;
 * padding counts as -inf. */
void pal_maxpool_forward  (float *out, gint32 *argmax, const float *in, int np,
                           const PalPoolGeom *g);
/* din += scatter of dout to the argmax; with @overwrite, din is written
 * (not added to) everywhere, which saves clearing it first. */
void pal_maxpool_backward (float *din, const float *dout, const gint32 *argmax, int np,
                           const PalPoolGeom *g, gboolean overwrite);
/* JVP: out = in gathered at argmax */
void pal_maxpool_gather   (float *out, const float *in, const gint32 *argmax, int np,
                           const PalPoolGeom *g);
void pal_avgpool_forward  (float *out, const float *in, int np, const PalPoolGeom *g);
void pal_avgpool_backward (float *din, const float *dout, int np, const PalPoolGeom *g);

/* Global average pool: out [np] = mean of in [np, hw] */
void pal_gap_forward      (float *out, const float *in, int np, int hw);
void pal_gap_backward     (float *din, const float *dout, int np, int hw);

/* Batch norm over x [n, c, hw].
 * Training form: normalises with the batch's statistics, stores them in
 * mean [c], invstd [c], and updates running_mean/var (if not NULL) with
 * PyTorch's momentum rule (unbiased variance). */
void pal_bn_forward_train (float *out, float *mean, float *invstd,
                           float *running_mean, float *running_var,
                           const float *x, const float *gamma, const float *beta,
                           int n, int c, int hw, float eps, float momentum);
void pal_bn_backward_train (float *dx, float *dgamma, float *dbeta, const float *dout,
                            const float *x, const float *mean, const float *invstd,
                            const float *gamma, int n, int c, int hw);
/* Inference form: y = gamma (x - rmean) / sqrt(rvar + eps) + beta.
 * With beta == NULL and rmean == NULL it is the JVP (a per-channel scale). */
void pal_bn_forward_infer (float *out, const float *x, const float *gamma,
                           const float *beta, const float *rmean, const float *rvar,
                           int n, int c, int hw, float eps);
/* dx += dout gamma / sqrt(rvar + eps); dgamma += sum dout (x - rmean) / sqrt(rvar + eps);
 * dbeta += sum dout.  rmean may be NULL (treated as 0): the PAL weight term. */
void pal_bn_backward_infer (float *dx, float *dgamma, float *dbeta, const float *dout,
                            const float *x, const float *gamma, const float *rmean,
                            const float *rvar, int n, int c, int hw, float eps);

/* Activations, in place on y; the mask is read from the activated output
 * (y > 0 iff the input was > 0 for ReLU and LeakyReLU with alpha > 0). */
void pal_act_forward      (float *y, gsize len, int act, float alpha);
/* d [len] *= act'(y), in place */
void pal_act_mask         (float *d, const float *y, gsize len, int act, float alpha);
/* dx += d * act'(y) (for a separate relu node) */
void pal_act_backward     (float *dx, const float *d, const float *y, gsize len,
                           int act, float alpha);

void pal_add_forward      (float *out, const float *a, const float *b, gsize len);
/* y += x */
void pal_accumulate       (float *y, const float *x, gsize len);

/* Dropout with a kept-mask (1 = kept) and scale 1 / (1 - p). */
void pal_dropout_forward  (float *out, const float *in, const guint8 *mask, float scale,
                           gsize len);
void pal_dropout_backward (float *din, const float *dout, const guint8 *mask, float scale,
                           gsize len);

/* TensorFlow's legacy bilinear resize (resize.c; no half-pixel centres,
 * alignCorners false): dst [oh, ow, c] from the 8-bit image src [h, w, c]
 * (rows @stride bytes apart) placed at (@top, @left) in a zero canvas of
 * canvas_h x canvas_w, which is what is resized.  Input preprocessing only. */
void pal_resize_bilinear_legacy (float *dst, int oh, int ow,
                                 const guint8 *src, int h, int w, int c, gsize stride,
                                 int canvas_h, int canvas_w, int top, int left);

G_END_DECLS
