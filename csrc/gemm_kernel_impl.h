/* A register-blocked GEMM micro-kernel (see gemm_paths.h), written once for
 * every vector ISA and dtype. The including file defines:
 *   KERNEL_NAME, KERNEL_TARGET (a function attribute), real, vec, VLEN (reals per
 *   vector), KERNEL_MR, KERNEL_NV (vectors per tile row, so NR = NV * VLEN), and
 *   V_ZERO(), V_LOAD(p), V_STORE(p, v), V_SET1(x), V_FMA(a, b, c) = a*b+c,
 *   V_MUL(a, b), V_ADD(a, b).
 * The MR x NV accumulators are indexed only by constants after unrolling, so
 * the compiler keeps them in vector registers. */

#define KERNEL_NR (KERNEL_NV * VLEN)

KERNEL_TARGET void KERNEL_NAME(int64_t kc, const real *restrict ap, const real *restrict bp,
                               real *restrict c, int64_t ldc, real alpha, real beta) {
    vec acc[KERNEL_MR][KERNEL_NV];
    /* C's tile is read or written only at the end: fetch it meanwhile. */
    _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + KERNEL_NR - 1), _MM_HINT_T0);
    }
    _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
        _Pragma("GCC unroll 4") for (int v = 0; v < KERNEL_NV; v++) acc[i][v] = V_ZERO();
    for (int64_t p = 0; p < kc; p++) {
        vec b[KERNEL_NV];
        _Pragma("GCC unroll 4") for (int v = 0; v < KERNEL_NV; v++)
            b[v] = V_LOAD(bp + v * VLEN);
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) {
            vec a = V_SET1(ap[i]);
            _Pragma("GCC unroll 4") for (int v = 0; v < KERNEL_NV; v++)
                acc[i][v] = V_FMA(a, b[v], acc[i][v]);
        }
        ap += KERNEL_MR;
        bp += KERNEL_NR;
    }
    /* alpha * acc, then + beta * c, rounded as the generic path rounds them. */
    vec va = V_SET1(alpha);
    if (beta == 0) {
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < KERNEL_NV; v++)
                V_STORE(c + i * ldc + v * VLEN, V_MUL(va, acc[i][v]));
    } else {
        vec vb = V_SET1(beta);
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < KERNEL_NV; v++) {
                real *cp = c + i * ldc + v * VLEN;
                V_STORE(cp, V_ADD(V_MUL(va, acc[i][v]), V_MUL(vb, V_LOAD(cp))));
            }
    }
}

#undef KERNEL_NR
