/* Dtype-generic metric kernels: included once per translation unit with `real`
 * and SFX(name) defined (see kernels_f32.c). */

/* The number of rows i of out (n, k) whose predicted class, the column of the
 * first largest value (or of the first NaN, as np.argmax), is labels[i]. One
 * pass, no threads: it is called once per training step on a batch. */
int64_t SFX(count_argmax_hits)(const real *restrict out, const int64_t *restrict labels, int64_t n,
                               int64_t k) {
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        const real *restrict row = out + i * k;
        int64_t best = 0;
        real best_value = row[0];
        if (best_value == best_value)
            for (int64_t j = 1; j < k; j++) {
                real v = row[j];
                if (v != v) { /* NaN: np.argmax stops at the first one */
                    best = j;
                    break;
                }
                if (v > best_value) {
                    best = j;
                    best_value = v;
                }
            }
        hits += best == labels[i];
    }
    return hits;
}
