"""The NumPy baseline: fastconv's kernel API in plain NumPy, written for clarity.

Same functions and signatures as fastconv.ops. It is the test oracle and the
benchmark baseline, so it favours obvious correctness over speed: convolution
is a sum over kernel taps of (strided slice) @ (weight slice), pooling works on
sliding-window views. Layouts: x (N, H, W, C), w (KH, KW, C_in, C_out).
"""
import itertools

import numpy as np

from fastconv._geometry import (CONV_GEOMETRIES, Conv2DTransposeGeometry,
                                conv1d_backward_via_2d, conv1d_via_2d, pool_inputs)
from fastconv._validate import (activation_mask, check_activation, check_bias, check_dy,
                                check_flag, compute_dtype, conv_inputs)

__all__ = ["conv2d", "conv2d_backward", "conv3d", "conv3d_backward", "conv2d_transpose",
           "conv2d_transpose_backward", "pool2d", "pool2d_backward", "pool3d",
           "pool3d_backward",
           "conv1d", "conv1d_backward"]


def _pad(x, padding, value=0.0):
    """x (N, *spatial, C) padded by one (before, after) pair per spatial axis."""
    return np.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),), constant_values=value)


def _crop(xp, g):
    """The inverse of _pad: the real pixels of a padded (N, *spatial, C) array."""
    return np.ascontiguousarray(xp[(slice(None),) + tuple(
        slice(before, before + size) for (before, _), size in zip(g.padding, g.spatial))])


def _taps(g):
    """Every kernel tap, as an index tuple into the spatial axes of w."""
    return itertools.product(*(range(k) for k in g.window))


def _tap(xp, tap, g):
    """The input pixels that kernel tap `tap` meets, one per output pixel:
    (N, *out_spatial, C)."""
    return xp[(slice(None),) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in
                                     zip(tap, g.dilation, g.strides, g.out_spatial))]


def _group_slices(g):
    """(input channels, output channels) of each group, as slices."""
    cg, kg = g.c // g.groups, g.k // g.groups
    return [(slice(j * cg, (j + 1) * cg), slice(j * kg, (j + 1) * kg)) for j in range(g.groups)]


def _convolve(x, w, b, strides, padding, activation, dilation, groups, rank):
    check_activation(activation)
    x, w, b = conv_inputs(x, w, b, rank)
    g = CONV_GEOMETRIES[rank](x.shape, w.shape, strides, padding, dilation, groups)
    dtype = compute_dtype(x, w, b)
    xp = _pad(x.astype(dtype, copy=False), g.padding)
    w = w.astype(dtype, copy=False)
    y = np.zeros(g.out_shape, dtype=dtype)
    for tap in _taps(g):
        pixels = _tap(xp, tap, g)
        for cin, cout in _group_slices(g):
            y[..., cout] += pixels[..., cin] @ w[tap][:, cout]
    if b is not None:
        y += b.astype(dtype, copy=False)
    if activation == "relu":
        y = np.maximum(y, 0)
    return y


def _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient, dilation,
                       groups, rank):
    input_gradient = check_flag("input_gradient", input_gradient)
    x, w, _ = conv_inputs(x, w, None, rank)
    g = CONV_GEOMETRIES[rank](x.shape, w.shape, strides, padding, dilation, groups)
    dy = check_dy(dy, g.out_shape)
    y = activation_mask(activation, y, g.out_shape)
    dtype = compute_dtype(x, w, dy)
    xp = _pad(x.astype(dtype, copy=False), g.padding)
    dy = dy.astype(dtype, copy=False)
    if y is not None:
        dy = np.where(y > 0, dy, 0).astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=dtype)
    spatial_axes = tuple(range(rank + 1))
    for tap in _taps(g):
        pixels, dpixels = _tap(xp, tap, g), _tap(dxp, tap, g)
        for cin, cout in _group_slices(g):
            dpixels[..., cin] += dy[..., cout] @ w[tap][:, cout].T
            dw[tap][:, cout] = np.tensordot(pixels[..., cin], dy[..., cout],
                                            axes=(spatial_axes, spatial_axes))
    dx = _crop(dxp, g) if input_gradient else None
    return dx, dw, dy.sum(axis=spatial_axes)


def conv2d(x, w, b=None, strides=1, padding="valid", activation=None, dilation=1, groups=1):
    """2-D cross-correlation of x (N, H, W, C) with w (KH, KW, C // groups, K), plus bias
    b (K,), then the activation (None or "relu"). Tap (r, s) reads the input at
    (r * dilation_h, s * dilation_w); with groups, output channels of group j see the
    input channels of group j only."""
    return _convolve(x, w, b, strides, padding, activation, dilation, groups, 2)


def conv2d_backward(dy, x, w, strides=1, padding="valid", activation=None, y=None,
                    input_gradient=True, dilation=1, groups=1):
    """Gradients of conv2d: returns (dx, dw, db) for the upstream gradient dy (N, OH, OW, K).

    activation="relu" with y, the output of conv2d(..., activation="relu"): dy is taken
    back through the ReLU first (it passes where y > 0). input_gradient=False: dx is None.
    """
    return _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient,
                              dilation, groups, 2)


def conv3d(x, w, b=None, strides=1, padding="valid", activation=None, dilation=1, groups=1):
    """3-D cross-correlation of x (N, D, H, W, C) with w (KD, KH, KW, C // groups, K), plus
    bias b (K,), then the activation; arguments as conv2d's, per axis (d, h, w)."""
    return _convolve(x, w, b, strides, padding, activation, dilation, groups, 3)


