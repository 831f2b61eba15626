/* test-exec.c: the whole gradient of CE + lambda PAL by central finite
 * differences, Grad-CAM and attribution against direct computations,
 * determinism, and training that actually moves PAL.
 *
 * The engine computes in float.  A central difference with step h on a
 * loss of order 1 has a rounding error of about 1e-6 / h and a truncation
 * error of order h^2 (the loss is a smooth function of one weight between
 * ReLU and max-pool switches), so with h = 1e-2 the difference is good to
 * about 1e-4 absolute: we accept |fd - grad| <= 2e-3 + 2e-2 |grad|.  A step
 * that crosses a switch shows up as two step sizes disagreeing with each
 * other; such coordinates are counted and must stay rare (< 10%), and no
 * coordinate where the two steps agree may disagree with the gradient.
 */
#include "pal-core.h"
#include "ops/pal-ops.h"    /* pal_conv2d_set_winograd */

#include <math.h>
#include <string.h>

/* A small net with, after the PAL layer 'f': a conv, a residual add from
 * before the layer (c1 is not in the tail), a residual add from the layer
 * itself, max pool, a strided conv, dropout, linear layers.  Batch norm in
 * training form sits before the layer. */
static const char *small_net =
  "input data shape=2x8x8\n"
  "conv c0 out=4 k=3 pad=1\n"
  "batchnorm bn0 act=relu\n"
  "conv c1 out=4 k=3 pad=1 act=relu\n"
  "conv f out=4 k=3 pad=1 act=relu\n"
  "conv c3 out=4 k=3 pad=1\n"
  "add r1 in=c3,c1 act=relu\n"
  "add r2 in=r1,f\n"
  "maxpool p1 k=2\n"
  "conv c4 out=5 k=3 stride=2 pad=1 act=leaky:0.1\n"
  "flatten flat\n"
  "dropout drop p=0.25\n"
  "linear fc1 out=6 act=relu\n"
  "linear fc2 out=3\n";

#define N 3
#define H 3e-4f

typedef struct {
  PalModel     *model;
  PalWorkspace *ws;
  float        *x, *priors, *grad, *tmp;
  gint32        labels[N];
} Fixture;

static void
fixture_init (Fixture *f, const char *arch, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  int c, h, w;
  gsize nf;

  f->model = pal_model_new (arch, &error);
  g_assert_no_error (error);
  pal_model_init (f->model, seed);
  f->ws = pal_workspace_new (f->model, N, &error);
  g_assert_no_error (error);
  pal_graph_input_shape (pal_model_get_graph (f->model), &c, &h, &w);
  f->x = g_new (float, N * c * h * w);
  for (int i = 0; i < N * c * h * w; i++)
    f->x[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  /* priors at 5x7: not the layer's size, so the area resize is exercised */
  f->priors = g_new (float, N * 35);
  for (int i = 0; i < N * 35; i++)
    f->priors[i] = (float) g_rand_double_range (r, 0.0, 1.0);
  for (int i = 0; i < N; i++)
    f->labels[i] = i % pal_model_get_n_classes (f->model);
  nf = pal_graph_get_n_floats (pal_model_get_graph (f->model));
  f->grad = g_new (float, nf);
  f->tmp = g_new (float, nf);
}

static void
fixture_clear (Fixture *f)
{
  pal_workspace_free (f->ws);
  pal_model_unref (f->model);
  g_free (f->x);
  g_free (f->priors);
  g_free (f->grad);
  g_free (f->tmp);
}

static double
loss_and_grad (Fixture *f, float *grad)
{
  g_autoptr (GError) error = NULL;
  PalLosses l;

  pal_workspace_set_seed (f->ws, 99);   /* the same dropout mask every time */
  pal_workspace_grads (f->ws, f->x, f->labels, f->priors, 5, 7, N, grad, &l, &error);
  g_assert_no_error (error);
  return l.loss;
}

/* Checks every trainable parameter at up to @per coordinates. */
static void
check_gradient (Fixture *f, int per)
{
  PalGraph *g = pal_model_get_graph (f->model);
  float *w = pal_model_get_params (f->model);
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  int checked = 0, kinks = 0;

  loss_and_grad (f, f->grad);
  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      gsize off = pal_graph_param_offset (g, p), n = pal_graph_param_numel (g, p);

      if (!pal_graph_param_trainable (g, p))
        continue;
      for (int t = 0; t < per && t < (int) n; t++)
        {
          gsize i = off + (n <= (gsize) per ? (gsize) t : (gsize) g_rand_int_range (r, 0, (gint32) n));
          float orig = w[i];
          double an = f->grad[i], l0, lp, lm, hp, hm, fwd, bwd, central;

          l0 = loss_and_grad (f, f->tmp);
          w[i] = orig + H;
          hp = (double) w[i] - orig;     /* the steps actually taken in float */
          lp = loss_and_grad (f, f->tmp);
          w[i] = orig - H;
          hm = orig - (double) w[i];
          lm = loss_and_grad (f, f->tmp);
          w[i] = orig;
          fwd = (lp - l0) / hp;
          bwd = (l0 - lm) / hm;
          central = (lp - lm) / (hp + hm);
          checked++;
          /* a switch inside one side makes the one-sided slopes differ */
          if (fabs (fwd - bwd) > 1e-3 + 2e-2 * fabs (central))
            {
              kinks++;
              continue;
            }
          if (fabs (central - an) > 2e-3 + 2e-2 * fabs (an))
            g_error ("%s[%" G_GSIZE_FORMAT "]: gradient %.6g, finite difference %.6g",
                     pal_graph_param_name (g, p), i - off, an, central);
        }
    }
  g_test_message ("%d coordinates checked, %d skipped at a switch", checked, kinks);
  g_assert_cmpint (kinks * 10, <, checked);
}

