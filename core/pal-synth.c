/* pal-synth.c: synthetic faces drawn with Cairo from their 68 landmarks
 *
 * Everything is computed in face units (pal-synth.h) and drawn under one
 * Cairo matrix, the pose; the landmarks written out are the same points
 * under the same matrix, so they are exact.  Shapes that are not landmarks
 * (forehead, hair, ears, neck, the iris) are placed from the landmarks.
 */
#include "pal-synth.h"
#include "pal-error.h"
#include "pal-rand.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <string.h>

const int pal_synth_raf_codes[PAL_SYNTH_N_CLASSES] = { 7, 4, 5, 1, 2, 3, 6 };

/* neutral white, happy yellow, sad blue, surprise cyan, fear magenta,
 * disgust green, anger red */
const guint8 pal_synth_mark_colours[PAL_SYNTH_N_CLASSES][3] = {
  { 255, 255, 255 }, { 255, 255, 0 }, { 0, 0, 255 }, { 0, 255, 255 },
  { 255, 0, 255 }, { 0, 255, 0 }, { 255, 0, 0 },
};

void
pal_synth_options_init (PalSynthOptions *opt)
{
  memset (opt, 0, sizeof *opt);
  opt->n = 700;
  opt->seed = 0;
  opt->size = 100;
  opt->test_fraction = 0.25;
  opt->shortcut = -1.0;
  opt->intensity_min = 0.5;
  opt->intensity_max = 1.0;
  opt->scale_min = 0.85;
  opt->scale_max = 1.1;
  opt->max_rotation = 12.0;
  opt->max_shift = 0.04;
  opt->noise_max = 5.0;
}

/* --- the template and the expressions -------------------------------------- */

/* The neutral face in face units, after the 300-W mean shape (symmetrised,
 * mouth closed).  Image-left is the subject's right, as in iBUG. */
static const float template_xy[PAL_N_LANDMARKS][2] = {
  /* jaw 0-16 */
  { -1.000f, 0.010f }, { -0.995f, 0.276f }, { -0.969f, 0.544f }, { -0.916f, 0.808f },
  { -0.814f, 1.054f }, { -0.655f, 1.270f }, { -0.462f, 1.454f }, { -0.246f, 1.604f },
  { 0.000f, 1.647f },
  { 0.246f, 1.604f }, { 0.462f, 1.454f }, { 0.655f, 1.270f }, { 0.814f, 1.054f },
  { 0.916f, 0.808f }, { 0.969f, 0.544f }, { 0.995f, 0.276f }, { 1.000f, 0.010f },
  /* brows 17-21 (outer to inner), 22-26 (inner to outer) */
  { -0.793f, -0.188f }, { -0.668f, -0.286f }, { -0.500f, -0.311f }, { -0.328f, -0.283f },
  { -0.165f, -0.214f },
  { 0.165f, -0.214f }, { 0.328f, -0.283f }, { 0.500f, -0.311f }, { 0.668f, -0.286f },
  { 0.793f, -0.188f },
  /* nose bridge 27-30, nostrils 31-35 */
  { 0.000f, -0.017f }, { 0.000f, 0.157f }, { 0.000f, 0.331f }, { 0.000f, 0.509f },
  { -0.194f, 0.620f }, { -0.101f, 0.658f }, { 0.000f, 0.691f }, { 0.101f, 0.658f },
  { 0.194f, 0.620f },
  /* left eye 36-41 (outer corner, upper lid, inner corner, lower lid) */
  { -0.595f, 0.000f }, { -0.490f, -0.072f }, { -0.362f, -0.069f }, { -0.255f, 0.023f },
  { -0.373f, 0.048f }, { -0.497f, 0.047f },
  /* right eye 42-47 (inner corner, upper lid, outer corner, lower lid) */
  { 0.255f, 0.023f }, { 0.362f, -0.069f }, { 0.490f, -0.072f }, { 0.595f, 0.000f },
  { 0.497f, 0.047f }, { 0.373f, 0.048f },
  /* outer lips 48-59: corner, upper lip to the other corner, lower lip back */
  { -0.390f, 0.940f }, { -0.250f, 0.885f }, { -0.100f, 0.855f }, { 0.000f, 0.872f },
  { 0.100f, 0.855f }, { 0.250f, 0.885f }, { 0.390f, 0.940f },
  { 0.253f, 1.030f }, { 0.112f, 1.075f }, { 0.000f, 1.085f }, { -0.112f, 1.075f },
  { -0.253f, 1.030f },
  /* inner lips 60-67: corner, upper, corner, lower back (closed) */
  { -0.330f, 0.945f }, { -0.105f, 0.940f }, { 0.000f, 0.948f }, { 0.105f, 0.940f },
  { 0.330f, 0.945f }, { 0.105f, 0.940f }, { 0.000f, 0.948f }, { -0.105f, 0.940f },
};

void
pal_synth_template (PalLandmarks *lm)
{
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm->x[i] = template_xy[i][0];
      lm->y[i] = template_xy[i][1];
    }
}

/* A displacement at full intensity of a point on the image-left half or the
 * midline; its mirror point moves by (-dx, dy). */
typedef struct {
  int   i;
  float dx, dy;
} Move;

static const Move happy_moves[] = {
  { 48, -0.050f, -0.100f }, { 49, -0.030f, -0.040f }, { 50, -0.010f, -0.020f },
  { 51, 0.000f, -0.015f }, { 59, -0.030f, -0.030f }, { 58, -0.010f, 0.010f },
  { 57, 0.000f, 0.030f },
  { 60, -0.050f, -0.090f }, { 61, -0.020f, -0.035f }, { 62, 0.000f, -0.020f },
  { 67, -0.020f, 0.030f }, { 66, 0.000f, 0.050f },
  { 36, 0.000f, -0.005f }, { 41, 0.000f, -0.028f }, { 40, 0.000f, -0.025f },
  { 31, -0.020f, -0.010f }, { 32, -0.008f, -0.005f },
  { -1 }
};

static const Move sad_moves[] = {
  { 48, 0.020f, 0.070f }, { 49, 0.005f, 0.020f }, { 59, 0.010f, 0.040f },
  { 58, 0.000f, -0.010f }, { 57, 0.000f, -0.020f },
  { 60, 0.020f, 0.060f }, { 61, 0.000f, 0.012f }, { 67, 0.000f, 0.012f },
  { 21, 0.010f, -0.120f }, { 20, 0.000f, -0.060f }, { 19, 0.000f, -0.010f },
  { 18, 0.000f, 0.020f }, { 17, 0.000f, 0.040f },
  { 37, 0.000f, 0.020f }, { 38, 0.000f, 0.008f },
  { -1 }
};

