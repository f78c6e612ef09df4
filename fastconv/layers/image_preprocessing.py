"""Image preprocessing layers: Rescaling, Resizing, CenterCrop (Keras's names and
arguments). They act the same in training and inference. Resizing runs the compiled
affine warp (fastconv.preprocessing.warp) with TensorFlow's half-pixel centres."""
import numbers

import numpy as np

from fastconv.layers.base import (Layer, check_data_format, from_channels_last,
                                  shape_from_channels_last, shape_to_channels_last,
                                  to_channels_last)
from fastconv.preprocessing.warp import affine_warp
from fastconv.preprocessing.warp_options import INTERPOLATIONS, option_code

__all__ = ["Rescaling", "Resizing", "CenterCrop"]


def check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class ImageLayer(Layer):
    """Base of the layers on batches of images (N, H, W, C) (or (N, C, H, W) with
    data_format="channels_first"), which compute in channels-last order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} needs images (height, width, channels), "
                             f"got inputs of shape (None,) + {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        h, w, c = shape_to_channels_last(tuple(input_shape), self.data_format)
        return shape_from_channels_last(self.image_output_shape(h, w) + (c,),
                                        self.data_format)

    def image_output_shape(self, h, w):
        return h, w

    def call(self, x, training):
        return from_channels_last(self.call_images(to_channels_last(x, self.data_format),
                                                   training), self.data_format)

    def backward_call(self, dz):
        return from_channels_last(self.backward_images(to_channels_last(dz, self.data_format)),
                                  self.data_format)

    def backward_images(self, dz):
        raise ValueError(f"{type(self).__name__} passes no gradient to its input: put it "
                         f"at the start of the model (before any layer with weights)")

    def backward(self, dy, input_gradient=True):
        if not input_gradient:
            return None
        return super().backward(dy, input_gradient)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Rescaling(Layer):
    """x * scale + offset (e.g. scale=1/255 for pixels in [0, 255])."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x, training):
        return x * x.dtype.type(self.scale) + x.dtype.type(self.offset)

    def backward_call(self, dz):
        return dz * dz.dtype.type(self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Resizing(ImageLayer):
    """Resize images to (height, width), bilinear or nearest, with half-pixel centres
    (tf.image.resize without antialiasing)."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.height, self.width = check_size("height", height), check_size("width", width)
        option_code("interpolation", interpolation, INTERPOLATIONS)
        self.interpolation = interpolation
        if crop_to_aspect_ratio:
            raise ValueError("Resizing(crop_to_aspect_ratio=True) is not supported: put a "
                             "CenterCrop of the aspect ratio before it")

    def image_output_shape(self, h, w):
        return self.height, self.width

    def call_images(self, x, training):
        n, h, w, _ = x.shape
        sx, sy = w / self.width, h / self.height
        matrix = [sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5]
        return affine_warp(x, np.tile(matrix, (n, 1)), (self.height, self.width),
                           self.interpolation, "nearest")

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation}


def crop_output_shape(layer, h, w):
    """(layer.height, layer.width), the window a crop layer cuts from h x w images."""
    if h < layer.height or w < layer.width:
        raise ValueError(f"{type(layer).__name__}({layer.height}, {layer.width}) needs images "
                         f"at least that large, got {h}x{w}")
    return layer.height, layer.width


def center_offsets(h, w, height, width):
    return (h - height) // 2, (w - width) // 2


class CenterCrop(ImageLayer):
    """The central (height, width) window of each image (Keras's offsets: (H - h) // 2)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.height, self.width = check_size("height", height), check_size("width", width)

    def image_output_shape(self, h, w):
        return crop_output_shape(self, h, w)

    def call_images(self, x, training):
        top, left = center_offsets(x.shape[1], x.shape[2], self.height, self.width)
        self._window = (top, left, x.shape)
        return x[:, top:top + self.height, left:left + self.width]

    def backward_images(self, dz):
        top, left, shape = self._window
        dx = np.zeros(shape, dz.dtype)
        dx[:, top:top + self.height, left:left + self.width] = dz
        return dx

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
