/* pal-cmd-synth.c: pal synth, a synthetic face dataset in RAF-DB's layout */
#include "pal-cli.h"
#include "pal-rand.h"
#include "pal-synth.h"

#include <cairo.h>
#include <math.h>

/* A picture of the generator: one row per class (named on the left), one
 * person per column, the same person down a column (the face of column c
 * is pal_synth_face() with the generator state pal_mix64 (seed * 1000 + c)),
 * written as PNG. */
static gboolean
write_grid (const char *path, guint64 seed, int size, int columns, GError **error)
{
  const int label = 80;
  int width = label + columns * size, height = PAL_SYNTH_N_CLASSES * size;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);
  g_autoptr (PalImage) out = NULL;
  gboolean ok = TRUE;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 15);
  for (int k = 0; k < PAL_SYNTH_N_CLASSES && ok; k++)
    {
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_move_to (cr, 8, k * size + size / 2 + 5);
      cairo_show_text (cr, pal_expression_classes[k]);
      for (int c = 0; c < columns && ok; c++)
        {
          g_autoptr (PalImage) face = NULL;
          guint64 rng = pal_mix64 (seed * 1000 + (guint64) c);
          PalLandmarks lm;
          cairo_surface_t *cell;
          guint8 *d;
          int stride;

          ok = pal_synth_face (&face, &lm, k, size, &rng, NULL, error);
          if (!ok)
            break;
          cell = cairo_image_surface_create (CAIRO_FORMAT_RGB24, size, size);
          cairo_surface_flush (cell);
          d = cairo_image_surface_get_data (cell);
          stride = cairo_image_surface_get_stride (cell);
          for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
              {
                const guint8 *p = face->data + ((gsize) y * size + x) * 3;

                *(guint32 *) (d + (gsize) y * stride + 4 * x) =
                  ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
              }
          cairo_surface_mark_dirty (cell);
          cairo_set_source_surface (cr, cell, label + c * size, k * size);
          cairo_paint (cr);
          cairo_surface_destroy (cell);
        }
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  if (ok)
    {
      const guint8 *src = cairo_image_surface_get_data (surface);
      int stride = cairo_image_surface_get_stride (surface);

      out = pal_image_new (width, height, 3);
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            guint32 px = *(const guint32 *) (src + (gsize) y * stride + 4 * x);
            guint8 *p = out->data + ((gsize) y * width + x) * 3;

            p[0] = (px >> 16) & 0xff;
            p[1] = (px >> 8) & 0xff;
            p[2] = px & 0xff;
          }
      ok = pal_image_save_png (out, path, error);
    }
  cairo_surface_destroy (surface);
  return ok;
}

int
pal_cmd_synth (int argc, char **argv)
{
  g_autofree char *out = NULL, *shortcut = NULL, *grid = NULL;
  gint64 seed = 0;
  int n = 700, size = 100;
  double test_fraction = 0.25;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Dataset folder to write (created if needed)", "DIR" },
    { "n", 'n', 0, G_OPTION_ARG_INT, &n, "Faces in all, at least 7 (default 700)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed (default 0)", "S" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Image side in pixels, 32 to 4096 (default 100)", "PX" },
    { "test-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &test_fraction, "Share of the faces in test (default 0.25)", "F" },
    { "shortcut", 0, 0, G_OPTION_ARG_STRING, &shortcut, "Corner mark whose colour gives the label with probability P in train", "P" },
    { "grid", 0, 0, G_OPTION_ARG_FILENAME, &grid, "Instead of a dataset, a PNG of 7 rows (classes) x 8 faces", "PNG" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- draw a synthetic face dataset (RAF-DB layout)");
  g_autoptr (GError) error = NULL;
  PalSynthOptions opt;
  int n_test;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Draws faces from their 68 landmarks, the 7 expressions told apart only by\n"
    "landmark geometry, classes balanced, and writes them as RAF-DB basic:\n"
    "  DIR/EmoLabel/list_patition_label.txt   train_00001.jpg 4\n"
    "  DIR/Image/aligned/train_00001_aligned.jpg\n"
    "  DIR/Landmarks/train_00001_aligned.pts\n"
    "Labels use RAF-DB's codes: 1 surprise, 2 fear, 3 disgust, 4 happiness,\n"
    "5 sadness, 6 anger, 7 neutral.  The same options give the same files.\n"
    "With --shortcut P every image gets a 6-pixel square in its top-left corner;\n"
    "in train its colour is the label's with probability P (else a random class\n"
    "colour), in test always random (colours: docs/SYNTH.md).\n"
    "--grid draws one row per class, the same person down each column\n"
    "(docs/synth-grid.png is --grid docs/synth-grid.png --seed 1).  Example:\n"
    "  pal synth --out synth --n 1400 --seed 1 --shortcut 0.9\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal synth: %s (see pal synth --help)\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("pal synth: unexpected argument '%s' (see pal synth --help)\n", argv[1]);
      return 2;
    }
  if (!out == !grid)
    {
      g_printerr ("pal synth: give one of --out or --grid (see pal synth --help)\n");
      return 2;
    }

  pal_synth_options_init (&opt);
  opt.n = n;
  opt.seed = (guint64) seed;
  opt.size = size;
  opt.test_fraction = test_fraction;
  if (shortcut)
    {
      char *end;

      opt.shortcut = g_ascii_strtod (shortcut, &end);
      if (end == shortcut || *end || !(opt.shortcut >= 0 && opt.shortcut <= 1))
        {
          g_printerr ("pal synth: --shortcut must be a probability in [0, 1], not '%s'\n",
                      shortcut);
          return 2;
        }
    }
  if (n < PAL_SYNTH_N_CLASSES)
    {
      g_printerr ("pal synth: --n must be at least 7 (one face per class), not %d\n", n);
      return 2;
    }
  if (size < 32 || size > 4096)
    {
      g_printerr ("pal synth: --size must be in 32 .. 4096 pixels, not %d\n", size);
      return 2;
    }
  if (!(test_fraction >= 0 && test_fraction <= 1))
    {
      g_printerr ("pal synth: --test-fraction must be in [0, 1], not %g\n", test_fraction);
      return 2;
    }

  if (grid)
    {
      if (!write_grid (grid, opt.seed, size, 8, &error))
        {
          g_printerr ("pal synth: %s\n", error->message);
          return 1;
        }
      g_print ("%s: 7 classes x 8 faces, %dx%d each, seed %" G_GINT64_FORMAT "\n",
               grid, size, size, seed);
      return 0;
    }
  if (!pal_synth_dataset (out, &opt, NULL, NULL, NULL, &error))
    {
      g_printerr ("pal synth: %s\n", error->message);
      return 1;
    }
  n_test = (int) floor (n * test_fraction + 0.5);
  if (opt.shortcut >= 0)
    g_print ("%s: %d faces (%d train, %d test), %dx%d, seed %" G_GINT64_FORMAT ", shortcut %g\n",
             out, n, n - n_test, n_test, size, size, seed, opt.shortcut);
  else
    g_print ("%s: %d faces (%d train, %d test), %dx%d, seed %" G_GINT64_FORMAT "\n",
             out, n, n - n_test, n_test, size, size, seed);
  return 0;
}