static const Move surprise_moves[] = {
  { 17, 0.000f, -0.100f }, { 18, 0.000f, -0.150f }, { 19, 0.000f, -0.170f },
  { 20, 0.000f, -0.160f }, { 21, 0.000f, -0.130f },
  { 37, 0.000f, -0.045f }, { 38, 0.000f, -0.045f }, { 40, 0.000f, 0.020f },
  { 41, 0.000f, 0.020f },
  { 3, 0.000f, 0.010f }, { 4, 0.000f, 0.025f }, { 5, 0.000f, 0.050f },
  { 6, 0.000f, 0.085f }, { 7, 0.000f, 0.110f }, { 8, 0.000f, 0.120f },
  { 48, 0.090f, 0.050f }, { 49, 0.050f, -0.005f }, { 50, 0.020f, -0.020f },
  { 51, 0.000f, -0.015f }, { 59, 0.050f, 0.180f }, { 58, 0.020f, 0.215f },
  { 57, 0.000f, 0.225f },
  { 60, 0.080f, 0.050f }, { 61, 0.030f, -0.010f }, { 62, 0.000f, -0.010f },
  { 67, 0.030f, 0.175f }, { 66, 0.000f, 0.200f },
  { -1 }
};

static const Move fear_moves[] = {
  { 21, 0.050f, -0.100f }, { 20, 0.035f, -0.090f }, { 19, 0.020f, -0.070f },
  { 18, 0.000f, -0.040f }, { 17, 0.000f, -0.020f },
  { 37, 0.000f, -0.040f }, { 38, 0.000f, -0.040f }, { 40, 0.000f, 0.012f },
  { 41, 0.000f, 0.012f },
  { 6, 0.000f, 0.020f }, { 7, 0.000f, 0.035f }, { 8, 0.000f, 0.040f },
  { 48, -0.080f, 0.030f }, { 49, -0.050f, 0.005f }, { 50, -0.020f, 0.010f },
  { 51, 0.000f, 0.005f }, { 59, -0.050f, 0.055f }, { 58, -0.020f, 0.070f },
  { 57, 0.000f, 0.075f },
  { 60, -0.080f, 0.030f }, { 61, -0.040f, -0.005f }, { 62, 0.000f, -0.005f },
  { 67, -0.040f, 0.070f }, { 66, 0.000f, 0.080f },
  { -1 }
};

static const Move disgust_moves[] = {
  { 49, 0.010f, -0.065f }, { 50, 0.000f, -0.090f }, { 51, 0.000f, -0.075f },
  { 48, 0.030f, 0.030f }, { 59, 0.000f, 0.010f }, { 57, 0.000f, -0.010f },
  { 58, 0.000f, -0.008f },
  { 60, 0.015f, -0.030f }, { 61, 0.000f, -0.080f }, { 62, 0.000f, -0.070f },
  { 31, -0.020f, -0.050f }, { 32, 0.000f, -0.045f }, { 33, 0.000f, -0.040f },
  { 30, 0.000f, -0.030f }, { 29, 0.000f, -0.015f },
  { 17, 0.000f, 0.030f }, { 18, 0.000f, 0.040f }, { 19, 0.000f, 0.050f },
  { 20, 0.010f, 0.060f }, { 21, 0.015f, 0.060f },
  { 40, 0.000f, -0.025f }, { 41, 0.000f, -0.025f }, { 37, 0.000f, 0.015f },
  { 38, 0.000f, 0.015f },
  { -1 }
};

static const Move anger_moves[] = {
  { 21, 0.070f, 0.110f }, { 20, 0.040f, 0.075f }, { 19, 0.015f, 0.035f },
  { 18, 0.000f, 0.005f }, { 17, 0.000f, -0.015f },
  { 37, 0.000f, 0.010f }, { 38, 0.000f, 0.025f }, { 40, 0.000f, -0.020f },
  { 41, 0.000f, -0.020f },
  { 49, 0.000f, 0.020f }, { 50, 0.000f, 0.035f }, { 51, 0.000f, 0.030f },
  { 59, 0.000f, -0.025f }, { 58, 0.000f, -0.040f }, { 57, 0.000f, -0.045f },
  { 48, 0.030f, 0.010f }, { 60, 0.030f, 0.010f },
  { 31, -0.025f, 0.000f }, { 32, -0.010f, 0.000f },
  { -1 }
};

static const Move *const expression_moves[PAL_SYNTH_N_CLASSES] = {
  NULL, happy_moves, sad_moves, surprise_moves, fear_moves, disgust_moves, anger_moves,
};

void
pal_synth_expression (PalLandmarks *lm, int klass, double intensity)
{
  const Move *m;

  g_return_if_fail (klass >= 0 && klass < PAL_SYNTH_N_CLASSES);
  for (m = expression_moves[klass]; m && m->i >= 0; m++)
    {
      int j = pal_landmarks_mirror[m->i];

      lm->x[m->i] += (float) (intensity * m->dx);
      lm->y[m->i] += (float) (intensity * m->dy);
      if (j != m->i)
        {
          lm->x[j] -= (float) (intensity * m->dx);
          lm->y[j] += (float) (intensity * m->dy);
        }
    }
}

/* --- random helpers -------------------------------------------------------- */

static double
uniform (guint64 *rng, double lo, double hi)
{
  return lo + (hi - lo) * pal_rand_uniform (rng);
}

typedef struct { double r, g, b; } Rgb;

static Rgb
rgb_scale (Rgb c, double f)
{
  return (Rgb) { CLAMP (c.r * f, 0, 1), CLAMP (c.g * f, 0, 1), CLAMP (c.b * f, 0, 1) };
}

static Rgb
rgb_mix (Rgb a, Rgb b, double t)
{
  return (Rgb) { a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t };
}

static Rgb
rgb_from_hsv (double h, double s, double v)
{
  double c = v * s, hp = fmod (h, 1.0) * 6.0, x = c * (1 - fabs (fmod (hp, 2.0) - 1)), m = v - c;
  Rgb o;

  if (hp < 1) o = (Rgb) { c, x, 0 };
  else if (hp < 2) o = (Rgb) { x, c, 0 };
  else if (hp < 3) o = (Rgb) { 0, c, x };
  else if (hp < 4) o = (Rgb) { 0, x, c };
  else if (hp < 5) o = (Rgb) { x, 0, c };
  else o = (Rgb) { c, 0, x };
  return (Rgb) { o.r + m, o.g + m, o.b + m };
}

static void
set_rgb (cairo_t *cr, Rgb c)
{
  cairo_set_source_rgb (cr, c.r, c.g, c.b);
}

static void
set_rgba (cairo_t *cr, Rgb c, double a)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, a);
}

/* --- paths ----------------------------------------------------------------- */

typedef struct { double x, y; } Pt;

static Pt
pt (const PalLandmarks *lm, int i)
{
  return (Pt) { lm->x[i], lm->y[i] };
}

static Pt
pt_lerp (Pt a, Pt b, double t)
{
  return (Pt) { a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t };
}

static Pt
pt_add (Pt a, double dx, double dy)
{
  return (Pt) { a.x + dx, a.y + dy };
}

/* A Catmull-Rom spline through p[0..n-1] as Bezier segments; an open curve
 * starts with move_to (if @move) or line_to, and its end tangents follow
 * the end chords; a closed one is closed. */
