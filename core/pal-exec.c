/* pal-exec.c: the executor: forward, backward, the PAL sweep, attribution
 *
 * Buffers, per node i with output size S_i = c h w (one sample):
 *   act[i] [B, S_i]   output of the node (after its fused activation)
 *   d[i]   [B, S_i]   gradient of the loss with respect to act[i]; during the
 *                     backward pass a node with a fused activation masks its
 *                     own d in place, which turns it into the gradient of its
 *                     pre-activation output
 *   g1[i]  [B, S_i]   PAL only, tail nodes and the PAL layer: first-pass
 *                     gradient of sum(logits) (masked in place likewise)
 *   u[i]   [B, S_i]   PAL only: the JVP of v = dPAL/dg pushed forward
 * A flatten node shares all its buffers with its input.
 *
 * A PAL step (see docs/ARCHITECTURE.md for the derivation):
 *   1. forward;                                  logits z, act[]
 *   2. g1 = backward of the tail from ones;      g = g1[F]
 *   3. PAL and v = dPAL/dg, vF = dPAL/dF (Grad*Input only), both times lambda
 *   4. JVP sweep: u[F] = v, u[j] = J_j u[in]; weighted tail node j gets
 *      dW_j += g1_pre[j] (x) u[in_j]
 *   5. full backward of CE from the logits, with vF added into d[F].
 */
#include "pal-exec.h"
#include "pal-error.h"
#include "pal-graph-private.h"
#include "pal-loss.h"
#include "pal-rand.h"
#include "ops/pal-ops.h"

#include <math.h>
#include <string.h>

struct _PalWorkspace {
  PalModel   *model;
  PalGraph   *g;
  int         n_nodes;
  int         max_batch;
  int         n;            /* batch of the last forward */
  gboolean    train;        /* form of the last forward */
  gboolean    bn_frozen;
  guint64     seed;
  guint64     step;         /* forwards in training form, for dropout masks */

  float     **act;
  float     **d;
  float     **g1;
  float     **u;
  gint32    **argmax;
  guint8    **mask;
  float     **bn_mean;
  float     **bn_invstd;
  int        *root;         /* buffer owner: i, or the input of a flatten */
  int        *zero_at;      /* node at which d[root] is cleared in backward */
  gboolean   *needs_grad;   /* a parameter lies at or before the node */
  float      *probs;        /* [B, K] */
  PalScratch  scratch;
  float     **wino_fixed;   /* per conv: Winograd kernel transforms of fixed weights */
  gsize       bytes;
  gsize       bytes_no_tail;  /* bytes before the PAL buffers were added */

  /* PAL */
  gboolean      pal_on;
  PalLossConfig cfg;
  int           c1;
  gboolean     *tail;
  float        *prior;      /* [B, hw] standardised */
  float        *vdirect;    /* [B, C, hw] lambda dPAL/dF (Grad*Input) */
  float        *map;        /* [hw] */
  float        *dmap;       /* [hw] */
};

static gsize
node_size (const PalNode *n)
{
  return (gsize) n->c * n->h * n->w;
}

static float *
alloc_floats (PalWorkspace *ws, gsize n)
{
  float *p = g_try_malloc0 (MAX (n, 1) * sizeof (float));

  ws->bytes += n * sizeof (float);
  return p;
}

static PalConvGeom
conv_geom (const PalNode *n, const PalNode *in)
{
  return (PalConvGeom) { .cin = in->c, .h = in->h, .w = in->w,
                         .cout = n->c, .oh = n->h, .ow = n->w,
                         .kh = n->kh, .kw = n->kw, .sh = n->sh, .sw = n->sw,
                         .pt = n->pt, .pl = n->pl, .groups = n->groups };
}

static PalPoolGeom
pool_geom (const PalNode *n, const PalNode *in)
{
  return (PalPoolGeom) { .h = in->h, .w = in->w, .oh = n->h, .ow = n->w,
                         .kh = n->kh, .kw = n->kw, .sh = n->sh, .sw = n->sw,
                         .pt = n->pt, .pl = n->pl, .count_pad = n->count_pad };
}

static void
free_tail (PalWorkspace *ws)
{
  if (ws->tail)
    ws->bytes = ws->bytes_no_tail;
  for (int i = 0; i < ws->n_nodes; i++)
    if (ws->root[i] == i)
      {
        g_clear_pointer (&ws->g1[i], g_free);
        g_clear_pointer (&ws->u[i], g_free);
      }
  memset (ws->g1, 0, sizeof (float *) * ws->n_nodes);
  memset (ws->u, 0, sizeof (float *) * ws->n_nodes);
  g_clear_pointer (&ws->tail, g_free);
  g_clear_pointer (&ws->prior, g_free);
  g_clear_pointer (&ws->vdirect, g_free);
  g_clear_pointer (&ws->map, g_free);
  g_clear_pointer (&ws->dmap, g_free);
  ws->pal_on = FALSE;
}

