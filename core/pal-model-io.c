/* pal-model-io.c: model <-> safetensors */
#include "pal-model-io.h"
#include "pal-arch.h"
#include "pal-error.h"
#include "pal-safetensors.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define FORMAT_TAG "pal-studio-model/1"
/* Parameters up to this size are allocated before the file is known to
 * hold them all. */
#define MODEL_CHECK_BYTES (16u << 20)

static char *
classes_to_json (PalModel *model)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (int k = 0; k < pal_model_get_n_classes (model); k++)
    json_builder_add_string_value (b, pal_model_get_class_name (model, k));
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

gboolean
pal_model_save (PalModel *model, const char *path, GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  float *params = pal_model_get_params (model);
  g_autoptr (PalStWriter) w = pal_st_writer_new ();
  g_autofree char *classes = classes_to_json (model);
  GHashTableIter it;
  gpointer key, value;
  g_autoptr (GError) local = NULL;

  g_hash_table_iter_init (&it, pal_model_get_meta_table (model));
  while (g_hash_table_iter_next (&it, &key, &value))
    pal_st_writer_set_metadata (w, key, value);
  pal_st_writer_set_metadata (w, "format", FORMAT_TAG);
  pal_st_writer_set_metadata (w, "arch", pal_model_get_arch_text (model));
  pal_st_writer_set_metadata (w, "arch_name", pal_model_get_arch_name (model));
  pal_st_writer_set_metadata (w, "classes", classes);

  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      gint64 shape[4];
      int nd = pal_graph_param_shape (g, p, shape);

      pal_st_writer_add (w, pal_graph_param_name (g, p), "F32", nd, shape,
                         params + pal_graph_param_offset (g, p));
    }
  if (!pal_st_writer_save (w, path, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_classes (PalModel *model, const char *path, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree const char **names = NULL;
  JsonArray *arr;
  int k = pal_model_get_n_classes (model);

  if (!json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    goto bad;
  arr = json_node_get_array (json_parser_get_root (parser));
  if ((int) json_array_get_length (arr) != k)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
                   "%s: %u class names for a model with %d outputs", path,
                   json_array_get_length (arr), k);
      return FALSE;
    }
  names = g_new0 (const char *, k + 1);
  for (int i = 0; i < k; i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        goto bad;
      names[i] = json_node_get_string (n);
    }
  pal_model_set_class_names (model, names);
  return TRUE;

bad:
  g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE,
               "%s: metadata 'classes' is not a JSON array of names", path);
  return FALSE;
}

/* The parameter count of @arch as pal_model_new() reads it (a built-in
 * NAME or NAME@SIZE, or the text), without allocating them; 0 if it does
 * not parse (pal_model_new() then says why). */
static gsize
arch_n_floats (const char *arch)
{
  g_autofree char *text = NULL;

  if (strchr (arch, '\n') == NULL)
    {
      const char *at = strchr (arch, '@');
      g_autofree char *name = at ? g_strndup (arch, at - arch) : g_strdup (arch);
      char *end = NULL;
      gint64 size = at ? g_ascii_strtoll (at + 1, &end, 10) : 0;

      if ((at && (end == at + 1 || *end != '\0')) || size < 0 || size > G_MAXINT)
        return 0;
      text = pal_arch_builtin_text (name, (int) size, 0, NULL);
      if (!text)
        return 0;
    }
  g_autoptr (PalGraph) graph = pal_arch_parse (text ? text : arch, NULL);
  return graph ? pal_graph_get_n_floats (graph) : 0;
}

PalModel *
pal_model_load (const char *path, const char *arch, GError **error)
{
  g_autoptr (PalSafetensors) st = NULL;
  g_autoptr (PalModel) model = NULL;
  g_autoptr (GError) local = NULL;
  const char *file_arch, *classes;
  PalGraph *g;
  float *params;
  GHashTableIter it;
  gpointer key, value;

  st = pal_safetensors_open (path, &local);
  if (!st)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_PARSE, "%s", local->message);
      return NULL;
    }
  file_arch = pal_safetensors_get_metadata (st, "arch");
  if (!file_arch && !arch)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "%s holds weights without an architecture: name one "
                   "(for example --arch bench-vgg)", path);
      return NULL;
    }
  /* The file's own architecture: a large one with more weights than the
   * file holds is refused before they are allocated (a small one goes on,
   * for the message naming the missing tensor). */
  guint64 have = 0;
  for (guint i = 0; i < pal_safetensors_get_n_tensors (st); i++)
    have += pal_safetensors_get_nth (st, i)->nbytes;
  gsize need = arch ? 0 : arch_n_floats (file_arch);
  if ((guint64) need * sizeof (float) > have
      && (guint64) need * sizeof (float) > MODEL_CHECK_BYTES)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE,
                   "%s: the architecture has %" G_GSIZE_FORMAT " parameters (%"
                   G_GUINT64_FORMAT " bytes) but the file holds %" G_GUINT64_FORMAT
                   " bytes of tensors", path, need, (guint64) need * sizeof (float), have);
      return NULL;
    }
  model = pal_model_new (arch ? arch : file_arch, &local);
  if (!model)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "%s: %s", path, local->message);
      return NULL;
    }
  if (file_arch && !arch)
    {
      const char *name = pal_safetensors_get_metadata (st, "arch_name");
      /* keep the built-in name the model was made with */
      if (name && g_strcmp0 (name, "custom") != 0)
        {
          /* with its input size: "resnet18@64" */
          int c, h, w;
          g_autofree char *sized = NULL;
          PalModel *named;

          pal_graph_input_shape (pal_model_get_graph (model), &c, &h, &w);
          sized = g_strdup_printf ("%s@%d", name, h);
          named = pal_model_new (sized, NULL);
          if (named && g_strcmp0 (pal_model_get_arch_text (named), file_arch) == 0)
            {
              pal_model_unref (model);
              model = named;
            }
          else if (named)
            pal_model_unref (named);
        }
    }

  g = pal_model_get_graph (model);
  params = pal_model_get_params (model);
  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      gint64 shape[4];
      int nd = pal_graph_param_shape (g, p, shape);
      const char *name = pal_graph_param_name (g, p);

      if (!pal_safetensors_lookup (st, name))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE,
                       "%s: tensor '%s' of the %s architecture is missing", path, name,
                       pal_model_get_arch_name (model));
          return NULL;
        }
      if (!pal_safetensors_read_f32 (st, name, nd, shape,
                                     params + pal_graph_param_offset (g, p), &local))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_SHAPE, "%s", local->message);
          return NULL;
        }
    }

  classes = pal_safetensors_get_metadata (st, "classes");
  if (classes && !load_classes (model, path, classes, error))
    return NULL;

  g_hash_table_iter_init (&it, pal_safetensors_get_metadata_table (st));
  while (g_hash_table_iter_next (&it, &key, &value))
    if (!g_str_equal (key, "format") && !g_str_equal (key, "arch")
        && !g_str_equal (key, "arch_name") && !g_str_equal (key, "classes"))
      pal_model_set_meta (model, key, value);
  return g_steal_pointer (&model);
}
