/* test-arch.c: built-in architectures, the text form and graph queries */
#include "pal-arch.h"
#include "pal-error.h"
#include "pal-model.h"
#include "pal-graph-private.h"   /* to check parsed attributes (eps, groups, ...) */

#include <string.h>

/* --- helpers -------------------------------------------------------------- */

static PalGraph *
builtin (const char *name, int size, int classes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = pal_arch_builtin_text (name, size, classes, &error);
  PalGraph *g;

  g_assert_no_error (error);
  g = pal_arch_parse (text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);
  return g;
}

static void
assert_shape (const PalGraph *g, const char *node, int c, int h, int w)
{
  int i = pal_graph_find (g, node), gc, gh, gw;

  g_assert_cmpint (i, >=, 0);
  pal_graph_node_shape (g, i, &gc, &gh, &gw);
  g_assert_cmpint (gc, ==, c);
  g_assert_cmpint (gh, ==, h);
  g_assert_cmpint (gw, ==, w);
}

/* Parameter @name exists with exactly @shape (0-terminated). */
static void
assert_param (const PalGraph *g, const char *name, const gint64 *shape)
{
  int p = pal_graph_find_param (g, name), nd;
  gint64 got[4];

  if (p < 0)
    g_error ("no parameter '%s'", name);
  nd = pal_graph_param_shape (g, p, got);
  for (int i = 0; i < nd; i++)
    g_assert_cmpint (got[i], ==, shape[i]);
  g_assert_cmpint (shape[nd], ==, 0);
}

static gsize
count_params (const PalGraph *g, gboolean trainable_only)
{
  gsize total = 0;

  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    if (!trainable_only || pal_graph_param_trainable (g, p))
      total += pal_graph_param_numel (g, p);
  return total;
}

/* --- built-ins ------------------------------------------------------------- */

static void
test_bench_vgg (void)
{
  g_autoptr (PalGraph) g = builtin ("bench-vgg", 0, 0);
  /* pal_torch.py: CONVS = (Cin, Cout, spatial size) */
  static const int convs[8][3] = { { 3, 32, 96 },    { 32, 32, 96 },   { 32, 64, 48 },
                                   { 64, 64, 48 },   { 64, 128, 24 },  { 128, 128, 24 },
                                   { 128, 256, 12 }, { 256, 256, 12 } };
  gsize expected = 0;
  double flops = 0, sum = 0;

  assert_shape (g, "data", 3, 96, 96);
  for (int i = 0; i < 8; i++)
    {
      g_autofree char *name = g_strdup_printf ("conv%d", i + 1);
      g_autofree char *wname = g_strdup_printf ("conv%d.weight", i + 1);
      g_autofree char *bname = g_strdup_printf ("conv%d.bias", i + 1);
      int n = pal_graph_find (g, name);

      assert_shape (g, name, convs[i][1], convs[i][2], convs[i][2]);
      assert_param (g, wname, (gint64[]) { convs[i][1], convs[i][0], 3, 3, 0 });
      assert_param (g, bname, (gint64[]) { convs[i][1], 0 });
      g_assert_cmpint (pal_graph_node_op (g, n), ==, PAL_OP_CONV2D);
      g_assert_cmpint (pal_graph_node (g, n)->act, ==, PAL_ACT_RELU);
      expected += (gsize) convs[i][0] * convs[i][1] * 9 + convs[i][1];
      flops += 2.0 * convs[i][0] * convs[i][1] * 9 * convs[i][2] * convs[i][2];
      g_assert_cmpfloat (pal_graph_node_flops (g, n), ==,
                         2.0 * convs[i][0] * convs[i][1] * 9 * convs[i][2] * convs[i][2]);
    }
  assert_shape (g, "pool1", 32, 48, 48);
  assert_shape (g, "pool2", 64, 24, 24);
  assert_shape (g, "pool3", 128, 12, 12);
  assert_shape (g, "pool4", 256, 6, 6);
  assert_shape (g, "flatten", 9216, 1, 1);
  assert_shape (g, "fc1", 256, 1, 1);
  assert_shape (g, "fc2", 7, 1, 1);
  g_assert_cmpint (pal_graph_get_n_nodes (g), ==, 1 + 8 + 4 + 1 + 2);
  g_assert_cmpint (pal_graph_get_output (g), ==, pal_graph_find (g, "fc2"));
  g_assert_cmpint (pal_graph_get_n_classes (g), ==, 7);
  assert_param (g, "fc1.weight", (gint64[]) { 256, 9216, 0 });
  assert_param (g, "fc2.weight", (gint64[]) { 7, 256, 0 });
  g_assert_cmpint (pal_graph_find_param (g, "fc2.running_mean"), <, 0);

  /* the conv layers hold 1,172,256 parameters; total 3,533,607 */
  expected += 9216 * 256 + 256 + 256 * 7 + 7;
  g_assert_cmpuint (expected, ==, 3533607);
  g_assert_cmpuint (count_params (g, FALSE), ==, expected);
  g_assert_cmpuint (pal_graph_get_n_floats (g), ==, expected);
  g_assert_cmpint (pal_graph_get_n_params (g), ==, 20);
  /* pal_torch.py forward_flops(): lin = 2 * (256*36*256 + 256*NCLS) */
  flops += 2.0 * (256 * 36 * 256 + 256 * 7);
  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    sum += pal_graph_node_flops (g, i);
  g_assert_cmpfloat (sum, ==, flops);
  /* parameters tile the block in order */
  for (int p = 1; p < pal_graph_get_n_params (g); p++)
    g_assert_cmpuint (pal_graph_param_offset (g, p), ==,
                      pal_graph_param_offset (g, p - 1) + pal_graph_param_numel (g, p - 1));
  g_assert_cmpstr (pal_arch_default_layer ("bench-vgg"), ==, "conv7");
}

