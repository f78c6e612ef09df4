# The C side of the kernels, declared once: the register micro-kernel variants
# (microkernels.h), the aligned allocator, and a fused front that calls the variant's
# float or double micro-kernel. See microkernel_tpl.h for the micro-kernel's contract.
from cython cimport floating

cdef extern from "aligned_alloc.h" nogil:
    void *fc_alloc(size_t nbytes)
    void fc_free(void *p)

cdef extern from "microkernels.h" nogil:
    enum:
        FC_MR_MAX           # the largest tile over all variants: sizes tile scratch
        FC_NR_MAX
        FC_UKR_RELU         # epilogue flags
        FC_UKR_ACCUMULATE
        FC_NUM_VARIANTS
        FC_DW_P_MAX         # the largest depthwise tile (pixels)

    ctypedef void (*fc_ukr_f32)(long, long, const float *, const long *, long, long,
                                const float *, long, float **, const float *, int)
    ctypedef void (*fc_ukr_f64)(long, long, const double *, const long *, long, long,
                                const double *, long, double **, const double *, int)

    ctypedef void (*fc_dw_f32)(long, const float *, const long *, const long *, const float *,
                               long, float **, const float *, int)
    ctypedef void (*fc_dw_f64)(long, const double *, const long *, const long *,
                               const double *, long, double **, const double *, int)

    ctypedef struct fc_variant:
        const char *name
        int mr_f32
        int nr_f32
        fc_ukr_f32 ukr_f32
        int mr_f64
        int nr_f64
        fc_ukr_f64 ukr_f64
        int dw_p
        int dw_nr_f32
        int dw_nr_f64
        fc_dw_f32 dw_f32
        fc_dw_f64 dw_f64

    const fc_variant *fc_variants   # the table, FC_NUM_VARIANTS entries
    int fc_variant_supported(int v)
    int fc_best_variant()


cdef inline int tile_rows_of(const fc_variant *var, const floating *like) noexcept nogil:
    """MR: the micro-kernel's rows for this dtype (`like` only selects the dtype)."""
    if floating is float:
        return var.mr_f32
    else:
        return var.mr_f64


cdef inline int tile_cols_of(const fc_variant *var, const floating *like) noexcept nogil:
    """NR: the micro-kernel's columns (packed panel width) for this dtype."""
    if floating is float:
        return var.nr_f32
    else:
        return var.nr_f64


cdef inline void microkernel(const fc_variant *var, long nruns, long kc, const floating *a,
                             const long *off, long a_run, long a_ps, const floating *b,
                             long b_run, floating **dst, const floating *bias,
                             int flags) noexcept nogil:
    """One MR x NR tile: dst[i][j] (+)= sum a[off[i] + run*a_run + p*a_ps] * b[...]."""
    if floating is float:
        var.ukr_f32(nruns, kc, a, off, a_run, a_ps, b, b_run, dst, bias, flags)
    else:
        var.ukr_f64(nruns, kc, a, off, a_run, a_ps, b, b_run, dst, bias, flags)


cdef inline int depthwise_cols_of(const fc_variant *var, const floating *like) noexcept nogil:
    """Channels of one depthwise tile for this dtype."""
    if floating is float:
        return var.dw_nr_f32
    else:
        return var.dw_nr_f64


cdef inline void depthwise_kernel(const fc_variant *var, long ntaps, const floating *x,
                                  const long *x_off, const long *tap_off, const floating *w,
                                  long w_ts, floating **dst, const floating *bias,
                                  int flags) noexcept nogil:
    """var.dw_p pixels x NR channels of a depthwise convolution (depthwise_tpl.h)."""
    if floating is float:
        var.dw_f32(ntaps, x, x_off, tap_off, w, w_ts, dst, bias, flags)
    else:
        var.dw_f64(ntaps, x, x_off, tap_off, w, w_ts, dst, bias, flags)
