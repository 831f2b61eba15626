/* test-render.c: colormaps, maps, overlays, landmarks, grids, tables, bars */
#include "pal-render.h"

#include <math.h>
#include <string.h>

/* --- helpers -------------------------------------------------------------- */

static double
luma (const guint8 *p)
{
  return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
}

static const guint8 *
px (const PalImage *im, int x, int y)
{
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, im->width);
  g_assert_cmpint (y, <, im->height);
  return im->data + ((gsize) y * im->width + x) * im->channels;
}

static void
assert_rgb (const guint8 *p, int r, int g, int b, int tol)
{
  g_assert_cmpint (ABS (p[0] - r), <=, tol);
  g_assert_cmpint (ABS (p[1] - g), <=, tol);
  g_assert_cmpint (ABS (p[2] - b), <=, tol);
}

static void
assert_colour_of (const guint8 *p, PalColormap cm, float t)
{
  guint8 c[3];

  pal_colormap_rgb (cm, t, c);
  assert_rgb (p, c[0], c[1], c[2], 0);
}

static PalImage *
solid (int w, int h, int channels, guint8 v)
{
  PalImage *im = pal_image_new (w, h, channels);

  memset (im->data, v, (gsize) w * h * channels);
  return im;
}

/* An image with something in every pixel: a smooth pattern. */
static PalImage *
pattern (int w, int h)
{
  PalImage *im = pal_image_new (w, h, 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *p = im->data + 3 * ((gsize) y * w + x);
        p[0] = (guint8) (x * 255 / MAX (w - 1, 1));
        p[1] = (guint8) (y * 255 / MAX (h - 1, 1));
        p[2] = (guint8) ((x + y) & 0xff);
      }
  return im;
}

/* Count of non-white pixels in a rectangle. */
static int
ink_in (const PalImage *im, int x0, int y0, int x1, int y1)
{
  int n = 0;

  for (int y = MAX (y0, 0); y < MIN (y1, im->height); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, im->width); x++)
      {
        const guint8 *p = px (im, x, y);
        n += p[0] != 255 || p[1] != 255 || p[2] != 255;
      }
  return n;
}

/* --- colormaps ------------------------------------------------------------ */

static void
test_colormap_endpoints (void)
{
  guint8 c[3];

  /* matplotlib's end colours */
  pal_colormap_rgb (PAL_COLORMAP_INFERNO, 0.0f, c);
  assert_rgb (c, 0, 0, 4, 1);
  pal_colormap_rgb (PAL_COLORMAP_INFERNO, 1.0f, c);
  assert_rgb (c, 252, 255, 164, 1);
  pal_colormap_rgb (PAL_COLORMAP_INFERNO, 0.5f, c);
  assert_rgb (c, 188, 55, 84, 2);
  pal_colormap_rgb (PAL_COLORMAP_VIRIDIS, 0.0f, c);
  assert_rgb (c, 68, 1, 84, 1);
  pal_colormap_rgb (PAL_COLORMAP_VIRIDIS, 1.0f, c);
  assert_rgb (c, 253, 231, 37, 1);
  pal_colormap_rgb (PAL_COLORMAP_VIRIDIS, 0.5f, c);
  assert_rgb (c, 33, 145, 140, 2);
  pal_colormap_rgb (PAL_COLORMAP_GRAY, 0.0f, c);
  assert_rgb (c, 0, 0, 0, 0);
  pal_colormap_rgb (PAL_COLORMAP_GRAY, 1.0f, c);
  assert_rgb (c, 255, 255, 255, 0);
  pal_colormap_rgb (PAL_COLORMAP_JET, 0.0f, c);
  assert_rgb (c, 0, 0, 128, 1);
  pal_colormap_rgb (PAL_COLORMAP_JET, 1.0f, c);
  assert_rgb (c, 128, 0, 0, 1);
  pal_colormap_rgb (PAL_COLORMAP_JET, 0.5f, c);
  g_assert_cmpint (c[1], >, 200);   /* green in the middle */

  /* clamped; NaN counts as 0 */
  for (int cm = PAL_COLORMAP_INFERNO; cm <= PAL_COLORMAP_GRAY; cm++)
    {
      guint8 a[3], b[3];

      pal_colormap_rgb (cm, 0.0f, a);
      pal_colormap_rgb (cm, -3.0f, b);
      g_assert_cmpmem (a, 3, b, 3);
      pal_colormap_rgb (cm, NAN, b);
      g_assert_cmpmem (a, 3, b, 3);
      pal_colormap_rgb (cm, 1.0f, a);
      pal_colormap_rgb (cm, 7.0f, b);
      g_assert_cmpmem (a, 3, b, 3);
      pal_colormap_rgb (cm, INFINITY, b);
      g_assert_cmpmem (a, 3, b, 3);
    }
}

