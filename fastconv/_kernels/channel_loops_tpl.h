/* Channel loops of the drivers, instantiated for float and double by channel_loops.h.
 * In C only for `restrict`, which Cython cannot declare: without it GCC guards each
 * vectorised loop with run-time overlap checks of every pointer pair, paid on every call,
 * and these loops are called once per pixel with short runs (C or K elements).
 * Parameters (macros): CL_T (element type), CL_SFX (name suffix). */
#define CL_FN(name) FC_CAT(FC_CAT(fc_, name), FC_CAT(_, CL_SFX))

/* 16-byte vectors at any element-aligned address (SSE2 on x86-64, NEON on ARM), with
 * their comparison masks. CL_IT: the integer type of CL_T's width. */
#define CL_VEC CL_FN(vec)
#define CL_IVEC CL_FN(ivec)
typedef CL_T CL_VEC __attribute__((vector_size(16), aligned(sizeof(CL_T))));
typedef CL_IT CL_IVEC __attribute__((vector_size(16)));
#define CL_VLEN (16 / (long)sizeof(CL_T))

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

/* Window pixels whose offsets window_extreme lists once per window (larger windows walk
 * the pixels with the running extreme in memory). */
#define CL_MAX_PIXELS 64

/* off[i]: the offset from a window's first pixel of its i-th pixel, in (plane, row,
 * column) order. */
static inline void CL_FN(window_offsets)(long *off, long planes, long plane_step, long rows,
                                         long row_step, long pixels, long c)
{
    long n = 0;
    for (long z = 0; z < planes; z++)
        for (long r = 0; r < rows; r++)
            for (long p = 0; p < pixels; p++) off[n++] = z * plane_step + r * row_step + p * c;
}

/* The running extreme over the window's pixels at corner + off[0 .. count) of the 2 x 16
 * bytes of channels at corner, into best: max when WINS is CL_GREATER, min for CL_LESS,
 * a NaN always winning. GCC vector extensions (any element alignment), because GCC 12
 * unrolls the equivalent fixed-length C loop into scalar branches (11x slower): a
 * block's extreme stays in two registers across the window's pixels. */
#define CL_WINDOW_BLOCK(NAME, WINS)                                                        \
static inline void CL_FN(NAME)(CL_T *best, const CL_T *corner, const long *off,           \
                               long count)                                                \
{                                                                                         \
    CL_VEC b0 = *(const CL_VEC *)corner, b1 = *(const CL_VEC *)(corner + CL_VLEN);        \
    for (long i = 1; i < count; i++) {                                                    \
        const CL_T *in = corner + off[i];                                                 \
        const CL_VEC v0 = *(const CL_VEC *)in, v1 = *(const CL_VEC *)(in + CL_VLEN);      \
        const CL_IVEC m0 = WINS(v0, b0) | (v0 != v0), m1 = WINS(v1, b1) | (v1 != v1);     \
        b0 = (CL_VEC)(((CL_IVEC)v0 & m0) | ((CL_IVEC)b0 & ~m0));                          \
        b1 = (CL_VEC)(((CL_IVEC)v1 & m1) | ((CL_IVEC)b1 & ~m1));                          \
    }                                                                                     \
    *(CL_VEC *)best = b0;                                                                 \
    *(CL_VEC *)(best + CL_VLEN) = b1;                                                     \
}
#define CL_GREATER(v, b) ((v) > (b))
#define CL_LESS(v, b) ((v) < (b))
CL_WINDOW_BLOCK(max_block, CL_GREATER)
CL_WINDOW_BLOCK(min_block, CL_LESS)
#undef CL_GREATER
#undef CL_LESS
#undef CL_WINDOW_BLOCK

/* best = max(best, pixel) (is_max) or min, per channel, for one pixel; a NaN always wins.
 * 0/1 arithmetic, one comparison per statement: the form GCC 12 vectorises. */