static void
spline (cairo_t *cr, const Pt *p, int n, gboolean move, gboolean closed)
{
  if (move)
    cairo_move_to (cr, p[0].x, p[0].y);
  else
    cairo_line_to (cr, p[0].x, p[0].y);
  for (int i = 0; i < (closed ? n : n - 1); i++)
    {
      Pt p0, p1 = p[i], p2 = p[(i + 1) % n], p3;

      if (closed)
        {
          p0 = p[(i + n - 1) % n];
          p3 = p[(i + 2) % n];
        }
      else
        {
          p0 = i > 0 ? p[i - 1] : p1;
          p3 = i + 2 < n ? p[i + 2] : p2;
        }
      cairo_curve_to (cr, p1.x + (p2.x - p0.x) / 6, p1.y + (p2.y - p0.y) / 6,
                      p2.x - (p3.x - p1.x) / 6, p2.y - (p3.y - p1.y) / 6, p2.x, p2.y);
    }
  if (closed)
    cairo_close_path (cr);
}

/* A spline through landmarks idx[0..n-1]. */
static void
spline_lm (cairo_t *cr, const PalLandmarks *lm, const int *idx, int n, gboolean move)
{
  Pt p[16];

  g_assert (n <= 16);
  for (int i = 0; i < n; i++)
    p[i] = pt (lm, idx[i]);
  spline (cr, p, n, move, FALSE);
}

/* --- the face -------------------------------------------------------------- */

/* Appearance of one face, drawn before any class-dependent step. */
typedef struct {
  double intensity;
  /* identity */
  double width, height, jaw, chin;
  double eye_spacing, eye_size, eye_open, brow_height, brow_thick;
  double nose_length, nose_width, mouth_width, mouth_y, upper_lip, lower_lip;
  double forehead, hairline;
  /* pose */
  double scale, angle, tx, ty;
  /* colours and style */
  Rgb    skin, hair, background, background2, clothes, iris, lips;
  int    hair_style;     /* 0 short, 1 long, 2 very short */
  double gaze_x, gaze_y, blush;
  double light_angle, light;
  double noise;
  double jitter[PAL_N_LANDMARKS][2];
} Look;

static const Rgb hair_palette[] = {
  { 0.08, 0.06, 0.05 }, { 0.20, 0.13, 0.08 }, { 0.35, 0.22, 0.12 }, { 0.62, 0.48, 0.28 },
  { 0.80, 0.68, 0.42 }, { 0.55, 0.25, 0.10 }, { 0.55, 0.55, 0.55 }, { 0.14, 0.10, 0.09 },
};

static const Rgb iris_palette[] = {
  { 0.30, 0.18, 0.08 }, { 0.18, 0.10, 0.05 }, { 0.25, 0.45, 0.65 }, { 0.30, 0.50, 0.30 },
  { 0.45, 0.35, 0.15 },
};

static void
draw_look (Look *k, guint64 *rng, const PalSynthOptions *opt)
{
  double t;

  k->intensity = uniform (rng, opt->intensity_min, opt->intensity_max);

  k->width = uniform (rng, 0.92, 1.08);
  k->height = uniform (rng, 0.93, 1.07);
  k->jaw = uniform (rng, 0.9, 1.06);
  k->chin = uniform (rng, -0.07, 0.07);
  k->eye_spacing = uniform (rng, -0.035, 0.035);
  k->eye_size = uniform (rng, 0.88, 1.15);
  k->eye_open = uniform (rng, 0.85, 1.2);
  k->brow_height = uniform (rng, -0.04, 0.04);
  k->brow_thick = uniform (rng, 0.045, 0.08);
  k->nose_length = uniform (rng, -0.05, 0.05);
  k->nose_width = uniform (rng, 0.85, 1.2);
  k->mouth_width = uniform (rng, 0.86, 1.12);
  k->mouth_y = uniform (rng, -0.035, 0.035);
  k->upper_lip = uniform (rng, 0.75, 1.3);
  k->lower_lip = uniform (rng, 0.75, 1.3);
  k->forehead = uniform (rng, 1.0, 1.15);
  k->hairline = uniform (rng, 0.66, 0.84);

  k->scale = uniform (rng, opt->scale_min, opt->scale_max);
  k->angle = uniform (rng, -opt->max_rotation, opt->max_rotation) * G_PI / 180.0;
  k->tx = uniform (rng, -opt->max_shift, opt->max_shift);
  k->ty = uniform (rng, -opt->max_shift, opt->max_shift);

  /* skin: from light to dark, with a little hue */
  t = uniform (rng, 0, 1);
  k->skin = rgb_mix ((Rgb) { 0.96, 0.84, 0.74 }, (Rgb) { 0.40, 0.25, 0.16 }, t);
  k->skin.r = CLAMP (k->skin.r * uniform (rng, 0.96, 1.04), 0, 1);
  k->skin.g = CLAMP (k->skin.g * uniform (rng, 0.96, 1.04), 0, 1);
  k->hair = hair_palette[(int) (uniform (rng, 0, G_N_ELEMENTS (hair_palette)))];
  k->hair = rgb_scale (k->hair, uniform (rng, 0.85, 1.15));
  k->background = rgb_from_hsv (uniform (rng, 0, 1), uniform (rng, 0.05, 0.6),
                                uniform (rng, 0.3, 0.95));
  k->background2 = rgb_scale (k->background, uniform (rng, 0.7, 1.1));
  k->clothes = rgb_from_hsv (uniform (rng, 0, 1), uniform (rng, 0.1, 0.8),
                             uniform (rng, 0.15, 0.9));
  k->iris = iris_palette[(int) (uniform (rng, 0, G_N_ELEMENTS (iris_palette)))];
  k->lips = rgb_scale (rgb_mix (k->skin, (Rgb) { 0.62, 0.22, 0.25 }, uniform (rng, 0.3, 0.5)),
                       uniform (rng, 0.72, 0.85));
  k->hair_style = (int) uniform (rng, 0, 3);
  k->gaze_x = uniform (rng, -0.02, 0.02);
  k->gaze_y = uniform (rng, -0.008, 0.008);
  k->blush = uniform (rng, 0, 0.12);
  k->light_angle = uniform (rng, 0, 2 * G_PI);
  k->light = uniform (rng, 0.05, 0.25);
  k->noise = uniform (rng, 0, opt->noise_max);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      k->jitter[i][0] = 0.006 * pal_rand_normal (rng);
      k->jitter[i][1] = 0.006 * pal_rand_normal (rng);
    }
}

/* Scales the points first..last about their mean by (@sx, @sy). */
static void
scale_group (PalLandmarks *lm, int first, int last, double sx, double sy)
{
  double cx = 0, cy = 0;
  int n = last - first + 1;

  for (int i = first; i <= last; i++)
    {
      cx += lm->x[i];
      cy += lm->y[i];
    }
  cx /= n;
  cy /= n;
  for (int i = first; i <= last; i++)
    {
      lm->x[i] = (float) (cx + (lm->x[i] - cx) * sx);
      lm->y[i] = (float) (cy + (lm->y[i] - cy) * sy);
    }
}