static void
test_builtin_errors (void)
{
  static const struct {
    const char *name;
    int size, classes, code;
  } cases[] = {
    { "bench-vgg", 112, 0, PAL_ERROR_INVALID }, { "bench-vgg", 0, 10, PAL_ERROR_INVALID },
    { "bench-vgg", 64, 7, PAL_ERROR_INVALID },  { "vgg16", 16, 0, PAL_ERROR_INVALID },
    { "resnet18", 0, -1, PAL_ERROR_INVALID },   { "alexnet", 0, 0, PAL_ERROR_ARCH },
  };
  static const char *const bad_models[] = { "bench-vgg@112", "resnet18@", "resnet18@x",
                                             "resnet18@16", "vgg16@99999", "vgg19" };
  const char *const *names = pal_arch_builtin_names ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = pal_arch_builtin_text ("bench-vgg", 96, 7, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_null (pal_arch_builtin_text (cases[i].name, cases[i].size, cases[i].classes,
                                            &error));
      g_assert_error (error, PAL_ERROR, cases[i].code);
      g_clear_error (&error);
    }
  g_assert_cmpstr (names[0], ==, "bench-vgg");
  g_assert_cmpstr (names[1], ==, "vgg16");
  g_assert_cmpstr (names[2], ==, "resnet18");
  g_assert_null (names[3]);
  /* the same through NAME@SIZE */
  for (guint i = 0; i < G_N_ELEMENTS (bad_models); i++)
    {
      g_autoptr (PalModel) m = pal_model_new (bad_models[i], &error);
      g_assert_null (m);
      g_assert_true (error && error->domain == PAL_ERROR);
      g_clear_error (&error);
    }
}

