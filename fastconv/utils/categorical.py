"""One-hot encoding of class labels (`keras.utils.to_categorical`)."""
import numpy as np

from fastconv._validate import as_int


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels, like `keras.utils.to_categorical`.

    y: class labels in 0 .. num_classes - 1, as a list or array of any shape. As in Keras,
        a trailing axis of size 1 is dropped: labels of shape (n, 1) give (n, num_classes).
    num_classes: number of classes; max(y) + 1 if None.
    dtype: dtype of the result.

    Returns an array of shape y.shape + (num_classes,) with a 1 at each label.
    Raises ValueError for labels that are not integers, are negative, or are
    >= num_classes; TypeError if num_classes is not an integer.
    """
    labels = integer_labels(y)
    out_shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    labels = labels.reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be non-negative, got {labels.min()}")
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("cannot infer num_classes from an empty y: pass num_classes")
        num_classes = int(labels.max()) + 1
    num_classes = as_int("num_classes", num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"label {labels.max()} is out of range for num_classes={num_classes}")
    one_hot = np.zeros((labels.size, num_classes), dtype=dtype)
    one_hot[np.arange(labels.size), labels] = 1
    return one_hot.reshape(out_shape + (num_classes,))


def integer_labels(y):
    """`y` as an int64 array; integral floats (2.0) are accepted, other values are not."""
    labels = np.asarray(y)
    if labels.dtype.kind in "biu":
        return labels.astype(np.int64)
    if labels.dtype.kind == "f":
        not_integral = ~np.isfinite(labels) | (labels != np.round(labels))
        if not not_integral.any():
            return labels.astype(np.int64)
        raise ValueError(f"labels must be integers, got {labels[not_integral].flat[0]}")
    raise ValueError(f"labels must be integers, got an array of dtype {labels.dtype}")
