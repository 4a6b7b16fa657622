/* Dropout's mask (inverted dropout) from a counter-based random stream:
 * dtype-generic body, included once per translation unit after
 * activations_impl.h (SFX(rows_per_block)) and before network_impl.h.
 *
 * Each element's keep or drop is a pure function of four numbers: the model's
 * seed, the training step, the layer's index in the network and the element's
 * index in the (n, width) batch, e = row * width + column. The generator is
 * Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011; Random123's known-answer vectors pass, see
 * tests/test_dropout.py):
 *   key     = mix64(seed + (index + 1) * 0x9E3779B97F4A7C15), split (lo, hi);
 *   counter = (g lo, g hi, step lo, step hi) with g = e / 4;
 *   word    = output word e % 4 of philox(counter, key);
 *   kept    = word >= (uint32)(p * 2^32)  (probability 1 - p, within 2^-32);
 *   mask    = kept ? (real)(1 / (1 - p)) : 0, out = x * mask.
 * mix64 is SplitMix64's finalizer: the layers of one seed get unrelated keys.
 * Threads split rows; every element's word is the same whoever computes it,
 * so the mask is the same bits for any thread count. pynn.reference_network
 * computes the same words in NumPy. */

#ifndef PYNN_PHILOX_DEFINED
#define PYNN_PHILOX_DEFINED

/* SplitMix64's output function (Steele, Lea and Flood 2014). */
static inline uint64_t pynn_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Philox groups computed at once: the rounds run over lanes, which compilers
 * vectorise (a 32 x 32 -> 64-bit multiply per lane). */
#define PYNN_PHILOX_LANES 16

/* Philox4x32 with 10 rounds on PYNN_PHILOX_LANES counters (c0[l], c1[l], c2[l],
 * c3[l]), each replaced by its output for the key (k0, k1). */
static inline void pynn_philox4x32_10(uint32_t *restrict c0, uint32_t *restrict c1,
                                      uint32_t *restrict c2, uint32_t *restrict c3, uint32_t k0,
                                      uint32_t k1) {
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < PYNN_PHILOX_LANES; l++) {
            const uint64_t p0 = (uint64_t)UINT32_C(0xD2511F53) * c0[l];
            const uint64_t p1 = (uint64_t)UINT32_C(0xCD9E8D57) * c2[l];
            c0[l] = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0;
            c1[l] = (uint32_t)p1;
            c2[l] = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c3[l] = (uint32_t)p0;
        }
        k0 += UINT32_C(0x9E3779B9); /* the key of the next round */
        k1 += UINT32_C(0xBB67AE85);
    }
}

#endif /* PYNN_PHILOX_DEFINED */

/* One dropout layer's pass over rows, for pynn_parallel_for. */
typedef struct {
    real *out, *mask;
    const real *in;
    uint64_t key, step;
    uint32_t threshold;
    real scale;
    int64_t width;
} SFX(dropout_job);

/* mask and out for the elements of rows [lo, hi), PYNN_PHILOX_LANES groups of
 * four words at a time; the select is arithmetic, not a branch (a branch on
 * random bits is mispredicted half the time). */
static void SFX(dropout_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(dropout_job) *j = arg;
    const uint32_t k0 = (uint32_t)j->key, k1 = (uint32_t)(j->key >> 32);
    const uint32_t s0 = (uint32_t)j->step, s1 = (uint32_t)(j->step >> 32);
    const real scale = j->scale;
    const int64_t begin = lo * j->width, end = hi * j->width;
    for (int64_t first = begin & ~(int64_t)3; first < end; first += 4 * PYNN_PHILOX_LANES) {
        uint32_t c0[PYNN_PHILOX_LANES], c1[PYNN_PHILOX_LANES], c2[PYNN_PHILOX_LANES],
            c3[PYNN_PHILOX_LANES], words[4 * PYNN_PHILOX_LANES];
        for (int l = 0; l < PYNN_PHILOX_LANES; l++) {
            const uint64_t g = (uint64_t)(first >> 2) + (uint64_t)l;
            c0[l] = (uint32_t)g;
            c1[l] = (uint32_t)(g >> 32);
            c2[l] = s0;
            c3[l] = s1;
        }
        pynn_philox4x32_10(c0, c1, c2, c3, k0, k1);
        for (int l = 0; l < PYNN_PHILOX_LANES; l++) {
            words[4 * l] = c0[l];
            words[4 * l + 1] = c1[l];
            words[4 * l + 2] = c2[l];
            words[4 * l + 3] = c3[l];
        }
        const int64_t from = first > begin ? first : begin;
        const int64_t to =
            first + 4 * PYNN_PHILOX_LANES < end ? first + 4 * PYNN_PHILOX_LANES : end;
        for (int64_t e = from; e < to; e++) {
            const real m = scale * (real)(words[e - first] >= j->threshold);
            j->mask[e] = m;
            j->out[e] = j->in[e] * m;
        }
    }
    (void)slot;
}

/* dx = dout * mask over rows [lo, hi) (in: dout, mask: the forward's mask). */
static void SFX(dropout_back_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(dropout_job) *j = arg;
    const real *restrict dout = j->in, *restrict mask = j->mask;
    real *restrict dx = j->out;
    (void)slot;
    for (int64_t e = lo * j->width; e < hi * j->width; e++) dx[e] = dout[e] * mask[e];
}

/* fn over the n rows of a dropout job, on threads when it pays (cost: about
 * six operations an element for the mask, one for the backward). */
static void SFX(dropout_run)(pynn_range_fn fn, SFX(dropout_job) *job, int64_t n, int64_t cost,
                             int nthreads) {
    const int64_t per_row = job->width * cost;
    if (!PYNN_USE_THREADS(n * per_row, nthreads))
        fn(job, 0, n, 0);
    else
        pynn_parallel_for(nthreads, n, SFX(rows_per_block)(per_row), fn, job);
}

/* Dropout's forward pass: with a mask (a pass that trains), draw it from the
 * stream (seed, step) for the record's `index` and apply it; without one, copy. */
static void SFX(dropout_forward)(real *restrict out, real *restrict mask, const real *restrict in,
                                 int64_t n, int64_t width, double p, const uint64_t *stream,
                                 int64_t index, int nthreads) {
    if (!mask) {
        SFX(activation_forward)(out, in, n * width, PYNN_IDENTITY, 0, nthreads);
        return;
    }
    const uint64_t gamma = UINT64_C(0x9E3779B97F4A7C15),
                   key = stream[0] + (uint64_t)(index + 1) * gamma;
    SFX(dropout_job) job = {out,
                            mask,
                            in,
                            pynn_mix64(key),
                            stream[1],
                            (uint32_t)(p * 4294967296.0),
                            (real)(1.0 / (1.0 - p)),
                            width};
    SFX(dropout_run)(SFX(dropout_rows), &job, n, 6, nthreads);
}

/* Dropout's backward pass: dx = dout * mask. */
static void SFX(dropout_backward)(real *restrict dx, const real *restrict dout,
                                  const real *restrict mask, int64_t n, int64_t width,
                                  int nthreads) {
    SFX(dropout_job) job = {dx, (real *)mask, dout, 0, 0, 0, 0, width};
    SFX(dropout_run)(SFX(dropout_back_rows), &job, n, 1, nthreads);
}
