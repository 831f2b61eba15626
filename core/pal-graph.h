/* pal-graph.h: a network as a list of named nodes in topological order
 *
 * A graph starts with one input node (C x H x W per sample) and ends with its
 * last node, whose output is the logits (K x 1 x 1).  Every node has a name
 * unique in the graph; a node's parameters are named "<node>.weight",
 * "<node>.bias", "<node>.running_mean", "<node>.running_var" with PyTorch's
 * layouts (conv weight [Cout, Cin/groups, kh, kw], linear weight [out, in]).
 *
 * Conv, linear, batch norm and add nodes may carry a fused activation
 * (ReLU or LeakyReLU): the node's output is then the activated value, as is
 * everything the attribution code reads at that node.
 *
 * Graphs are usually built from the text form (pal-arch.h); this API is
 * for reading one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PAL_OP_INPUT,
  PAL_OP_CONV2D,
  PAL_OP_LINEAR,
  PAL_OP_RELU,
  PAL_OP_MAXPOOL,
  PAL_OP_AVGPOOL,
  PAL_OP_GAP,        /* global average pool: C x H x W -> C x 1 x 1 */
  PAL_OP_FLATTEN,    /* C x H x W -> CHW x 1 x 1, no copy */
  PAL_OP_ADD,        /* residual sum of two nodes of equal shape */
  PAL_OP_DROPOUT,
  PAL_OP_BATCHNORM,
  PAL_N_OPS
} PalOp;

typedef enum {
  PAL_ACT_NONE,
  PAL_ACT_RELU,
  PAL_ACT_LEAKY,     /* max(x, alpha x) */
} PalAct;

typedef struct _PalGraph PalGraph;

PalGraph   *pal_graph_ref           (PalGraph *graph);
void        pal_graph_unref         (PalGraph *graph);

int         pal_graph_get_n_nodes   (const PalGraph *graph);
/* Index of the node called @name, or -1. */
int         pal_graph_find          (const PalGraph *graph, const char *name);
const char *pal_graph_node_name     (const PalGraph *graph, int node);
PalOp       pal_graph_node_op       (const PalGraph *graph, int node);
/* Output shape of @node for one sample. */
void        pal_graph_node_shape    (const PalGraph *graph, int node, int *c, int *h, int *w);
/* The node whose output is the logits (the last one). */
int         pal_graph_get_output    (const PalGraph *graph);
int         pal_graph_get_n_classes (const PalGraph *graph);
void        pal_graph_input_shape   (const PalGraph *graph, int *c, int *h, int *w);
const char *pal_op_name             (PalOp op);

/* Parameters: one flat float block; each parameter is a slice of it. */
int         pal_graph_get_n_params  (const PalGraph *graph);
gsize       pal_graph_get_n_floats  (const PalGraph *graph);
const char *pal_graph_param_name    (const PalGraph *graph, int param);
/* Returns ndim (1..4); shape[] receives the dims. */
int         pal_graph_param_shape   (const PalGraph *graph, int param, gint64 shape[4]);
gsize       pal_graph_param_offset  (const PalGraph *graph, int param);
gsize       pal_graph_param_numel   (const PalGraph *graph, int param);
/* FALSE for buffers such as batch-norm running statistics. */
gboolean    pal_graph_param_trainable (const PalGraph *graph, int param);
int         pal_graph_find_param    (const PalGraph *graph, const char *name);

/* Is @node usable as a PAL layer / attribution node?  It must have a spatial
 * map (h * w >= 2) and every node after it that depends on it must be
 * piecewise linear in its input when @training (batch norm in training form
 * is not).  On failure, says why in @error. */
gboolean    pal_graph_check_attribution_node (const PalGraph *graph, int node,
                                              gboolean training, GError **error);

/* TRUE when everything after @node that depends on it is only global
 * average pooling, flatten, dropout, linear layers and their activations with
 * no spatial op: the Grad map is then the same at every pixel (flat). */
gboolean    pal_graph_grad_is_flat  (const PalGraph *graph, int node);

/* Floating-point operations (2 per multiply-add) of @node's forward pass for
 * one sample; 0 for nodes without weights.  The backward pass costs the
 * same once for the input gradient and once for the weight gradient. */
double      pal_graph_node_flops    (const PalGraph *graph, int node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalGraph, pal_graph_unref)

G_END_DECLS
