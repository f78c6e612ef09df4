"""Geometry of convolution and pooling calls: strides, padding, output sizes.

Conv2DGeometry and Pool2DGeometry validate one call's shapes and arguments and hold the
normalised values the kernels take; conv1d calls map onto conv2d on (N, 1, L, C).
"""
from fastconv._limits import check_sizes
from fastconv._validate import as_float_array, as_int, check_ndim, int_pair

POOL_MODES = ("max", "min", "avg")


def pool_inputs(x, pool_size, strides, padding, mode):
    """x (N, H, W, C) as a float array and the validated pooling geometry."""
    x = as_float_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    return x, Pool2DGeometry(x.shape, pool_size, strides, padding, mode)


def same_padding(size, k, stride):
    """Keras/TensorFlow "same": output ceil(size/stride), extra padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def resolve_padding(name, padding, in_hw, k_hw, s_hw, max_pad_hw):
    """Padding as ((top, bottom), (left, right)).

    Accepts "valid", "same", an int, a pair (symmetric per dimension) or a pair of
    pairs. Each side may be at most max_pad_hw[d]: beyond that, whole output rows
    would see nothing but padding, which is never what a caller meant.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            return tuple(same_padding(i, k, s) for i, k, s in zip(in_hw, k_hw, s_hw))
        raise ValueError(f"{name} must be 'valid', 'same', an int or a pair, got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
            isinstance(p, (tuple, list)) for p in padding):
        pads = tuple(int_pair(name, p, minimum=0) for p in padding)
    else:
        pads = tuple((p, p) for p in int_pair(name, padding, minimum=0))
    for d, (before, after) in enumerate(pads):
        if max(before, after) > max_pad_hw[d]:
            raise ValueError(
                f"{name} {padding!r} is too large for a window of size {k_hw[d]} "
                f"(at most {max_pad_hw[d]} per side along {'HW'[d]})")
    return pads


def out_size(name, size, pad, k, stride, axis):
    padded = size + pad[0] + pad[1]
    if padded < k:
        raise ValueError(
            f"{name} size {k} along {axis} is larger than the padded input ({size} + "
            f"{pad[0]} + {pad[1]} = {padded})")
    return (padded - k) // stride + 1


class Conv2DGeometry:
    """Validated shapes of one conv2d call: input, kernel, strides, padding, dilation,
    groups, output. With groups g, w is (KH, KW, C // g, K) and output channels
    [j*K/g, (j+1)*K/g) see input channels [j*C/g, (j+1)*C/g) only."""

    def __init__(self, x_shape, w_shape, strides, padding, dilation=1, groups=1):
        n, h, w, c = x_shape
        kh, kw, c_in, c_out = w_shape
        groups = as_int("groups", groups)
        if groups < 1:
            raise ValueError(f"groups must be >= 1, got {groups}")
        if c % groups or c_out % groups:
            raise ValueError(f"groups={groups} must divide the input channels ({c}, x shape "
                             f"{tuple(x_shape)}) and the output channels ({c_out}, w shape "
                             f"{tuple(w_shape)})")
        if c_in * groups != c:
            per_group = "" if groups == 1 else f" in {groups} groups, {c // groups} each"
            raise ValueError(f"w has {c_in} input channels (shape {tuple(w_shape)}) but x has "
                             f"{c}{per_group} (shape {tuple(x_shape)})")
        if min(h, w, c, kh, kw, c_out) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}, w {w_shape}")
        self.n, self.h, self.w, self.c = n, h, w, c
        self.kh, self.kw, self.k = kh, kw, c_out
        self.groups = groups
        self.strides = int_pair("strides", strides)
        self.dilation = int_pair("dilation", dilation)
        # The dilated kernel's extent: what padding and output sizes are made of.
        ekh, ekw = ((k - 1) * d + 1 for k, d in zip((kh, kw), self.dilation))
        self.padding = resolve_padding("padding", padding, (h, w), (ekh, ekw), self.strides,
                                       (ekh - 1, ekw - 1))
        what = "kernel" if self.dilation == (1, 1) else "dilated kernel"
        self.oh = out_size(what, h, self.padding[0], ekh, self.strides[0], "H")
        self.ow = out_size(what, w, self.padding[1], ekw, self.strides[1], "W")
        # Every pass holds x, w and y (or dx, dw and dy) at once, and a zero-padded copy
        # of x when there is padding.
        (pt, pb), (pl, pr) = self.padding
        counts = {"x": n * h * w * c, "w": kh * kw * c_in * c_out,
                  "y": n * self.oh * self.ow * c_out}
        if pt or pb or pl or pr:
            counts["padded x"] = n * (h + pt + pb) * (w + pl + pr) * c
        check_sizes(f"conv2d of x {tuple(x_shape)} with w {tuple(w_shape)}", counts)

    @property
    def depthwise(self):
        """One input channel per group: the depthwise kernel's case."""
        return self.groups == self.c

    @property
    def out_shape(self):
        return (self.n, self.oh, self.ow, self.k)


