"""The first images of a data set, with their labels."""
import numpy as np

from fastconv.viz._figure import displayable, finish, image_grid

IMAGES_SHOWN = 9  # a 3x3 grid, as in the Keras tutorials


def class_indices(y, what):
    """Integer classes from integer labels (N,) or one-hot / probability rows (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.argmax(axis=1)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what} must be integer classes of shape (N,) or one-hot rows of "
                         f"shape (N, classes), got dtype {y.dtype} and shape {y.shape}")
    return y


def plot_images(x, y=None, class_names=None, path=None):
    """The first nine images of x in a 3x3 grid, titled with their labels.

    x: images (N, H, W), (N, H, W, 1) or (N, H, W, 3), any numeric range.
    y: their labels, as integer classes (N,) or one-hot rows (N, classes); optional.
    class_names: names to show instead of the class numbers, e.g. Fashion-MNIST's.
    path: where to save the figure as a PNG, if given. Returns the Figure.
    """
    x = np.asarray(x)
    if len(x) == 0:
        raise ValueError("plot_images needs at least one image, got an empty x")
    images = [displayable(image, "x") for image in x[:IMAGES_SHOWN]]
    if y is None:
        titles = [""] * len(images)
    else:
        labels = class_indices(y, "y")[:IMAGES_SHOWN]
        titles = [str(class_names[label] if class_names else label) for label in labels]
    return finish(image_grid(images, titles, columns=3), path)
