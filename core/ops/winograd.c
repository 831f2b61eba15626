/* winograd.c: 3x3, stride 1, ungrouped convolution by Winograd's F(2x2, 3x3)
 *
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016.)
 * Each 2x2 output tile is  Y = A^T [U (.) V] A  with U = G g G^T the 4x4
 * transform of a 3x3 kernel g and V = B^T d B that of the tile's 4x4 input
 * patch d, zero outside the image (the padding; partial tiles at the bottom
 * and right edges read zeros and their extra outputs are cropped).  Summed
 * over input channels the 16 elementwise products are 16 GEMMs
 *   M_e [cout, T] = U_e [cout, cin] V_e [cin, T],   e = 4 r + s, T tiles.
 * 4 multiplies per output and input-output channel pair instead of 9.
 *
 * Input gradient: the same on dout, with the kernel rotated by 180 degrees,
 * cin and cout swapped and padding 2 - pt, 2 - pl (negative is fine: tiles
 * just start inside).  With J the 3x3 reversal, G J = P G where P swaps
 * rows 0 and 3 of 4, so the rotated kernel's transform is P U P^T: the
 * forward's U_e read at e with r, s mapped 0 <-> 3, and transposed.
 * Weight gradient: the transposed algorithm, F(3x3, 2x2),
 *   dW = G^T [ sum_t (A dY_t A^T) (.) (B^T d_t B) ] G,
 * 16 GEMMs  S_e [cout, cin] += Z_e [cout, T] V_e [cin, T]^T  over the tiles.
 * The transforms only use 0, +-1 and +-1/2, so rounding stays close to that
 * of a direct convolution.
 *
 * Work split: the n * tiles-per-image tiles of a call, image-major, are cut
 * into one contiguous range per worker (pal_chunk, so a single image is
 * shared too), each processed in blocks of max_block() tiles (64 to 1024,
 * sized for L2) that may span images: small maps (12x12: 36 tiles) still
 * make GEMMs of 64 columns or more, large ones bounded buffers.  Kernel
 * transforms U are made once per call, into the shared scratch wino_u.
 * Weight and bias gradients are summed per worker and reduced in worker
 * order: results are deterministic for a given thread count.
 *
 * Per-worker scratch (wino[worker]): the weight-gradient sums S [16, cout,
 * cin], rows for the transforms [24 (tw + 1)], then a block's V [16, cin, T]
 * and M (or Z) [16, cout, T], T tiles, all with some padding (Arr below).
 */
#include "pal-ops.h"

#include "../pal-blas.h"
#include <string.h>

/* Below this the transforms cost more than the 2.25x fewer multiplies save:
 * measured (1 thread, n = 16, 96x96 to 32 channels, forward + both
 * gradients) 1.6x slower than im2col at cin = 3 (bench-vgg's first layer),
 * 1.3x at cin = 4, 0.9x at 8 (1.2x at 48x48 to 64), 0.6x at 16. */
#define MIN_CIN 8
/* A block's V and M take up to BLOCK_FLOATS (768 KB, to stay in L2 with
 * the GEMMs' packed panels: 1.5 MB blocks were 1.3-1.8x slower, 4 MB 2x,
 * on a 2 MB L2), but at least MIN_BLOCK tiles (GEMMs of 64 columns). */
#define BLOCK_FLOATS (3 << 16)
#define MIN_BLOCK 64
#define MAX_BLOCK 1024

/* ---- The switch --------------------------------------------------------- */

static int wino_off = -1;   /* -1: not read from the environment yet */

void
pal_conv2d_set_winograd (gboolean enable)
{
  g_atomic_int_set (&wino_off, enable ? 0 : 1);
}

gboolean
pal_conv2d_get_winograd (void)
{
  int v = g_atomic_int_get (&wino_off);

  if (v < 0)
    {
      const char *e = g_getenv ("PAL_CONV_NO_WINOGRAD");
      int off = e && *e && strcmp (e, "0") != 0;

      g_atomic_int_compare_and_exchange (&wino_off, -1, off);
      v = g_atomic_int_get (&wino_off);
    }
  return v == 0;
}

/* ---- Geometry ----------------------------------------------------------- */

