/* test-ops.c - numerical tests of the kernels in core/ops
 *
 * Forwards are compared with naive loops written from the ops' definitions
 * (PyTorch's, where it has one).  Backwards are compared with central finite
 * differences of the scalar L = sum r * y, r a fixed random tensor, y the
 * float output of the forward, L summed in double.
 *
 * Tolerances: values are compared as |a - b| <= tol max (1, |a|, |b|).
 * - Conv, linear, the pools, gap, dropout, the inference batch norm and the
 *   activations (away from their kink) are linear in any single input or
 *   weight, so central differences have no truncation error: the step,
 *   h = 0.5 (1e-2 where no kink or argmax switch may be crossed), only
 *   scales rounding down.  A perturbation changes at most a channel of
 *   outputs, each rounded to ~1e-7 relative: L moves by ~1e-5 at worst, the
 *   quotient by ~1e-5 / 2h.  TOL_LIN = 1e-4 (the worst seen is ~2e-6).
 * - The training batch norm is smooth, not linear, in x and gamma: h = 1e-2
 *   with O(1) inputs and channel std >= 0.5 gives a truncation error
 *   h^2 / 6 L''' ~ 1e-4 and rounding ~1e-6 / 2h ~ 1e-4.  TOL_SMOOTH = 2e-3
 *   (the worst seen is ~3e-5).
 * The finite difference divides by the step actually taken in float.
 * Each gradient check also asserts that some checked gradient is not tiny, so
 * an all-zero gradient cannot pass against an all-zero difference.
 */
#include "ops/pal-ops.h"
#include "pal-graph.h"

#include <math.h>
#include <string.h>

#define SEED 20240611
#define TOL_LIN 1e-4       /* finite differences of (piecewise) linear maps */
#define TOL_SMOOTH 2e-3    /* finite differences of the training batch norm */
#define TOL_FWD 1e-4       /* float kernel vs double loop */
#define TOL_THREADS 1e-5   /* 1 vs 2 threads: summation order only */

/* ---- Helpers ----------------------------------------------------------- */

/* Backward buffers start at PREFILL and check_grad subtracts it, so every
 * gradient check also checks that the backward adds instead of storing. */
#define PREFILL 0.5f

