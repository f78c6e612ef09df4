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

    def _feature_sums(self, *factors):
        """The per-feature sums, over every other axis, of the product of `factors`
        (arrays of one shape): one pass of np.einsum, without a temporary for the
        product (it does not call BLAS, so the sums do not depend on its threads)."""
        ndim = factors[0].ndim
        axes = "abcdefghijklmnopqrstuvwxyz"[:ndim]
        subscripts = ",".join([axes] * len(factors)) + "->" + axes[self.axis % ndim]
        return np.einsum(subscripts, *factors)

    # Memory-bound passes: the statistics are einsum sums (no temporaries), gamma is
    # folded into one per-feature gain, and the output and dx are written in place, so
    # a training step allocates only the centred input (kept for backward), y and dx.
    def call(self, x, training):
        if training:
            count = self.dtype.type(x.size // x.shape[self.axis])
            mean = self._feature_sums(x) / count
            centred = x - self._broadcast(mean, x.ndim)
            var = self._feature_sums(centred, centred) / count
            keep = self.dtype.type(self.momentum)
            for moving, batch in ((self.state["moving_mean"], mean),
                                  (self.state["moving_variance"], var)):
                moving *= keep
                moving += (1 - keep) * batch
        else:
            centred = x - self._broadcast(self.state["moving_mean"], x.ndim)
            var = self.state["moving_variance"]
        self._training = training
        self._centred = centred
        self._inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))
        y = np.multiply(centred, self._broadcast(self._gain(), x.ndim))
        if self.center:
            y += self._broadcast(self.params["beta"], x.ndim)
        return y

    def _gain(self):
        """d output / d centred input for fixed statistics, per feature:
        gamma / sqrt(var + epsilon)."""
        return self._inv_std * self.params["gamma"] if self.scale else self._inv_std

    def backward_call(self, dz):
        ndim, centred = dz.ndim, self._centred
        dbeta = self._feature_sums(dz)
        dgamma = self._feature_sums(dz, centred) * self._inv_std  # sum(dz * x_hat)
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        gain = self._broadcast(self._gain(), ndim)
        if not self._training:
            return dz * gain
        # The batch mean and variance depend on x too:
        # dx = gain * (dz - mean(dz) - x_hat * mean(dz * x_hat)), written in place.
        m = self.dtype.type(dz.size // dbeta.size)
        dx = np.multiply(centred, self._broadcast(self._inv_std * dgamma / m, ndim))
        dx += self._broadcast(dbeta / m, ndim)
        np.subtract(dz, dx, out=dx)
        dx *= gain
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer":
                    initializers.serialize(self.moving_variance_initializer)}
