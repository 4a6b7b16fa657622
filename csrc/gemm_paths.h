/* The GEMM's per-ISA parts (internal, not API): a micro-kernel and the tile
 * and block sizes that go with it, one descriptor per path and dtype.
 *
 * A micro-kernel computes one MR x NR tile of C from an A panel (MR rows, kc
 * deep: packed p-major when lda == 0, or MR rows of a read in place, lda apart)
 * and a B panel (kc deep, NR columns, p-major, its rows ldb apart: NR when
 * packed, or b's own stride when the driver reads b in place):
 *     c = alpha * (A panel x B panel) + beta * c   (beta == 0: c is not read)
 * with c's rows ldc apart. It always writes the whole MR x NR tile; the driver
 * hands it a local tile when only part of the tile is in C or when the dense
 * epilogue must run, and finishes those elements itself. */
#ifndef PYNN_GEMM_PATHS_H
#define PYNN_GEMM_PATHS_H

#include <stdint.h>

/* The largest MR x NR tile of any path, for the driver's local tile. */
#define GEMM_MAX_TILE 512

typedef void (*gemm_kernel_f32)(int64_t kc, const float *ap, int64_t lda, const float *bp,
                                int64_t ldb, float *c, int64_t ldc, float alpha, float beta);
typedef void (*gemm_kernel_f64)(int64_t kc, const double *ap, int64_t lda, const double *bp,
                                int64_t ldb, double *c, int64_t ldc, double alpha, double beta);

/* Optional micro-kernel with the dense layer's store fused (a full tile, no
 * pre-activation output): after alpha and beta as above, c[i][j] += bias[j]
 * (bias NULL: none), then ReLU when relu != 0. NULL: the driver finishes such
 * tiles from a local tile. */
typedef void (*gemm_kernel_bias_act_f32)(int64_t kc, const float *ap, int64_t lda, const float *bp,
                                         int64_t ldb, float *c, int64_t ldc, float alpha,
                                         float beta, const float *bias, int relu);
typedef void (*gemm_kernel_bias_act_f64)(int64_t kc, const double *ap, int64_t lda,
                                         const double *bp, int64_t ldb, double *c, int64_t ldc,
                                         double alpha, double beta, const double *bias, int relu);

/* Optional fast packing of a whole nr-wide B panel when op(B) = b^T: column j of
 * the panel is row j of b (kc contiguous reals, rows ldb apart), stored p-major.
 * NULL: the driver's portable packing. Only called when nr * ldb < 2^31. */
typedef void (*gemm_pack_bt_f32)(float *panel, const float *b, int64_t ldb, int64_t kc);
typedef void (*gemm_pack_bt_f64)(double *panel, const double *b, int64_t ldb, int64_t kc);

/* Optional fast packing of a whole nr-wide B panel when op(B) = b: row p of the
 * panel is nr contiguous reals of row p of b (rows ldb apart). NULL: the
 * driver's portable packing. */
typedef void (*gemm_pack_bn_f32)(float *panel, const float *b, int64_t ldb, int64_t kc);
typedef void (*gemm_pack_bn_f64)(double *panel, const double *b, int64_t ldb, int64_t kc);

/* Optional fast packing of a whole mr-tall A panel when op(A) = a: row i of the
 * panel's p-major layout is element p of row i of a (kc contiguous reals, rows
 * lda apart); mr is the panel's height and the stride of its p steps. */
typedef void (*gemm_pack_an_f32)(float *panel, const float *a, int64_t lda, int64_t kc,
                                 int64_t mr);
typedef void (*gemm_pack_an_f64)(double *panel, const double *a, int64_t lda, int64_t kc,
                                 int64_t mr);

/* mc is a multiple of mr; kc is the depth of one packed step; nc the width of
 * one packed B block; jw the columns of C one parallel task covers (a multiple
 * of nr). */
typedef struct {
    int64_t mr, nr, kc, mc, nc, jw;
    gemm_kernel_f32 kernel;
    gemm_pack_bt_f32 pack_bt;
    gemm_pack_bn_f32 pack_bn;
    gemm_pack_an_f32 pack_an;
    gemm_kernel_bias_act_f32 kernel_bias_act;
    gemm_kernel_f32 kernel_half;                  /* the left nr / 2 columns; or NULL */
    gemm_kernel_bias_act_f32 kernel_half_bias_act; /* likewise */
} gemm_path_f32;

typedef struct {
    int64_t mr, nr, kc, mc, nc, jw;
    gemm_kernel_f64 kernel;
    gemm_pack_bt_f64 pack_bt;
    gemm_pack_bn_f64 pack_bn;
    gemm_pack_an_f64 pack_an;
    gemm_kernel_bias_act_f64 kernel_bias_act;
    gemm_kernel_f64 kernel_half;
    gemm_kernel_bias_act_f64 kernel_half_bias_act;
} gemm_path_f64;

/* Defines the descriptor gemm_path_<name>_<t> (t: f32 or f64) of a path whose file
 * stamped the kernels gemm_kernel_<name>_<t>[_half][_bias_act] and
 * the packers gemm_pack_{bt,bn,an}_<isa>_<t>, with its block sizes. */
#define GEMM_PATH(name, isa, t, mr, nr, kc, mc, nc, jw)                                \
    const gemm_path_##t gemm_path_##name##_##t = {mr,                                  \
                                                  nr,                                  \
                                                  kc,                                  \
                                                  mc,                                  \
                                                  nc,                                  \
                                                  jw,                                  \
                                                  gemm_kernel_##name##_##t,            \
                                                  gemm_pack_bt_##isa##_##t,            \
                                                  gemm_pack_bn_##isa##_##t,            \
                                                  gemm_pack_an_##isa##_##t,            \
                                                  gemm_kernel_##name##_##t##_bias_act, \
                                                  gemm_kernel_##name##_##t##_half,     \
                                                  gemm_kernel_##name##_##t##_half_bias_act}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PYNN_HAVE_X86_PATHS 1
extern const gemm_path_f32 gemm_path_avx2_f32;
extern const gemm_path_f64 gemm_path_avx2_f64;
extern const gemm_path_f32 gemm_path_avx512_f32;
extern const gemm_path_f64 gemm_path_avx512_f64;
extern const gemm_path_f32 gemm_path_avx512_short_f32;
extern const gemm_path_f64 gemm_path_avx512_short_f64;
extern const gemm_path_f32 gemm_path_avx512_eight_f32;
extern const gemm_path_f64 gemm_path_avx512_eight_f64;
#endif

#endif /* PYNN_GEMM_PATHS_H */
