/* pal-synth.h: synthetic faces with exact landmarks, in RAF-DB's layout
 *
 * A face is built from its 68 iBUG landmarks, so the landmarks are exact by
 * construction:
 *
 *   1. the neutral template (pal_synth_template()), mirror-symmetric, in
 *      face units: x = 0 on the midline, y = 0 on the line of the outer
 *      eye corners, the jaw's ends (0, 16) at x = -1 and +1, y pointing
 *      down;
 *   2. the expression (pal_synth_expression()), a displacement of some
 *      landmarks scaled by an intensity drawn in
 *      [intensity_min, intensity_max];
 *   3. identity: face width and height, jaw, eye spacing and size, brow
 *      height, nose length and width, mouth width and position, lip
 *      thickness, a little jitter;
 *   4. pose: a similarity (scale, in-plane rotation, translation) into the
 *      image's pixel frame (pal-landmarks.h: 0-based, a landmark at (x, y)
 *      lies on the centre of pixel (x, y)).
 *
 * Cairo then draws the head, hair, ears, neck, brows, eyes (lids and iris),
 * nose and mouth (lips, and teeth where the lips part) along the face-unit
 * points under that same similarity.  Skin tone, hair, clothes and
 * background colours, a linear lighting gradient over the face and pixel
 * noise vary per sample.  Expressions differ only by landmark geometry:
 * every random number of a face is drawn in the same order whatever its
 * class, so one generator state gives the same person, pose and colours
 * for each of the 7 classes.
 *
 * Classes are in the canonical order of pal_expression_classes
 * (pal-model.h): 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust,
 * 6 anger.  pal_synth_dataset() writes RAF-DB basic's layout
 * (docs/SYNTH.md):
 *
 *   DIR/EmoLabel/list_patition_label.txt    "train_00001.jpg 4" per line
 *   DIR/Image/aligned/train_00001_aligned.jpg
 *   DIR/Landmarks/train_00001_aligned.pts   (1-based on disk)
 */
#pragma once

#include <gio/gio.h>

#include "pal-image.h"
#include "pal-landmarks.h"

G_BEGIN_DECLS

#define PAL_SYNTH_N_CLASSES 7

/* Settings of a face and of a dataset; pal_synth_options_init() fills in
 * the defaults. */
typedef struct {
  /* A dataset. */
  int      n;                /* samples in all, >= 7 (default 700) */
  guint64  seed;             /* default 0 */
  int      size;             /* side of the square images in pixels, 32 .. 4096
                              * (default 100, RAF-DB aligned's) */
  double   test_fraction;    /* share of the samples in test, [0, 1] (default 0.25) */
  double   shortcut;         /* < 0 (default): no mark.  In [0, 1]: every image gets
                              * the corner mark; in train its colour is the label's
                              * with this probability, else a random class colour;
                              * in test always a random class colour */
  /* A face. */
  double   intensity_min;    /* expression intensity, uniform (default 0.5 .. 1.0) */
  double   intensity_max;
  double   scale_min;        /* pose scale, uniform (default 0.85 .. 1.1) */
  double   scale_max;
  double   max_rotation;     /* in-plane rotation, uniform in +- this, degrees (12) */
  double   max_shift;        /* translation, uniform in +- this share of the side (0.04) */
  double   noise_max;        /* pixel noise: Gaussian, sigma uniform in
                              * [0, noise_max] grey levels (default 5) */
} PalSynthOptions;

void     pal_synth_options_init (PalSynthOptions *opt);

/* RAF-DB's label code of each canonical class: neutral 7, happy 4, sad 5,
 * surprise 1, fear 2, disgust 3, anger 6. */
extern const int pal_synth_raf_codes[PAL_SYNTH_N_CLASSES];

/* The neutral template in face units (see above); mirror-symmetric:
 * mirroring x and permuting by pal_landmarks_mirror gives it back. */
void     pal_synth_template     (PalLandmarks *lm);

/* In place, in face units: the displacement of expression @klass at
 * @intensity (0: none, 1: full).  Neutral leaves @lm as it is.  What moves:
 *   happy     mouth corners up and out, lips part over the teeth, cheeks
 *             push the lower lids up;
 *   sad       mouth corners down, inner brow ends up, outer ends down,
 *             upper lids droop;
 *   surprise  brows high, eyes wide, jaw dropped, mouth open and round;
 *   fear      brows up and drawn together, eyes wide, mouth stretched
 *             sideways and a little open;
 *   disgust   upper lip and nose raised (nose wrinkle), brows lowered,
 *             eyes narrowed;
 *   anger     brows lowered and knitted (inner ends down and together),
 *             eyes narrowed, lips pressed thin. */
void     pal_synth_expression   (PalLandmarks *lm, int klass, double intensity);

/* Draws one face of class @klass (canonical order) into a new
 * @size x @size RGB image and stores its landmarks in the image's pixel
 * frame.  Random numbers come from *@rng (pal-rand.h state), advanced by
 * the same amount for every class.  @opt may be NULL (defaults; its size,
 * n, seed, test_fraction and shortcut are not used here).  Fails
 * (PAL_ERROR_INVALID) for a class outside 0..6, a size outside 32..4096
 * or a face setting of @opt out of range; *@image is then untouched. */
gboolean pal_synth_face         (PalImage **image, PalLandmarks *lm, int klass, int size,
                                 guint64 *rng, const PalSynthOptions *opt, GError **error);

/* The shortcut mark: a square of @side pixels at (@x, @y), in the top-left
 * corner, inside the first 8 x 8 JPEG block for sizes up to 133; the side
 * is 6 pixels up to size 100, 6% of the size above. */
void     pal_synth_mark_rect    (int size, int *x, int *y, int *side);
/* The mark colour of each class (docs/SYNTH.md has the table). */
extern const guint8 pal_synth_mark_colours[PAL_SYNTH_N_CLASSES][3];
/* Paints the mark of @colour (a class) on @image (RGB or gray). */
void     pal_synth_draw_mark    (PalImage *image, int colour);

/* Called from the thread that called pal_synth_dataset() as samples are
 * written: @done grows (it may skip values) and ends at @total. */
typedef void (*PalSynthProgressFunc) (int done, int total, gpointer user_data);

/* Writes @opt->n faces in RAF-DB's layout under @dir (created if needed;
 * existing files of the same names are replaced).  round(n *
 * test_fraction) samples go to test, the rest to train.  Classes are
 * balanced: the labels of train and then test run through the 7 classes in
 * turn (so each class gets n / 7 samples, the first n % 7 classes one
 * more, and each split is balanced to within one), shuffled within each
 * split.  The same options give the same bytes: each sample draws from its
 * own stream, seeded from the seed, the split and its number.  Images
 * (JPEG, quality 95) and landmark files are written atomically, by a few
 * threads; the label file is written last, so a run that fails or is
 * cancelled writes none.  Fails (PAL_ERROR_INVALID) on bad options,
 * (PAL_ERROR_IO) when a folder or file cannot be written,
 * (PAL_ERROR_CANCELLED) when @cancellable is cancelled. */
gboolean pal_synth_dataset      (const char *dir, const PalSynthOptions *opt,
                                 GCancellable *cancellable,
                                 PalSynthProgressFunc progress, gpointer user_data,
                                 GError **error);

G_END_DECLS
