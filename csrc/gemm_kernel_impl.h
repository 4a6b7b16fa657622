/* A register-blocked GEMM micro-kernel (see gemm_paths.h), written once for
 * every vector ISA and dtype. The including file defines:
 *   KERNEL_NAME, KERNEL_TARGET (a function attribute), real, vec, VLEN (reals per
 *   vector), KERNEL_MR, KERNEL_NV (vectors per tile row, so NR = NV * VLEN), and
 *   V_ZERO(), V_LOAD(p), V_STORE(p, v), V_SET1(x), V_FMA(a, b, c) = a*b+c,
 *   V_MUL(a, b), V_ADD(a, b), V_MAX(a, b) (b when either is NaN or both are zero).
 * (gemm_kernel_undef.h undefines the dtype's ones, real to V_MAX, for the next dtype.)
 * It defines KERNEL_NAME and KERNEL_NAME##_bias_act (see gemm_paths.h), and the
 * same on half the tile's width, KERNEL_NAME##_half and KERNEL_NAME##_half_bias_act
 * (KERNEL_NV is even).
 * The MR x NV accumulators are indexed only by constants after unrolling, so
 * the compiler keeps them in vector registers. */

#define KERNEL_NR (KERNEL_NV * VLEN)
#define KERNEL_PASTE_(a, b) a##b
#define KERNEL_PASTE(a, b) KERNEL_PASTE_(a, b)
#define KERNEL_BODY KERNEL_PASTE(KERNEL_NAME, _body)
#define KERNEL_ACCUMULATE KERNEL_PASTE(KERNEL_NAME, _accumulate)
#define KERNEL_STORE KERNEL_PASTE(KERNEL_NAME, _store)
#define KERNEL_STORE_EPILOGUE KERNEL_PASTE(KERNEL_NAME, _store_epilogue)

/* acc += A's kc columns times B's kc rows. A is packed (lda == 0: element (i, p)
 * at ap[p * MR + i]) or read in place (at ap[i * lda + p]); the same multiply-adds
 * in the same order either way. */
KERNEL_TARGET static inline __attribute__((always_inline)) void KERNEL_ACCUMULATE(
    vec acc[KERNEL_MR][KERNEL_NV], int64_t kc, const real *restrict ap, int64_t lda,
    const real *restrict bp, int64_t ldb, int nv) {
    if (lda == 0) {
        for (int64_t p = 0; p < kc; p++) {
            vec b[KERNEL_NV];
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) b[v] = V_LOAD(bp + v * VLEN);
            _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) {
                vec a = V_SET1(ap[i]);
                _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] =
                    V_FMA(a, b[v], acc[i][v]);
            }
            ap += KERNEL_MR;
            bp += ldb;
        }
    } else {
        for (int64_t p = 0; p < kc; p++) {
            vec b[KERNEL_NV];
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) b[v] = V_LOAD(bp + v * VLEN);
            _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) {
                vec a = V_SET1(ap[i * lda]);
                _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] =
                    V_FMA(a, b[v], acc[i][v]);
            }
            ap += 1;
            bp += ldb;
        }
    }
}

/* C's tile = alpha * acc (+ beta * C), va = alpha in every lane: no epilogue. */
KERNEL_TARGET static inline __attribute__((always_inline)) void KERNEL_STORE(
    vec acc[KERNEL_MR][KERNEL_NV], real *restrict c, int64_t ldc, vec va, real alpha, real beta,
    int nv) {
    /* alpha == 1 (every dense layer product): the products are exact already,
     * and small-k tiles feel the multiplies. */
    if (beta == 0 && alpha == 1) {
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
                V_STORE(c + i * ldc + v * VLEN, acc[i][v]);
    } else if (beta == 0) {
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
                V_STORE(c + i * ldc + v * VLEN, V_MUL(va, acc[i][v]));
    } else {
        vec vb = V_SET1(beta);
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) {
            real *cp = c + i * ldc + v * VLEN;
            V_STORE(cp, V_ADD(V_MUL(va, acc[i][v]), V_MUL(vb, V_LOAD(cp))));
        }
    }
}

/* The same, then the epilogue in the order gemm_tile applies it: add bias[j]
 * (NULL: none) to column j, then ReLU when relu is set. */
