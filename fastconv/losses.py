"""Loss functions: the value (mean over the batch) and its gradient in one call.

Each loss reduces over the last axis (classes) and averages over everything else, as
Keras does. A cross-entropy followed by the activation it pairs with (softmax for the
categorical ones, sigmoid for the binary one) is computed from the logits in one
numerically stable step: log-sum-exp for the value, (p - y) / N for the gradient with
respect to the logits. `from_logits=True` asks for that when the model outputs logits.
"""
import numpy as np

from fastconv import activations
from fastconv._registry import Registry

__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
           "mse", "get", "serialize", "deserialize"]

# Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before log.
EPSILON = 1e-7


def _samples(y_pred):
    """How many loss terms the mean is over: all positions but the class axis."""
    return y_pred.size // y_pred.shape[-1] if y_pred.ndim else 1


def _targets_error(message, y, output_shape):
    return ValueError(f"{message}: the model outputs shape (None,) + {tuple(output_shape)}, "
                      f"got targets of shape {y.shape} and dtype {y.dtype}")


def _reduce(terms, grad, sample_weight):
    """(mean of the loss terms, gradient) with each sample's terms and gradient scaled by
    its weight: Keras's "sum_over_batch_size" (divided by the number of terms, not by the
    sum of the weights)."""
    if sample_weight is None:
        return float(terms.mean()), grad
    w = np.asarray(sample_weight, dtype=grad.dtype)
    w_terms = w.reshape(w.shape + (1,) * (terms.ndim - w.ndim))
    w_grad = w.reshape(w.shape + (1,) * (grad.ndim - w.ndim))
    return float((terms * w_terms).mean()), grad * w_grad


def _numeric_targets(y):
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"targets must be numeric, got dtype {y.dtype}")
    return y