static void
test_colormap_luminance (void)
{
  const PalColormap maps[] = { PAL_COLORMAP_INFERNO, PAL_COLORMAP_VIRIDIS, PAL_COLORMAP_GRAY };

  for (guint m = 0; m < G_N_ELEMENTS (maps); m++)
    {
      guint8 c[3];
      double prev;

      /* strictly increasing on a coarse scale */
      pal_colormap_rgb (maps[m], 0.0f, c);
      prev = luma (c);
      for (int i = 1; i <= 32; i++)
        {
          pal_colormap_rgb (maps[m], i / 32.0f, c);
          g_assert_cmpfloat (luma (c), >, prev);
          prev = luma (c);
        }
      /* and never falling by more than 8-bit rounding on a fine one */
      pal_colormap_rgb (maps[m], 0.0f, c);
      prev = luma (c);
      for (int i = 1; i <= 1000; i++)
        {
          pal_colormap_rgb (maps[m], i / 1000.0f, c);
          g_assert_cmpfloat (luma (c), >=, prev - 0.75);
          prev = MAX (prev, luma (c));
        }
    }
}

/* --- maps and overlays ---------------------------------------------------- */

static void
test_map_range (void)
{
  const float m[] = { 3.0f, -1.5f, NAN, 7.25f, INFINITY, 0.0f };
  const float flat[] = { 2.0f, 2.0f, 2.0f };
  float lo, hi;

  pal_map_range (m, G_N_ELEMENTS (m), &lo, &hi);
  g_assert_cmpfloat (lo, ==, -1.5f);
  g_assert_cmpfloat (hi, ==, 7.25f);
  pal_map_range (flat, 3, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 2.0f);
  g_assert_cmpfloat (hi, ==, 2.0f);
  pal_map_range (flat, 0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, 0.0f);
}

static void
test_map_ramp (void)
{
  float ramp[6];
  float vramp[4];

  for (int i = 0; i < 6; i++)
    ramp[i] = 10.0f + 2.0f * i;
  for (int i = 0; i < 4; i++)
    vramp[i] = (float) (i * i);

  /* a horizontal ramp, upscaled: gray is the normalised value itself */
  {
    g_autoptr (PalImage) im = pal_render_map (ramp, 6, 1, 61, 5, 10.0f, 20.0f,
                                              PAL_COLORMAP_GRAY);
    g_assert_cmpint (im->width, ==, 61);
    g_assert_cmpint (im->height, ==, 5);
    g_assert_cmpint (im->channels, ==, 3);
    for (int y = 0; y < 5; y++)
      {
        g_assert_cmpint (px (im, 0, y)[0], ==, 0);
        g_assert_cmpint (px (im, 60, y)[0], ==, 255);
        for (int x = 1; x < 61; x++)
          g_assert_cmpint (px (im, x, y)[0], >=, px (im, x - 1, y)[0]);
        /* and the same in every row */
        g_assert_cmpmem (px (im, 0, y), 61 * 3, px (im, 0, 0), 61 * 3);
      }
    /* the middle of the picture is the middle of the ramp */
    g_assert_cmpint (ABS (px (im, 30, 2)[0] - 128), <=, 3);
  }

  /* a vertical ramp through inferno: luminance grows down the picture */
  {
    g_autoptr (PalImage) im = pal_render_map (vramp, 1, 4, 3, 40, 0.0f, 9.0f,
                                              PAL_COLORMAP_INFERNO);
    assert_colour_of (px (im, 1, 0), PAL_COLORMAP_INFERNO, 0.0f);
    assert_colour_of (px (im, 1, 39), PAL_COLORMAP_INFERNO, 1.0f);
    for (int y = 1; y < 40; y++)
      g_assert_cmpfloat (luma (px (im, 1, y)), >=, luma (px (im, 1, y - 1)) - 0.75);
    g_assert_cmpfloat (luma (px (im, 1, 39)), >, luma (px (im, 1, 20)) + 50);
  }

  /* a downscale keeps the order too */
  {
    float big[200];
    g_autoptr (PalImage) im = NULL;

    for (int i = 0; i < 200; i++)
      big[i] = (float) i;
    im = pal_render_map (big, 200, 1, 7, 1, 0.0f, 199.0f, PAL_COLORMAP_GRAY);
    for (int x = 1; x < 7; x++)
      g_assert_cmpint (px (im, x, 0)[0], >, px (im, x - 1, 0)[0]);
  }

  /* a flat range gives the colour of 0 everywhere */
  {
    g_autoptr (PalImage) im = pal_render_map (ramp, 6, 1, 12, 2, 5.0f, 5.0f,
                                              PAL_COLORMAP_VIRIDIS);
    for (int x = 0; x < 12; x++)
      assert_colour_of (px (im, x, 1), PAL_COLORMAP_VIRIDIS, 0.0f);
  }
}