static gboolean
eligible (const PalConvGeom *g)
{
  return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->groups == 1
         && g->cin >= MIN_CIN && g->cout >= 1 && g->oh >= 1 && g->ow >= 1
         && g->h >= 1 && g->w >= 1;
}

/* A 3x3 conv of planes [h, w] into [oh, ow] whose output (y, x) reads the
 * input from (y + oy, x + ox): 2x2 output tiles, th x tw per image. */
typedef struct {
  int h, w, oh, ow;
  int oy, ox;
  int th, tw, tpi;
} Tiling;

static Tiling
tiling (int h, int w, int oh, int ow, int pt, int pl)
{
  Tiling t = { h, w, oh, ow, -pt, -pl, (oh + 1) / 2, (ow + 1) / 2, 0 };

  t.tpi = t.th * t.tw;
  return t;
}

static Tiling
tiling_forward (const PalConvGeom *g)
{
  return tiling (g->h, g->w, g->oh, g->ow, g->pt, g->pl);
}

/* the input gradient's conv: dout [oh, ow] into din [h, w] */
static Tiling
tiling_din (const PalConvGeom *g)
{
  return tiling (g->oh, g->ow, g->h, g->w, 2 - g->pt, 2 - g->pl);
}

static int
max_block (const PalConvGeom *g)
{
  int tb = BLOCK_FLOATS / (16 * (g->cin + g->cout));

  return CLAMP (tb, MIN_BLOCK, MAX_BLOCK);
}

/* A block's [16, c, nt] array: element e, channel ch, tile t at
 * e * es + ch * ld + t.  Rows are padded to 16 floats and off powers of
 * two, and es by EPAD: the transforms stream through all 16 e at once,
 * which at a power-of-two stride would all map to the same cache sets. */
#define EPAD 16

typedef struct {
  float *p;
  int    ld;
  gsize  es;
} Arr;

static int
lead (int nt)
{
  int ld = (nt + 15) & ~15;

  return ld % 256 == 0 ? ld + 16 : ld;
}

static Arr
arr (float *p, int c, int nt)
{
  int ld = lead (nt);

  return (Arr) { p, ld, (gsize) c * ld + EPAD };
}

static gsize
arr_floats (int c, int nt)
{
  return 16 * ((gsize) c * lead (nt) + EPAD);
}

/* the stride of e in U and S [16, cout, cin] */
static gsize
kstride (const PalConvGeom *g)
{
  return (gsize) g->cin * g->cout + EPAD;
}

static gsize
sum_floats (const PalConvGeom *g)
{
  return 16 * kstride (g);
}

static gsize
rows_floats (const PalConvGeom *g)
{
  Tiling f = tiling_forward (g), d = tiling_din (g);

  return (gsize) 24 * (MAX (f.tw, d.tw) + 1);
}

gsize
pal_conv2d_wino_floats (const PalConvGeom *g, int n, gsize *shared)
{
  Tiling f, d;
  int tb;

  if (shared)
    *shared = 0;
  if (!eligible (g) || n < 1)
    return 0;
  if (shared)
    *shared = 16 * kstride (g);
  f = tiling_forward (g);
  d = tiling_din (g);
  if ((gint64) n * MAX (f.tpi, d.tpi) > G_MAXINT / 2)
    return 0;     /* tile indices are ints */
  tb = (int) MIN ((gint64) max_block (g), (gint64) n * MAX (f.tpi, d.tpi));
  return sum_floats (g) + rows_floats (g) + arr_floats (g->cin, tb) + arr_floats (g->cout, tb);
}

gboolean
pal_conv2d_uses_winograd (const PalConvGeom *g, int n, const PalScratch *s)
{
  gsize shared, need;

  if (!pal_conv2d_get_winograd () || !eligible (g))
    return FALSE;
  need = pal_conv2d_wino_floats (g, n, &shared);
  if (need == 0 || !s->wino_u || s->wino_u_floats < shared || s->wino_floats < need
      || s->n_workers < pal_get_threads ())
    return FALSE;
  for (int k = 0; k < pal_get_threads (); k++)
    if (!s->wino[k])
      return FALSE;
  return TRUE;
}

