/* pal-arch.c: the text form of architectures and the built-in ones */
#include "pal-arch.h"
#include "pal-graph-private.h"
#include "pal-error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *op;
  PalOp       id;
} ops[] = {
  { "input", PAL_OP_INPUT },     { "conv", PAL_OP_CONV2D },
  { "linear", PAL_OP_LINEAR },   { "relu", PAL_OP_RELU },
  { "maxpool", PAL_OP_MAXPOOL }, { "avgpool", PAL_OP_AVGPOOL },
  { "gap", PAL_OP_GAP },         { "flatten", PAL_OP_FLATTEN },
  { "add", PAL_OP_ADD },         { "dropout", PAL_OP_DROPOUT },
  { "batchnorm", PAL_OP_BATCHNORM },
};

static gboolean
parse_int (const char *s, int lo, int hi, int *out)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
parse_float (const char *s, float *out)
{
  char *end;
  double v = g_ascii_strtod (s, &end);

  if (end == s || *end || !(v > -1e30 && v < 1e30))
    return FALSE;
  *out = (float) v;
  return TRUE;
}

/* "3" -> (3, 3); "3x5" -> (3, 5) */
static gboolean
parse_pair (const char *s, int lo, int *a, int *b)
{
  g_auto (GStrv) parts = g_strsplit (s, "x", -1);
  guint n = g_strv_length (parts);

  if (n == 1)
    {
      if (!parse_int (parts[0], lo, 65536, a))
        return FALSE;
      *b = *a;
      return TRUE;
    }
  return n == 2 && parse_int (parts[0], lo, 65536, a) && parse_int (parts[1], lo, 65536, b);
}

static gboolean
parse_act (const char *s, PalNode *n)
{
  if (strcmp (s, "relu") == 0)
    n->act = PAL_ACT_RELU;
  else if (strcmp (s, "none") == 0)
    n->act = PAL_ACT_NONE;
  else if (g_str_has_prefix (s, "leaky:"))
    {
      n->act = PAL_ACT_LEAKY;
      return parse_float (s + 6, &n->alpha) && n->alpha >= 0.f && n->alpha < 1.f;
    }
  else
    return FALSE;
  return TRUE;
}

static gboolean
valid_name (const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && !strchr ("_.-:/", *s))
      return FALSE;
  return TRUE;
}