static void
test_overlay (void)
{
  float map[9];
  g_autoptr (PalImage) base = pattern (30, 20);
  g_autoptr (PalImage) gray = solid (30, 20, 1, 90);

  for (int i = 0; i < 9; i++)
    map[i] = (float) i;

  /* opacity 0: the base itself */
  {
    g_autoptr (PalImage) o = pal_render_overlay (base, map, 3, 3, 0.0f, 8.0f,
                                                 PAL_COLORMAP_JET, 0.0f);
    g_assert_cmpint (o->width, ==, 30);
    g_assert_cmpint (o->height, ==, 20);
    g_assert_cmpint (o->channels, ==, 3);
    g_assert_cmpmem (o->data, 30 * 20 * 3, base->data, 30 * 20 * 3);
  }
  /* a grey base comes out RGB */
  {
    g_autoptr (PalImage) o = pal_render_overlay (gray, map, 3, 3, 0.0f, 8.0f,
                                                 PAL_COLORMAP_INFERNO, 0.0f);
    g_assert_cmpint (o->channels, ==, 3);
    for (int i = 0; i < 30 * 20 * 3; i++)
      g_assert_cmpint (o->data[i], ==, 90);
  }
  /* opacity 1: the lowest value leaves the face, the highest covers it */
  {
    g_autoptr (PalImage) o = pal_render_overlay (base, map, 3, 3, 0.0f, 8.0f,
                                                 PAL_COLORMAP_VIRIDIS, 1.0f);
    g_assert_cmpmem (px (o, 0, 0), 3, px (base, 0, 0), 3);
    assert_colour_of (px (o, 29, 19), PAL_COLORMAP_VIRIDIS, 1.0f);
    /* in between: a blend */
    g_assert_cmpint (memcmp (px (o, 15, 10), px (base, 15, 10), 3), !=, 0);
  }
}

/* --- landmarks ------------------------------------------------------------ */

static void
test_landmarks (void)
{
  const guint8 red[3] = { 255, 0, 0 };
  PalLandmarks lm;

  /* 68 points on a circle of radius 30 about (60, 50) */
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm.x[i] = 60.0f + 30.0f * cosf (2 * G_PI * i / PAL_N_LANDMARKS);
      lm.y[i] = 50.0f + 30.0f * sinf (2 * G_PI * i / PAL_N_LANDMARKS);
    }

  {
    g_autoptr (PalImage) im = solid (120, 100, 3, 128);

    pal_render_landmarks (im, &lm, red, 2.0f);
    for (int i = 0; i < PAL_N_LANDMARKS; i++)
      assert_rgb (px (im, (int) lrintf (lm.x[i]), (int) lrintf (lm.y[i])), 255, 0, 0, 40);
    /* far away: untouched */
    assert_rgb (px (im, 60, 50), 128, 128, 128, 0);
    assert_rgb (px (im, 0, 0), 128, 128, 128, 0);
    assert_rgb (px (im, 119, 99), 128, 128, 128, 0);
    for (int y = 0; y < 100; y++)
      for (int x = 0; x < 120; x++)
        if (hypot (x - 60, y - 50) < 25 || hypot (x - 60, y - 50) > 35)
          assert_rgb (px (im, x, y), 128, 128, 128, 0);
  }

  /* a landmark at (x, y) is centred on pixel (x, y) */
  {
    g_autoptr (PalImage) im = solid (20, 20, 3, 0);
    PalLandmarks one;

    for (int i = 0; i < PAL_N_LANDMARKS; i++)
      {
        one.x[i] = 7.0f;
        one.y[i] = 12.0f;
      }
    pal_render_landmarks (im, &one, red, 1.5f);
    assert_rgb (px (im, 7, 12), 255, 0, 0, 0);
    g_assert_cmpint (px (im, 6, 12)[0], ==, px (im, 8, 12)[0]);
    g_assert_cmpint (px (im, 7, 11)[0], ==, px (im, 7, 13)[0]);
    assert_rgb (px (im, 7, 16), 0, 0, 0, 0);
  }

  /* a grey image stays grey and gets the colour's luminance */
  {
    g_autoptr (PalImage) im = solid (120, 100, 1, 0);

    pal_render_landmarks (im, &lm, red, 2.0f);
    g_assert_cmpint (im->channels, ==, 1);
    g_assert_cmpint (ABS (px (im, (int) lm.x[0], (int) lm.y[0])[0] - 76), <=, 2);
    g_assert_cmpint (px (im, 60, 50)[0], ==, 0);
  }
}