class Loss:
    """Base class. `loss_and_gradient(y_true, y_pred)` returns (mean loss, d loss/d y_pred).

    A loss with a LOGIT_ACTIVATION also has `loss_and_gradient_from_logits(y_true,
    logits, probs)`, which returns the gradient with respect to the logits.
    """

    LOGIT_ACTIVATION = None
    name = None

    def __init__(self, from_logits=False, name=None):
        if from_logits and self.LOGIT_ACTIVATION is None:
            raise ValueError(f"{type(self).__name__} has no from_logits form")
        self.from_logits = bool(from_logits)
        self.name = name or self.name

    def __call__(self, y_true, y_pred):
        """The mean loss as a float."""
        y_true = self.check_targets(y_true, np.shape(y_pred)[1:])
        return self.loss_and_gradient(y_true, np.asarray(y_pred))[0]

    def loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        """(mean loss as a float, its gradient with respect to y_pred) for one batch;
        sample_weight, one weight per sample, scales each sample's terms."""
        if self.from_logits:
            return self.loss_and_gradient_from_logits(y_true, y_pred,
                                                      sample_weight=sample_weight)
        return self.probability_loss_and_gradient(y_true, y_pred, sample_weight)

    def probability_loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        """loss_and_gradient for outputs that are probabilities (from_logits=False)."""
        raise NotImplementedError

    def fuses_with(self, activation):
        """True if this loss follows `activation` as one step from its input (the logits)."""
        return (self.LOGIT_ACTIVATION is not None and not self.from_logits and
                activation == activations.get(self.LOGIT_ACTIVATION))

    def check_targets(self, y, output_shape):
        """y as the array the loss expects for model outputs of `output_shape`, or ValueError."""
        y = _numeric_targets(y)
        output_shape = tuple(output_shape)
        if y.shape[1:] == output_shape:
            return y.astype(np.float32, copy=False)
        if output_shape == (1,) and y.ndim == 1:
            return y.astype(np.float32).reshape(-1, 1)
        raise _targets_error(f"{self.name} needs targets of the output's shape", y,
                             output_shape)

    def get_config(self):
        """The constructor arguments, as a dict (from_logits for the losses that have it)."""
        config = {"name": self.name}
        if self.LOGIT_ACTIVATION is not None:
            config["from_logits"] = self.from_logits
        return config

    @classmethod
    def from_config(cls, config):
        """The loss that get_config() describes."""
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class CategoricalCrossentropy(Loss):
    """-sum(y * log p) over the classes, for one-hot (or soft) targets."""

    LOGIT_ACTIVATION = "softmax"
    name = "categorical_crossentropy"

    def loss_and_gradient_from_logits(self, y_true, logits, probs=None, sample_weight=None):
        """(mean loss, gradient with respect to the logits) of softmax then this loss, in one
        numerically stable step; `probs`, the softmax of the logits, if already computed."""
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        log_total = np.log(total)
        terms = (y_true * (log_total - shifted)).sum(axis=-1)
        if probs is None:
            probs = exp / total
        # d/dz of sum(y) * logsumexp(z) - y.z: sum(y) is 1 for one-hot targets.
        grad = probs * y_true.sum(axis=-1, keepdims=True)
        grad -= y_true
        grad /= _samples(logits)
        return _reduce(terms, grad, sample_weight)

    def probability_loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        # Keras: renormalise, clip, then -sum(y log q); the gradient goes back through both.
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total
        clipped = np.clip(q, EPSILON, 1 - EPSILON)
        terms = -(y_true * np.log(clipped)).sum(axis=-1)
        dq = np.where((q > EPSILON) & (q < 1 - EPSILON), -y_true / clipped, 0)
        grad = (dq - (dq * q).sum(axis=-1, keepdims=True)) / total
        return _reduce(terms, (grad / _samples(y_pred)).astype(y_pred.dtype, copy=False),
                       sample_weight)

    def check_targets(self, y, output_shape):
        y = _numeric_targets(y)
        output_shape = tuple(output_shape)
        if y.shape[1:] != output_shape:
            hint = ""
            if y.shape[1:] in (output_shape[:-1], output_shape[:-1] + (1,)):
                hint = (" (these look like class indices: one-hot encode them with "
                        "fastconv.utils.to_categorical, or use "
                        "loss='sparse_categorical_crossentropy')")
            elif y.shape[1:-1] == output_shape[:-1]:
                hint = (f" (the model has {output_shape[-1]} classes, the targets have "
                        f"{y.shape[-1]})")
            raise _targets_error(f"{self.name} needs one-hot targets{hint}", y, output_shape)
        return y.astype(np.float32, copy=False)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy for integer class labels (one-hot encoded per batch)."""

    name = "sparse_categorical_crossentropy"

    def loss_and_gradient_from_logits(self, y_true, logits, probs=None, sample_weight=None):
        return super().loss_and_gradient_from_logits(
            self._one_hot(y_true, logits), logits, probs, sample_weight)

    def probability_loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        return super().probability_loss_and_gradient(self._one_hot(y_true, y_pred), y_pred,
                                                     sample_weight)

    @staticmethod
    def _one_hot(labels, y_pred):
        one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        np.put_along_axis(one_hot, labels.reshape(y_pred.shape[:-1] + (1,)), 1, axis=-1)
        return one_hot

    def check_targets(self, y, output_shape):
        y = _numeric_targets(y)
        output_shape = tuple(output_shape)
        if y.shape[1:] not in (output_shape[:-1], output_shape[:-1] + (1,)):
            hint = (" (these look one-hot: use loss='categorical_crossentropy')"
                    if y.shape[1:] == output_shape else "")
            raise _targets_error(f"{self.name} needs integer class labels{hint}", y,
                                 output_shape)
        labels = y.astype(np.intp)
        if y.size and (not np.array_equal(labels, y) or labels.min() < 0
                       or labels.max() >= output_shape[-1]):
            raise ValueError(f"{self.name} needs integer labels in [0, {output_shape[-1]}) "
                             f"for a model with {output_shape[-1]} outputs, got values in "
                             f"[{y.min()}, {y.max()}]")
        return labels.reshape(len(y), *output_shape[:-1])


class BinaryCrossentropy(Loss):
    """-(y log p + (1 - y) log(1 - p)), averaged over all outputs."""

    LOGIT_ACTIVATION = "sigmoid"
    name = "binary_crossentropy"

    def loss_and_gradient_from_logits(self, y_true, logits, probs=None, sample_weight=None):
        """(mean loss, gradient with respect to the logits) of sigmoid then this loss, without
        overflow; `probs`, the sigmoid of the logits, if already computed."""
        # log(1 + exp(z)) - y z, without overflow: max(z, 0) - y z + log1p(exp(-|z|)).
        loss = np.maximum(logits, 0) - y_true * logits + np.log1p(np.exp(-np.abs(logits)))
        if probs is None:
            probs = activations.sigmoid(logits)
        return _reduce(loss, (probs - y_true) / logits.size, sample_weight)

    def probability_loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        clipped = np.clip(y_pred, EPSILON, 1 - EPSILON)
        loss = -(y_true * np.log(clipped) + (1 - y_true) * np.log1p(-clipped))
        inside = (y_pred > EPSILON) & (y_pred < 1 - EPSILON)
        grad = np.where(inside, (clipped - y_true) / (clipped * (1 - clipped)), 0)
        return _reduce(loss, (grad / y_pred.size).astype(y_pred.dtype, copy=False),
                       sample_weight)


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2)."""

    name = "mean_squared_error"

    def probability_loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        diff = y_pred - y_true
        return _reduce(np.square(diff), diff * (2 / diff.size), sample_weight)


categorical_crossentropy = CategoricalCrossentropy()
sparse_categorical_crossentropy = SparseCategoricalCrossentropy()
binary_crossentropy = BinaryCrossentropy()
mean_squared_error = mse = MeanSquaredError()

_REGISTRY = Registry("loss", Loss, {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}, example="categorical_crossentropy")
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize

