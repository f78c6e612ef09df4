/* Pooling kernels for float and double: the entry points that _pool.pyx declares.
 * Return 0 on success, -1 if a per-thread scratch buffer could not be allocated. */
#ifndef FASTCONV_POOL_H
#define FASTCONV_POOL_H

#include <stdlib.h>
#include <string.h>

#define FC_CAT_(a, b) a##b
#define FC_CAT(a, b) FC_CAT_(a, b)

/* Mode codes shared with fastconv.ops.POOL_MODE_CODES. */
enum { FC_POOL_MAX = 0, FC_POOL_MIN = 1, FC_POOL_AVG = 2 };

static inline long fc_max(long a, long b) { return a > b ? a : b; }
static inline long fc_min(long a, long b) { return a < b ? a : b; }

#define FC_T float
#define FC_SFX f32
#include "pool_impl.h"
#undef FC_T
#undef FC_SFX

#define FC_T double
#define FC_SFX f64
#include "pool_impl.h"
#undef FC_T
#undef FC_SFX

#endif