void
pal_workspace_free (PalWorkspace *ws)
{
  if (!ws)
    return;
  free_tail (ws);
  for (int i = 0; i < ws->n_nodes; i++)
    {
      if (ws->root[i] == i)
        {
          g_free (ws->act[i]);
          g_free (ws->d[i]);
        }
      g_free (ws->argmax[i]);
      g_free (ws->mask[i]);
      g_free (ws->bn_mean[i]);
      g_free (ws->bn_invstd[i]);
    }
  for (int k = 0; k < ws->scratch.n_workers; k++)
    {
      g_free (ws->scratch.col[k]);
      g_free (ws->scratch.part[k]);
      g_free (ws->scratch.wino[k]);
    }
  g_free (ws->scratch.wino_u);
  if (ws->wino_fixed)
    for (int i = 0; i < ws->n_nodes; i++)
      g_free (ws->wino_fixed[i]);
  g_free (ws->wino_fixed);
  g_free (ws->act);
  g_free (ws->d);
  g_free (ws->g1);
  g_free (ws->u);
  g_free (ws->argmax);
  g_free (ws->mask);
  g_free (ws->bn_mean);
  g_free (ws->bn_invstd);
  g_free (ws->root);
  g_free (ws->zero_at);
  g_free (ws->needs_grad);
  g_free (ws->probs);
  g_clear_pointer (&ws->model, pal_model_unref);
  g_free (ws);
}

PalWorkspace *
pal_workspace_new (PalModel *model, int max_batch, GError **error)
{
  PalWorkspace *ws;
  PalGraph *g = pal_model_get_graph (model);
  int nn = pal_graph_get_n_nodes (g);
  gsize col = 0, part = 0, wino = 0, wino_u = 0;
  gboolean ok = TRUE;

  if (max_batch < 1 || max_batch > 65536)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "batch size %d out of range", max_batch);
      return NULL;
    }

  ws = g_new0 (PalWorkspace, 1);
  ws->model = pal_model_ref (model);
  ws->g = g;
  ws->n_nodes = nn;
  ws->max_batch = max_batch;
  ws->act = g_new0 (float *, nn);
  ws->d = g_new0 (float *, nn);
  ws->g1 = g_new0 (float *, nn);
  ws->u = g_new0 (float *, nn);
  ws->argmax = g_new0 (gint32 *, nn);
  ws->mask = g_new0 (guint8 *, nn);
  ws->bn_mean = g_new0 (float *, nn);
  ws->bn_invstd = g_new0 (float *, nn);
  ws->root = g_new0 (int, nn);
  ws->zero_at = g_new0 (int, nn);
  ws->needs_grad = g_new0 (gboolean, nn);

  for (int i = 0; i < nn; i++)
    {
      const PalNode *n = pal_graph_node (g, i);
      gsize sz = (gsize) max_batch * node_size (n);

      ws->root[i] = n->op == PAL_OP_FLATTEN ? ws->root[n->in[0]] : i;
      ws->zero_at[i] = -1;
      for (int k = 0; k < PAL_P_N; k++)
        if (n->param[k] >= 0)
          ws->needs_grad[i] = TRUE;
      for (int k = 0; k < n->n_in; k++)
        ws->needs_grad[i] |= ws->needs_grad[n->in[k]];

      if (ws->root[i] == i)
        {
          ws->act[i] = alloc_floats (ws, sz);
          ws->d[i] = alloc_floats (ws, sz);   /* d[0]: saliency at the input */
          ok &= ws->act[i] != NULL && ws->d[i] != NULL;
        }
      else
        {
          ws->act[i] = ws->act[ws->root[i]];
          ws->d[i] = ws->d[ws->root[i]];
        }

      switch (n->op)
        {
        case PAL_OP_CONV2D:
          {
            PalConvGeom cg = conv_geom (n, pal_graph_node (g, n->in[0]));
            col = MAX (col, pal_conv2d_col_floats (&cg));
            part = MAX (part, pal_conv2d_part_floats (&cg));
            {
              gsize shared;
              wino = MAX (wino, pal_conv2d_wino_floats (&cg, max_batch, &shared));
              wino_u = MAX (wino_u, shared);
            }
          }
          break;
        case PAL_OP_MAXPOOL:
          ws->argmax[i] = g_try_new (gint32, sz);
          ws->bytes += sz * sizeof (gint32);
          ok &= ws->argmax[i] != NULL;
          break;
        case PAL_OP_DROPOUT:
          ws->mask[i] = g_try_malloc (sz);
          ws->bytes += sz;
          ok &= ws->mask[i] != NULL;
          break;
        case PAL_OP_BATCHNORM:
          ws->bn_mean[i] = alloc_floats (ws, n->c);
          ws->bn_invstd[i] = alloc_floats (ws, n->c);
          break;
        default:
          break;
        }
    }

  /* d[root] is cleared by the first node of the reverse sweep that adds into
   * it: the last (by index) consumer that is not a flatten. */
  for (int j = 0; j < nn; j++)
    {
      const PalNode *n = pal_graph_node (g, j);
      if (n->op == PAL_OP_FLATTEN)
        continue;
      for (int k = 0; k < n->n_in; k++)
        ws->zero_at[ws->root[n->in[k]]] = j;
    }

  ws->scratch.n_workers = pal_get_threads ();
  ws->scratch.col_floats = col;
  ws->scratch.part_floats = part;
  for (int k = 0; k < ws->scratch.n_workers; k++)
    {
      ws->scratch.col[k] = alloc_floats (ws, col);
      ws->scratch.part[k] = alloc_floats (ws, part);
      ok &= ws->scratch.col[k] && ws->scratch.part[k];
      if (wino)
        {
          ws->scratch.wino[k] = alloc_floats (ws, wino);
          ok &= ws->scratch.wino[k] != NULL;
        }
    }
  ws->scratch.wino_floats = wino;
  ws->scratch.wino_u_floats = wino_u;
  if (wino_u)
    {
      ws->scratch.wino_u = alloc_floats (ws, wino_u);
      ok &= ws->scratch.wino_u != NULL;
    }
  ws->probs = alloc_floats (ws, (gsize) max_batch * pal_graph_get_n_classes (g));
  ok &= ws->probs != NULL;

  if (!ok)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "not enough memory for a batch of %d with '%s' (%.0f MB)", max_batch,
                   pal_model_get_arch_name (model), ws->bytes / 1e6);
      pal_workspace_free (ws);
      return NULL;
    }
  ws->seed = 0x5eed;
  return ws;
}

