/* Undefines the dtype's parameters of gemm_kernel_impl.h (real, vec, VLEN and the
 * V_* operations), so that a path's file can stamp its micro-kernels again for
 * the other dtype. One list for every path's file: a parameter added to the
 * kernel body is added here once. KERNEL_NAME, KERNEL_MR and KERNEL_NV are the
 * including file's to undefine. No include guard: included once per dtype. */
#undef real
#undef vec
#undef VLEN
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_FMA
#undef V_MUL
#undef V_ADD
#undef V_MAX
