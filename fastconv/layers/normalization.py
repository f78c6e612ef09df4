"""BatchNormalization (Keras's arguments, defaults and weight order)."""
import numpy as np

from fastconv import initializers
from fastconv.layers.base import Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Normalise each feature along `axis` by the batch statistics during training, by the
    moving averages at inference; then scale by gamma and shift by beta.

    Weights, in Keras's order: gamma, beta (trainable), moving_mean, moving_variance.
    The moving statistics move by (1 - momentum) towards each training batch's mean and
    (biased) variance, as in Keras.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if self.epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self._set_weight_options("beta", beta_regularizer, beta_constraint)
        self._set_weight_options("gamma", gamma_regularizer, gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"axis {self.axis} is not a feature axis of inputs of shape "
                             f"(None,) + {tuple(input_shape)}")
        features = (input_shape[self.axis - 1 if self.axis > 0 else self.axis],)
        if self.scale:
            self.add_weight("gamma", features, self.gamma_initializer,
                            **self._weight_options("gamma"))
        if self.center:
            self.add_weight("beta", features, self.beta_initializer,
                            **self._weight_options("beta"))
        self.add_weight("moving_mean", features, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", features, self.moving_variance_initializer,
                        trainable=False)
        super().build(input_shape)

    def _broadcast(self, v, ndim):
        """A per-feature vector shaped to broadcast against the input."""
        shape = [1] * ndim
        shape[self.axis] = -1
        return v.reshape(shape)

    def call(self, x, training):
        reduce_axes = tuple(a for a in range(x.ndim) if a != self.axis % x.ndim)
        if training:
            mean = x.mean(axis=reduce_axes, keepdims=True)
            centred = x - mean
            var = np.square(centred).mean(axis=reduce_axes, keepdims=True)
            keep = self.dtype.type(self.momentum)
            for moving, batch in ((self.state["moving_mean"], mean),
                                  (self.state["moving_variance"], var)):
                moving *= keep
                moving += (1 - keep) * batch.reshape(-1)
        else:
            centred = x - self._broadcast(self.state["moving_mean"], x.ndim)
            var = self._broadcast(self.state["moving_variance"], x.ndim)
        self._training = training
        self._reduce_axes = reduce_axes
        self._inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))
        self._x_hat = centred * self._inv_std
        y = self._x_hat
        if self.scale:
            y = y * self._broadcast(self.params["gamma"], x.ndim)
        if self.center:
            y = y + self._broadcast(self.params["beta"], x.ndim)
        return y

    def backward_call(self, dz):
        axes, ndim = self._reduce_axes, dz.ndim
        dbeta = dz.sum(axis=axes)
        dgamma = (dz * self._x_hat).sum(axis=axes)
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        gain = self._inv_std
        if self.scale:
            gain = gain * self._broadcast(self.params["gamma"], ndim)
        if not self._training:
            return dz * gain
        # The batch mean and variance depend on x too.
        m = dz.size // dbeta.size
        return gain * (dz - self._broadcast(dbeta / m, ndim)
                       - self._x_hat * self._broadcast(dgamma / m, ndim))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer":
                    initializers.serialize(self.moving_variance_initializer)}