PalModel *
pal_workspace_get_model (PalWorkspace *ws)
{
  return ws->model;
}

int
pal_workspace_get_max_batch (PalWorkspace *ws)
{
  return ws->max_batch;
}

gsize
pal_workspace_get_bytes (PalWorkspace *ws)
{
  return ws->bytes;
}

void
pal_workspace_set_seed (PalWorkspace *ws, guint64 seed)
{
  ws->seed = seed;
  ws->step = 0;
}

void
pal_workspace_set_bn_frozen (PalWorkspace *ws, gboolean frozen)
{
  ws->bn_frozen = frozen;
}

gboolean
pal_workspace_set_weights_fixed (PalWorkspace *ws, gboolean fixed, GError **error)
{
  float *p = pal_model_get_params (ws->model);

  if (ws->wino_fixed)
    for (int i = 0; i < ws->n_nodes; i++)
      g_clear_pointer (&ws->wino_fixed[i], g_free);
  g_clear_pointer (&ws->wino_fixed, g_free);
  if (!fixed)
    return TRUE;

  ws->wino_fixed = g_new0 (float *, ws->n_nodes);
  for (int i = 0; i < ws->n_nodes; i++)
    {
      const PalNode *nd = pal_graph_node (ws->g, i);
      PalConvGeom cg;
      gsize shared = 0;

      if (nd->op != PAL_OP_CONV2D)
        continue;
      cg = conv_geom (nd, pal_graph_node (ws->g, nd->in[0]));
      if (!pal_conv2d_wino_floats (&cg, ws->max_batch, &shared) || !shared)
        continue;
      ws->wino_fixed[i] = g_try_new (float, shared);
      if (!ws->wino_fixed[i])
        {
          pal_workspace_set_weights_fixed (ws, FALSE, NULL);
          g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                       "not enough memory to keep the transformed weights");
          return FALSE;
        }
      pal_conv2d_wino_kernels (ws->wino_fixed[i],
                               p + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset, &cg);
    }
  return TRUE;
}

/* Before a conv node's kernel runs: its fixed transforms, if kept. */
static void
use_fixed_weights (PalWorkspace *ws, int node)
{
  ws->scratch.wino_u_pre = ws->wino_fixed ? ws->wino_fixed[node] : NULL;
}

gboolean
pal_workspace_set_pal (PalWorkspace *ws, const PalLossConfig *cfg, GError **error)
{
  const PalNode *f;
  gsize hw;
  gboolean ok = TRUE;

  if (!cfg)
    {
      free_tail (ws);
      return TRUE;
    }
  if (!pal_graph_check_attribution_node (ws->g, cfg->layer, !ws->bn_frozen, error))
    return FALSE;
  f = pal_graph_node (ws->g, cfg->layer);
  if (cfg->channels == PAL_CHANNELS_FIRST && (cfg->c1 < 0 || cfg->c1 > f->c))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "C1 = %d is out of range for '%s', which has %d channels",
                   cfg->c1, f->name, f->c);
      return FALSE;
    }
  if (!isfinite (cfg->lambda))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "lambda must be a finite number");
      return FALSE;
    }

  free_tail (ws);
  ws->bytes_no_tail = ws->bytes;
  ws->cfg = *cfg;
  ws->c1 = cfg->channels == PAL_CHANNELS_MEAN ? f->c
           : cfg->channels == PAL_CHANNELS_FIRST ? (cfg->c1 ? cfg->c1 : MAX (f->c / 2, 1))
           : 1;
  ws->tail = g_new0 (gboolean, ws->n_nodes);
  pal_graph_tail (ws->g, cfg->layer, ws->tail);
  for (int i = cfg->layer; i < ws->n_nodes; i++)
    {
      if (!(i == cfg->layer || ws->tail[i]))
        continue;
      if (ws->root[i] != i)
        {
          ws->g1[i] = ws->g1[ws->root[i]];
          ws->u[i] = ws->u[ws->root[i]];
          continue;
        }
      gsize sz = (gsize) ws->max_batch * node_size (pal_graph_node (ws->g, i));
      ws->g1[i] = alloc_floats (ws, sz);
      ws->u[i] = alloc_floats (ws, sz);
      ok &= ws->g1[i] && ws->u[i];
    }
  hw = (gsize) f->h * f->w;
  ws->prior = alloc_floats (ws, ws->max_batch * hw);
  ws->vdirect = alloc_floats (ws, ws->max_batch * hw * f->c);
  ws->map = alloc_floats (ws, hw);
  ws->dmap = alloc_floats (ws, hw);
  ok &= ws->prior && ws->vdirect && ws->map && ws->dmap;
  if (!ok)
    {
      free_tail (ws);
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED, "not enough memory for the PAL buffers");
      return FALSE;
    }
  ws->pal_on = TRUE;
  return TRUE;
}

/* --- PAL settings as metadata --------------------------------------------- */

static const char *const attribution_names[] = { "grad", "grad-input" };
static const char *const channel_names[] = { "all", "mean", "first" };

void
pal_loss_config_to_model (const PalLossConfig *cfg, PalModel *model)
{
  PalGraph *g = pal_model_get_graph (model);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *c1 = g_strdup_printf ("%d", cfg->c1);

  pal_model_set_meta (model, "pal.layer", pal_graph_node_name (g, cfg->layer));
  pal_model_set_meta (model, "pal.attribution", attribution_names[cfg->attribution]);
  pal_model_set_meta (model, "pal.channels", channel_names[cfg->channels]);
  pal_model_set_meta (model, "pal.c1", c1);
  pal_model_set_meta (model, "pal.lambda", g_ascii_dtostr (buf, sizeof buf, cfg->lambda));
}

