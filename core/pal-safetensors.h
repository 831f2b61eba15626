/* pal-safetensors.h - safe reader and atomic writer for .safetensors files
 *
 * File layout: an 8-byte little-endian header length N, N bytes of UTF-8
 * JSON (possibly padded with trailing spaces), then the data section.  The
 * JSON maps tensor names to {"dtype", "shape", "data_offsets"} (offsets are
 * relative to the data section) plus an optional "__metadata__" object of
 * string -> string.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PAL_SAFETENSORS_ERROR:
 *
 * Error domain for safetensors reading and writing.  Errors in this domain
 * are from the #PalSafetensorsError enumeration.
 */
#define PAL_SAFETENSORS_ERROR (pal_safetensors_error_quark ())

/**
 * PalSafetensorsError:
 * @PAL_SAFETENSORS_ERROR_IO: the file could not be opened, mapped or written.
 * @PAL_SAFETENSORS_ERROR_FORMAT: the file is malformed or inconsistent
 *   (truncated, bad JSON, bad offsets, overlapping tensors, ...).
 * @PAL_SAFETENSORS_ERROR_TOO_LARGE: the header exceeds
 *   %PAL_SAFETENSORS_MAX_HEADER_SIZE, or a size computation overflows.
 * @PAL_SAFETENSORS_ERROR_NOT_FOUND: no tensor of the requested name.
 * @PAL_SAFETENSORS_ERROR_DTYPE: unsupported dtype, a dtype other than the
 *   one requested, or a value that does not fit the destination type.
 * @PAL_SAFETENSORS_ERROR_SHAPE: invalid shape (negative dimension, too many
 *   dimensions) or a shape other than the one requested.
 *
 * Error codes in the %PAL_SAFETENSORS_ERROR domain.
 */
typedef enum
{
  PAL_SAFETENSORS_ERROR_IO,
  PAL_SAFETENSORS_ERROR_FORMAT,
  PAL_SAFETENSORS_ERROR_TOO_LARGE,
  PAL_SAFETENSORS_ERROR_NOT_FOUND,
  PAL_SAFETENSORS_ERROR_DTYPE,
  PAL_SAFETENSORS_ERROR_SHAPE,
} PalSafetensorsError;

GQuark pal_safetensors_error_quark (void);

/**
 * PAL_SAFETENSORS_MAX_HEADER_SIZE:
 *
 * Largest JSON header accepted when reading (or produced when writing), in
 * bytes: 100 MiB.
 */
#define PAL_SAFETENSORS_MAX_HEADER_SIZE (100u * 1024u * 1024u)

/**
 * PAL_ST_MAX_NDIM:
 *
 * Largest number of dimensions a tensor may have.
 */
#define PAL_ST_MAX_NDIM 8

/**
 * PalStTensor:
 * @name: tensor name (UTF-8).
 * @dtype: dtype name: "F64", "F32", "F16", "BF16", "I64", "I32", "I16",
 *   "I8", "U8" or "BOOL".
 * @ndim: number of dimensions, 0 (scalar) to %PAL_ST_MAX_NDIM.
 * @shape: the first @ndim entries are the dimensions, all >= 0.
 * @numel: number of elements (1 for a scalar, 0 if any dimension is 0).
 * @nbytes: size of the data in bytes (@numel times the dtype size).
 * @data: the tensor bytes inside the mapped file, little-endian and possibly
 *   unaligned: copy them with memcpy(), never dereference as a wider type.
 *
 * Description of one tensor of an open #PalSafetensors.  It is owned by the
 * #PalSafetensors and valid until pal_safetensors_free().
 */
typedef struct
{
  const char   *name;
  const char   *dtype;
  int           ndim;
  gint64        shape[PAL_ST_MAX_NDIM];
  gsize         numel;
  gsize         nbytes;
  const guint8 *data;
} PalStTensor;

/**
 * PalSafetensors:
 *
 * An open, fully validated, read-only memory-mapped safetensors file.
 */
typedef struct _PalSafetensors PalSafetensors;

