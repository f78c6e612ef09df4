/* 2-D pooling forward and backward, instantiated for float and double by pool.h.
 *
 * Layouts: x / dx (N, H, W, C), y / dy (N, OH, OW, C), C-contiguous. Window (oy, ox)
 * covers rows oy*sh-pt .. +ph and columns ox*sw-pl .. +pw, clipped to the image; fastconv.ops guarantees every window holds a real pixel.
 * Loops run over whole windows with the channel loop innermost (contiguous, vectorised).
 * max/min: the first extreme in row-major window order wins, and a NaN beats any number
 * (so NaN propagates, and its gradient goes to the first NaN), as np.argmax does.
 * avg: divides by the number of real pixels in the window (Keras).
 */
#define FN(name) FC_CAT(FC_CAT(fc_, name), FC_CAT(_, FC_SFX))

/* max(b, v) for mode max, min(b, v) for min, where a NaN v always wins: 0/1 arithmetic
 * with one comparison per statement, the form GCC 12 vectorises (see place_gradient). */
static inline void FN(extreme_update)(FC_T *restrict best, const FC_T *restrict in, long c,
                                      int mode)
{
    const FC_T one = 1, zero = 0;
    if (mode == FC_POOL_MAX)
        for (long cc = 0; cc < c; cc++) {
            const FC_T v = in[cc], b = best[cc];
            const FC_T wins = v > b ? one : zero;
            const FC_T v_nan = v != v ? one : zero;
            best[cc] = wins + v_nan > zero ? v : b;
        }
    else
        for (long cc = 0; cc < c; cc++) {
            const FC_T v = in[cc], b = best[cc];
            const FC_T wins = v < b ? one : zero;
            const FC_T v_nan = v != v ? one : zero;
            best[cc] = wins + v_nan > zero ? v : b;
        }
}

/* The extreme (mode max or min) of one window, per channel, into best[0..c). */
static inline void FN(window_extreme)(const FC_T *x, long img, long h, long w, long c, long y0,
                                      long y1, long x0, long x1, int mode, FC_T *best)
{
    memcpy(best, x + ((img * h + y0) * w + x0) * c, sizeof(FC_T) * c);
    for (long iy = y0; iy < y1; iy++)
        for (long ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ix++)
            FN(extreme_update)(best, x + ((img * h + iy) * w + ix) * c, c, mode);
}

static int FN(pool2d_forward)(const FC_T *x, long n, long h, long w, long c, FC_T *y, long oh,
                              long ow, long ph, long pw, long sh, long sw, long pt, long pl,
                              int mode, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long row = 0; row < n * oh; row++) {
        const long img = row / oh, oy = row % oh;
        const long y0 = fc_max(oy * sh - pt, 0), y1 = fc_min(oy * sh - pt + ph, h);
        for (long ox = 0; ox < ow; ox++) {
            const long x0 = fc_max(ox * sw - pl, 0), x1 = fc_min(ox * sw - pl + pw, w);
            FC_T *out = y + (row * ow + ox) * c;
            if (mode != FC_POOL_AVG) {
                FN(window_extreme)(x, img, h, w, c, y0, y1, x0, x1, mode, out);
                continue;
            }
            memset(out, 0, sizeof(FC_T) * c);
            for (long iy = y0; iy < y1; iy++)
                for (long ix = x0; ix < x1; ix++) {
                    const FC_T *in = x + ((img * h + iy) * w + ix) * c;
                    for (long cc = 0; cc < c; cc++) out[cc] += in[cc];
                }
            const FC_T count = (FC_T)((y1 - y0) * (x1 - x0));
            for (long cc = 0; cc < c; cc++) out[cc] /= count;
        }
    }
    return 0;
}

/* For one pixel of a window: d = g where this pixel is the first seen equal to the
 * window's extreme (taken still 0; a NaN extreme matches the first NaN), else 0. */
static inline void FN(place_gradient)(const FC_T *restrict in, const FC_T *restrict best,
                                      const FC_T *restrict g, FC_T *restrict taken,
                                      FC_T *restrict d, long c)
{
    /* Arithmetic on 0/1 values of FC_T, one comparison per statement: GCC 12 vectorises
     * exactly this form (int masks, && and ||, or a ternary inside a product leave
     * branches, one mispredicted per element: 20x slower). */
    const FC_T one = 1, zero = 0;
    for (long cc = 0; cc < c; cc++) {
        const FC_T v = in[cc], b = best[cc], grad = g[cc], t = taken[cc];
        const FC_T equal = v == b ? one : zero;
        const FC_T v_nan = v != v ? one : zero;
        const FC_T b_nan = b != b ? one : zero;
        const FC_T hit = t == zero ? (equal + v_nan * b_nan > zero ? one : zero) : zero;
        d[cc] = hit > zero ? grad : zero;
        taken[cc] = t + hit;
    }
}

/* Windows that do not overlap (strides >= pool): every dx element is written once,
 * directly (no zeroed buffer, no read-modify-write). A window row owns its input rows;
 * the input rows and columns no window covers are zeroed. */
