/* resize.c: TensorFlow's legacy bilinear resize, for network inputs
 *
 * tf.image.resizeBilinear with alignCorners = false and halfPixelCenters =
 * false: output pixel (y, x) samples the source at (y * H / OH, x * W / OW),
 * between the taps floor and ceil (clamped to the last row / column), with
 * the arithmetic of tfjs (double, stored as float).  The source is an
 * 8-bit image placed in a zero canvas, which is how face-api pads a picture
 * to a square before resizing it.  Input preprocessing only: no gradient.
 */
#include "pal-ops.h"

#include <math.h>

typedef struct {
  float *dst;
  int oh, ow;
  const guint8 *src;
  int h, w, c;
  gsize stride;
  int ch, cw, top, left;
} ResizeJob;

/* Canvas pixel (y, x), channel k: the image inside, 0 outside. */
static inline double
canvas_at (const ResizeJob *j, int y, int x, int k)
{
  y -= j->top;
  x -= j->left;
  if (y < 0 || y >= j->h || x < 0 || x >= j->w)
    return 0.0;
  return j->src[(gsize) y * j->stride + (gsize) x * j->c + k];
}

static void
resize_rows (int begin, int end, int worker, void *data)
{
  const ResizeJob *j = data;
  double ry = (double) j->ch / j->oh, rx = (double) j->cw / j->ow;

  (void) worker;
  for (int y = begin; y < end; y++)
    {
      double sy = ry * y;
      int y0 = MAX (0, (int) floor (sy)), y1 = MIN (j->ch - 1, (int) ceil (sy));
      double fy = sy - y0;
      float *out = j->dst + (gsize) y * j->ow * j->c;

      for (int x = 0; x < j->ow; x++)
        {
          double sx = rx * x;
          int x0 = MAX (0, (int) floor (sx)), x1 = MIN (j->cw - 1, (int) ceil (sx));
          double fx = sx - x0;

          for (int k = 0; k < j->c; k++)
            {
              double tl = canvas_at (j, y0, x0, k), tr = canvas_at (j, y0, x1, k);
              double bl = canvas_at (j, y1, x0, k), br = canvas_at (j, y1, x1, k);
              double top = tl + (tr - tl) * fx, bot = bl + (br - bl) * fx;

              out[x * j->c + k] = (float) (top + (bot - top) * fy);
            }
        }
    }
}

void
pal_resize_bilinear_legacy (float *dst, int oh, int ow,
                            const guint8 *src, int h, int w, int c, gsize stride,
                            int canvas_h, int canvas_w, int top, int left)
{
  ResizeJob j = { dst, oh, ow, src, h, w, c, stride, canvas_h, canvas_w, top, left };

  pal_parallel_for (oh, resize_rows, &j);
}