/* One key=value of a node's line. */
static gboolean
apply_key (PalGraph *g, PalNode *n, const char *key, const char *val, GError **error)
{
  gboolean ok = TRUE;
  PalOp op = n->op;
  gboolean window = op == PAL_OP_CONV2D || op == PAL_OP_MAXPOOL || op == PAL_OP_AVGPOOL;

  if (strcmp (key, "in") == 0 && op != PAL_OP_INPUT)
    {
      g_auto (GStrv) names = g_strsplit (val, ",", -1);
      n->n_in = (int) g_strv_length (names);
      if (n->n_in < 1 || n->n_in > 2)
        ok = FALSE;
      for (int i = 0; ok && i < n->n_in; i++)
        if ((n->in[i] = pal_graph_find (g, names[i])) < 0)
          {
            g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "no node named '%s' before '%s'",
                         names[i], n->name);
            return FALSE;
          }
    }
  else if (strcmp (key, "shape") == 0 && op == PAL_OP_INPUT)
    {
      g_auto (GStrv) p = g_strsplit (val, "x", -1);
      ok = g_strv_length (p) == 3 && parse_int (p[0], 1, 4096, &n->c)
           && parse_int (p[1], 1, 65536, &n->h) && parse_int (p[2], 1, 65536, &n->w);
    }
  else if (strcmp (key, "out") == 0 && (op == PAL_OP_CONV2D || op == PAL_OP_LINEAR))
    ok = parse_int (val, 1, 1 << 20, &n->c);
  else if (strcmp (key, "k") == 0 && window)
    ok = parse_pair (val, 1, &n->kh, &n->kw);
  else if (strcmp (key, "stride") == 0 && window)
    ok = parse_pair (val, 1, &n->sh, &n->sw);
  else if (strcmp (key, "pad") == 0 && window)
    {
      g_auto (GStrv) p = g_strsplit (val, ",", -1);
      guint np = g_strv_length (p);
      if (np == 1)
        {
          ok = parse_int (p[0], 0, 65536, &n->pt);
          n->pl = n->pb = n->pr = n->pt;
        }
      else
        ok = np == 4 && parse_int (p[0], 0, 65536, &n->pt) && parse_int (p[1], 0, 65536, &n->pl)
             && parse_int (p[2], 0, 65536, &n->pb) && parse_int (p[3], 0, 65536, &n->pr);
    }
  else if (strcmp (key, "groups") == 0 && op == PAL_OP_CONV2D)
    ok = parse_int (val, 1, 1 << 20, &n->groups);
  else if (strcmp (key, "bias") == 0 && (op == PAL_OP_CONV2D || op == PAL_OP_LINEAR))
    {
      int b = 0;
      ok = parse_int (val, 0, 1, &b);
      n->has_bias = b;
    }
  else if (strcmp (key, "count_pad") == 0 && op == PAL_OP_AVGPOOL)
    {
      int b = 0;
      ok = parse_int (val, 0, 1, &b);
      n->count_pad = b;
    }
  else if (strcmp (key, "p") == 0 && op == PAL_OP_DROPOUT)
    ok = parse_float (val, &n->p);
  else if (strcmp (key, "eps") == 0 && op == PAL_OP_BATCHNORM)
    ok = parse_float (val, &n->eps) && n->eps > 0.f;
  else if (strcmp (key, "momentum") == 0 && op == PAL_OP_BATCHNORM)
    ok = parse_float (val, &n->momentum) && n->momentum > 0.f && n->momentum <= 1.f;
  else if (strcmp (key, "act") == 0)
    ok = parse_act (val, n);
  else
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "%s '%s' has no key '%s'",
                   pal_op_name (op), n->name, key);
      return FALSE;
    }
  if (!ok)
    g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "%s '%s': bad value '%s' for %s",
                 pal_op_name (op), n->name, val, key);
  return ok;
}

