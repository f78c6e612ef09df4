"""Argument checking and normalisation shared by fastconv.ops and fastconv.reference.

Everything a kernel trusts is established here, in Python, before any nogil code runs:
dtypes, ranks, matching shapes, positive strides, sane padding, non-empty outputs,
and sizes: every count the C kernels index with fits their index type, and a call whose
arrays cannot fit in this machine's memory fails here, not inside a kernel.
Errors name the argument and the offending shape or value.
"""
import functools
import numbers
import operator
import os
import resource

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
POOL_MODES = ("max", "min", "avg")

# The kernels index arrays with C `long` (conv.h, pool.h) and allocate sizeof(T) * count
# bytes: every element count, offset and byte count they form must stay below this.
C_INDEX_MAX = int(np.iinfo(np.dtype("l")).max)
# Overflow checks use the widest element (float64); memory checks the narrowest
# (float32), so that they reject only calls that cannot fit whatever the dtype.
MAX_ITEMSIZE = np.dtype(np.float64).itemsize
MIN_ITEMSIZE = np.dtype(np.float32).itemsize
# A cgroup (container) memory limit, when there is one.
CGROUP_MEMORY_MAX = "/sys/fs/cgroup/memory.max"


def as_float_array(name, value):
    """Return `value` as an ndarray of float32 or float64, or raise TypeError."""
    if value is None:
        raise TypeError(f"{name} must be a float32 or float64 array, got None")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a float32 or float64 array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a float32 or float64 array: {exc}") from None
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {arr.dtype}")
    return arr


def check_ndim(name, arr, ndim, layout):
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {arr.shape}")


def conv_inputs(x, w, b=None):
    """x (N, H, W, C), w (KH, KW, C_in, C_out) and optional b (C_out,) as float arrays."""
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    check_ndim("x", x, 4, "(N, H, W, C)")
    check_ndim("w", w, 4, "(KH, KW, C_in, C_out)")
    if b is not None:
        b = as_float_array("b", b)
        if b.shape != (w.shape[3],):
            raise ValueError(f"b must have shape ({w.shape[3]},) to match w {w.shape}, "
                             f"got {b.shape}")
    return x, w, b


def pool_inputs(x, pool_size, strides, padding, mode):
    """x (N, H, W, C) as a float array and the validated pooling geometry."""
    x = as_float_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    return x, Pool2DGeometry(x.shape, pool_size, strides, padding, mode)


def check_dy(dy, expected_shape):
    """dy as a float array of exactly the forward output's shape."""
    dy = as_float_array("dy", dy)
    if dy.shape != tuple(expected_shape):
        raise ValueError(f"dy must have the output's shape {tuple(expected_shape)}, "
                         f"got {dy.shape}")
    return dy


# Activations the convolution kernels can fuse (None: none).
FUSED_ACTIVATIONS = (None, "relu")


def check_activation(activation):
    """activation, if the kernels can fuse it; ValueError otherwise."""
    if not any(activation is a or (isinstance(activation, str) and activation == a)
               for a in FUSED_ACTIVATIONS):
        raise ValueError(f"activation must be one of {FUSED_ACTIVATIONS} for a fused "
                         f"convolution, got {activation!r}")
    return activation


def check_flag(name, value):
    """A bool (Python or NumPy); TypeError for anything else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def activation_mask(activation, y, out_shape):
    """For the backward of a fused activation: y (the forward's output, which decides where
    the gradient passes) checked against the output shape; None without an activation."""
    if check_activation(activation) is None:
        if y is not None:
            raise ValueError("y is only used with activation='relu'; pass activation='relu' "
                             "or leave y out")
        return None
    if y is None:
        raise ValueError("activation='relu' needs y, the forward's output: the gradient "
                         "passes where y > 0")
    y = as_float_array("y", y)
    if y.shape != tuple(out_shape):
        raise ValueError(f"y must have the output's shape {tuple(out_shape)}, got {y.shape}")
    return y


def compute_dtype(*arrays):
    """The wider float dtype of the arrays (mixed float32/float64 is computed in float64)."""
    return np.result_type(*[a.dtype for a in arrays if a is not None])


def as_int(name, value):
    """An int from a Python/NumPy integer; TypeError for bool, float, str, None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return operator.index(value)


def int_pair(name, value, minimum=1):
    """Normalise an int or a pair of ints to a tuple (a, b), each >= minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        pair = (as_int(name, value[0]), as_int(name, value[1]))
    else:
        try:
            v = as_int(name, value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
        pair = (v, v)
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if max(pair) > C_INDEX_MAX:
        raise ValueError(f"{name} must be at most {C_INDEX_MAX} (the kernels' C index "
                         f"limit), got {value!r}")
    return pair


@functools.lru_cache(maxsize=None)
def _machine_memory():
    """Physical memory, or a container's (cgroup) limit when lower; read once."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open(CGROUP_MEMORY_MAX) as f:
            value = f.read().strip()
    except OSError:
        return limit
    return min(limit, int(value)) if value.isdigit() else limit