/* --- grid, stack ---------------------------------------------------------- */

static void
test_grid_size (void)
{
  const int sizes[5][2] = { { 30, 20 }, { 40, 10 }, { 25, 35 }, { 10, 10 }, { 50, 5 } };
  PalImage *panels[5];
  const char *titles[5] = { "a", NULL, "b", NULL, "c" };
  const int pad = 3;
  int tw, th, mw, mh;

  for (int i = 0; i < 5; i++)
    panels[i] = solid (sizes[i][0], sizes[i][1], 3, (guint8) (40 * i));
  pal_render_text_size ("a", PAL_RENDER_TEXT_SIZE, FALSE, &tw, &th);
  g_assert_cmpint (tw, >, 0);
  g_assert_cmpint (tw, <, 10);           /* narrower than every panel */
  g_assert_cmpint (th, >=, 10);
  g_assert_cmpint (th, <=, 30);

  /* 2 columns: widths max(30, 25, 50) and max(40, 10); rows 20, 35, 5 */
  {
    g_autoptr (PalImage) g = pal_render_grid (panels, NULL, 5, 2, pad, NULL);
    g_assert_cmpint (g->width, ==, pad + 50 + pad + 40 + pad);
    g_assert_cmpint (g->height, ==, pad + 20 + pad + 35 + pad + 5 + pad);
    /* panel 0 centred in its column, at the top of its row */
    assert_rgb (px (g, pad + 10, pad), 0, 0, 0, 0);
    assert_rgb (px (g, pad + 10 - 1, pad), 255, 255, 255, 0);
    /* panel 3 (10 x 10) centred in column 1 of row 1 */
    assert_rgb (px (g, pad + 50 + pad + 15, pad + 20 + pad), 120, 120, 120, 0);
    assert_rgb (px (g, pad + 50 + pad + 15 + 9, pad + 20 + pad + 9), 120, 120, 120, 0);
    assert_rgb (px (g, pad + 50 + pad + 15 + 10, pad + 20 + pad), 255, 255, 255, 0);
  }
  /* with titles: each row that has one gains a title block */
  {
    g_autoptr (PalImage) g = pal_render_grid (panels, titles, 5, 2, pad, NULL);
    int tb = th + PAL_RENDER_TITLE_GAP;

    g_assert_cmpint (g->width, ==, pad + 50 + pad + 40 + pad);
    g_assert_cmpint (g->height, ==, pad + tb + 20 + pad + tb + 35 + pad + tb + 5 + pad);
    /* the title is written above panel 0, and the panel moved down */
    g_assert_cmpint (ink_in (g, pad, pad, pad + 50, pad + th), >, 0);
    assert_rgb (px (g, pad + 10, pad + tb), 0, 0, 0, 0);
  }
  /* a main title adds its block and a pad */
  {
    g_autoptr (PalImage) g = pal_render_grid (panels, NULL, 5, 3, pad, "T");

    pal_render_text_size ("T", PAL_RENDER_TITLE_SIZE, TRUE, &mw, &mh);
    /* columns max(30, 10), max(40, 50), 25; rows 35 and 10 */
    g_assert_cmpint (g->width, ==, pad + 30 + pad + 50 + pad + 25 + pad);
    g_assert_cmpint (g->height, ==, pad + mh + pad + 35 + pad + 10 + pad);
    g_assert_cmpint (ink_in (g, 0, 0, g->width, pad + mh), >, 0);
  }
  /* a title wider than its panel widens the column */
  {
    const char *wide[1] = { "a rather long title" };
    g_autoptr (PalImage) g = pal_render_grid (panels + 3, wide, 1, 1, 0, NULL);

    pal_render_text_size (wide[0], PAL_RENDER_TEXT_SIZE, FALSE, &tw, &th);
    g_assert_cmpint (tw, >, 10);
    g_assert_cmpint (g->width, ==, tw);
    g_assert_cmpint (g->height, ==, th + PAL_RENDER_TITLE_GAP + 10);
  }
  /* one column, and more columns than panels */
  {
    g_autoptr (PalImage) g1 = pal_render_grid (panels, NULL, 2, 1, 0, NULL);
    g_autoptr (PalImage) g9 = pal_render_grid (panels, NULL, 2, 9, 1, NULL);

    g_assert_cmpint (g1->width, ==, 40);
    g_assert_cmpint (g1->height, ==, 30);
    g_assert_cmpint (g9->width, ==, 1 + 30 + 1 + 40 + 1);
    g_assert_cmpint (g9->height, ==, 1 + 20 + 1);
  }
  /* a stack: no margin, centred */
  {
    g_autoptr (PalImage) s = pal_render_stack (panels, 3, 2);

    g_assert_cmpint (s->width, ==, 40);
    g_assert_cmpint (s->height, ==, 20 + 2 + 10 + 2 + 35);
    assert_rgb (px (s, 5, 0), 0, 0, 0, 0);
    assert_rgb (px (s, 4, 0), 255, 255, 255, 0);
  }
  for (int i = 0; i < 5; i++)
    pal_image_free (panels[i]);
}