/* len floats uniform in [lo, hi), or all lo if rng is NULL */
static float *
fill_new (GRand *rng, gsize len, double lo, double hi)
{
  float *p = g_new (float, MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    p[i] = (float) (rng ? g_rand_double_range (rng, lo, hi) : lo);
  return p;
}

#define grad_new(len) fill_new (NULL, (len), PREFILL, 0)

static gboolean
near (double a, double b, double tol)
{
  return fabs (a - b) <= tol * MAX (1.0, MAX (fabs (a), fabs (b)));
}

/* Fails the test at the first element out of tolerance. */
static void
check_close (const char *what, const float *got, const float *want, gsize len,
             double tol)
{
  for (gsize i = 0; i < len; i++)
    if (!near (got[i], want[i], tol))
      {
        g_test_fail_printf ("%s[%" G_GSIZE_FORMAT "]: got %.8g, want %.8g",
                            what, i, got[i], want[i]);
        return;
      }
}

/* As check_close, but relative to the largest |want| (at least 1): for sums
 * whose order changes, where rounding scales with the terms, not with each
 * result (a weight gradient element near 0 from terms of size 20). */
static void
check_close_scaled (const char *what, const float *got, const float *want, gsize len,
                    double tol)
{
  double scale = 1.0;

  for (gsize i = 0; i < len; i++)
    scale = MAX (scale, fabs (want[i]));
  for (gsize i = 0; i < len; i++)
    if (fabs ((double) got[i] - want[i]) > tol * scale)
      {
        g_test_fail_printf ("%s[%" G_GSIZE_FORMAT "]: got %.8g, want %.8g (scale %.3g)",
                            what, i, got[i], want[i], scale);
        return;
      }
}

/* An objective L = sum r * y; forward fills y from the current inputs. */
typedef struct _Obj Obj;
struct _Obj {
  void  (*forward) (Obj *o);
  float *y, *r;
  gsize  ny;
};

static double
obj_eval (Obj *o)
{
  double s = 0.0;

  o->forward (o);
  for (gsize i = 0; i < o->ny; i++)
    s += (double) o->r[i] * o->y[i];
  return s;
}

/* Compares grad [len] - PREFILL with central differences of L in x [len],
 * at all coordinates if len <= max_checks, else at max_checks random ones. */
static void
check_grad (Obj *o, const char *what, float *x, const float *grad, gsize len,
            double h, double tol, guint max_checks, GRand *rng)
{
  gboolean all = len <= max_checks;
  double biggest = 0.0;

  for (gsize c = 0; c < (all ? len : max_checks); c++)
    {
      gsize i = all ? c : (gsize) g_rand_int_range (rng, 0, (gint32) len);
      float v = x[i], vp = (float) (v + h), vm = (float) (v - h);
      double lp, lm, fd, g = (double) grad[i] - PREFILL;

      x[i] = vp;
      lp = obj_eval (o);
      x[i] = vm;
      lm = obj_eval (o);
      x[i] = v;
      fd = (lp - lm) / ((double) vp - (double) vm);
      biggest = MAX (biggest, fabs (fd));
      if (!near (fd, g, tol))
        {
          g_test_fail_printf ("d%s[%" G_GSIZE_FORMAT "]: backward %.8g, "
                              "finite difference %.8g", what, i, g, fd);
          return;
        }
    }
  if (biggest < 1e-3)
    g_test_fail_printf ("d%s: all checked gradients are ~0 (%g)", what, biggest);
  o->forward (o);   /* leave y at the unperturbed point */
}

/* fd [ny] = (y (x + h u) - y (x - h u)) / 2h, the directional derivative */
static void
directional (float *fd, Obj *o, float *x, const float *u, gsize nx, float h)
{
  g_autofree float *x0 = g_memdup2 (x, nx * sizeof (float));
  g_autofree float *yp = g_new (float, o->ny);

  for (gsize i = 0; i < nx; i++)
    x[i] = x0[i] + h * u[i];
  o->forward (o);
  memcpy (yp, o->y, o->ny * sizeof (float));
  for (gsize i = 0; i < nx; i++)
    x[i] = x0[i] - h * u[i];
  o->forward (o);
  for (gsize i = 0; i < o->ny; i++)
    fd[i] = (float) (((double) yp[i] - o->y[i]) / (2.0 * h));
  memcpy (x, x0, nx * sizeof (float));
  o->forward (o);
}

/* ---- conv2d ------------------------------------------------------------ */

typedef struct {
  const char *name;
  int n, cin, h, w, cout, kh, kw, sh, sw, pt, pl, pb, pr, groups;
} ConvCase;

/* oh = (h + pt + pb - kh) / sh + 1: pb, pr only enter through oh, ow */
static const ConvCase conv_cases[] = {
  /* name              n cin h  w cout kh kw sh sw pt pl pb pr groups */
  { "3x3-s1-p1",       2, 3, 6, 5, 4,  3, 3, 1, 1, 1, 1, 1, 1, 1 },
  { "3x3-s2-p1-odd",   2, 2, 7, 9, 3,  3, 3, 2, 2, 1, 1, 1, 1, 1 },
  { "1x1-pointwise",   2, 5, 4, 3, 6,  1, 1, 1, 1, 0, 0, 0, 0, 1 },
  { "1x1-s2",          2, 3, 5, 5, 2,  1, 1, 2, 2, 0, 0, 0, 0, 1 },
  { "asym-pad",        2, 2, 5, 6, 3,  3, 3, 1, 1, 0, 1, 1, 0, 1 },
  { "asym-pad-s2",     2, 2, 6, 7, 3,  3, 3, 2, 2, 0, 1, 1, 0, 1 },
  { "groups2",         2, 4, 5, 5, 6,  3, 3, 1, 1, 1, 1, 1, 1, 2 },
  { "depthwise",       2, 4, 6, 6, 4,  3, 3, 1, 1, 1, 1, 1, 1, 4 },
  /* face-api's stride-2 separable conv: TF "SAME" pads 0 before, 1 after */
  { "depthwise-same-s2", 2, 4, 6, 6, 4, 3, 3, 2, 2, 0, 0, 1, 1, 4 },
  { "5x3",             2, 2, 8, 7, 3,  5, 3, 1, 1, 2, 1, 2, 1, 1 },
  { "batch3-s2x1",     3, 3, 7, 5, 2,  3, 3, 2, 1, 1, 0, 1, 0, 1 },
  { "width1-kw5-p2",   2, 2, 3, 1, 2,  3, 5, 1, 1, 1, 2, 1, 2, 1 },
  /* Winograd F(2x2, 3x3) (3x3, stride 1, groups 1, cin >= 8): odd sizes
   * make partial edge tiles; pads 0 (valid), asymmetric and > 2 (the input
   * gradient's mirrored pad 2 - p is then negative); "blocks" has 1152
   * tiles, 6 blocks of 192 (cin + cout = 64), so blocks span images and
   * split tile rows. */
  { "wino-8x8-p1",     3, 8, 8, 8, 5,  3, 3, 1, 1, 1, 1, 1, 1, 1 },
  { "wino-7x9-p1",     3, 9, 7, 9, 6,  3, 3, 1, 1, 1, 1, 1, 1, 1 },
  { "wino-1x5-p1",     2, 8, 1, 5, 4,  3, 3, 1, 1, 1, 1, 1, 1, 1 },
  { "wino-2x2-p1",     3, 8, 2, 2, 3,  3, 3, 1, 1, 1, 1, 1, 1, 1 },
  { "wino-valid-7x6",  3, 8, 7, 6, 4,  3, 3, 1, 1, 0, 0, 0, 0, 1 },
  { "wino-valid-8x9",  2, 10, 8, 9, 7, 3, 3, 1, 1, 0, 0, 0, 0, 1 },
  { "wino-asym-6x7",   3, 10, 6, 7, 5, 3, 3, 1, 1, 0, 2, 2, 0, 1 },
  { "wino-asym-5x8",   2, 8, 5, 8, 6,  3, 3, 1, 1, 2, 1, 0, 2, 1 },
  { "wino-pad3",       2, 8, 4, 5, 3,  3, 3, 1, 1, 3, 0, 1, 3, 1 },
  { "wino-blocks",     8, 32, 24, 23, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1 },
};

typedef struct {
  Obj          o;
  PalConvGeom  g;
  int          n;
  gsize        nin, nw, nout;
  float       *in, *w, *b;
  PalScratch   s;
} ConvFix;

static void
conv_obj_forward (Obj *o)
{
  ConvFix *f = (ConvFix *) o;

  pal_conv2d_forward (o->y, f->in, f->w, f->b, f->n, &f->g, &f->s);
}

static void
conv_setup (ConvFix *f, gconstpointer data)
{
  const ConvCase *c = data;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED);
  PalConvGeom g = { c->cin, c->h, c->w, c->cout,
                    (c->h + c->pt + c->pb - c->kh) / c->sh + 1,
                    (c->w + c->pl + c->pr - c->kw) / c->sw + 1,
                    c->kh, c->kw, c->sh, c->sw, c->pt, c->pl, c->groups };

  f->g = g;
  f->n = c->n;
  f->nin = (gsize) c->n * g.cin * g.h * g.w;
  f->nw = (gsize) g.cout * (g.cin / g.groups) * g.kh * g.kw;
  f->nout = (gsize) c->n * g.cout * g.oh * g.ow;
  f->in = fill_new (rng, f->nin, -1, 1);
  f->w = fill_new (rng, f->nw, -1, 1);
  f->b = fill_new (rng, g.cout, -1, 1);
  f->o = (Obj) { conv_obj_forward, g_new0 (float, f->nout),
                 fill_new (rng, f->nout, -1, 1), f->nout };
  f->s.n_workers = 2;    /* enough for pal_set_threads (2) */
  f->s.col_floats = pal_conv2d_col_floats (&g);
  f->s.part_floats = pal_conv2d_part_floats (&g);
  f->s.wino_floats = pal_conv2d_wino_floats (&g, f->n, &f->s.wino_u_floats);
  for (int k = 0; k < 2; k++)
    {
      f->s.col[k] = g_new0 (float, f->s.col_floats);
      f->s.part[k] = g_new0 (float, f->s.part_floats);
      f->s.wino[k] = f->s.wino_floats ? g_new0 (float, f->s.wino_floats) : NULL;
    }
  f->s.wino_u = f->s.wino_u_floats ? g_new0 (float, f->s.wino_u_floats) : NULL;
  pal_set_threads (1);
}

