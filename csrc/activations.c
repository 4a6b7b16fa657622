/* What each activation's derivative reads: the one piece of the activation
 * family that does not depend on the dtype. */
#include "pynn.h"

pynn_saved pynn_activation_saves(pynn_activation act, double param) {
    switch (act) {
    case PYNN_IDENTITY:
        return PYNN_SAVES_NOTHING;
    case PYNN_SIGMOID:
    case PYNN_TANH:
    case PYNN_RELU:
        return PYNN_SAVES_OUTPUT;
    case PYNN_LEAKY_RELU:
        /* With a slope >= 0, a > 0 exactly when z > 0, so the output suffices;
         * a negative slope flips the sign of a and only z tells the side. */
        return param >= 0 ? PYNN_SAVES_OUTPUT : PYNN_SAVES_INPUT;
    case PYNN_SOFTPLUS:
    case PYNN_ELU:
        return PYNN_SAVES_INPUT;
    case PYNN_STEP:
    case PYNN_SIGN:
    default:
        return PYNN_NOT_DIFFERENTIABLE;
    }
}
