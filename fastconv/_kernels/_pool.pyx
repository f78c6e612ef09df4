"""2-D pooling kernels, forward and backward, max/min/avg, float32 and float64.

Layouts: x / dx (N, H, W, C), y / dy (N, OH, OW, C), C-contiguous. Window (oy, ox) covers
rows oy*sh-pt .. +ph and columns ox*sw-pl .. +pw, clipped to the image; fastconv.ops
guarantees every window holds a real pixel and has checked shapes and dtypes. pool and
strides are pairs; padding is ((top, bottom), (left, right)); mode is 0 (max), 1 (min) or
2 (avg), as fastconv.ops.POOL_MODE_CODES.

Loops run over whole windows with the channel loop innermost (contiguous, vectorised);
OpenMP runs over output rows (or whole images where windows overlap), so each output
element is written by one thread.
max/min: the first extreme in row-major window order wins, and a NaN beats any number
(so NaN propagates, and its gradient goes to the first NaN), as np.argmax does.
avg: divides by the number of real pixels in the window (Keras).
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.string cimport memcpy, memset

from fastconv._kernels._channel_loops cimport add_to, extreme_update, place_gradient
from fastconv._kernels._microkernel cimport fc_alloc, fc_free

cdef enum:
    POOL_MAX = 0
    POOL_MIN = 1
    POOL_AVG = 2


cdef inline void window_extreme(const floating *x__nhwc, long img, long h, long w, long c,
                                long y0, long y1, long x0, long x1, int mode,
                                floating *best) noexcept nogil:
    """The extreme (mode max or min) of one window, per channel, into best[0:c]."""
    cdef long iy, ix
    memcpy(best, x__nhwc + ((img * h + y0) * w + x0) * c, sizeof(floating) * c)
    for iy in range(y0, y1):
        for ix in range(x0 + 1 if iy == y0 else x0, x1):
            extreme_update(best, x__nhwc + ((img * h + iy) * w + ix) * c, c, mode == POOL_MAX)


cdef void forward_row(const floating *x__nhwc, floating *y__nhwc, long row, long h, long w,
                      long c, long oh, long ow, long ph, long pw, long sh, long sw, long pt,
                      long pl, int mode) noexcept nogil:
    """Output row `row` (of N*OH) of the pooling."""
    cdef long img = row // oh, oy = row % oh, ox, x0, x1, iy, ix, cc
    cdef long y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + ph, h)
    cdef floating count
    cdef floating *out
    cdef const floating *pixel
    for ox in range(ow):
        x0 = max(ox * sw - pl, 0)
        x1 = min(ox * sw - pl + pw, w)
        out = y__nhwc + (row * ow + ox) * c
        if mode != POOL_AVG:
            window_extreme(x__nhwc, img, h, w, c, y0, y1, x0, x1, mode, out)
            continue
        memset(out, 0, sizeof(floating) * c)
        for iy in range(y0, y1):
            for ix in range(x0, x1):
                add_to(out, x__nhwc + ((img * h + iy) * w + ix) * c, c)
        count = <floating>((y1 - y0) * (x1 - x0))
        for cc in range(c):
            out[cc] = out[cc] / count


cdef inline void spread_average(floating *dx__nhwc, const floating *g, long img, long h,
                                long w, long c, long y0, long y1, long x0, long x1,
                                bint accumulate) noexcept nogil:
    """An average window's gradient g / count onto its pixels of dx (set, or added to)."""
    cdef floating count = <floating>((y1 - y0) * (x1 - x0))
    cdef long iy, ix, cc
    cdef floating *d
    for iy in range(y0, y1):
        for ix in range(x0, x1):
            d = dx__nhwc + ((img * h + iy) * w + ix) * c
            if accumulate:
                for cc in range(c):
                    d[cc] = d[cc] + g[cc] / count
            else:
                for cc in range(c):
                    d[cc] = g[cc] / count


cdef void backward_disjoint_row(const floating *dy__nhwc, const floating *x__nhwc,
                                floating *dx__nhwc, long row, long h, long w, long c, long oh,
                                long ow, long ph, long pw, long sh, long sw, long pt, long pl,
                                int mode, bint gaps, floating *best,
                                floating *taken) noexcept nogil:
    """dx of the input rows under window row `row` (non-overlapping windows): every element
    written once, directly; columns no window covers zeroed when `gaps`."""
    cdef long img = row // oh, oy = row % oh, ox, x0, x1, iy, ix, at
    cdef long y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + ph, h)
    cdef const floating *g
    if gaps:
        memset(dx__nhwc + (img * h + y0) * w * c, 0, sizeof(floating) * (y1 - y0) * w * c)
    for ox in range(ow):
        x0 = max(ox * sw - pl, 0)
        x1 = min(ox * sw - pl + pw, w)
        g = dy__nhwc + (row * ow + ox) * c
        if mode == POOL_AVG:
            spread_average(dx__nhwc, g, img, h, w, c, y0, y1, x0, x1, False)
            continue
        window_extreme(x__nhwc, img, h, w, c, y0, y1, x0, x1, mode, best)
        # The first pixel equal to the extreme (or the first NaN when the extreme is NaN)
        # gets the gradient, the rest zero; branch-free, so it vectorises over channels.
        memset(taken, 0, sizeof(floating) * c)
        for iy in range(y0, y1):
            for ix in range(x0, x1):
                at = ((img * h + iy) * w + ix) * c
                place_gradient(x__nhwc + at, best, g, taken, dx__nhwc + at, c)