/* The inner lip point each outer lip point keeps its distance to: lip
 * thickness scales that distance (49-53 upper, 55-59 lower). */
static const int lip_inner[PAL_N_LANDMARKS] = {
  [49] = 61, [50] = 61, [51] = 62, [52] = 63, [53] = 63,
  [55] = 65, [56] = 65, [57] = 66, [58] = 67, [59] = 67,
};

/* Identity variation, in face units, after the expression. */
static void
apply_identity (PalLandmarks *lm, const Look *k)
{
  /* jaw below the ears: narrower or wider; chin longer or shorter */
  for (int i = 2; i <= 14; i++)
    {
      double w = sin (G_PI * (i - 1) / 14.0);   /* 0 at the ears, 1 at the chin */
      lm->x[i] = (float) (lm->x[i] * (1 + (k->jaw - 1) * w));
      lm->y[i] += (float) (k->chin * w * w);
    }
  /* eyes: size, opening, spacing; brows: height */
  scale_group (lm, 36, 41, k->eye_size, k->eye_size * k->eye_open);
  scale_group (lm, 42, 47, k->eye_size, k->eye_size * k->eye_open);
  for (int i = 36; i <= 47; i++)
    lm->x[i] += (float) (i < 42 ? -k->eye_spacing : k->eye_spacing);
  for (int i = 17; i <= 26; i++)
    lm->y[i] += (float) k->brow_height;
  /* nose: length (the bridge follows), nostril width */
  for (int i = 28; i <= 35; i++)
    lm->y[i] += (float) (k->nose_length * (i <= 30 ? (i - 27) / 3.0 : 1.0));
  for (int i = 31; i <= 35; i++)
    lm->x[i] = (float) (lm->x[i] * k->nose_width);
  /* lips: thickness, then the mouth's width and height on the face */
  for (int i = 49; i <= 59; i++)
    if (lip_inner[i])
      lm->y[i] = (float) (lm->y[lip_inner[i]] + (lm->y[i] - lm->y[lip_inner[i]])
                          * (i < 54 ? k->upper_lip : k->lower_lip));
  for (int i = 48; i <= 67; i++)
    {
      lm->x[i] = (float) (lm->x[i] * k->mouth_width);
      lm->y[i] += (float) k->mouth_y;
    }
  /* the whole face: width and height about the eye line; jitter */
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm->x[i] = (float) (lm->x[i] * k->width + k->jitter[i][0]);
      lm->y[i] = (float) (lm->y[i] * k->height + k->jitter[i][1]);
    }
}

/* Face units to the image's pixel frame (pal-landmarks.h): at pose scale
 * 1 and no shift, the point (0, FACE_CY) lands on the image's centre and
 * one face unit is FACE_UNIT of the side (the eyes are then 0.26 of the
 * side apart, the jaw's ends 0.6, and the hair's top touches the border). */
#define FACE_UNIT 0.30
#define FACE_CY   0.32

static void
pose_matrix (const Look *k, int size, double scale, double dx, double dy, cairo_matrix_t *m)
{
  double f = scale * FACE_UNIT * size, c = cos (k->angle), s = sin (k->angle);
  double cx = (size - 1) / 2.0 + dx, cy = (size - 1) / 2.0 + dy;

  cairo_matrix_init (m, f * c, f * s, -f * s, f * c, 0, 0);
  m->x0 = cx - m->xy * FACE_CY;
  m->y0 = cy - m->yy * FACE_CY;
}

/* The pose of @k, moved (and if need be shrunk) so that every landmark
 * lies at least a pixel inside the image. */
static void
fit_pose (const Look *k, const PalLandmarks *face, int size, cairo_matrix_t *m)
{
  double scale = k->scale, dx = k->tx * size, dy = k->ty * size;

  for (int pass = 0; pass < 3; pass++)
    {
      double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
      double room = size - 3.0, fit;

      pose_matrix (k, size, scale, dx, dy, m);
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          double x = face->x[i], y = face->y[i];

          cairo_matrix_transform_point (m, &x, &y);
          x0 = MIN (x0, x); x1 = MAX (x1, x);
          y0 = MIN (y0, y); y1 = MAX (y1, y);
        }
      fit = MIN (room / (x1 - x0), room / (y1 - y0));
      if (fit < 1)
        {
          scale *= fit * 0.999;
          continue;
        }
      if (x0 < 1) dx += 1 - x0;
      if (x1 > size - 2) dx -= x1 - (size - 2);
      if (y0 < 1) dy += 1 - y0;
      if (y1 > size - 2) dy -= y1 - (size - 2);
      pose_matrix (k, size, scale, dx, dy, m);
      break;
    }
}

/* The outline of the head: the jaw, then a forehead above the eye line
 * placed from the jaw's ends. */
static void
head_path (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  static const double fx[7] = { 0.985, 0.86, 0.52, 0.0, -0.52, -0.86, -0.985 };
  static const double fy[7] = { 0.38, 0.78, 1.02, 1.09, 1.02, 0.78, 0.38 };
  double xc = (lm->x[0] + lm->x[16]) / 2, w = (lm->x[16] - lm->x[0]) / 2;
  double ye = (lm->y[0] + lm->y[16]) / 2, fh = k->forehead * k->height;
  Pt p[17 + 7];

  for (int i = 0; i < 17; i++)
    p[i] = pt (lm, i);
  for (int i = 0; i < 7; i++)
    p[17 + i] = (Pt) { xc + fx[i] * w, ye - fy[i] * fh };
  spline (cr, p, G_N_ELEMENTS (p), TRUE, TRUE);
}

static void
ellipse (cairo_t *cr, double x, double y, double rx, double ry)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, rx, ry);
  cairo_new_sub_path (cr);
  cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
  cairo_restore (cr);
}

