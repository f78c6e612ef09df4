/* The micro-kernel variants compiled into every build, and the choice among them.
 *
 * generic: 16-byte vectors (SSE2 on any x86-64, NEON on ARM); avx2: 32-byte vectors with
 * FMA; avx512: 64-byte vectors. Each is the same C (microkernel_tpl.h) compiled with a
 * function target attribute, so one binary runs everywhere and the best variant the
 * CPU supports is chosen at import (no -march=native). Register budgets:
 *   generic 4 x 2 vectors (8 of 16 xmm), avx2 6 x 2 (12 of 16 ymm), avx512 12 x 2 (24 of 32 zmm).
 */
#ifndef FASTCONV_MICROKERNELS_H
#define FASTCONV_MICROKERNELS_H

#define FC_CAT_(a, b) a##b
#define FC_CAT(a, b) FC_CAT_(a, b)

#if defined(__x86_64__) || defined(__i386__)
#define FC_X86 1
#else
#define FC_X86 0
#endif

/* Largest tile over all variants: sizes the caller's stack tile buffer. */
#define FC_MR_MAX 12
#define FC_NR_MAX 32

/* Integer type of each element type's width (vector masks). */
#define FC_INT_OF_float int
#define FC_INT_OF_double long long

/* Flags of the micro-kernel's epilogue (microkernel_tpl.h). */
enum { FC_UKR_RELU = 1, FC_UKR_ACCUMULATE = 2 };

typedef void (*fc_ukr_f32)(long, long, const float *, const long *, long, long,
                           const float *, long, float *const *, const float *, int);
typedef void (*fc_ukr_f64)(long, long, const double *, const long *, long, long,
                           const double *, long, double *const *, const double *, int);
typedef void (*fc_dw_f32)(long, const float *, const long *, const long *, const float *, long,
                          float *const *, const float *, int);
typedef void (*fc_dw_f64)(long, const double *, const long *, const long *, const double *,
                          long, double *const *, const double *, int);

/* Pixels per depthwise tile (the most of any variant: sizes the caller's arrays). */
#define FC_DW_P_MAX 6

/* Each variant's depthwise kernel (depthwise_tpl.h): DW_P pixels x DW_NV vectors. */
#define DW_NAME fc_dw_generic_f32
#define DW_T float
#define DW_VBYTES 16
#define DW_P 4
#define DW_NV 2
#define DW_TARGET
#include "depthwise_tpl.h"

#define DW_NAME fc_dw_generic_f64
#define DW_T double
#define DW_VBYTES 16
#define DW_P 4
#define DW_NV 2
#define DW_TARGET
#include "depthwise_tpl.h"

#define UKR_NAME fc_ukr_generic_f32
#define UKR_T float
#define UKR_VBYTES 16
#define UKR_MR 4
#define UKR_NV 2
#define UKR_TARGET
#include "microkernel_tpl.h"

#define UKR_NAME fc_ukr_generic_f64
#define UKR_T double
#define UKR_VBYTES 16
#define UKR_MR 4
#define UKR_NV 2
#define UKR_TARGET
#include "microkernel_tpl.h"

#if FC_X86
#define UKR_NAME fc_ukr_avx2_f32
#define UKR_T float
#define UKR_VBYTES 32
#define UKR_MR 6
#define UKR_NV 2
#define UKR_TARGET __attribute__((target("avx2,fma")))
#include "microkernel_tpl.h"

#define UKR_NAME fc_ukr_avx2_f64
#define UKR_T double
#define UKR_VBYTES 32
#define UKR_MR 6
#define UKR_NV 2
#define UKR_TARGET __attribute__((target("avx2,fma")))
#include "microkernel_tpl.h"

#define UKR_NAME fc_ukr_avx512_f32
#define UKR_T float
#define UKR_VBYTES 64
#define UKR_MR 12
#define UKR_NV 2
#define UKR_TARGET __attribute__((target("avx512f")))
#include "microkernel_tpl.h"

#define UKR_NAME fc_ukr_avx512_f64
#define UKR_T double
#define UKR_VBYTES 64
#define UKR_MR 12
#define UKR_NV 2
#define UKR_TARGET __attribute__((target("avx512f")))
#include "microkernel_tpl.h"

#define DW_NAME fc_dw_avx2_f32
#define DW_T float
#define DW_VBYTES 32
#define DW_P 4
#define DW_NV 2
#define DW_TARGET __attribute__((target("avx2,fma")))
#include "depthwise_tpl.h"

#define DW_NAME fc_dw_avx2_f64
#define DW_T double
#define DW_VBYTES 32
#define DW_P 4
#define DW_NV 2
#define DW_TARGET __attribute__((target("avx2,fma")))
#include "depthwise_tpl.h"

#define DW_NAME fc_dw_avx512_f32
#define DW_T float
#define DW_VBYTES 64
#define DW_P 6
#define DW_NV 2
#define DW_TARGET __attribute__((target("avx512f")))
#include "depthwise_tpl.h"

#define DW_NAME fc_dw_avx512_f64
#define DW_T double
#define DW_VBYTES 64
#define DW_P 6
#define DW_NV 2
#define DW_TARGET __attribute__((target("avx512f")))
#include "depthwise_tpl.h"
#endif

typedef struct {
    const char *name;
    int mr_f32, nr_f32;
    fc_ukr_f32 ukr_f32;
    int mr_f64, nr_f64;
    fc_ukr_f64 ukr_f64;
    int dw_p, dw_nr_f32, dw_nr_f64;   /* depthwise tile: pixels, channels */
    fc_dw_f32 dw_f32;
    fc_dw_f64 dw_f64;
} fc_variant;

enum { FC_GENERIC = 0, FC_AVX2 = 1, FC_AVX512 = 2, FC_NUM_VARIANTS = 3 };

static const fc_variant fc_variants[FC_NUM_VARIANTS] = {
    {"generic", 4, 8, fc_ukr_generic_f32, 4, 4, fc_ukr_generic_f64,
     4, 8, 4, fc_dw_generic_f32, fc_dw_generic_f64},
#if FC_X86
    {"avx2", 6, 16, fc_ukr_avx2_f32, 6, 8, fc_ukr_avx2_f64,
     4, 16, 8, fc_dw_avx2_f32, fc_dw_avx2_f64},
    {"avx512", 12, 32, fc_ukr_avx512_f32, 12, 16, fc_ukr_avx512_f64,
     6, 32, 16, fc_dw_avx512_f32, fc_dw_avx512_f64},
#else
    {"avx2", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"avx512", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
#endif
};

static int fc_variant_supported(int v)
{
    if (v == FC_GENERIC) return 1;
#if FC_X86
    __builtin_cpu_init();
    if (v == FC_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (v == FC_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

static int fc_best_variant(void)
{
    for (int v = FC_NUM_VARIANTS - 1; v > 0; v--)
        if (fc_variant_supported(v)) return v;
    return FC_GENERIC;
}

#endif