/* ---- Transforms --------------------------------------------------------- */

/* Walks the tiles [t0, t0 + nt) of a tiling as runs along tile rows: image
 * i, tile row ty, tiles tx0 .. tx0 + ntx - 1, column col of the block. */
#define FOR_RUNS(tl, t0, nt, i, ty, tx0, ntx, col)                               \
  for (int t_ = (t0), col = 0, i, ty, tx0, ntx; t_ < (t0) + (nt); t_ += ntx, col += ntx) \
    if ((i = t_ / (tl)->tpi, ty = t_ % (tl)->tpi / (tl)->tw,                      \
         tx0 = t_ % (tl)->tpi % (tl)->tw,                                          \
         ntx = MIN ((tl)->tw - tx0, (t0) + (nt) - t_), TRUE))

/* The inner loops, over the tiles of a run, apart so that the compiler
 * knows their arrays apart (restrict) and vectorises them. */

/* B^T along columns: (d0 - d2, d1 + d2, d2 - d1, d1 - d3) */
static void
cols_bt (float *restrict q0, float *restrict q1, float *restrict q2, float *restrict q3,
         const float *d0, const float *d1, const float *d2, const float *d3, int n)
{
  for (int x = 0; x < n; x++)
    {
      q0[x] = d0[x] - d2[x];
      q1[x] = d1[x] + d2[x];
      q2[x] = d2[x] - d1[x];
      q3[x] = d1[x] - d3[x];
    }
}

/* B along a row, tile x from r [2x .. 2x + 3] */
static void
row_b (float *restrict v0, float *restrict v1, float *restrict v2, float *restrict v3,
       const float *restrict r, int n)
{
  for (int x = 0; x < n; x++)
    {
      float a = r[2 * x], b = r[2 * x + 1], c = r[2 * x + 2], d = r[2 * x + 3];

      v0[x] = a - c;
      v1[x] = b + c;
      v2[x] = c - b;
      v3[x] = b - d;
    }
}

/* A^T along columns: (m0 + m1 + m2, m1 - m2 - m3) */
static void
cols_at (float *restrict s0, float *restrict s1, const float *restrict m0,
         const float *restrict m1, const float *restrict m2, const float *restrict m3, int n)
{
  for (int x = 0; x < n; x++)
    {
      s0[x] = m0[x] + m1[x] + m2[x];
      s1[x] = m1[x] - m2[x] - m3[x];
    }
}

/* A along rows, into the 2 outputs of each tile: r [2x], r [2x + 1] = .. + b */
static void
row_a (float *restrict r, const float *restrict s0, const float *restrict s1,
       const float *restrict s2, const float *restrict s3, float b, int n)
{
  for (int x = 0; x < n; x++)
    {
      r[2 * x] = s0[x] + s1[x] + s2[x] + b;
      r[2 * x + 1] = s1[x] - s2[x] - s3[x] + b;
    }
}

/* the same, added into r */
static void
row_a_add (float *restrict r, const float *restrict s0, const float *restrict s1,
           const float *restrict s2, const float *restrict s3, int n)
{
  for (int x = 0; x < n; x++)
    {
      r[2 * x] += s0[x] + s1[x] + s2[x];
      r[2 * x + 1] += s1[x] - s2[x] - s3[x];
    }
}

/* A along columns of dY's 2 rows: (y0, y0 + y1, y0 - y1, -y1) */
static void
cols_a_dy (float *restrict c0, float *restrict c1, float *restrict c2, float *restrict c3,
           const float *restrict y0, const float *restrict y1, int n)
{
  for (int x = 0; x < n; x++)
    {
      c0[x] = y0[x];
      c1[x] = y0[x] + y1[x];
      c2[x] = y0[x] - y1[x];
      c3[x] = -y1[x];
    }
}

/* and A along a row, tile x from c [2x], c [2x + 1] */
static void
row_a_dy (float *restrict z0, float *restrict z1, float *restrict z2, float *restrict z3,
          const float *restrict c, int n)
{
  for (int x = 0; x < n; x++)
    {
      float a = c[2 * x], b = c[2 * x + 1];

      z0[x] = a;
      z1[x] = a + b;
      z2[x] = a - b;
      z3[x] = -b;
    }
}