cdef void backward_overlapping_image(const floating *dy__nhwc, const floating *x__nhwc,
                                     floating *dx__nhwc, long img, long h, long w, long c,
                                     long oh, long ow, long ph, long pw, long sh, long sw,
                                     long pt, long pl, int mode, floating *best,
                                     long *where) noexcept nogil:
    """dx of one image (overlapping windows): zeroed, then each window's gradient added."""
    cdef long oy, ox, y0, y1, x0, x1, iy, ix, cc, first, pixel_index
    cdef floating v, b
    cdef bint wins
    cdef const floating *g
    cdef const floating *pixel
    memset(dx__nhwc + img * h * w * c, 0, sizeof(floating) * h * w * c)
    for oy in range(oh):
        y0 = max(oy * sh - pt, 0)
        y1 = min(oy * sh - pt + ph, h)
        for ox in range(ow):
            x0 = max(ox * sw - pl, 0)
            x1 = min(ox * sw - pl + pw, w)
            g = dy__nhwc + ((img * oh + oy) * ow + ox) * c
            if mode == POOL_AVG:
                spread_average(dx__nhwc, g, img, h, w, c, y0, y1, x0, x1, True)
                continue
            first = (img * h + y0) * w + x0
            memcpy(best, x__nhwc + first * c, sizeof(floating) * c)
            for cc in range(c):
                where[cc] = first
            for iy in range(y0, y1):
                for ix in range(x0 + 1 if iy == y0 else x0, x1):
                    pixel_index = (img * h + iy) * w + ix
                    pixel = x__nhwc + pixel_index * c
                    for cc in range(c):
                        v = pixel[cc]
                        b = best[cc]
                        wins = v > b if mode == POOL_MAX else v < b
                        if wins or (v != v and b == b):
                            best[cc] = v
                            where[cc] = pixel_index
            for cc in range(c):
                dx__nhwc[where[cc] * c + cc] = dx__nhwc[where[cc] * c + cc] + g[cc]


cdef int pool2d_backward_driver(const floating *dy__nhwc, const floating *x__nhwc, long n,
                                long h, long w, long c, floating *dx__nhwc, long oh, long ow,
                                long ph, long pw, long sh, long sw, long pt, long pl, int mode,
                                int nthreads) noexcept nogil:
    """dx for dy, every element written; 0, or -1 if the scratch could not be allocated.

    Windows that do not overlap (strides >= pool): a window row owns its input rows, and
    each dx element is written once (no zeroed buffer, no read-modify-write). Overlapping
    windows: one thread takes a whole image and accumulates into it."""
    cdef bint disjoint = sh >= ph and sw >= pw
    # Columns past the last window, or between windows, hold no gradient.
    cdef bint gaps = sw > pw or (ow - 1) * sw - pl + pw < w
    cdef long row, img, iy, oy
    # Per thread: best (C elements), then taken (C elements, disjoint form) or where (C
    # longs, overlapping form), each on its own cache lines.
    cdef long half = ((c * max(sizeof(floating), sizeof(long)) + 63) // 64) * 64
    cdef char *scratch = <char *>fc_alloc(2 * half * nthreads)
    cdef char *mine = NULL
    if scratch == NULL:
        return -1
    with parallel(num_threads=nthreads):
        mine = scratch + threadid() * 2 * half
        if disjoint:
            for row in prange(n * oh, schedule='static'):
                backward_disjoint_row(dy__nhwc, x__nhwc, dx__nhwc, row, h, w, c, oh, ow, ph,
                                      pw, sh, sw, pt, pl, mode, gaps, <floating *>mine,
                                      <floating *>(mine + half))
        else:
            for img in prange(n, schedule='static'):
                backward_overlapping_image(dy__nhwc, x__nhwc, dx__nhwc, img, h, w, c, oh, ow,
                                           ph, pw, sh, sw, pt, pl, mode, <floating *>mine,
                                           <long *>(mine + half))
    if disjoint:
        # Input rows that no window row reaches.
        for row in prange(n * h, num_threads=nthreads, schedule='static'):
            iy = row % h
            oy = (iy + pt) // sh
            if oy >= oh or iy + pt - oy * sh >= ph:
                memset(dx__nhwc + row * w * c, 0, sizeof(floating) * w * c)
    fc_free(scratch)
    return 0


def pool2d_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, pool, strides,
                   padding, int mode, int nthreads):
    cdef long ph = pool[0], pw = pool[1], sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pl = padding[1][0], row
    cdef long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef long oh = y.shape[1], ow = y.shape[2]
    cdef const floating *x_ptr = &x[0, 0, 0, 0]
    cdef floating *y_ptr = &y[0, 0, 0, 0]
    for row in prange(n * oh, nogil=True, num_threads=nthreads, schedule='static'):
        forward_row(x_ptr, y_ptr, row, h, w, c, oh, ow, ph, pw, sh, sw, pt, pl, mode)


def pool2d_backward(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] x,
                    floating[:, :, :, ::1] dx, pool, strides, padding, int mode,
                    int nthreads):
    cdef long ph = pool[0], pw = pool[1], sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pl = padding[1][0]
    cdef int rc
    with nogil:
        rc = pool2d_backward_driver(&dy[0, 0, 0, 0], &x[0, 0, 0, 0], x.shape[0], x.shape[1],
                                    x.shape[2], x.shape[3], &dx[0, 0, 0, 0], dy.shape[1],
                                    dy.shape[2], ph, pw, sh, sw, pt, pl, mode, nthreads)
    if rc != 0:
        raise MemoryError("fastconv: could not allocate pooling scratch space")
