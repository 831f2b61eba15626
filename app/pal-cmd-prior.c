/* pal-cmd-prior.c: `pal prior`, the landmark prior of one image, drawn
 *
 * The image and its landmarks are brought to the network's input size the
 * way the loader does it (pal_augment_apply() without augmentation), the
 * prior is rendered there by pal_prior_make() (map size = input size), and
 * shown as a heat map laid over the image: colour from black through
 * purple, red and orange to pale yellow, opacity growing with the value.
 */
#include "pal-cli.h"
#include "pal-augment.h"
#include "pal-image.h"
#include "pal-landmarks.h"

#include <math.h>

/* An approximation of matplotlib's "inferno", five stops. */
static void
heat_colour (double v, guint8 rgb[3])
{
  static const guint8 stops[5][3] = {
    { 0, 0, 4 }, { 87, 16, 110 }, { 188, 55, 84 }, { 249, 142, 9 }, { 252, 255, 164 },
  };
  double t = CLAMP (v, 0.0, 1.0) * 4.0;
  int k = MIN ((int) t, 3);
  double f = t - k;

  for (int c = 0; c < 3; c++)
    rgb[c] = (guint8) lround ((1.0 - f) * stops[k][c] + f * stops[k + 1][c]);
}

static int
usage_error (const char *message)
{
  g_printerr ("pal prior: %s (see pal prior --help)\n", message);
  return 2;
}

int
pal_cmd_prior (int argc, char **argv)
{
  g_autofree char *lm_path = NULL, *out = NULL;
  double sigma = 3.0, noise = 0.0, opacity = 0.75;
  int size = 224;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &lm_path, "68 landmarks of the image (.pts, 1-based, or \"x y\" lines, 0-based)", "PTS" },
    { "sigma", 0, 0, G_OPTION_ARG_DOUBLE, &sigma, "Gaussian sigma in pixels of a 224 input (default 3, the paper's)", "PX" },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &noise, "Landmark noise, pixels of a 224 input (default 0)", "PX" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the landmark noise (default 0)", "S" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Network input size: the image is resized to SIZE x SIZE (default 224)", "PX" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &opacity, "Opacity of the heat map at its peak, 0 .. 1 (default 0.75)", "A" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "PNG file to write", "PNG" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE - draw the landmark prior of an image");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = NULL;
  g_autoptr (PalImage) rgb = NULL;
  g_autoptr (PalImage) sized = NULL;
  g_autofree float *prior = NULL;
  PalLandmarks lm;
  guint64 rng = (guint64) seed;
  float peak = 0.0f;
  int outside = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Renders the PAL prior of IMAGE, the sum of a Gaussian at each of its 68\n"
    "landmarks (the paper's Eq. 8), as the trainer makes it: the image and its\n"
    "landmarks are resized to SIZE x SIZE, the prior is rendered at that size with\n"
    "sigma scaled from a 224 input (sigma x SIZE / 224), and drawn as a heat map\n"
    "over the resized image.  With --noise each landmark is first moved by Gaussian\n"
    "noise of that standard deviation (drawn from --seed).  Example:\n"
    "  pal prior face.jpg --landmarks face.pts --out prior.png\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal prior: %s (see pal prior --help)\n", error->message);
      return 2;
    }
  if (argc != 2)
    return usage_error (argc < 2 ? "an IMAGE is required" : "only one IMAGE, please");
  if (!lm_path || !out)
    return usage_error ("--landmarks and --out are required");
  if (!(sigma > 0.0) || !isfinite (sigma))
    return usage_error ("--sigma must be a positive number of pixels");
  if (!(noise >= 0.0) || !isfinite (noise))
    return usage_error ("--noise must be 0 or more pixels");
  if (size < 16 || size > 4096)
    return usage_error ("--size must be in 16 .. 4096");
  if (!(opacity >= 0.0 && opacity <= 1.0))
    return usage_error ("--opacity must be in 0 .. 1");

  image = pal_image_load (argv[1], &error);
  if (!image || !pal_landmarks_load (lm_path, &lm, &error))
    {
      g_printerr ("pal prior: %s\n", error->message);
      return 1;
    }
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    outside += lm.x[i] < -0.5f || lm.y[i] < -0.5f || lm.x[i] > image->width - 0.5f
               || lm.y[i] > image->height - 0.5f;

  rgb = image->channels == 3 ? pal_image_copy (image) : pal_image_to_rgb (image);
  sized = pal_augment_apply (rgb, &lm, NULL, size, size);
  prior = g_new (float, (gsize) size * size);
  pal_prior_make (prior, size, size, &lm, size, size, size, size, (float) sigma,
                  (float) noise, &rng);
  for (gsize i = 0; i < (gsize) size * size; i++)
    peak = MAX (peak, prior[i]);

  for (gsize i = 0; i < (gsize) size * size; i++)
    {
      double v = peak > 0.0f ? prior[i] / peak : 0.0;
      double a = opacity * v;
      guint8 col[3], *p = sized->data + i * 3;

      heat_colour (v, col);
      for (int c = 0; c < 3; c++)
        p[c] = (guint8) lround ((1.0 - a) * p[c] + a * col[c]);
    }

  if (!pal_image_save_png (sized, out, &error))
    {
      g_printerr ("pal prior: %s\n", error->message);
      return 1;
    }
  g_print ("%s: prior of %s at %dx%d, sigma %.2f px, peak %.4g\n", out, argv[1], size, size,
           sigma * size / 224.0, peak);
  if (outside > 0)
    g_printerr ("pal prior: warning: %d of the 68 landmarks lie outside the %dx%d image "
                "(landmarks of another image?)\n",
                outside, image->width, image->height);
  return 0;
}
