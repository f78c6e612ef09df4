"""fastconv's kernel API: validate and normalise arguments, then call the compiled kernels.

Same functions and signatures as fastconv.reference. Everything the nogil kernels
trust (dtypes, shapes, C-contiguity, sizes) is established here. Mixed float32/float64
inputs are computed, and returned, in float64. Any memory layout is accepted
(Fortran order, slices, negative strides, read-only): inputs are copied to
C-contiguous arrays of the compute dtype when they are not already.

The kernels work on 5-D arrays (N, D, H, W, C): a 2-D call passes views with a depth
axis of 1 (no copy).
"""
import numpy as np

from fastconv._geometry import (CONV_GEOMETRIES, Conv2DTransposeGeometry,
                                conv1d_backward_via_2d, conv1d_via_2d, pool_inputs)
from fastconv._validate import (activation_mask, check_activation, check_bias, check_dy,
                                check_flag, compute_dtype, conv_inputs)
from fastconv._kernels import _conv, _pool
from fastconv.config import get_num_threads

__all__ = ["conv2d", "conv2d_backward", "conv3d", "conv3d_backward", "conv2d_transpose",
           "conv2d_transpose_backward", "pool2d", "pool2d_backward", "pool3d",
           "pool3d_backward", "conv1d", "conv1d_backward"]

POOL_MODE_CODES = {"max": 0, "min": 1, "avg": 2}
def _c(a, dtype):
    return np.ascontiguousarray(a, dtype=dtype)


def _lift(a, kernel=False):
    """The 5-D view the kernels take: a depth axis of 1 before a 2-D call's spatial axes
    (axis 1 of an activation, axis 0 of a kernel); 5-D arrays unchanged."""
    if a is None or a.ndim == 5:
        return a
    return a[None] if kernel else a[:, None]


def _window_args(g):
    """strides, padding and dilation as the kernels' triples (depth first)."""
    if g.RANK == 3:
        return g.strides, g.padding, g.dilation
    return (1,) + g.strides, ((0, 0),) + g.padding, (1,) + g.dilation


CONV_PASSES = ("forward", "backward-input", "backward-weight")


def conv_algorithm(pass_name, x_shape, w_shape, strides=1, padding="valid", dilation=1,
                   groups=1):
    """The algorithm fastconv runs, under the current set_conv_algorithm setting, for one
    pass ("forward", "backward-input" or "backward-weight") of the 2-D or 3-D convolution
    of an x of x_shape with a w of w_shape (arguments as conv2d / conv3d take them):
    "direct", "winograd F(2x2,3x3)" or "winograd F(4x4,3x3)"."""
    if pass_name not in CONV_PASSES:
        raise ValueError(f"pass_name must be one of {list(CONV_PASSES)}, got {pass_name!r}")
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    rank = len(x_shape) - 2
    if rank not in CONV_GEOMETRIES:
        raise ValueError(f"x_shape must have 4 (N, H, W, C) or 5 (N, D, H, W, C) entries, got "
                         f"{x_shape}")
    g = CONV_GEOMETRIES[rank](x_shape, w_shape, strides, padding, dilation, groups)
    if rank == 2:
        x_shape, w_shape, y_shape = ((x_shape[0], 1) + x_shape[1:], (1,) + w_shape,
                                     (g.out_shape[0], 1) + tuple(g.out_shape[1:]))
    else:
        y_shape = tuple(g.out_shape)
    return _conv.algorithm_of(pass_name, x_shape, w_shape, y_shape, *_window_args(g), g.groups)


def _convolve(x, w, b, strides, padding, activation, dilation, groups, rank):
    relu = check_activation(activation) == "relu"
    x, w, b = conv_inputs(x, w, b, rank)
    g = CONV_GEOMETRIES[rank](x.shape, w.shape, strides, padding, dilation, groups)
    dtype = compute_dtype(x, w, b)
    y = np.empty(g.out_shape, dtype=dtype)
    if y.size:
        _conv.conv_forward(_lift(_c(x, dtype)), _lift(_c(w, dtype), kernel=True),
                           None if b is None else _c(b, dtype), _lift(y), *_window_args(g),
                           g.groups, relu, get_num_threads())
    return y