static void
conv_teardown (ConvFix *f, G_GNUC_UNUSED gconstpointer data)
{
  for (int k = 0; k < 2; k++)
    {
      g_free (f->s.col[k]);
      g_free (f->s.part[k]);
      g_free (f->s.wino[k]);
    }
  g_free (f->s.wino_u);
  g_free (f->in); g_free (f->w); g_free (f->b); g_free (f->o.y); g_free (f->o.r);
  pal_set_threads (1);
}

/* The definition, as a direct loop in double. */
static void
naive_conv (float *out, const float *in, const float *w, const float *b, int n,
            const PalConvGeom *g)
{
  int cg = g->cin / g->groups, og = g->cout / g->groups;

  for (int i = 0; i < n; i++)
    for (int o = 0; o < g->cout; o++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
          {
            double acc = b[o];

            for (int c = 0; c < cg; c++)
              for (int ki = 0; ki < g->kh; ki++)
                for (int kj = 0; kj < g->kw; kj++)
                  {
                    int iy = oy * g->sh - g->pt + ki, ix = ox * g->sw - g->pl + kj;
                    int ci = (o / og) * cg + c;

                    if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                      acc += (double) w[((o * cg + c) * g->kh + ki) * g->kw + kj]
                             * in[(((gsize) i * g->cin + ci) * g->h + iy) * g->w + ix];
                  }
            out[(((gsize) i * g->cout + o) * g->oh + oy) * g->ow + ox] = (float) acc;
          }
}

/* forward vs the loop; forward without bias vs the directional derivative */
static void
test_conv_forward (ConvFix *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 1);
  g_autofree float *want = g_new (float, f->nout);
  g_autofree float *u = fill_new (rng, f->nin, -1, 1);

  conv_obj_forward (&f->o);
  naive_conv (want, f->in, f->w, f->b, f->n, &f->g);
  check_close ("forward", f->o.y, want, f->nout, TOL_FWD);

  directional (want, &f->o, f->in, u, f->nin, 0.5f);
  pal_conv2d_forward (f->o.y, u, f->w, NULL, f->n, &f->g, &f->s);
  check_close ("jvp", f->o.y, want, f->nout, TOL_FWD);
}

static void
test_conv_backward (ConvFix *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 2);
  g_autofree float *din = grad_new (f->nin), *dw = grad_new (f->nw);
  g_autofree float *db = grad_new (f->g.cout);

  pal_conv2d_backward (din, dw, db, f->o.r, f->in, f->w, f->n, &f->g, &f->s);
  check_grad (&f->o, "in", f->in, din, f->nin, 0.5, TOL_LIN, 64, rng);
  check_grad (&f->o, "w", f->w, dw, f->nw, 0.5, TOL_LIN, 64, rng);
  check_grad (&f->o, "b", f->b, db, f->g.cout, 0.5, TOL_LIN, 64, rng);
}

/* 2 workers split the images (Winograd: the tiles); weight gradients are
 * summed per worker, compared relative to their largest (Winograd sums
 * larger transformed terms over blocks of tiles that change with the
 * split: wino-blocks' dw differ by ~1e-5 where the largest is ~90).  The
 * 2-thread backward runs once per output, the others NULL (in or w then
 * not needed either), db first while the scratch partials still hold the
 * 1-thread sums, and must give the same results. */
static void
test_conv_threads (ConvFix *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autofree float *y1 = g_new (float, f->nout), *y2 = g_new (float, f->nout);
  g_autofree float *din1 = grad_new (f->nin), *dw1 = grad_new (f->nw);
  g_autofree float *db1 = grad_new (f->g.cout), *din2 = grad_new (f->nin);
  g_autofree float *dw2 = grad_new (f->nw), *db2 = grad_new (f->g.cout);

  pal_conv2d_forward (y1, f->in, f->w, f->b, f->n, &f->g, &f->s);
  pal_conv2d_backward (din1, dw1, db1, f->o.r, f->in, f->w, f->n, &f->g, &f->s);
  pal_set_threads (2);
  g_assert_cmpint (pal_get_threads (), ==, 2);
  pal_conv2d_forward (y2, f->in, f->w, f->b, f->n, &f->g, &f->s);
  pal_conv2d_backward (NULL, NULL, db2, f->o.r, NULL, NULL, f->n, &f->g, &f->s);
  pal_conv2d_backward (din2, NULL, NULL, f->o.r, NULL, f->w, f->n, &f->g, &f->s);
  pal_conv2d_backward (NULL, dw2, NULL, f->o.r, f->in, NULL, f->n, &f->g, &f->s);
  check_close ("forward", y2, y1, f->nout, TOL_THREADS);
  check_close ("din", din2, din1, f->nin, TOL_THREADS);
  check_close_scaled ("dw", dw2, dw1, f->nw, TOL_THREADS);
  check_close ("db", db2, db1, f->g.cout, TOL_THREADS);
}

/* Winograd vs im2col (the switch off), with 1 and 2 threads: forward and
 * every backward output.  Both are float sums of the same products in other
 * orders (and Winograd's transforms), so they agree to rounding: TOL_FWD. */
