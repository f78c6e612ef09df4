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

/* The running extreme over planes x rows x pixels (pixels c apart, rows row_step apart,
 * planes plane_step apart) of the 2 x 16 bytes of channels at corner, into best: max
 * when IS_MAX, else min, a NaN always winning. GCC vector extensions (any element
 * alignment), because GCC 12 unrolls the equivalent fixed-length C loop into scalar
 * branches: a block's extreme stays in two registers across the window's pixels. */
#define CL_WINDOW_BLOCK(NAME, WINS)                                                        \
static inline void CL_FN(NAME)(CL_T *best, const CL_T *corner, long planes,               \
                               long plane_step, long rows, long row_step, long pixels,    \
                               long c)                                                    \
{                                                                                         \
    CL_VEC b0 = *(const CL_VEC *)corner, b1 = *(const CL_VEC *)(corner + CL_VLEN);        \
    for (long z = 0; z < planes; z++)                                                     \
        for (long r = 0; r < rows; r++)                                                   \
            for (long p = z == 0 && r == 0; p < pixels; p++) {                            \
                const CL_T *in = corner + z * plane_step + r * row_step + p * c;          \
                const CL_VEC v0 = *(const CL_VEC *)in;                                    \
                const CL_VEC v1 = *(const CL_VEC *)(in + CL_VLEN);                        \
                const CL_IVEC m0 = WINS(v0, b0) | (v0 != v0);                             \
                const CL_IVEC m1 = WINS(v1, b1) | (v1 != v1);                             \
                b0 = (CL_VEC)(((CL_IVEC)v0 & m0) | ((CL_IVEC)b0 & ~m0));                  \
                b1 = (CL_VEC)(((CL_IVEC)v1 & m1) | ((CL_IVEC)b1 & ~m1));                  \
            }                                                                             \
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

/* best = the max (is_max) or min, per channel, of a pooling window whose first pixel is
 * corner; a NaN always wins. Blocks of 2 x 16 bytes of channels, their running extreme
 * kept in registers across the window's pixels instead of loaded and stored once per
 * pixel; the channels past the last whole block one at a time. */
static inline void CL_FN(window_extreme)(CL_T *best, const CL_T *corner, long planes,
                                         long plane_step, long rows, long row_step,
                                         long pixels, long c, int is_max)
{
    long cc = 0;
    if (is_max)
        for (; cc + 2 * CL_VLEN <= c; cc += 2 * CL_VLEN)
            CL_FN(max_block)(best + cc, corner + cc, planes, plane_step, rows, row_step,
                             pixels, c);
    else
        for (; cc + 2 * CL_VLEN <= c; cc += 2 * CL_VLEN)
            CL_FN(min_block)(best + cc, corner + cc, planes, plane_step, rows, row_step,
                             pixels, c);
    for (; cc < c; cc++) {
        CL_T b = corner[cc];
        for (long z = 0; z < planes; z++)
            for (long r = 0; r < rows; r++)
                for (long p = z == 0 && r == 0; p < pixels; p++) {
                    const CL_T v = corner[z * plane_step + r * row_step + p * c + cc];
                    if ((is_max ? v > b : v < b) || (v != v && b == b)) b = v;
                }
        best[cc] = b;
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

#undef CL_VEC
#undef CL_IVEC
#undef CL_VLEN
#undef CL_FN