static int
find_name (const char *const *names, int n, const char *s)
{
  for (int i = 0; i < n; i++)
    if (g_strcmp0 (names[i], s) == 0)
      return i;
  return -1;
}

gboolean
pal_loss_config_from_model (PalLossConfig *cfg, PalModel *model, GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  const char *layer = pal_model_get_meta (model, "pal.layer");
  const char *attr = pal_model_get_meta (model, "pal.attribution");
  const char *ch = pal_model_get_meta (model, "pal.channels");
  const char *c1 = pal_model_get_meta (model, "pal.c1");
  const char *lambda = pal_model_get_meta (model, "pal.lambda");
  char *end1 = NULL, *end2 = NULL;
  gint64 c1v = 0;
  double lv = 1.0;
  int c = 0;

  if (!layer)
    return FALSE;
  *cfg = (PalLossConfig) { .layer = pal_graph_find (g, layer) };
  cfg->attribution = find_name (attribution_names, 2, attr ? attr : "grad-input");
  cfg->channels = find_name (channel_names, 3, ch ? ch : "first");
  if (c1)
    c1v = g_ascii_strtoll (c1, &end1, 10);
  if (lambda)
    lv = g_ascii_strtod (lambda, &end2);
  if (cfg->layer >= 0)
    pal_graph_node_shape (g, cfg->layer, &c, NULL, NULL);
  if (cfg->layer < 0 || (int) cfg->attribution < 0 || (int) cfg->channels < 0
      || (c1 && (end1 == c1 || *end1 || c1v < 0 || c1v > c))
      || (lambda && (end2 == lambda || *end2)) || !isfinite (lv))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "the model's PAL settings are invalid (layer '%s', attribution '%s', "
                   "channels '%s', C1 '%s', lambda '%s')", layer, attr ? attr : "",
                   ch ? ch : "", c1 ? c1 : "", lambda ? lambda : "");
      return FALSE;
    }
  cfg->c1 = (int) c1v;
  cfg->lambda = (float) lv;
  return TRUE;
}

/* --- forward ------------------------------------------------------------ */

static gboolean
bn_training (PalWorkspace *ws, gboolean train)
{
  return train && !ws->bn_frozen;
}

