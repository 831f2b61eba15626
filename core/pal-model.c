/* pal-model.c: graph + parameters + names */
#include "pal-model.h"
#include "pal-arch.h"
#include "pal-error.h"
#include "pal-graph-private.h"
#include "pal-rand.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const pal_expression_classes[7] = {
  "neutral", "happy", "sad", "surprise", "fear", "disgust", "anger",
};

struct _PalModel {
  gatomicrefcount ref;
  PalGraph   *graph;
  char       *arch_name;
  char       *arch_text;
  float      *params;
  char      **classes;
  GHashTable *meta;
};

static gboolean
split_builtin (const char *arch, char **name, int *size)
{
  const char *at = strchr (arch, '@');
  char *end;

  *size = 0;
  if (!at)
    {
      *name = g_strdup (arch);
      return TRUE;
    }
  *name = g_strndup (arch, at - arch);
  *size = (int) strtol (at + 1, &end, 10);
  return end != at + 1 && *end == 0;
}

PalModel *
pal_model_new (const char *arch, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  PalGraph *graph;
  PalModel *m;
  int n_classes;

  g_return_val_if_fail (arch != NULL, NULL);

  if (strchr (arch, '\n') == NULL)
    {
      int size;

      if (!split_builtin (arch, &name, &size))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "bad architecture '%s' (expected NAME or NAME@SIZE)", arch);
          return NULL;
        }
      text = pal_arch_builtin_text (name, size, 0, error);
      if (!text)
        return NULL;
    }
  else
    {
      text = g_strdup (arch);
      name = g_strdup ("custom");
    }

  graph = pal_arch_parse (text, error);
  if (!graph)
    return NULL;

  m = g_new0 (PalModel, 1);
  g_atomic_ref_count_init (&m->ref);
  m->graph = graph;
  m->arch_name = g_steal_pointer (&name);
  m->arch_text = g_steal_pointer (&text);
  m->params = g_try_new0 (float, MAX (pal_graph_get_n_floats (graph), 1));
  m->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  n_classes = pal_graph_get_n_classes (graph);
  m->classes = g_new0 (char *, n_classes + 1);
  for (int k = 0; k < n_classes; k++)
    m->classes[k] = n_classes == 7 ? g_strdup (pal_expression_classes[k])
                                   : g_strdup_printf ("class%d", k);
  if (!m->params)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_FAILED,
                   "not enough memory for the %" G_GSIZE_FORMAT " parameters of '%s'",
                   pal_graph_get_n_floats (graph), m->arch_name);
      pal_model_unref (m);
      return NULL;
    }
  return m;
}

PalModel *
pal_model_ref (PalModel *model)
{
  g_atomic_ref_count_inc (&model->ref);
  return model;
}

void
pal_model_unref (PalModel *model)
{
  if (model && g_atomic_ref_count_dec (&model->ref))
    {
      pal_graph_unref (model->graph);
      g_free (model->arch_name);
      g_free (model->arch_text);
      g_free (model->params);
      g_strfreev (model->classes);
      g_hash_table_unref (model->meta);
      g_free (model);
    }
}

PalGraph *
pal_model_get_graph (PalModel *model)
{
  return model->graph;
}

const char *
pal_model_get_arch_name (PalModel *model)
{
  return model->arch_name;
}

const char *
pal_model_get_arch_text (PalModel *model)
{
  return model->arch_text;
}

float *
pal_model_get_params (PalModel *model)
{
  return model->params;
}

float *
pal_model_lookup (PalModel *model, const char *name, gsize *numel)
{
  int p = pal_graph_find_param (model->graph, name);

  if (p < 0)
    return NULL;
  if (numel)
    *numel = pal_graph_param (model->graph, p)->numel;
  return model->params + pal_graph_param (model->graph, p)->offset;
}

void
pal_model_init (PalModel *model, guint64 seed)
{
  PalGraph *g = model->graph;

  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    {
      const PalNode *n = pal_graph_node (g, i);
      /* each node draws from its own stream: adding a node elsewhere does
       * not change the others' weights */
      guint64 s = seed ^ (g_str_hash (n->name) * 0x9e3779b97f4a7c15ull);

      for (int k = 0; k < PAL_P_N; k++)
        {
          const PalParam *p;
          float *v;

          if (n->param[k] < 0)
            continue;
          p = pal_graph_param (g, n->param[k]);
          v = model->params + p->offset;
          if (n->op == PAL_OP_BATCHNORM)
            {
              float val = (k == PAL_P_WEIGHT || k == PAL_P_RUNNING_VAR) ? 1.f : 0.f;
              for (gsize j = 0; j < p->numel; j++)
                v[j] = val;
            }
          else if (k == PAL_P_WEIGHT)
            {
              gsize fan_in = p->numel / (gsize) p->shape[0];
              double sd = sqrt (2.0 / (double) fan_in);
              for (gsize j = 0; j < p->numel; j++)
                v[j] = (float) (sd * pal_rand_normal (&s));
            }
          else
            memset (v, 0, sizeof (float) * p->numel);
        }
    }
}

int
pal_model_get_n_classes (PalModel *model)
{
  return pal_graph_get_n_classes (model->graph);
}

const char *
pal_model_get_class_name (PalModel *model, int k)
{
  g_return_val_if_fail (k >= 0 && k < pal_model_get_n_classes (model), NULL);
  return model->classes[k];
}

void
pal_model_set_class_names (PalModel *model, const char *const *names)
{
  int n = pal_model_get_n_classes (model);

  for (int k = 0; k < n; k++)
    {
      g_free (model->classes[k]);
      model->classes[k] = g_strdup (names[k]);
    }
}

const char *
pal_model_get_meta (PalModel *model, const char *key)
{
  return g_hash_table_lookup (model->meta, key);
}

void
pal_model_set_meta (PalModel *model, const char *key, const char *value)
{
  if (value)
    g_hash_table_insert (model->meta, g_strdup (key), g_strdup (value));
  else
    g_hash_table_remove (model->meta, key);
}

GHashTable *
pal_model_get_meta_table (PalModel *model)
{
  return model->meta;
}

static gboolean
parse_triple (const char *s, float v[3])
{
  g_auto (GStrv) p = NULL;

  if (!s)
    return FALSE;
  p = g_strsplit (s, ",", -1);
  if (g_strv_length (p) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      char *end;
      v[i] = (float) g_ascii_strtod (p[i], &end);
      if (end == p[i] || !isfinite (v[i]))
        return FALSE;
    }
  return TRUE;
}

void
pal_model_get_normalisation (PalModel *model, float mean[3], float std[3])
{
  static const float im_mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float im_std[3] = { 0.229f, 0.224f, 0.225f };

  if (!parse_triple (pal_model_get_meta (model, "input.mean"), mean))
    memcpy (mean, im_mean, sizeof im_mean);
  if (!parse_triple (pal_model_get_meta (model, "input.std"), std)
      || std[0] <= 0.f || std[1] <= 0.f || std[2] <= 0.f)
    memcpy (std, im_std, sizeof im_std);
}