/* --- text, tables, colour bars, bars -------------------------------------- */

static void
test_text (void)
{
  int w1, h1, w2, h2;
  g_autoptr (PalImage) t = NULL;

  pal_render_text_size ("Grad", PAL_RENDER_TEXT_SIZE, FALSE, &w1, &h1);
  pal_render_text_size ("Grad\nGrad*Input", PAL_RENDER_TEXT_SIZE, FALSE, &w2, &h2);
  g_assert_cmpint (w1, >, 20);
  g_assert_cmpint (w2, >, w1);
  g_assert_cmpint (h2, ==, 2 * h1);
  pal_render_text_size ("Grad", 2 * PAL_RENDER_TEXT_SIZE, FALSE, &w2, &h2);
  g_assert_cmpint (w2, >, w1 * 3 / 2);

  t = pal_render_text ("Grad", PAL_RENDER_TEXT_SIZE, FALSE, NULL);
  g_assert_cmpint (t->width, ==, w1);
  g_assert_cmpint (t->height, ==, h1);
  g_assert_cmpint (ink_in (t, 0, 0, t->width, t->height), >, 20);
}

static void
test_table (void)
{
  const char *cells[] = {
    "",       "happy", "sad",
    "happy",  "90%",   "10%",
    "sad",    "25%",   "75%",
  };
  const float shade[] = { 0.9f, 0.1f, 0.25f, 0.75f };
  int sum_w = 0, lh;
  g_autoptr (PalImage) t = pal_render_table (cells, 3, 3, shade, PAL_COLORMAP_GRAY, NULL);
  g_autoptr (PalImage) tt = pal_render_table (cells, 3, 3, NULL, PAL_COLORMAP_GRAY,
                                              "confusion");

  for (int c = 0; c < 3; c++)
    {
      int wmax = 0;
      for (int r = 0; r < 3; r++)
        {
          int w;
          pal_render_text_size (cells[r * 3 + c], PAL_RENDER_TEXT_SIZE, TRUE, &w, NULL);
          wmax = MAX (wmax, w);
        }
      sum_w += wmax;
    }
  pal_render_text_size ("x", PAL_RENDER_TEXT_SIZE, FALSE, NULL, &lh);

  g_assert_cmpint (t->width, >=, sum_w);
  g_assert_cmpint (t->width, <=, sum_w + 3 * 20 + 2);
  g_assert_cmpint (t->height, >=, 3 * lh);
  g_assert_cmpint (t->height, <=, 3 * (lh + 12) + 2);
  /* the title adds height only */
  g_assert_cmpint (tt->width, ==, t->width);
  g_assert_cmpint (tt->height, >, t->height + lh / 2);
  g_assert_cmpint (tt->height, <=, t->height + 2 * lh);

  /* the body cells are filled with their shades: in the row just under
   * the first body row's rule, runs of the colours of 0.9 and 0.1 */
  {
    int rh = (t->height - 1) / 3, n9 = 0, n1 = 0, m1 = 0;
    guint8 c9[3], c1[3];

    pal_colormap_rgb (PAL_COLORMAP_GRAY, 0.9f, c9);
    pal_colormap_rgb (PAL_COLORMAP_GRAY, 0.1f, c1);
    for (int x = 0; x < t->width; x++)
      {
        n9 += memcmp (px (t, x, rh + 2), c9, 3) == 0;
        n1 += memcmp (px (t, x, rh + 2), c1, 3) == 0;
        m1 += memcmp (px (tt, x, tt->height - 2 * rh + 1), c1, 3) == 0;
      }
    g_assert_cmpint (n9, >, 10);
    g_assert_cmpint (n1, >, 10);
    g_assert_cmpint (m1, ==, 0);   /* no shade: white cells */
  }
}

