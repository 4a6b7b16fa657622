/* pynn's thread pool, behind pynn_parallel_for (parallel.h) and the thread
 * functions of pynn.h. It is the one piece of process-wide state in csrc/, as
 * an OpenMP runtime's pool would be; the kernels keep none.
 *
 * Why not OpenMP (benchmarks/README.md, "Threads"): a parallel region waits at
 * its end for every thread of its team, so one thread that another process
 * has taken the core from, or that an idle machine is slow to wake, stalls the
 * call (libgomp's spinning makes it worse); libgomp's pool hangs a child
 * forked after it ran; and a failed thread creation exits the process.
 *
 * Here the caller runs ranges at once and workers join as they arrive. Each
 * thread of a call has an equal share of the ranges, the same share in every
 * call of the same size (so its caches keep what it worked on last time), and
 * claims them one at a time from its share's counter; a thread whose share is
 * done takes ranges from the others' shares. So the caller waits only for
 * ranges a worker has started. A call takes no more threads than the CPUs that
 * other processes' runnable threads leave free (free_cpus). When ranges in
 * progress still keep the caller waiting longer than its own share took, three
 * times in short order, a worker was not running (another process has its
 * core): calls then run on the caller alone for a while, 10 ms at first,
 * doubling each time it happens again, and the back-off shrinks once calls run
 * clean again. Which thread runs a range never changes a result.
 *
 * One call owns the pool at a time; a call from another thread meanwhile runs
 * on its caller alone. After fork the child has no workers (they are not
 * copied) and starts new ones when a call needs them. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "pynn.h"

#include "parallel.h"

#if defined(_WIN32) || defined(PYNN_NO_THREADS)

void pynn_parallel_for(int nthreads, int64_t n, int64_t chunk, pynn_range_fn fn, void *job) {
    (void)nthreads;
    (void)chunk;
    if (n > 0) fn(job, 0, n, 0);
}

int pynn_threads_start(int nthreads) {
    (void)nthreads;
    return 1;
}

int pynn_usable_cpus(void) { return 1; }

int pynn_threads_enabled(void) { return 0; }

#else

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() ((void)0)
#endif

/* A worker spins this long for the next call before it sleeps: calls within a
 * training step come microseconds apart, so it stays awake through a step.
 * Spinning yields the core (sched_yield) after its first SPIN_PAUSES checks, so a
 * spinning thread that shares a core with the caller (the other one taken by
 * another process) does not slow it down. */
#define WORKER_SPIN_SECONDS 100e-6
/* The caller spins this long for ranges in progress before it sleeps (which
 * frees its core for a preempted worker to move to). */
#define CALLER_SPIN_SECONDS 50e-6
#define SPIN_PAUSES 256
/* A wait shorter than this is never taken for a preempted worker; and one such
 * wait is chance (a host's hiccup): the back-off starts at the STRAGGLER_STREAK-th
 * within STRAGGLER_WINDOW parallel calls of the one before. */
#define STRAGGLER_MIN_SECONDS 100e-6
#define STRAGGLER_STREAK 3
#define STRAGGLER_WINDOW 256
/* Back-off after the first straggler, doubled up to BACKOFF_MAX_LEVEL times. */
#define BACKOFF_BASE_SECONDS 5e-3
#define BACKOFF_MAX_LEVEL 8
/* Clean parallel calls after which the back-off level drops by one. */
#define CLEAN_CALLS 1000
/* How often, at most, a call looks at how many threads other processes run, and
 * the weight of each look in the running mean (SAMPLE_WEIGHT). */
#define SAMPLE_SECONDS 1e-3
#define SAMPLE_WEIGHT 0.25
/* The index part of a share's counter between calls: no range can be claimed. */
#define CLOSED 0xFFFFFFFFu
#define WORKER_STACK_BYTES (2u << 20)

