"""Metrics: running means of a per-sample quantity over an epoch.

"accuracy" (or "acc") resolves, as in Keras, to the accuracy that matches the loss:
sparse categorical for sparse_categorical_crossentropy, binary for
binary_crossentropy, categorical for categorical_crossentropy; for other losses, binary
when the model has one output, else categorical.
"""
import numpy as np

from fastconv import losses as losses_module

__all__ = ["Metric", "MeanMetricWrapper", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "BinaryAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "categorical_accuracy", "sparse_categorical_accuracy",
           "binary_accuracy", "get"]


def categorical_accuracy(y_true, y_pred):
    """1.0 where the predicted class (argmax) is the one-hot target's class, else 0.0."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the predicted class (argmax) is the integer label, else 0.0."""
    predicted = np.argmax(y_pred, axis=-1)
    return (predicted == np.reshape(y_true, predicted.shape)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per sample, the share of outputs on the same side of threshold as the target."""
    return ((y_pred > threshold) == (y_true > threshold)).mean(axis=-1, dtype=np.float32)


def mean_squared_error(y_true, y_pred):
    """Per sample, the mean of (y_pred - y_true) ** 2 over the last axis."""
    return np.square(y_pred - y_true).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per sample, the mean of |y_pred - y_true| over the last axis."""
    return np.abs(y_pred - y_true).mean(axis=-1)


class Metric:
    """A running value over batches: update_state, result, reset_state (Keras's API)."""

    def __init__(self, name):
        self.name = name
        self.reset_state()

    def reset_state(self):
        """Forget every batch seen: start a new epoch."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch of targets and predictions; sample_weight (one weight per
        sample, or None) is given only to the metrics of compile's weighted_metrics."""
        raise NotImplementedError

    def result(self):
        """The value over all batches since the last reset, as a float."""
        raise NotImplementedError


class MeanMetricWrapper(Metric):
    """The mean over all samples seen of fn(y_true, y_pred) (a per-sample array); with
    sample weights, the weighted mean sum(w * v) / sum(w) (Keras's)."""

    def __init__(self, fn, name):
        self.fn = fn
        super().__init__(name)

    def reset_state(self):
        self.total = 0.0
        self.count = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        w = np.asarray(sample_weight, dtype=np.float64)
        w = np.broadcast_to(w.reshape(w.shape + (1,) * (values.ndim - w.ndim)), values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy"):
        super().__init__(binary_accuracy, name)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name)


_BY_NAME = {"categorical_accuracy": CategoricalAccuracy,
            "sparse_categorical_accuracy": SparseCategoricalAccuracy,
            "binary_accuracy": BinaryAccuracy, "mse": MeanSquaredError,
            "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
            "mean_absolute_error": MeanAbsoluteError}
ACCURACY_NAMES = ("accuracy", "acc")


def _accuracy_for(loss, output_shape):
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy
    if isinstance(loss, losses_module.BinaryCrossentropy):
        return BinaryAccuracy
    if isinstance(loss, losses_module.CategoricalCrossentropy):
        return CategoricalAccuracy
    return BinaryAccuracy if tuple(output_shape)[-1:] == (1,) else CategoricalAccuracy


def get(identifier, loss=None, output_shape=()):
    """A fresh Metric from a name or an instance; "accuracy" picks its kind from the loss."""
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"a metric must be a name such as 'accuracy' or a fastconv.metrics "
                        f"object, got {type(identifier).__name__} {identifier!r}")
    if identifier in ACCURACY_NAMES:
        return _accuracy_for(loss, output_shape)(name=identifier)
    if identifier not in _BY_NAME:
        raise ValueError(f"unknown metric {identifier!r}; expected one of "
                         f"{sorted(ACCURACY_NAMES + tuple(_BY_NAME))}")
    return _BY_NAME[identifier](name=identifier)