def _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient, dilation,
                       groups, rank):
    input_gradient = check_flag("input_gradient", input_gradient)
    x, w, _ = conv_inputs(x, w, None, rank)
    g = CONV_GEOMETRIES[rank](x.shape, w.shape, strides, padding, dilation, groups)
    dy = check_dy(dy, g.out_shape)
    mask = activation_mask(activation, y, g.out_shape)
    dtype = compute_dtype(x, w, dy)
    dx = None
    if input_gradient:
        dx = np.zeros(x.shape, dtype=dtype) if dy.size == 0 else np.empty(x.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(g.k, dtype=dtype)
    if dy.size:
        dy = _lift(_c(dy, dtype))
        mask = None if mask is None else _lift(_c(mask, dtype))
        geometry = (*_window_args(g), g.groups, get_num_threads())
        if input_gradient:
            _conv.conv_backward_data(dy, mask, _lift(_c(w, dtype), kernel=True), _lift(dx),
                                     *geometry)
        _conv.conv_backward_weights(dy, mask, _lift(_c(x, dtype)), _lift(dw, kernel=True), db,
                                    *geometry)
    return dx, dw, db


def conv2d(x, w, b=None, strides=1, padding="valid", activation=None, dilation=1, groups=1):
    """2-D cross-correlation of x (N, H, W, C) with w (KH, KW, C // groups, K), plus bias b (K,).

    strides, dilation: int or (h, w). padding: "valid", "same" (Keras), an int, a pair, or
    ((top, bottom), (left, right)). groups: output channels of group j see the input
    channels of group j only (groups == C: depthwise). activation: None or "relu", applied
    as each output tile is stored (no second pass over y). Returns y (N, OH, OW, K).
    """
    return _convolve(x, w, b, strides, padding, activation, dilation, groups, 2)


def conv2d_backward(dy, x, w, strides=1, padding="valid", activation=None, y=None,
                    input_gradient=True, dilation=1, groups=1):
    """Gradients of conv2d for the upstream gradient dy (N, OH, OW, K): (dx, dw, db).

    activation="relu" with y, the output of conv2d(..., activation="relu"): the gradients
    of that fused call; dy passes where y > 0, masked inside the kernels as they copy dy.
    input_gradient=False skips dx (returned as None): a network's first layer needs none.
    """
    return _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient,
                              dilation, groups, 2)


def conv3d(x, w, b=None, strides=1, padding="valid", activation=None, dilation=1, groups=1):
    """3-D cross-correlation of x (N, D, H, W, C) with w (KD, KH, KW, C // groups, K), plus
    bias b (K,). strides, dilation: int or (d, h, w); padding: "valid", "same", an int, a
    triple or three (before, after) pairs; the rest as conv2d. Returns (N, OD, OH, OW, K).
    """
    return _convolve(x, w, b, strides, padding, activation, dilation, groups, 3)


def conv3d_backward(dy, x, w, strides=1, padding="valid", activation=None, y=None,
                    input_gradient=True, dilation=1, groups=1):
    """Gradients of conv3d for dy (N, OD, OH, OW, K): (dx, dw, db), as conv2d_backward."""
    return _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient,
                              dilation, groups, 3)


def conv2d_transpose(x, w, b=None, strides=1, padding="valid", output_padding=None,
                     dilation=1):
    """Transposed 2-D convolution of x (N, H, W, C_in) with w (KH, KW, C_out, C_in)
    (Keras's Conv2DTranspose layout), plus bias b (C_out,): the backward-data pass of the
    conv2d that maps its output back to x's shape. Output sizes: see
    Conv2DTransposeGeometry ("valid", "same" as Keras; explicit padding as PyTorch).
    """
    x, w, _ = conv_inputs(x, w)
    b = check_bias(b, w.shape[2], w.shape)
    g = Conv2DTransposeGeometry(x.shape, w.shape, strides, padding, output_padding, dilation)
    dtype = compute_dtype(x, w, b)
    y = np.zeros(g.out_shape, dtype=dtype)
    if x.size:
        _conv.conv_backward_data(_lift(_c(x, dtype)), None, _lift(_c(w, dtype), kernel=True),
                                 _lift(y), *_window_args(g.forward), 1, get_num_threads())
    if b is not None:
        y += b.astype(dtype, copy=False)
    return y