typedef struct {
    pthread_mutex_t call;   /* held by the call that owns the pool */
    pthread_mutex_t sleep;  /* guards the two condition variables */
    pthread_cond_t wake;    /* sleeping workers wait on it for a new call */
    pthread_cond_t finished; /* a sleeping caller waits on it for its ranges */
    _Atomic unsigned published; /* generation of the newest call */
    atomic_int sleepers;
    atomic_int caller_sleeping;
    _Atomic int64_t done; /* ranges finished in the current call */
    /* The current call, written while the shares are closed. */
    _Atomic(pynn_range_fn) fn;
    _Atomic(void *) job;
    _Atomic int64_t n, chunk, ranges;
    atomic_int nthreads;
    /* Owned by the holder of `call`. */
    int workers;
    unsigned generation;
    double serial_until;
    int level, streak;
    int64_t clean, since_straggler;
    /* The machine: its online CPUs, /proc/loadavg (-1: none), when it was read last,
     * and the running mean of the runnable threads that are not this pool's. */
    int online;
    int loadavg;
    double sampled_at;
    double others;
} pynn_pool;

static pynn_pool pool = {
    .call = PTHREAD_MUTEX_INITIALIZER,
    .sleep = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .finished = PTHREAD_COND_INITIALIZER,
    .loadavg = -2, /* not opened yet */
};

/* One thread's share of a call's ranges: (generation << 32) | the next range to
 * claim, or CLOSED; and the end of the share. One cache line each. */
typedef struct {
    _Alignas(64) _Atomic uint64_t next;
    _Atomic uint32_t end;
} pynn_share;

static pynn_share shares[PYNN_MAX_THREADS];

static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void spin_pause(unsigned i) {
    if (i < SPIN_PAUSES)
        CPU_RELAX();
    else
        sched_yield();
}

/* Runs range `index` of the current call, which this thread claimed. */
static void run_range(int slot, uint32_t index, int64_t ranges) {
    pynn_range_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
    void *job = atomic_load_explicit(&pool.job, memory_order_relaxed);
    int64_t n = atomic_load_explicit(&pool.n, memory_order_relaxed);
    int64_t chunk = atomic_load_explicit(&pool.chunk, memory_order_relaxed);
    int64_t lo = (int64_t)index * chunk;
    fn(job, lo, n - lo < chunk ? n : lo + chunk, slot);
    if (atomic_fetch_add(&pool.done, 1) + 1 == ranges && atomic_load(&pool.caller_sleeping)) {
        pthread_mutex_lock(&pool.sleep);
        pthread_cond_broadcast(&pool.finished);
        pthread_mutex_unlock(&pool.sleep);
    }
}

/* Claims and runs ranges of call `gen`, its own share's first, then the others',
 * until none is left (or the call is another one). Returns 0 when the call has no
 * place for this slot. */
static int run_ranges(int slot, unsigned gen) {
    int nthreads = atomic_load_explicit(&pool.nthreads, memory_order_relaxed);
    if (slot >= nthreads) return 0;
    int64_t ranges = atomic_load_explicit(&pool.ranges, memory_order_relaxed);
    for (int k = 0; k < nthreads; k++) {
        pynn_share *share = &shares[(slot + k) % nthreads];
        for (;;) {
            uint64_t c = atomic_load_explicit(&share->next, memory_order_acquire);
            uint32_t index = (uint32_t)c;
            if ((unsigned)(c >> 32) != gen || index == CLOSED) return 1;
            if (index >= atomic_load_explicit(&share->end, memory_order_relaxed)) break;
            /* Success means the share was not closed since c was read, so the
             * call's fields read around it are this call's, and stay so until its
             * ranges, this one included, are done. */
            if (atomic_compare_exchange_weak_explicit(&share->next, &c, c + 1,
                                                      memory_order_acq_rel, memory_order_relaxed))
                run_range(slot, index, ranges);
        }
    }
    return 1;
}

/* The generation of the next call after `seen`: spin a while (when `spin`), then
 * sleep. */
static unsigned wait_for_call(unsigned seen, int spin) {
    double start = now_seconds();
    for (unsigned i = 1; spin; i++) {
        unsigned g = atomic_load_explicit(&pool.published, memory_order_acquire);
        if (g != seen) return g;
        if (i % 64 == 0 && now_seconds() - start > WORKER_SPIN_SECONDS) break;
        spin_pause(i);
    }
    pthread_mutex_lock(&pool.sleep);
    atomic_fetch_add(&pool.sleepers, 1);
    unsigned g;
    /* sleepers is raised before published is read, and the caller stores
     * published before it reads sleepers: a call is never missed. */
    while ((g = atomic_load(&pool.published)) == seen) pthread_cond_wait(&pool.wake, &pool.sleep);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.sleep);
    return g;
}

