/* One register-blocked micro-kernel, instantiated per ISA and dtype by microkernels.h.
 *
 * Contract: with t[i][j] = sum over run < nruns, p < kc of
 *                          a[off[i] + run*a_run + p*a_ps] * b[run*b_run + p*NR + j]
 * for i < MR, j < NR = NV*LANES, row i of the tile goes to dst[i][0..NR):
 *   dst[i][j] = act(bias[j] + t[i][j])      or, with FC_UKR_ACCUMULATE,
 *   dst[i][j] = act(dst[i][j] + t[i][j])    (dst[i] == NULL: row i is dropped);
 * bias may be NULL (none); act is ReLU with FC_UKR_RELU (NaN kept), else the identity.
 * So a full tile goes straight into the output, or is added into a partial sum or a
 * scattered destination, with the epilogue done in registers.
 * - A is read in place (straight from an NHWC image: no im2col), one pointer per row,
 *   so the caller chooses any MR rows by their offsets (rows past the tile's end repeat
 *   a valid row: nothing is ever read out of bounds).
 * - B is packed by the caller: NR-wide rows, 64-byte aligned, b_run a multiple of NR.
 * - dst rows and bias need no alignment; bias, when given, holds NR elements.
 * The MR x NV accumulators stay in vector registers (24 zmm for AVX-512 float32 12x32).
 *
 * Parameters (macros): UKR_NAME, UKR_T, UKR_VBYTES, UKR_MR, UKR_NV, UKR_TARGET.
 */
#define UKR_LANES ((int)(UKR_VBYTES / sizeof(UKR_T)))
#define UKR_NR (UKR_NV * UKR_LANES)

typedef UKR_T FC_CAT(UKR_NAME, _vec) __attribute__((vector_size(UKR_VBYTES)));
/* The same vector, for loads and stores at any element-aligned address. */
typedef UKR_T FC_CAT(UKR_NAME, _uvec)
    __attribute__((vector_size(UKR_VBYTES), aligned(sizeof(UKR_T))));
/* Integer lanes of the same width: the ReLU mask. */
typedef FC_CAT(FC_INT_OF_, UKR_T) FC_CAT(UKR_NAME, _ivec) __attribute__((vector_size(UKR_VBYTES)));

UKR_TARGET static void UKR_NAME(long nruns, long kc, const UKR_T *a, const long *off,
                                long a_run, long a_ps, const UKR_T *b, long b_run,
                                UKR_T *const *dst, const UKR_T *bias, int flags)
{
    typedef FC_CAT(UKR_NAME, _vec) vec;
    typedef FC_CAT(UKR_NAME, _uvec) uvec;
    typedef FC_CAT(UKR_NAME, _ivec) ivec;
    vec c[UKR_MR][UKR_NV];
    const UKR_T *ai[UKR_MR];
#pragma GCC unroll 16
    for (int i = 0; i < UKR_MR; i++) {
        ai[i] = a + off[i];
#pragma GCC unroll 4
        for (int v = 0; v < UKR_NV; v++) c[i][v] = (vec){0};
    }
    for (long run = 0; run < nruns; run++) {
        const UKR_T *br = b + run * b_run;
        long ap = run * a_run;
        for (long p = 0; p < kc; p++, ap += a_ps, br += UKR_NR) {
            vec bv[UKR_NV];
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; v++) bv[v] = *(const vec *)(br + v * UKR_LANES);
#pragma GCC unroll 16
            for (int i = 0; i < UKR_MR; i++) {
                UKR_T s = ai[i][ap];
#pragma GCC unroll 4
                for (int v = 0; v < UKR_NV; v++) c[i][v] += s * bv[v];
            }
        }
    }
    if (bias) {
        vec bv[UKR_NV];
#pragma GCC unroll 4
        for (int v = 0; v < UKR_NV; v++) bv[v] = *(const uvec *)(bias + v * UKR_LANES);
#pragma GCC unroll 16
        for (int i = 0; i < UKR_MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; v++) c[i][v] += bv[v];
    }
    if (flags & FC_UKR_ACCUMULATE) {
#pragma GCC unroll 16
        for (int i = 0; i < UKR_MR; i++)
            if (dst[i])
#pragma GCC unroll 4
                for (int v = 0; v < UKR_NV; v++)
                    c[i][v] += *(const uvec *)(dst[i] + v * UKR_LANES);
    }
    if (flags & FC_UKR_RELU) {
        /* Clear the lanes below zero (NaN < 0 is false: NaN stays, as np.maximum). */
#pragma GCC unroll 16
        for (int i = 0; i < UKR_MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; v++)
                c[i][v] = (vec)((ivec)c[i][v] & ~(ivec)(c[i][v] < (vec){0}));
    }
#pragma GCC unroll 16
    for (int i = 0; i < UKR_MR; i++)
        if (dst[i])
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; v++) *(uvec *)(dst[i] + v * UKR_LANES) = c[i][v];
}

#undef UKR_LANES
#undef UKR_NR
#undef UKR_NAME
#undef UKR_T
#undef UKR_VBYTES
#undef UKR_MR
#undef UKR_NV
#undef UKR_TARGET
