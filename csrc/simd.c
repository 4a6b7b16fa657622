/* Which vector code paths the matrix kernels can run here. The choice itself
 * is the caller's (pynn/_kernels.pyx holds it and passes it to each kernel);
 * this file only says what the build and the CPU support. */
#include "pynn.h"

#include "gemm_paths.h"

int pynn_simd_supported(int simd) {
    if (simd == PYNN_SIMD_GENERIC) return 1;
#if defined(PYNN_HAVE_X86_PATHS)
    __builtin_cpu_init();
    if (simd == PYNN_SIMD_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (simd == PYNN_SIMD_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

int pynn_simd_best(void) {
    for (int simd = PYNN_N_SIMD - 1; simd > 0; simd--)
        if (pynn_simd_supported(simd)) return simd;
    return PYNN_SIMD_GENERIC;
}

const char *pynn_simd_describe(int simd) {
    switch (simd) {
    case PYNN_SIMD_AVX512:
        return "AVX-512F micro-kernels (float 14x32, double 14x16; 11- and 8-row tiles for some "
               "row counts)";
    case PYNN_SIMD_AVX2:
        return "AVX2+FMA micro-kernels (float 6x16, double 6x8)";
    default:
#if defined(__aarch64__)
        return "portable C micro-kernels, compiled for aarch64 (NEON)";
#else
        return "portable C micro-kernels, compiled for the baseline ISA";
#endif
    }
}