static void
test_conv_im2col (ConvFix *f, G_GNUC_UNUSED gconstpointer data)
{
  g_autofree float *y1 = g_new (float, f->nout), *y2 = g_new (float, f->nout);
  g_autofree float *din1 = grad_new (f->nin), *dw1 = grad_new (f->nw);
  g_autofree float *db1 = grad_new (f->g.cout), *din2 = grad_new (f->nin);
  g_autofree float *dw2 = grad_new (f->nw), *db2 = grad_new (f->g.cout);

  for (int threads = 1; threads <= 2; threads++)
    {
      pal_set_threads (threads);
      pal_conv2d_set_winograd (TRUE);
      g_assert_true (pal_conv2d_uses_winograd (&f->g, f->n, &f->s));
      memcpy (din1, din2, f->nin * sizeof (float));
      memcpy (dw1, dw2, f->nw * sizeof (float));
      memcpy (db1, db2, f->g.cout * sizeof (float));
      pal_conv2d_forward (y1, f->in, f->w, f->b, f->n, &f->g, &f->s);
      pal_conv2d_backward (din1, dw1, db1, f->o.r, f->in, f->w, f->n, &f->g, &f->s);

      pal_conv2d_set_winograd (FALSE);
      g_assert_false (pal_conv2d_uses_winograd (&f->g, f->n, &f->s));
      pal_conv2d_forward (y2, f->in, f->w, f->b, f->n, &f->g, &f->s);
      pal_conv2d_backward (din2, dw2, db2, f->o.r, f->in, f->w, f->n, &f->g, &f->s);
      pal_conv2d_set_winograd (TRUE);

      check_close ("forward", y1, y2, f->nout, TOL_FWD);
      check_close ("din", din1, din2, f->nin, TOL_FWD);
      check_close ("dw", dw1, dw2, f->nw, TOL_FWD);
      check_close ("db", db1, db2, f->g.cout, TOL_FWD);
    }
}

/* ---- linear ------------------------------------------------------------ */

typedef struct {
  Obj    o;
  int    n, nin, nout;
  float *in, *w, *b;
} LinObj;

static void
lin_obj_forward (Obj *o)
{
  LinObj *l = (LinObj *) o;

  pal_linear_forward (o->y, l->in, l->w, l->b, l->n, l->nin, l->nout);
}

/* n x nin -> nout; the large case splits over 64 tasks on 2 threads. */
static void
test_linear (gconstpointer data)
{
  const int *dims = data;
  int n = dims[0], nin = dims[1], nout = dims[2];
  gboolean large = (gsize) n * nin * nout >= (1 << 18);
  guint checks = large ? 8 : 256;
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 3);
  double ws = 1.0 / sqrt (nin);
  gsize nx = (gsize) n * nin, nw = (gsize) nout * nin, ny = (gsize) n * nout;
  g_autofree float *y = g_new (float, ny), *r = fill_new (rng, ny, -1, 1);
  g_autofree float *in = fill_new (rng, nx, -1, 1), *w = fill_new (rng, nw, -ws, ws);
  g_autofree float *b = fill_new (rng, nout, -1, 1), *u = fill_new (rng, nx, -1, 1);
  g_autofree float *want = g_new (float, ny);
  float *d[2][3];
  LinObj l = { { lin_obj_forward, y, r, ny }, n, nin, nout, in, w, b };

  pal_set_threads (large ? 2 : 1);
  lin_obj_forward (&l.o);
  for (int i = 0; i < n; i++)
    for (int o = 0; o < nout; o++)
      {
        double acc = b[o];
        for (int k = 0; k < nin; k++)
          acc += (double) in[(gsize) i * nin + k] * w[(gsize) o * nin + k];
        want[(gsize) i * nout + o] = (float) acc;
      }
  check_close ("forward", y, want, ny, TOL_FWD);

  directional (want, &l.o, in, u, nx, 0.5f);
  pal_linear_forward (y, u, w, NULL, n, nin, nout);
  check_close ("jvp", y, want, ny, TOL_FWD);

  for (int t = 0; t < 2; t++)
    {
      pal_set_threads (t + 1);
      d[t][0] = grad_new (nx);
      d[t][1] = grad_new (nw);
      d[t][2] = grad_new (nout);
      pal_linear_backward (d[t][0], d[t][1], d[t][2], r, in, w, n, nin, nout);
    }
  check_close ("din", d[1][0], d[0][0], nx, TOL_THREADS);
  check_close ("dw", d[1][1], d[0][1], nw, TOL_THREADS);
  check_close ("db", d[1][2], d[0][2], nout, TOL_THREADS);
  check_grad (&l.o, "in", in, d[1][0], nx, 0.5, TOL_LIN, checks, rng);
  check_grad (&l.o, "w", w, d[1][1], nw, 0.5, TOL_LIN, checks, rng);
  check_grad (&l.o, "b", b, d[1][2], nout, 0.5, TOL_LIN, checks, rng);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 3; k++)
      g_free (d[t][k]);
  pal_set_threads (1);
}

/* ---- TF's legacy bilinear resize (input preprocessing, no gradient) ---- */

static void
test_resize_legacy (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 9);
  static const guint8 two[4] = { 0, 10, 20, 30 };
  /* TF: src = dst * in / out, taps floor and ceil clamped to the last pixel */
  static const float want4[16] = { 0, 5, 10, 10,  10, 15, 20, 20,  20, 25, 30, 30,  20, 25, 30, 30 };
  float out4[16];
  enum { H = 5, W = 7, C = 3, CH = 9, CW = 9, TOP = 2, LEFT = 1, OH = 4, OW = 6 };
  guint8 img[H * W * C];
  double canvas[CH][CW][C];
  float out[OH * OW * C], same[H * W * C];

  pal_resize_bilinear_legacy (out4, 4, 4, two, 2, 2, 1, 2, 2, 2, 0, 0);
  check_close ("2x2 -> 4x4", out4, want4, 16, 0.0);

  for (int i = 0; i < H * W * C; i++)
    img[i] = (guint8) g_rand_int_range (rng, 0, 256);
  /* the same size is the identity */
  pal_resize_bilinear_legacy (same, H, W, img, H, W, C, W * C, H, W, 0, 0);
  for (int i = 0; i < H * W * C; i++)
    g_assert_cmpfloat (same[i], ==, img[i]);

  /* in a zero canvas, against the formula on the padded picture */
  memset (canvas, 0, sizeof canvas);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < C; c++)
        canvas[y + TOP][x + LEFT][c] = img[(y * W + x) * C + c];
  pal_resize_bilinear_legacy (out, OH, OW, img, H, W, C, W * C, CH, CW, TOP, LEFT);
  for (int y = 0; y < OH; y++)
    for (int x = 0; x < OW; x++)
      for (int c = 0; c < C; c++)
        {
          double sy = (double) CH / OH * y, sx = (double) CW / OW * x;
          int y0 = (int) floor (sy), x0 = (int) floor (sx);
          int y1 = MIN ((int) ceil (sy), CH - 1), x1 = MIN ((int) ceil (sx), CW - 1);
          double fy = sy - y0, fx = sx - x0;
          double top = canvas[y0][x0][c] + (canvas[y0][x1][c] - canvas[y0][x0][c]) * fx;
          double bot = canvas[y1][x0][c] + (canvas[y1][x1][c] - canvas[y1][x0][c]) * fx;

          g_assert_cmpfloat (out[(y * OW + x) * C + c], ==, (float) (top + (bot - top) * fy));
        }
}

