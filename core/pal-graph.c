/* pal-graph.c: nodes, shapes and the parameter table */
#include "pal-graph-private.h"
#include "pal-error.h"

G_DEFINE_QUARK (pal-error-quark, pal_error)

static const char *op_names[PAL_N_OPS] = {
  [PAL_OP_INPUT] = "input",
  [PAL_OP_CONV2D] = "conv",
  [PAL_OP_LINEAR] = "linear",
  [PAL_OP_RELU] = "relu",
  [PAL_OP_MAXPOOL] = "maxpool",
  [PAL_OP_AVGPOOL] = "avgpool",
  [PAL_OP_GAP] = "gap",
  [PAL_OP_FLATTEN] = "flatten",
  [PAL_OP_ADD] = "add",
  [PAL_OP_DROPOUT] = "dropout",
  [PAL_OP_BATCHNORM] = "batchnorm",
};

const char *
pal_op_name (PalOp op)
{
  return op < PAL_N_OPS ? op_names[op] : "?";
}

static void
clear_node (gpointer p)
{
  g_free (((PalNode *) p)->name);
}

static void
clear_param (gpointer p)
{
  g_free (((PalParam *) p)->name);
}

PalGraph *
pal_graph_new (void)
{
  PalGraph *g = g_new0 (PalGraph, 1);

  g_atomic_ref_count_init (&g->ref);
  g->nodes = g_array_new (FALSE, TRUE, sizeof (PalNode));
  g_array_set_clear_func (g->nodes, clear_node);
  g->params = g_array_new (FALSE, TRUE, sizeof (PalParam));
  g_array_set_clear_func (g->params, clear_param);
  return g;
}

PalGraph *
pal_graph_ref (PalGraph *graph)
{
  g_atomic_ref_count_inc (&graph->ref);
  return graph;
}

void
pal_graph_unref (PalGraph *graph)
{
  if (graph && g_atomic_ref_count_dec (&graph->ref))
    {
      g_array_unref (graph->nodes);
      g_array_unref (graph->params);
      g_free (graph);
    }
}

static int
add_param (PalGraph *g, const char *node, const char *suffix, int ndim,
           const gint64 *shape, gboolean trainable)
{
  PalParam p = { 0 };

  p.name = g_strdup_printf ("%s.%s", node, suffix);
  p.ndim = ndim;
  p.numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      p.shape[i] = shape[i];
      p.numel *= (gsize) shape[i];
    }
  p.offset = g->n_floats;
  p.trainable = trainable;
  g->n_floats += p.numel;
  g_array_append_val (g->params, p);
  return (int) g->params->len - 1;
}

/* Output size of a sliding window, or 0 if the window does not fit. */
static int
window_out (int in, int k, int s, int pad_a, int pad_b)
{
  int span = in + pad_a + pad_b - k;

  if (k < 1 || s < 1 || span < 0)
    return 0;
  return span / s + 1;
}

/* Guards against shapes whose element count would not fit an int: the
 * kernels index with int. */
#define PAL_MAX_ELEMS (1 << 28)

