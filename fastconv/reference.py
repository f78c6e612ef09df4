"""The NumPy baseline: fastconv's kernel API in plain NumPy, written for clarity.

Same functions and signatures as fastconv.ops. It is the test oracle and the
benchmark baseline, so it favours obvious correctness over speed: convolution
is a sum over kernel taps of (strided slice) @ (weight slice), pooling works on
sliding-window views. Layouts: x (N, H, W, C), w (KH, KW, C_in, C_out).
"""
import numpy as np

from fastconv._geometry import (Conv2DGeometry, Conv2DTransposeGeometry,
                                conv1d_backward_via_2d, conv1d_via_2d, pool_inputs)
from fastconv._validate import (activation_mask, check_activation, check_bias, check_dy,
                                check_flag, compute_dtype, conv_inputs)

__all__ = ["conv2d", "conv2d_backward", "conv2d_transpose", "conv2d_transpose_backward",
           "pool2d", "pool2d_backward",
           "conv1d", "conv1d_backward"]


def _pad(x, padding, value=0.0):
    (pt, pb), (pl, pr) = padding
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def _tap(xp, r, s, g):
    """The input pixels that kernel tap (r, s) meets, one per output pixel: (N, OH, OW, C)."""
    (sh, sw), (dh, dw) = g.strides, g.dilation
    return xp[:, r * dh:r * dh + sh * (g.oh - 1) + 1:sh, s * dw:s * dw + sw * (g.ow - 1) + 1:sw, :]


def _group_slices(g):
    """(input channels, output channels) of each group, as slices."""
    cg, kg = g.c // g.groups, g.k // g.groups
    return [(slice(j * cg, (j + 1) * cg), slice(j * kg, (j + 1) * kg)) for j in range(g.groups)]


def conv2d(x, w, b=None, strides=1, padding="valid", activation=None, dilation=1, groups=1):
    """2-D cross-correlation of x (N, H, W, C) with w (KH, KW, C // groups, K), plus bias
    b (K,), then the activation (None or "relu"). Tap (r, s) reads the input at
    (r * dilation_h, s * dilation_w); with groups, output channels of group j see the
    input channels of group j only."""
    check_activation(activation)
    x, w, b = conv_inputs(x, w, b)
    g = Conv2DGeometry(x.shape, w.shape, strides, padding, dilation, groups)
    dtype = compute_dtype(x, w, b)
    xp = _pad(x.astype(dtype, copy=False), g.padding)
    w = w.astype(dtype, copy=False)
    y = np.zeros(g.out_shape, dtype=dtype)
    for r in range(g.kh):
        for s in range(g.kw):
            tap = _tap(xp, r, s, g)
            for cin, cout in _group_slices(g):
                y[..., cout] += tap[..., cin] @ w[r, s, :, cout]
    if b is not None:
        y += b.astype(dtype, copy=False)
    if activation == "relu":
        y = np.maximum(y, 0)
    return y


def conv2d_backward(dy, x, w, strides=1, padding="valid", activation=None, y=None,
                    input_gradient=True, dilation=1, groups=1):
    """Gradients of conv2d: returns (dx, dw, db) for the upstream gradient dy (N, OH, OW, K).

    activation="relu" with y, the output of conv2d(..., activation="relu"): dy is taken
    back through the ReLU first (it passes where y > 0). input_gradient=False: dx is None.
    """
    input_gradient = check_flag("input_gradient", input_gradient)
    x, w, _ = conv_inputs(x, w)
    g = Conv2DGeometry(x.shape, w.shape, strides, padding, dilation, groups)
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
    for r in range(g.kh):
        for s in range(g.kw):
            tap, dtap = _tap(xp, r, s, g), _tap(dxp, r, s, g)
            for cin, cout in _group_slices(g):
                dtap[..., cin] += dy[..., cout] @ w[r, s, :, cout].T
                dw[r, s, :, cout] = np.tensordot(tap[..., cin], dy[..., cout],
                                                 axes=([0, 1, 2], [0, 1, 2]))
    (pt, _), (pl, _) = g.padding
    dx = np.ascontiguousarray(dxp[:, pt:pt + g.h, pl:pl + g.w, :]) if input_gradient else None
    db = dy.sum(axis=(0, 1, 2))
    return dx, dw, db


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
    """Sliding windows of the padded input: (N, OH, OW, C, PH, PW)."""
    win = np.lib.stride_tricks.sliding_window_view(xp, g.pool, axis=(1, 2))
    sh, sw = g.strides
    return win[:, ::sh, ::sw]


def _pool_fill(mode):
    """Padding value that never wins: -inf for max, +inf for min, 0 for avg."""
    return {"max": -np.inf, "min": np.inf, "avg": 0.0}[mode]


def _avg_counts(g, dtype):
    """Number of real (non-padding) pixels in each window: (1, OH, OW, 1)."""
    ones = _pad(np.ones((1, g.h, g.w, 1), dtype=dtype), g.padding)
    return _windows(ones, g).sum(axis=(-2, -1))


def pool2d(x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Max, min or average pooling of x (N, H, W, C); strides default to pool_size.

    Average pooling divides by the number of real pixels in the window (Keras).
    """
    x, g = pool_inputs(x, pool_size, strides, padding, mode)
    win = _windows(_pad(x, g.padding, _pool_fill(mode)), g)
    if mode == "max":
        return win.max(axis=(-2, -1))
    if mode == "min":
        return win.min(axis=(-2, -1))
    return win.sum(axis=(-2, -1)) / _avg_counts(g, x.dtype)


def pool2d_backward(dy, x, pool_size=2, strides=None, padding="valid", mode="max"):
    """Gradient of pool2d with respect to x.

    Max/min send each window's gradient to its first extreme in row-major order
    (the first NaN if the window holds one), as PyTorch does.
    """
    x, g = pool_inputs(x, pool_size, strides, padding, mode)
    dy = check_dy(dy, g.out_shape)
    dtype = compute_dtype(x, dy)
    dy = dy.astype(dtype, copy=False)
    (pt, _), (pl, _) = g.padding
    ph, pw = g.pool
    sh, sw = g.strides
    dxp = np.zeros((g.n, g.h + sum(g.padding[0]), g.w + sum(g.padding[1]), g.c), dtype=dtype)
    if mode == "avg":
        share = dy / _avg_counts(g, dtype)
        for r in range(ph):
            for s in range(pw):
                dxp[:, r:r + sh * (g.oh - 1) + 1:sh, s:s + sw * (g.ow - 1) + 1:sw, :] += share
    else:
        win = _windows(_pad(x.astype(dtype, copy=False), g.padding, _pool_fill(mode)), g)
        flat = win.reshape(win.shape[:4] + (ph * pw,))
        pick = np.argmax(flat, axis=-1) if mode == "max" else np.argmin(flat, axis=-1)
        n, oh, ow, c = np.indices(pick.shape, sparse=True)
        rows = oh * sh + pick // pw
        cols = ow * sw + pick % pw
        np.add.at(dxp, (n, rows, cols, c), dy)
    return np.ascontiguousarray(dxp[:, pt:pt + g.h, pl:pl + g.w, :])


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