/* ---- Pools ------------------------------------------------------------- */

typedef struct {
  const char *name;
  int h, w, k, s, p;
  int pb;     /* extra padding at the bottom and right (TF "SAME") */
} PoolCase;

/* oh = (h + 2p - k) / s + 1, so every window fits the padded input */
static const PoolCase pool_cases[] = {
  { "k2-s2", 6, 6, 2, 2, 0 },   { "k3-s2-p1", 7, 7, 3, 2, 1 },
  { "k3-s2-p1-even", 6, 8, 3, 2, 1 }, { "k3-s1-p1", 5, 6, 3, 1, 1 },
};

/* TF "SAME" max pools of face-api's detector, padded (with -inf) at the
 * bottom and right only: 2x2 stride 2 on odd sizes, 2x2 stride 1 */
static const PoolCase same_pool_cases[] = {
  { "same-k2-s2-odd", 7, 5, 2, 2, 0, 1 }, { "same-k2-s2-13", 13, 13, 2, 2, 0, 1 },
  { "same-k2-s1", 5, 6, 2, 1, 0, 1 },     { "same-k2-s1-13", 13, 13, 2, 1, 0, 1 },
};

#define POOL_NP 6   /* planes: 2 images x 3 channels */

typedef struct {
  Obj          o;
  PalPoolGeom  g;
  float       *in;
  gint32      *argmax;
  int          kind;   /* 0 max, 1 avg, 2 gap */
} PoolObj;

static void
pool_obj_forward (Obj *o)
{
  PoolObj *p = (PoolObj *) o;

  if (p->kind == 0)
    pal_maxpool_forward (o->y, p->argmax, p->in, POOL_NP, &p->g);
  else if (p->kind == 1)
    pal_avgpool_forward (o->y, p->in, POOL_NP, &p->g);
  else
    pal_gap_forward (o->y, p->in, POOL_NP, p->g.h * p->g.w);
}

static void
pool_obj_init (PoolObj *p, const PoolCase *c, int kind, gboolean count_pad, GRand *rng)
{
  PalPoolGeom g = { c->h, c->w, (c->h + 2 * c->p + c->pb - c->k) / c->s + 1,
                    (c->w + 2 * c->p + c->pb - c->k) / c->s + 1, c->k, c->k, c->s, c->s,
                    c->p, c->p, count_pad };
  gsize isz = (gsize) c->h * c->w, ny = (gsize) POOL_NP * (kind == 2 ? 1 : g.oh * g.ow);

  *p = (PoolObj) { { pool_obj_forward, g_new (float, ny), fill_new (rng, ny, -1, 1), ny },
                   g, fill_new (rng, POOL_NP * isz, -1, 1), g_new (gint32, ny), kind };
  /* max: distinct values 0.05 apart (> 2h, so no finite-difference step
   * switches an argmax), all negative (padding must act as -inf, not 0),
   * shuffled within each plane */
  if (kind == 0)
    for (int pl = 0; pl < POOL_NP; pl++)
      {
        float *x = p->in + pl * isz;
        for (gsize i = 0; i < isz; i++)
          x[i] = -1.f - 0.05f * (float) i;
        for (gsize i = isz - 1; i > 0; i--)
          {
            gsize j = (gsize) g_rand_int_range (rng, 0, (gint32) i + 1);
            float t = x[i]; x[i] = x[j]; x[j] = t;
          }
      }
  p->o.forward (&p->o);
}

static void
pool_obj_clear (PoolObj *p)
{
  g_free (p->o.y); g_free (p->o.r); g_free (p->in); g_free (p->argmax);
}

/* The window of output (oy, ox) clipped to the input: [y0, y1) x [x0, x1).
 * Returns its size clipped to the padded input instead: the divisor of
 * PyTorch's avg_pool2d with count_include_pad. */
static int
pool_window (const PalPoolGeom *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
  int ya = oy * g->sh - g->pt, xa = ox * g->sw - g->pl;
  int yb = MIN (ya + g->kh, g->h + g->pt), xb = MIN (xa + g->kw, g->w + g->pl);

  *y0 = MAX (ya, 0); *x0 = MAX (xa, 0);
  *y1 = MIN (yb, g->h); *x1 = MIN (xb, g->w);
  return (yb - ya) * (xb - xa);
}

static void
test_maxpool (gconstpointer data)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 4);
  PoolObj p;
  pool_obj_init (&p, data, 0, FALSE, rng);
  const PalPoolGeom *g = &p.g;
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow, nx = POOL_NP * isz;
  g_autofree float *want = g_new (float, p.o.ny), *din = grad_new (nx);
  g_autofree float *u = fill_new (rng, nx, -1, 1);

  for (gsize k = 0; k < p.o.ny; k++)
    {
      int pl = k / osz, y0, y1, x0, x1;
      float best = -INFINITY;

      pool_window (g, (k % osz) / g->ow, k % g->ow, &y0, &y1, &x0, &x1);
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          best = MAX (best, p.in[pl * isz + iy * g->w + ix]);
      want[k] = best;
      g_assert_cmpint (p.argmax[k], >=, 0);
      g_assert_cmpint (p.argmax[k], <, (gint32) isz);
      g_assert_cmpfloat (p.in[pl * isz + p.argmax[k]], ==, p.o.y[k]);
    }
  check_close ("forward", p.o.y, want, p.o.ny, 0.0);

  pal_maxpool_backward (din, p.o.r, p.argmax, POOL_NP, g, FALSE);
  check_grad (&p.o, "in", p.in, din, nx, 1e-2, TOL_LIN, 256, rng);

  /* overwrite: the same gradient, written over whatever the buffer held */
  {
    g_autofree float *dov = g_new (float, nx);

    for (gsize k = 0; k < nx; k++)
      dov[k] = 7.f;
    pal_maxpool_backward (dov, p.o.r, p.argmax, POOL_NP, g, TRUE);
    for (gsize k = 0; k < nx; k++)
      g_assert_cmpfloat_with_epsilon (dov[k], din[k] - 0.5f, 1e-6);
  }

  /* JVP: the input gathered at argmax is the directional derivative */
  directional (want, &p.o, p.in, u, nx, 1e-2f);
  pal_maxpool_gather (p.o.y, u, p.argmax, POOL_NP, g);
  check_close ("gather", p.o.y, want, p.o.ny, TOL_FWD);
  pool_obj_clear (&p);
}