int
pal_graph_add (PalGraph *g, const PalNode *tmpl, GError **error)
{
  PalNode n = *tmpl;
  const PalNode *a = NULL;
  int idx = (int) g->nodes->len;

  n.name = NULL;
  for (int i = 0; i < PAL_P_N; i++)
    n.param[i] = -1;

  if (!tmpl->name || !*tmpl->name)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "node %d has no name", idx);
      return -1;
    }
  if (pal_graph_find (g, tmpl->name) >= 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "node name '%s' is used twice", tmpl->name);
      return -1;
    }
  if ((tmpl->op == PAL_OP_INPUT) != (idx == 0))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   idx == 0 ? "the first node must be the input"
                            : "node '%s': only the first node can be an input",
                   tmpl->name);
      return -1;
    }

  if (tmpl->op != PAL_OP_INPUT)
    {
      int want = tmpl->op == PAL_OP_ADD ? 2 : 1;

      if (n.n_in != want)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "node '%s': %s takes %d input%s, got %d", tmpl->name,
                       pal_op_name (tmpl->op), want, want > 1 ? "s" : "", n.n_in);
          return -1;
        }
      for (int i = 0; i < n.n_in; i++)
        if (n.in[i] < 0 || n.in[i] >= idx)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                         "node '%s': input %d is not an earlier node", tmpl->name, i + 1);
            return -1;
          }
      a = pal_graph_node (g, n.in[0]);
    }

  switch (tmpl->op)
    {
    case PAL_OP_INPUT:
      n.n_in = 0;
      if (n.c < 1 || n.h < 1 || n.w < 1)
        goto bad_shape;
      break;

    case PAL_OP_CONV2D:
      {
        int cin = a->c;

        if (n.groups < 1)
          n.groups = 1;
        if (n.c < 1 || cin % n.groups || n.c % n.groups)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                         "conv '%s': %d input and %d output channels do not split "
                         "into %d groups", tmpl->name, cin, n.c, n.groups);
            return -1;
          }
        if (n.sh < 1) n.sh = 1;
        if (n.sw < 1) n.sw = 1;
        n.h = window_out (a->h, n.kh, n.sh, n.pt, n.pb);
        n.w = window_out (a->w, n.kw, n.sw, n.pl, n.pr);
        if (n.h < 1 || n.w < 1)
          goto bad_window;
        /* the weight count must not wrap, and the kernels index it with int */
        if ((double) n.c * (cin / n.groups) * n.kh * n.kw > (double) G_MAXINT)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                         "conv '%s': a %dx%d kernel from %d to %d channels is too large",
                         tmpl->name, n.kh, n.kw, cin, n.c);
            return -1;
          }
        n.param[PAL_P_WEIGHT] = add_param (g, tmpl->name, "weight", 4,
                                           (gint64[]) { n.c, cin / n.groups, n.kh, n.kw },
                                           TRUE);
        if (n.has_bias)
          n.param[PAL_P_BIAS] = add_param (g, tmpl->name, "bias", 1,
                                           (gint64[]) { n.c }, TRUE);
      }
      break;

    case PAL_OP_LINEAR:
      {
        gint64 in = (gint64) a->c * a->h * a->w;

        if (n.c < 1)
          goto bad_shape;
        n.h = n.w = 1;
        n.param[PAL_P_WEIGHT] = add_param (g, tmpl->name, "weight", 2,
                                           (gint64[]) { n.c, in }, TRUE);
        if (n.has_bias)
          n.param[PAL_P_BIAS] = add_param (g, tmpl->name, "bias", 1,
                                           (gint64[]) { n.c }, TRUE);
      }
      break;

    case PAL_OP_MAXPOOL:
    case PAL_OP_AVGPOOL:
      if (n.sh < 1) n.sh = n.kh;
      if (n.sw < 1) n.sw = n.kw;
      n.c = a->c;
      n.h = window_out (a->h, n.kh, n.sh, n.pt, n.pb);
      n.w = window_out (a->w, n.kw, n.sw, n.pl, n.pr);
      if (n.h < 1 || n.w < 1)
        goto bad_window;
      if (n.pt >= n.kh || n.pb >= n.kh || n.pl >= n.kw || n.pr >= n.kw)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "pool '%s': padding must be smaller than the window", tmpl->name);
          return -1;
        }
      break;

    case PAL_OP_GAP:
      n.c = a->c;
      n.h = n.w = 1;
      break;

    case PAL_OP_FLATTEN:
      n.c = a->c * a->h * a->w;
      n.h = n.w = 1;
      break;

    case PAL_OP_ADD:
      {
        const PalNode *b = pal_graph_node (g, n.in[1]);

        if (a->c != b->c || a->h != b->h || a->w != b->w)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                         "add '%s': '%s' is %dx%dx%d but '%s' is %dx%dx%d",
                         tmpl->name, a->name, a->c, a->h, a->w,
                         b->name, b->c, b->h, b->w);
            return -1;
          }
        n.c = a->c; n.h = a->h; n.w = a->w;
      }
      break;

    case PAL_OP_DROPOUT:
      if (!(n.p >= 0.f && n.p < 1.f))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "dropout '%s': p must be in [0, 1)", tmpl->name);
          return -1;
        }
      n.c = a->c; n.h = a->h; n.w = a->w;
      break;

    case PAL_OP_RELU:
      if (n.act == PAL_ACT_NONE)
        n.act = PAL_ACT_RELU;
      n.c = a->c; n.h = a->h; n.w = a->w;
      break;

    case PAL_OP_BATCHNORM:
      n.c = a->c; n.h = a->h; n.w = a->w;
      if (n.eps <= 0.f)
        n.eps = 1e-5f;
      if (n.momentum <= 0.f)
        n.momentum = 0.1f;
      n.param[PAL_P_WEIGHT] = add_param (g, tmpl->name, "weight", 1, (gint64[]) { n.c }, TRUE);
      n.param[PAL_P_BIAS] = add_param (g, tmpl->name, "bias", 1, (gint64[]) { n.c }, TRUE);
      n.param[PAL_P_RUNNING_MEAN] = add_param (g, tmpl->name, "running_mean", 1,
                                               (gint64[]) { n.c }, FALSE);
      n.param[PAL_P_RUNNING_VAR] = add_param (g, tmpl->name, "running_var", 1,
                                              (gint64[]) { n.c }, FALSE);
      break;

    default:
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "node '%s': unknown op", tmpl->name);
      return -1;
    }

  if (n.act != PAL_ACT_NONE
      && !(tmpl->op == PAL_OP_CONV2D || tmpl->op == PAL_OP_LINEAR
           || tmpl->op == PAL_OP_BATCHNORM || tmpl->op == PAL_OP_ADD
           || tmpl->op == PAL_OP_RELU))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "node '%s': only conv, linear, batchnorm and add take an activation",
                   tmpl->name);
      return -1;
    }
  if ((gint64) n.c * n.h * n.w > PAL_MAX_ELEMS)
    goto bad_shape;

  n.name = g_strdup (tmpl->name);
  g_array_append_val (g->nodes, n);
  return idx;