static void *worker_main(void *arg) {
    int slot = (int)(intptr_t)arg;
    unsigned seen = atomic_load(&pool.published);
    int spin = 1;
    for (;;) {
        seen = wait_for_call(seen, spin);
        /* A worker the last call did not want (it asked for fewer threads) sleeps
         * at once rather than spin. */
        spin = run_ranges(slot, seen);
    }
    return NULL;
}

/* After fork the child has no workers and nobody waiting; the locks the
 * prepare handler took are the forking thread's, released here. */
static void fork_prepare(void) {
    pthread_mutex_lock(&pool.call);
    pthread_mutex_lock(&pool.sleep);
}

static void fork_parent(void) {
    pthread_mutex_unlock(&pool.sleep);
    pthread_mutex_unlock(&pool.call);
}

static void fork_child(void) {
    pool.workers = 0;
    pool.serial_until = 0;
    pool.sampled_at = 0;
    pool.others = 0;
    pool.level = 0;
    pool.streak = 0;
    pool.clean = 0;
    pool.since_straggler = 0;
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.caller_sleeping, 0);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.finished, NULL);
    pthread_mutex_unlock(&pool.sleep);
    pthread_mutex_unlock(&pool.call);
}

static void register_fork_handlers(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* Starts workers (the holder of `call`) until there are `wanted`; returns how
 * many there are. Workers block every signal: Python handles them in its main
 * thread. */
static int start_workers(int wanted) {
    if (wanted > PYNN_MAX_THREADS - 1) wanted = PYNN_MAX_THREADS - 1;
    if (pool.workers >= wanted) return pool.workers;
    pthread_once(&fork_handlers_once, register_fork_handlers);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return pool.workers;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    while (pool.workers < wanted) {
        pthread_t thread;
        if (pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)(pool.workers + 1)) != 0)
            break;
        pool.workers++;
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    return pool.workers;
}

int pynn_threads_start(int nthreads) {
    if (nthreads <= 1) return 1;
    pthread_mutex_lock(&pool.call);
    int workers = start_workers(nthreads - 1);
    pthread_mutex_unlock(&pool.call);
    return workers + 1 < nthreads ? workers + 1 : nthreads;
}

/* Waits until `ranges` ranges of the current call are done. */
static void wait_for_ranges(int64_t ranges) {
    double start = now_seconds();
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&pool.done, memory_order_acquire) == ranges) return;
        if (i % 64 == 0 && now_seconds() - start > CALLER_SPIN_SECONDS) break;
        spin_pause(i);
    }
    pthread_mutex_lock(&pool.sleep);
    atomic_store(&pool.caller_sleeping, 1);
    while (atomic_load(&pool.done) != ranges) pthread_cond_wait(&pool.finished, &pool.sleep);
    atomic_store(&pool.caller_sleeping, 0);
    pthread_mutex_unlock(&pool.sleep);
}

/* Runnable threads on the machine now (the fourth field of /proc/loadavg counts
 * them, this process's included), or -1 when it cannot be read. */
static int runnable_threads(void) {
    if (pool.loadavg == -2) {
        pool.loadavg = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        pool.online = online > 0 ? (int)online : 1;
    }
    if (pool.loadavg < 0) return -1;
    char text[128];
    ssize_t got = pread(pool.loadavg, text, sizeof text - 1, 0);
    if (got <= 0) return -1;
    text[got] = 0;
    /* "0.52 0.31 0.29 3/152 4711": the number before '/' */
    char *slash = strchr(text, '/');
    if (!slash) return -1;
    char *digits = slash;
    while (digits > text && digits[-1] >= '0' && digits[-1] <= '9') digits--;
    return digits == slash ? -1 : atoi(digits);
}

/* The threads a call may use so as not to take cores that other processes' threads
 * are running on (a second thread on a taken core only waits for it): the online
 * CPUs less the running mean of the others' runnable threads, at least 1. This
 * pool's runnable threads are the caller and its workers that are not asleep. */