static void
test_avgpool (gconstpointer data, gboolean count_pad)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 5);
  PoolObj p;
  pool_obj_init (&p, data, 1, count_pad, rng);
  const PalPoolGeom *g = &p.g;
  gsize isz = (gsize) g->h * g->w, osz = (gsize) g->oh * g->ow, nx = POOL_NP * isz;
  g_autofree float *want = g_new (float, p.o.ny), *din = grad_new (nx);

  for (gsize k = 0; k < p.o.ny; k++)
    {
      int pl = k / osz, y0, y1, x0, x1;
      int padded = pool_window (g, (k % osz) / g->ow, k % g->ow, &y0, &y1, &x0, &x1);
      double acc = 0.0;

      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          acc += p.in[pl * isz + iy * g->w + ix];
      want[k] = (float) (acc / (count_pad ? padded : (y1 - y0) * (x1 - x0)));
    }
  check_close ("forward", p.o.y, want, p.o.ny, TOL_FWD);

  pal_avgpool_backward (din, p.o.r, POOL_NP, g);
  check_grad (&p.o, "in", p.in, din, nx, 0.5, TOL_LIN, 256, rng);
  pool_obj_clear (&p);
}

static void test_avgpool_count_pad (gconstpointer c) { test_avgpool (c, TRUE); }
static void test_avgpool_no_pad (gconstpointer c) { test_avgpool (c, FALSE); }

static void
test_gap (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 6);
  PoolObj p;
  pool_obj_init (&p, &pool_cases[1], 2, FALSE, rng);
  int hw = p.g.h * p.g.w;
  g_autofree float *want = g_new (float, POOL_NP), *din = grad_new (POOL_NP * hw);

  for (int i = 0; i < POOL_NP; i++)
    {
      double acc = 0.0;
      for (int k = 0; k < hw; k++)
        acc += p.in[i * hw + k];
      want[i] = (float) (acc / hw);
    }
  check_close ("forward", p.o.y, want, POOL_NP, TOL_FWD);
  pal_gap_backward (din, p.o.r, POOL_NP, hw);
  check_grad (&p.o, "in", p.in, din, (gsize) POOL_NP * hw, 0.5, TOL_LIN, 256, rng);
  pool_obj_clear (&p);
}

/* ---- Batch norm -------------------------------------------------------- */

#define BN_N 3
#define BN_C 4
#define BN_HW 5
#define BN_LEN (BN_N * BN_C * BN_HW)
#define BN_EPS 1e-5f
#define BN_AT(i, ch, k) (((i) * BN_C + (ch)) * BN_HW + (k))

typedef struct {
  Obj      o;
  gboolean train, no_rmean;
  float    x[BN_LEN], gamma[BN_C], beta[BN_C], rmean[BN_C], rvar[BN_C];
  float    mean[BN_C], invstd[BN_C], y[BN_LEN], r[BN_LEN];
} BnObj;

static void
bn_obj_forward (Obj *o)
{
  BnObj *b = (BnObj *) o;

  if (b->train)
    pal_bn_forward_train (o->y, b->mean, b->invstd, NULL, NULL, b->x, b->gamma,
                          b->beta, BN_N, BN_C, BN_HW, BN_EPS, 0.1f);
  else
    pal_bn_forward_infer (o->y, b->x, b->gamma, b->beta, b->no_rmean ? NULL : b->rmean,
                          b->rvar, BN_N, BN_C, BN_HW, BN_EPS);
}

/* x per channel: offset in [-3, 3], std in [0.5, 2] */
static void
bn_init (BnObj *b, gboolean train, GRand *rng)
{
  memset (b, 0, sizeof *b);
  b->o = (Obj) { bn_obj_forward, b->y, b->r, BN_LEN };
  b->train = train;
  for (int ch = 0; ch < BN_C; ch++)
    {
      double off = g_rand_double_range (rng, -3, 3), sd = g_rand_double_range (rng, 0.5, 2);
      for (int i = 0; i < BN_N; i++)
        for (int k = 0; k < BN_HW; k++)
          b->x[BN_AT (i, ch, k)] = (float) (off + sd * g_rand_double_range (rng, -1.7, 1.7));
      b->gamma[ch] = (float) g_rand_double_range (rng, 0.5, 1.5);
      b->beta[ch] = (float) g_rand_double_range (rng, -1, 1);
      b->rmean[ch] = (float) g_rand_double_range (rng, -1, 1);
      b->rvar[ch] = (float) g_rand_double_range (rng, 0.5, 2);
    }
  for (int i = 0; i < BN_LEN; i++)
    b->r[i] = (float) g_rand_double_range (rng, -1, 1);
  bn_obj_forward (&b->o);
}

/* mean and biased variance of channel ch of x [BN_N, BN_C, BN_HW], in double */
static void
chan_stats (const float *x, int ch, double *mean, double *var)
{
  double s = 0.0, ss = 0.0, cnt = BN_N * BN_HW;

  for (int i = 0; i < BN_N; i++)
    for (int k = 0; k < BN_HW; k++)
      s += x[BN_AT (i, ch, k)];
  *mean = s / cnt;
  for (int i = 0; i < BN_N; i++)
    for (int k = 0; k < BN_HW; k++)
      ss += (x[BN_AT (i, ch, k)] - *mean) * (x[BN_AT (i, ch, k)] - *mean);
  *var = ss / cnt;
}

