/* pal-graph-private.h: the graph's structures, shared by the core's files */
#pragma once

#include "pal-graph.h"

G_BEGIN_DECLS

enum { PAL_P_WEIGHT, PAL_P_BIAS, PAL_P_RUNNING_MEAN, PAL_P_RUNNING_VAR, PAL_P_N };

typedef struct {
  PalOp   op;
  char   *name;
  int     n_in;
  int     in[2];              /* producer nodes */
  int     c, h, w;            /* output shape, one sample */
  PalAct  act;
  float   alpha;              /* LeakyReLU slope */
  /* conv and pools */
  int     kh, kw, sh, sw;
  int     pt, pl, pb, pr;     /* padding: top, left, bottom, right */
  int     groups;
  gboolean has_bias;
  gboolean count_pad;         /* avg pool divides by the full window */
  float   p;                  /* dropout probability */
  float   eps, momentum;      /* batch norm */
  int     param[PAL_P_N];     /* parameter indices, -1 where absent */
} PalNode;

typedef struct {
  char    *name;
  int      ndim;
  gint64   shape[4];
  gsize    offset;            /* in floats, into the parameter block */
  gsize    numel;
  gboolean trainable;
} PalParam;

struct _PalGraph {
  gatomicrefcount ref;
  GArray *nodes;              /* PalNode */
  GArray *params;             /* PalParam */
  gsize   n_floats;
};

static inline const PalNode *
pal_graph_node (const PalGraph *g, int i)
{
  return &g_array_index (g->nodes, PalNode, i);
}

static inline const PalParam *
pal_graph_param (const PalGraph *g, int i)
{
  return &g_array_index (g->params, PalParam, i);
}

PalGraph *pal_graph_new (void);
/* Appends a node described by @tmpl (op, name, inputs and attributes; shape
 * and params are filled in).  Checks the inputs and computes the output
 * shape.  Returns the node's index or -1 with @error set. */
int       pal_graph_add (PalGraph *g, const PalNode *tmpl, GError **error);

/* Per-node sets used by the executor.  @tail receives, for each node, TRUE
 * when it comes after @node and depends on it. */
void      pal_graph_tail (const PalGraph *g, int node, gboolean *tail);

G_END_DECLS
