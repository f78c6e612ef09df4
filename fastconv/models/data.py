"""Checking what users hand to fit/evaluate/predict, once per call (never per batch)."""
import numbers

import numpy as np

__all__ = ["as_inputs", "check_same_length", "check_batch_size", "validation_split",
           "unpack_validation_data"]


def as_inputs(x, input_shape):
    """x as a numeric array whose samples have `input_shape` (None: any shape)."""
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
        raise ValueError(f"the model expects inputs of shape (None,) + {tuple(input_shape)}, "
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


def validation_split(x, y, fraction):
    """Keras's rule: the last `fraction` of the samples (before any shuffling) validate."""
    if not 0 <= fraction < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {fraction!r}")
    split_at = int(len(x) * (1 - fraction))
    if split_at == 0 or split_at == len(x):
        raise ValueError(f"validation_split={fraction} leaves no samples for "
                         f"{'training' if split_at == 0 else 'validation'} out of {len(x)}")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def unpack_validation_data(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError("validation_data must be a pair (x_val, y_val) (sample weights are "
                         f"not supported), got {type(validation_data).__name__} of length "
                         f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}")
    return validation_data
