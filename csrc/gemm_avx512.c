/* The AVX-512F GEMM path: micro-kernels and block sizes for float and double.
 * Compiled for every x86-64 build through target attributes (never -march), and
 * only run when the CPU has AVX-512F (pynn_simd_supported).
 *
 * Tiles: 32 accumulators in registers of 32; float 14 x 32 (28 accumulators),
 * double 14 x 16. Blocks for a core with a 48 KB L1d and a 1 MB L2 (Zen 4/5):
 * a B micro-panel (kc x nr) stays in L1, an A block (mc x kc) in L2.
 * Two shorter tiles serve row counts that 14 divides badly: 8 rows (the "eight"
 * descriptors: 16 accumulators, no padding for a batch of 32 or 128, and as fast
 * per flop as 14 rows on Zen 5) and 11 rows (the "short" ones, as for 21 or 330
 * rows); the driver picks the tile by the row count (gemm_path_for_rows). */
#include "gemm_paths.h"

#if defined(PYNN_HAVE_X86_PATHS)
#include <immintrin.h>

#define KERNEL_TARGET __attribute__((target("avx512f")))
#define KERNEL_NV 2

#define real float
#define vec __m512
#define VLEN 16
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#define KERNEL_MR 14
#define KERNEL_NAME gemm_kernel_avx512_f32
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME
#define KERNEL_MR 11
#define KERNEL_NAME gemm_kernel_avx512_short_f32
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME
#define KERNEL_MR 8
#define KERNEL_NAME gemm_kernel_avx512_eight_f32
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME
#include "gemm_kernel_undef.h"

#define real double
#define vec __m512d
#define VLEN 8
#define V_ZERO() _mm512_setzero_pd()
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd(p, v)
#define V_SET1(x) _mm512_set1_pd(x)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_ADD(a, b) _mm512_add_pd(a, b)
#define V_MAX(a, b) _mm512_max_pd(a, b)
#define KERNEL_MR 14
#define KERNEL_NAME gemm_kernel_avx512_f64
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME
#define KERNEL_MR 11
#define KERNEL_NAME gemm_kernel_avx512_short_f64
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME
#define KERNEL_MR 8
#define KERNEL_NAME gemm_kernel_avx512_eight_f64
#include "gemm_kernel_impl.h"
#undef KERNEL_MR
#undef KERNEL_NAME

#define PACK_ISA avx512
#define PACK_NR_F32 32
#define PACK_NR_F64 16
#include "gemm_pack_bt_impl.h"

/*        kernels       packers  dtype MR  NR  KC   MC      NC   columns per task */
GEMM_PATH(avx512, avx512, f32, 14, 32, 192, 14 * 32, 4096, 64);
GEMM_PATH(avx512, avx512, f64, 14, 16, 192, 14 * 24, 2048, 32);
GEMM_PATH(avx512_short, avx512, f32, 11, 32, 192, 11 * 40, 4096, 64);
GEMM_PATH(avx512_short, avx512, f64, 11, 16, 192, 11 * 30, 2048, 32);
GEMM_PATH(avx512_eight, avx512, f32, 8, 32, 192, 8 * 56, 4096, 64);
GEMM_PATH(avx512_eight, avx512, f64, 8, 16, 192, 8 * 42, 2048, 32);
#endif
