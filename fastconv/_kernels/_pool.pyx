"""Cython front of the pooling kernels in pool.h: dtype dispatch and GIL release only.

Arguments are trusted: fastconv.ops has checked shapes and dtypes, made the arrays
C-contiguous and zeroed dx. pool/strides are pairs; padding is ((top, bottom), (left, right));
mode is 0 (max), 1 (min) or 2 (avg).
"""
from cython cimport floating

cdef extern from "pool.h" nogil:
    int fc_pool2d_forward_f32(const float *x, long n, long h, long w, long c, float *y, long oh,
                              long ow, long ph, long pw, long sh, long sw, long pt, long pl,
                              int mode, int nthreads)
    int fc_pool2d_forward_f64(const double *x, long n, long h, long w, long c, double *y,
                              long oh, long ow, long ph, long pw, long sh, long sw, long pt,
                              long pl, int mode, int nthreads)
    int fc_pool2d_backward_f32(const float *dy, const float *x, long n, long h, long w, long c,
                               float *dx, long oh, long ow, long ph, long pw, long sh, long sw,
                               long pt, long pl, int mode, int nthreads)
    int fc_pool2d_backward_f64(const double *dy, const double *x, long n, long h, long w,
                               long c, double *dx, long oh, long ow, long ph, long pw, long sh,
                               long sw, long pt, long pl, int mode, int nthreads)


def pool2d_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, pool, strides,
                   padding, int mode, int nthreads):
    cdef long ph = pool[0], pw = pool[1], sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pl = padding[1][0]
    with nogil:
        if floating is float:
            fc_pool2d_forward_f32(&x[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                  x.shape[3], &y[0, 0, 0, 0], y.shape[1], y.shape[2], ph, pw,
                                  sh, sw, pt, pl, mode, nthreads)
        else:
            fc_pool2d_forward_f64(&x[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                  x.shape[3], &y[0, 0, 0, 0], y.shape[1], y.shape[2], ph, pw,
                                  sh, sw, pt, pl, mode, nthreads)


def pool2d_backward(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] x,
                    floating[:, :, :, ::1] dx, pool, strides, padding, int mode,
                    int nthreads):
    cdef long ph = pool[0], pw = pool[1], sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pl = padding[1][0]
    cdef int rc
    with nogil:
        if floating is float:
            rc = fc_pool2d_backward_f32(&dy[0, 0, 0, 0], &x[0, 0, 0, 0], x.shape[0],
                                        x.shape[1], x.shape[2], x.shape[3], &dx[0, 0, 0, 0],
                                        dy.shape[1], dy.shape[2], ph, pw, sh, sw, pt, pl,
                                        mode, nthreads)
        else:
            rc = fc_pool2d_backward_f64(&dy[0, 0, 0, 0], &x[0, 0, 0, 0], x.shape[0],
                                        x.shape[1], x.shape[2], x.shape[3], &dx[0, 0, 0, 0],
                                        dy.shape[1], dy.shape[2], ph, pw, sh, sw, pt, pl,
                                        mode, nthreads)
    if rc != 0:
        raise MemoryError("fastconv: could not allocate pooling scratch space")
