/* Channel loops of the drivers, instantiated for float and double by channel_loops.h.
 * In C only for `restrict`, which Cython cannot declare: without it GCC guards each
 * vectorised loop with run-time overlap checks of every pointer pair, paid on every call,
 * and these loops are called once per pixel with short runs (C or K elements).
 * Parameters (macros): CL_T (element type), CL_SFX (name suffix). */
#define CL_FN(name) FC_CAT(FC_CAT(fc_, name), FC_CAT(_, CL_SFX))

/* dst = src where mask > 0, else 0 (the ReLU gradient). */
static inline void CL_FN(copy_masked)(CL_T *restrict dst, const CL_T *restrict src,
                                      const CL_T *restrict mask, long len)
{
    const CL_T zero = 0;
    for (long i = 0; i < len; i++) {
        const CL_T v = src[i], m = mask[i]; /* both loaded before the select: vectorises */
        dst[i] = m > zero ? v : zero;
    }
}

/* d += src. */
static inline void CL_FN(add_to)(CL_T *restrict d, const CL_T *restrict src, long len)
{
    for (long j = 0; j < len; j++) d[j] += src[j];
}

/* d += a * b, element by element (the depthwise convolution's taps). */
static inline void CL_FN(multiply_add)(CL_T *restrict d, const CL_T *restrict a,
                                       const CL_T *restrict b, long len)
{
    for (long j = 0; j < len; j++) d[j] += a[j] * b[j];
}

/* best = max(best, pixel) (is_max) or min, per channel, over `pixels` consecutive pixels
 * of c channels (one window row); a NaN always wins. `first`: the window's first row,
 * whose first pixel is copied into best (no libc memcpy call per window). 0/1
 * arithmetic, one comparison per statement: the form GCC 12 vectorises. A whole row per
 * call: the call and the loop's set-up were a quarter of the pooling forward's
 * instructions when paid per pixel. */
static inline void CL_FN(extreme_update)(CL_T *restrict best, const CL_T *restrict run,
                                         long pixels, long c, int is_max, int first)
{
    const CL_T one = 1, zero = 0;
    if (first) {
        for (long cc = 0; cc < c; cc++) best[cc] = run[cc];
        run += c;
        pixels--;
    }
    if (is_max)
        for (long p = 0; p < pixels; p++, run += c)
            for (long cc = 0; cc < c; cc++) {
                const CL_T v = run[cc], b = best[cc];
                const CL_T wins = v > b ? one : zero, v_nan = v != v ? one : zero;
                best[cc] = wins + v_nan > zero ? v : b;
            }
    else
        for (long p = 0; p < pixels; p++, run += c)
            for (long cc = 0; cc < c; cc++) {
                const CL_T v = run[cc], b = best[cc];
                const CL_T wins = v < b ? one : zero, v_nan = v != v ? one : zero;
                best[cc] = wins + v_nan > zero ? v : b;
            }
}

/* For `pixels` consecutive pixels of a pooling window (one window row): d = grad where a
 * pixel is the first seen equal to the window's extreme (taken still 0; a NaN extreme
 * matches the first NaN), else 0. `first`: the window's first row, which clears taken.
 * Branch-free 0/1 arithmetic (int masks, && and ||, or a select inside a product leave a
 * mispredicted branch per element in GCC 12: 20x slower). */
static inline void CL_FN(place_gradient)(const CL_T *restrict run, const CL_T *restrict best,
                                         const CL_T *restrict grad, CL_T *restrict taken,
                                         CL_T *restrict d, long pixels, long c, int first)
{
    const CL_T one = 1, zero = 0;
    if (first)
        for (long cc = 0; cc < c; cc++) taken[cc] = zero;
    for (long p = 0; p < pixels; p++, run += c, d += c)
        for (long cc = 0; cc < c; cc++) {
            const CL_T v = run[cc], b = best[cc], g = grad[cc], t = taken[cc];
            const CL_T equal = v == b ? one : zero;
            const CL_T v_nan = v != v ? one : zero, b_nan = b != b ? one : zero;
            const CL_T hit = t == zero ? (equal + v_nan * b_nan > zero ? one : zero) : zero;
            d[cc] = hit > zero ? g : zero;
            taken[cc] = t + hit;
        }
}

#undef CL_FN