bad_window:
  g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
               "node '%s': a %dx%d window with stride %d does not fit the %dx%d input",
               tmpl->name, n.kh, n.kw, n.sh, a->h, a->w);
  return -1;
bad_shape:
  g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
               "node '%s': shape %dx%dx%d is empty or too large", tmpl->name, n.c, n.h, n.w);
  return -1;
}

int
pal_graph_get_n_nodes (const PalGraph *graph)
{
  return (int) graph->nodes->len;
}

int
pal_graph_find (const PalGraph *graph, const char *name)
{
  for (guint i = 0; i < graph->nodes->len; i++)
    if (g_strcmp0 (pal_graph_node (graph, i)->name, name) == 0)
      return (int) i;
  return -1;
}

const char *
pal_graph_node_name (const PalGraph *graph, int node)
{
  return pal_graph_node (graph, node)->name;
}

PalOp
pal_graph_node_op (const PalGraph *graph, int node)
{
  return pal_graph_node (graph, node)->op;
}

void
pal_graph_node_shape (const PalGraph *graph, int node, int *c, int *h, int *w)
{
  const PalNode *n = pal_graph_node (graph, node);

  if (c) *c = n->c;
  if (h) *h = n->h;
  if (w) *w = n->w;
}

int
pal_graph_get_output (const PalGraph *graph)
{
  return (int) graph->nodes->len - 1;
}

int
pal_graph_get_n_classes (const PalGraph *graph)
{
  const PalNode *n = pal_graph_node (graph, pal_graph_get_output (graph));

  return n->c * n->h * n->w;
}

void
pal_graph_input_shape (const PalGraph *graph, int *c, int *h, int *w)
{
  pal_graph_node_shape (graph, 0, c, h, w);
}

int
pal_graph_get_n_params (const PalGraph *graph)
{
  return (int) graph->params->len;
}

gsize
pal_graph_get_n_floats (const PalGraph *graph)
{
  return graph->n_floats;
}