static void
forward_node (PalWorkspace *ws, int i, int n, gboolean train)
{
  const PalNode *nd = pal_graph_node (ws->g, i);
  const PalNode *in = nd->n_in ? pal_graph_node (ws->g, nd->in[0]) : NULL;
  const float *x = nd->n_in ? ws->act[nd->in[0]] : NULL;
  float *y = ws->act[i];
  float *p = pal_model_get_params (ws->model);
  const float *w = nd->param[PAL_P_WEIGHT] >= 0 ? p + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset : NULL;
  const float *b = nd->param[PAL_P_BIAS] >= 0 ? p + pal_graph_param (ws->g, nd->param[PAL_P_BIAS])->offset : NULL;
  gsize len = (gsize) n * node_size (nd);

  switch (nd->op)
    {
    case PAL_OP_INPUT:
    case PAL_OP_FLATTEN:
      return;
    case PAL_OP_CONV2D:
      {
        PalConvGeom cg = conv_geom (nd, in);
        use_fixed_weights (ws, i);
        pal_conv2d_forward (y, x, w, b, n, &cg, &ws->scratch);
      }
      break;
    case PAL_OP_LINEAR:
      pal_linear_forward (y, x, w, b, n, (int) node_size (in), nd->c);
      break;
    case PAL_OP_RELU:
      memcpy (y, x, len * sizeof (float));
      break;
    case PAL_OP_MAXPOOL:
      {
        PalPoolGeom pg = pool_geom (nd, in);
        pal_maxpool_forward (y, ws->argmax[i], x, n * nd->c, &pg);
      }
      break;
    case PAL_OP_AVGPOOL:
      {
        PalPoolGeom pg = pool_geom (nd, in);
        pal_avgpool_forward (y, x, n * nd->c, &pg);
      }
      break;
    case PAL_OP_GAP:
      pal_gap_forward (y, x, n * nd->c, in->h * in->w);
      break;
    case PAL_OP_ADD:
      pal_add_forward (y, x, ws->act[nd->in[1]], len);
      break;
    case PAL_OP_DROPOUT:
      if (train && nd->p > 0.f)
        {
          /* mask from (seed, step, node, element): reproducible */
          guint64 base = pal_mix64 (ws->seed ^ pal_mix64 (ws->step * 1000003ull + (guint64) i));
          guint64 thresh = (guint64) ((double) nd->p * 18446744073709551615.0);

          for (gsize k = 0; k < len; k++)
            ws->mask[i][k] = pal_mix64 (base + k) >= thresh;
          pal_dropout_forward (y, x, ws->mask[i], 1.f / (1.f - nd->p), len);
        }
      else
        memcpy (y, x, len * sizeof (float));
      break;
    case PAL_OP_BATCHNORM:
      {
        float *rm = p + pal_graph_param (ws->g, nd->param[PAL_P_RUNNING_MEAN])->offset;
        float *rv = p + pal_graph_param (ws->g, nd->param[PAL_P_RUNNING_VAR])->offset;

        if (bn_training (ws, train))
          pal_bn_forward_train (y, ws->bn_mean[i], ws->bn_invstd[i], rm, rv, x, w, b,
                                n, nd->c, nd->h * nd->w, nd->eps, nd->momentum);
        else
          pal_bn_forward_infer (y, x, w, b, rm, rv, n, nd->c, nd->h * nd->w, nd->eps);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  pal_act_forward (y, len, nd->act, nd->alpha);
}

const float *
pal_workspace_forward (PalWorkspace *ws, const float *x, int n, gboolean train)
{
  const PalNode *in = pal_graph_node (ws->g, 0);

  g_return_val_if_fail (n >= 1 && n <= ws->max_batch, NULL);
  memcpy (ws->act[0], x, (gsize) n * node_size (in) * sizeof (float));
  for (int i = 1; i < ws->n_nodes; i++)
    forward_node (ws, i, n, train);
  ws->n = n;
  ws->train = train;
  if (train)
    ws->step++;
  return ws->act[ws->n_nodes - 1];
}

const float *
pal_workspace_activation (PalWorkspace *ws, int node)
{
  g_return_val_if_fail (node >= 0 && node < ws->n_nodes, NULL);
  return ws->act[node];
}

const float *
pal_workspace_gradient (PalWorkspace *ws, int node)
{
  g_return_val_if_fail (node >= 0 && node < ws->n_nodes, NULL);
  return ws->d[node];
}

/* --- backward ------------------------------------------------------------ */

static gboolean
fused_act (const PalNode *nd)
{
  return nd->act != PAL_ACT_NONE && nd->op != PAL_OP_RELU;
}

/* Backward of node i reading db[i] (its output gradient) and adding into
 * db[in] where want[in] (NULL: where needs_grad), and into @grad (may be
 * NULL) for parameters.  With @lazy_zero, input buffers are cleared first
 * when i is the first writer of the reverse sweep. */
static void
backward_node (PalWorkspace *ws, int i, float **db, const gboolean *want,
               float *grad, gboolean lazy_zero)
{
  const PalNode *nd = pal_graph_node (ws->g, i);
  int n = ws->n;
  gsize len = (gsize) n * node_size (nd);
  float *p = pal_model_get_params (ws->model);
  float *dout = db[i];
  float *din[2] = { NULL, NULL };
  float *dw = NULL, *dbias = NULL;
  const float *w = nd->param[PAL_P_WEIGHT] >= 0 ? p + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset : NULL;
  const PalNode *in = nd->n_in ? pal_graph_node (ws->g, nd->in[0]) : NULL;
  const float *x = nd->n_in ? ws->act[nd->in[0]] : NULL;
  gboolean overwrite = FALSE;

  if (nd->op == PAL_OP_INPUT || nd->op == PAL_OP_FLATTEN)
    return;

  for (int k = 0; k < nd->n_in; k++)
    {
      int src = nd->in[k];
      if (want ? want[src] : ws->needs_grad[src])
        {
          din[k] = db[src];
          /* the first writer of the sweep clears the buffer, or overwrites it */
          if (lazy_zero && ws->zero_at[ws->root[src]] == i)
            {
              if (nd->op == PAL_OP_MAXPOOL && ws->root[src] == src)
                overwrite = TRUE;
              else
                memset (db[ws->root[src]], 0,
                        (gsize) n * node_size (pal_graph_node (ws->g, ws->root[src])) * sizeof (float));
            }
        }
    }
  if (grad && nd->param[PAL_P_WEIGHT] >= 0)
    dw = grad + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset;
  if (grad && nd->param[PAL_P_BIAS] >= 0)
    dbias = grad + pal_graph_param (ws->g, nd->param[PAL_P_BIAS])->offset;

  if (fused_act (nd))
    pal_act_mask (dout, ws->act[i], len, nd->act, nd->alpha);

  switch (nd->op)
    {
    case PAL_OP_CONV2D:
      {
        PalConvGeom cg = conv_geom (nd, in);
        use_fixed_weights (ws, i);
        if (din[0] || dw || dbias)
          pal_conv2d_backward (din[0], dw, dbias, dout, x, w, n, &cg, &ws->scratch);
      }
      break;
    case PAL_OP_LINEAR:
      pal_linear_backward (din[0], dw, dbias, dout, x, w, n, (int) node_size (in), nd->c);
      break;
    case PAL_OP_RELU:
      if (din[0])
        pal_act_backward (din[0], dout, ws->act[i], len, nd->act, nd->alpha);
      break;
    case PAL_OP_MAXPOOL:
      if (din[0])
        {
          PalPoolGeom pg = pool_geom (nd, in);
          pal_maxpool_backward (din[0], dout, ws->argmax[i], n * nd->c, &pg, overwrite);
        }
      break;
    case PAL_OP_AVGPOOL:
      if (din[0])
        {
          PalPoolGeom pg = pool_geom (nd, in);
          pal_avgpool_backward (din[0], dout, n * nd->c, &pg);
        }
      break;
    case PAL_OP_GAP:
      if (din[0])
        pal_gap_backward (din[0], dout, n * nd->c, in->h * in->w);
      break;
    case PAL_OP_ADD:
      for (int k = 0; k < 2; k++)
        if (din[k])
          pal_accumulate (din[k], dout, len);
      break;
    case PAL_OP_DROPOUT:
      if (din[0])
        {
          if (ws->train && nd->p > 0.f)
            pal_dropout_backward (din[0], dout, ws->mask[i], 1.f / (1.f - nd->p), len);
          else
            pal_accumulate (din[0], dout, len);
        }
      break;
    case PAL_OP_BATCHNORM:
      {
        const float *rm = p + pal_graph_param (ws->g, nd->param[PAL_P_RUNNING_MEAN])->offset;
        const float *rv = p + pal_graph_param (ws->g, nd->param[PAL_P_RUNNING_VAR])->offset;

        if (bn_training (ws, ws->train))
          pal_bn_backward_train (din[0], dw, dbias, dout, x, ws->bn_mean[i],
                                 ws->bn_invstd[i], w, n, nd->c, nd->h * nd->w);
        else
          pal_bn_backward_infer (din[0], dw, dbias, dout, x, w, rm, rv,
                                 n, nd->c, nd->h * nd->w, nd->eps);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* First-pass gradient of the target over the tail of @node into db[], which
 * must hold buffers for @node and its tail.  Seed: the sum of the logits, or
 * one class.  Only input gradients. */
static void
tail_backward (PalWorkspace *ws, int node, const gboolean *tail, float **db, int target)
{
  int out = ws->n_nodes - 1, n = ws->n, K = pal_graph_get_n_classes (ws->g);
  g_autofree gboolean *want = g_new0 (gboolean, ws->n_nodes);

  for (int i = node; i < ws->n_nodes; i++)
    if (i == node || tail[i])
      {
        want[i] = TRUE;
        if (ws->root[i] == i)
          memset (db[i], 0, (gsize) n * node_size (pal_graph_node (ws->g, i)) * sizeof (float));
      }
  for (int s = 0; s < n; s++)
    for (int k = 0; k < K; k++)
      db[out][(gsize) s * K + k] = (target == PAL_TARGET_SUM || target == k) ? 1.f : 0.f;
  for (int i = out; i > node; i--)
    if (tail[i])
      backward_node (ws, i, db, want, NULL, FALSE);
}

/* --- the PAL term ---------------------------------------------------------- */

/* Computes the mean PAL over the batch from g = g1[F], F = act[F] and the
 * standardised prior; writes u[F] = lambda dPAL/dg and, for Grad*Input,
 * vdirect = lambda dPAL/dF. */
static double
pal_term (PalWorkspace *ws)
{
  const PalNode *f = pal_graph_node (ws->g, ws->cfg.layer);
  int n = ws->n, C = f->c, hw = f->h * f->w, c1 = ws->c1;
  gboolean gi = ws->cfg.attribution == PAL_ATTR_GRAD_INPUT;
  const float *G = ws->g1[ws->cfg.layer], *F = ws->act[ws->cfg.layer];
  float *V = ws->u[ws->cfg.layer], *VF = ws->vdirect;
  double lambda = ws->cfg.lambda, total = 0.0;

  for (int s = 0; s < n; s++)
    {
      const float *pr = ws->prior + (gsize) s * hw;
      gsize base = (gsize) s * C * hw;

      if (ws->cfg.channels == PAL_CHANNELS_ALL)
        {
          for (int c = 0; c < C; c++)
            {
              const float *gc = G + base + (gsize) c * hw, *fc = F + base + (gsize) c * hw;
              float *vc = V + base + (gsize) c * hw, *vfc = VF + base + (gsize) c * hw;

              for (int k = 0; k < hw; k++)
                {
                  ws->map[k] = fabsf (gc[k]) * (gi ? fc[k] : 1.f);
                  ws->dmap[k] = 0.f;
                }
              total += pal_corr_loss (ws->map, pr, hw, ws->dmap, lambda / ((double) C * n)) / C;
              for (int k = 0; k < hw; k++)
                {
                  float sg = gc[k] > 0.f ? 1.f : gc[k] < 0.f ? -1.f : 0.f;
                  vc[k] = ws->dmap[k] * sg * (gi ? fc[k] : 1.f);
                  vfc[k] = gi ? ws->dmap[k] * fabsf (gc[k]) : 0.f;
                }
            }
          continue;
        }

      for (int k = 0; k < hw; k++)
        {
          ws->map[k] = 0.f;
          ws->dmap[k] = 0.f;
        }
      for (int c = 0; c < c1; c++)
        {
          const float *gc = G + base + (gsize) c * hw, *fc = F + base + (gsize) c * hw;
          for (int k = 0; k < hw; k++)
            ws->map[k] += fabsf (gc[k]) * (gi ? fc[k] : 1.f);
        }
      for (int k = 0; k < hw; k++)
        ws->map[k] /= (float) c1;
      total += pal_corr_loss (ws->map, pr, hw, ws->dmap, lambda / ((double) c1 * n));
      for (int c = 0; c < C; c++)
        {
          const float *gc = G + base + (gsize) c * hw, *fc = F + base + (gsize) c * hw;
          float *vc = V + base + (gsize) c * hw, *vfc = VF + base + (gsize) c * hw;

          for (int k = 0; k < hw; k++)
            {
              float dm = c < c1 ? ws->dmap[k] : 0.f;
              float sg = gc[k] > 0.f ? 1.f : gc[k] < 0.f ? -1.f : 0.f;
              vc[k] = dm * sg * (gi ? fc[k] : 1.f);
              vfc[k] = gi ? dm * fabsf (gc[k]) : 0.f;
            }
        }
    }
  return total / n;
}

/* JVP sweep of u from the PAL layer through the tail, adding the PAL weight
 * gradients into @grad. */
static void
jvp_sweep (PalWorkspace *ws, float *grad)
{
  int F = ws->cfg.layer, n = ws->n;
  float *p = pal_model_get_params (ws->model);

  for (int i = F + 1; i < ws->n_nodes; i++)
    {
      const PalNode *nd = pal_graph_node (ws->g, i);
      const PalNode *in;
      gsize len = (gsize) n * node_size (nd);
      float *u = ws->u[i];
      const float *uin = NULL, *uin2 = NULL, *w = NULL, *rv = NULL;
      float *dw = NULL;

      if (!ws->tail[i])
        continue;
      in = pal_graph_node (ws->g, nd->in[0]);
      if (nd->in[0] == F || ws->tail[nd->in[0]])
        uin = ws->u[nd->in[0]];
      if (nd->n_in > 1 && (nd->in[1] == F || ws->tail[nd->in[1]]))
        uin2 = ws->u[nd->in[1]];
      if (nd->param[PAL_P_WEIGHT] >= 0)
        {
          w = p + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset;
          dw = grad + pal_graph_param (ws->g, nd->param[PAL_P_WEIGHT])->offset;
        }
      if (nd->param[PAL_P_RUNNING_VAR] >= 0)
        rv = p + pal_graph_param (ws->g, nd->param[PAL_P_RUNNING_VAR])->offset;

      switch (nd->op)
        {
        case PAL_OP_FLATTEN:
          continue;   /* shares u with its input */
        case PAL_OP_CONV2D:
          {
            PalConvGeom cg = conv_geom (nd, in);
            use_fixed_weights (ws, i);
            pal_conv2d_forward (u, uin, w, NULL, n, &cg, &ws->scratch);
            pal_conv2d_backward (NULL, dw, NULL, ws->g1[i], uin, NULL, n, &cg, &ws->scratch);
          }
          break;
        case PAL_OP_LINEAR:
          pal_linear_forward (u, uin, w, NULL, n, (int) node_size (in), nd->c);
          pal_linear_backward (NULL, dw, NULL, ws->g1[i], uin, NULL, n, (int) node_size (in), nd->c);
          break;
        case PAL_OP_BATCHNORM:
          /* inference form only (checked in set_pal) */
          pal_bn_forward_infer (u, uin, w, NULL, NULL, rv, n, nd->c, nd->h * nd->w, nd->eps);
          pal_bn_backward_infer (NULL, dw, NULL, ws->g1[i], uin, w, NULL, rv,
                                 n, nd->c, nd->h * nd->w, nd->eps);
          break;
        case PAL_OP_RELU:
          memcpy (u, uin, len * sizeof (float));
          break;
        case PAL_OP_MAXPOOL:
          {
            PalPoolGeom pg = pool_geom (nd, in);
            pal_maxpool_gather (u, uin, ws->argmax[i], n * nd->c, &pg);
          }
          break;
        case PAL_OP_AVGPOOL:
          {
            PalPoolGeom pg = pool_geom (nd, in);
            pal_avgpool_forward (u, uin, n * nd->c, &pg);
          }
          break;
        case PAL_OP_GAP:
          pal_gap_forward (u, uin, n * nd->c, in->h * in->w);
          break;
        case PAL_OP_ADD:
          if (uin && uin2)
            pal_add_forward (u, uin, uin2, len);
          else
            memcpy (u, uin ? uin : uin2, len * sizeof (float));
          break;
        case PAL_OP_DROPOUT:
          if (ws->train && nd->p > 0.f)
            pal_dropout_forward (u, uin, ws->mask[i], 1.f / (1.f - nd->p), len);
          else
            memcpy (u, uin, len * sizeof (float));
          break;
        default:
          g_assert_not_reached ();
        }
      pal_act_mask (u, ws->act[i], len, nd->act, nd->alpha);
    }
}

gboolean
pal_workspace_grads (PalWorkspace *ws, const float *x, const gint32 *labels,
                     const float *priors, int ph, int pw, int n,
                     float *grad, PalLosses *out, GError **error)
{
  int K = pal_graph_get_n_classes (ws->g), o = ws->n_nodes - 1;
  gboolean pal = ws->pal_on;
  const PalNode *f = pal ? pal_graph_node (ws->g, ws->cfg.layer) : NULL;
  PalLosses res = { 0 };

  g_return_val_if_fail (n >= 1 && n <= ws->max_batch, FALSE);
  if (ws->wino_fixed)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "this workspace keeps the weights fixed; it cannot train them");
      return FALSE;
    }
  for (int s = 0; s < n; s++)
    if (labels[s] < 0 || labels[s] >= K)
      {
        g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                     "label %d of sample %d is not a class (0..%d)", labels[s], s, K - 1);
        return FALSE;
      }
  if (pal && (!priors || ph < 1 || pw < 1))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "PAL needs a prior heatmap for every sample");
      return FALSE;
    }

  memset (grad, 0, pal_graph_get_n_floats (ws->g) * sizeof (float));
  pal_workspace_forward (ws, x, n, TRUE);
  res.ce = pal_softmax_ce (ws->probs, ws->d[o], ws->act[o], labels, n, K, &res.n_correct);

  if (pal)
    {
      int hw = f->h * f->w;

      for (int s = 0; s < n; s++)
        {
          float *pr = ws->prior + (gsize) s * hw;
          pal_map_resize_area (pr, f->h, f->w, priors + (gsize) s * ph * pw, ph, pw);
          pal_map_standardise (pr, hw);
        }
      tail_backward (ws, ws->cfg.layer, ws->tail, ws->g1, PAL_TARGET_SUM);
      res.pal = pal_term (ws);
      jvp_sweep (ws, grad);
    }
  res.loss = res.ce + (pal ? ws->cfg.lambda * res.pal : 0.0);

  /* full backward of CE, with lambda dPAL/dF joining at the PAL layer */
  for (int i = o; i > 0; i--)
    {
      if (pal && i == ws->cfg.layer && ws->cfg.attribution == PAL_ATTR_GRAD_INPUT)
        pal_accumulate (ws->d[i], ws->vdirect, (gsize) n * node_size (f));
      if (ws->needs_grad[i])
        backward_node (ws, i, ws->d, NULL, grad, TRUE);
    }

  if (out)
    *out = res;
  if (!isfinite (res.loss))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_NUMERIC,
                   "the loss is %s (cross-entropy %g, PAL %g)",
                   isnan (res.loss) ? "NaN" : "infinite", res.ce, res.pal);
      return FALSE;
    }
  return TRUE;
}

