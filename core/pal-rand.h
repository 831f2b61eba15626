/* pal-rand.h: a small seeded generator (splitmix64), the same on every
 * platform, for initial weights, dropout masks and synthetic data. */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

/* A good 64-bit mix of z (the splitmix64 finaliser). */
static inline guint64
pal_mix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Next value of the stream whose state is *s. */
static inline guint64
pal_rand_next (guint64 *s)
{
  return pal_mix64 (*s += 0x9e3779b97f4a7c15ull);
}

/* Uniform in (0, 1), never 0 or 1. */
static inline double
pal_rand_uniform (guint64 *s)
{
  return ((pal_rand_next (s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static inline double
pal_rand_normal (guint64 *s)
{
  double u = pal_rand_uniform (s), v = pal_rand_uniform (s);
  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

G_END_DECLS
