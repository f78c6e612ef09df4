/* One depthwise-convolution register kernel, instantiated per ISA and dtype by
 * microkernels.h (beside the GEMM micro-kernel, with the same target attributes).
 *
 * Contract: for i < DW_P pixels and j < NR = NV*LANES channels,
 *   t[i][j] = sum over taps k < ntaps of x[x_off[i] + tap_off[k] + j] * w[k*w_ts + j]
 *   dst[i][j] = act(bias[j] + t[i][j])      (bias NULL: none; dst[i] NULL: row dropped)
 * act is ReLU with FC_UKR_RELU (NaN kept), else the identity. x, w, bias and dst need
 * only element alignment. The DW_P x NV accumulators stay in registers across all taps,
 * so each output is stored once (a channel loop per tap would load and store it per tap).
 * Rows past the caller's last pixel repeat a valid offset and have dst NULL.
 *
 * Parameters (macros): DW_NAME, DW_T, DW_VBYTES, DW_P, DW_NV, DW_TARGET.
 */
#define DW_LANES ((int)(DW_VBYTES / sizeof(DW_T)))

typedef DW_T FC_CAT(DW_NAME, _vec) __attribute__((vector_size(DW_VBYTES)));
typedef DW_T FC_CAT(DW_NAME, _uvec) __attribute__((vector_size(DW_VBYTES), aligned(sizeof(DW_T))));
typedef FC_CAT(FC_INT_OF_, DW_T) FC_CAT(DW_NAME, _ivec) __attribute__((vector_size(DW_VBYTES)));

DW_TARGET static void DW_NAME(long ntaps, const DW_T *x, const long *x_off, const long *tap_off,
                              const DW_T *w, long w_ts, DW_T *const *dst, const DW_T *bias,
                              int flags)
{
    typedef FC_CAT(DW_NAME, _vec) vec;
    typedef FC_CAT(DW_NAME, _uvec) uvec;
    typedef FC_CAT(DW_NAME, _ivec) ivec;
    vec acc[DW_P][DW_NV];
#pragma GCC unroll 8
    for (int i = 0; i < DW_P; i++)
#pragma GCC unroll 4
        for (int v = 0; v < DW_NV; v++)
            acc[i][v] = bias ? *(const uvec *)(bias + v * DW_LANES) : (vec){0};
    for (long k = 0; k < ntaps; k++) {
        const DW_T *xk = x + tap_off[k];
        vec wv[DW_NV];
#pragma GCC unroll 4
        for (int v = 0; v < DW_NV; v++) wv[v] = *(const uvec *)(w + k * w_ts + v * DW_LANES);
#pragma GCC unroll 8
        for (int i = 0; i < DW_P; i++)
#pragma GCC unroll 4
            for (int v = 0; v < DW_NV; v++)
                acc[i][v] += *(const uvec *)(xk + x_off[i] + v * DW_LANES) * wv[v];
    }
#pragma GCC unroll 8
    for (int i = 0; i < DW_P; i++) {
        if (!dst[i]) continue;
#pragma GCC unroll 4
        for (int v = 0; v < DW_NV; v++) {
            vec r = acc[i][v];
            /* Clear the lanes below zero (NaN < 0 is false: NaN stays, as np.maximum). */
            if (flags & FC_UKR_RELU) r = (vec)((ivec)r & ~(ivec)(r < (vec){0}));
            *(uvec *)(dst[i] + v * DW_LANES) = r;
        }
    }
}

#undef DW_LANES
#undef DW_NAME
#undef DW_T
#undef DW_VBYTES
#undef DW_P
#undef DW_NV
#undef DW_TARGET