typedef struct {
  PalAttribution attr;
  PalChannels    channels;
  int            c1;
} PalCase;

static void
test_pal_gradient (gconstpointer data)
{
  const PalCase *pc = data;
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autofree float *ce_grad = NULL;
  PalLossConfig cfg = { .attribution = pc->attr, .channels = pc->channels, .c1 = pc->c1,
                        .lambda = 3.f };
  PalGraph *g;
  double diff = 0.0, norm = 0.0;
  gsize nf;

  fixture_init (&f, small_net, 11);
  g = pal_model_get_graph (f.model);
  nf = pal_graph_get_n_floats (g);
  cfg.layer = pal_graph_find (g, "f");

  /* the PAL term must matter: its gradient differs from CE's alone */
  ce_grad = g_new (float, nf);
  loss_and_grad (&f, ce_grad);
  pal_workspace_set_pal (f.ws, &cfg, &error);
  g_assert_no_error (error);
  loss_and_grad (&f, f.grad);
  for (gsize i = 0; i < nf; i++)
    {
      diff += (f.grad[i] - ce_grad[i]) * (double) (f.grad[i] - ce_grad[i]);
      norm += ce_grad[i] * (double) ce_grad[i];
    }
  g_assert_cmpfloat (sqrt (diff), >, 0.05 * sqrt (norm));

  check_gradient (&f, 12);
  fixture_clear (&f);
}

static void
test_ce_gradient (void)
{
  Fixture f;

  fixture_init (&f, small_net, 12);
  check_gradient (&f, 12);
  fixture_clear (&f);
}

/* Convs with 8 or more input channels take Winograd (ops/winograd.c): the
 * whole CE + Grad*Input PAL gradient (the PAL term's JVP and weight
 * gradient go through the convs too) by finite differences, and the same
 * to rounding with Winograd switched off (but not bitwise: it was used). */
static const char *wide_net =
  "input data shape=3x9x8\n"
  "conv c0 out=8 k=3 pad=1 act=relu\n"
  "conv c1 out=8 k=3 pad=1 act=relu\n"
  "conv f out=9 k=3 pad=0 act=relu\n"
  "conv c3 out=6 k=3 pad=1\n"
  "maxpool p1 k=2\n"
  "flatten flat\n"
  "linear fc out=3\n";