class Pool2DGeometry:
    """Validated shapes of one pool2d call."""

    def __init__(self, x_shape, pool_size, strides, padding, mode):
        if mode not in POOL_MODES:
            raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
        n, h, w, c = x_shape
        if min(h, w, c) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}")
        self.n, self.h, self.w, self.c = n, h, w, c
        self.mode = mode
        self.pool = int_pair("pool_size", pool_size)
        self.strides = self.pool if strides is None else int_pair("strides", strides)
        # PyTorch's rule: padding at most half the window, so every window holds a real
        # pixel ("same" always satisfies it).
        self.padding = resolve_padding("padding", padding, (h, w), self.pool, self.strides,
                                       (self.pool[0] // 2, self.pool[1] // 2))
        self.oh = out_size("pool_size", h, self.padding[0], self.pool[0], self.strides[0], "H")
        self.ow = out_size("pool_size", w, self.padding[1], self.pool[1], self.strides[1], "W")
        check_sizes(f"pool2d of x {tuple(x_shape)}",
                    {"x": n * h * w * c, "y": n * self.oh * self.ow * c})

    @property
    def out_shape(self):
        return (self.n, self.oh, self.ow, self.c)


class Conv2DTransposeGeometry:
    """Validated shapes of one conv2d_transpose call: x (N, H, W, C_in), w (KH, KW, C_out,
    C_in) (Keras's Conv2DTranspose layout), and the conv2d it transposes: `forward` maps
    an (N, OH, OW, C_out) input to x's shape with w, so conv2d_transpose is that conv2d's
    backward-data, and its gradients are that conv2d and its weight gradient.

    Output size per axis (Keras's rule, with the dilated kernel extent k):
      padding "valid": (in - 1) * s + k + output_padding, output_padding defaulting to
        max(s - k, 0);
      padding "same": in * s, or (in - 1) * s + k - 2 * (k // 2) + output_padding when it
        is given; the forward conv pads as conv2d's "same" would on that output;
      explicit padding ((top, bottom), (left, right)) as in conv2d: (in - 1) * s + k -
        top - bottom + output_padding (PyTorch's rule), output_padding defaulting to 0.
    output_padding must be smaller than the stride (Keras, PyTorch).
    """

    def __init__(self, x_shape, w_shape, strides, padding, output_padding=None, dilation=1):
        n, h, w, c_in = x_shape
        kh, kw, c_out, w_in = w_shape
        if w_in != c_in:
            raise ValueError(f"w has {w_in} input channels (last axis of w, shape "
                             f"{tuple(w_shape)}: (KH, KW, C_out, C_in)) but x has {c_in} "
                             f"(shape {tuple(x_shape)})")
        if min(h, w, c_in, kh, kw, c_out) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}, w {w_shape}")
        strides = int_pair("strides", strides)
        dilation = int_pair("dilation", dilation)
        extents = tuple((k - 1) * d + 1 for k, d in zip((kh, kw), dilation))
        if output_padding is not None:
            output_padding = int_pair("output_padding", output_padding, minimum=0)
            for axis, op, s in zip("HW", output_padding, strides):
                if op >= s:
                    raise ValueError(f"output_padding {output_padding} must be smaller than "
                                     f"strides {strides} (along {axis})")
        mode = padding.lower() if isinstance(padding, str) else None
        out, pads = [], []
        for d, (size, k, s) in enumerate(zip((h, w), extents, strides)):
            op = None if output_padding is None else output_padding[d]
            if mode == "valid":
                length = (size - 1) * s + k + (max(s - k, 0) if op is None else op)
                pad = (0, 0)
            elif mode == "same":
                length = size * s if op is None else (size - 1) * s + k - 2 * (k // 2) + op
                pad = same_padding(length, k, s)
            elif mode is None:
                pad = None
            else:
                raise ValueError(f"padding must be 'valid', 'same', an int or a pair, got "
                                 f"{padding!r}")
            out.append(None if pad is None else length)
            pads.append(pad)
        if mode is None:
            pads = resolve_padding("padding", padding, (h, w), extents, strides,
                                   tuple(k - 1 for k in extents))
            op = output_padding or (0, 0)
            out = [(size - 1) * s + k - sum(p) + o
                   for size, k, s, p, o in zip((h, w), extents, strides, pads, op)]
        if min(out) < 1:
            raise ValueError(f"conv2d_transpose of x {tuple(x_shape)} with w {tuple(w_shape)}, "
                             f"padding {padding!r} gives an empty output {tuple(out)}")
        self.n, self.h, self.w, self.c_in, self.c_out = n, h, w, c_in, c_out
        self.out_shape = (n, out[0], out[1], c_out)
        self.forward = Conv2DGeometry(self.out_shape, w_shape, strides, tuple(pads), dilation)
        if self.forward.out_shape != tuple(x_shape):
            raise ValueError(f"conv2d_transpose: the output {self.out_shape} does not map back "
                             f"to x {tuple(x_shape)} with strides {strides} and padding "
                             f"{padding!r}")


def _single_int(name, value):
    """An int, or a 1-tuple/list of one (Keras's 1-D spelling), >= 1."""
    v = as_int(name, value[0] if isinstance(value, (tuple, list)) and len(value) == 1
               else value)
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return v


def conv1d_as_2d(x_shape, w_shape, strides, padding, dilation=1):
    """Map a conv1d call (N, L, C) x (K, C, O) to conv2d arguments on (N, 1, L, C).

    Returns (strides2d, padding2d, dilation2d). padding "causal" pads (K-1)*dilation on
    the left (Keras).
    """
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D (N, L, C), got shape {x_shape}")
    if len(w_shape) != 3:
        raise ValueError(f"w must be 3-D (K, C_in, C_out), got shape {w_shape}")
    stride = _single_int("strides", strides)
    rate = _single_int("dilation", dilation)
    span = (w_shape[0] - 1) * rate + 1
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "causal":
            pads = (span - 1, 0)
        elif mode in ("valid", "same"):
            pads = same_padding(x_shape[1], span, stride) if mode == "same" else (0, 0)
        else:
            raise ValueError(
                f"padding must be 'valid', 'same', 'causal' or an int, got {padding!r}")
    elif isinstance(padding, (tuple, list)):
        pads = int_pair("padding", padding, minimum=0)
    else:
        pads = (int_pair("padding", padding, minimum=0)[0],) * 2
    return (1, stride), ((0, 0), pads), (1, rate)


def conv1d_via_2d(conv2d, x, w, b, strides, padding, dilation=1, groups=1):
    """conv1d on (N, L, C) x (K, C, O) as conv2d on (N, 1, L, C) x (1, K, C, O)."""
    x, w = as_float_array("x", x), as_float_array("w", w)
    s2, p2, d2 = conv1d_as_2d(x.shape, w.shape, strides, padding, dilation)
    return conv2d(x[:, None], w[None], b, s2, p2, dilation=d2, groups=groups)[:, 0]


def conv1d_backward_via_2d(conv2d_backward, dy, x, w, strides, padding, dilation=1,
                           groups=1):
    """conv1d's (dx, dw, db) from conv2d_backward on the 2-D views of conv1d_via_2d."""
    x, w = as_float_array("x", x), as_float_array("w", w)
    s2, p2, d2 = conv1d_as_2d(x.shape, w.shape, strides, padding, dilation)
    dy = as_float_array("dy", dy)
    check_ndim("dy", dy, 3, "(N, L_out, C_out)")
    dx, dw, db = conv2d_backward(dy[:, None], x[:, None], w[None], s2, p2, dilation=d2,
                                 groups=groups)
    return dx[:, 0], dw[0], db
