/* pal-landmarks.h: 68 facial landmarks (iBUG 300-W) and the PAL prior
 *
 * Coordinates are 0-based in memory: (0, 0) is the centre of the top-left
 * pixel.  iBUG's .pts files are 1-based (MATLAB's convention, as the
 * 300-W tools write them): reading subtracts 1, writing adds 1.  Plain text
 * ("x y" per line) and AffectNet's CSV field (136 floats separated by ';')
 * are 0-based.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PAL_N_LANDMARKS 68

typedef struct {
  float x[PAL_N_LANDMARKS];
  float y[PAL_N_LANDMARKS];
} PalLandmarks;

/* .pts ("version: 1", "n_points: 68", "{", 68 lines, "}"), or plain
 * "x y" lines, recognised by content.  Anything but 68 finite points is an
 * error naming the file and the line. */
gboolean pal_landmarks_load          (const char *path, PalLandmarks *out, GError **error);
/* Where an image's landmarks are looked for: @image with its extension
 * replaced by .pts ("faces/a.jpg" -> "faces/a.pts"), as folder datasets,
 * pal faces --pts, pal landmarks and the application use it.  Newly
 * allocated. */
char    *pal_landmarks_pts_path_for  (const char *image);
/* The same from @len bytes of @text (need not be NUL-terminated); @name
 * goes into messages. */
gboolean pal_landmarks_parse         (const char *text, gsize len, const char *name,
                                      PalLandmarks *out, GError **error);
/* AffectNet's facial_landmarks field: "x0;y0;x1;y1;...;x67;y67".
 * @name and @line go into messages. */
gboolean pal_landmarks_parse_affectnet (const char *text, PalLandmarks *out,
                                        const char *name, int line, GError **error);
/* Writes a .pts file (1-based), atomically. */
gboolean pal_landmarks_save_pts      (const PalLandmarks *lm, const char *path, GError **error);

/* The permutation that maps each landmark to its mirror image (left eye
 * <-> right eye, jaw, brows, nose wings, mouth corners...); an involution. */
extern const int pal_landmarks_mirror[PAL_N_LANDMARKS];

/* In place: the landmarks of the horizontally flipped image of @width
 * pixels (x -> width - 1 - x, then the mirror permutation). */
void     pal_landmarks_flip          (PalLandmarks *lm, int width);
/* In place: p -> (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]). */
void     pal_landmarks_transform     (PalLandmarks *lm, const double m[6]);
/* Bounding box [x0, y0, x1, y1] of the points. */
void     pal_landmarks_bounds        (const PalLandmarks *lm, float box[4]);

/* The paper's Eq. 8 at @width x @height: sum over the 68 landmarks of
 * exp(-d^2 / (2 sigma^2)) / sqrt(2 pi sigma^2), sigma in pixels of this map.
 * With @noise_sigma > 0 each landmark is first moved by Gaussian noise of
 * that standard deviation (pixels of this map), drawn from *rng
 * (pal-rand.h state). */
void     pal_heatmap_render          (float *dst, int width, int height,
                                      const PalLandmarks *lm, float sigma,
                                      float noise_sigma, guint64 *rng);

/* The prior for an image of @image_w x @image_h whose landmarks are @lm, at
 * the network input size @input_w x @input_h: sigma is @sigma_224 pixels of a
 * 224 x 224 input (the paper's 3), scaled with the input width; rendered at
 * the input size, then area-averaged to @map_w x @map_h (the PAL layer's
 * size).  Not standardised (the core does that). */
void     pal_prior_make              (float *dst, int map_w, int map_h,
                                      const PalLandmarks *lm, int image_w, int image_h,
                                      int input_w, int input_h, float sigma_224,
                                      float noise_sigma_224, guint64 *rng);

G_END_DECLS