static void
test_colorbar (void)
{
  const PalColormap maps[] = { PAL_COLORMAP_INFERNO, PAL_COLORMAP_VIRIDIS, PAL_COLORMAP_JET,
                               PAL_COLORMAP_GRAY };

  for (guint m = 0; m < G_N_ELEMENTS (maps); m++)
    {
      g_autoptr (PalImage) hb = pal_render_colorbar (120, 10, 0.0f, 0.25f, maps[m]);
      g_autoptr (PalImage) vb = pal_render_colorbar (12, 90, -1.0f, 3.5e-4f, maps[m]);

      /* horizontal: lo at the left, values written under the bar */
      g_assert_cmpint (hb->width, >=, 120);
      g_assert_cmpint (hb->height, >, 10);
      for (int y = 0; y < 10; y++)
        {
          assert_colour_of (px (hb, 0, y), maps[m], 0.0f);
          assert_colour_of (px (hb, 119, y), maps[m], 1.0f);
        }
      g_assert_cmpint (ink_in (hb, 0, 11, hb->width, hb->height), >, 10);

      /* vertical: hi at the top, values to the right */
      g_assert_cmpint (vb->width, >, 12);
      g_assert_cmpint (vb->height, >=, 90);
      for (int x = 0; x < 12; x++)
        {
          assert_colour_of (px (vb, x, 0), maps[m], 1.0f);
          assert_colour_of (px (vb, x, 89), maps[m], 0.0f);
        }
      g_assert_cmpint (ink_in (vb, 13, 0, vb->width, vb->height), >, 10);
    }
}

static void
test_bars (void)
{
  const char *labels[] = { "neutral", "happy", "sad" };
  const float values[] = { 0.2f, 0.7f, 0.1f };
  int lh;
  g_autoptr (PalImage) b = pal_render_bars (labels, values, 3, 1, 100, NULL);
  g_autoptr (PalImage) bt = pal_render_bars (labels, values, 3, 1, 100, "Prediction");

  pal_render_text_size ("x", PAL_RENDER_TEXT_SIZE, FALSE, NULL, &lh);
  g_assert_cmpint (b->width, >, 100);
  g_assert_cmpint (b->width, <, 300);
  g_assert_cmpint (b->height, >=, 3 * lh);
  g_assert_cmpint (b->height, <=, 3 * (lh + 6) + 10);
  g_assert_cmpint (bt->height, >, b->height);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/colormap/endpoints", test_colormap_endpoints);
  g_test_add_func ("/render/colormap/luminance", test_colormap_luminance);
  g_test_add_func ("/render/map/range", test_map_range);
  g_test_add_func ("/render/map/ramp", test_map_ramp);
  g_test_add_func ("/render/overlay", test_overlay);
  g_test_add_func ("/render/landmarks", test_landmarks);
  g_test_add_func ("/render/grid", test_grid_size);
  g_test_add_func ("/render/text", test_text);
  g_test_add_func ("/render/table", test_table);
  g_test_add_func ("/render/colorbar", test_colorbar);
  g_test_add_func ("/render/bars", test_bars);
  rc = g_test_run ();
  pal_render_release_fonts ();   /* for LeakSanitizer */
  return rc;
}
