"""Weight and activity regularizers by their Keras names and classes.

A regularizer is called on an array and returns its penalty (a float), which training
adds to the loss; `gradient(x)` is the penalty's derivative with respect to x, which
training adds to the weight's gradient (or, for an activity regularizer, to the gradient
of the layer's output). Layers take them as `kernel_regularizer`, `bias_regularizer`,
`activity_regularizer` (a name such as "l2", an instance, a config dict or None):

    layers.Dense(64, kernel_regularizer=regularizers.l2(1e-4))

The penalties are Keras's: L1 is `l1 * sum(|x|)`, L2 is `l2 * sum(x ** 2)` (no 1/2).
"""
import math
import numbers

import numpy as np
from fastconv._registry import Configurable, Registry

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]

# Keras's normalize divides by max(norm, backend.epsilon()).
NORM_FLOOR = 1e-7


def check_factor(name, value):
    """value as a float if it is a finite number >= 0, else ValueError naming it (Keras)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


class Regularizer(Configurable):
    """Base class: `__call__(x)` is the penalty of array x (a float), `gradient(x)` its
    derivative with respect to x (an array of x's shape and dtype). A subclass overrides
    both (fastconv has no automatic differentiation), and get_config to be saved."""

    def __call__(self, x):
        """The penalty of array x (the base class penalises nothing)."""
        return 0.0

    def gradient(self, x):
        """d penalty / d x, of x's shape and dtype."""
        return np.zeros_like(x)

    def get_config(self):
        """The constructor arguments, as a dict (from_config rebuilds an equal regularizer)."""
        return {}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2). As in Keras, both factors default to 0 here,
    and to 0.01 for the name "l1_l2" (`kernel_regularizer="l1_l2"`)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_factor("l1", 0.0 if l1 is None else l1)
        self.l2 = check_factor("l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        x = np.asarray(x)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(x).sum(dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.square(x).sum(dtype=np.float64))
        return penalty

    def gradient(self, x):
        # |x|' is taken as 0 at x = 0 (np.sign), as TensorFlow and PyTorch do.
        x = np.asarray(x)
        grad = np.zeros_like(x)
        if self.l1:
            grad += x.dtype.type(self.l1) * np.sign(x)
        if self.l2:
            grad += x.dtype.type(2 * self.l2) * x
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|); l1 defaults to 0.01 (Keras)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x ** 2); l2 defaults to 0.01 (Keras)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode="rows") or columns of a 2-D weight towards orthogonality:
    factor * 0.5 * sum(|off-diagonal of U Uᵀ|) / (n (n - 1) / 2), U the rows (columns)
    scaled to unit L2 norm and n their number (Keras's formula)."""

    MODES = ("rows", "columns")

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = check_factor("factor", factor)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def _vectors(self, x):
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape {x.shape}")
        return x if self.mode == "rows" else x.T

    def _scale(self, n):
        return self.factor * 0.5 / max(n * (n - 1) / 2, 1)

    @staticmethod
    def _normalised(v):
        """(v / max(||v||, epsilon) per row, the norms before the floor): Keras's normalize."""
        norms = np.sqrt(np.square(v).sum(axis=1, keepdims=True))
        return v / np.maximum(norms, NORM_FLOOR), norms

    def __call__(self, x):
        u, _ = self._normalised(self._vectors(x).astype(np.float64))
        product = u @ u.T
        np.fill_diagonal(product, 0.0)
        return self._scale(len(u)) * float(np.abs(product).sum())

    def gradient(self, x):
        v = self._vectors(x).astype(np.float64)
        u, norms = self._normalised(v)
        signs = np.sign(u @ u.T)
        np.fill_diagonal(signs, 0.0)
        du = 2 * self._scale(len(u)) * (signs @ u)  # the sign matrix is symmetric
        # Back through u = v / ||v||: the part of du along u drops out (not for rows whose
        # norm is under the floor, which are merely scaled).
        floored = norms < NORM_FLOOR
        radial = np.where(floored, 0.0, (du * u).sum(axis=1, keepdims=True))
        dv = (du - u * radial) / np.maximum(norms, NORM_FLOOR)
        dv = dv if self.mode == "rows" else dv.T
        return dv.astype(np.asarray(x).dtype)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3's lowercase names are the classes themselves.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_REGISTRY = Registry("regularizer", Regularizer, {
    "l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}, example="l2")
# The name "l1_l2" means both penalties at 0.01, as Keras documents (and Keras 2 did);
# the class name "L1L2" is L1L2() with neither, as in Keras 3.
_BY_NAME_DEFAULTS = {"l1_l2": {"l1": 0.01, "l2": 0.01}}


def get(identifier):
    """A Regularizer from a name ("l1", "l2", "l1_l2", or a class name), a config dict, an
    instance (returned as it is), or None (returned as None).

    ValueError for an unknown name; TypeError for anything else, a plain function
    included: fastconv needs the penalty's gradient, so subclass Regularizer instead.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME_DEFAULTS:
        return L1L2(**_BY_NAME_DEFAULTS[identifier.lower()])
    if callable(identifier) and not isinstance(identifier, (Regularizer, type)):
        raise TypeError(f"regularizer must be a name such as 'l2' or a "
                        f"fastconv.regularizers.Regularizer, got the function "
                        f"{getattr(identifier, '__name__', identifier)!r}: fastconv cannot "
                        f"differentiate a plain function, so subclass Regularizer and give "
                        f"it a gradient(x) method")
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    return _REGISTRY.get(identifier)


def serialize(regularizer):
    """A JSON-ready {"class_name": ..., "config": ...} dict (None for None)."""
    return None if regularizer is None else _REGISTRY.serialize(regularizer)


def deserialize(config):
    """The inverse of serialize (None for None; a plain name is accepted too)."""
    return get(config)