/* V = B^T d B of the tiles' 4x4 input patches, src [n, c, h, w].  Rows
 * inside the image are read in place, others from zero-padded copies. */
static void
input_block (Arr V, const float *src, int c, const Tiling *tl, int t0, int nt, float *rows)
{
  gsize plane = (gsize) tl->h * tl->w;
  int Wmax = 2 * tl->tw + 2;
  float *zero = rows + 8 * Wmax;

  memset (zero, 0, sizeof (float) * Wmax);
  FOR_RUNS (tl, t0, nt, i, ty, tx0, ntx, col)
    {
      int W = 2 * ntx + 2, y0 = 2 * ty + tl->oy, x0 = 2 * tx0 + tl->ox;
      int lo = CLAMP (-x0, 0, W), hi = CLAMP (tl->w - x0, lo, W);
      const float *img = src + (gsize) i * c * plane;
      float *q[4] = { rows, rows + W, rows + 2 * W, rows + 3 * W };
      float *pad = rows + 4 * W;

      for (int ch = 0; ch < c; ch++)
        {
          const float *p = img + ch * plane;
          const float *d[4];
          float *v = V.p + (gsize) ch * V.ld + col;

          for (int k = 0; k < 4; k++)
            {
              int y = y0 + k;
              float *pk = pad + k * W;

              if (y < 0 || y >= tl->h || hi == lo)
                d[k] = zero;
              else if (lo == 0 && hi == W)
                d[k] = p + (gsize) y * tl->w + x0;
              else
                {
                  for (int x = 0; x < lo; x++)
                    pk[x] = 0.f;
                  memcpy (pk + lo, p + (gsize) y * tl->w + x0 + lo, sizeof (float) * (hi - lo));
                  for (int x = hi; x < W; x++)
                    pk[x] = 0.f;
                  d[k] = pk;
                }
            }
          cols_bt (q[0], q[1], q[2], q[3], d[0], d[1], d[2], d[3], W);
          for (int k = 0; k < 4; k++)
            {
              float *v0 = v + 4 * k * V.es;

              row_b (v0, v0 + V.es, v0 + 2 * V.es, v0 + 3 * V.es, q[k], ntx);
            }
        }
    }
}

/* dst [n, c, oh, ow] = (or += when add) A^T M A (+ b) of the tiles, cropped;
 * b [c] or NULL.  Whole tile rows go straight to dst. */
static void
output_block (float *dst, Arr M, const float *b, gboolean add, int c,
              const Tiling *tl, int t0, int nt, float *rows)
{
  gsize plane = (gsize) tl->oh * tl->ow;

  FOR_RUNS (tl, t0, nt, i, ty, tx0, ntx, col)
    {
      int y = 2 * ty, x0 = 2 * tx0;
      int ncol = MIN (2 * ntx, tl->ow - x0);
      gboolean two = y + 1 < tl->oh, full = ncol == 2 * ntx;
      float *img = dst + (gsize) i * c * plane;
      float *s = rows, *r0 = rows + 8 * ntx;

      for (int ch = 0; ch < c; ch++)
        {
          const float *m = M.p + (gsize) ch * M.ld + col;
          float *o[2];
          float bv = b ? b[ch] : 0.f;

          o[0] = img + ch * plane + (gsize) y * tl->ow + x0;
          o[1] = o[0] + tl->ow;
          for (int k = 0; k < 4; k++)
            cols_at (s + k * ntx, s + (4 + k) * ntx, m + k * M.es, m + (4 + k) * M.es,
                     m + (8 + k) * M.es, m + (12 + k) * M.es, ntx);
          for (int r = 0; r < 1 + two; r++)
            {
              const float *sr = s + 4 * r * ntx;

              if (full && add)
                row_a_add (o[r], sr, sr + ntx, sr + 2 * ntx, sr + 3 * ntx, ntx);
              else if (full)
                row_a (o[r], sr, sr + ntx, sr + 2 * ntx, sr + 3 * ntx, bv, ntx);
              else
                {
                  row_a (r0, sr, sr + ntx, sr + 2 * ntx, sr + 3 * ntx, bv, ntx);
                  if (add)
                    for (int x = 0; x < ncol; x++)
                      o[r][x] += r0[x];
                  else
                    memcpy (o[r], r0, sizeof (float) * ncol);
                }
            }
        }
    }
}