static void
test_winograd_gradient (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  PalLossConfig cfg = { .attribution = PAL_ATTR_GRAD_INPUT, .channels = PAL_CHANNELS_ALL,
                        .lambda = 3.f };
  double scale = 1.0, worst = 0.0;
  gsize nf;

  fixture_init (&f, wide_net, 13);
  nf = pal_graph_get_n_floats (pal_model_get_graph (f.model));
  cfg.layer = pal_graph_find (pal_model_get_graph (f.model), "f");
  pal_workspace_set_pal (f.ws, &cfg, &error);
  g_assert_no_error (error);
  pal_conv2d_set_winograd (TRUE);    /* whatever PAL_CONV_NO_WINOGRAD says */
  check_gradient (&f, 12);

  loss_and_grad (&f, f.grad);
  pal_conv2d_set_winograd (FALSE);
  loss_and_grad (&f, f.tmp);
  pal_conv2d_set_winograd (TRUE);
  for (gsize i = 0; i < nf; i++)
    {
      scale = MAX (scale, fabs (f.tmp[i]));
      worst = MAX (worst, fabs ((double) f.grad[i] - f.tmp[i]));
    }
  g_test_message ("Winograd vs im2col: largest difference %g (largest gradient %g)",
                  worst, scale);
  g_assert_cmpfloat (worst, <=, 1e-4 * scale);
  g_assert_cmpfloat (worst, >, 0.0);
  fixture_clear (&f);
}

