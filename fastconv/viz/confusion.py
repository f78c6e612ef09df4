"""The confusion matrix of a classifier: which classes it takes for which."""
import numpy as np

from fastconv.viz._figure import finish, new_figure
from fastconv.viz.images import class_indices

PREDICT_BATCH_SIZE = 256


def confusion_matrix(y_true, y_pred, num_classes=None):
    """counts[i, j]: how many samples of true class i were predicted as class j.

    y_true, y_pred: integer classes (N,), or one-hot / probability rows (N, classes).
    num_classes: the matrix size; by default one more than the largest class seen.
    """
    y_true, y_pred = class_indices(y_true, "y_true"), class_indices(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must hold as many samples, got {len(y_true)} "
                         f"and {len(y_pred)}")
    if y_true.size and min(y_true.min(), y_pred.min()) < 0:
        raise ValueError("classes must be non-negative integers")
    largest = int(max(y_true.max(initial=0), y_pred.max(initial=0)))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f"class {largest} is out of range for num_classes={num_classes}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def plot_confusion_matrix(y_true, y_pred, class_names=None, path=None):
    """The confusion matrix as a heat map with the count in each cell, titled with the
    accuracy. Arguments as confusion_matrix; class_names label the axes.
    path: where to save the figure as a PNG, if given. Returns the Figure."""
    num_classes = len(class_names) if class_names else None
    counts = confusion_matrix(y_true, y_pred, num_classes)
    names = list(class_names) if class_names else [str(k) for k in range(len(counts))]
    figure = new_figure(1.5 + 0.5 * len(counts), 1.0 + 0.5 * len(counts))
    ax = figure.subplots()
    ax.imshow(counts, cmap="Blues")
    busy = counts.max() / 2  # above this the cell is dark: write in white
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                color="white" if count > busy else "black")
    ax.set_xticks(range(len(names)), names, rotation=90 if class_names else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{counts.sum()} samples, accuracy {accuracy:.4f}")
    return finish(figure, path)


def plot_model_confusion_matrix(model, x, y, class_names=None, path=None):
    """plot_confusion_matrix of a model's predictions on (x, y), e.g. the test set."""
    y_pred = model.predict(x, batch_size=PREDICT_BATCH_SIZE)
    return plot_confusion_matrix(y, y_pred, class_names, path)
