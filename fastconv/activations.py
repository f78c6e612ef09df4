"""Activation functions by their Keras names, each with its gradient.

An activation is an object: `act(z) -> y` applies it, `act.gradient(dy, z, y) -> dz`
back-propagates through it (given both its input z and its output y, so that each
function uses whichever is cheaper). The module-level names (`relu`, `softmax`, ...)
are ready-made instances, so `fastconv.activations.relu(x)` works as in Keras.
`get(identifier)` turns a name, a config dict, an instance or None into an activation.
"""
import numpy as np

__all__ = ["Activation", "Linear", "ReLU", "Softmax", "Sigmoid", "Tanh", "ELU",
           "linear", "relu", "leaky_relu", "softmax", "sigmoid", "tanh", "elu",
           "get", "serialize", "deserialize"]


class Activation:
    """Base class: an elementwise (or per-row) function and its gradient."""

    name = None

    def __call__(self, z):
        raise NotImplementedError

    def gradient(self, dy, z, y):
        """The gradient with respect to the input z, for the upstream gradient dy."""
        raise NotImplementedError

    def get_config(self):
        """The arguments that recreate this activation (with `get`), as a dict."""
        return {"name": self.name}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash(tuple(sorted(self.get_config().items())))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Linear(Activation):
    """The identity: what a layer without an activation applies."""

    name = "linear"

    def __call__(self, z):
        return z

    def gradient(self, dy, z, y):
        return dy


class ReLU(Activation):
    """max(z, 0); with negative_slope, a leaky ReLU; with max_value, clipped from above."""

    def __init__(self, negative_slope=0.0, max_value=None, name="relu"):
        self.negative_slope = float(negative_slope)
        self.max_value = None if max_value is None else float(max_value)
        self.name = name

    def __call__(self, z):
        if self.negative_slope:
            y = np.where(z > 0, z, z * self.negative_slope)
        else:
            y = np.maximum(z, 0)
        if self.max_value is not None:
            np.minimum(y, self.max_value, out=y)
        return y

    def gradient(self, dy, z, y):
        if self.negative_slope:
            dz = np.where(z > 0, dy, dy * self.negative_slope)
        else:
            dz = dy * (z > 0)
        if self.max_value is not None:
            dz[z >= self.max_value] = 0
        return dz

    def get_config(self):
        return {"name": self.name, "negative_slope": self.negative_slope,
                "max_value": self.max_value}


class Softmax(Activation):
    """exp(z) / sum(exp(z)) along `axis`, computed after subtracting the max (no overflow)."""

    name = "softmax"

    def __init__(self, axis=-1):
        self.axis = int(axis)

    def __call__(self, z):
        e = np.exp(z - z.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def gradient(self, dy, z, y):
        return y * (dy - (dy * y).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return {"name": self.name, "axis": self.axis}


class Sigmoid(Activation):
    """1 / (1 + exp(-z)), written with tanh so that no exp can overflow."""

    name = "sigmoid"

    def __call__(self, z):
        y = np.tanh(z * 0.5)
        y += 1
        y *= 0.5
        return y

    def gradient(self, dy, z, y):
        return dy * y * (1 - y)


class Tanh(Activation):
    name = "tanh"

    def __call__(self, z):
        return np.tanh(z)

    def gradient(self, dy, z, y):
        return dy * (1 - y * y)


class ELU(Activation):
    """z for z > 0, alpha * (exp(z) - 1) otherwise."""

    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def __call__(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def gradient(self, dy, z, y):
        return np.where(z > 0, dy, dy * (y + self.alpha))

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


linear = Linear()
relu = ReLU()
# Keras's keras.activations.leaky_relu default slope.
leaky_relu = ReLU(negative_slope=0.2, name="leaky_relu")
softmax = Softmax()
sigmoid = Sigmoid()
tanh = Tanh()
elu = ELU()

_BY_NAME = {a.name: a for a in (linear, relu, leaky_relu, softmax, sigmoid, tanh, elu)}
_CLASSES = {"linear": Linear, "relu": ReLU, "leaky_relu": ReLU, "softmax": Softmax,
            "sigmoid": Sigmoid, "tanh": Tanh, "elu": ELU}


def get(identifier):
    """An activation from a name ("relu"), a config dict, an Activation, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(f"unknown activation {identifier!r}; expected one of "
                             f"{sorted(_BY_NAME)}") from None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"activation must be a name such as 'relu', a fastconv.activations "
                    f"object or None, got {type(identifier).__name__} {identifier!r} "
                    f"(plain callables have no gradient)")


def serialize(activation):
    """A JSON-ready form: the bare name when the defaults apply, else the config dict."""
    config = activation.get_config()
    if _BY_NAME.get(config["name"]) == activation:
        return config["name"]
    return config


def deserialize(config):
    """The inverse of serialize: accepts a name or a config dict."""
    if isinstance(config, str):
        return get(config)
    config = dict(config)
    name = config.get("name")
    if name not in _CLASSES:
        raise ValueError(f"unknown activation {name!r} in config {config!r}; expected one "
                         f"of {sorted(_CLASSES)}")
    if _CLASSES[name] is not ReLU:
        config.pop("name")
    try:
        return _CLASSES[name](**config)
    except TypeError as exc:
        raise ValueError(f"bad config for activation {name!r}: {exc}") from None
