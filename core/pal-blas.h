/* pal-blas.h: the one matrix product the kernels use, from OpenBLAS
 *
 * OpenBLAS is loaded at run time (dlopen) rather than linked, so that its
 * core type can be chosen before it initialises: OpenBLAS 0.3.21 does not
 * know recent Xeons and falls back to its generic SSE3 kernels there, four
 * times slower.  When OPENBLAS_CORETYPE is unset, pal_blas_init() sets it
 * from the CPU's features (SkylakeX with AVX-512, Haswell with AVX2 + FMA).
 * Without OpenBLAS a plain C product keeps everything working, slowly.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Loads OpenBLAS (once; later calls return the first result) and makes it
 * single-threaded (the core's own workers run in parallel).  FALSE with
 * @error when it could not be loaded: the plain product is used then. */
gboolean    pal_blas_init     (GError **error);
/* "OpenBLAS <version> <core>", or "built-in (slow)". */
const char *pal_blas_describe (void);

/* Row-major C [m, n] = alpha op(A) op(B) + beta C, op = transpose when
 * @ta / @tb; A is [m, k] (or [k, m]), B [k, n] (or [n, k]). */
void        pal_sgemm         (gboolean ta, gboolean tb, int m, int n, int k,
                               float alpha, const float *a, int lda,
                               const float *b, int ldb,
                               float beta, float *c, int ldc);

G_END_DECLS