/* Background, shoulders, neck, hair behind the head, ears. */
static void
draw_behind (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  double xc = (lm->x[0] + lm->x[16]) / 2, w = (lm->x[16] - lm->x[0]) / 2;
  double ye = (lm->y[0] + lm->y[16]) / 2, fh = k->forehead * k->height;
  cairo_pattern_t *pat;

  /* background: a vertical gradient between two shades, in image space */
  cairo_save (cr);
  cairo_identity_matrix (cr);
  pat = cairo_pattern_create_linear (0, 0, 0, 1);
  cairo_pattern_add_color_stop_rgb (pat, 0, k->background.r, k->background.g, k->background.b);
  cairo_pattern_add_color_stop_rgb (pat, 1, k->background2.r, k->background2.g, k->background2.b);
  {
    cairo_matrix_t pm;
    double x1, y1, x2, y2;

    cairo_clip_extents (cr, &x1, &y1, &x2, &y2);
    cairo_matrix_init_scale (&pm, 1, 1 / MAX (y2 - y1, 1));
    cairo_pattern_set_matrix (pat, &pm);
  }
  cairo_set_source (cr, pat);
  cairo_paint (cr);
  cairo_pattern_destroy (pat);
  cairo_restore (cr);

  /* long hair falls behind the shoulders */
  if (k->hair_style == 1)
    {
      Pt p[] = {
        { xc - 1.22 * w, 1.7 }, { xc - 1.28 * w, 0.6 }, { xc - 1.18 * w, ye - 0.5 * fh },
        { xc - 0.75 * w, ye - 1.12 * fh }, { xc, ye - 1.2 * fh },
        { xc + 0.75 * w, ye - 1.12 * fh }, { xc + 1.18 * w, ye - 0.5 * fh },
        { xc + 1.28 * w, 0.6 }, { xc + 1.22 * w, 1.7 }, { xc, 1.9 },
      };
      spline (cr, p, G_N_ELEMENTS (p), TRUE, TRUE);
      set_rgb (cr, rgb_scale (k->hair, 0.85));
      cairo_fill (cr);
    }

  /* shoulders and neck */
  ellipse (cr, xc, lm->y[8] + 1.45, 2.1 * w, 0.9);
  set_rgb (cr, k->clothes);
  cairo_fill (cr);
  cairo_move_to (cr, xc - 0.5 * w, lm->y[4]);
  cairo_line_to (cr, xc + 0.5 * w, lm->y[12]);
  cairo_line_to (cr, xc + 0.56 * w, lm->y[8] + 0.8);
  cairo_curve_to (cr, xc + 0.3 * w, lm->y[8] + 0.95, xc - 0.3 * w, lm->y[8] + 0.95,
                  xc - 0.56 * w, lm->y[8] + 0.8);
  cairo_close_path (cr);
  set_rgb (cr, rgb_scale (k->skin, 0.8));
  cairo_fill (cr);

  /* ears, half hidden by the head */
  for (int side = 0; side < 2; side++)
    {
      Pt a = pt (lm, side ? 16 : 0), b = pt (lm, side ? 14 : 2);
      double s = side ? 1 : -1, ex = (a.x + b.x) / 2 + s * 0.05, ey = (a.y + b.y) / 2 - 0.02;

      ellipse (cr, ex, ey, 0.13, 0.25);
      set_rgb (cr, rgb_scale (k->skin, 0.93));
      cairo_fill (cr);
      cairo_move_to (cr, ex + s * 0.05, ey - 0.15);
      cairo_curve_to (cr, ex + s * 0.1, ey - 0.05, ex + s * 0.08, ey + 0.12, ex + s * 0.02, ey + 0.17);
      cairo_set_line_width (cr, 0.025);
      set_rgba (cr, rgb_scale (k->skin, 0.6), 0.7);
      cairo_stroke (cr);
    }
}

/* Hair over the top of the head: between an outline a little outside the
 * head and the hairline. */
static void
draw_hair (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  double xc = (lm->x[0] + lm->x[16]) / 2, w = (lm->x[16] - lm->x[0]) / 2;
  double ye = (lm->y[0] + lm->y[16]) / 2, fh = k->forehead * k->height;
  double hl = k->hairline * fh, top = k->hair_style == 2 ? 1.12 : 1.2;
  double side = k->hair_style == 2 ? 1.02 : 1.08;
  Pt p[] = {
    /* outer, left to right over the top */
    { xc - 0.99 * w, ye + 0.08 }, { xc - side * w, ye - 0.45 * fh },
    { xc - 0.82 * w, ye - 0.98 * fh }, { xc - 0.42 * w, ye - top * fh },
    { xc, ye - (top + 0.03) * fh },
    { xc + 0.42 * w, ye - top * fh }, { xc + 0.82 * w, ye - 0.98 * fh },
    { xc + side * w, ye - 0.45 * fh }, { xc + 0.99 * w, ye + 0.08 },
    /* the hairline, right to left */
    { xc + 0.93 * w, ye - 0.35 * fh }, { xc + 0.72 * w, ye - hl - 0.02 },
    { xc + 0.35 * w, ye - hl - 0.1 }, { xc - 0.05 * w, ye - hl - 0.05 },
    { xc - 0.4 * w, ye - hl }, { xc - 0.72 * w, ye - hl - 0.05 },
    { xc - 0.93 * w, ye - 0.35 * fh },
  };

  spline (cr, p, G_N_ELEMENTS (p), TRUE, TRUE);
  set_rgb (cr, k->hair);
  cairo_fill (cr);
}

/* A brow: a tapered band whose upper edge runs along the landmarks, from
 * the outer end (thin) to the inner end (thick). */
static void
draw_brow (cairo_t *cr, const PalLandmarks *lm, const Look *k, const int *idx)
{
  Pt up[5], lo[5];

  for (int i = 0; i < 5; i++)
    {
      Pt a = pt (lm, idx[MAX (i - 1, 0)]), b = pt (lm, idx[MIN (i + 1, 4)]);
      double tx = b.x - a.x, ty = b.y - a.y, l = hypot (tx, ty), nx, ny;
      double th = k->brow_thick * (0.55 + 0.45 * i / 4.0);

      nx = -ty / l;
      ny = tx / l;
      if (ny < 0)
        {
          nx = -nx;
          ny = -ny;
        }
      up[i] = pt_add (pt (lm, idx[i]), -0.15 * th * nx, -0.15 * th * ny);
      lo[4 - i] = pt_add (pt (lm, idx[i]), 0.85 * th * nx, 0.85 * th * ny);
    }
  spline (cr, up, 5, TRUE, FALSE);
  spline (cr, lo, 5, FALSE, FALSE);
  cairo_close_path (cr);
  set_rgb (cr, rgb_scale (k->hair, 0.75));
  cairo_fill (cr);
}

/* An eye: the sclera between the lids, the iris and pupil clipped to it,
 * the lids' lines and the crease above. */
