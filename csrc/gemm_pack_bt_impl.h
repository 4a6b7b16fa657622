/* Packing for the AVX2 and AVX-512 paths: transposed B panels (see
 * gemm_pack_bt_f32 in gemm_paths.h) and plain A panels (gemm_pack_an_f32) with
 * 256-bit AVX shuffles, plain B panels (gemm_pack_bn_f32) by whole-vector copies.
 * The including file defines KERNEL_TARGET, the path's name PACK_ISA (avx2 or
 * avx512: the functions are gemm_pack_bt_<PACK_ISA>_f32 and so on) and the panel
 * widths PACK_NR_F32 (a multiple of 8) / PACK_NR_F64 (a multiple of 4). */

#define PACK_NAME_(kind, isa, t) kind##_##isa##_##t
#define PACK_NAME(kind, isa, t) PACK_NAME_(kind, isa, t)
#define PACK_BT_F32 PACK_NAME(gemm_pack_bt, PACK_ISA, f32)
#define PACK_BT_F64 PACK_NAME(gemm_pack_bt, PACK_ISA, f64)
#define PACK_BN_F32 PACK_NAME(gemm_pack_bn, PACK_ISA, f32)
#define PACK_BN_F64 PACK_NAME(gemm_pack_bn, PACK_ISA, f64)
#define PACK_AN_F32 PACK_NAME(gemm_pack_an, PACK_ISA, f32)
#define PACK_AN_F64 PACK_NAME(gemm_pack_an, PACK_ISA, f64)
#define TRANSPOSE8_F32 PACK_NAME(gemm_transpose8, PACK_ISA, f32)
#define TRANSPOSE4_F64 PACK_NAME(gemm_transpose4, PACK_ISA, f64)

/* Plain B panels: the width is a constant here, so each row is a few vector
 * copies (the portable loop's variable width becomes a call to memmove per row). */
KERNEL_TARGET static void PACK_BN_F32(float *panel, const float *b, int64_t ldb, int64_t kc) {
    for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < PACK_NR_F32; j += 8)
            _mm256_storeu_ps(panel + p * PACK_NR_F32 + j, _mm256_loadu_ps(b + p * ldb + j));
}

KERNEL_TARGET static void PACK_BN_F64(double *panel, const double *b, int64_t ldb, int64_t kc) {
    for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < PACK_NR_F64; j += 4)
            _mm256_storeu_pd(panel + p * PACK_NR_F64 + j, _mm256_loadu_pd(b + p * ldb + j));
}

/* Transposed B panels: 8 x 8 (float) or 4 x 4 (double) blocks of b, transposed
 * in registers, so that b is read and the panel written in whole vectors. */
/* dst[q][i] = src[i][q] for an 8 x 8 block (src rows src_ld apart, dst rows
 * dst_ld apart), transposed in registers. */
KERNEL_TARGET static inline void TRANSPOSE8_F32(float *dst, int64_t dst_ld, const float *src,
                                                int64_t src_ld) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * src_ld);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    /* t[0] = 00 10 01 11 | 04 14 05 15, t[1] = 02 12 03 13 | ..., and so on */
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    /* u[q] (q < 4) holds column q of rows 0-3 and column q+4 of rows 0-3;
     * u[4 + q] the same for rows 4-7. */
    for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(dst + q * dst_ld, _mm256_permute2f128_ps(u[q], u[4 + q], 0x20));
        _mm256_storeu_ps(dst + (q + 4) * dst_ld, _mm256_permute2f128_ps(u[q], u[4 + q], 0x31));
    }
}

KERNEL_TARGET static void PACK_BT_F32(float *panel, const float *b, int64_t ldb, int64_t kc) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8)
        for (int64_t j0 = 0; j0 < PACK_NR_F32; j0 += 8)
            TRANSPOSE8_F32(panel + p * PACK_NR_F32 + j0, PACK_NR_F32, b + j0 * ldb + p, ldb);
    for (; p < kc; p++)
        for (int64_t j = 0; j < PACK_NR_F32; j++) panel[p * PACK_NR_F32 + j] = b[j * ldb + p];
}

/* Plain A panels (see gemm_pack_an_f32): 8-row slices by 8 x 8 transposes, the
 * rows past the last multiple of 8 one by one. */
KERNEL_TARGET static void PACK_AN_F32(float *panel, const float *a, int64_t lda, int64_t kc,
                                      int64_t mr) {
    int64_t i0 = 0;
    for (; i0 + 8 <= mr; i0 += 8) {
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) TRANSPOSE8_F32(panel + p * mr + i0, mr, a + i0 * lda + p, lda);
        for (; p < kc; p++)
            for (int64_t i = i0; i < i0 + 8; i++) panel[p * mr + i] = a[i * lda + p];
    }
    for (; i0 < mr; i0++)
        for (int64_t p = 0; p < kc; p++) panel[p * mr + i0] = a[i0 * lda + p];
}

/* The double 4 x 4 block transpose, as TRANSPOSE8_F32. */
KERNEL_TARGET static inline void TRANSPOSE4_F64(double *dst, int64_t dst_ld, const double *src,
                                                int64_t src_ld) {
    __m256d r0 = _mm256_loadu_pd(src);
    __m256d r1 = _mm256_loadu_pd(src + src_ld);
    __m256d r2 = _mm256_loadu_pd(src + 2 * src_ld);
    __m256d r3 = _mm256_loadu_pd(src + 3 * src_ld);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1); /* 00 10 02 12 */
    __m256d t1 = _mm256_unpackhi_pd(r0, r1); /* 01 11 03 13 */
    __m256d t2 = _mm256_unpacklo_pd(r2, r3); /* 20 30 22 32 */
    __m256d t3 = _mm256_unpackhi_pd(r2, r3); /* 21 31 23 33 */
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + dst_ld, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * dst_ld, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * dst_ld, _mm256_permute2f128_pd(t1, t3, 0x31));
}

KERNEL_TARGET static void PACK_BT_F64(double *panel, const double *b, int64_t ldb, int64_t kc) {
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4)
        for (int64_t j0 = 0; j0 < PACK_NR_F64; j0 += 4)
            TRANSPOSE4_F64(panel + p * PACK_NR_F64 + j0, PACK_NR_F64, b + j0 * ldb + p, ldb);
    for (; p < kc; p++)
        for (int64_t j = 0; j < PACK_NR_F64; j++) panel[p * PACK_NR_F64 + j] = b[j * ldb + p];
}

KERNEL_TARGET static void PACK_AN_F64(double *panel, const double *a, int64_t lda, int64_t kc,
                                      int64_t mr) {
    int64_t i0 = 0;
    for (; i0 + 4 <= mr; i0 += 4) {
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4) TRANSPOSE4_F64(panel + p * mr + i0, mr, a + i0 * lda + p, lda);
        for (; p < kc; p++)
            for (int64_t i = i0; i < i0 + 4; i++) panel[p * mr + i] = a[i * lda + p];
    }
    for (; i0 < mr; i0++)
        for (int64_t p = 0; p < kc; p++) panel[p * mr + i0] = a[i0 * lda + p];
}

#undef PACK_NAME_
#undef PACK_NAME
#undef PACK_BT_F32
#undef PACK_BT_F64
#undef PACK_BN_F32
#undef PACK_BN_F64
#undef PACK_AN_F32
#undef PACK_AN_F64
#undef TRANSPOSE8_F32
#undef TRANSPOSE4_F64