/* Z = A dY A^T of the tiles' 2x2 dY (zero beyond oh, ow), dy [n, c, oh, ow] */
static void
grad_block (Arr Z, const float *dy, int c, const Tiling *tl, int t0, int nt, float *rows)
{
  gsize plane = (gsize) tl->oh * tl->ow;

  FOR_RUNS (tl, t0, nt, i, ty, tx0, ntx, col)
    {
      int y = 2 * ty, x0 = 2 * tx0, W = 2 * ntx;
      int ncol = MIN (W, tl->ow - x0);
      gboolean two = y + 1 < tl->oh;
      const float *img = dy + (gsize) i * c * plane;
      float *r0 = rows, *r1 = rows + W, *cc = rows + 2 * W;

      for (int ch = 0; ch < c; ch++)
        {
          const float *p0 = img + ch * plane + (gsize) y * tl->ow + x0;
          float *z = Z.p + (gsize) ch * Z.ld + col;

          const float *y0 = p0, *y1 = p0 + tl->ow;

          if (ncol < W || !two)
            {
              memcpy (r0, p0, sizeof (float) * ncol);
              for (int x = ncol; x < W; x++)
                r0[x] = 0.f;
              if (two)
                memcpy (r1, p0 + tl->ow, sizeof (float) * ncol);
              for (int x = two ? ncol : 0; x < W; x++)
                r1[x] = 0.f;
              y0 = r0;
              y1 = r1;
            }
          cols_a_dy (cc, cc + W, cc + 2 * W, cc + 3 * W, y0, y1, W);
          for (int k = 0; k < 4; k++)
            {
              float *z0 = z + 4 * k * Z.es;

              row_a_dy (z0, z0 + Z.es, z0 + 2 * Z.es, z0 + 3 * Z.es, cc + k * W, ntx);
            }
        }
    }
}

/* db [c] += the sums of dy over the tiles' outputs */
static void
bias_grad (float *db, const float *dy, int c, const Tiling *tl, int t0, int nt)
{
  gsize plane = (gsize) tl->oh * tl->ow;

  FOR_RUNS (tl, t0, nt, i, ty, tx0, ntx, col)
    {
      int y = 2 * ty, x0 = 2 * tx0;
      int ncol = MIN (2 * ntx, tl->ow - x0);
      int nrow = MIN (2, tl->oh - y);
      const float *img = dy + (gsize) i * c * plane;

      (void) col;
      for (int ch = 0; ch < c; ch++)
        {
          float acc = 0.f;

          for (int r = 0; r < nrow; r++)
            {
              const float *p = img + ch * plane + (gsize) (y + r) * tl->ow + x0;
              for (int x = 0; x < ncol; x++)
                acc += p[x];
            }
          db[ch] += acc;
        }
    }
}

/* U = G g G^T, rows of G: (1, 0, 0), (1, 1, 1)/2, (1, -1, 1)/2, (0, 0, 1) */
static void
kernel_transform (float u[16], const float g[9])
{
  float q[4][3];

  for (int j = 0; j < 3; j++)
    {
      float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];

      q[0][j] = g0;
      q[1][j] = 0.5f * (g0 + g1 + g2);
      q[2][j] = 0.5f * (g0 - g1 + g2);
      q[3][j] = g2;
    }
  for (int r = 0; r < 4; r++)
    {
      float g0 = q[r][0], g1 = q[r][1], g2 = q[r][2];

      u[4 * r] = g0;
      u[4 * r + 1] = 0.5f * (g0 + g1 + g2);
      u[4 * r + 2] = 0.5f * (g0 - g1 + g2);
      u[4 * r + 3] = g2;
    }
}