static void
draw_eye (cairo_t *cr, const PalLandmarks *lm, const Look *k, gboolean right)
{
  /* outer corner, upper lid, inner corner; inner corner, lower lid, outer */
  static const int left_up[] = { 36, 37, 38, 39 }, left_lo[] = { 39, 40, 41, 36 };
  static const int right_up[] = { 45, 44, 43, 42 }, right_lo[] = { 42, 47, 46, 45 };
  const int *iu = right ? right_up : left_up, *il = right ? right_lo : left_lo;
  Pt a = pt (lm, iu[0]), b = pt (lm, iu[3]);
  double width = hypot (b.x - a.x, b.y - a.y);
  double cx = (lm->x[iu[1]] + lm->x[iu[2]] + lm->x[il[1]] + lm->x[il[2]]) / 4 + k->gaze_x;
  double cy = (lm->y[iu[1]] + lm->y[iu[2]] + lm->y[il[1]] + lm->y[il[2]]) / 4 + k->gaze_y;
  double r = 0.26 * width;
  cairo_pattern_t *pat;
  Pt crease[4];

  cairo_save (cr);
  spline_lm (cr, lm, iu, 4, TRUE);
  spline_lm (cr, lm, il, 4, FALSE);
  cairo_close_path (cr);
  set_rgb (cr, (Rgb) { 0.94, 0.92, 0.89 });
  cairo_fill_preserve (cr);
  cairo_clip (cr);
  pat = cairo_pattern_create_radial (cx, cy, 0.2 * r, cx, cy, r);
  cairo_pattern_add_color_stop_rgb (pat, 0, k->iris.r * 1.3, k->iris.g * 1.3, k->iris.b * 1.3);
  cairo_pattern_add_color_stop_rgb (pat, 0.8, k->iris.r, k->iris.g, k->iris.b);
  cairo_pattern_add_color_stop_rgb (pat, 1, k->iris.r * 0.5, k->iris.g * 0.5, k->iris.b * 0.5);
  cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
  cairo_set_source (cr, pat);
  cairo_fill (cr);
  cairo_pattern_destroy (pat);
  cairo_arc (cr, cx, cy, 0.5 * r, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, 0.03, 0.03, 0.03);
  cairo_fill (cr);
  cairo_arc (cr, cx + 0.3 * r, cy - 0.3 * r, 0.2 * r, 0, 2 * G_PI);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
  cairo_fill (cr);
  cairo_restore (cr);

  /* lids */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  spline_lm (cr, lm, il, 4, TRUE);
  cairo_set_line_width (cr, 0.014);
  set_rgba (cr, rgb_scale (k->skin, 0.55), 0.8);
  cairo_stroke (cr);
  spline_lm (cr, lm, iu, 4, TRUE);
  cairo_set_line_width (cr, 0.032);
  cairo_set_source_rgb (cr, 0.1, 0.07, 0.06);
  cairo_stroke (cr);
  /* the crease, a little above the upper lid */
  for (int i = 0; i < 4; i++)
    crease[i] = pt_add (pt (lm, iu[i]), 0, i == 0 || i == 3 ? -0.035 : -0.06);
  spline (cr, crease, 4, TRUE, FALSE);
  cairo_set_line_width (cr, 0.014);
  set_rgba (cr, rgb_scale (k->skin, 0.6), 0.6);
  cairo_stroke (cr);
}

static void
draw_nose (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  static const int base[] = { 31, 32, 33, 34, 35 };
  double shade = cos (k->light_angle) > 0 ? -1 : 1;   /* the side away from the light */

  /* the sides of the bridge, the shaded one darker */
  for (int side = -1; side <= 1; side += 2)
    {
      Pt wing = pt (lm, side < 0 ? 31 : 35);
      Pt p[3] = {
        pt_add (pt (lm, 28), side * 0.07, 0),
        pt_add (pt (lm, 29), side * 0.085, 0),
        pt_add (wing, -side * 0.02, -0.09),
      };
      spline (cr, p, 3, TRUE, FALSE);
      cairo_set_line_width (cr, 0.018);
      set_rgba (cr, rgb_scale (k->skin, 0.7), side == shade ? 0.6 : 0.25);
      cairo_stroke (cr);
    }
  /* nostrils */
  for (int side = 0; side < 2; side++)
    {
      Pt a = pt (lm, side ? 34 : 32), b = pt (lm, side ? 35 : 31), m = pt_lerp (a, b, 0.45);

      ellipse (cr, m.x, m.y - 0.012, 0.045, 0.02);
      set_rgb (cr, rgb_scale (k->skin, 0.35));
      cairo_fill (cr);
      /* the wing */
      cairo_move_to (cr, b.x, b.y);
      cairo_curve_to (cr, b.x + (side ? 0.05 : -0.05), b.y - 0.04, b.x + (side ? 0.02 : -0.02),
                      b.y - 0.11, b.x + (side ? -0.03 : 0.03), b.y - 0.12);
      cairo_set_line_width (cr, 0.016);
      set_rgba (cr, rgb_scale (k->skin, 0.62), 0.8);
      cairo_stroke (cr);
    }
  /* the base line under the tip, and a highlight on it */
  spline_lm (cr, lm, base, 5, TRUE);
  cairo_set_line_width (cr, 0.018);
  set_rgba (cr, rgb_scale (k->skin, 0.55), 0.85);
  cairo_stroke (cr);
  ellipse (cr, lm->x[30], lm->y[30] + 0.02, 0.04, 0.03);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.18);
  cairo_fill (cr);
}

static void
draw_mouth (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  static const int outer_up[] = { 48, 49, 50, 51, 52, 53, 54 };
  static const int outer_lo[] = { 54, 55, 56, 57, 58, 59, 48 };
  static const int inner_up[] = { 60, 61, 62, 63, 64 };
  static const int inner_lo[] = { 64, 65, 66, 67, 60 };
  static const int line[] = { 48, 60, 61, 62, 63, 64, 54 };
  Pt teeth[5];

  /* lips */
  spline_lm (cr, lm, outer_up, 7, TRUE);
  spline_lm (cr, lm, outer_lo, 7, FALSE);
  cairo_close_path (cr);
  set_rgb (cr, k->lips);
  cairo_fill (cr);

  /* the opening, upper teeth under the upper lip */
  cairo_save (cr);
  spline_lm (cr, lm, inner_up, 5, TRUE);
  spline_lm (cr, lm, inner_lo, 5, FALSE);
  cairo_close_path (cr);
  cairo_set_source_rgb (cr, 0.18, 0.05, 0.06);
  cairo_fill_preserve (cr);
  cairo_clip (cr);
  for (int i = 0; i < 5; i++)
    teeth[4 - i] = pt_add (pt (lm, inner_up[i]), 0, i == 0 || i == 4 ? 0.03 : 0.075);
  spline_lm (cr, lm, inner_up, 5, TRUE);
  spline (cr, teeth, 5, FALSE, FALSE);
  cairo_close_path (cr);
  cairo_set_source_rgb (cr, 0.93, 0.91, 0.84);
  cairo_fill (cr);
  cairo_restore (cr);

  /* the line between the lips */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  spline_lm (cr, lm, line, 7, TRUE);
  cairo_set_line_width (cr, 0.032);
  set_rgb (cr, rgb_scale (k->lips, 0.35));
  cairo_stroke (cr);
  /* a highlight on the lower lip */
  ellipse (cr, lm->x[57], (lm->y[57] * 2 + lm->y[66]) / 3, 0.09, 0.022);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.15);
  cairo_fill (cr);
}