static void
test_vgg16 (void)
{
  g_autoptr (PalGraph) g = builtin ("vgg16", 0, 0);
  static const int conv_idx[13] = { 0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28 };
  static const int conv_out[13] = { 64, 64, 128, 128, 256, 256, 256, 512, 512, 512,
                                    512, 512, 512 };
  int n_conv = 0, n_lin = 0;

  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    {
      n_conv += pal_graph_node_op (g, i) == PAL_OP_CONV2D;
      n_lin += pal_graph_node_op (g, i) == PAL_OP_LINEAR;
    }
  g_assert_cmpint (n_conv, ==, 13);
  g_assert_cmpint (n_lin, ==, 3);
  for (int i = 0; i < 13; i++)
    {
      g_autofree char *wname = g_strdup_printf ("features.%d.weight", conv_idx[i]);
      int cin = i == 0 ? 3 : conv_out[i - 1];

      assert_param (g, wname, (gint64[]) { conv_out[i], cin, 3, 3, 0 });
    }
  assert_shape (g, "features.28", 512, 14, 14);
  assert_shape (g, "features.30", 512, 7, 7);
  g_assert_cmpint (pal_graph_node_op (g, pal_graph_find (g, "features.4")), ==, PAL_OP_MAXPOOL);
  assert_param (g, "classifier.0.weight", (gint64[]) { 4096, 25088, 0 });
  assert_param (g, "classifier.3.weight", (gint64[]) { 4096, 4096, 0 });
  assert_param (g, "classifier.6.weight", (gint64[]) { 7, 4096, 0 });
  assert_param (g, "classifier.6.bias", (gint64[]) { 7, 0 });
  g_assert_cmpint (pal_graph_node_op (g, pal_graph_find (g, "classifier.2")), ==, PAL_OP_DROPOUT);
  g_assert_cmpint (pal_graph_node (g, pal_graph_find (g, "classifier.2"))->act, ==,
                   PAL_ACT_NONE);
  g_assert_cmpint (pal_graph_get_n_params (g), ==, 32);
  /* torchvision vgg16: 138,357,544 with 1000 classes; the last layer has
   * 4096*1000+1000 = 4,097,000 of them and 4096*7+7 = 28,679 with 7 classes:
   * 138,357,544 - 4,097,000 + 28,679 = 134,289,223 */
  g_assert_cmpuint (138357544 - (4096 * 1000 + 1000) + (4096 * 7 + 7), ==, 134289223);
  g_assert_cmpuint (count_params (g, TRUE), ==, 134289223);
  g_assert_cmpuint (pal_graph_get_n_floats (g), ==, 134289223);
  g_assert_true (pal_graph_check_attribution_node (g, pal_graph_find (g, pal_arch_default_layer ("vgg16")),
                                                   TRUE, NULL));
}