static int free_cpus(double now) {
    if (now - pool.sampled_at >= SAMPLE_SECONDS) {
        pool.sampled_at = now;
        int runnable = runnable_threads();
        if (runnable >= 0) {
            int own = 1 + pool.workers - atomic_load(&pool.sleepers);
            int others = runnable > own ? runnable - own : 0;
            pool.others += SAMPLE_WEIGHT * ((double)others - pool.others);
        }
    }
    if (pool.loadavg < 0) return PYNN_MAX_THREADS;
    int free = pool.online - (int)(pool.others + 0.5);
    return free < 1 ? 1 : free;
}

/* The back-off: a wait for others' ranges longer than the caller's own share
 * (and than STRAGGLER_MIN_SECONDS) means a worker was not running. */
static void note_wait(double own, double wait, double now) {
    pool.since_straggler++;
    if (wait > own && wait > STRAGGLER_MIN_SECONDS) {
        pool.streak = pool.since_straggler <= STRAGGLER_WINDOW ? pool.streak + 1 : 1;
        pool.since_straggler = 0;
        if (pool.streak < STRAGGLER_STREAK) return;
        if (pool.level < BACKOFF_MAX_LEVEL) pool.level++;
        pool.serial_until = now + BACKOFF_BASE_SECONDS * (double)(1 << pool.level);
        pool.clean = 0;
    } else if (pool.level > 0 && ++pool.clean >= CLEAN_CALLS) {
        pool.level--;
        pool.clean = 0;
    }
}

void pynn_parallel_for(int nthreads, int64_t n, int64_t chunk, pynn_range_fn fn, void *job) {
    if (n <= 0) return;
    if (chunk < 1) chunk = 1;
    while ((n - 1) / chunk + 1 >= (int64_t)CLOSED) chunk *= 2;
    int64_t ranges = (n - 1) / chunk + 1;
    if (nthreads > PYNN_MAX_THREADS) nthreads = PYNN_MAX_THREADS;
    if (nthreads <= 1 || ranges <= 1 || pthread_mutex_trylock(&pool.call) != 0) {
        fn(job, 0, n, 0);
        return;
    }
    double start = now_seconds();
    int free = free_cpus(start);
    if (nthreads > free) nthreads = free;
    int workers = start < pool.serial_until || nthreads <= 1 ? 0 : start_workers(nthreads - 1);
    if (workers == 0) {
        pthread_mutex_unlock(&pool.call);
        fn(job, 0, n, 0);
        return;
    }
    unsigned gen = ++pool.generation;
    if (gen == 0) gen = ++pool.generation; /* 0: the shares' initial state, never a call */
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.job, job, memory_order_relaxed);
    atomic_store_explicit(&pool.n, n, memory_order_relaxed);
    atomic_store_explicit(&pool.chunk, chunk, memory_order_relaxed);
    atomic_store_explicit(&pool.ranges, ranges, memory_order_relaxed);
    atomic_store_explicit(&pool.nthreads, workers + 1 < nthreads ? workers + 1 : nthreads,
                          memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    int threads = workers + 1 < nthreads ? workers + 1 : nthreads;
    for (int t = 0; t < threads; t++) {
        atomic_store_explicit(&shares[t].end, (uint32_t)(ranges * (t + 1) / threads),
                              memory_order_relaxed);
        atomic_store_explicit(&shares[t].next,
                              ((uint64_t)gen << 32) | (uint64_t)(ranges * t / threads),
                              memory_order_release);
    }
    atomic_store(&pool.published, gen);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep);
    }
    run_ranges(0, gen);
    double own_end = now_seconds();
    wait_for_ranges(ranges);
    double end = now_seconds();
    for (int t = 0; t < threads; t++)
        atomic_store_explicit(&shares[t].next, ((uint64_t)gen << 32) | CLOSED,
                              memory_order_release);
    note_wait(own_end - start, end - own_end, end);
    pthread_mutex_unlock(&pool.call);
}

int pynn_usable_cpus(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

int pynn_threads_enabled(void) { return 1; }

#endif
