/* test-util.h: small helpers the test programs share */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* Removes @path and everything under it; asserts each removal. */
G_GNUC_UNUSED static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;

      g_assert_nonnull (d);
      while ((name = g_dir_read_name (d)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_dir_close (d);
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    g_assert_cmpint (g_unlink (path), ==, 0);
}

/* Entries in @dir (temporary files left behind show up here). */
G_GNUC_UNUSED static guint
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

/* A new scratch directory from a g_dir_make_tmp() template. */
G_GNUC_UNUSED static char *
scratch_dir_new (const char *tmpl)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  return dir;
}

/* Removes @dir with everything in it, and frees the name. */
G_GNUC_UNUSED static void
scratch_free (char *dir)
{
  rm_rf (dir);
  g_free (dir);
}
