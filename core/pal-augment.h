/* pal-augment.h: the paper's data augmentation, image and landmarks together
 *
 * A training sample is rotated by a random angle in [-10, 10] degrees about
 * the centre of the image, then flipped horizontally with probability 0.5.
 * The image and its landmarks go through the same geometry, so a prior drawn
 * from the augmented landmarks lies on the augmented face:
 *
 *   image      pal_image_warp_affine() with the inverse matrix (each output
 *              pixel looks up where it came from), then pal_image_flip();
 *   landmarks  pal_landmarks_transform() with the forward matrix, then
 *              pal_landmarks_flip() (x -> W - 1 - x and the mirror
 *              permutation: after a flip, landmark 36, the outer corner of
 *              the eye on the image's left, is the point that was 45).
 *
 * The centre of rotation is the image's centre ((W - 1) / 2, (H - 1) / 2)
 * in the pixel-index frame of pal-landmarks.h), not the landmarks' centre:
 * it is defined for samples without landmarks too, so every sample is
 * augmented alike, and the datasets' images are face crops whose centre is
 * close to the face's anyway.  Positive angles turn the image
 * counter-clockwise as seen on screen.  Pixels that come from outside the
 * image get the border grey (default 0, black, as torchvision's
 * RandomRotation).
 *
 * Randomness: the parameters of a sample are a pure function of (seed,
 * epoch, key) (pal_augment_draw()), where the key is the sample's dataset
 * index: the augmentation of sample i at epoch e is the same whichever
 * thread draws it and whenever.
 */
#pragma once

#include "pal-image.h"
#include "pal-landmarks.h"

G_BEGIN_DECLS

typedef struct {
  double   max_rotation;   /* degrees: the angle is uniform in [-max, max];
                            * 0 turns rotation off (default 10) */
  gboolean flip;           /* horizontal flip with probability 0.5 (default TRUE) */
  guint8   border;         /* grey of the pixels rotated in from outside (default 0) */
} PalAugmentOptions;

/* The paper's augmentation: rotation in [-10, 10] degrees, flip. */
#define PAL_AUGMENT_OPTIONS_DEFAULT { 10.0, TRUE, 0 }
/* Nothing (validation, test): the same as passing NULL options. */
#define PAL_AUGMENT_OPTIONS_NONE    { 0.0, FALSE, 0 }

void      pal_augment_options_init (PalAugmentOptions *opt);   /* the default */

/* What was drawn for one sample. */
typedef struct {
  double   angle;          /* degrees, counter-clockwise on screen; 0: none */
  gboolean flip;           /* flipped horizontally after the rotation */
  guint8   border;
} PalAugmentParams;

/* The generator state (pal-rand.h) of sample @key at @epoch: a good mix of
 * the three, so neighbouring samples and epochs get unrelated streams. */
guint64   pal_augment_sample_seed  (guint64 seed, gint64 epoch, gint64 key);

/* Draws the parameters of sample @key at @epoch (uniform angle, then a fair
 * coin for the flip, from pal_augment_sample_seed()).  @opt NULL: no
 * augmentation (angle 0, no flip). */
void      pal_augment_draw         (const PalAugmentOptions *opt, guint64 seed, gint64 epoch,
                                    gint64 key, PalAugmentParams *out);

/* The rotation of @angle degrees about the centre of a @width x @height
 * image in the pixel-index frame: @forward maps a point of the input to the
 * output (for pal_landmarks_transform()), @inverse the other way (for
 * pal_image_warp_affine()).  Either may be NULL. */
void      pal_augment_rotation     (double angle, int width, int height,
                                    double forward[6], double inverse[6]);

/* Applies @params to @image and, when @lm is not NULL, in place to its
 * landmarks, and returns the new image at @out_width x @out_height (0, 0:
 * the image's own size).  An image of another size is first resized
 * (pal_image_resize(): area when shrinking, bilinear when growing) with its
 * landmarks scaled alike (the pixel (x, y) covers [x, x+1) x [y, y+1), so a
 * point x goes to (x + 0.5) * out_width / width - 0.5), then rotated about
 * the centre of the output, then flipped.  @params NULL only resizes.
 * Never fails; a copy when there is nothing to do. */
PalImage *pal_augment_apply        (const PalImage *image, PalLandmarks *lm,
                                    const PalAugmentParams *params,
                                    int out_width, int out_height);

/* pal_augment_draw() then pal_augment_apply() at the image's own size. */
PalImage *pal_augment              (const PalImage *image, PalLandmarks *lm,
                                    const PalAugmentOptions *opt, guint64 seed,
                                    gint64 epoch, gint64 key);

G_END_DECLS