/* --- attribution ------------------------------------------------------------ */

void
pal_attr_maps_free (PalAttrMaps *maps)
{
  if (!maps)
    return;
  g_free (maps->grad_first);
  g_free (maps->probs);
  g_free (maps);
}

static gboolean
check_node (PalWorkspace *ws, const float *x, int n, int node, int target, GError **error)
{
  int K = pal_graph_get_n_classes (ws->g);

  if (!x || n < 1 || n > ws->max_batch)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "batch of %d images does not fit a workspace of %d", n, ws->max_batch);
      return FALSE;
    }
  if (target != PAL_TARGET_SUM && (target < 0 || target >= K))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "class %d does not exist (the model has %d)", target, K);
      return FALSE;
    }
  return pal_graph_check_attribution_node (ws->g, node, FALSE, error);
}

PalAttrMaps *
pal_workspace_attribute (PalWorkspace *ws, const float *x, int n, int node,
                         int target, int c1, GError **error)
{
  g_autofree gboolean *tail = NULL;
  const PalNode *f;
  PalAttrMaps *m;
  int hw, K = pal_graph_get_n_classes (ws->g);
  gsize plane;

  if (!check_node (ws, x, n, node, target, error))
    return NULL;
  f = pal_graph_node (ws->g, node);
  if (c1 < 0 || c1 > f->c)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "C1 = %d is out of range for '%s', which has %d channels", c1, f->name, f->c);
      return NULL;
    }
  if (c1 == 0)
    c1 = MAX (f->c / 2, 1);
  hw = f->h * f->w;

  pal_workspace_forward (ws, x, n, FALSE);
  tail = g_new0 (gboolean, ws->n_nodes);
  pal_graph_tail (ws->g, node, tail);
  tail_backward (ws, node, tail, ws->d, target);

  m = g_new0 (PalAttrMaps, 1);
  m->n = n; m->c = f->c; m->h = f->h; m->w = f->w; m->c1 = c1; m->n_classes = K;
  m->flat = pal_graph_grad_is_flat (ws->g, node);
  plane = (gsize) n * hw;
  /* one block for the six maps */
  m->grad_first = g_new0 (float, 6 * plane);
  m->grad_rest = m->grad_first + plane;
  m->grad_all = m->grad_first + 2 * plane;
  m->gi_first = m->grad_first + 3 * plane;
  m->gi_rest = m->grad_first + 4 * plane;
  m->gi_all = m->grad_first + 5 * plane;
  m->probs = g_new (float, (gsize) n * K);
  pal_softmax (m->probs, ws->act[ws->n_nodes - 1], n, K);

  for (int s = 0; s < n; s++)
    for (int c = 0; c < f->c; c++)
      {
        const float *gc = ws->d[node] + ((gsize) s * f->c + c) * hw;
        const float *fc = ws->act[node] + ((gsize) s * f->c + c) * hw;
        float *gm = (c < c1 ? m->grad_first : m->grad_rest) + (gsize) s * hw;
        float *gim = (c < c1 ? m->gi_first : m->gi_rest) + (gsize) s * hw;

        for (int k = 0; k < hw; k++)
          {
            float a = fabsf (gc[k]);
            gm[k] += a;
            gim[k] += a * fc[k];
          }
      }
  for (gsize k = 0; k < plane; k++)
    {
      m->grad_all[k] = m->grad_first[k] + m->grad_rest[k];
      m->gi_all[k] = m->gi_first[k] + m->gi_rest[k];
    }
  return m;
}