static void
test_resnet18 (void)
{
  g_autoptr (PalGraph) g = builtin ("resnet18", 0, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m112 = pal_model_new ("resnet18@112", &error);
  PalGraph *g112;
  int n_bn = 0;

  assert_param (g, "conv1.weight", (gint64[]) { 64, 3, 7, 7, 0 });
  g_assert_cmpint (pal_graph_find_param (g, "conv1.bias"), <, 0);
  assert_param (g, "bn1.running_mean", (gint64[]) { 64, 0 });
  g_assert_false (pal_graph_param_trainable (g, pal_graph_find_param (g, "bn1.running_var")));
  g_assert_true (pal_graph_param_trainable (g, pal_graph_find_param (g, "bn1.weight")));
  assert_param (g, "layer1.0.conv1.weight", (gint64[]) { 64, 64, 3, 3, 0 });
  assert_param (g, "layer2.0.downsample.0.weight", (gint64[]) { 128, 64, 1, 1, 0 });
  assert_param (g, "layer2.0.downsample.1.running_var", (gint64[]) { 128, 0 });
  g_assert_cmpint (pal_graph_find_param (g, "layer1.0.downsample.0.weight"), <, 0);
  assert_param (g, "layer4.1.bn2.weight", (gint64[]) { 512, 0 });
  assert_param (g, "fc.weight", (gint64[]) { 7, 512, 0 });
  assert_param (g, "fc.bias", (gint64[]) { 7, 0 });
  assert_shape (g, "layer4.1", 512, 7, 7);
  assert_shape (g, "avgpool", 512, 1, 1);
  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    n_bn += pal_graph_node_op (g, i) == PAL_OP_BATCHNORM;
  g_assert_cmpint (n_bn, ==, 20);
  /* torchvision: 62 parameters + 40 running statistics (num_batches_tracked aside) */
  g_assert_cmpint (pal_graph_get_n_params (g), ==, 102);
  /* 11,689,512 with 1000 classes; fc is 512*1000+1000 = 513,000 of them and
   * 512*7+7 = 3,591 with 7 classes: 11,689,512 - 513,000 + 3,591 = 11,180,103 */
  g_assert_cmpuint (11689512 - 513000 + 3591, ==, 11180103);
  g_assert_cmpuint (count_params (g, TRUE), ==, 11180103);
  /* 20 batch norms over 4,800 channels: 9,600 running statistics */
  g_assert_cmpuint (pal_graph_get_n_floats (g), ==, 11180103 + 9600);

  g_assert_no_error (error);
  g112 = pal_model_get_graph (m112);
  assert_shape (g112, "data", 3, 112, 112);
  assert_shape (g112, "maxpool", 64, 28, 28);
  assert_shape (g112, "layer4.1", 512, 4, 4);
  /* parameters do not depend on the input size */
  g_assert_cmpuint (pal_graph_get_n_floats (g112), ==, pal_graph_get_n_floats (g));
  g_assert_cmpstr (pal_arch_default_layer ("resnet18"), ==, "layer4.1");
  g_assert_null (pal_arch_default_layer ("custom"));
}

/* --- the text form --------------------------------------------------------- */

static const char custom_text[] =
  "# a small net using every op\n"
  "\n"
  "input\tdata   shape=3x16x16   # comment after a node\n"
  "conv c1 out=8 k=3 pad=0,1,1,0 act=leaky:0.1\n"
  "   \t  \n"
  "conv\tg2  out=8 k=3 stride=2 pad=1 groups=4 bias=0\n"
  "batchnorm bn eps=0.001 momentum=0.2 act=relu\n"
  "maxpool mp k=2\n"
  "avgpool ap in=bn k=3 stride=2 pad=1 count_pad=0\n"
  "add sum in=mp,ap act=relu\n"
  "relu r\n"
  "conv k31 out=4 k=3x1 pad=1,0,1,0\n"
  "dropout drop in=r p=0.3\n"
  "gap g\n"
  "flatten flat\n"
  "linear fc out=5\n";

static void
test_text_custom (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalGraph) g = pal_arch_parse (custom_text, &error);
  const PalNode *n;
  static const struct { const char *name; int c, h; } shapes[] = {
    { "data", 3, 16 }, { "c1", 8, 15 }, { "g2", 8, 8 }, { "bn", 8, 8 }, { "mp", 8, 4 },
    { "ap", 8, 4 },    { "sum", 8, 4 }, { "r", 8, 4 },  { "k31", 4, 4 }, { "drop", 8, 4 },
    { "g", 8, 1 },     { "flat", 8, 1 }, { "fc", 5, 1 },
  };

  g_assert_no_error (error);
  g_assert_cmpint (pal_graph_get_n_nodes (g), ==, 13);
  /* c1: 16 + 0 + 1 - 3 + 1 = 15; g2: (15 + 2 - 3) / 2 + 1 = 8; ap: (8 + 2 - 3) / 2 + 1;
   * k31: a 3x1 kernel padded 1 at the top and bottom only */
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    assert_shape (g, shapes[i].name, shapes[i].c, shapes[i].h, shapes[i].h);
  g_assert_cmpint (pal_graph_get_n_classes (g), ==, 5);

  assert_param (g, "c1.weight", (gint64[]) { 8, 3, 3, 3, 0 });
  assert_param (g, "g2.weight", (gint64[]) { 8, 2, 3, 3, 0 });
  g_assert_cmpint (pal_graph_find_param (g, "g2.bias"), <, 0);
  assert_param (g, "k31.weight", (gint64[]) { 4, 8, 3, 1, 0 });
  assert_param (g, "bn.running_var", (gint64[]) { 8, 0 });
  assert_param (g, "fc.weight", (gint64[]) { 5, 8, 0 });

  n = pal_graph_node (g, pal_graph_find (g, "c1"));
  g_assert_cmpint (n->act, ==, PAL_ACT_LEAKY);
  g_assert_cmpfloat_with_epsilon (n->alpha, 0.1, 1e-7);
  g_assert_true (n->pt == 0 && n->pl == 1 && n->pb == 1 && n->pr == 0);
  n = pal_graph_node (g, pal_graph_find (g, "g2"));
  g_assert_true (n->groups == 4 && n->sh == 2 && n->sw == 2 && !n->has_bias);
  n = pal_graph_node (g, pal_graph_find (g, "bn"));
  g_assert_cmpfloat_with_epsilon (n->eps, 0.001, 1e-9);
  g_assert_cmpfloat_with_epsilon (n->momentum, 0.2, 1e-7);
  g_assert_cmpint (n->act, ==, PAL_ACT_RELU);
  n = pal_graph_node (g, pal_graph_find (g, "ap"));
  g_assert_false (n->count_pad);
  g_assert_cmpint (n->in[0], ==, pal_graph_find (g, "bn"));
  g_assert_cmpint (pal_graph_node (g, pal_graph_find (g, "mp"))->sh, ==, 2);  /* stride = k */
  n = pal_graph_node (g, pal_graph_find (g, "sum"));
  g_assert_true (n->n_in == 2 && n->in[0] == pal_graph_find (g, "mp")
                 && n->in[1] == pal_graph_find (g, "ap"));
  g_assert_cmpint (n->act, ==, PAL_ACT_RELU);
  g_assert_cmpint (pal_graph_node_op (g, pal_graph_find (g, "r")), ==, PAL_OP_RELU);
  n = pal_graph_node (g, pal_graph_find (g, "drop"));
  g_assert_cmpfloat_with_epsilon (n->p, 0.3, 1e-7);
  g_assert_cmpint (n->act, ==, PAL_ACT_NONE);
  g_assert_cmpint (n->in[0], ==, pal_graph_find (g, "r"));
  g_assert_cmpstr (pal_op_name (pal_graph_node_op (g, pal_graph_find (g, "g"))), ==, "gap");

  /* 'k31' is a dead end: the logits do not depend on it */
  g_assert_false (pal_graph_check_attribution_node (g, pal_graph_find (g, "k31"), FALSE, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "k31"));
}

