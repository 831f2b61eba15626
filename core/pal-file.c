/* pal-file.c: atomic replacement of a file; mapping a file to read */
#include "pal-file.h"
#include "pal-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

gboolean
pal_file_write_all (int fd, const void *buf, gsize len)
{
  const guint8 *p = buf;

  while (len > 0)
    {
      gssize n = write (fd, p, MIN (len, (gsize) 1 << 30));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
pal_file_replace (const char *path, PalFileWriteFunc write, gpointer user_data)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp_base = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmp = g_build_filename (dir, tmp_base, NULL);
  int fd, saved_errno, dir_fd;
  gboolean ok;

  /* a folder (or a name ending in '/') is no file to replace: said before
   * anything is written, not as "Not a directory" after */
  if (g_str_has_suffix (path, G_DIR_SEPARATOR_S) || g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      errno = EISDIR;
      return FALSE;
    }
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return FALSE;
  ok = write (fd, user_data) && fsync (fd) == 0;
  saved_errno = errno;
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      errno = saved_errno;
      return FALSE;
    }

  /* make the rename durable; a failure here does not undo a complete save */
  dir_fd = g_open (dir, O_RDONLY | O_CLOEXEC, 0);
  if (dir_fd >= 0)
    {
      (void) fsync (dir_fd);
      close (dir_fd);
    }
  return TRUE;
}

typedef struct {
  const void *data;
  gsize       len;
} Buffer;

static gboolean
write_buffer (int fd, gpointer user_data)
{
  Buffer *b = user_data;

  return pal_file_write_all (fd, b->data, b->len);
}

gboolean
pal_file_replace_data (const char *path, const void *data, gsize len)
{
  Buffer b = { data, len };

  return pal_file_replace (path, write_buffer, &b);
}

int
pal_file_open_regular (const char *path, const char *name, struct stat *st, GError **error)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);

  if (!name)
    name = path;
  if (fd < 0 || fstat (fd, st) != 0)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", name, g_strerror (saved_errno));
      return -1;
    }
  if (!S_ISREG (st->st_mode))
    {
      close (fd);
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: not a regular file", name);
      return -1;
    }
  return fd;
}

GMappedFile *
pal_file_map (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  GMappedFile *map;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  if ((fd = pal_file_open_regular (path, NULL, &st, error)) < 0)
    return NULL;
  map = g_mapped_file_new_from_fd (fd, FALSE, &local);
  close (fd);
  if (!map)
    g_set_error (error, PAL_ERROR, PAL_ERROR_IO, "%s: %s", path, local->message);
  return map;
}