/* PAL before a batch norm: refused in training form, exact when frozen. */
static void
test_bn_tail (void)
{
  static const char *net =
    "input data shape=2x6x6\n"
    "conv c1 out=4 k=3 pad=1 act=relu\n"
    "conv f out=4 k=3 pad=1 act=relu\n"
    "conv c2 out=4 k=3 pad=1 bias=0\n"
    "batchnorm bn act=relu\n"
    "gap pool\n"
    "linear fc out=3\n";
  Fixture f;
  g_autoptr (GError) error = NULL;
  PalLossConfig cfg = { .attribution = PAL_ATTR_GRAD_INPUT, .channels = PAL_CHANNELS_FIRST,
                        .lambda = 2.f };
  float *rv;
  gsize n;

  fixture_init (&f, net, 13);
  cfg.layer = pal_graph_find (pal_model_get_graph (f.model), "f");
  g_assert_false (pal_workspace_set_pal (f.ws, &cfg, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'bn'"));
  g_clear_error (&error);

  /* non-trivial running statistics */
  rv = pal_model_lookup (f.model, "bn.running_var", &n);
  for (gsize i = 0; i < n; i++)
    rv[i] = 0.5f + i;
  pal_workspace_set_bn_frozen (f.ws, TRUE);
  g_assert_true (pal_workspace_set_pal (f.ws, &cfg, &error));
  g_assert_no_error (error);
  check_gradient (&f, 16);
  fixture_clear (&f);
}

/* Grad-CAM with a tail gap -> linear has a closed form:
 * dz_c / dF_k = W[c, k] / hw, so cam = ReLU(sum_k W[c,k] / hw F_k). */
static void
test_gradcam_direct (void)
{
  static const char *net =
    "input data shape=3x7x5\n"
    "conv c1 out=6 k=3 pad=1 act=relu\n"
    "gap pool\n"
    "linear fc out=4\n";
  Fixture f;
  g_autoptr (GError) error = NULL;
  float cam[N * 35], probs[N * 4];
  const float *F, *W;
  int node;

  fixture_init (&f, net, 14);
  node = pal_graph_find (pal_model_get_graph (f.model), "c1");
  W = pal_model_lookup (f.model, "fc.weight", NULL);
  for (int klass = 0; klass < 4; klass++)
    {
      g_assert_true (pal_workspace_gradcam (f.ws, f.x, N, node, klass, cam, probs, &error));
      g_assert_no_error (error);
      F = pal_workspace_activation (f.ws, node);
      for (int s = 0; s < N; s++)
        for (int k = 0; k < 35; k++)
          {
            double want = 0.0;
            for (int c = 0; c < 6; c++)
              want += W[klass * 6 + c] / 35.0 * F[(s * 6 + c) * 35 + k];
            want = MAX (want, 0.0);
            g_assert_cmpfloat_with_epsilon (cam[s * 35 + k], want, 1e-5);
          }
    }
  /* probabilities sum to one */
  for (int s = 0; s < N; s++)
    g_assert_cmpfloat_with_epsilon (probs[s * 4] + probs[s * 4 + 1] + probs[s * 4 + 2]
                                    + probs[s * 4 + 3], 1.0, 1e-5);
  /* gap then linear: the Grad map is flat, and said to be */
  {
    g_autoptr (PalAttrMaps) m = pal_workspace_attribute (f.ws, f.x, N, node,
                                                         PAL_TARGET_SUM, 0, &error);
    g_assert_no_error (error);
    g_assert_true (m->flat);
    for (int k = 1; k < 35; k++)
      g_assert_cmpfloat_with_epsilon (m->grad_all[k], m->grad_all[0], 1e-5);
  }
  fixture_clear (&f);
}

/* Attribution at the input (saliency) against finite differences of the
 * target through the whole network, in inference form. */
static void
test_attribution_fd (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  PalGraph *g;
  int hw = 64;

  fixture_init (&f, small_net, 15);
  g = pal_model_get_graph (f.model);
  for (int target = PAL_TARGET_SUM; target < 3; target++)
    {
      g_autoptr (PalAttrMaps) m = pal_workspace_attribute (f.ws, f.x, N, 0, target, 1, &error);
      int kinks = 0;

      g_assert_no_error (error);
      g_assert_cmpint (m->c, ==, 2);
      g_assert_cmpint (m->c1, ==, 1);
      for (int s = 0; s < N; s++)
        for (int k = 0; k < hw; k += 3)
          {
            /* channel 0 is the "first" part with c1 = 1 */
            float *xi = &f.x[(s * 2 + 0) * hw + k], orig = *xi;
            double v[3], hp, hm, fwd, bwd, central;

            for (int sgn = -1; sgn <= 1; sgn++)
              {
                const float *z;
                *xi = orig + sgn * 1e-3f;
                if (sgn == 1)
                  hp = (double) *xi - orig;
                if (sgn == -1)
                  hm = orig - (double) *xi;
                z = pal_workspace_forward (f.ws, f.x, N, FALSE);
                v[sgn + 1] = 0.0;
                for (int c = 0; c < 3; c++)
                  if (target == PAL_TARGET_SUM || target == c)
                    v[sgn + 1] += z[s * 3 + c];
              }
            *xi = orig;
            fwd = (v[2] - v[1]) / hp;
            bwd = (v[1] - v[0]) / hm;
            central = (v[2] - v[0]) / (hp + hm);
            if (fabs (fwd - bwd) > 1e-3 + 2e-2 * fabs (central))
              {
                kinks++;
                continue;
              }
            g_assert_cmpfloat (fabs (fabs (central) - m->grad_first[s * hw + k]), <=,
                               2e-3 + 2e-2 * fabs (central));
            /* Grad*Input at the input is |g| x */
            g_assert_cmpfloat (fabs (m->gi_first[s * hw + k] - m->grad_first[s * hw + k] * orig),
                               <=, 1e-5);
          }
      g_assert_cmpint (kinks, <, N * hw / 3 / 10);
      for (int k = 0; k < N * hw; k++)
        g_assert_cmpfloat_with_epsilon (m->grad_all[k], m->grad_first[k] + m->grad_rest[k], 1e-5);
    }
  g_assert_cmpint (pal_graph_get_n_nodes (g), >, 0);
  fixture_clear (&f);
}

/* Fixed weights keep the Winograd transforms: the same maps, bit for bit,
 * and no training while fixed. */
static void
test_fixed_weights (void)
{
  static const char *net =
    "input data shape=8x10x10\n"
    "conv c1 out=16 k=3 pad=1 act=relu\n"
    "conv c2 out=16 k=3 pad=1 act=relu\n"
    "maxpool p k=2\n"
    "conv c3 out=8 k=3 pad=1 act=relu\n"
    "flatten fl\n"
    "linear fc out=3\n";
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autoptr (PalAttrMaps) a = NULL, b = NULL, c = NULL;
  gsize plane = N * 100;
  int node;
  float *w;

  fixture_init (&f, net, 21);
  node = pal_graph_find (pal_model_get_graph (f.model), "c2");
  a = pal_workspace_attribute (f.ws, f.x, N, node, PAL_TARGET_SUM, 0, &error);
  g_assert_no_error (error);
  g_assert_true (pal_workspace_set_weights_fixed (f.ws, TRUE, &error));
  b = pal_workspace_attribute (f.ws, f.x, N, node, PAL_TARGET_SUM, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (a->grad_first, b->grad_first, 6 * plane * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (a->probs, b->probs, N * 3 * sizeof (float)), ==, 0);

  g_assert_false (pal_workspace_grads (f.ws, f.x, f.labels, NULL, 0, 0, N, f.grad, NULL, &error));
  g_assert_error (error, PAL_ERROR, PAL_ERROR_INVALID);
  g_clear_error (&error);

  /* new weights, fixed again: the maps follow */
  w = pal_model_lookup (f.model, "c3.weight", NULL);
  w[0] += 1.f;
  g_assert_true (pal_workspace_set_weights_fixed (f.ws, TRUE, &error));
  c = pal_workspace_attribute (f.ws, f.x, N, node, PAL_TARGET_SUM, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (a->grad_first, c->grad_first, 6 * plane * sizeof (float)), !=, 0);
  g_assert_true (pal_workspace_set_weights_fixed (f.ws, FALSE, &error));
  g_clear_pointer (&a, pal_attr_maps_free);
  a = pal_workspace_attribute (f.ws, f.x, N, node, PAL_TARGET_SUM, 0, &error);
  g_assert_cmpint (memcmp (a->grad_first, c->grad_first, 6 * plane * sizeof (float)), ==, 0);
  fixture_clear (&f);
}

/* PAL settings survive the model's metadata; bad ones are refused. */
static void
test_loss_config_meta (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m = pal_model_new ("bench-vgg", &error);
  PalLossConfig in = { .attribution = PAL_ATTR_GRAD, .channels = PAL_CHANNELS_FIRST,
                       .c1 = 64, .lambda = 0.25f }, out;

  g_assert_no_error (error);
  g_assert_false (pal_loss_config_from_model (&out, m, &error));
  g_assert_no_error (error);
  in.layer = pal_graph_find (pal_model_get_graph (m), "conv5");
  pal_loss_config_to_model (&in, m);
  g_assert_cmpstr (pal_model_get_meta (m, "pal.layer"), ==, "conv5");
  g_assert_true (pal_loss_config_from_model (&out, m, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out.layer, ==, in.layer);
  g_assert_cmpint (out.attribution, ==, in.attribution);
  g_assert_cmpint (out.channels, ==, in.channels);
  g_assert_cmpint (out.c1, ==, 64);
  g_assert_cmpfloat (out.lambda, ==, 0.25f);

  for (int k = 0; k < 4; k++)
    {
      static const char *bad[][2] = { { "pal.layer", "conv99" }, { "pal.c1", "129" },
                                      { "pal.lambda", "1x" }, { "pal.channels", "half" } };
      g_autoptr (PalModel) b = pal_model_new ("bench-vgg", NULL);

      pal_loss_config_to_model (&in, b);
      pal_model_set_meta (b, bad[k][0], bad[k][1]);
      g_assert_false (pal_loss_config_from_model (&out, b, &error));
      g_assert_error (error, PAL_ERROR, PAL_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, bad[k][1]));
      g_clear_error (&error);
    }
}

/* Same seed, same thread count: the same bits. */
static void
test_deterministic (void)
{
  Fixture a, b;
  g_autoptr (GError) error = NULL;
  PalLossConfig cfg = { .attribution = PAL_ATTR_GRAD_INPUT, .channels = PAL_CHANNELS_FIRST,
                        .lambda = 1.f };
  gsize nf;

  fixture_init (&a, small_net, 16);
  fixture_init (&b, small_net, 16);
  cfg.layer = pal_graph_find (pal_model_get_graph (a.model), "f");
  pal_workspace_set_pal (a.ws, &cfg, &error);
  pal_workspace_set_pal (b.ws, &cfg, &error);
  g_assert_no_error (error);
  nf = pal_graph_get_n_floats (pal_model_get_graph (a.model));
  g_assert_cmpfloat (loss_and_grad (&a, a.grad), ==, loss_and_grad (&b, b.grad));
  g_assert_cmpint (memcmp (a.grad, b.grad, nf * sizeof (float)), ==, 0);
  fixture_clear (&a);
  fixture_clear (&b);
}

/* Training with PAL raises the correlation of the attribution with the
 * prior; without PAL it does not move the same way. */
static void
test_training_moves_pal (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  PalLossConfig cfg = { .attribution = PAL_ATTR_GRAD_INPUT, .channels = PAL_CHANNELS_FIRST,
                        .lambda = 1.f };
  PalAdamConfig ac = pal_adam_config_default (3e-3f);
  g_autoptr (PalAdam) adam = NULL;
  PalLosses first = { 0 }, last = { 0 };

  fixture_init (&f, small_net, 17);
  cfg.layer = pal_graph_find (pal_model_get_graph (f.model), "f");
  pal_workspace_set_pal (f.ws, &cfg, &error);
  g_assert_no_error (error);
  adam = pal_adam_new (f.model, &ac);
  for (int step = 0; step < 80; step++)
    {
      PalLosses l;
      pal_workspace_grads (f.ws, f.x, f.labels, f.priors, 5, 7, N, f.grad, &l, &error);
      g_assert_no_error (error);
      if (step == 0)
        first = l;
      last = l;
      pal_adam_step (adam, f.grad);
    }
  g_test_message ("CE %.4f -> %.4f, PAL %.4f -> %.4f", first.ce, last.ce, first.pal, last.pal);
  g_assert_cmpfloat (last.ce, <, first.ce);
  g_assert_cmpfloat (last.pal, <, first.pal - 0.2);
  fixture_clear (&f);
}

/* Adam against its formula, and the polynomial decay. */
static void
test_adam (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalModel) m = pal_model_new ("input data shape=1x2x2\nlinear fc out=2\n", &error);
  PalAdamConfig ac = pal_adam_config_default (0.1f);
  g_autoptr (PalAdam) adam = NULL;
  float *w, grad[10], w0[10];
  double mm = 0.0, vv = 0.0, ww;

  g_assert_no_error (error);
  pal_model_init (m, 1);
  w = pal_model_get_params (m);
  memcpy (w0, w, sizeof w0);
  ac.total_steps = 4;
  ac.power = 0.9f;
  ac.weight_decay = 0.01f;
  adam = pal_adam_new (m, &ac);
  ww = w0[3];
  for (int t = 0; t < 3; t++)
    {
      double lr = 0.1 * pow (1.0 - t / 4.0, 0.9), gr;
      g_assert_cmpfloat_with_epsilon (pal_adam_get_lr (adam), lr, 1e-7);
      for (int i = 0; i < 10; i++)
        grad[i] = 0.5f * (i + 1) * (t + 1);
      pal_adam_step (adam, grad);
      gr = grad[3] + 0.01 * ww;
      mm = 0.9 * mm + 0.1 * gr;
      vv = 0.999 * vv + 0.001 * gr * gr;
      ww -= lr * (mm / (1 - pow (0.9, t + 1))) / (sqrt (vv / (1 - pow (0.999, t + 1))) + 1e-8);
      g_assert_cmpfloat_with_epsilon (w[3], ww, 1e-5);
    }
  g_assert_cmpint (pal_adam_get_step (adam), ==, 3);
}

int
main (int argc, char **argv)
{
  static const PalCase cases[] = {
    { PAL_ATTR_GRAD, PAL_CHANNELS_ALL, 0 },
    { PAL_ATTR_GRAD, PAL_CHANNELS_MEAN, 0 },
    { PAL_ATTR_GRAD, PAL_CHANNELS_FIRST, 0 },
    { PAL_ATTR_GRAD, PAL_CHANNELS_FIRST, 1 },
    { PAL_ATTR_GRAD_INPUT, PAL_CHANNELS_ALL, 0 },
    { PAL_ATTR_GRAD_INPUT, PAL_CHANNELS_MEAN, 0 },
    { PAL_ATTR_GRAD_INPUT, PAL_CHANNELS_FIRST, 0 },
    { PAL_ATTR_GRAD_INPUT, PAL_CHANNELS_FIRST, 3 },
  };
  static const char *attr_names[] = { "grad", "grad-input" };
  static const char *ch_names[] = { "all", "mean", "first" };

  g_test_init (&argc, &argv, NULL);
  pal_set_threads (g_getenv ("PAL_TEST_THREADS") ? atoi (g_getenv ("PAL_TEST_THREADS")) : 2);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/exec/pal-gradient/%s/%s%s%d",
                                               attr_names[cases[i].attr],
                                               ch_names[cases[i].channels],
                                               cases[i].c1 ? ":" : "", cases[i].c1);
      g_test_add_data_func (path, &cases[i], test_pal_gradient);
    }
  g_test_add_func ("/exec/ce-gradient", test_ce_gradient);
  g_test_add_func ("/exec/winograd-gradient", test_winograd_gradient);
  g_test_add_func ("/exec/bn-tail", test_bn_tail);
  g_test_add_func ("/exec/gradcam-direct", test_gradcam_direct);
  g_test_add_func ("/exec/attribution-fd", test_attribution_fd);
  g_test_add_func ("/exec/deterministic", test_deterministic);
  g_test_add_func ("/exec/fixed-weights", test_fixed_weights);
  g_test_add_func ("/exec/loss-config-meta", test_loss_config_meta);
  g_test_add_func ("/exec/training-moves-pal", test_training_moves_pal);
  g_test_add_func ("/exec/adam", test_adam);
  return g_test_run ();
}