/* The whole face in face units; the pose is the current matrix. */
static void
draw_face (cairo_t *cr, const PalLandmarks *lm, const Look *k)
{
  static const int left_brow[] = { 17, 18, 19, 20, 21 };
  static const int right_brow[] = { 26, 25, 24, 23, 22 };
  double xc = (lm->x[0] + lm->x[16]) / 2, yc = (lm->y[0] + lm->y[8]) / 2;
  cairo_pattern_t *pat;

  draw_behind (cr, lm, k);

  head_path (cr, lm, k);
  set_rgb (cr, k->skin);
  cairo_fill_preserve (cr);
  cairo_set_line_width (cr, 0.02);
  set_rgba (cr, rgb_scale (k->skin, 0.65), 0.8);
  cairo_stroke (cr);
  /* cheeks */
  for (int side = 0; side < 2; side++)
    {
      Pt c = pt_lerp (pt (lm, side ? 35 : 31), pt (lm, side ? 13 : 3), 0.5);

      ellipse (cr, c.x, c.y - 0.1, 0.2, 0.13);
      cairo_set_source_rgba (cr, 0.85, 0.3, 0.3, k->blush);
      cairo_fill (cr);
    }

  draw_nose (cr, lm, k);
  draw_eye (cr, lm, k, FALSE);
  draw_eye (cr, lm, k, TRUE);
  draw_brow (cr, lm, k, left_brow);
  draw_brow (cr, lm, k, right_brow);
  draw_mouth (cr, lm, k);

  /* light: a linear gradient over the face, lighter towards the light */
  cairo_save (cr);
  head_path (cr, lm, k);
  cairo_clip (cr);
  {
    double dx = cos (k->light_angle) * 1.3, dy = sin (k->light_angle) * 1.3;

    pat = cairo_pattern_create_linear (xc - dx, yc - dy, xc + dx, yc + dy);
  }
  cairo_pattern_add_color_stop_rgba (pat, 0, 1, 1, 1, k->light);
  cairo_pattern_add_color_stop_rgba (pat, 0.5, 0, 0, 0, 0);
  cairo_pattern_add_color_stop_rgba (pat, 1, 0, 0, 0, 1.2 * k->light);
  cairo_set_source (cr, pat);
  cairo_paint (cr);
  cairo_pattern_destroy (pat);
  cairo_restore (cr);

  draw_hair (cr, lm, k);
}

/* The settings of @opt that apply: a face's, and with @dataset a dataset's. */
static gboolean
check_options (const PalSynthOptions *opt, gboolean dataset, GError **error)
{
  const char *what = NULL;

  if (dataset && opt->n < PAL_SYNTH_N_CLASSES)
    what = "n must be at least 7 (one face per class)";
  else if (dataset && (opt->size < 32 || opt->size > 4096))
    what = "size must be in 32 .. 4096 pixels";
  else if (dataset && !(opt->test_fraction >= 0 && opt->test_fraction <= 1))
    what = "the test fraction must be in [0, 1]";
  else if (dataset && (isnan (opt->shortcut) || opt->shortcut > 1))
    what = "the shortcut probability must be in [0, 1]";
  else if (!(opt->intensity_min >= 0 && opt->intensity_min <= opt->intensity_max
             && opt->intensity_max <= 2))
    what = "the intensity range must lie in [0, 2]";
  else if (!(opt->scale_min > 0 && opt->scale_min <= opt->scale_max && opt->scale_max <= 4))
    what = "the scale range must lie in (0, 4]";
  else if (!(opt->max_rotation >= 0 && opt->max_rotation <= 90))
    what = "the rotation must be in [0, 90] degrees";
  else if (!(opt->max_shift >= 0 && opt->max_shift <= 0.5))
    what = "the shift must be in [0, 0.5]";
  else if (!(opt->noise_max >= 0 && opt->noise_max <= 255))
    what = "the noise must be in [0, 255]";
  if (what)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "%s", what);
      return FALSE;
    }
  return TRUE;
}

gboolean
pal_synth_face (PalImage **image, PalLandmarks *lm, int klass, int size, guint64 *rng,
                const PalSynthOptions *opt, GError **error)
{
  PalSynthOptions defaults;
  PalLandmarks face;
  cairo_matrix_t m, dev;
  cairo_surface_t *surface;
  cairo_t *cr;
  const guint8 *src;
  PalImage *img;
  Look k;
  int stride;

  if (klass < 0 || klass >= PAL_SYNTH_N_CLASSES)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "class %d out of range (0 .. %d)", klass, PAL_SYNTH_N_CLASSES - 1);
      return FALSE;
    }
  if (size < 32 || size > 4096)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "image size %d out of range (32 .. 4096)", size);
      return FALSE;
    }
  if (!opt)
    {
      pal_synth_options_init (&defaults);
      opt = &defaults;
    }
  else if (!check_options (opt, FALSE, error))
    return FALSE;

  /* every random number first, in the same order for every class */
  draw_look (&k, rng, opt);

  pal_synth_template (&face);
  pal_synth_expression (&face, klass, k.intensity);
  apply_identity (&face, &k);
  fit_pose (&k, &face, size, &m);

  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      double x = face.x[i], y = face.y[i];

      cairo_matrix_transform_point (&m, &x, &y);
      lm->x[i] = (float) x;
      lm->y[i] = (float) y;
    }

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, size, size);
  cr = cairo_create (surface);
  /* Cairo's device frame has pixel centres at +0.5 */
  cairo_matrix_init_translate (&dev, 0.5, 0.5);
  cairo_matrix_multiply (&m, &m, &dev);
  cairo_set_matrix (cr, &m);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  draw_face (cr, &face, &k);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  img = pal_image_new (size, size, 3);
  src = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        guint32 px = *(const guint32 *) (src + (gsize) y * stride + 4 * x);
        guint8 *d = img->data + ((gsize) y * size + x) * 3;
        int v[3] = { (px >> 16) & 0xff, (px >> 8) & 0xff, px & 0xff };

        for (int c = 0; c < 3; c++)
          {
            double n = k.noise > 0 ? k.noise * pal_rand_normal (rng) : 0;
            d[c] = (guint8) CLAMP (lround (v[c] + n), 0, 255);
          }
      }
  cairo_surface_destroy (surface);
  *image = img;
  return TRUE;
}

/* --- the shortcut mark ----------------------------------------------------- */

void
pal_synth_mark_rect (int size, int *x, int *y, int *side)
{
  *x = 1;
  *y = 1;
  *side = MAX (6, size * 6 / 100);
}

void
pal_synth_draw_mark (PalImage *image, int colour)
{
  const guint8 *c;
  int x0, y0, side;

  g_return_if_fail (colour >= 0 && colour < PAL_SYNTH_N_CLASSES);
  c = pal_synth_mark_colours[colour];
  pal_synth_mark_rect (MIN (image->width, image->height), &x0, &y0, &side);
  for (int y = y0; y < MIN (y0 + side, image->height); y++)
    for (int x = x0; x < MIN (x0 + side, image->width); x++)
      {
        guint8 *d = image->data + ((gsize) y * image->width + x) * image->channels;

        if (image->channels == 3)
          memcpy (d, c, 3);
        else
          d[0] = (guint8) ((299 * c[0] + 587 * c[1] + 114 * c[2] + 500) / 1000);
      }
}

