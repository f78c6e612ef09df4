/* 64-byte aligned allocation for the kernels' workspaces (whole cache lines; aligned
 * vector loads of packed panels). In C because the call differs by platform
 * (posix_memalign; _aligned_malloc and its own free on Windows) and only the
 * preprocessor can choose. */
#ifndef FASTCONV_ALIGNED_ALLOC_H
#define FASTCONV_ALIGNED_ALLOC_H

#include <stdlib.h>

#ifdef _WIN32
#include <malloc.h>
static void *fc_alloc(size_t bytes) { return _aligned_malloc(bytes ? bytes : 64, 64); }
static void fc_free(void *p) { _aligned_free(p); }
#else
static void *fc_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
    return p;
}
static void fc_free(void *p) { free(p); }
#endif

#endif
