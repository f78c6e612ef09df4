"""Validation of the kernels' arguments, shared by fastconv.ops and fastconv.reference.

Arrays become float32/float64 ndarrays of the right rank and matching shapes; flags,
integers and the fused activation are checked. Errors name the argument and the
offending shape or value, and are raised here, before any nogil code runs.
"""
import numbers
import operator

import numpy as np

from fastconv._limits import C_INDEX_MAX

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


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


# Layouts of the convolution arguments by rank, for error messages.
X_LAYOUTS = {2: "(N, H, W, C)", 3: "(N, D, H, W, C)"}
W_LAYOUTS = {2: "(KH, KW, C_in, C_out)", 3: "(KD, KH, KW, C_in, C_out)"}


def conv_inputs(x, w, b=None, rank=2):
    """x (N, *spatial, C), w (*window, C_in, C_out) and optional b (C_out,) as float
    arrays, for a convolution of `rank` spatial axes."""
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    check_ndim("x", x, rank + 2, X_LAYOUTS[rank])
    check_ndim("w", w, rank + 2, W_LAYOUTS[rank])
    return x, w, check_bias(b, w.shape[-1], w.shape)


def check_bias(b, channels, w_shape):
    """None, or b as a float array of shape (channels,): w's output channels."""
    if b is None:
        return None
    b = as_float_array("b", b)
    if b.shape != (channels,):
        raise ValueError(f"b must have shape ({channels},) to match w {tuple(w_shape)}, "
                         f"got {b.shape}")
    return b


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
    if type(value) is int:  # the common case, without the slow Integral ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return operator.index(value)


COUNT_WORDS = {2: "a pair", 3: "a triple"}


def _int_spelling(count):
    return f"an int or {COUNT_WORDS.get(count, f'{count}')} of ints"


def int_tuple(name, value, count, minimum=1):
    """Normalise an int or `count` ints to a tuple of `count` ints, each >= minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(f"{name} must be {_int_spelling(count)}, got {value!r}")
        values = tuple([as_int(name, v) for v in value])
    else:
        try:
            v = as_int(name, value)
        except TypeError:
            raise TypeError(f"{name} must be {_int_spelling(count)}, got {value!r}") from None
        values = (v,) * count
    if min(values) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if max(values) > C_INDEX_MAX:
        raise ValueError(f"{name} must be at most {C_INDEX_MAX} (the kernels' C index "
                         f"limit), got {value!r}")
    return values


def int_pair(name, value, minimum=1):
    """Normalise an int or a pair of ints to a tuple (a, b), each >= minimum."""
    return int_tuple(name, value, 2, minimum)
