"""Whether this build has OpenMP, and what its runtime reports. Compiles without OpenMP."""

cdef extern from *:
    """
    #if FASTCONV_HAVE_OPENMP
    
    static int fc_omp_enabled(void) { return 1; }
    #else
    static int fc_omp_enabled(void) { return 0; }
    #endif
    """
    int fc_omp_enabled()


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(fc_omp_enabled())


