"""Whether this build has OpenMP (setup.py defines FASTCONV_HAVE_OPENMP after probing), and
its runtime's thread count."""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #endif
    static int fc_omp_enabled(void) { return FASTCONV_HAVE_OPENMP; }
    /* C for the #ifdef: Cython's `cimport openmp` needs omp.h and the runtime, which the
       serial build may not have. */
    static int fc_omp_max_threads(void) {
    #ifdef _OPENMP
        return omp_get_max_threads();
    #else
        return 0;
    #endif
    }
    """
    int fc_omp_enabled()
    int fc_omp_max_threads()


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(fc_omp_enabled())


def openmp_max_threads():
    """omp_get_max_threads() of the OpenMP runtime the kernels run on (what
    `threadpoolctl.threadpool_limits(n, "openmp")` lowers); 0 in a serial build."""
    return fc_omp_max_threads()
