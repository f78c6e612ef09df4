"""Geometry of convolution and pooling calls: strides, padding, output sizes.

ConvGeometry and PoolGeometry (2-D and 3-D subclasses) validate one call's shapes and
arguments and hold the normalised values the kernels take; conv1d calls map onto conv2d
on (N, 1, L, C), conv2d_transpose onto the conv2d it transposes.
"""
import math

from fastconv._limits import check_sizes
from fastconv._validate import COUNT_WORDS, as_float_array, as_int, check_ndim, int_pair, int_tuple

POOL_MODES = ("max", "min", "avg")
# Names of the spatial axes, for the last `rank` of them.
AXES = "DHW"
LAYOUTS = {2: "(N, H, W, C)", 3: "(N, D, H, W, C)"}


def pool_inputs(x, pool_size, strides, padding, mode, rank=2):
    """x (N, *spatial, C) as a float array and the validated pooling geometry."""
    x = as_float_array("x", x)
    check_ndim("x", x, rank + 2, LAYOUTS[rank])
    return x, POOL_GEOMETRIES[rank](x.shape, pool_size, strides, padding, mode)


def same_padding(size, k, stride):
    """Keras/TensorFlow "same": output ceil(size/stride), extra padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def resolve_padding(name, padding, sizes, windows, strides, max_pads):
    """Padding as one (before, after) pair per spatial axis.

    Accepts "valid", "same", an int, one int per axis (symmetric) or one pair per axis.
    Each side may be at most max_pads[d]: beyond that, whole output rows would see
    nothing but padding, which is never what a caller meant.
    """
    rank = len(sizes)
    spelling = f"'valid', 'same', an int or {COUNT_WORDS[rank]}"
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * rank
        if mode == "same":
            return tuple(same_padding(i, k, s) for i, k, s in zip(sizes, windows, strides))
        raise ValueError(f"{name} must be {spelling}, got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == rank and all(
            isinstance(p, (tuple, list)) for p in padding):
        pads = tuple(int_pair(name, p, minimum=0) for p in padding)
    else:
        pads = tuple((p, p) for p in int_tuple(name, padding, rank, minimum=0))
    for d, (before, after) in enumerate(pads):
        if max(before, after) > max_pads[d]:
            raise ValueError(
                f"{name} {padding!r} is too large for a window of size {windows[d]} "
                f"(at most {max_pads[d]} per side along {AXES[-rank:][d]})")
    return pads


def out_size(name, size, pad, k, stride, axis):
    padded = size + pad[0] + pad[1]
    if padded < k:
        raise ValueError(
            f"{name} size {k} along {axis} is larger than the padded input ({size} + "
            f"{pad[0]} + {pad[1]} = {padded})")
    return (padded - k) // stride + 1


class ConvGeometry:
    """Validated shapes of one convolution of rank RANK (2 or 3): input (N, *spatial, C),
    kernel (*window, C // groups, K), strides, padding, dilation, groups, output. Output
    channels [j*K/g, (j+1)*K/g) see input channels [j*C/g, (j+1)*C/g) only."""

    RANK = None

    def __init__(self, x_shape, w_shape, strides, padding, dilation=1, groups=1):
        rank = self.RANK
        n, *spatial, c = x_shape
        *window, c_in, c_out = w_shape
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
        if min(*spatial, c, *window, c_out) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}, w {w_shape}")
        self.n, self.c, self.k, self.groups = n, c, c_out, groups
        self.spatial, self.window = tuple(spatial), tuple(window)
        self.strides = int_tuple("strides", strides, rank)
        self.dilation = int_tuple("dilation", dilation, rank)
        # The dilated kernel's extent: what padding and output sizes are made of.
        extents = tuple((k - 1) * d + 1 for k, d in zip(window, self.dilation))
        self.padding = resolve_padding("padding", padding, self.spatial, extents, self.strides,
                                       tuple(e - 1 for e in extents))
        what = "kernel" if max(self.dilation) == 1 else "dilated kernel"
        self.out_spatial = tuple(out_size(what, size, pad, e, s, axis) for size, pad, e, s, axis
                                 in zip(self.spatial, self.padding, extents, self.strides,
                                        AXES[-rank:]))
        # Every pass holds x, w and y (or dx, dw and dy) at once, and a zero-padded copy
        # of x when there is padding.
        counts = {"x": math.prod(x_shape), "w": math.prod(w_shape),
                  "y": math.prod(self.out_shape)}
        if any(sum(p) for p in self.padding):
            counts["padded x"] = n * c * math.prod(s + sum(p) for s, p in
                                                   zip(spatial, self.padding))
        check_sizes(f"conv{rank}d of x {tuple(x_shape)} with w {tuple(w_shape)}", counts)

    @property
    def depthwise(self):
        """One input channel per group: the depthwise kernel's case."""
        return self.groups == self.c > 1

    @property
    def out_shape(self):
        return (self.n,) + self.out_spatial + (self.k,)


class Conv2DGeometry(ConvGeometry):
    """A conv2d call: x (N, H, W, C), w (KH, KW, C // groups, K)."""

    RANK = 2
    h = property(lambda self: self.spatial[0])
    w = property(lambda self: self.spatial[1])
    kh = property(lambda self: self.window[0])
    kw = property(lambda self: self.window[1])
    oh = property(lambda self: self.out_spatial[0])
    ow = property(lambda self: self.out_spatial[1])


class Conv3DGeometry(ConvGeometry):
    """A conv3d call: x (N, D, H, W, C), w (KD, KH, KW, C // groups, K)."""

    RANK = 3


class PoolGeometry:
    """Validated shapes of one pooling call of rank RANK (2 or 3)."""

    RANK = None

    def __init__(self, x_shape, pool_size, strides, padding, mode):
        rank = self.RANK
        if mode not in POOL_MODES:
            raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
        n, *spatial, c = x_shape
        if min(*spatial, c) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}")
        self.n, self.c, self.spatial, self.mode = n, c, tuple(spatial), mode
        self.pool = int_tuple("pool_size", pool_size, rank)
        self.strides = self.pool if strides is None else int_tuple("strides", strides, rank)
        # PyTorch's rule: padding at most half the window, so every window holds a real
        # pixel ("same" always satisfies it).
        self.padding = resolve_padding("padding", padding, self.spatial, self.pool, self.strides,
                                       tuple(p // 2 for p in self.pool))
        self.out_spatial = tuple(out_size("pool_size", size, pad, p, s, axis)
                                 for size, pad, p, s, axis in zip(self.spatial, self.padding,
                                                                  self.pool, self.strides,
                                                                  AXES[-rank:]))
        check_sizes(f"pool{rank}d of x {tuple(x_shape)}",
                    {"x": math.prod(x_shape), "y": math.prod(self.out_shape)})

    @property
    def out_shape(self):
        return (self.n,) + self.out_spatial + (self.c,)


class Pool2DGeometry(PoolGeometry):
    RANK = 2
    h = property(lambda self: self.spatial[0])
    w = property(lambda self: self.spatial[1])
    oh = property(lambda self: self.out_spatial[0])
    ow = property(lambda self: self.out_spatial[1])


class Pool3DGeometry(PoolGeometry):
    RANK = 3


POOL_GEOMETRIES = {2: Pool2DGeometry, 3: Pool3DGeometry}
CONV_GEOMETRIES = {2: Conv2DGeometry, 3: Conv3DGeometry}


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