const char *
pal_graph_param_name (const PalGraph *graph, int param)
{
  return pal_graph_param (graph, param)->name;
}

int
pal_graph_param_shape (const PalGraph *graph, int param, gint64 shape[4])
{
  const PalParam *p = pal_graph_param (graph, param);

  for (int i = 0; i < p->ndim; i++)
    shape[i] = p->shape[i];
  return p->ndim;
}

gsize
pal_graph_param_offset (const PalGraph *graph, int param)
{
  return pal_graph_param (graph, param)->offset;
}

gsize
pal_graph_param_numel (const PalGraph *graph, int param)
{
  return pal_graph_param (graph, param)->numel;
}

gboolean
pal_graph_param_trainable (const PalGraph *graph, int param)
{
  return pal_graph_param (graph, param)->trainable;
}

int
pal_graph_find_param (const PalGraph *graph, const char *name)
{
  for (guint i = 0; i < graph->params->len; i++)
    if (g_strcmp0 (pal_graph_param (graph, i)->name, name) == 0)
      return (int) i;
  return -1;
}

void
pal_graph_tail (const PalGraph *g, int node, gboolean *tail)
{
  int n = (int) g->nodes->len;

  for (int i = 0; i < n; i++)
    {
      const PalNode *nd = pal_graph_node (g, i);

      tail[i] = FALSE;
      if (i <= node)
        continue;
      for (int k = 0; k < nd->n_in; k++)
        if (nd->in[k] == node || tail[nd->in[k]])
          tail[i] = TRUE;
    }
}

gboolean
pal_graph_check_attribution_node (const PalGraph *graph, int node,
                                  gboolean training, GError **error)
{
  int n = (int) graph->nodes->len;
  const PalNode *f;
  g_autofree gboolean *tail = NULL;

  if (node < 0 || node >= n)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "no such node (%d)", node);
      return FALSE;
    }
  f = pal_graph_node (graph, node);
  if (node == n - 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "'%s' is the output layer: attribution needs a layer before the logits",
                   f->name);
      return FALSE;
    }
  if (f->h * f->w < 2)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "'%s' has no spatial map (%dx%dx%d): choose a convolution or "
                   "pooling layer", f->name, f->c, f->h, f->w);
      return FALSE;
    }
  tail = g_new0 (gboolean, n);
  pal_graph_tail (graph, node, tail);
  if (!tail[n - 1])
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the logits do not depend on '%s'", f->name);
      return FALSE;
    }
  if (training)
    for (int i = node + 1; i < n; i++)
      if (tail[i] && pal_graph_node (graph, i)->op == PAL_OP_BATCHNORM)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                       "PAL layer '%s' is followed by batch norm '%s', which in "
                       "training form is not piecewise linear, so the gradient "
                       "through the attribution would not be exact; choose a "
                       "layer after the last batch norm, or freeze batch norm "
                       "(inference form) during training",
                       f->name, pal_graph_node (graph, i)->name);
          return FALSE;
        }
  return TRUE;
}

gboolean
pal_graph_grad_is_flat (const PalGraph *graph, int node)
{
  int n = (int) graph->nodes->len;
  const PalNode *f = pal_graph_node (graph, node);
  gboolean any = FALSE;

  if (f->h * f->w < 2)
    return TRUE;
  for (int i = node + 1; i < n; i++)
    {
      const PalNode *nd = pal_graph_node (graph, i);

      for (int k = 0; k < nd->n_in; k++)
        if (nd->in[k] == node)
          {
            if (nd->op != PAL_OP_GAP)
              return FALSE;
            any = TRUE;
          }
    }
  return any;
}

double
pal_graph_node_flops (const PalGraph *graph, int node)
{
  const PalNode *n = pal_graph_node (graph, node);

  if (n->op != PAL_OP_CONV2D && n->op != PAL_OP_LINEAR)
    return 0.0;
  return 2.0 * (double) pal_graph_param (graph, n->param[PAL_P_WEIGHT])->numel * n->h * n->w;
}
