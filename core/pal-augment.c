/* pal-augment.c: rotation and flip of an image with its landmarks */
#include "pal-augment.h"
#include "pal-rand.h"

#include <math.h>

void
pal_augment_options_init (PalAugmentOptions *opt)
{
  *opt = (PalAugmentOptions) PAL_AUGMENT_OPTIONS_DEFAULT;
}

guint64
pal_augment_sample_seed (guint64 seed, gint64 epoch, gint64 key)
{
  /* Three rounds of the finaliser, a different odd constant for each input,
   * so (seed, e, k) and (seed, k, e) do not collide. */
  guint64 s = pal_mix64 (seed ^ 0x5851f42d4c957f2dull);
  s = pal_mix64 (s ^ ((guint64) epoch * 0xd1342543de82ef95ull));
  return pal_mix64 (s ^ ((guint64) key * 0x9e3779b97f4a7c15ull));
}

void
pal_augment_draw (const PalAugmentOptions *opt, guint64 seed, gint64 epoch, gint64 key,
                  PalAugmentParams *out)
{
  guint64 rng = pal_augment_sample_seed (seed, epoch, key);
  /* Always draw both numbers, in this order, so turning one option off
   * leaves the other's draws as they were. */
  double u_angle = pal_rand_uniform (&rng);
  double u_flip = pal_rand_uniform (&rng);

  out->angle = 0.0;
  out->flip = FALSE;
  out->border = 0;
  if (!opt)
    return;
  if (opt->max_rotation > 0.0)
    out->angle = (2.0 * u_angle - 1.0) * opt->max_rotation;
  out->flip = opt->flip && u_flip < 0.5;
  out->border = opt->border;
}

void
pal_augment_rotation (double angle, int width, int height,
                      double forward[6], double inverse[6])
{
  double t = angle * (G_PI / 180.0);
  double c = cos (t), s = sin (t);
  double cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);

  /* y points down, so a counter-clockwise turn on screen is
   *   x' = cx + c (x - cx) + s (y - cy)
   *   y' = cy - s (x - cx) + c (y - cy)
   * and its inverse is the same with -t. */
  if (forward)
    {
      forward[0] = c;  forward[1] = s;  forward[2] = cx - c * cx - s * cy;
      forward[3] = -s; forward[4] = c;  forward[5] = cy + s * cx - c * cy;
    }
  if (inverse)
    {
      inverse[0] = c;  inverse[1] = -s; inverse[2] = cx - c * cx + s * cy;
      inverse[3] = s;  inverse[4] = c;  inverse[5] = cy - s * cx - c * cy;
    }
}

PalImage *
pal_augment_apply (const PalImage *image, PalLandmarks *lm, const PalAugmentParams *params,
                   int out_width, int out_height)
{
  g_autoptr (PalImage) sized = NULL;
  PalImage *cur;

  g_return_val_if_fail (image != NULL, NULL);
  if (out_width <= 0 || out_height <= 0)
    {
      out_width = image->width;
      out_height = image->height;
    }

  /* 1. the output size, landmarks scaled with the pixel areas */
  if (image->width != out_width || image->height != out_height)
    {
      sized = pal_image_resize (image, out_width, out_height);
      if (lm)
        {
          double sx = (double) out_width / image->width;
          double sy = (double) out_height / image->height;
          const double m[6] = { sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5 };
          pal_landmarks_transform (lm, m);
        }
    }
  cur = sized ? sized : (PalImage *) image;

  /* 2. rotation about the centre */
  if (params && params->angle != 0.0)
    {
      double fwd[6], inv[6];
      PalImage *rotated;

      pal_augment_rotation (params->angle, out_width, out_height, fwd, inv);
      rotated = pal_image_warp_affine (cur, inv, out_width, out_height, params->border);
      if (lm)
        pal_landmarks_transform (lm, fwd);
      g_clear_pointer (&sized, pal_image_free);
      sized = rotated;
      cur = rotated;
    }

  /* 3. flip, with the mirror permutation of the points */
  if (params && params->flip)
    {
      PalImage *flipped = pal_image_flip (cur);
      if (lm)
        pal_landmarks_flip (lm, out_width);
      g_clear_pointer (&sized, pal_image_free);
      sized = flipped;
    }

  return sized ? g_steal_pointer (&sized) : pal_image_copy (image);
}

PalImage *
pal_augment (const PalImage *image, PalLandmarks *lm, const PalAugmentOptions *opt,
             guint64 seed, gint64 epoch, gint64 key)
{
  PalAugmentParams p;

  pal_augment_draw (opt, seed, epoch, key, &p);
  return pal_augment_apply (image, lm, &p, 0, 0);
}