KERNEL_TARGET static inline __attribute__((always_inline)) void KERNEL_STORE_EPILOGUE(
    vec acc[KERNEL_MR][KERNEL_NV], real *restrict c, int64_t ldc, vec va, real alpha, real beta,
    const real *restrict bias, int relu, int nv) {
    if (alpha != 1)
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] = V_MUL(va, acc[i][v]);
    if (beta != 0) {
        vec vb = V_SET1(beta);
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] =
                V_ADD(acc[i][v], V_MUL(vb, V_LOAD(c + i * ldc + v * VLEN)));
    }
    if (bias) {
        _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) {
            vec bv = V_LOAD(bias + v * VLEN);
            _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) acc[i][v] =
                V_ADD(acc[i][v], bv);
        }
    }
    /* max(0, z) keeps z when z is NaN or -0, as z < 0 ? 0 : z does. */
    if (relu)
        _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
            _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] =
                V_MAX(V_ZERO(), acc[i][v]);
    _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
        _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
            V_STORE(c + i * ldc + v * VLEN, acc[i][v]);
}

/* The kernel with the dense layer's epilogue as an option: after alpha and
 * beta, add bias[j] (NULL: none) to column j, then ReLU when relu is set. The
 * plain kernel and the fused one inline it with constant options. */
KERNEL_TARGET static inline __attribute__((always_inline)) void KERNEL_BODY(
    int64_t kc, const real *restrict ap, int64_t lda, const real *restrict bp, int64_t ldb,
    real *restrict c, int64_t ldc, real alpha, real beta, const real *restrict bias, int relu,
    int nv) {
    vec acc[KERNEL_MR][KERNEL_NV];
    /* C's tile is read or written only at the end: fetch it meanwhile. */
    _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + nv * VLEN - 1), _MM_HINT_T0);
    }
    /* Forget the row addresses just computed, so that the compiler does not keep
     * KERNEL_MR of them in registers through the loop (spilling accumulators). */
    __asm__("" : "+r"(c));
    _Pragma("GCC unroll 16") for (int i = 0; i < KERNEL_MR; i++)
        _Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) acc[i][v] = V_ZERO();
    KERNEL_ACCUMULATE(acc, kc, ap, lda, bp, ldb, nv);
    /* alpha * acc, then + beta * c, rounded as the generic path rounds them. */
    vec va = V_SET1(alpha);
    if (!bias && !relu) {
        KERNEL_STORE(acc, c, ldc, va, alpha, beta, nv);
        return;
    }
    KERNEL_STORE_EPILOGUE(acc, c, ldc, va, alpha, beta, bias, relu, nv);
}

KERNEL_TARGET void KERNEL_NAME(int64_t kc, const real *restrict ap, int64_t lda,
                               const real *restrict bp, int64_t ldb, real *restrict c, int64_t ldc,
                               real alpha, real beta) {
    KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, NULL, 0, KERNEL_NV);
}

KERNEL_TARGET void KERNEL_PASTE(KERNEL_NAME, _bias_act)(int64_t kc, const real *restrict ap,
                                                        int64_t lda, const real *restrict bp,
                                                        int64_t ldb, real *restrict c, int64_t ldc,
                                                        real alpha, real beta,
                                                        const real *restrict bias, int relu) {
    if (relu)
        KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, bias, 1, KERNEL_NV);
    else
        KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, bias, 0, KERNEL_NV);
}

/* The same on the tile's left half (NR / 2 columns): a column edge of that width
 * costs half a tile instead of a whole one (a layer of 784 inputs: 24.5 tiles). */
KERNEL_TARGET void KERNEL_PASTE(KERNEL_NAME, _half)(int64_t kc, const real *restrict ap,
                                                    int64_t lda, const real *restrict bp,
                                                    int64_t ldb, real *restrict c, int64_t ldc,
                                                    real alpha, real beta) {
    KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, NULL, 0, KERNEL_NV / 2);
}

KERNEL_TARGET void KERNEL_PASTE(KERNEL_NAME, _half_bias_act)(int64_t kc, const real *restrict ap,
                                                             int64_t lda, const real *restrict bp,
                                                             int64_t ldb, real *restrict c,
                                                             int64_t ldc, real alpha, real beta,
                                                             const real *restrict bias, int relu) {
    if (relu)
        KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, bias, 1, KERNEL_NV / 2);
    else
        KERNEL_BODY(kc, ap, lda, bp, ldb, c, ldc, alpha, beta, bias, 0, KERNEL_NV / 2);
}

#undef KERNEL_NR
#undef KERNEL_BODY
#undef KERNEL_ACCUMULATE
#undef KERNEL_STORE
#undef KERNEL_STORE_EPILOGUE
#undef KERNEL_PASTE
#undef KERNEL_PASTE_
