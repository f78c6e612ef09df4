/* The drivers' restrict-qualified channel loops (channel_loops_tpl.h), float and double. */
#ifndef FASTCONV_CHANNEL_LOOPS_H
#define FASTCONV_CHANNEL_LOOPS_H

#define FC_CAT_(a, b) a##b
#define FC_CAT(a, b) FC_CAT_(a, b)

#define CL_T float
#define CL_IT int
#define CL_SFX f32
#include "channel_loops_tpl.h"
#undef CL_T
#undef CL_IT
#undef CL_SFX

#define CL_T double
#define CL_IT long long
#define CL_SFX f64
#include "channel_loops_tpl.h"
#undef CL_T
#undef CL_IT
#undef CL_SFX

#endif