def conv3d_backward(dy, x, w, strides=1, padding="valid", activation=None, y=None,
                    input_gradient=True, dilation=1, groups=1):
    """Gradients of conv3d: (dx, dw, db), as conv2d_backward."""
    return _convolve_backward(dy, x, w, strides, padding, activation, y, input_gradient,
                              dilation, groups, 3)


def conv2d_transpose(x, w, b=None, strides=1, padding="valid", output_padding=None,
                     dilation=1):
    """Transposed 2-D convolution of x (N, H, W, C_in) with w (KH, KW, C_out, C_in), plus
    bias b (C_out,): the input gradient of the conv2d whose output x is."""
    x, w, _ = conv_inputs(x, w)
    b = check_bias(b, w.shape[2], w.shape)
    g = Conv2DTransposeGeometry(x.shape, w.shape, strides, padding, output_padding, dilation)
    f = g.forward
    dtype = compute_dtype(x, w, b)
    y, _, _ = conv2d_backward(x, np.zeros(g.out_shape, dtype), w, f.strides, f.padding,
                              dilation=f.dilation)
    return y if b is None else y + b.astype(dtype, copy=False)


def conv2d_transpose_backward(dy, x, w, strides=1, padding="valid", output_padding=None,
                              dilation=1):
    """Gradients of conv2d_transpose: (dx, dw, db). The transpose of the transpose is the
    conv2d, so dx = conv2d(dy, w) and dw is that conv2d's weight gradient."""
    x, w, _ = conv_inputs(x, w)
    g = Conv2DTransposeGeometry(x.shape, w.shape, strides, padding, output_padding, dilation)
    f = g.forward
    dy = check_dy(dy, g.out_shape)
    dx = conv2d(dy, w, None, f.strides, f.padding, dilation=f.dilation)
    _, dw, _ = conv2d_backward(x, dy, w, f.strides, f.padding, dilation=f.dilation)
    return dx, dw, dy.sum(axis=(0, 1, 2))


def _windows(xp, g):
    """Sliding windows of the padded input: (N, *out_spatial, C, *pool)."""
    rank = len(g.pool)
    win = np.lib.stride_tricks.sliding_window_view(xp, g.pool, axis=tuple(range(1, rank + 1)))
    return win[(slice(None),) + tuple(slice(None, None, s) for s in g.strides)]


def _pool_fill(mode):
    """Padding value that never wins: -inf for max, +inf for min, 0 for avg."""
    return {"max": -np.inf, "min": np.inf, "avg": 0.0}[mode]


def _window_axes(g):
    return tuple(range(-len(g.pool), 0))


def _avg_counts(g, dtype):
    """Number of real (non-padding) pixels in each window: (1, *out_spatial, 1)."""
    ones = _pad(np.ones((1,) + g.spatial + (1,), dtype=dtype), g.padding)
    return _windows(ones, g).sum(axis=_window_axes(g))


def _pool(x, pool_size, strides, padding, mode, rank):
    x, g = pool_inputs(x, pool_size, strides, padding, mode, rank)
    win = _windows(_pad(x, g.padding, _pool_fill(mode)), g)
    if mode == "max":
        return win.max(axis=_window_axes(g))
    if mode == "min":
        return win.min(axis=_window_axes(g))
    return win.sum(axis=_window_axes(g)) / _avg_counts(g, x.dtype)


def _pool_backward(dy, x, pool_size, strides, padding, mode, rank):
    x, g = pool_inputs(x, pool_size, strides, padding, mode, rank)
    dy = check_dy(dy, g.out_shape)
    dtype = compute_dtype(x, dy)
    dy = dy.astype(dtype, copy=False)
    dxp = np.zeros((g.n,) + tuple(s + sum(p) for s, p in zip(g.spatial, g.padding)) + (g.c,),
                   dtype=dtype)
    if mode == "avg":
        share = dy / _avg_counts(g, dtype)
        for offset in itertools.product(*(range(p) for p in g.pool)):
            dxp[(slice(None),) + tuple(slice(t, t + s * (o - 1) + 1, s) for t, s, o in
                                       zip(offset, g.strides, g.out_spatial))] += share
    else:
        win = _windows(_pad(x.astype(dtype, copy=False), g.padding, _pool_fill(mode)), g)
        flat = win.reshape(win.shape[:rank + 2] + (-1,))
        pick = np.argmax(flat, axis=-1) if mode == "max" else np.argmin(flat, axis=-1)
        n, *out, c = np.indices(pick.shape, sparse=True)
        offsets = np.unravel_index(pick, g.pool)  # the winner's place in its window
        where = [o * s + t for o, s, t in zip(out, g.strides, offsets)]
        np.add.at(dxp, (n, *where, c), dy)
    return _crop(dxp, g)


def pool2d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, min or average pooling of x (N, H, W, C); strides default to pool_size.

    Average pooling divides by the number of real pixels in the window (Keras).
    """
    return _pool(x, pool_size, strides, padding, mode, 2)


def pool2d_backward(dy, x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of pool2d with respect to x.

    Max/min send each window's gradient to its first extreme in row-major order
    (the first NaN if the window holds one), as PyTorch does.
    """
    return _pool_backward(dy, x, pool_size, strides, padding, mode, 2)


def pool3d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, min or average pooling of x (N, D, H, W, C), as pool2d per axis."""
    return _pool(x, pool_size, strides, padding, mode, 3)


def pool3d_backward(dy, x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of pool3d with respect to x, as pool2d_backward's."""
    return _pool_backward(dy, x, pool_size, strides, padding, mode, 3)


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
