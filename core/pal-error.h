/* pal-error.h: the error domain of libpalcore
 *
 * Every failure the core can meet on outside input (a file, a text form, a
 * setting chosen by a user) is reported as a GError in PAL_ERROR with a
 * message a user understands: the file, the line or tensor, what was expected.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PAL_ERROR (pal_error_quark ())

typedef enum {
  PAL_ERROR_FAILED,        /* anything else */
  PAL_ERROR_IO,            /* reading or writing a file failed */
  PAL_ERROR_PARSE,         /* a text form, header or file is malformed */
  PAL_ERROR_ARCH,          /* an architecture is unknown or inconsistent */
  PAL_ERROR_SHAPE,         /* a tensor has the wrong shape or dtype */
  PAL_ERROR_INVALID,       /* a setting is out of range or meaningless */
  PAL_ERROR_UNSUPPORTED,   /* valid, but not something the core can do */
  PAL_ERROR_CANCELLED,     /* the user asked to stop */
  PAL_ERROR_NUMERIC,       /* a loss became NaN or infinite */
} PalError;

GQuark pal_error_quark (void);

G_END_DECLS
