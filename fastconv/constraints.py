"""Weight constraints by their Keras names and classes.

A constraint is called on a weight array and returns the constrained array; training
applies it to the weight after every optimizer step, as Keras does. Layers take them as
`kernel_constraint`, `bias_constraint` (a name such as "max_norm", an instance, a config
dict, a function of the array, or None):

    layers.Dense(64, kernel_constraint=constraints.MaxNorm(2.0))

`axis` names the axes a norm is taken over, Keras's way: the norm of each slice along
them is constrained. Dense kernels are (in, out), so axis=0 constrains each unit's
incoming weights; Conv2D kernels are (KH, KW, C_in, C_out), so axis=[0, 1, 2] constrains
each filter.
"""
import numbers

import numpy as np
from fastconv import backend
from fastconv._registry import Configurable, Registry

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
           "unit_norm", "min_max_norm", "get", "serialize", "deserialize"]


def _check_axis(axis):
    """axis as an int or a tuple of ints (Keras takes an int or a list), else TypeError."""
    values = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not values or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                             for a in values):
        raise TypeError(f"axis must be an int or a list of ints, got {axis!r}")
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else int(axis)


def _check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


class Constraint(Configurable):
    """Base class: `__call__(w)` returns the constrained weight array (the base class
    returns w unchanged); subclasses also give get_config to be saved."""

    def __call__(self, w):
        return w

    def get_config(self):
        """The constructor arguments, as a dict (from_config rebuilds an equal constraint)."""
        return {}


class _NormConstraint(Constraint):
    """A constraint that rescales each slice of w along `axis` by a factor of its L2 norm."""

    def __init__(self, axis):
        self.axis = _check_axis(axis)

    def norms(self, w):
        """sqrt(sum(w ** 2)) over `axis`, kept as size-1 axes (ValueError for a bad axis)."""
        try:
            return np.sqrt(np.square(w).sum(axis=self.axis, keepdims=True))
        except ValueError:  # numpy's AxisError
            raise ValueError(f"{type(self).__name__}: axis {self.axis!r} is out of range for "
                             f"a weight of shape {np.shape(w)}") from None

    def scaled(self, w, desired, norms):
        """w * desired / (epsilon + norms), Keras's formula, in w's dtype."""
        factor = desired / (w.dtype.type(backend.epsilon()) + norms)
        return (w * factor).astype(w.dtype, copy=False)


class MaxNorm(_NormConstraint):
    """Rescale each slice whose L2 norm exceeds max_value down to max_value:
    w * clip(norm, 0, max_value) / (epsilon + norm)."""

    def __init__(self, max_value=2, axis=0):
        super().__init__(axis)
        self.max_value = _check_number("max_value", max_value)

    def __call__(self, w):
        w = np.asarray(w)
        norms = self.norms(w)
        return self.scaled(w, np.clip(norms, 0, self.max_value), norms)

    def get_config(self):
        return {"max_value": self.max_value, "axis": _config_axis(self.axis)}


class UnitNorm(_NormConstraint):
    """Rescale each slice to unit L2 norm: w / (epsilon + norm)."""

    def __init__(self, axis=0):
        super().__init__(axis)

    def __call__(self, w):
        w = np.asarray(w)
        return self.scaled(w, w.dtype.type(1), self.norms(w))

    def get_config(self):
        return {"axis": _config_axis(self.axis)}


class MinMaxNorm(_NormConstraint):
    """Move each slice's L2 norm into [min_value, max_value], a share `rate` of the way:
    desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm; w is scaled by
    desired / (epsilon + norm)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        super().__init__(axis)
        self.min_value = _check_number("min_value", min_value)
        self.max_value = _check_number("max_value", max_value)
        if self.min_value > self.max_value:
            raise ValueError(f"min_value ({min_value!r}) must not exceed max_value "
                             f"({max_value!r})")
        self.rate = _check_number("rate", rate)

    def __call__(self, w):
        w = np.asarray(w)
        norms = self.norms(w)
        desired = (self.rate * np.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return self.scaled(w, desired, norms)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": _config_axis(self.axis)}


class NonNeg(Constraint):
    """Negative weights set to zero."""

    def __call__(self, w):
        w = np.asarray(w)
        return w * (w >= 0).astype(w.dtype)


def _config_axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


# Keras 3's lowercase names are the classes themselves.
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_REGISTRY = Registry("constraint", Constraint, {
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
}, example="max_norm")


def get(identifier):
    """A constraint from a name ("max_norm", "non_neg", "unit_norm", "min_max_norm", or a
    class name), a config dict, an instance or a function of the weight array (returned
    as they are), or None (returned as None). ValueError for an unknown name, TypeError
    for anything else."""
    if identifier is None:
        return None
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    return _REGISTRY.get(identifier)


def serialize(constraint):
    """A JSON-ready {"class_name": ..., "config": ...} dict (None for None). TypeError for
    a plain function, which a model file cannot hold: subclass Constraint instead."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise TypeError(f"the constraint {getattr(constraint, '__name__', constraint)!r} is "
                        f"a plain function, which cannot be saved: subclass "
                        f"fastconv.constraints.Constraint and give it get_config()")
    return _REGISTRY.serialize(constraint)


def deserialize(config):
    """The inverse of serialize (None for None; a plain name is accepted too)."""
    return get(config)
