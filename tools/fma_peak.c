/* What one core of this machine can do: a loop of nothing but independent fp32 FMAs in
 * vector registers (no memory traffic), in GFLOP/s. The practical
 * ceiling for the micro-kernel, as opposed to the nominal peak from the data sheet.
 *
 *     gcc -O3 tools/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * Uses AVX-512 when the CPU has it, else AVX2+FMA (chosen at run time).
 */
#include <stdio.h>
#include <time.h>

#define ITERATIONS 50000000L

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define FMA_LOOP(NAME, TARGET, BYTES, ACCUMULATORS)                                     \
    TARGET static double NAME(void)                                                     \
    {                                                                                   \
        typedef float vec __attribute__((vector_size(BYTES)));                        \
        vec acc[ACCUMULATORS], x = {1.0f}, y = {0.999999f};                              \
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = (vec){(float)i};                 \
        double start = seconds();                                                       \
        for (long it = 0; it < ITERATIONS; it++) {                                      \
            _Pragma("GCC unroll 32") for (int i = 0; i < ACCUMULATORS; i++)            \
                acc[i] = acc[i] * y + x;                                               \
            __asm__ volatile("" : "+x"(y)); /* keep y opaque: no folding */             \
        }                                                                               \
        double elapsed = seconds() - start;                                             \
        float sink = 0;                                                                 \
        for (int i = 0; i < ACCUMULATORS; i++) sink += acc[i][0];                       \
        if (sink == 0.123f) puts("");                                                   \
        return 2.0 * (BYTES / 4) * ACCUMULATORS * ITERATIONS / elapsed / 1e9;          \
    }

/* Accumulators: enough independent chains to cover the FMA latency, few enough to stay
 * in the 32 zmm / 16 ymm registers. */
FMA_LOOP(avx512_gflops, __attribute__((target("avx512f"))), 64, 24)
FMA_LOOP(avx2_gflops, __attribute__((target("avx2,fma"))), 32, 12)

int main(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        printf("AVX-512 FMA loop, one core: %.1f GFLOP/s\n", avx512_gflops());
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        printf("AVX2 FMA loop, one core: %.1f GFLOP/s\n", avx2_gflops());
    return 0;
}