def conv2d_transpose_backward(dy, x, w, strides=1, padding="valid", output_padding=None,
                              dilation=1):
    """Gradients of conv2d_transpose for dy (N, OH, OW, C_out): (dx, dw, db). dx is the
    forward conv2d of dy, dw that conv2d's weight gradient (x as its upstream gradient)."""
    x, w, _ = conv_inputs(x, w)
    g = Conv2DTransposeGeometry(x.shape, w.shape, strides, padding, output_padding, dilation)
    dy = check_dy(dy, g.out_shape)
    dtype = compute_dtype(x, w, dy)
    dx = np.zeros(x.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = dy.sum(axis=(0, 1, 2), dtype=dtype)
    if x.size:
        geometry = (*_window_args(g.forward), 1)
        nthreads = get_num_threads()
        dy = _lift(_c(dy, dtype))
        _conv.conv_forward(dy, _lift(_c(w, dtype), kernel=True), None, _lift(dx), *geometry,
                           False, nthreads)
        _conv.conv_backward_weights(_lift(_c(x, dtype)), None, dy, _lift(dw, kernel=True),
                                    np.zeros(g.c_in, dtype), *geometry, nthreads)
    return dx, dw, db


def _pooling(x, pool_size, strides, padding, mode, rank):
    x, g = pool_inputs(x, pool_size, strides, padding, mode, rank)
    y = np.empty(g.out_shape, dtype=x.dtype)
    if y.size:
        _pool.pool_forward(_lift(_c(x, x.dtype)), _lift(y), *_pool_args(g),
                           POOL_MODE_CODES[mode], get_num_threads())
    return y


def _pooling_backward(dy, x, pool_size, strides, padding, mode, rank):
    x, g = pool_inputs(x, pool_size, strides, padding, mode, rank)
    dy = check_dy(dy, g.out_shape)
    dtype = compute_dtype(x, dy)
    dx = np.zeros(x.shape, dtype=dtype) if dy.size == 0 else np.empty(x.shape, dtype=dtype)
    if dy.size:
        _pool.pool_backward(_lift(_c(dy, dtype)), _lift(_c(x, dtype)), _lift(dx),
                            *_pool_args(g), POOL_MODE_CODES[mode], get_num_threads())
    return dx


def _pool_args(g):
    """pool, strides and padding as the kernels' triples (depth first)."""
    if g.RANK == 3:
        return g.pool, g.strides, g.padding
    return (1,) + g.pool, (1,) + g.strides, ((0, 0),) + g.padding


def pool2d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, min or average pooling of x (N, H, W, C); strides default to pool_size.

    Average pooling divides by the number of real (non-padding) pixels in each window.
    """
    return _pooling(x, pool_size, strides, padding, mode, 2)


def pool2d_backward(dy, x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of pool2d with respect to x.

    Max/min send each window's gradient to its first extreme in row-major order
    (the first NaN, if the window holds one), as PyTorch does.
    """
    return _pooling_backward(dy, x, pool_size, strides, padding, mode, 2)


def pool3d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, min or average pooling of x (N, D, H, W, C); pool_size, strides an int or a
    triple, strides defaulting to pool_size; padding as conv3d's."""
    return _pooling(x, pool_size, strides, padding, mode, 3)


def pool3d_backward(dy, x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of pool3d with respect to x, as pool2d_backward's."""
    return _pooling_backward(dy, x, pool_size, strides, padding, mode, 3)


def conv1d(x, w, b=None, strides=1, padding="valid", dilation=1, groups=1):
    """1-D cross-correlation of x (N, L, C) with w (K, C // groups, O): y (N, L_out, O).

    padding: "valid", "same", "causal" ((K-1)*dilation zeros on the left, Keras), an int
    or a pair.
    """
    return conv1d_via_2d(conv2d, x, w, b, strides, padding, dilation, groups)


def conv1d_backward(dy, x, w, strides=1, padding="valid", dilation=1, groups=1):
    """Gradients of conv1d: (dx (N, L, C), dw (K, C // groups, O), db (O,))."""
    return conv1d_backward_via_2d(conv2d_backward, dy, x, w, strides, padding, dilation,
                                  groups)
