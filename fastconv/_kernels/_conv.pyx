"""Convolution kernels (2-D and 3-D): forward, backward-data and backward-weights,
float32 and float64.

The drivers (work division, OpenMP `prange` loops, per-thread scratch, packing, the
fixed-order reductions) are Cython, in the included .pxi files; the register-blocked
micro-kernel they call is C (microkernels.h), chosen once per process among the variants
this CPU supports.

The Python functions below trust their arguments: fastconv.ops has checked shapes and
dtypes and made the arrays C-contiguous. Arrays are 5-D, (N, D, H, W, C), a 2-D
convolution being a 3-D one of depth 1; strides and dilation are triples, padding three
(before, after) pairs. With `groups`, w is (KD, KH, KW, C // groups, K). relu=True fuses
ReLU into the forward; a `mask` (the forward's output, dy's shape, or None) makes the
backward kernels take dy through ReLU first (the gradient passes where mask > 0).
Depthwise convolutions (groups == C) run their own kernels, vectorised over channels.
"""
import os

from cython cimport floating
from cython.parallel cimport parallel, prange, threadid

from fastconv._kernels._channel_loops cimport add_to, copy_masked, multiply_add
from fastconv._kernels._microkernel cimport (FC_DW_P_MAX, FC_MR_MAX, FC_NR_MAX,
                                             FC_NUM_VARIANTS, FC_UKR_ACCUMULATE, FC_UKR_RELU,
                                             depthwise_cols_of, depthwise_kernel, fc_alloc,
                                             fc_best_variant, fc_free, fc_variant,
                                             fc_variant_supported, fc_variants, microkernel,
                                             tile_cols_of, tile_rows_of)

# The variant every call uses; set at import (the best this CPU runs) or by
# set_kernel_variant. Read once at the start of each driver.
cdef const fc_variant *active_variant = &fc_variants[fc_best_variant()]

include "_conv_helpers.pxi"
include "_conv_winograd.pxi"
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


ALGORITHMS = ("auto", "direct", "winograd")


def set_conv_algorithm(name):
    """The convolution algorithm from now on (as oneDNN's convolution_auto, _direct and
    _winograd): "auto", Winograd's F(2x2, 3x3) or F(4x4, 3x3) for the 3x3 stride-1 passes
    where the cost model expects it to be faster, else direct; "direct" everywhere;
    "winograd" for every 3x3 stride-1 undilated ungrouped 2-D forward and backward-input
    pass (backward-input padding at most 2), direct for the rest."""
    global conv_algorithm
    if name not in ALGORITHMS:
        raise ValueError(f"unknown convolution algorithm {name!r}; choose from {list(ALGORITHMS)}")
    conv_algorithm = ALGORITHMS.index(name)


def get_conv_algorithm():
    """The algorithm setting: "auto", "direct" or "winograd"."""
    return ALGORITHMS[conv_algorithm]


def algorithm_of(pass_name, x_shape, w_shape, y_shape, strides, padding, dilation,
                 long groups):
    """The algorithm the drivers run for one pass ("forward", "backward-input",
    "backward-weight") of this convolution, with shapes and arguments as the kernels
    take them: "direct", "winograd F(2x2,3x3)" or "winograd F(4x4,3x3)"."""
    cdef ConvShape g = conv_shape(x_shape, w_shape, y_shape, strides, padding, dilation, groups)
    cdef const WinogradTransform *wt = NULL
    if pass_name == "forward":
        wt = winograd_choice(&g, g.n * g.oh * g.ow)
    elif pass_name == "backward-input":
        wt = winograd_choice_backward_data(&g)
    elif pass_name != "backward-weight":
        raise ValueError(f"unknown pass {pass_name!r}")
    return "direct" if wt == NULL else f"winograd F({wt.m}x{wt.m},3x3)"


def _check(int rc):
    # Workspaces are allocated before the parallel regions; a failure comes back here.
    if rc != 0:
        raise MemoryError("fastconv: could not allocate the kernel's workspace")


