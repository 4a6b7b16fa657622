/* Thread-count facts. pynn keeps no thread state in C: every kernel takes its
 * thread count as an argument (the Cython layer holds the user's setting). */
#include "pynn.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int pynn_default_num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int pynn_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}