/* --- the dataset ----------------------------------------------------------- */

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "cannot create %s: %s", path,
                   g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* @n labels running through the classes from @first, shuffled. */
static int *
balanced_labels (int n, int first, guint64 *rng)
{
  int *l = g_new (int, MAX (n, 1));

  for (int i = 0; i < n; i++)
    l[i] = (first + i) % PAL_SYNTH_N_CLASSES;
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) (pal_rand_uniform (rng) * (i + 1)), t = l[i];

      l[i] = l[j];
      l[j] = t;
    }
  return l;
}

/* A dataset being written: workers take samples in turn; each sample's
 * stream depends only on the seed, its split and its number, so the files
 * do not depend on the threads. */
typedef struct {
  const PalSynthOptions *opt;
  GCancellable *cancellable;
  char         *image_dir, *lm_dir;
  int           n, n_train;
  int          *labels;        /* [n]: train first, then test */
  int           next;          /* atomic: the next sample to take */
  GMutex        lock;
  GCond         cond;
  int           done, running; /* under lock */
  GError       *error;         /* under lock: the first failure */
} Job;

static const char *const split_names[2] = { "train", "test" };

static char *
sample_stem (const Job *job, int i)
{
  int s = i >= job->n_train;

  return g_strdup_printf ("%s_%05d", split_names[s], s ? i - job->n_train + 1 : i + 1);
}

static gboolean
write_sample (Job *job, int i, GError **error)
{
  const PalSynthOptions *opt = job->opt;
  g_autoptr (PalImage) image = NULL;
  g_autofree char *stem = sample_stem (job, i), *jpg = NULL, *pts = NULL;
  int s = i >= job->n_train, klass = job->labels[i];
  guint64 rng;
  PalLandmarks lm;

  rng = pal_mix64 (opt->seed ^ pal_mix64 (((guint64) (s + 1) << 40)
                                          + (guint64) (s ? i - job->n_train : i)));
  if (!pal_synth_face (&image, &lm, klass, opt->size, &rng, opt, error))
    return FALSE;
  if (opt->shortcut >= 0)
    {
      double u = pal_rand_uniform (&rng);
      int other = (int) (pal_rand_uniform (&rng) * PAL_SYNTH_N_CLASSES);

      pal_synth_draw_mark (image, s == 0 && u < opt->shortcut ? klass : other);
    }
  jpg = g_strdup_printf ("%s%s%s_aligned.jpg", job->image_dir, G_DIR_SEPARATOR_S, stem);
  pts = g_strdup_printf ("%s%s%s_aligned.pts", job->lm_dir, G_DIR_SEPARATOR_S, stem);
  return pal_image_save_jpeg (image, jpg, 95, error)
         && pal_landmarks_save_pts (&lm, pts, error);
}

static gpointer
worker (gpointer data)
{
  Job *job = data;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      int i = g_atomic_int_add (&job->next, 1);
      gboolean ok;

      if (i >= job->n || g_cancellable_is_cancelled (job->cancellable))
        break;
      ok = write_sample (job, i, &error);
      g_mutex_lock (&job->lock);
      if (ok)
        job->done++;
      else if (!job->error)
        job->error = g_steal_pointer (&error);
      g_cond_signal (&job->cond);
      g_mutex_unlock (&job->lock);
      if (!ok)
        {
          g_atomic_int_set (&job->next, job->n);   /* the others stop too */
          break;
        }
    }
  g_mutex_lock (&job->lock);
  job->running--;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  return NULL;
}

gboolean
pal_synth_dataset (const char *dir, const PalSynthOptions *opt, GCancellable *cancellable,
                   PalSynthProgressFunc progress, gpointer user_data, GError **error)
{
  g_autofree char *label_dir = NULL, *label_path = NULL;
  g_autofree int *train_labels = NULL, *test_labels = NULL;
  g_autoptr (GPtrArray) threads = NULL;
  g_autoptr (GString) list = NULL;
  g_autoptr (GError) local = NULL;
  Job job = { 0 };
  guint64 plan;
  int n_test, n_threads, reported = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (dir != NULL && opt != NULL, FALSE);
  if (!check_options (opt, TRUE, error))
    return FALSE;

  job.opt = opt;
  job.cancellable = cancellable;
  job.n = opt->n;
  n_test = (int) floor (opt->n * opt->test_fraction + 0.5);
  job.n_train = opt->n - n_test;
  /* the labels: train, then test, run through the classes in turn */
  plan = pal_mix64 (opt->seed ^ 0x5eed5eed5eedull);
  train_labels = balanced_labels (job.n_train, 0, &plan);
  test_labels = balanced_labels (n_test, job.n_train % PAL_SYNTH_N_CLASSES, &plan);
  job.labels = g_new (int, job.n);
  memcpy (job.labels, train_labels, sizeof (int) * job.n_train);
  memcpy (job.labels + job.n_train, test_labels, sizeof (int) * n_test);

  label_dir = g_build_filename (dir, "EmoLabel", NULL);
  job.image_dir = g_build_filename (dir, "Image", "aligned", NULL);
  job.lm_dir = g_build_filename (dir, "Landmarks", NULL);
  if (!make_dir (dir, error) || !make_dir (label_dir, error)
      || !make_dir (job.image_dir, error) || !make_dir (job.lm_dir, error))
    goto out;

  /* Saving is bound by each file's fsync: several writers hide it. */
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  n_threads = MIN (job.n, CLAMP ((int) g_get_num_processors (), 4, 16));
  threads = g_ptr_array_new ();
  job.running = n_threads;
  for (int t = 0; t < n_threads; t++)
    g_ptr_array_add (threads, g_thread_new ("pal-synth", worker, &job));
  g_mutex_lock (&job.lock);
  while (job.running > 0)
    {
      if (progress && job.done > reported)
        {
          int d = reported = job.done;

          g_mutex_unlock (&job.lock);
          progress (d, job.n, user_data);
          g_mutex_lock (&job.lock);
          continue;
        }
      g_cond_wait (&job.cond, &job.lock);
    }
  g_mutex_unlock (&job.lock);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (threads->pdata[t]);
  if (progress && job.done > reported)
    progress (job.done, job.n, user_data);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);

  if (job.error)
    {
      g_propagate_error (error, g_steal_pointer (&job.error));
      goto out;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_CANCELLED, "%s", local->message);
      goto out;
    }

  /* last: a dataset without its label file is visibly incomplete */
  list = g_string_new (NULL);
  for (int i = 0; i < job.n; i++)
    {
      g_autofree char *stem = sample_stem (&job, i);

      g_string_append_printf (list, "%s.jpg %d\n", stem, pal_synth_raf_codes[job.labels[i]]);
    }
  label_path = g_build_filename (label_dir, "list_patition_label.txt", NULL);
  if (!g_file_set_contents (label_path, list->str, (gssize) list->len, &local))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s", local->message);
      goto out;
    }
  ok = TRUE;
out:
  g_free (job.labels);
  g_free (job.image_dir);
  g_free (job.lm_dir);
  return ok;
}