gboolean
pal_workspace_gradcam (PalWorkspace *ws, const float *x, int n, int node,
                       int klass, float *cam, float *probs, GError **error)
{
  g_autofree gboolean *tail = NULL;
  const PalNode *f;
  int hw;

  if (klass == PAL_TARGET_SUM)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "Grad-CAM needs one class");
      return FALSE;
    }
  if (!check_node (ws, x, n, node, klass, error))
    return FALSE;
  f = pal_graph_node (ws->g, node);
  hw = f->h * f->w;

  pal_workspace_forward (ws, x, n, FALSE);
  tail = g_new0 (gboolean, ws->n_nodes);
  pal_graph_tail (ws->g, node, tail);
  tail_backward (ws, node, tail, ws->d, klass);
  if (probs)
    pal_softmax (probs, ws->act[ws->n_nodes - 1], n, pal_graph_get_n_classes (ws->g));

  for (int s = 0; s < n; s++)
    {
      float *out = cam + (gsize) s * hw;

      memset (out, 0, hw * sizeof (float));
      for (int c = 0; c < f->c; c++)
        {
          const float *gc = ws->d[node] + ((gsize) s * f->c + c) * hw;
          const float *fc = ws->act[node] + ((gsize) s * f->c + c) * hw;
          double alpha = 0.0;

          for (int k = 0; k < hw; k++)
            alpha += gc[k];
          alpha /= hw;
          for (int k = 0; k < hw; k++)
            out[k] += (float) alpha * fc[k];
        }
      for (int k = 0; k < hw; k++)
        out[k] = MAX (out[k], 0.f);
    }
  return TRUE;
}