static inline void CL_FN(extreme_update)(CL_T *restrict best, const CL_T *restrict pixel,
                                         long c, int is_max)
{
    const CL_T one = 1, zero = 0;
    if (is_max)
        for (long cc = 0; cc < c; cc++) {
            const CL_T v = pixel[cc], b = best[cc];
            const CL_T wins = v > b ? one : zero, v_nan = v != v ? one : zero;
            best[cc] = wins + v_nan > zero ? v : b;
        }
    else
        for (long cc = 0; cc < c; cc++) {
            const CL_T v = pixel[cc], b = best[cc];
            const CL_T wins = v < b ? one : zero, v_nan = v != v ? one : zero;
            best[cc] = wins + v_nan > zero ? v : b;
        }
}

/* The window's extreme per channel into best, for the whole blocks of 2 x 16 bytes of
 * channels, over the pixels at corner + off[0 .. count): the first channel left over. */
static inline long CL_FN(extreme_blocks)(CL_T *best, const CL_T *corner, const long *off,
                                         long count, long c, int is_max)
{
    long cc = 0;
    if (is_max)
        for (; cc + 2 * CL_VLEN <= c; cc += 2 * CL_VLEN)
            CL_FN(max_block)(best + cc, corner + cc, off, count);
    else
        for (; cc + 2 * CL_VLEN <= c; cc += 2 * CL_VLEN)
            CL_FN(min_block)(best + cc, corner + cc, off, count);
    return cc;
}

/* The window's extreme for channels [cc, c), a pixel at a time with best in memory. */
static inline void CL_FN(extreme_tail)(CL_T *restrict best, const CL_T *restrict corner,
                                       long cc, long planes, long plane_step, long rows,
                                       long row_step, long pixels, long c, int is_max)
{
    if (cc == c)
        return;
    for (long i = cc; i < c; i++) best[i] = corner[i];
    for (long z = 0; z < planes; z++)
        for (long r = 0; r < rows; r++)
            for (long p = z == 0 && r == 0; p < pixels; p++)
                CL_FN(extreme_update)(best + cc, corner + z * plane_step + r * row_step + p * c
                                      + cc, c - cc, is_max);
}

/* best = the max (is_max) or min, per channel, of the pooling window of planes x rows x
 * pixels whose first pixel is corner (pixels c apart, rows row_step, planes plane_step);
 * a NaN always wins. Up to CL_MAX_PIXELS pixels: their offsets listed once into off, then
 * blocks of 2 x 16 bytes of channels with the running extreme in registers, the channels
 * past the last block through the per-pixel loop; larger windows: the per-pixel loop
 * throughout. Returns the channels the blocks covered (0 for a larger window). */
static inline long CL_FN(listed_extreme)(CL_T *restrict best, const CL_T *restrict corner,
                                         long *off, long planes, long plane_step, long rows,
                                         long row_step, long pixels, long c, int is_max)
{
    const long count = planes * rows * pixels;
    long done = 0;
    if (count <= CL_MAX_PIXELS) {
        CL_FN(window_offsets)(off, planes, plane_step, rows, row_step, pixels, c);
        done = CL_FN(extreme_blocks)(best, corner, off, count, c, is_max);
    }
    CL_FN(extreme_tail)(best, corner, done, planes, plane_step, rows, row_step, pixels, c,
                        is_max);
    return done;
}

/* The window's extreme per channel into best, as listed_extreme. */
static inline void CL_FN(window_extreme)(CL_T *restrict best, const CL_T *restrict corner,
                                         long planes, long plane_step, long rows,
                                         long row_step, long pixels, long c, int is_max)
{
    long off[CL_MAX_PIXELS];
    CL_FN(listed_extreme)(best, corner, off, planes, plane_step, rows, row_step, pixels, c,
                          is_max);
}

/* For `pixels` pixels `step` apart of a pooling window (one window row), `lanes`
 * channels: d = grad where a pixel is the first seen equal to the window's extreme (taken
 * still 0; a NaN extreme matches the first NaN), else 0. `first`: the window's first row,
 * which clears taken. Branch-free 0/1 arithmetic (int masks, && and ||, or a select
 * inside a product leave a mispredicted branch per element in GCC 12: 20x slower). */
