"""Training curves from a History: each metric per epoch, training and validation."""
import numpy as np

from fastconv.callbacks import History
from fastconv.viz._figure import finish, integer_ticks, new_figure

PANEL_INCHES = (4.5, 3.2)


def plot_history(history, path=None):
    """One panel per metric (loss, accuracy, ...), training and validation per epoch.

    history: the History that fit returned (or model.history), or its `history` dict
        ({"loss": [...], "val_loss": [...], "accuracy": [...], ...}).
    path: where to save the figure as a PNG, if given. Returns the Figure.
    """
    if isinstance(history, History):
        history = history.history
    if not isinstance(history, dict):
        raise TypeError(f"history must be a History or its dict, got {type(history).__name__}")
    metrics = [key for key in history if not key.startswith("val_")]
    if not metrics or not history[metrics[0]]:
        raise ValueError("the history is empty: train for at least one epoch first")
    figure = new_figure(PANEL_INCHES[0] * len(metrics), PANEL_INCHES[1])
    for ax, metric in zip(np.atleast_1d(figure.subplots(1, len(metrics))), metrics):
        for key, label in ((metric, "training"), ("val_" + metric, "validation")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], marker="o", label=label)
        ax.set_xlabel("epoch")
        integer_ticks(ax.xaxis)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(figure, path)
