/* pal-file.h: replacing a file so that a failure never loses the old one;
 * mapping one to read
 *
 * Every file the core writes (models, images, landmarks) goes through
 * pal_file_replace(): the content is streamed into a temporary file beside
 * the target ("dir/.name.XXXXXX"), synced, and renamed over the target, and
 * the directory is synced.  A full disk, a file-size limit or a missing
 * directory leaves the target as it was and no temporary file behind; a
 * path that names a folder fails with EISDIR before anything is written.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/* Writes the content to @fd; FALSE with errno set on failure. */
typedef gboolean (*PalFileWriteFunc) (int fd, gpointer user_data);

/* FALSE with errno set on failure (the caller words the error). */
gboolean pal_file_replace   (const char *path, PalFileWriteFunc write, gpointer user_data);
/* pal_file_replace() of a buffer. */
gboolean pal_file_replace_data (const char *path, const void *data, gsize len);
/* @path opened read-only, with its status in *@st: the descriptor of a
 * regular file, else -1 with a PAL_ERROR_IO naming the file as @name
 * (NULL: @path).  A FIFO or a folder is refused at once: opening one never
 * waits for a writer. */
int          pal_file_open_regular (const char *path, const char *name, struct stat *st,
                                    GError **error);
/* The regular file @path mapped read-only (an empty one has length 0);
 * NULL with a PAL_ERROR_IO naming the file otherwise.  A FIFO or a folder
 * is refused at once: opening one never waits for a writer. */
GMappedFile *pal_file_map   (const char *path, GError **error);
/* write(2) until done, retrying on EINTR; FALSE with errno set. */
gboolean pal_file_write_all (int fd, const void *buf, gsize len);

G_END_DECLS
