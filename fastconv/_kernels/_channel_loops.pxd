# Fused fronts of the restrict-qualified channel loops in channel_loops_tpl.h (C only
# because Cython cannot declare restrict pointers; see that file for the measurement).
from cython cimport floating
from libc.string cimport memcpy

cdef extern from "channel_loops.h" nogil:
    void fc_copy_masked_f32(float *dst, const float *src, const float *mask, long n)
    void fc_copy_masked_f64(double *dst, const double *src, const double *mask, long n)
    void fc_add_to_f32(float *d, const float *src, long n)
    void fc_add_to_f64(double *d, const double *src, long n)
    void fc_multiply_add_f32(float *d, const float *a, const float *b, long n)
    void fc_multiply_add_f64(double *d, const double *a, const double *b, long n)
    void fc_window_extreme_f32(float *best, const float *corner, long planes, long plane_step,
                               long rows, long row_step, long pixels, long c, int is_max)
    void fc_window_extreme_f64(double *best, const double *corner, long planes,
                               long plane_step, long rows, long row_step, long pixels, long c,
                               int is_max)
    void fc_window_gradient_f32(const float *x, float *d, const float *grad, float *best,
                                float *taken, long planes, long plane_step, long rows,
                                long row_step, long pixels, long c, int is_max)
    void fc_window_gradient_f64(const double *x, double *d, const double *grad, double *best,
                                double *taken, long planes, long plane_step, long rows,
                                long row_step, long pixels, long c, int is_max)


cdef inline void copy_masked(floating *dst, const floating *src, const floating *mask,
                             long n) noexcept nogil:
    """dst = src where mask > 0, else 0 (the ReLU gradient); a plain copy when mask is NULL."""
    if mask == NULL:
        memcpy(dst, src, sizeof(floating) * n)
    elif floating is float:
        fc_copy_masked_f32(dst, src, mask, n)
    else:
        fc_copy_masked_f64(dst, src, mask, n)


cdef inline void add_to(floating *d, const floating *src, long n) noexcept nogil:
    """d += src over n elements (distinct buffers)."""
    if floating is float:
        fc_add_to_f32(d, src, n)
    else:
        fc_add_to_f64(d, src, n)


cdef inline void multiply_add(floating *d, const floating *a, const floating *b,
                              long n) noexcept nogil:
    """d += a * b over n elements (distinct buffers)."""
    if floating is float:
        fc_multiply_add_f32(d, a, b, n)
    else:
        fc_multiply_add_f64(d, a, b, n)


cdef inline void window_extreme(floating *best, const floating *corner, long planes,
                                long plane_step, long rows, long row_step, long pixels,
                                long c, bint is_max) noexcept nogil:
    """best = the max (is_max) or min per channel of a pooling window of planes x rows x
    pixels from corner (pixels c apart, rows row_step, planes plane_step); a NaN wins."""
    if floating is float:
        fc_window_extreme_f32(best, corner, planes, plane_step, rows, row_step, pixels, c,
                              is_max)
    else:
        fc_window_extreme_f64(best, corner, planes, plane_step, rows, row_step, pixels, c,
                              is_max)


cdef inline void window_gradient(const floating *x, floating *d, const floating *grad,
                                 floating *best, floating *taken, long planes,
                                 long plane_step, long rows, long row_step, long pixels, long c,
                                 bint is_max) noexcept nogil:
    """One pooling window's gradient (non-overlapping windows): d (dx at the window's first
    pixel x) = grad at the first pixel equal to the window's max (is_max) or min, per
    channel, 0 elsewhere; best and taken: C elements of scratch each."""
    if floating is float:
        fc_window_gradient_f32(x, d, grad, best, taken, planes, plane_step, rows, row_step,
                               pixels, c, is_max)
    else:
        fc_window_gradient_f64(x, d, grad, best, taken, planes, plane_step, rows, row_step,
                               pixels, c, is_max)
