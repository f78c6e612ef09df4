"""Checking what users hand to fit/evaluate/predict, once per call (never per batch)."""
import numbers

import numpy as np

__all__ = ["as_inputs", "as_input_list", "as_target_list", "check_same_length",
           "check_batch_size", "validation_split", "split_arrays", "unpack_validation_data"]


def _one_per_name(value, names, what, kind, ranks):
    """value (one array, a list in the model's order, or a dict by name) as a list with
    one entry per name. ranks: the expected ndim of each entry (None: unknown)."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        extra = sorted(set(value) - set(names))
        if missing or extra:
            raise ValueError(f"{what} is a dict with keys {sorted(value)}, but the model's "
                             f"{kind}s are {names}")
        return [value[n] for n in names]
    if len(names) == 1:
        # Keras accepts [x] for a model of one input; a list of samples is not that.
        if (isinstance(value, (list, tuple)) and len(value) == 1
                and isinstance(value[0], np.ndarray)
                and (ranks[0] is None or value[0].ndim == ranks[0])):
            return [value[0]]
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        got = (f"a {type(value).__name__} of {len(value)}" if isinstance(value, (list, tuple))
               else type(value).__name__)
        raise ValueError(f"the model has {len(names)} {kind}s {names}: {what} must be a list "
                         f"of {len(names)} arrays in that order, or a dict keyed by those "
                         f"names, got {got}")
    return list(value)


def as_input_list(x, names, shapes):
    """x for a model with inputs `names` of `shapes` (None: unknown) as a list of checked
    arrays of one length."""
    ranks = [None if s is None else len(s) + 1 for s in shapes]
    xs = _one_per_name(x, names, "x", "input", ranks)
    xs = [as_inputs(a, shape, name if len(names) > 1 else None)
          for a, name, shape in zip(xs, names, shapes)]
    for a, name in zip(xs[1:], names[1:]):
        if len(a) != len(xs[0]):
            raise ValueError(f"all inputs must hold the same number of samples: "
                             f"{names[0]!r} has {len(xs[0])}, {name!r} has {len(a)}")
    return xs


def as_target_list(y, names, length):
    """y for a model with outputs `names` as a list (None where an output has no target),
    each with `length` samples."""
    ys = _one_per_name(y, names, "y", "output", [None] * len(names))
    return [None if t is None else check_same_length(range(length), t) for t in ys]


def as_inputs(x, input_shape, name=None):
    """x as a numeric array whose samples have `input_shape` (None: any shape); `name`
    names the input of a model with several."""
    if x is None:
        raise TypeError("x must be an array of input samples, got None")
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of samples (N, ...), got shape {x.shape}")
    if input_shape is not None and x.shape[1:] != tuple(input_shape):
        hint = ""
        if x.shape[1:] + (1,) == tuple(input_shape):
            hint = " (add the channel axis: x[..., None] or x.reshape(-1, *input_shape))"
        which = "inputs" if name is None else f"input {name!r}"
        raise ValueError(f"the model expects {which} of shape (None,) + {tuple(input_shape)}, "
                         f"got x of shape {x.shape}{hint}")
    return x


def check_same_length(x, y, what="x and y"):
    y = np.asarray(y)
    if y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"{what} must hold the same number of samples: x has {len(x)}, "
                         f"y has {len(y) if y.ndim else 'a scalar'} (shape {y.shape})")
    return y


def check_batch_size(batch_size):
    if batch_size is None:
        return 32  # Keras's default
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _split_point(n, fraction):
    if not 0 <= fraction < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {fraction!r}")
    split_at = int(n * (1 - fraction))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={fraction} leaves no samples for "
                         f"{'training' if split_at == 0 else 'validation'} out of {n}")
    return split_at


def validation_split(x, y, fraction):
    """Keras's rule: the last `fraction` of the samples (before any shuffling) validate."""
    split_at = _split_point(len(x), fraction)
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def split_arrays(arrays, fraction):
    """validation_split's rule for lists of arrays (None entries stay None):
    (training part, validation part)."""
    n = len(next(a for a in arrays if a is not None))
    split_at = _split_point(n, fraction)
    return ([None if a is None else a[:split_at] for a in arrays],
            [None if a is None else a[split_at:] for a in arrays])


def unpack_validation_data(validation_data):
    """(x_val, y_val, sample_weight_val or None) from validation_data."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"sample_weight_val), or a generator or PyDataset, got "
                         f"{type(validation_data).__name__} of length "
                         f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}")
    return tuple(validation_data) + (None,) * (3 - len(validation_data))