static inline void CL_FN(place_gradient)(const CL_T *restrict run, const CL_T *restrict best,
                                         const CL_T *restrict grad, CL_T *restrict taken,
                                         CL_T *restrict d, long pixels, long step, long lanes,
                                         int first)
{
    const CL_T one = 1, zero = 0;
    if (first)
        for (long cc = 0; cc < lanes; cc++) taken[cc] = zero;
    for (long p = 0; p < pixels; p++, run += step, d += step)
        for (long cc = 0; cc < lanes; cc++) {
            const CL_T v = run[cc], b = best[cc], g = grad[cc], t = taken[cc];
            const CL_T equal = v == b ? one : zero;
            const CL_T v_nan = v != v ? one : zero, b_nan = b != b ? one : zero;
            const CL_T hit = t == zero ? (equal + v_nan * b_nan > zero ? one : zero) : zero;
            d[cc] = hit > zero ? g : zero;
            taken[cc] = t + hit;
        }
}

/* The gradient of one pooling window (non-overlapping windows): the window's extreme per
 * channel into best, then d (dx at the window's first pixel, laid out as x) = grad at the
 * first pixel equal to it (the first NaN when it is NaN), 0 elsewhere. Up to
 * CL_MAX_PIXELS pixels, 2 x 16 bytes of channels at a time with the extreme and the
 * "already placed" masks in registers; the channels past the last block, and larger
 * windows, a window row at a time through place_gradient with taken in memory. */
static inline void CL_FN(window_gradient)(const CL_T *x, CL_T *d, const CL_T *grad,
                                          CL_T *best, CL_T *taken, long planes,
                                          long plane_step, long rows, long row_step,
                                          long pixels, long c, int is_max)
{
    const long count = planes * rows * pixels;
    long off[CL_MAX_PIXELS], cc = 0;
    const long done = CL_FN(listed_extreme)(best, x, off, planes, plane_step, rows, row_step,
                                            pixels, c, is_max);
    for (; cc < done; cc += 2 * CL_VLEN) {
        const CL_VEC b0 = *(const CL_VEC *)(best + cc);
        const CL_VEC b1 = *(const CL_VEC *)(best + cc + CL_VLEN);
        const CL_IVEC g0 = (CL_IVEC)*(const CL_VEC *)(grad + cc);
        const CL_IVEC g1 = (CL_IVEC)*(const CL_VEC *)(grad + cc + CL_VLEN);
        const CL_IVEC b0_nan = b0 != b0, b1_nan = b1 != b1;
        CL_IVEC t0 = {0}, t1 = {0};
        for (long i = 0; i < count; i++) {
            const CL_T *in = x + off[i] + cc;
            const CL_VEC v0 = *(const CL_VEC *)in, v1 = *(const CL_VEC *)(in + CL_VLEN);
            const CL_IVEC hit0 = ((v0 == b0) | ((v0 != v0) & b0_nan)) & ~t0;
            const CL_IVEC hit1 = ((v1 == b1) | ((v1 != v1) & b1_nan)) & ~t1;
            *(CL_VEC *)(d + off[i] + cc) = (CL_VEC)(g0 & hit0);
            *(CL_VEC *)(d + off[i] + cc + CL_VLEN) = (CL_VEC)(g1 & hit1);
            t0 |= hit0;
            t1 |= hit1;
        }
    }
    if (cc == c)
        return;
    for (long z = 0; z < planes; z++)
        for (long r = 0; r < rows; r++) {
            const long at = z * plane_step + r * row_step + cc;
            CL_FN(place_gradient)(x + at, best + cc, grad + cc, taken + cc, d + at, pixels, c,
                                  c - cc, z == 0 && r == 0);
        }
}

#undef CL_MAX_PIXELS
#undef CL_VEC
#undef CL_IVEC
#undef CL_VLEN
#undef CL_FN
