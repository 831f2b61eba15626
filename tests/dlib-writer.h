/* dlib-writer.h: dlib's serialized shape_predictor, written by the tests
 * (tests/test-dlib.c) and the fuzz seeds (tests/fuzz/make-seeds.c): small
 * models in the encoding docs/FACES.md describes. */
#pragma once

#include <glib.h>
#include <math.h>

/* dlib serialize.h: control byte (size, sign) and the magnitude. */
G_GNUC_UNUSED static void
put_dlib_int (GByteArray *b, gint64 v)
{
  guint8 buf[9];
  guint64 mag = v < 0 ? -(guint64) v : (guint64) v;
  int n = 0;

  do
    {
      buf[1 + n++] = (guint8) (mag & 0xFF);
      mag >>= 8;
    }
  while (mag != 0);
  buf[0] = (guint8) (n | (v < 0 ? 0x80 : 0));
  g_byte_array_append (b, buf, 1 + n);
}

/* dlib float_details: mantissa of 24 bits, low zero bytes stripped. */
G_GNUC_UNUSED static void
put_dlib_float (GByteArray *b, float v)
{
  int e;
  double fr = frexp (v, &e);
  gint64 mantissa = (gint64) (fr * (1 << 24));
  gint64 exponent = e - 24;

  for (int i = 0; i < 8 && (mantissa & 0xFF) == 0; i++)
    {
      mantissa >>= 8;
      exponent += 8;
    }
  put_dlib_int (b, mantissa);
  put_dlib_int (b, exponent);
}

/* A valid predictor, its numbers drawn from @seed: @parts landmarks,
 * @cascades cascades of @trees trees with @splits splits, @features
 * feature pixels; the first leaf of each tree uses the old positive matrix
 * dimensions. */
G_GNUC_UNUSED static GByteArray *
dlib_model (guint seed, int parts, int cascades, int trees, int splits, int features)
{
  GByteArray *b = g_byte_array_new ();
  guint32 x = seed * 2654435761u + 1;
#define NEXT() (x = x * 1664525u + 1013904223u, (float) ((x >> 8) % 2001) / 1000.0f - 1.0f)

  put_dlib_int (b, 1);
  put_dlib_int (b, -2 * parts);
  put_dlib_int (b, -1);
  for (int k = 0; k < 2 * parts; k++)
    put_dlib_float (b, 0.5f + 0.4f * NEXT ());
  put_dlib_int (b, cascades);
  for (int c = 0; c < cascades; c++)
    {
      put_dlib_int (b, trees);
      for (int t = 0; t < trees; t++)
        {
          put_dlib_int (b, splits);
          for (int i = 0; i < splits; i++)
            {
              put_dlib_int (b, (i + t) % features);
              put_dlib_int (b, (i + 2 * t + 1) % features);
              put_dlib_float (b, 64 * NEXT ());
            }
          put_dlib_int (b, splits + 1);
          for (int l = 0; l < splits + 1; l++)
            {
              put_dlib_int (b, l == 0 ? 2 * parts : -2 * parts);
              put_dlib_int (b, l == 0 ? 1 : -1);
              for (int k = 0; k < 2 * parts; k++)
                put_dlib_float (b, l == 1 && k == 0 ? 0.0f : 0.05f * NEXT ());
            }
        }
    }
  put_dlib_int (b, cascades);
  for (int c = 0; c < cascades; c++)
    {
      put_dlib_int (b, features);
      for (int k = 0; k < features; k++)
        put_dlib_int (b, (k + c) % parts);
    }
  put_dlib_int (b, cascades);
  for (int c = 0; c < cascades; c++)
    {
      put_dlib_int (b, features);
      for (int k = 0; k < features; k++)
        {
          put_dlib_float (b, 0.2f * NEXT ());
          put_dlib_float (b, 0.2f * NEXT ());
        }
    }
#undef NEXT
  return b;
}
