"""Checks of ImageDataGenerator's and flow()'s arguments: each bad value is a
ValueError or TypeError naming the argument, raised when the generator is made."""
import numbers

import numpy as np

__all__ = ["check_range", "check_shift_range", "check_zoom_range", "check_seed",
           "check_dtype", "check_interpolation_order", "check_validation_split"]

INTERPOLATION_ORDERS = {0: "nearest", 1: "bilinear"}
_SEED_LIMIT = 2**32  # what np.random.seed / RandomState accept


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_range(name, value):
    """A non-negative finite number (rotation_range, shear_range, ...), as a float."""
    if not _is_number(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_shift_range(name, value):
    """Keras's shift range: a float (a fraction of the size if < 1, else pixels), an
    int (whole pixels in (-value, value)) or a 1-D list of values to choose from."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value)
        if (values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf"
                or not np.isfinite(values).all()):
            raise ValueError(f"{name} must be a number or a non-empty 1-D list of numbers, "
                             f"got {value!r}")
        return values
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        return int(value)
    return check_range(name, value)


def check_zoom_range(zoom_range):
    """Keras's zoom_range: a float z ([1 - z, 1 + z]) or a pair [lower, upper]."""
    if _is_number(zoom_range):
        lower, upper = 1 - zoom_range, 1 + zoom_range
    elif (isinstance(zoom_range, (list, tuple, np.ndarray)) and len(zoom_range) == 2
          and all(_is_number(v) for v in zoom_range)):
        lower, upper = zoom_range
    else:
        raise ValueError(f"zoom_range should be a float or a tuple or list of two floats, "
                         f"got {zoom_range!r}")
    if not (np.isfinite([lower, upper]).all() and 0 <= lower <= upper):
        raise ValueError(f"zoom_range must give 0 <= lower <= upper (a zoom factor per "
                         f"axis is drawn in [lower, upper]), got {zoom_range!r}")
    return [float(lower), float(upper)]


def check_seed(seed):
    """None, or an int in [0, 2**32) (NumPy's seed range)."""
    if seed is None:
        return None
    if (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)
            or not 0 <= seed < _SEED_LIMIT):
        raise ValueError(f"seed must be None or an int in [0, 2**32), got {seed!r}")
    return int(seed)


def check_dtype(dtype):
    """float32 or float64, the warp kernel's dtypes."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return resolved


def check_interpolation_order(order):
    """0 (nearest) or 1 (bilinear) as the warp's interpolation name."""
    if isinstance(order, bool) or order not in INTERPOLATION_ORDERS:
        raise ValueError(f"interpolation_order must be 0 (nearest) or 1 (bilinear), got "
                         f"{order!r}")
    return INTERPOLATION_ORDERS[order]


def check_validation_split(validation_split):
    """0 (no split) or a fraction strictly between 0 and 1."""
    if not _is_number(validation_split):
        raise TypeError(f"validation_split must be a number, got {validation_split!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be strictly between 0 and 1, got "
                         f"{validation_split!r}")
    return float(validation_split)
