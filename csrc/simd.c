/* Which vector code path the matrix kernels use. There is one today: plain C
 * that the compiler vectorises for the ISA the package is built for (never
 * -march=native). Runtime dispatch to wider paths reports here. */
#include "pynn.h"

const char *pynn_simd_path(void) {
#if defined(__AVX512F__)
    return "portable C, compiled for AVX-512";
#elif defined(__AVX2__)
    return "portable C, compiled for AVX2";
#elif defined(__x86_64__) || defined(_M_X64)
    return "portable C, compiled for x86-64 baseline (SSE2)";
#elif defined(__aarch64__)
    return "portable C, compiled for aarch64 (NEON)";
#else
    return "portable C";
#endif
}