/**
 * pal_safetensors_open:
 * @path: file to open.
 * @error: return location for a #GError, or %NULL.
 *
 * Maps @path read-only and validates the whole header against the file:
 * header size, JSON syntax, every tensor entry (dtype, shape, offsets, byte
 * count), that all tensors lie inside the data section and do not overlap,
 * that names are unique and that metadata values are strings.  Tensor data
 * are not copied.
 *
 * Every error message starts with @path as given, and names the tensor where
 * one is involved.  The file must not be truncated by another process while
 * it is open (that would fault on access, as with any mapped file).
 *
 * Returns: (transfer full) (nullable): the open file, or %NULL with @error set.
 */
PalSafetensors    *pal_safetensors_open               (const char *path,
                                                        GError    **error);

/**
 * pal_safetensors_open_bytes:
 * @bytes: the contents of a safetensors file.
 * @path: the name used in messages (and returned by
 *   pal_safetensors_get_path()).
 * @error: return location for a #GError, or %NULL.
 *
 * The same as pal_safetensors_open() for a file already in memory; the
 * result keeps a reference to @bytes.
 *
 * Returns: (transfer full) (nullable): the open file, or %NULL with @error set.
 */
PalSafetensors    *pal_safetensors_open_bytes         (GBytes     *bytes,
                                                        const char *path,
                                                        GError    **error);

/**
 * pal_safetensors_free:
 * @st: (nullable): an open file.
 *
 * Unmaps the file and frees @st; every #PalStTensor and string obtained from
 * it becomes invalid.
 */
void               pal_safetensors_free               (PalSafetensors *st);

/**
 * pal_safetensors_get_path:
 * @st: an open file.
 *
 * Returns: the path @st was opened with.
 */
const char        *pal_safetensors_get_path           (PalSafetensors *st);

/**
 * pal_safetensors_get_n_tensors:
 * @st: an open file.
 *
 * Returns: the number of tensors in the file.
 */
guint              pal_safetensors_get_n_tensors      (PalSafetensors *st);

/**
 * pal_safetensors_get_nth:
 * @st: an open file.
 * @i: index, less than pal_safetensors_get_n_tensors().
 *
 * Tensors are ordered by their position in the data section.
 *
 * Returns: (transfer none) (nullable): the @i-th tensor, or %NULL if @i is
 *   out of range.
 */
const PalStTensor *pal_safetensors_get_nth            (PalSafetensors *st,
                                                        guint           i);

/**
 * pal_safetensors_lookup:
 * @st: an open file.
 * @name: tensor name.
 *
 * Returns: (transfer none) (nullable): the tensor called @name, or %NULL if
 *   there is none.
 */
const PalStTensor *pal_safetensors_lookup             (PalSafetensors *st,
                                                        const char     *name);

/**
 * pal_safetensors_get_metadata:
 * @st: an open file.
 * @key: metadata key.
 *
 * Returns: (transfer none) (nullable): the value of @key in the header's
 *   "__metadata__" object, or %NULL if absent.
 */
const char        *pal_safetensors_get_metadata       (PalSafetensors *st,
                                                        const char     *key);

/**
 * pal_safetensors_get_metadata_table:
 * @st: an open file.
 *
 * Returns: (transfer none): all metadata, string -> string; empty (never
 *   %NULL) when the file has none.  Do not modify it.
 */
GHashTable        *pal_safetensors_get_metadata_table (PalSafetensors *st);

/**
 * pal_safetensors_read_f32:
 * @st: an open file.
 * @name: tensor name.
 * @ndim: expected number of dimensions.
 * @shape: (array length=ndim) (nullable): expected shape; may be %NULL when
 *   @ndim is 0.
 * @dst: (out caller-allocates): room for the product of @shape floats.
 * @error: return location for a #GError, or %NULL.
 *
 * Copies tensor @name to host-order floats after checking that it exists
 * (%PAL_SAFETENSORS_ERROR_NOT_FOUND), has dtype F32
 * (%PAL_SAFETENSORS_ERROR_DTYPE) and exactly the expected shape
 * (%PAL_SAFETENSORS_ERROR_SHAPE), e.g.
 * "model.safetensors: tensor 'conv1.weight' has shape [32, 3, 3, 3], expected [64, 3, 3, 3]".
 * @dst is left untouched on error.
 *
 * Returns: %TRUE on success.
 */
