"""Pooling kernels (2-D and 3-D), forward and backward, max/min/avg, float32 and float64.

Layouts: x / dx (N, D, H, W, C), y / dy (N, OD, OH, OW, C), C-contiguous (a 2-D call
passes depth 1). Window (oz, oy, ox) covers planes oz*sd-pf .. +pd, rows oy*sh-pt .. +ph
and columns ox*sw-pl .. +pw, clipped to the image; fastconv.ops guarantees every window
holds a real pixel and has checked shapes and dtypes. pool and strides are triples;
padding is three (before, after) pairs; mode is 0 (max), 1 (min) or 2 (avg), as
fastconv.ops.POOL_MODE_CODES.

Loops run over whole windows with the channel loop innermost (contiguous, vectorised);
OpenMP runs over output rows (or whole images where windows overlap), so each output
element is written by one thread.
max/min: the first extreme in (plane, row, column) window order wins, and a NaN beats any
number (so NaN propagates, and its gradient goes to the first NaN), as np.argmax does.
avg: divides by the number of real pixels in the window (Keras).
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.string cimport memcpy, memset

from fastconv._kernels._channel_loops cimport add_to, window_extreme, window_gradient
from fastconv._kernels._microkernel cimport fc_alloc, fc_free

cdef enum:
    POOL_MAX = 0
    POOL_MIN = 1
    POOL_AVG = 2


cdef struct PoolShape:
    long n, d, h, w, c, od, oh, ow
    long pd, ph, pw, sd, sh, sw, pf, pt, pl    # window, strides, leading padding
    int mode


cdef struct Window:
    # A window's pixels, clipped to the image: planes z0 .. z1, rows y0 .. y1, columns
    # x0 .. x1 (end exclusive).
    long z0, z1, y0, y1, x0, x1


cdef inline void window_rows(const PoolShape *g, long oz, long oy, Window *win) noexcept nogil:
    win.z0 = max(oz * g.sd - g.pf, 0)
    win.z1 = min(oz * g.sd - g.pf + g.pd, g.d)
    win.y0 = max(oy * g.sh - g.pt, 0)
    win.y1 = min(oy * g.sh - g.pt + g.ph, g.h)


cdef inline void window_columns(const PoolShape *g, long ox, Window *win) noexcept nogil:
    win.x0 = max(ox * g.sw - g.pl, 0)
    win.x1 = min(ox * g.sw - g.pl + g.pw, g.w)


cdef inline long pixel_index(const PoolShape *g, long img, long z, long y,
                             long x) noexcept nogil:
    return ((img * g.d + z) * g.h + y) * g.w + x


cdef inline floating window_count(const Window *win, floating like) noexcept nogil:
    return <floating>((win.z1 - win.z0) * (win.y1 - win.y0) * (win.x1 - win.x0))


cdef inline void extreme_of(const floating *x__ndhwc, const PoolShape *g, long img,
                            const Window *win, floating *best) noexcept nogil:
    """The extreme (mode max or min) of one window, per channel, into best[0:c]."""
    cdef long c = g.c, row_step = g.w * c
    window_extreme(best, x__ndhwc + pixel_index(g, img, win.z0, win.y0, win.x0) * c,
                   win.z1 - win.z0, g.h * row_step, win.y1 - win.y0, row_step,
                   win.x1 - win.x0, c, g.mode == POOL_MAX)


cdef void forward_row(const floating *x__ndhwc, floating *y__ndhwc, long row,
                      const PoolShape *g) noexcept nogil:
    """Output row `row` (of N*OD*OH) of the pooling."""
    cdef long plane = row // g.oh, img = plane // g.od, ox, z, y, x, cc
    cdef long c = g.c, ow = g.ow
    cdef bint average = g.mode == POOL_AVG
    cdef Window win
    cdef floating count
    cdef floating *out
    window_rows(g, plane % g.od, row % g.oh, &win)
    for ox in range(ow):
        window_columns(g, ox, &win)
        out = y__ndhwc + (row * ow + ox) * c
        if not average:
            extreme_of(x__ndhwc, g, img, &win, out)
            continue
        memset(out, 0, sizeof(floating) * c)
        for z in range(win.z0, win.z1):
            for y in range(win.y0, win.y1):
                for x in range(win.x0, win.x1):
                    add_to(out, x__ndhwc + pixel_index(g, img, z, y, x) * c, c)
        count = window_count(&win, out[0])
        for cc in range(c):
            out[cc] = out[cc] / count


cdef inline void spread_average(floating *dx__ndhwc, const floating *grad, const PoolShape *g,
                                long img, const Window *win, bint accumulate) noexcept nogil:
    """An average window's gradient grad / count onto its pixels of dx (set, or added to)."""
    cdef floating count = window_count(win, grad[0])
    cdef long z, y, x, cc
    cdef floating *d
    for z in range(win.z0, win.z1):
        for y in range(win.y0, win.y1):
            for x in range(win.x0, win.x1):
                d = dx__ndhwc + pixel_index(g, img, z, y, x) * g.c
                if accumulate:
                    for cc in range(g.c):
                        d[cc] = d[cc] + grad[cc] / count
                else:
                    for cc in range(g.c):
                        d[cc] = grad[cc] / count