static void
test_bn_train (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 7);
  g_autofree float *dx = grad_new (BN_LEN), *dg = grad_new (BN_C);
  g_autofree float *dbeta = grad_new (BN_C);
  BnObj b;
  float rm[BN_C], rv[BN_C];
  const float momentum = 0.1f;
  const int cnt = BN_N * BN_HW;

  bn_init (&b, TRUE, rng);
  for (int ch = 0; ch < BN_C; ch++)
    {
      b.gamma[ch] = 1.f;
      b.beta[ch] = 0.f;
    }
  memcpy (rm, b.rmean, sizeof rm);
  memcpy (rv, b.rvar, sizeof rv);
  pal_bn_forward_train (b.y, b.mean, b.invstd, b.rmean, b.rvar, b.x, b.gamma, b.beta,
                        BN_N, BN_C, BN_HW, BN_EPS, momentum);
  for (int ch = 0; ch < BN_C; ch++)
    {
      double mu, var, ymu, yvar;

      chan_stats (b.x, ch, &mu, &var);
      chan_stats (b.y, ch, &ymu, &yvar);
      /* normalised: mean 0, (biased) variance var / (var + eps) ~ 1 */
      g_assert_cmpfloat_with_epsilon (ymu, 0.0, 1e-5);
      g_assert_cmpfloat_with_epsilon (yvar, var / (var + BN_EPS), 1e-5);
      g_assert_true (near (b.mean[ch], mu, 1e-6));
      g_assert_true (near (b.invstd[ch], 1.0 / sqrt (var + BN_EPS), 1e-6));
      /* PyTorch's momentum rule, with the unbiased variance */
      g_assert_true (near (b.rmean[ch], (1 - momentum) * rm[ch] + momentum * mu, 1e-6));
      g_assert_true (near (b.rvar[ch], (1 - momentum) * rv[ch]
                           + momentum * var * cnt / (cnt - 1), 1e-6));
    }

  /* backward through the batch statistics, general gamma and beta */
  bn_init (&b, TRUE, rng);
  pal_bn_backward_train (dx, dg, dbeta, b.r, b.x, b.mean, b.invstd, b.gamma,
                         BN_N, BN_C, BN_HW);
  check_grad (&b.o, "x", b.x, dx, BN_LEN, 1e-2, TOL_SMOOTH, 256, rng);
  check_grad (&b.o, "gamma", b.gamma, dg, BN_C, 1e-2, TOL_SMOOTH, 256, rng);
  check_grad (&b.o, "beta", b.beta, dbeta, BN_C, 1e-2, TOL_SMOOTH, 256, rng);
}

static void
test_bn_infer (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 8);
  g_autofree float *dx = grad_new (BN_LEN), *dg = grad_new (BN_C);
  g_autofree float *dbeta = grad_new (BN_C), *dg0 = grad_new (BN_C);
  float want[BN_LEN];
  BnObj b;

  bn_init (&b, FALSE, rng);
  for (int i = 0; i < BN_LEN; i++)
    {
      int ch = (i / BN_HW) % BN_C;
      want[i] = (float) (b.gamma[ch] * (b.x[i] - b.rmean[ch]) / sqrt (b.rvar[ch] + BN_EPS)
                         + b.beta[ch]);
    }
  check_close ("forward", b.y, want, BN_LEN, TOL_FWD);
  pal_bn_backward_infer (dx, dg, dbeta, b.r, b.x, b.gamma, b.rmean, b.rvar,
                         BN_N, BN_C, BN_HW, BN_EPS);
  check_grad (&b.o, "x", b.x, dx, BN_LEN, 0.5, TOL_LIN, 256, rng);
  check_grad (&b.o, "gamma", b.gamma, dg, BN_C, 0.5, TOL_LIN, 256, rng);
  check_grad (&b.o, "beta", b.beta, dbeta, BN_C, 0.5, TOL_LIN, 256, rng);

  /* rmean NULL (the PAL weight term): dgamma = sum dout x / sqrt (rvar + eps) */
  b.no_rmean = TRUE;
  pal_bn_backward_infer (NULL, dg0, NULL, b.r, b.x, b.gamma, NULL, b.rvar,
                         BN_N, BN_C, BN_HW, BN_EPS);
  for (int ch = 0; ch < BN_C; ch++)
    {
      double s = 0.0;
      for (int i = 0; i < BN_N; i++)
        for (int k = 0; k < BN_HW; k++)
          s += (double) b.r[BN_AT (i, ch, k)] * b.x[BN_AT (i, ch, k)];
      want[ch] = (float) (PREFILL + s / sqrt (b.rvar[ch] + BN_EPS));
    }
  check_close ("dgamma (rmean NULL)", dg0, want, BN_C, TOL_FWD);
  check_grad (&b.o, "gamma (rmean NULL)", b.gamma, dg0, BN_C, 0.5, TOL_LIN, 256, rng);

  /* the JVP form: beta and rmean NULL is a per-channel scale */
  pal_bn_forward_infer (b.y, b.x, b.gamma, NULL, NULL, b.rvar, BN_N, BN_C, BN_HW, BN_EPS);
  for (int i = 0; i < BN_LEN; i++)
    {
      int ch = (i / BN_HW) % BN_C;
      want[i] = (float) (b.gamma[ch] * b.x[i] / sqrt (b.rvar[ch] + BN_EPS));
    }
  check_close ("jvp", b.y, want, BN_LEN, TOL_FWD);
}

/* ---- Element-wise ------------------------------------------------------ */

#define EW_LEN 64

typedef struct {
  Obj     o;
  int     act;         /* or -1: dropout */
  float   alpha, scale;
  float   x[EW_LEN], y[EW_LEN], r[EW_LEN];
  guint8  mask[EW_LEN];
} EwObj;

static void
ew_obj_forward (Obj *o)
{
  EwObj *e = (EwObj *) o;

  if (e->act < 0)
    pal_dropout_forward (o->y, e->x, e->mask, e->scale, EW_LEN);
  else
    {
      memcpy (o->y, e->x, sizeof e->x);
      pal_act_forward (o->y, EW_LEN, e->act, e->alpha);
    }
}

