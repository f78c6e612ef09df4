/* 2-D pooling forward and backward, instantiated for float and double by pool.h.
 *
 * Layouts: x / dx (N, H, W, C), y / dy (N, OH, OW, C), C-contiguous, dx zeroed by the
 * caller. Window (oy, ox) covers rows oy*sh-pt .. +ph and columns ox*sw-pl .. +pw,
 * clipped to the image; fastconv.ops guarantees every window holds a real pixel.
 * Loops run over whole windows with the channel loop innermost (contiguous, vectorised).
 * max/min: the first extreme in row-major window order wins, and a NaN beats any number
 * (so NaN propagates, and its gradient goes to the first NaN), as np.argmax does.
 * avg: divides by the number of real pixels in the window (Keras).
 */
#define FN(name) FC_CAT(FC_CAT(fc_, name), FC_CAT(_, FC_SFX))

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
            memcpy(out, x + ((img * h + y0) * w + x0) * c, sizeof(FC_T) * c);
            for (long iy = y0; iy < y1; iy++)
                for (long ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ix++) {
                    const FC_T *in = x + ((img * h + iy) * w + ix) * c;
                    if (mode == FC_POOL_MAX)
                        for (long cc = 0; cc < c; cc++)
                            out[cc] = (in[cc] > out[cc] || in[cc] != in[cc]) ? in[cc] : out[cc];
                    else if (mode == FC_POOL_MIN)
                        for (long cc = 0; cc < c; cc++)
                            out[cc] = (in[cc] < out[cc] || in[cc] != in[cc]) ? in[cc] : out[cc];
                    else
                        for (long cc = 0; cc < c; cc++) out[cc] += in[cc];
                }
            if (mode == FC_POOL_AVG) {
                const FC_T count = (FC_T)((y1 - y0) * (x1 - x0));
                for (long cc = 0; cc < c; cc++) out[cc] /= count;
            }
        }
    }
    return 0;
}

static int FN(pool2d_backward)(const FC_T *dy, const FC_T *x, long n, long h, long w, long c,
                               FC_T *dx, long oh, long ow, long ph, long pw, long sh, long sw,
                               long pt, long pl, int mode, int nthreads)
{
    /* Windows of different output rows overlap when sh < ph: then one thread takes a
     * whole image, so no dx element is ever updated by two threads. */
    const long rows_per_item = sh >= ph ? 1 : oh, items = n * oh / rows_per_item;
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
        for (long item = 0; item < items; item++) {
            if (!best || !where) continue;
            for (long row = item * rows_per_item; row < (item + 1) * rows_per_item; row++) {
                const long img = row / oh, oy = row % oh;
                const long y0 = fc_max(oy * sh - pt, 0), y1 = fc_min(oy * sh - pt + ph, h);
                for (long ox = 0; ox < ow; ox++) {
                    const long x0 = fc_max(ox * sw - pl, 0), x1 = fc_min(ox * sw - pl + pw, w);
                    const FC_T *g = dy + (row * ow + ox) * c;
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

#undef FN
