"""Dense, Flatten, Reshape, Dropout and the activation layers (Activation, ReLU, Softmax)."""
import math

import numpy as np

from fastconv import activations, initializers
from fastconv.layers.base import Layer

__all__ = ["Dense", "Flatten", "Reshape", "Dropout", "Activation", "ReLU", "Softmax"]


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class Dense(Layer):
    """y = activation(x @ kernel + bias), applied along the last axis of x."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._set_weight_options("kernel", kernel_regularizer, kernel_constraint)
        self._set_weight_options("bias", bias_regularizer, bias_constraint)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        **self._weight_options("kernel"))
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            **self._weight_options("bias"))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, x, training):
        self._x = x
        y = x @ self.params["kernel"]
        if self.use_bias:
            y += self.params["bias"]
        return y

    def backward_call(self, dz):
        x2 = self._x.reshape(-1, self._x.shape[-1])
        dz2 = dz.reshape(-1, self.units)
        self.grads["kernel"] = x2.T @ dz2
        if self.use_bias:
            self.grads["bias"] = dz2.sum(axis=0)
        return dz @ self.params["kernel"].T

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), in C order (channels-last stays Keras's order)."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, x, training):
        self._x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward_call(self, dz):
        return dz.reshape(self._x_shape)


class Reshape(Layer):
    """Reshape each sample to target_shape (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(
                d < 1 and d != -1 for d in self.target_shape):
            raise ValueError(f"target_shape must hold positive ints and at most one -1, "
                             f"got {target_shape!r}")

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size:
            raise ValueError(f"cannot reshape inputs of shape {tuple(input_shape)} "
                             f"({size} values) to {self.target_shape}")
        return shape

    def call(self, x, training):
        self._x_shape = x.shape
        return x.reshape((len(x),) + self.output_shape)

    def backward_call(self, dz):
        return dz.reshape(self._x_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """During training, zero each input with probability `rate` and scale the rest by
    1 / (1 - rate); at inference, the identity. `noise_shape` may broadcast the mask
    (None entries take the input's size)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        # Seeded from NumPy's global generator when no seed is given, so that
        # np.random.seed() makes the masks repeatable; a model saves its state.
        self.rng = np.random.default_rng(
            seed if seed is not None else np.random.randint(2**63, dtype=np.int64))

    def call(self, x, training):
        if not training or self.rate == 0:
            self._mask = None
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = self.rng.random(shape, dtype=np.float32) >= self.rate
        self._mask = np.where(keep, x.dtype.type(1 / (1 - self.rate)), x.dtype.type(0))
        return x * self._mask

    def backward_call(self, dz):
        return dz if self._mask is None else dz * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                "seed": self.seed}


class Activation(Layer):
    """Applies an activation function ("relu", "softmax", ...) on its own."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x, training):
        return x

    def backward_call(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Activation):
    """max(x, 0), optionally leaky (negative_slope) and capped (max_value)."""

    def __init__(self, max_value=None, negative_slope=0.0, **kwargs):
        super().__init__(activations.ReLU(negative_slope, max_value), **kwargs)

    def get_config(self):
        config = Layer.get_config(self)
        return {**config, "max_value": self.activation.max_value,
                "negative_slope": self.activation.negative_slope}


class Softmax(Activation):
    """Softmax along `axis`; followed by a cross-entropy loss, the two are fused."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(activations.Softmax(axis), **kwargs)

    def get_config(self):
        return {**Layer.get_config(self), "axis": self.activation.axis}
