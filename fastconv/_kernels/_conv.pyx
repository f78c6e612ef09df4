"""conv2d kernels: forward, backward-data and backward-weights, float32 and float64.

The drivers (work division, OpenMP `prange` loops, per-thread scratch, packing, the
fixed-order reductions) are Cython, in the included .pxi files; the register-blocked
micro-kernel they call is C (microkernels.h), chosen once per process among the variants
this CPU supports.

The Python functions below trust their arguments: fastconv.ops has checked shapes and
dtypes and made the arrays C-contiguous. strides is (sh, sw); padding is
((top, bottom), (left, right)). relu=True fuses ReLU into the forward; a `mask` (the
forward's output, dy's shape, or None) makes the backward kernels take dy through ReLU
first (the gradient passes where mask > 0).
"""
import os

from cython cimport floating
from cython.parallel cimport parallel, prange, threadid

from fastconv._kernels._channel_loops cimport add_to, copy_masked
from fastconv._kernels._microkernel cimport (FC_MR_MAX, FC_NR_MAX, FC_NUM_VARIANTS,
                                             FC_UKR_ACCUMULATE, FC_UKR_RELU, fc_alloc,
                                             fc_best_variant, fc_free, fc_variant,
                                             fc_variant_supported, fc_variants, microkernel,
                                             tile_cols_of, tile_rows_of)

# The variant every call uses; set at import (the best this CPU runs) or by
# set_kernel_variant. Read once at the start of each driver.
cdef const fc_variant *active_variant = &fc_variants[fc_best_variant()]

include "_conv_helpers.pxi"
include "_conv_forward.pxi"
include "_conv_backward_data.pxi"
include "_conv_backward_weights.pxi"


def _variant_names():
    return [fc_variants[v].name.decode() for v in range(FC_NUM_VARIANTS)]


def supported_variants():
    """Names of the micro-kernel variants this CPU can run, slowest first."""
    return [name for v, name in enumerate(_variant_names()) if fc_variant_supported(v)]


def kernel_variant():
    """Name of the micro-kernel variant in use."""
    return active_variant.name.decode()


def set_kernel_variant(name):
    """Use the named variant ("generic", "avx2", "avx512") from now on."""
    global active_variant
    names = _variant_names()
    if name not in names:
        raise ValueError(f"unknown kernel variant {name!r}; choose from {names}")
    if not fc_variant_supported(names.index(name)):
        raise ValueError(f"this CPU cannot run the {name!r} kernels; it supports "
                         f"{supported_variants()}")
    active_variant = &fc_variants[names.index(name)]


def _check(int rc):
    # Workspaces are allocated before the parallel regions; a failure comes back here.
    if rc != 0:
        raise MemoryError("fastconv: could not allocate the kernel's workspace")


def conv2d_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w, b,
                   floating[:, :, :, ::1] y, strides, padding, bint relu, int nthreads):
    cdef long sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pb = padding[0][1], pl = padding[1][0], pr = padding[1][1]
    cdef const floating[::1] bias
    cdef const floating *bias_ptr = NULL
    cdef int rc
    if b is not None:
        bias = b
        bias_ptr = &bias[0]
    with nogil:
        rc = conv2d_forward_driver(&x[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                   x.shape[3], &w[0, 0, 0, 0], w.shape[0], w.shape[1],
                                   w.shape[3], bias_ptr, relu, &y[0, 0, 0, 0], y.shape[1],
                                   y.shape[2], sh, sw, pt, pb, pl, pr, nthreads)
    _check(rc)


def conv2d_backward_data(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] mask,
                         const floating[:, :, :, ::1] w, floating[:, :, :, ::1] dx, strides,
                         padding, int nthreads):
    cdef long sh = strides[0], sw = strides[1], pt = padding[0][0], pl = padding[1][0]
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0]
    cdef int rc
    with nogil:
        rc = conv2d_backward_data_driver(&dy[0, 0, 0, 0], mask_ptr, dy.shape[0], dy.shape[1],
                                         dy.shape[2], dy.shape[3], &w[0, 0, 0, 0], w.shape[0],
                                         w.shape[1], w.shape[2], &dx[0, 0, 0, 0], dx.shape[1],
                                         dx.shape[2], sh, sw, pt, pl, nthreads)
    _check(rc)


def conv2d_backward_weights(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] mask,
                            const floating[:, :, :, ::1] x, floating[:, :, :, ::1] dw,
                            floating[::1] db, strides, padding, int nthreads):
    cdef long sh = strides[0], sw = strides[1]
    cdef long pt = padding[0][0], pb = padding[0][1], pl = padding[1][0], pr = padding[1][1]
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0]
    cdef int rc
    with nogil:
        rc = conv2d_backward_weights_driver(&dy[0, 0, 0, 0], mask_ptr, &x[0, 0, 0, 0],
                                            x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                            dw.shape[0], dw.shape[1], dw.shape[3], dy.shape[1],
                                            dy.shape[2], sh, sw, pt, pb, pl, pr,
                                            &dw[0, 0, 0, 0], &db[0], nthreads)
    _check(rc)


# FASTCONV_KERNEL=generic|avx2|avx512 forces a variant (for tests and comparisons).
if os.environ.get("FASTCONV_KERNEL"):
    set_kernel_variant(os.environ["FASTCONV_KERNEL"])
