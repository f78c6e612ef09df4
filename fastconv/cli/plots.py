"""The pictures `fastconv train --plots DIR` saves."""
import importlib.util
from pathlib import Path

from fastconv import viz
from fastconv.cli.errors import CLIError
from fastconv.layers import Conv2D

IMAGES, CURVES, FILTERS, FEATURE_MAPS, CONFUSION = (
    "images.png", "training_curves.png", "filters.png", "feature_maps.png",
    "confusion_matrix.png")


def require_matplotlib():
    """CLIError unless matplotlib is importable: checked before training, not after."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError('--plots needs matplotlib: pip install "fastconv[plot]"')


def first_conv_layer(model):
    """The model's first Conv2D layer, or None."""
    return next((layer for layer in model.layers if isinstance(layer, Conv2D)), None)


def save_training_plots(directory, model, history, train_images, train_labels, x_test,
                        y_test, class_names):
    """Draw the five pictures of a training run into `directory` (created if needed):
    the first training images (uint8 train_images, train_labels), the training curves,
    the confusion matrix on (x_test, y_test), and the first Conv2D layer's filters and
    feature maps of x_test[0] (none for a model without Conv2D). Return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / IMAGES, directory / CURVES, directory / CONFUSION]
    viz.plot_images(train_images, train_labels, class_names, path=written[0])
    viz.plot_history(history, path=written[1])
    viz.plot_model_confusion_matrix(model, x_test, y_test, class_names, path=written[2])
    first_conv = first_conv_layer(model)
    if first_conv is not None:
        viz.plot_filters(first_conv, path=directory / FILTERS)
        viz.plot_feature_maps(model, x_test[0], path=directory / FEATURE_MAPS)
        written += [directory / FILTERS, directory / FEATURE_MAPS]
    return written