cdef void backward_disjoint_row(const floating *dy__ndhwc, const floating *x__ndhwc,
                                floating *dx__ndhwc, long row, const PoolShape *g, bint gaps,
                                floating *best, floating *taken) noexcept nogil:
    """dx of the input rows under window row `row` (non-overlapping windows): every element
    written once, directly; columns no window covers zeroed when `gaps`."""
    cdef long plane = row // g.oh, img = plane // g.od, ox, z, at
    cdef Window win
    cdef const floating *grad
    window_rows(g, plane % g.od, row % g.oh, &win)
    if gaps:
        for z in range(win.z0, win.z1):
            memset(dx__ndhwc + pixel_index(g, img, z, win.y0, 0) * g.c, 0,
                   sizeof(floating) * (win.y1 - win.y0) * g.w * g.c)
    for ox in range(g.ow):
        window_columns(g, ox, &win)
        grad = dy__ndhwc + (row * g.ow + ox) * g.c
        if g.mode == POOL_AVG:
            spread_average(dx__ndhwc, grad, g, img, &win, False)
            continue
        # The first pixel equal to the extreme (or the first NaN when the extreme is NaN)
        # gets the gradient, the rest zero.
        at = pixel_index(g, img, win.z0, win.y0, win.x0) * g.c
        window_gradient(x__ndhwc + at, dx__ndhwc + at, grad, best, taken, win.z1 - win.z0,
                        g.h * g.w * g.c, win.y1 - win.y0, g.w * g.c, win.x1 - win.x0, g.c,
                        g.mode == POOL_MAX)


cdef void backward_overlapping_image(const floating *dy__ndhwc, const floating *x__ndhwc,
                                     floating *dx__ndhwc, long img, const PoolShape *g,
                                     floating *best, long *where) noexcept nogil:
    """dx of one image (overlapping windows): zeroed, then each window's gradient added."""
    cdef long oz, oy, ox, z, y, x, cc, pixel, first
    cdef floating v, b
    cdef bint wins
    cdef Window win
    cdef const floating *grad
    cdef const floating *values
    memset(dx__ndhwc + img * g.d * g.h * g.w * g.c, 0,
           sizeof(floating) * g.d * g.h * g.w * g.c)
    for oz in range(g.od):
        for oy in range(g.oh):
            window_rows(g, oz, oy, &win)
            for ox in range(g.ow):
                window_columns(g, ox, &win)
                grad = dy__ndhwc + (((img * g.od + oz) * g.oh + oy) * g.ow + ox) * g.c
                if g.mode == POOL_AVG:
                    spread_average(dx__ndhwc, grad, g, img, &win, True)
                    continue
                first = pixel_index(g, img, win.z0, win.y0, win.x0)
                memcpy(best, x__ndhwc + first * g.c, sizeof(floating) * g.c)
                for cc in range(g.c):
                    where[cc] = first
                for z in range(win.z0, win.z1):
                    for y in range(win.y0, win.y1):
                        for x in range(win.x0, win.x1):
                            pixel = pixel_index(g, img, z, y, x)
                            values = x__ndhwc + pixel * g.c
                            for cc in range(g.c):
                                v = values[cc]
                                b = best[cc]
                                wins = v > b if g.mode == POOL_MAX else v < b
                                if wins or (v != v and b == b):
                                    best[cc] = v
                                    where[cc] = pixel
                for cc in range(g.c):
                    dx__ndhwc[where[cc] * g.c + cc] = dx__ndhwc[where[cc] * g.c + cc] + grad[cc]


cdef inline bint covered(long i, long pad, long stride, long window, long out) noexcept nogil:
    """Whether input index i lies in a window along one axis (non-overlapping windows)."""
    cdef long o = (i + pad) // stride
    return o < out and i + pad - o * stride < window