static void
test_text_errors (void)
{
  static const char head[] = "input data shape=3x8x8\nconv c1 out=4 k=3 pad=1\n";
  static const struct {
    const char *tail;        /* appended to head, so it starts at line 3 */
    const char *want[3];     /* substrings of the message */
  } cases[] = {
    { "pool p k=2\n", { "line 3", "pool" } },
    { "conv out=4 k=3\n", { "line 3", "conv", "name" } },
    { "conv c2 out=4 k=3 color=red\n", { "line 3", "c2", "color" } },
    { "conv c2 out=abc k=3\n", { "line 3", "'abc'", "out" } },
    { "conv c2 out=4 k=0\n", { "line 3", "c2", "k" } },
    { "conv c2 out=4\n", { "line 3", "c2", "k=" } },
    { "conv c2 k=3\n", { "line 3", "c2", "out=" } },
    { "dropout d p=1.5\n", { "line 3", "'d'", "p" } },
    { "dropout d p=-0.5\n", { "line 3", "'d'", "p" } },
    { "conv c2 out=4 k=3 act=tanh\n", { "line 3", "tanh", "act" } },
    { "conv c2 out=4 k=3 act=leaky:2\n", { "line 3", "leaky:2", "act" } },
    { "conv c2 in=nothere out=4 k=3\n", { "line 3", "nothere", "c2" } },
    { "conv c2 in=c3 out=4 k=3\nconv c3 out=4 k=3\n", { "line 3", "c3", "c2" } },
    { "add s in=c1\n", { "line 3", "'s'", "in=" } },
    { "add s in=c1,data\n", { "line 3", "'c1'", "'data'" } },
    { "relu c1\n", { "line 3", "c1", "twice" } },
    { "maxpool mp k=9\n", { "line 3", "mp", "window" } },
    { "conv g out=4 k=3 groups=3\n", { "line 3", "'g'", "groups" } },
    { "input second shape=3x8x8\n", { "line 3", "second", "input" } },
    { "maxpool mp k=2 act=relu\n", { "line 3", "mp", "activation" } },
    { "conv c2 out=4 k=3 stride\n", { "line 3", "stride" } },
    { "conv c2 in=c1,data out=4 k=3\n", { "line 3", "c2", "input" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat (head, cases[i].tail, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (PalGraph) g = pal_arch_parse (text, &error);

      if (g)
        g_error ("case %u parsed:\n%s", i, text);
      g_assert_error (error, PAL_ERROR, PAL_ERROR_ARCH);
      for (int k = 0; k < 3 && cases[i].want[k]; k++)
        if (!strstr (error->message, cases[i].want[k]))
          g_error ("case %u: '%s' lacks '%s'", i, error->message, cases[i].want[k]);
    }
}

static void
test_text_structure_errors (void)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
    { "conv c1 out=4 k=3\nconv c2 out=4 k=3\n", "line 1" },
    { "# only\n\n   # comments\n", "input" },
    { "", "input" },
    { "input data shape=3x8x8\n", "layer" },
    { "input data shape=3x8\nlinear fc out=2\n", "line 1" },
    { "input data shape=0x8x8\nlinear fc out=2\n", "line 1" },
    { "input data\nlinear fc out=2\n", "line 1" },
    /* a weight count that would wrap around 2^64 */
    { "input data shape=4096x1x1\nconv a out=1048576 k=1\n"
      "conv b out=1048576 k=65536 pad=32768\nflatten f\nlinear fc out=2\n", "too large" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PalGraph) g = pal_arch_parse (cases[i].text, &error);

      g_assert_null (g);
      g_assert_error (error, PAL_ERROR, PAL_ERROR_ARCH);
      if (!strstr (error->message, cases[i].want))
        g_error ("case %u: '%s' lacks '%s'", i, error->message, cases[i].want);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (pal_arch_parse (NULL, &error));
    g_assert_error (error, PAL_ERROR, PAL_ERROR_ARCH);
  }
}

/* --- attribution checks ---------------------------------------------------- */

/* @node of @g is refused with @code and a message naming @want and @want2. */
static void
assert_refused (const PalGraph *g, int node, gboolean training, int code,
                const char *want, const char *want2)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (pal_graph_check_attribution_node (g, node, training, &error));
  g_assert_error (error, PAL_ERROR, code);
  g_assert_nonnull (strstr (error->message, want));
  g_assert_nonnull (strstr (error->message, want2));
}