/* dW = G^T S G, rows of G^T: (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1) */
static void
weight_untransform (float dw[9], const float s[16])
{
  float p[3][4];

  for (int j = 0; j < 4; j++)
    {
      float s0 = s[j], s1 = s[4 + j], s2 = s[8 + j], s3 = s[12 + j];

      p[0][j] = s0 + 0.5f * (s1 + s2);
      p[1][j] = 0.5f * (s1 - s2);
      p[2][j] = 0.5f * (s1 + s2) + s3;
    }
  for (int k = 0; k < 3; k++)
    {
      float s0 = p[k][0], s1 = p[k][1], s2 = p[k][2], s3 = p[k][3];

      dw[3 * k] = s0 + 0.5f * (s1 + s2);
      dw[3 * k + 1] = 0.5f * (s1 - s2);
      dw[3 * k + 2] = 0.5f * (s1 + s2) + s3;
    }
}

/* ---- Calls -------------------------------------------------------------- */

typedef struct {
  float *out;
  const float *in, *w, *b;
  float *din, *dw, *db;
  const float *dout;
  const PalConvGeom *g;
  PalScratch *s;
  int n, nw;
  const float *U;      /* the kernel transforms this call uses */
} WinoJob;

/* U [16, cout, cin] for the output channels [begin, end) */
static void
kernel_chunk (int begin, int end, int worker, void *data)
{
  WinoJob *j = data;
  const PalConvGeom *g = j->g;
  gsize es = kstride (g);

  for (int o = begin; o < end; o++)
    for (int c = 0; c < g->cin; c++)
      {
        float u[16];
        gsize at = (gsize) o * g->cin + c;

        kernel_transform (u, j->w + at * 9);
        for (int e = 0; e < 16; e++)
          ((float *) j->U)[e * es + at] = u[e];
      }
}

/* Uses the caller's transforms when the scratch carries them (weights that
 * do not change between calls), else makes them in the shared scratch. */
static void
transform_kernels (WinoJob *j)
{
  if (j->s->wino_u_pre)
    {
      j->U = j->s->wino_u_pre;
      return;
    }
  j->U = j->s->wino_u;
  pal_parallel_for (j->g->cout, kernel_chunk, j);
}

void
pal_conv2d_wino_kernels (float *u, const float *w, const PalConvGeom *g)
{
  WinoJob j = { .w = w, .g = g, .U = u };

  pal_parallel_for (g->cout, kernel_chunk, &j);
}

static void
forward_worker (int begin, int end, int worker, void *data)
{
  WinoJob *j = data;
  const PalConvGeom *g = j->g;
  Tiling tl = tiling_forward (g);
  int tb, te, TB = max_block (g);
  float *rows = j->s->wino[worker] + sum_floats (g);
  float *area = rows + rows_floats (g);
  const float *U = j->U;
  gsize ue = kstride (g);

  pal_chunk (j->n * tl.tpi, worker, j->nw, &tb, &te);
  for (int t0 = tb; t0 < te; t0 += TB)
    {
      int nt = MIN (TB, te - t0);
      Arr V = arr (area, g->cin, nt);
      Arr M = arr (area + arr_floats (g->cin, nt), g->cout, nt);

      input_block (V, j->in, g->cin, &tl, t0, nt, rows);
      for (int e = 0; e < 16; e++)
        pal_sgemm (FALSE, FALSE, g->cout, nt, g->cin,
                   1.f, U + e * ue, g->cin, V.p + e * V.es, V.ld,
                   0.f, M.p + e * M.es, M.ld);
      output_block (j->out, M, j->b, FALSE, g->cout, &tl, t0, nt, rows);
    }
}

void
pal_conv2d_wino_forward (float *out, const float *in, const float *w, const float *b,
                         int n, const PalConvGeom *g, PalScratch *s)
{
  WinoJob j = { .out = out, .in = in, .w = w, .b = b, .g = g, .s = s, .n = n };
  Tiling tl = tiling_forward (g);

  if (n < 1)
    return;
  g_assert (s->n_workers >= pal_get_threads ());
  transform_kernels (&j);
  j.nw = (int) MIN ((gint64) pal_get_threads (), (gint64) n * tl.tpi);
  pal_parallel_for (j.nw, forward_worker, &j);
}