gboolean           pal_safetensors_read_f32           (PalSafetensors *st,
                                                        const char     *name,
                                                        int             ndim,
                                                        const gint64   *shape,
                                                        float          *dst,
                                                        GError        **error);

/**
 * pal_safetensors_read_labels:
 * @st: an open file.
 * @name: tensor name.
 * @n: expected length.
 * @dst: (out caller-allocates): room for @n integers.
 * @error: return location for a #GError, or %NULL.
 *
 * Reads a one-dimensional I64, I32 or U8 tensor of length @n into @dst.  A
 * value outside the #gint32 range is a %PAL_SAFETENSORS_ERROR_DTYPE error;
 * the contents of @dst are then unspecified.
 *
 * Returns: %TRUE on success.
 */
gboolean           pal_safetensors_read_labels        (PalSafetensors *st,
                                                        const char     *name,
                                                        gsize           n,
                                                        gint32         *dst,
                                                        GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalSafetensors, pal_safetensors_free)

/**
 * PalStWriter:
 *
 * Collects metadata and tensors and writes them as a safetensors file.
 */
typedef struct _PalStWriter PalStWriter;

/**
 * pal_st_writer_new:
 *
 * Returns: (transfer full): a new, empty writer.
 */
PalStWriter *pal_st_writer_new          (void);

/**
 * pal_st_writer_free:
 * @w: (nullable): a writer.
 *
 * Frees @w (never the tensor data it references).
 */
void         pal_st_writer_free         (PalStWriter *w);

/**
 * pal_st_writer_set_metadata:
 * @w: a writer.
 * @key: UTF-8 key.
 * @value: UTF-8 value.
 *
 * Sets a "__metadata__" entry; strings are copied.  Setting an existing key
 * replaces its value in place; otherwise entries keep the order they were
 * first set in.  Invalid UTF-8 makes pal_st_writer_save() fail.
 */
void         pal_st_writer_set_metadata (PalStWriter *w,
                                         const char  *key,
                                         const char  *value);

/**
 * pal_st_writer_add:
 * @w: a writer.
 * @name: UTF-8 tensor name, unique, not "__metadata__".
 * @dtype: one of the dtypes listed for #PalStTensor.
 * @ndim: number of dimensions, 0 to %PAL_ST_MAX_NDIM.
 * @shape: (array length=ndim) (nullable): dimensions (>= 0); may be %NULL
 *   when @ndim is 0.
 * @data: host-order elements.  They are NOT copied and must stay valid until
 *   pal_st_writer_save() returns.  May be %NULL for a zero-size tensor.
 *
 * Appends a tensor; tensors are written in the order added, contiguously.
 * Invalid arguments (unknown dtype, bad shape, duplicate name, ...) are not
 * reported here: the first one makes pal_st_writer_save() fail with it, and
 * later calls to this function are then ignored.
 */
void         pal_st_writer_add          (PalStWriter  *w,
                                         const char   *name,
                                         const char   *dtype,
                                         int           ndim,
                                         const gint64 *shape,
                                         const void   *data);

/**
 * pal_st_writer_save:
 * @w: a writer.
 * @path: target file.
 * @error: return location for a #GError, or %NULL.
 *
 * Writes the file atomically: the header ("__metadata__" first, then the
 * tensors in the order added, padded with spaces so that the data section
 * starts at a multiple of 8 bytes) and the tensor data are streamed
 * (little-endian) to a temporary file ".NAME.XXXXXX" next to @path, which
 * is synced and then renamed onto @path.  On failure the temporary file is
 * removed and any existing @path is left untouched.  Error messages read
 * "Could not save 'PATH': REASON".  POSIX only (relies on rename() replacing
 * the target atomically).
 *
 * Returns: %TRUE on success.
 */
gboolean     pal_st_writer_save         (PalStWriter *w,
                                         const char  *path,
                                         GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalStWriter, pal_st_writer_free)

G_END_DECLS
