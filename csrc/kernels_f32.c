/* The float (f32) kernels: every dtype-generic body stamped with real = float. */
#include "pynn.h"

#include "parallel.h"

#include <string.h>
#include <tgmath.h>

#define real float
#define SFX(name) name##_f32

#include "activations_impl.h"
#include "prelu_softmax_impl.h"
#include "gemm_impl.h"
#include "gemm_driver_impl.h"
#include "gemm_plain_impl.h"
#include "dense_impl.h"
#include "losses_impl.h"
#include "optim_impl.h"
#include "metrics_impl.h"
#include "dropout_impl.h"
#include "network_impl.h"
#include "network_hvp_impl.h"