PalGraph *
pal_arch_parse (const char *text, GError **error)
{
  g_autoptr (PalGraph) g = pal_graph_new ();
  g_auto (GStrv) lines = NULL;
  int lineno = 0;

  if (!text)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "empty architecture");
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) tok = NULL;
      g_autoptr (GError) local = NULL;
      PalNode n = { 0 };
      char *hash = strchr (*l, '#');
      gboolean found = FALSE;
      guint nt;

      lineno++;
      if (hash)
        *hash = 0;
      g_strstrip (*l);
      if (!**l)
        continue;
      g_strdelimit (*l, "\t", ' ');
      tok = g_strsplit (*l, " ", -1);
      /* drop empty tokens from runs of spaces */
      nt = 0;
      for (guint i = 0; tok[i]; i++)
        if (*tok[i])
          tok[nt++] = tok[i];
        else
          g_free (tok[i]);
      tok[nt] = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
        if (strcmp (tok[0], ops[i].op) == 0)
          {
            n.op = ops[i].id;
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "line %d: unknown op '%s'",
                       lineno, tok[0]);
          return NULL;
        }
      if (nt < 2 || strchr (tok[1], '=') || !valid_name (tok[1]))
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "line %d: %s needs a name (letters, digits, _ . - : /) after the op",
                       lineno, tok[0]);
          return NULL;
        }
      n.name = tok[1];
      n.has_bias = TRUE;
      n.count_pad = TRUE;
      n.p = 0.5f;
      n.alpha = 0.f;
      n.n_in = n.op == PAL_OP_INPUT ? 0 : 1;
      n.in[0] = pal_graph_get_n_nodes (g) - 1;
      n.in[1] = -1;
      if (n.op == PAL_OP_RELU)
        n.act = PAL_ACT_RELU;

      for (guint i = 2; i < nt; i++)
        {
          char *eq = strchr (tok[i], '=');
          if (!eq)
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                           "line %d: expected key=value, got '%s'", lineno, tok[i]);
              return NULL;
            }
          *eq = 0;
          if (!apply_key (g, &n, tok[i], eq + 1, &local))
            {
              g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "line %d: %s", lineno,
                           local->message);
              return NULL;
            }
        }
      if ((n.op == PAL_OP_CONV2D || n.op == PAL_OP_LINEAR) && n.c < 1)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "line %d: %s '%s' needs out=",
                       lineno, tok[0], n.name);
          return NULL;
        }
      if ((n.op == PAL_OP_CONV2D || n.op == PAL_OP_MAXPOOL || n.op == PAL_OP_AVGPOOL)
          && n.kh < 1)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "line %d: %s '%s' needs k=",
                       lineno, tok[0], n.name);
          return NULL;
        }
      if (n.op == PAL_OP_ADD && n.n_in != 2)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "line %d: add '%s' needs in=A,B", lineno, n.name);
          return NULL;
        }
      if (pal_graph_add (g, &n, &local) < 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH, "line %d: %s", lineno, local->message);
          return NULL;
        }
      if (pal_graph_get_n_floats (g) > PAL_ARCH_MAX_PARAMS)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                       "line %d: %s '%s' brings the parameters to %" G_GSIZE_FORMAT
                       ", over the limit of %u (1 GiB of floats)", lineno, tok[0], n.name,
                       pal_graph_get_n_floats (g), (guint) PAL_ARCH_MAX_PARAMS);
          return NULL;
        }
    }
  if (pal_graph_get_n_nodes (g) < 2)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "the architecture needs an input and at least one layer");
      return NULL;
    }
  if (pal_graph_get_n_classes (g) > PAL_ARCH_MAX_CLASSES)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
                   "the last node gives %d logits, over the limit of %d classes",
                   pal_graph_get_n_classes (g), PAL_ARCH_MAX_CLASSES);
      return NULL;
    }
  return g_steal_pointer (&g);
}

/* --- built-in architectures ------------------------------------------- */

static const char *const builtin_names[] = { "bench-vgg", "vgg16", "resnet18", NULL };

const char *const *
pal_arch_builtin_names (void)
{
  return builtin_names;
}

const char *
pal_arch_default_layer (const char *name)
{
  if (g_strcmp0 (name, "bench-vgg") == 0)
    return "conv7";
  if (g_strcmp0 (name, "vgg16") == 0)
    return "features.28";   /* conv5_3 after its ReLU, 14x14 at 224 input */
  if (g_strcmp0 (name, "resnet18") == 0)
    return "layer4.1";      /* output of the last residual block */
  return NULL;
}

static char *
bench_vgg (void)
{
  GString *s = g_string_new ("# bench-vgg: the reference network of pal_torch.py\n"
                             "input data shape=3x96x96\n");
  static const int ch[] = { 32, 32, 64, 64, 128, 128, 256, 256 };

  for (int i = 0; i < 8; i++)
    {
      g_string_append_printf (s, "conv conv%d out=%d k=3 pad=1 act=relu\n", i + 1, ch[i]);
      if (i % 2 == 1)
        g_string_append_printf (s, "maxpool pool%d k=2\n", i / 2 + 1);
    }
  g_string_append (s, "flatten flatten\n"
                      "linear fc1 out=256 act=relu\n"
                      "linear fc2 out=7\n");
  return g_string_free (s, FALSE);
}

