/* pal-blas.c: OpenBLAS through dlopen, with a core type that fits the CPU */
#include "pal-blas.h"
#include "pal-error.h"

#include <dlfcn.h>
#include <stdlib.h>

/* CBLAS's constants, fixed by the standard */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*SgemmFn) (int order, int ta, int tb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta,
                         float *c, int ldc);
typedef void (*SetThreadsFn) (int n);
typedef char *(*StrFn) (void);

static SgemmFn sgemm_fn;
static char *description;
static GError *init_error;

static const char *
core_for_cpu (void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

static gpointer
load (gpointer unused)
{
  static const char *names[] = { "libopenblas.so.0", "libopenblas.so", "libblas.so.3" };
  const char *core = core_for_cpu ();
  void *lib = NULL;
  SetThreadsFn set_threads;
  StrFn get_core, get_config;

  /* must happen before OpenBLAS's constructor runs, i.e. before dlopen.
   * One BLAS thread: the core runs its own workers, and OpenBLAS's idle
   * threads would otherwise spin (sched_yield) on the cores they need. */
  if (core)
    g_setenv ("OPENBLAS_CORETYPE", core, FALSE);
  g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (names) && !lib; i++)
    lib = dlopen (names[i], RTLD_NOW | RTLD_LOCAL);
  if (lib)
    sgemm_fn = (SgemmFn) dlsym (lib, "cblas_sgemm");
  if (!sgemm_fn)
    {
      g_set_error (&init_error, PAL_ERROR, PAL_ERROR_FAILED,
                   "OpenBLAS could not be loaded (%s); using the slow built-in "
                   "matrix product (install libopenblas0)", lib ? "no cblas_sgemm" : dlerror ());
      description = g_strdup ("built-in (slow)");
      return NULL;
    }
  set_threads = (SetThreadsFn) dlsym (lib, "openblas_set_num_threads");
  if (set_threads)
    set_threads (1);
  get_core = (StrFn) dlsym (lib, "openblas_get_corename");
  get_config = (StrFn) dlsym (lib, "openblas_get_config");
  description = g_strdup_printf ("%s, core %s", get_config ? get_config () : "BLAS",
                                 get_core ? get_core () : "?");
  return NULL;
}

gboolean
pal_blas_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load, NULL);
  if (init_error)
    {
      if (error)
        *error = g_error_copy (init_error);
      return FALSE;
    }
  return TRUE;
}

const char *
pal_blas_describe (void)
{
  pal_blas_init (NULL);
  return description;
}

/* The fallback: correct, cache-unaware. */
static void
plain_sgemm (gboolean ta, gboolean tb, int m, int n, int k, float alpha,
             const float *a, int lda, const float *b, int ldb, float beta,
             float *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double acc = 0.0;
        for (int p = 0; p < k; p++)
          acc += (double) (ta ? a[(gsize) p * lda + i] : a[(gsize) i * lda + p])
                 * (tb ? b[(gsize) j * ldb + p] : b[(gsize) p * ldb + j]);
        c[(gsize) i * ldc + j] = (float) (alpha * acc
                                          + (beta == 0.f ? 0.0 : beta * c[(gsize) i * ldc + j]));
      }
}

void
pal_sgemm (gboolean ta, gboolean tb, int m, int n, int k, float alpha,
           const float *a, int lda, const float *b, int ldb, float beta,
           float *c, int ldc)
{
  if (G_UNLIKELY (!sgemm_fn && !init_error))
    pal_blas_init (NULL);
  if (m <= 0 || n <= 0)
    return;
  if (sgemm_fn)
    sgemm_fn (CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS,
              tb ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    plain_sgemm (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
