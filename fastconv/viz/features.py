"""What a CNN learned: its first-layer filters, and the feature maps of one image.

The feature maps show the usual picture: the first convolution responds to edges and
strokes, the later ones to larger parts of shapes, at a coarser resolution.
"""
import math

import numpy as np

from fastconv.layers import Conv2D
from fastconv.layers.base import to_channels_last
from fastconv.layers.pooling import Pooling
from fastconv.models import Sequential
from fastconv.viz._figure import CELL_INCHES, displayable, finish, image_grid, new_figure

MAPS_PER_LAYER = 8  # columns of the feature-map figure: enough to see variety, still legible


def plot_filters(layer, input_channel=0, path=None):
    """The kernels of a Conv2D layer, one small image per filter.

    layer: a built Conv2D layer, e.g. `model.layers[0]`.
    input_channel: which input channel's slice of each kernel to show (the first layer
        of an MNIST model has just one).
    path: where to save the figure as a PNG, if given. Returns the Figure.
    """
    if not isinstance(layer, Conv2D):
        raise TypeError(f"plot_filters needs a Conv2D layer, got {type(layer).__name__}")
    if not layer.built:
        raise ValueError(f"layer {layer.name!r} is not built yet: it has no filters to show")
    kernel = layer.params["kernel"]  # (KH, KW, C_in, C_out)
    if not 0 <= input_channel < kernel.shape[2]:
        raise ValueError(f"input_channel must be in [0, {kernel.shape[2]}) for layer "
                         f"{layer.name!r}, got {input_channel!r}")
    filters = [kernel[:, :, input_channel, k] for k in range(kernel.shape[3])]
    figure = image_grid(filters, [str(k) for k in range(len(filters))])
    figure.suptitle(f"{layer.name}: {len(filters)} filters "
                    f"{kernel.shape[0]}x{kernel.shape[1]} (input channel {input_channel})")
    return finish(figure, path)


def _as_one_sample(model, image):
    """image reshaped to a batch of one model input, or ValueError naming both shapes."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a fastconv Sequential, got {type(model).__name__}")
    if model.input_shape is None:
        raise ValueError("the model has no input shape yet: build it or train it first")
    input_shape = model.input_shape[1:]
    image = np.asarray(image, dtype=np.float32)
    if image.size != math.prod(input_shape):
        raise ValueError(f"image of shape {image.shape} does not fit the model's input "
                         f"shape {input_shape}")
    return image.reshape((1,) + input_shape)


def feature_maps(model, image):
    """[(layer, maps)] for each convolution and 2-D pooling layer of `model`, in order,
    where maps (H, W, C) is what that layer outputs for `image` (one model input)."""
    x = _as_one_sample(model, image)
    maps = []
    for layer in model.layers:
        # Layer by layer, as Sequential.predict's forward pass, keeping what we show.
        x = layer.forward(x, training=False)
        if isinstance(layer, (Conv2D, Pooling)) and x.ndim == 4:
            channels_last = to_channels_last(x, layer.data_format)
            maps.append((layer, channels_last[0]))
    return maps


def plot_feature_maps(model, image, maps_per_layer=MAPS_PER_LAYER, path=None):
    """The image, then one row per conv/pool layer showing its first feature maps.

    model: a built Sequential with at least one Conv2D or 2-D pooling layer.
    image: one input of the model, e.g. x_test[0] (any shape with the same size).
    maps_per_layer: how many channels to show per layer.
    path: where to save the figure as a PNG, if given. Returns the Figure.
    """
    layer_maps = feature_maps(model, image)
    if not layer_maps:
        raise ValueError(f"model {model.name!r} has no Conv2D or 2-D pooling layer: it has "
                         f"no feature maps to show")
    columns = maps_per_layer
    figure = new_figure(columns * CELL_INCHES, (len(layer_maps) + 1) * CELL_INCHES + 0.3)
    axes = figure.subplots(len(layer_maps) + 1, columns, squeeze=False)
    input_image = _as_one_sample(model, image)[0]
    if input_image.ndim == 3:
        axes[0, 0].imshow(displayable(input_image, "image"), cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    for row, (layer, maps) in enumerate(layer_maps, start=1):
        for column in range(min(columns, maps.shape[-1])):
            axes[row, column].imshow(maps[:, :, column], cmap="viridis")
        axes[row, 0].set_title(f"{layer.name} {maps.shape[0]}x{maps.shape[1]}x"
                               f"{maps.shape[2]}", fontsize=8, loc="left")
    for ax in axes.ravel():
        ax.axis("off")
    return finish(figure, path)