def memory_limit():
    """Bytes this process may use at most: the machine's memory, or the address-space
    rlimit when that is lower (it may change at run time, so it is read every time)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    machine = _machine_memory()
    return machine if soft == resource.RLIM_INFINITY else min(machine, soft)


def check_sizes(what, counts):
    """Raise before any allocation if the arrays of a call do not fit.

    counts: {array name: element count} of arrays the call holds at the same time, a
    lower bound of its footprint. ValueError if one count's bytes overflow the C index
    type; MemoryError if together, as float32, they exceed memory_limit().
    """
    for name, count in counts.items():
        if count * MAX_ITEMSIZE > C_INDEX_MAX:
            raise ValueError(f"{what}: {name} would hold {count} elements; their bytes "
                             f"exceed the kernels' C index limit ({C_INDEX_MAX})")
    needed, limit = sum(counts.values()) * MIN_ITEMSIZE, memory_limit()
    if needed > limit:
        sizes = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise MemoryError(f"{what} needs at least {needed / 2**30:.1f} GiB ({sizes} "
                          f"elements), more than the {limit / 2**30:.1f} GiB this process "
                          f"may use")


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
    """Validated shapes of one conv2d call: input, kernel, strides, padding, output."""

    def __init__(self, x_shape, w_shape, strides, padding):
        n, h, w, c = x_shape
        kh, kw, c_in, c_out = w_shape
        if c_in != c:
            raise ValueError(
                f"w has {c_in} input channels (shape {w_shape}) but x has {c} (shape {x_shape})")
        if min(h, w, c, kh, kw, c_out) == 0:
            raise ValueError(f"zero-size dimension: x {x_shape}, w {w_shape}")
        self.n, self.h, self.w, self.c = n, h, w, c
        self.kh, self.kw, self.k = kh, kw, c_out
        self.strides = int_pair("strides", strides)
        self.padding = resolve_padding("padding", padding, (h, w), (kh, kw), self.strides,
                                       (kh - 1, kw - 1))
        self.oh = out_size("kernel", h, self.padding[0], kh, self.strides[0], "H")
        self.ow = out_size("kernel", w, self.padding[1], kw, self.strides[1], "W")
        # Every pass holds x, w and y (or dx, dw and dy) at once, and a zero-padded copy
        # of x when there is padding.
        (pt, pb), (pl, pr) = self.padding
        counts = {"x": n * h * w * c, "w": kh * kw * c_in * c_out,
                  "y": n * self.oh * self.ow * c_out}
        if pt or pb or pl or pr:
            counts["padded x"] = n * (h + pt + pb) * (w + pl + pr) * c
        check_sizes(f"conv2d of x {tuple(x_shape)} with w {tuple(w_shape)}", counts)

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


def conv1d_as_2d(x_shape, w_shape, strides, padding):
    """Map a conv1d call (N, L, C) x (K, C, O) to conv2d arguments on (N, 1, L, C).

    Returns (strides2d, padding2d). padding "causal" pads K-1 on the left (Keras).
    """
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D (N, L, C), got shape {x_shape}")
    if len(w_shape) != 3:
        raise ValueError(f"w must be 3-D (K, C_in, C_out), got shape {w_shape}")
    stride = as_int("strides", strides[0] if isinstance(strides, (tuple, list)) and
                    len(strides) == 1 else strides)
    if stride < 1:
        raise ValueError(f"strides must be >= 1, got {strides!r}")
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "causal":
            return (1, stride), ((0, 0), (w_shape[0] - 1, 0))
        if mode not in ("valid", "same"):
            raise ValueError(
                f"padding must be 'valid', 'same', 'causal' or an int, got {padding!r}")
        return (1, stride), ((0, 0), same_padding(x_shape[1], w_shape[0], stride)
                             if mode == "same" else (0, 0))
    if isinstance(padding, (tuple, list)):
        before, after = int_pair("padding", padding, minimum=0)
    else:
        before = after = int_pair("padding", padding, minimum=0)[0]
    return (1, stride), ((0, 0), (before, after))


def conv1d_via_2d(conv2d, x, w, b, strides, padding):
    """conv1d on (N, L, C) x (K, C, O) as conv2d on (N, 1, L, C) x (1, K, C, O)."""
    x, w = as_float_array("x", x), as_float_array("w", w)
    s2, p2 = conv1d_as_2d(x.shape, w.shape, strides, padding)
    return conv2d(x[:, None], w[None], b, s2, p2)[:, 0]


def conv1d_backward_via_2d(conv2d_backward, dy, x, w, strides, padding):
    """conv1d's (dx, dw, db) from conv2d_backward on the 2-D views of conv1d_via_2d."""
    x, w = as_float_array("x", x), as_float_array("w", w)
    s2, p2 = conv1d_as_2d(x.shape, w.shape, strides, padding)
    dy = as_float_array("dy", dy)
    check_ndim("dy", dy, 3, "(N, L_out, C_out)")
    dx, dw, db = conv2d_backward(dy[:, None], x[:, None], w[None], s2, p2)
    return dx[:, 0], dw[0], db