/* e = 4 r + s of the rotated kernel's U -> e of the forward's */
static int
rotated (int e)
{
  static const int p[4] = { 3, 1, 2, 0 };

  return 4 * p[e / 4] + p[e % 4];
}

static void
backward_worker (int begin, int end, int worker, void *data)
{
  WinoJob *j = data;
  const PalConvGeom *g = j->g;
  int tb, te, TB = max_block (g);
  float *S = j->s->wino[worker];
  float *rows = S + sum_floats (g);
  float *area = rows + rows_floats (g);
  gsize ue = kstride (g);

  if (j->din)
    {
      Tiling tl = tiling_din (g);
      const float *U = j->U;

      pal_chunk (j->n * tl.tpi, worker, j->nw, &tb, &te);
      for (int t0 = tb; t0 < te; t0 += TB)
        {
          int nt = MIN (TB, te - t0);
          Arr V = arr (area, g->cout, nt);
          Arr M = arr (area + arr_floats (g->cout, nt), g->cin, nt);

          input_block (V, j->dout, g->cout, &tl, t0, nt, rows);
          for (int e = 0; e < 16; e++)
            pal_sgemm (TRUE, FALSE, g->cin, nt, g->cout,
                       1.f, U + rotated (e) * ue, g->cin, V.p + e * V.es, V.ld,
                       0.f, M.p + e * M.es, M.ld);
          output_block (j->din, M, NULL, TRUE, g->cin, &tl, t0, nt, rows);
        }
    }

  if (j->dw || j->db)
    {
      Tiling tl = tiling_forward (g);
      float *pdw = j->s->part[worker];
      float *pdb = pdw + (gsize) g->cout * g->cin * 9;

      memset (pdw, 0, sizeof (float) * pal_conv2d_part_floats (g));
      pal_chunk (j->n * tl.tpi, worker, j->nw, &tb, &te);
      if (j->db)
        bias_grad (pdb, j->dout, g->cout, &tl, tb, te - tb);
      if (j->dw && te > tb)
        {
          for (int t0 = tb; t0 < te; t0 += TB)
            {
              int nt = MIN (TB, te - t0);
              Arr V = arr (area, g->cin, nt);
              Arr Z = arr (area + arr_floats (g->cin, nt), g->cout, nt);

              input_block (V, j->in, g->cin, &tl, t0, nt, rows);
              grad_block (Z, j->dout, g->cout, &tl, t0, nt, rows);
              for (int e = 0; e < 16; e++)
                pal_sgemm (FALSE, TRUE, g->cout, g->cin, nt,
                           1.f, Z.p + e * Z.es, Z.ld, V.p + e * V.es, V.ld,
                           t0 == tb ? 0.f : 1.f, S + e * ue, g->cin);
            }
          for (gsize k = 0; k < (gsize) g->cout * g->cin; k++)
            {
              float s16[16];

              for (int e = 0; e < 16; e++)
                s16[e] = S[e * ue + k];
              weight_untransform (pdw + k * 9, s16);
            }
        }
    }
}

void
pal_conv2d_wino_backward (float *din, float *dw, float *db, const float *dout,
                          const float *in, const float *w,
                          int n, const PalConvGeom *g, PalScratch *s)
{
  WinoJob j = { .din = din, .dw = dw, .db = db, .dout = dout, .in = in, .w = w,
                .g = g, .s = s, .n = n };
  Tiling f = tiling_forward (g), d = tiling_din (g);
  gsize nwt = (gsize) g->cout * g->cin * 9;

  g_assert (!dw || in);
  g_assert (!din || w);
  g_assert (s->n_workers >= pal_get_threads ());
  if (n < 1 || (!din && !dw && !db))
    return;
  if (din)
    transform_kernels (&j);
  j.nw = (int) MIN ((gint64) pal_get_threads (),
                    (gint64) n * MAX (din ? d.tpi : 0, f.tpi));
  pal_parallel_for (j.nw, backward_worker, &j);
  for (int k = 0; k < j.nw; k++)
    {
      if (dw)
        pal_accumulate (dw, s->part[k], nwt);
      if (db)
        pal_accumulate (db, s->part[k] + nwt, g->cout);
    }
}
