"""The one place that imports matplotlib: a new Figure, an image grid, and saving."""
import math

import numpy as np

# Inches per grid cell: a 28x28 digit stays legible and a 32-filter grid fits a screen.
CELL_INCHES = 1.3
SAVE_DPI = 100


def new_figure(width_inches, height_inches):
    """A matplotlib Figure that belongs to no pyplot window, so it draws headless (Agg)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError('fastconv.viz needs matplotlib: pip install "fastconv[plot]"') \
            from exc
    return Figure(figsize=(width_inches, height_inches), layout="constrained")


def integer_ticks(axis):
    """Tick only whole numbers on `axis` (epochs)."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def finish(figure, path):
    """Save `figure` as a PNG at `path` (when given), and return it."""
    if path is not None:
        figure.savefig(path, format="png", dpi=SAVE_DPI)
    return figure


def image_grid(images, titles, columns=None, cmap="gray"):
    """A figure showing 2-D arrays (or RGB ones) in a grid, each with its title."""
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    figure = new_figure(columns * CELL_INCHES, rows * CELL_INCHES + 0.2)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, image, title in zip(axes, images, titles):
        ax.imshow(image, cmap=cmap)
        ax.set_title(title, fontsize=8)
    for ax in axes:
        ax.axis("off")
    return figure


def displayable(image, what):
    """An (H, W) or (H, W, 3) array for imshow, from (H, W), (H, W, 1) or (H, W, 3)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)):
        raise ValueError(f"{what} must be images of shape (H, W), (H, W, 1) or (H, W, 3), "
                         f"got one of shape {image.shape}")
    return image
