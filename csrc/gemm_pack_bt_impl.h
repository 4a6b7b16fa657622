/* Packing of B panels for the AVX2 and AVX-512 paths: transposed ones (see
 * gemm_pack_bt_f32 in gemm_paths.h) with 256-bit AVX shuffles, plain ones (see
 * gemm_pack_bn_f32) by whole-vector copies. The including file defines
 * KERNEL_TARGET, the function names PACK_BT_F32 / PACK_BT_F64 / PACK_BN_F32 /
 * PACK_BN_F64 and the panel widths PACK_NR_F32 (a multiple of 8) / PACK_NR_F64
 * (a multiple of 4). */

/* Plain B panels: the width is a constant here, so each row is a few vector
 * copies (the portable loop's variable width becomes a call to memmove per row). */
KERNEL_TARGET static void PACK_BN_F32(float *panel, const float *b, int64_t ldb, int64_t kc) {
    for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < PACK_NR_F32; j += 8)
            _mm256_storeu_ps(panel + p * PACK_NR_F32 + j, _mm256_loadu_ps(b + p * ldb + j));
}

KERNEL_TARGET static void PACK_BN_F64(double *panel, const double *b, int64_t ldb,
                                      int64_t kc) {
    for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < PACK_NR_F64; j += 4)
            _mm256_storeu_pd(panel + p * PACK_NR_F64 + j, _mm256_loadu_pd(b + p * ldb + j));
}

/* Transposed B panels: 8 x 8 (float) or 4 x 4 (double) blocks of b, transposed
 * in registers, so that b is read and the panel written in whole vectors. */
KERNEL_TARGET static void PACK_BT_F32(float *panel, const float *b, int64_t ldb, int64_t kc) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int64_t j0 = 0; j0 < PACK_NR_F32; j0 += 8) {
            __m256 r[8], t[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(b + (j0 + i) * ldb + p);
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
            }
            /* t[0] = 00 10 01 11 | 04 14 05 15, t[1] = 02 12 03 13 | ..., and so on */
            __m256 u[8];
            for (int i = 0; i < 8; i += 4) {
                u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
                u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
                u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            /* u[q] (q < 4) holds column q of rows 0-3 and column q+4 of rows 0-3;
             * u[4 + q] the same for rows 4-7. */
            for (int q = 0; q < 4; q++) {
                _mm256_storeu_ps(panel + (p + q) * PACK_NR_F32 + j0,
                                 _mm256_permute2f128_ps(u[q], u[4 + q], 0x20));
                _mm256_storeu_ps(panel + (p + q + 4) * PACK_NR_F32 + j0,
                                 _mm256_permute2f128_ps(u[q], u[4 + q], 0x31));
            }
        }
    }
    for (; p < kc; p++)
        for (int64_t j = 0; j < PACK_NR_F32; j++)
            panel[p * PACK_NR_F32 + j] = b[j * ldb + p];
}

KERNEL_TARGET static void PACK_BT_F64(double *panel, const double *b, int64_t ldb,
                                      int64_t kc) {
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        for (int64_t j0 = 0; j0 < PACK_NR_F64; j0 += 4) {
            __m256d r0 = _mm256_loadu_pd(b + j0 * ldb + p);
            __m256d r1 = _mm256_loadu_pd(b + (j0 + 1) * ldb + p);
            __m256d r2 = _mm256_loadu_pd(b + (j0 + 2) * ldb + p);
            __m256d r3 = _mm256_loadu_pd(b + (j0 + 3) * ldb + p);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1); /* 00 10 02 12 */
            __m256d t1 = _mm256_unpackhi_pd(r0, r1); /* 01 11 03 13 */
            __m256d t2 = _mm256_unpacklo_pd(r2, r3); /* 20 30 22 32 */
            __m256d t3 = _mm256_unpackhi_pd(r2, r3); /* 21 31 23 33 */
            double *row = panel + p * PACK_NR_F64 + j0;
            _mm256_storeu_pd(row, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(row + PACK_NR_F64, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(row + 2 * PACK_NR_F64, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(row + 3 * PACK_NR_F64, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    for (; p < kc; p++)
        for (int64_t j = 0; j < PACK_NR_F64; j++)
            panel[p * PACK_NR_F64 + j] = b[j * ldb + p];
}
