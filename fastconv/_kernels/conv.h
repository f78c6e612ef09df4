/* conv2d kernels for float and double: the entry points that _conv.pyx declares.
 * Callers (fastconv.ops) guarantee valid shapes, C-contiguous non-aliasing buffers of one
 * dtype, and output sizes > 0. Return 0 on success, -1 if a workspace could not be
 * allocated. The micro-kernel variant is chosen once at import (fc_set_variant). */
#ifndef FASTCONV_CONV_H
#define FASTCONV_CONV_H

#include <stdlib.h>
#include <string.h>

#include "microkernels.h"

/* Pixels per backward-weights block: its packed dy (block x NR) stays in L2. */
#define FC_DW_BLOCK_PIXELS 512
/* The dw reduction uses at most this many row groups (enough for 16 threads), and at
 * most FC_DW_PARTIAL_BUDGET elements of partial sums (16 MiB of float32). */
#define FC_DW_MAX_GROUPS 16
#define FC_DW_PARTIAL_BUDGET (1L << 22)

static int fc_variant_index = -1;

static const fc_variant *fc_active_variant(void)
{
    if (fc_variant_index < 0) fc_variant_index = fc_best_variant();
    return &fc_variants[fc_variant_index];
}

/* Make variant v the one every later call uses; -1 if this CPU cannot run it. */
static int fc_set_variant(int v)
{
    if (v < 0 || v >= FC_NUM_VARIANTS || !fc_variant_supported(v)) return -1;
    fc_variant_index = v;
    return 0;
}

static const char *fc_variant_name(int v) { return fc_variants[v].name; }

static int fc_active_variant_index(void) { return (int)(fc_active_variant() - fc_variants); }

/* 64-byte aligned: whole cache lines, and aligned vector loads of packed panels. */
static void *fc_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
    return p;
}

/* Number of row groups of the dw reduction: a function of the shapes only (never of the
 * thread count), so the order of additions, and the result, is fixed. */
static long fc_dw_groups(long rows, long dw_len)
{
    long g = FC_DW_MAX_GROUPS;
    if (g > rows) g = rows;
    if (g > FC_DW_PARTIAL_BUDGET / dw_len) g = FC_DW_PARTIAL_BUDGET / dw_len;
    return g > 0 ? g : 1;
}

#define FC_T float
#define FC_SFX f32
#define FC_MR(v) ((v)->mr_f32)
#define FC_NR(v) ((v)->nr_f32)
#define FC_UKR(v) ((v)->ukr_f32)
#include "conv_impl.h"
#undef FC_T
#undef FC_SFX
#undef FC_MR
#undef FC_NR
#undef FC_UKR

#define FC_T double
#define FC_SFX f64
#define FC_MR(v) ((v)->mr_f64)
#define FC_NR(v) ((v)->nr_f64)
#define FC_UKR(v) ((v)->ukr_f64)
#include "conv_impl.h"
#undef FC_T
#undef FC_SFX
#undef FC_MR
#undef FC_NR
#undef FC_UKR

#endif
