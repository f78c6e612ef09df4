"""Cython front of the conv2d kernels in conv.h: dtype dispatch and GIL release only.

Arguments are trusted: fastconv.ops has checked shapes and dtypes and made the arrays
C-contiguous. strides is (sh, sw); padding is ((top, bottom), (left, right)). relu=True
fuses ReLU into the forward; a `mask` (the forward's output, dy's shape, or None) makes
the backward kernels take dy through ReLU first (the gradient passes where mask > 0).
"""
import os

from cython cimport floating

cdef extern from "conv.h" nogil:
    int FC_NUM_VARIANTS
    int fc_set_variant(int v)
    int fc_variant_supported(int v)
    const char *fc_variant_name(int v)
    int fc_active_variant_index()
    int fc_conv2d_forward_f32(const float *x, long n, long h, long w, long c, const float *wt,
                              long kh, long kw, long k, const float *bias, int relu, float *y,
                              long oh, long ow, long sh, long sw, long pt, long pb, long pl,
                              long pr, int nthreads)
    int fc_conv2d_forward_f64(const double *x, long n, long h, long w, long c,
                              const double *wt, long kh, long kw, long k, const double *bias,
                              int relu, double *y, long oh, long ow, long sh, long sw, long pt,
                              long pb, long pl, long pr, int nthreads)
    int fc_conv2d_backward_data_f32(const float *dy, const float *mask, long n, long oh,
                                    long ow, long k, const float *wt, long kh, long kw, long c,
                                    float *dx, long h, long w, long sh, long sw, long pt,
                                    long pl, int nthreads)
    int fc_conv2d_backward_data_f64(const double *dy, const double *mask, long n, long oh,
                                    long ow, long k, const double *wt, long kh, long kw,
                                    long c, double *dx, long h, long w, long sh, long sw,
                                    long pt, long pl, int nthreads)
    int fc_conv2d_backward_weights_f32(const float *dy, const float *mask, const float *x,
                                       long n, long h, long w, long c, long kh, long kw,
                                       long k, long oh, long ow, long sh, long sw, long pt,
                                       long pb, long pl, long pr, float *dw, float *db,
                                       int nthreads)
    int fc_conv2d_backward_weights_f64(const double *dy, const double *mask, const double *x,
                                       long n, long h, long w, long c, long kh, long kw,
                                       long k, long oh, long ow, long sh, long sw, long pt,
                                       long pb, long pl, long pr, double *dw, double *db,
                                       int nthreads)


def supported_variants():
    """Names of the micro-kernel variants this CPU can run, slowest first."""
    return [fc_variant_name(v).decode() for v in range(FC_NUM_VARIANTS)
            if fc_variant_supported(v)]


def kernel_variant():
    """Name of the micro-kernel variant in use."""
    return fc_variant_name(fc_active_variant_index()).decode()


def set_kernel_variant(name):
    """Use the named variant ("generic", "avx2", "avx512") from now on."""
    names = [fc_variant_name(v).decode() for v in range(FC_NUM_VARIANTS)]
    if name not in names:
        raise ValueError(f"unknown kernel variant {name!r}; choose from {names}")
    if fc_set_variant(names.index(name)) != 0:
        raise ValueError(f"this CPU cannot run the {name!r} kernels; it supports "
                         f"{supported_variants()}")


def _check(int rc):
    if rc != 0:
        raise MemoryError("fastconv: could not allocate the kernel's workspace")


def conv2d_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w, b,
                   floating[:, :, :, ::1] y, strides, padding, bint relu, int nthreads):
    cdef long sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pb = padding[0][1], pl = padding[1][0], pr = padding[1][1]
    cdef const floating[::1] bias
    cdef const floating *bias_ptr = NULL
    cdef int rc
    if b is not None:
        bias = b
        bias_ptr = &bias[0]
    with nogil:
        if floating is float:
            rc = fc_conv2d_forward_f32(&x[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                       x.shape[3], &w[0, 0, 0, 0], w.shape[0], w.shape[1],
                                       w.shape[3], bias_ptr, relu, &y[0, 0, 0, 0], y.shape[1],
                                       y.shape[2], sh, sw, pt, pb, pl, pr, nthreads)
        else:
            rc = fc_conv2d_forward_f64(&x[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                       x.shape[3], &w[0, 0, 0, 0], w.shape[0], w.shape[1],
                                       w.shape[3], bias_ptr, relu, &y[0, 0, 0, 0], y.shape[1],
                                       y.shape[2], sh, sw, pt, pb, pl, pr, nthreads)
    _check(rc)


def conv2d_backward_data(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] mask,
                         const floating[:, :, :, ::1] w, floating[:, :, :, ::1] dx, strides,
                         padding, int nthreads):
    cdef long sh = strides[0], sw = strides[1], pt = padding[0][0], pl = padding[1][0]
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0]
    cdef int rc
    with nogil:
        if floating is float:
            rc = fc_conv2d_backward_data_f32(&dy[0, 0, 0, 0], mask_ptr, dy.shape[0],
                                             dy.shape[1], dy.shape[2], dy.shape[3],
                                             &w[0, 0, 0, 0], w.shape[0], w.shape[1],
                                             w.shape[2], &dx[0, 0, 0, 0], dx.shape[1],
                                             dx.shape[2], sh, sw, pt, pl, nthreads)
        else:
            rc = fc_conv2d_backward_data_f64(&dy[0, 0, 0, 0], mask_ptr, dy.shape[0],
                                             dy.shape[1], dy.shape[2], dy.shape[3],
                                             &w[0, 0, 0, 0], w.shape[0], w.shape[1],
                                             w.shape[2], &dx[0, 0, 0, 0], dx.shape[1],
                                             dx.shape[2], sh, sw, pt, pl, nthreads)
    _check(rc)


def conv2d_backward_weights(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] mask,
                            const floating[:, :, :, ::1] x, floating[:, :, :, ::1] dw,
                            floating[::1] db, strides, padding, int nthreads):
    cdef long sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pb = padding[0][1], pl = padding[1][0], pr = padding[1][1]
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0]
    cdef int rc
    with nogil:
        if floating is float:
            rc = fc_conv2d_backward_weights_f32(&dy[0, 0, 0, 0], mask_ptr, &x[0, 0, 0, 0],
                                                x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                                dw.shape[0], dw.shape[1], dw.shape[3],
                                                dy.shape[1], dy.shape[2], sh, sw, pt, pb, pl,
                                                pr, &dw[0, 0, 0, 0], &db[0], nthreads)
        else:
            rc = fc_conv2d_backward_weights_f64(&dy[0, 0, 0, 0], mask_ptr, &x[0, 0, 0, 0],
                                                x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                                dw.shape[0], dw.shape[1], dw.shape[3],
                                                dy.shape[1], dy.shape[2], sh, sw, pt, pb, pl,
                                                pr, &dw[0, 0, 0, 0], &db[0], nthreads)
    _check(rc)


# FASTCONV_KERNEL=generic|avx2|avx512 forces a variant (for tests and comparisons).
if os.environ.get("FASTCONV_KERNEL"):
    set_kernel_variant(os.environ["FASTCONV_KERNEL"])
