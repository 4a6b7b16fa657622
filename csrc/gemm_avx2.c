/* The AVX2 + FMA GEMM path: micro-kernels and block sizes for float and double.
 * Compiled for every x86-64 build through target attributes (never -march), and
 * only run when the CPU has AVX2 and FMA (pynn_simd_supported).
 *
 * Tiles: 16 registers; float 6 x 16 and double 6 x 8 (12 accumulators, two B
 * vectors, one broadcast). A B micro-panel (kc x nr) stays in L1, an A block
 * (mc x kc) in L2. */
#include "gemm_paths.h"

#if defined(PYNN_HAVE_X86_PATHS)
#include <immintrin.h>

#define KERNEL_TARGET __attribute__((target("avx2,fma")))
#define KERNEL_MR 6
#define KERNEL_NV 2

#define real float
#define vec __m256
#define VLEN 8
#define KERNEL_NAME gemm_kernel_avx2_f32
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MAX(a, b) _mm256_max_ps(a, b)
#include "gemm_kernel_impl.h"
#undef KERNEL_NAME
#include "gemm_kernel_undef.h"

#define real double
#define vec __m256d
#define VLEN 4
#define KERNEL_NAME gemm_kernel_avx2_f64
#define V_ZERO() _mm256_setzero_pd()
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_STORE(p, v) _mm256_storeu_pd(p, v)
#define V_SET1(x) _mm256_set1_pd(x)
#define V_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm256_mul_pd(a, b)
#define V_ADD(a, b) _mm256_add_pd(a, b)
#define V_MAX(a, b) _mm256_max_pd(a, b)
#include "gemm_kernel_impl.h"

#define PACK_ISA avx2
#define PACK_NR_F32 16
#define PACK_NR_F64 8
#include "gemm_pack_bt_impl.h"

/*        kernels       packers  dtype MR  NR  KC   MC      NC   columns per task */
GEMM_PATH(avx2, avx2, f32, 6, 16, 256, 6 * 32, 4096, 128);
GEMM_PATH(avx2, avx2, f64, 6, 8, 256, 6 * 16, 2048, 64);
#endif