static void
test_attribution_node (void)
{
  g_autoptr (PalGraph) res = builtin ("resnet18", 0, 0);
  g_autoptr (PalGraph) vgg = builtin ("bench-vgg", 0, 0);
  g_autoptr (GError) error = NULL;
  int l31 = pal_graph_find (res, "layer3.1");

  assert_refused (res, l31, TRUE, PAL_ERROR_UNSUPPORTED, "'layer3.1'", "'layer4.0.bn1'");
  g_assert_true (pal_graph_check_attribution_node (res, l31, FALSE, &error));
  g_assert_true (pal_graph_check_attribution_node (res, pal_graph_find (res, "layer4.1"),
                                                   TRUE, &error));
  g_assert_true (pal_graph_check_attribution_node (vgg, pal_graph_find (vgg, "conv7"), TRUE,
                                                   &error));
  g_assert_no_error (error);
  assert_refused (vgg, pal_graph_get_output (vgg), FALSE, PAL_ERROR_INVALID, "fc2", "output");
  assert_refused (vgg, pal_graph_find (vgg, "fc1"), FALSE, PAL_ERROR_INVALID, "fc1", "1x1");
  assert_refused (vgg, pal_graph_find (vgg, "flatten"), FALSE, PAL_ERROR_INVALID,
                  "flatten", "spatial");
  assert_refused (vgg, -1, FALSE, PAL_ERROR_INVALID, "node", "no such");
}