static int FN(pool2d_backward_disjoint)(const FC_T *dy, const FC_T *x, long n, long h, long w,
                                        long c, FC_T *dx, long oh, long ow, long ph, long pw,
                                        long sh, long sw, long pt, long pl, int mode,
                                        int nthreads)
{
    /* Columns past the last window, or between windows, hold no gradient. */
    const int gaps = sw > pw || (ow - 1) * sw - pl + pw < w;
    int failed = 0;
#pragma omp parallel num_threads(nthreads)
    {
        /* best: the window's extreme; taken: 1 once a channel's gradient has been placed. */
        FC_T *best = (FC_T *)malloc(sizeof(FC_T) * 2 * c), *taken = best + c;
        if (!best) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (long row = 0; row < n * oh; row++) {
            if (!best) continue;
            const long img = row / oh, oy = row % oh;
            const long y0 = fc_max(oy * sh - pt, 0), y1 = fc_min(oy * sh - pt + ph, h);
            if (gaps) memset(dx + (img * h + y0) * w * c, 0, sizeof(FC_T) * (y1 - y0) * w * c);
            for (long ox = 0; ox < ow; ox++) {
                const long x0 = fc_max(ox * sw - pl, 0), x1 = fc_min(ox * sw - pl + pw, w);
                const FC_T *g = dy + (row * ow + ox) * c;
                if (mode == FC_POOL_AVG) {
                    const FC_T count = (FC_T)((y1 - y0) * (x1 - x0));
                    for (long iy = y0; iy < y1; iy++)
                        for (long ix = x0; ix < x1; ix++) {
                            FC_T *d = dx + ((img * h + iy) * w + ix) * c;
                            for (long cc = 0; cc < c; cc++) d[cc] = g[cc] / count;
                        }
                    continue;
                }
                FN(window_extreme)(x, img, h, w, c, y0, y1, x0, x1, mode, best);
                /* The first pixel equal to the extreme (or the first NaN when the extreme
                 * is NaN) is the first extreme: it gets the gradient, the rest zero.
                 * Branch-free, so it vectorises over channels. */
                for (long cc = 0; cc < c; cc++) taken[cc] = 0;
                for (long iy = y0; iy < y1; iy++)
                    for (long ix = x0; ix < x1; ix++) {
                        const long at = ((img * h + iy) * w + ix) * c;
                        FN(place_gradient)(x + at, best, g, taken, dx + at, c);
                    }
            }
        }
        free(best);
    }
    /* Input rows that no window row reaches. */
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long row = 0; row < n * h; row++) {
        const long iy = row % h, oy = (iy + pt) / sh;
        if (oy >= oh || iy + pt - oy * sh >= ph) memset(dx + row * w * c, 0, sizeof(FC_T) * w * c);
    }
    return failed ? -1 : 0;
}

/* Overlapping windows (strides < pool): one thread takes a whole image, zeroes its dx and
 * accumulates into it, so no dx element is ever updated by two threads. */
static int FN(pool2d_backward_overlapping)(const FC_T *dy, const FC_T *x, long n, long h,
                                           long w, long c, FC_T *dx, long oh, long ow,
                                           long ph, long pw, long sh, long sw, long pt,
                                           long pl, int mode, int nthreads)
{
    int failed = 0;
#pragma omp parallel num_threads(nthreads)
    {
        FC_T *best = (FC_T *)malloc(sizeof(FC_T) * c);
        long *where = (long *)malloc(sizeof(long) * c);
        if (!best || !where) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (long img = 0; img < n; img++) {
            if (!best || !where) continue;
            memset(dx + img * h * w * c, 0, sizeof(FC_T) * h * w * c);
            for (long oy = 0; oy < oh; oy++) {
                const long y0 = fc_max(oy * sh - pt, 0), y1 = fc_min(oy * sh - pt + ph, h);
                for (long ox = 0; ox < ow; ox++) {
                    const long x0 = fc_max(ox * sw - pl, 0), x1 = fc_min(ox * sw - pl + pw, w);
                    const FC_T *g = dy + ((img * oh + oy) * ow + ox) * c;
                    if (mode == FC_POOL_AVG) {
                        const FC_T count = (FC_T)((y1 - y0) * (x1 - x0));
                        for (long iy = y0; iy < y1; iy++)
                            for (long ix = x0; ix < x1; ix++) {
                                FC_T *d = dx + ((img * h + iy) * w + ix) * c;
                                for (long cc = 0; cc < c; cc++) d[cc] += g[cc] / count;
                            }
                        continue;
                    }
                    const long first = (img * h + y0) * w + x0;
                    memcpy(best, x + first * c, sizeof(FC_T) * c);
                    for (long cc = 0; cc < c; cc++) where[cc] = first;
                    for (long iy = y0; iy < y1; iy++)
                        for (long ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ix++) {
                            const long pix = (img * h + iy) * w + ix;
                            const FC_T *in = x + pix * c;
                            for (long cc = 0; cc < c; cc++) {
                                const FC_T v = in[cc], b = best[cc];
                                const int wins = mode == FC_POOL_MAX ? v > b : v < b;
                                if (wins || (v != v && b == b)) {
                                    best[cc] = v;
                                    where[cc] = pix;
                                }
                            }
                        }
                    for (long cc = 0; cc < c; cc++) dx[where[cc] * c + cc] += g[cc];
                }
            }
        }
        free(best);
        free(where);
    }
    return failed ? -1 : 0;
}

/* dx for dy; writes every element of dx (it need not be zeroed). */
static int FN(pool2d_backward)(const FC_T *dy, const FC_T *x, long n, long h, long w, long c,
                               FC_T *dx, long oh, long ow, long ph, long pw, long sh, long sw,
                               long pt, long pl, int mode, int nthreads)
{
    if (sh >= ph && sw >= pw)
        return FN(pool2d_backward_disjoint)(dy, x, n, h, w, c, dx, oh, ow, ph, pw, sh, sw, pt,
                                            pl, mode, nthreads);
    return FN(pool2d_backward_overlapping)(dy, x, n, h, w, c, dx, oh, ow, ph, pw, sh, sw, pt,
                                           pl, mode, nthreads);
}

#undef FN
