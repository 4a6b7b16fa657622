/* How the kernels use threads (included by kernels_f32.c, kernels_f64.c and
 * threadpool.c).
 *
 * A kernel whose work is large enough (PYNN_USE_THREADS) hands its loop to
 * pynn_parallel_for as a range function over independent items; otherwise it
 * runs the range function over all items itself, with no call into the pool.
 * `work` is elements times a rough per-element cost (1 for a copy, a
 * multiply-add over 8 for GEMM); PYNN_PARALLEL_MIN_WORK is where a second
 * thread starts to pay on this machine kind (benchmarks/README.md, "Grain").
 * Element-wise kernels hand out blocks of PYNN_BLOCK elements. */
#ifndef PYNN_PARALLEL_H
#define PYNN_PARALLEL_H

#include <stdint.h>

#define PYNN_PARALLEL_MIN_WORK 32768
#define PYNN_USE_THREADS(work, nthreads) ((nthreads) > 1 && (work) > PYNN_PARALLEL_MIN_WORK)
#define PYNN_BLOCK 4096

/* The most threads one call may use (the caller and PYNN_MAX_THREADS - 1
 * workers); kernels size per-thread state by it. */
#define PYNN_MAX_THREADS 256

/* Items [lo, hi) of a parallel loop, run by the thread numbered `slot`
 * (0 <= slot < the call's nthreads: an index into per-thread workspace). It
 * must give the same results for any split of the items into ranges. */
typedef void (*pynn_range_fn)(void *job, int64_t lo, int64_t hi, int slot);

/* Runs fn over items [0, n) in ranges of `chunk` items (the last may be
 * shorter) on up to nthreads threads: the caller, which starts at once, and
 * the pool's workers, which join as they arrive. Returns when every range is
 * done. The caller never waits for a worker that has not started a range (a
 * sleeping, late or preempted worker), only for ranges in progress; when one
 * of those keeps it waiting longer than its own share took (another process
 * holds that worker's core), calls run on the caller alone for a while. With
 * nthreads <= 1, or while another thread's call holds the pool, the caller runs
 * fn(job, 0, n, 0) itself. */
void pynn_parallel_for(int nthreads, int64_t n, int64_t chunk, pynn_range_fn fn, void *job);

#endif /* PYNN_PARALLEL_H */
