/* How the kernels use threads (included by kernels_f32.c and kernels_f64.c).
 *
 * Entering a parallel region costs about half a microsecond even when its if()
 * clause is false, which matters for small layers; so each kernel tests
 * PYNN_USE_THREADS and runs its serial loop directly when it fails, and the
 * pragmas need no if(). `work` is elements times a rough per-element cost (1 for
 * a copy, a multiply-add for GEMM); below PYNN_PARALLEL_MIN_WORK one thread is
 * faster.
 * The pragmas are macros because a bare #pragma omp warns (-Wunknown-pragmas)
 * when built without OpenMP; then they expand to nothing and loops are serial.
 * Element-wise kernels hand threads blocks of PYNN_BLOCK elements. */
#ifndef PYNN_PARALLEL_H
#define PYNN_PARALLEL_H

#define PYNN_PARALLEL_MIN_WORK 32768
#define PYNN_USE_THREADS(work, nthreads) ((nthreads) > 1 && (work) > PYNN_PARALLEL_MIN_WORK)
#define PYNN_BLOCK 4096

#ifdef _OPENMP
#include <omp.h>
#define PYNN_PRAGMA(text) _Pragma(#text)
/* A parallel loop. */
#define PYNN_OMP_FOR(nthreads) \
    PYNN_PRAGMA(omp parallel for num_threads(nthreads) schedule(static))
/* A parallel region, and a loop shared among its threads (or, called outside
 * any region, run by the calling thread alone). */
#define PYNN_OMP_PARALLEL(nthreads) PYNN_PRAGMA(omp parallel num_threads(nthreads))
#define PYNN_OMP_SHARED_FOR PYNN_PRAGMA(omp for schedule(static))
#define PYNN_THREAD_ID() omp_get_thread_num()
#else
#define PYNN_OMP_FOR(nthreads)
#define PYNN_OMP_PARALLEL(nthreads)
#define PYNN_OMP_SHARED_FOR
#define PYNN_THREAD_ID() 0
#endif

#endif /* PYNN_PARALLEL_H */