cdef int pool_backward_driver(const floating *dy__ndhwc, const floating *x__ndhwc,
                              floating *dx__ndhwc, const PoolShape *g,
                              int nthreads) noexcept nogil:
    """dx for dy, every element written; 0, or -1 if the scratch could not be allocated.

    Windows that do not overlap (strides >= pool): a window row owns its input rows, and
    each dx element is written once (no zeroed buffer, no read-modify-write). Overlapping
    windows: one thread takes a whole image and accumulates into it."""
    cdef bint disjoint = g.sd >= g.pd and g.sh >= g.ph and g.sw >= g.pw
    # Columns past the last window, or between windows, hold no gradient.
    cdef bint gaps = g.sw > g.pw or (g.ow - 1) * g.sw - g.pl + g.pw < g.w
    cdef long row, img, plane
    # Per thread: best (C elements), then taken (C elements, disjoint form) or where (C
    # longs, overlapping form), each on its own cache lines.
    cdef long half = ((g.c * max(sizeof(floating), sizeof(long)) + 63) // 64) * 64
    cdef char *scratch = <char *>fc_alloc(2 * half * nthreads)
    cdef char *mine = NULL
    if scratch == NULL:
        return -1
    with parallel(num_threads=nthreads):
        mine = scratch + threadid() * 2 * half
        if disjoint:
            for row in prange(g.n * g.od * g.oh, schedule='static'):
                backward_disjoint_row(dy__ndhwc, x__ndhwc, dx__ndhwc, row, g, gaps,
                                      <floating *>mine, <floating *>(mine + half))
        else:
            for img in prange(g.n, schedule='static'):
                backward_overlapping_image(dy__ndhwc, x__ndhwc, dx__ndhwc, img, g,
                                           <floating *>mine, <long *>(mine + half))
    if disjoint:
        # Input rows that no window row reaches.
        for row in prange(g.n * g.d * g.h, num_threads=nthreads, schedule='static'):
            plane = row // g.h
            if not (covered(plane % g.d, g.pf, g.sd, g.pd, g.od)
                    and covered(row % g.h, g.pt, g.sh, g.ph, g.oh)):
                memset(dx__ndhwc + row * g.w * g.c, 0, sizeof(floating) * g.w * g.c)
    fc_free(scratch)
    return 0


cdef PoolShape pool_shape(x_shape, y_shape, pool, strides, padding, int mode):
    """The drivers' geometry from the 5-D shapes and fastconv.ops's normalised triples."""
    cdef PoolShape g
    g.n, g.d, g.h, g.w, g.c = x_shape[0], x_shape[1], x_shape[2], x_shape[3], x_shape[4]
    g.od, g.oh, g.ow = y_shape[1], y_shape[2], y_shape[3]
    g.pd, g.ph, g.pw = pool
    g.sd, g.sh, g.sw = strides
    g.pf, g.pt, g.pl = padding[0][0], padding[1][0], padding[2][0]
    g.mode = mode
    return g


def pool_forward(const floating[:, :, :, :, ::1] x, floating[:, :, :, :, ::1] y, pool,
                 strides, padding, int mode, int nthreads):
    """y = the pooling of x; every element of y written."""
    cdef PoolShape g = pool_shape(x.shape, y.shape, pool, strides, padding, mode)
    cdef const floating *x_ptr = &x[0, 0, 0, 0, 0]
    cdef floating *y_ptr = &y[0, 0, 0, 0, 0]
    cdef long row
    for row in prange(g.n * g.od * g.oh, nogil=True, num_threads=nthreads, schedule='static'):
        forward_row(x_ptr, y_ptr, row, &g)


def pool_backward(const floating[:, :, :, :, ::1] dy, const floating[:, :, :, :, ::1] x,
                  floating[:, :, :, :, ::1] dx, pool, strides, padding, int mode,
                  int nthreads):
    """dx for dy; every element of dx written."""
    cdef PoolShape g = pool_shape(x.shape, dy.shape, pool, strides, padding, mode)
    cdef int rc
    with nogil:
        rc = pool_backward_driver(&dy[0, 0, 0, 0, 0], &x[0, 0, 0, 0, 0], &dx[0, 0, 0, 0, 0],
                                  &g, nthreads)
    if rc != 0:
        raise MemoryError("fastconv: could not allocate pooling scratch space")