/* |x| >= 0.05 > h: no finite-difference step crosses the kink at 0 */
static void
ew_init (EwObj *e, int act, GRand *rng)
{
  memset (e, 0, sizeof *e);
  e->o = (Obj) { ew_obj_forward, e->y, e->r, EW_LEN };
  e->act = act;
  e->alpha = act == PAL_ACT_LEAKY ? 0.1f : 0.f;
  e->scale = 1.f / (1.f - 0.3f);
  for (int i = 0; i < EW_LEN; i++)
    {
      e->x[i] = (float) ((0.05 + g_rand_double (rng)) * (i % 2 ? 1 : -1));
      e->r[i] = (float) g_rand_double_range (rng, -1, 1);
      e->mask[i] = g_rand_double (rng) < 0.7;
    }
  ew_obj_forward (&e->o);
}

static void
test_act (gconstpointer data)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 9);
  g_autofree float *dx = grad_new (EW_LEN), *d = grad_new (EW_LEN);
  float want[EW_LEN];
  EwObj e;

  ew_init (&e, GPOINTER_TO_INT (data), rng);
  for (int i = 0; i < EW_LEN; i++)
    want[i] = e.act == PAL_ACT_NONE || e.x[i] > 0 ? e.x[i]
              : e.act == PAL_ACT_LEAKY ? 0.1f * e.x[i] : 0.f;
  check_close ("forward", e.y, want, EW_LEN, 0.0);

  pal_act_backward (dx, e.r, e.y, EW_LEN, e.act, e.alpha);
  check_grad (&e.o, "x", e.x, dx, EW_LEN, 1e-2, TOL_LIN, 256, rng);
  /* the in-place mask gives the same gradient */
  memcpy (d, e.r, sizeof e.r);
  pal_act_mask (d, e.y, EW_LEN, e.act, e.alpha);
  for (int i = 0; i < EW_LEN; i++)
    want[i] = dx[i] - PREFILL;
  check_close ("mask", d, want, EW_LEN, 1e-6);
}

static void
test_dropout_add (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (SEED + 10);
  g_autofree float *din = grad_new (EW_LEN);
  float want[EW_LEN], out[EW_LEN];
  EwObj e;

  ew_init (&e, -1, rng);
  for (int i = 0; i < EW_LEN; i++)
    want[i] = e.mask[i] ? e.x[i] * e.scale : 0.f;
  check_close ("dropout forward", e.y, want, EW_LEN, 0.0);
  pal_dropout_backward (din, e.r, e.mask, e.scale, EW_LEN);
  check_grad (&e.o, "x", e.x, din, EW_LEN, 0.5, TOL_LIN, 256, rng);

  pal_add_forward (out, e.x, e.r, EW_LEN);
  for (int i = 0; i < EW_LEN; i++)
    want[i] = e.x[i] + e.r[i];
  check_close ("add", out, want, EW_LEN, 0.0);
  pal_accumulate (out, e.x, EW_LEN);
  for (int i = 0; i < EW_LEN; i++)
    want[i] += e.x[i];
  check_close ("accumulate", out, want, EW_LEN, 0.0);
}

/* ------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  static const int lin_small[] = { 4, 37, 5 }, lin_large[] = { 4, 1024, 300 };
  static const struct {
    const char *name;
    void (*fn) (ConvFix *, gconstpointer);
  } conv_tests[] = {
    { "forward", test_conv_forward }, { "backward", test_conv_backward },
    { "threads", test_conv_threads },
  };
  static const struct {
    const char *name;
    GTestDataFunc fn;
  } pool_tests[] = {
    { "maxpool", test_maxpool }, { "avgpool-count-pad", test_avgpool_count_pad },
    { "avgpool-no-pad", test_avgpool_no_pad },
  };

  g_test_init (&argc, &argv, NULL);
  /* Start the worker thread before any parallel call: a worker created
   * after one starts from generation 0 and can run a stale round (a race in
   * pal-parallel.c); switching between 1 and 2 threads creates none. */
  pal_set_threads (2);
  pal_set_threads (1);

  for (gsize i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    for (gsize t = 0; t < G_N_ELEMENTS (conv_tests); t++)
      {
        g_autofree char *path = g_strdup_printf ("/ops/conv/%s/%s", conv_cases[i].name,
                                                 conv_tests[t].name);
        g_test_add (path, ConvFix, &conv_cases[i], conv_setup, conv_tests[t].fn,
                    conv_teardown);
      }
  /* Winograd vs im2col where Winograd applies (the wino-* cases) */
  for (gsize i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    if (g_str_has_prefix (conv_cases[i].name, "wino-"))
      {
        g_autofree char *path = g_strdup_printf ("/ops/conv/%s/im2col", conv_cases[i].name);
        g_test_add (path, ConvFix, &conv_cases[i], conv_setup, test_conv_im2col,
                    conv_teardown);
      }
  g_test_add_data_func ("/ops/linear/4x37x5", lin_small, test_linear);
  g_test_add_data_func ("/ops/linear/4x1024x300-split", lin_large, test_linear);
  for (gsize t = 0; t < G_N_ELEMENTS (pool_tests); t++)
    for (gsize i = 0; i < G_N_ELEMENTS (pool_cases); i++)
      {
        g_autofree char *path = g_strdup_printf ("/ops/%s/%s", pool_tests[t].name,
                                                 pool_cases[i].name);
        g_test_add_data_func (path, &pool_cases[i], pool_tests[t].fn);
      }
  for (gsize i = 0; i < G_N_ELEMENTS (same_pool_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ops/maxpool/%s", same_pool_cases[i].name);
      g_test_add_data_func (path, &same_pool_cases[i], test_maxpool);
    }
  g_test_add_func ("/ops/resize-legacy", test_resize_legacy);
  g_test_add_func ("/ops/gap", test_gap);
  g_test_add_func ("/ops/batchnorm/train", test_bn_train);
  g_test_add_func ("/ops/batchnorm/infer", test_bn_infer);
  g_test_add_data_func ("/ops/act/none", GINT_TO_POINTER (PAL_ACT_NONE), test_act);
  g_test_add_data_func ("/ops/act/relu", GINT_TO_POINTER (PAL_ACT_RELU), test_act);
  g_test_add_data_func ("/ops/act/leaky", GINT_TO_POINTER (PAL_ACT_LEAKY), test_act);
  g_test_add_func ("/ops/dropout-add", test_dropout_add);
  return g_test_run ();
}