cdef ConvShape conv_shape(x_shape, w_shape, y_shape, strides, padding, dilation, long groups):
    """The drivers' geometry from the arrays' 5-D shapes and fastconv.ops's normalised
    arguments (triples; w_shape is (KD, KH, KW, C // groups, K))."""
    cdef ConvShape g
    g.n, g.d, g.h, g.w, g.c = x_shape[0], x_shape[1], x_shape[2], x_shape[3], x_shape[4]
    g.kd, g.kh, g.kw, g.k = w_shape[0], w_shape[1], w_shape[2], w_shape[4]
    g.od, g.oh, g.ow = y_shape[1], y_shape[2], y_shape[3]
    g.sd, g.sh, g.sw = strides
    g.dd, g.dh, g.dw = dilation
    (g.pf, g.pk), (g.pt, g.pb), (g.pl, g.pr) = padding
    g.groups, g.cg, g.kg = groups, g.c // groups, g.k // groups
    g.dp, g.hp, g.wp = g.d + g.pf + g.pk, g.h + g.pt + g.pb, g.w + g.pl + g.pr
    return g


def conv_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] w, b,
                 floating[:, :, :, :, ::1] y, strides, padding, dilation, long groups,
                 bint relu, int nthreads):
    """y = conv(x, w) + b (ReLU if relu); y is (N, OD, OH, OW, K), written in full."""
    cdef ConvShape g = conv_shape(x.shape, w.shape, y.shape, strides, padding, dilation, groups)
    cdef const floating[::1] bias
    cdef const floating *bias_ptr = NULL
    cdef int rc
    if b is not None:
        bias = b
        bias_ptr = &bias[0]
    with nogil:
        rc = conv_forward_driver(&x[0, 0, 0, 0, 0], &w[0, 0, 0, 0, 0], bias_ptr, relu,
                                 &y[0, 0, 0, 0, 0], &g, nthreads)
    _check(rc)


def conv_backward_data(const floating[:, :, :, :, ::1] dy,
                       const floating[:, :, :, :, ::1] mask, const floating[:, :, :, :, ::1] w,
                       floating[:, :, :, :, ::1] dx, strides, padding, dilation, long groups,
                       int nthreads):
    """dx for dy (taken through ReLU where mask, if given, is <= 0); dx written in full."""
    cdef ConvShape g = conv_shape(dx.shape, w.shape, dy.shape, strides, padding, dilation,
                                  groups)
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0, 0]
    cdef int rc
    with nogil:
        rc = conv_backward_data_driver(&dy[0, 0, 0, 0, 0], mask_ptr, &w[0, 0, 0, 0, 0],
                                       &dx[0, 0, 0, 0, 0], &g, nthreads)
    _check(rc)


def conv_backward_weights(const floating[:, :, :, :, ::1] dy,
                          const floating[:, :, :, :, ::1] mask,
                          const floating[:, :, :, :, ::1] x, floating[:, :, :, :, ::1] dw,
                          floating[::1] db, strides, padding, dilation, long groups,
                          int nthreads):
    """dw and db for dy (taken through ReLU where mask, if given, is <= 0)."""
    cdef ConvShape g = conv_shape(x.shape, dw.shape, dy.shape, strides, padding, dilation,
                                  groups)
    cdef const floating *mask_ptr = NULL if mask is None else &mask[0, 0, 0, 0, 0]
    cdef int rc
    with nogil:
        rc = conv_backward_weights_driver(&dy[0, 0, 0, 0, 0], mask_ptr, &x[0, 0, 0, 0, 0],
                                          &dw[0, 0, 0, 0, 0], &db[0], &g, nthreads)
    _check(rc)


# FASTCONV_KERNEL=generic|avx2|avx512 forces a variant (for tests and comparisons).
if os.environ.get("FASTCONV_KERNEL"):
    set_kernel_variant(os.environ["FASTCONV_KERNEL"])
# FASTCONV_CONV_ALGORITHM=auto|direct|winograd: the algorithm setting at import.
if os.environ.get("FASTCONV_CONV_ALGORITHM"):
    set_conv_algorithm(os.environ["FASTCONV_CONV_ALGORITHM"])
