"""Whether this build has OpenMP (setup.py defines FASTCONV_HAVE_OPENMP after probing)."""

cdef extern from *:
    """
    static int fc_omp_enabled(void) { return FASTCONV_HAVE_OPENMP; }
    """
    int fc_omp_enabled()


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(fc_omp_enabled())