static void
test_grad_is_flat (void)
{
  g_autoptr (PalGraph) res = builtin ("resnet18", 0, 0);
  g_autoptr (PalGraph) vgg = builtin ("bench-vgg", 0, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (PalGraph) g = pal_arch_parse ("input data shape=3x8x8\n"
                                           "conv c1 out=4 k=3 pad=1 act=relu\n"
                                           "conv c2 out=4 k=3 pad=1 act=relu\n"
                                           "gap g\nlinear fc out=2\n", &error);

  g_assert_no_error (error);
  g_assert_true (pal_graph_grad_is_flat (g, pal_graph_find (g, "c2")));
  g_assert_false (pal_graph_grad_is_flat (g, pal_graph_find (g, "c1")));
  g_assert_true (pal_graph_grad_is_flat (res, pal_graph_find (res, "layer4.1")));
  g_assert_false (pal_graph_grad_is_flat (res, pal_graph_find (res, "layer4.0")));
  g_assert_false (pal_graph_grad_is_flat (vgg, pal_graph_find (vgg, "conv7")));
  g_assert_false (pal_graph_grad_is_flat (vgg, pal_graph_find (vgg, "pool4")));
}

/* --- robustness ------------------------------------------------------------ */

static char *
mutate (GRand *r, const char *base)
{
  static const char alphabet[] = "0123456789x=,:. #\n\tabcdkp";
  GString *s = g_string_new (base);
  int n = g_rand_int_range (r, 1, 4);

  for (int m = 0; m < n && s->len > 0; m++)
    switch (g_rand_int_range (r, 0, 5))
      {
      case 0:   /* a random byte, NUL included */
        s->str[g_rand_int_range (r, 0, (int) s->len)] = (char) g_rand_int_range (r, 0, 256);
        break;
      case 1:   /* a printable byte from the text's alphabet */
        s->str[g_rand_int_range (r, 0, (int) s->len)] = alphabet[g_rand_int_range (r, 0, sizeof alphabet - 1)];
        break;
      case 2:
        g_string_truncate (s, g_rand_int_range (r, 0, (int) s->len));
        break;
      default:  /* duplicate or drop a line */
        {
          g_auto (GStrv) lines = g_strsplit (s->str, "\n", -1);
          guint nl = g_strv_length (lines), k = g_rand_int_range (r, 0, (int) nl);
          gboolean dup = g_rand_boolean (r);

          g_string_truncate (s, 0);
          for (guint i = 0; i < nl; i++)
            {
              if (i != k || dup)
                g_string_append_printf (s, "%s\n", lines[i]);
              if (i == k && dup)
                g_string_append_printf (s, "%s\n", lines[g_rand_int_range (r, 0, (int) nl)]);
            }
        }
      }
  return g_string_free (s, FALSE);
}

static void
test_fuzz (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (20240611);
  int parsed = 0, failed = 0;

  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *text = mutate (r, custom_text);
      g_autoptr (GError) error = NULL;
      g_autoptr (PalGraph) g = pal_arch_parse (text, &error);

      g_assert_true ((g == NULL) != (error == NULL));
      if (!g)
        {
          g_assert_true (error->domain == PAL_ERROR);
          g_assert_cmpuint (strlen (error->message), >, 0);
          failed++;
          continue;
        }
      parsed++;
      /* a graph that parses is consistent */
      for (int k = 0; k < pal_graph_get_n_nodes (g); k++)
        {
          int c, h, w;

          pal_graph_node_shape (g, k, &c, &h, &w);
          g_assert_true (c >= 1 && h >= 1 && w >= 1);
          g_assert_cmpint (pal_graph_find (g, pal_graph_node_name (g, k)), ==, k);
          g_clear_error (&error);
          (void) pal_graph_check_attribution_node (g, k, TRUE, &error);
          (void) pal_graph_grad_is_flat (g, k);
          (void) pal_graph_node_flops (g, k);
        }
      g_assert_cmpuint (count_params (g, FALSE), ==, pal_graph_get_n_floats (g));
    }
  g_test_message ("%d mutations parsed, %d refused", parsed, failed);
  g_assert_cmpint (parsed, >, 0);
  g_assert_cmpint (failed, >, 0);
}

/* Parameters past PAL_ARCH_MAX_PARAMS are refused by the parser, before
 * anything is allocated for them (found by fuzz-arch). */
static void
test_text_too_many_params (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalGraph) g = pal_arch_parse ("input data shape=3x8x8\n"
                                           "conv c1 out=2048 k=9 pad=4\n"
                                           "conv c2 out=8192 k=5 pad=2\n"
                                           "gap g\n"
                                           "linear fc out=7\n", &error);

  g_assert_null (g);
  g_assert_error (error, PAL_ERROR, PAL_ERROR_ARCH);
  g_assert_nonnull (strstr (error->message, "line 3: conv 'c2'"));
  g_assert_nonnull (strstr (error->message, "limit of 268435456"));

  /* a class name is allocated per logit (found by fuzz-arch) */
  g_clear_error (&error);
  g_assert_null (pal_arch_parse ("input data shape=1x4x4\nflatten f\n"
                                 "linear fc out=100001 bias=0\n", &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_ARCH);
  g_assert_nonnull (strstr (error->message, "100001 logits, over the limit of 100000"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/arch/bench-vgg", test_bench_vgg);
  g_test_add_func ("/arch/builtin-errors", test_builtin_errors);
  g_test_add_func ("/arch/vgg16", test_vgg16);
  g_test_add_func ("/arch/resnet18", test_resnet18);
  g_test_add_func ("/arch/text/custom", test_text_custom);
  g_test_add_func ("/arch/text/errors", test_text_errors);
  g_test_add_func ("/arch/text/structure-errors", test_text_structure_errors);
  g_test_add_func ("/arch/text/too-many-params", test_text_too_many_params);
  g_test_add_func ("/arch/attribution-node", test_attribution_node);
  g_test_add_func ("/arch/grad-is-flat", test_grad_is_flat);
  g_test_add_func ("/arch/fuzz", test_fuzz);
  return g_test_run ();
}