static char *
vgg16 (int size, int classes)
{
  /* torchvision's vgg16 names: features.<i>, classifier.<i> */
  static const int cfg[] = { 64, 64, -1, 128, 128, -1, 256, 256, 256, -1,
                             512, 512, 512, -1, 512, 512, 512, -1 };
  GString *s = g_string_new ("# vgg16 (torchvision names), the paper's backbone\n");
  int idx = 0;

  g_string_append_printf (s, "input data shape=3x%dx%d\n", size, size);
  for (guint i = 0; i < G_N_ELEMENTS (cfg); i++)
    if (cfg[i] < 0)
      {
        g_string_append_printf (s, "maxpool features.%d k=2\n", idx);
        idx += 1;
      }
    else
      {
        g_string_append_printf (s, "conv features.%d out=%d k=3 pad=1 act=relu\n", idx, cfg[i]);
        idx += 2;   /* the conv and its ReLU */
      }
  g_string_append_printf (s, "flatten flatten\n"
                             "linear classifier.0 out=4096 act=relu\n"
                             "dropout classifier.2 p=0.5\n"
                             "linear classifier.3 out=4096 act=relu\n"
                             "dropout classifier.5 p=0.5\n"
                             "linear classifier.6 out=%d\n", classes);
  return g_string_free (s, FALSE);
}

static char *
resnet18 (int size, int classes)
{
  GString *s = g_string_new ("# resnet18 (torchvision names)\n");
  const char *prev = "maxpool";
  int cin = 64;

  g_string_append_printf (s, "input data shape=3x%dx%d\n", size, size);
  g_string_append (s, "conv conv1 out=64 k=7 stride=2 pad=3 bias=0\n"
                      "batchnorm bn1 act=relu\n"
                      "maxpool maxpool k=3 stride=2 pad=1\n");
  for (int layer = 1; layer <= 4; layer++)
    {
      int cout = 64 << (layer - 1);

      for (int blk = 0; blk < 2; blk++)
        {
          int stride = (layer > 1 && blk == 0) ? 2 : 1;
          g_autofree char *b = g_strdup_printf ("layer%d.%d", layer, blk);
          g_autofree char *shortcut = NULL;

          g_string_append_printf (s, "conv %s.conv1 in=%s out=%d k=3 stride=%d pad=1 bias=0\n"
                                     "batchnorm %s.bn1 act=relu\n"
                                     "conv %s.conv2 out=%d k=3 pad=1 bias=0\n"
                                     "batchnorm %s.bn2\n",
                                  b, prev, cout, stride, b, b, cout, b);
          if (stride != 1 || cin != cout)
            {
              g_string_append_printf (s, "conv %s.downsample.0 in=%s out=%d k=1 stride=%d bias=0\n"
                                         "batchnorm %s.downsample.1\n",
                                      b, prev, cout, stride, b);
              shortcut = g_strdup_printf ("%s.downsample.1", b);
            }
          else
            shortcut = g_strdup (prev);
          g_string_append_printf (s, "add %s in=%s.bn2,%s act=relu\n", b, b, shortcut);
          prev = g_intern_string (b);
          cin = cout;
        }
    }
  g_string_append_printf (s, "gap avgpool\nflatten flatten\nlinear fc out=%d\n", classes);
  return g_string_free (s, FALSE);
}

char *
pal_arch_builtin_text (const char *name, int input_size, int n_classes, GError **error)
{
  if (n_classes == 0)
    n_classes = 7;
  if (n_classes < 1 || n_classes > 100000 || input_size < 0 || input_size > 4096)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "input size %d or class count %d out of range", input_size, n_classes);
      return NULL;
    }
  if (g_strcmp0 (name, "bench-vgg") == 0)
    {
      if ((input_size && input_size != 96) || n_classes != 7)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "bench-vgg is fixed at 3x96x96 input and 7 classes");
          return NULL;
        }
      return bench_vgg ();
    }
  if (g_strcmp0 (name, "vgg16") == 0)
    {
      if (input_size && input_size < 32)
        goto too_small;
      return vgg16 (input_size ? input_size : 224, n_classes);
    }
  if (g_strcmp0 (name, "resnet18") == 0)
    {
      if (input_size && input_size < 32)
        goto too_small;
      return resnet18 (input_size ? input_size : 224, n_classes);
    }
  g_set_error (error, PAL_ERROR, PAL_ERROR_ARCH,
               "unknown architecture '%s' (built in: bench-vgg, vgg16, resnet18)", name);
  return NULL;

too_small:
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
               "%s needs an input of at least 32x32 pixels, got %d", name, input_size);
  return NULL;
}
