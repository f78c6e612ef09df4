"""Random image augmentation layers, Keras's names and arguments: RandomCrop,
RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast,
RandomBrightness.

They change images only in training (`fit`); in inference (`predict`, `evaluate`) they
are the identity, except RandomCrop, which then takes the central window (its
deterministic part). Every image draws its own transformation; the geometric ones run
as one call of the compiled affine warp over the whole batch (no per-image Python
loop). Each layer has its own generator, seeded by `seed` or, without one, from NumPy's
global generator, and saved with the model, so runs repeat and resume exactly.
A layer that changed its input passes no gradient back: put these layers first.
"""
import math
import numbers

import numpy as np

from fastconv.layers.image_preprocessing import (ImageLayer, center_offsets, check_size,
                                                 crop_output_shape)
from fastconv.preprocessing.warp import affine_warp
from fastconv.preprocessing.warp_options import FILL_MODES, INTERPOLATIONS, option_code

__all__ = ["RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
           "RandomContrast", "RandomBrightness"]

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _range(name, factor, symmetric=True, low=-math.inf, high=math.inf):
    """Keras's factor: a number f (the range (-f, f), or (f, f) when not symmetric) or a
    pair (lower, upper)."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{name} must be a number or a pair (lower, upper), got "
                             f"{factor!r}")
        lower, upper = factor
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        lower, upper = (-factor, factor) if symmetric else (factor, factor)
    else:
        raise ValueError(f"{name} must be a number or a pair (lower, upper), got {factor!r}")
    lower, upper = float(lower), float(upper)
    if not (low <= lower <= upper <= high):
        raise ValueError(f"{name} must give lower <= upper within [{low}, {high}], got "
                         f"{factor!r}")
    return lower, upper


class RandomLayer(ImageLayer):
    """Base: a seeded generator, and the switch between training and inference."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.seed = seed
        self.rng = np.random.default_rng(
            seed if seed is not None else np.random.randint(2**63, dtype=np.int64))

    def call_images(self, x, training):
        self._changed = bool(training) and len(x) > 0
        return self.augment(x) if self._changed else self.inference(x)

    def inference(self, x):
        return x

    def backward_images(self, dz):
        if not self._changed:
            return dz
        return super().backward_images(dz)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class WarpLayer(RandomLayer):
    """A random affine transformation per image, sampled by the warp kernel."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        option_code("fill_mode", fill_mode, FILL_MODES)
        option_code("interpolation", interpolation, INTERPOLATIONS)
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise TypeError(f"fill_value must be a number, got {fill_value!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def augment(self, x):
        n, h, w, _ = x.shape
        return affine_warp(x, self.matrices(n, h, w), None, self.interpolation,
                           self.fill_mode, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomRotation(WarpLayer):
    """Rotate each image by a random angle in factor * 2pi (a number f: (-f, f)); positive
    angles turn counter-clockwise, about the image centre (Keras's matrix)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self.lower, self.upper = _range("factor", factor)

    def matrices(self, n, h, w):
        angle = self.rng.uniform(self.lower * 2 * math.pi, self.upper * 2 * math.pi, n)
        cos, sin = np.cos(angle), np.sin(angle)
        x_offset = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2
        y_offset = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2
        return np.stack([cos, -sin, x_offset, sin, cos, y_offset], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomTranslation(WarpLayer):
    """Shift each image by random fractions of its height and width (a number f: (-f, f))."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _range("height_factor", height_factor, low=-1, high=1)
        self.width_range = _range("width_factor", width_factor, low=-1, high=1)

    def matrices(self, n, h, w):
        dy = self.rng.uniform(*self.height_range, n) * h
        dx = self.rng.uniform(*self.width_range, n) * w
        ones, zeros = np.ones(n), np.zeros(n)
        return np.stack([ones, zeros, -dx, zeros, ones, -dy], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomZoom(WarpLayer):
    """Zoom each image by 1 + a random value of height_factor (a number f: (-f, f));
    positive values zoom out. width_factor=None keeps the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _range("height_factor", height_factor, low=-1)
        self.width_range = (None if width_factor is None
                            else _range("width_factor", width_factor, low=-1))

    def matrices(self, n, h, w):
        zy = 1 + self.rng.uniform(*self.height_range, n)
        zx = zy if self.width_range is None else 1 + self.rng.uniform(*self.width_range, n)
        zeros = np.zeros(n)
        return np.stack([zx, zeros, (w - 1) / 2 * (1 - zx), zeros, zy,
                         (h - 1) / 2 * (1 - zy)], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomFlip(WarpLayer):
    """Flip each image left-right and/or up-down, each with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None,
                 **kwargs):
        super().__init__("constant", "nearest", seed, 0.0, data_format, **kwargs)
        if mode not in FLIP_MODES:
            raise ValueError(f"mode must be one of {FLIP_MODES}, got {mode!r}")
        self.mode = mode

    def matrices(self, n, h, w):
        sx = np.ones(n)
        sy = np.ones(n)
        if self.mode != "vertical":
            sx = np.where(self.rng.random(n) < 0.5, -1.0, 1.0)
        if self.mode != "horizontal":
            sy = np.where(self.rng.random(n) < 0.5, -1.0, 1.0)
        zeros = np.zeros(n)
        return np.stack([sx, zeros, (1 - sx) / 2 * (w - 1), zeros, sy,
                         (1 - sy) / 2 * (h - 1)], axis=1)

    def get_config(self):
        config = RandomLayer.get_config(self)
        return {**config, "mode": self.mode}


class RandomCrop(RandomLayer):
    """A random (height, width) window of each image in training; the central window in
    inference."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.height, self.width = check_size("height", height), check_size("width", width)

    def image_output_shape(self, h, w):
        return crop_output_shape(self, h, w)

    def augment(self, x):
        n, h, w, _ = x.shape
        top = self.rng.integers(0, h - self.height + 1, n)
        left = self.rng.integers(0, w - self.width + 1, n)
        ones, zeros = np.ones(n), np.zeros(n)
        matrices = np.stack([ones, zeros, left, zeros, ones, top], axis=1)
        return affine_warp(x, matrices, (self.height, self.width), "nearest")

    def inference(self, x):
        top, left = center_offsets(x.shape[1], x.shape[2], self.height, self.width)
        return x[:, top:top + self.height, left:left + self.width]

    def backward_images(self, dz):
        raise ValueError("RandomCrop passes no gradient to its input: put it at the start "
                         "of the model (before any layer with weights)")

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class PixelLayer(RandomLayer):
    """Random per-image changes of the pixel values, clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not value_range[0] < value_range[1]):
            raise ValueError(f"value_range must be a pair (low, high) with low < high, got "
                             f"{value_range!r}")
        self.factor = factor
        self.value_range = (float(value_range[0]), float(value_range[1]))

    def clip(self, y, dtype):
        return np.clip(y, *self.value_range).astype(dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}


class RandomContrast(PixelLayer):
    """(x - mean) * c + mean per image and channel, c uniform in [1 - lower, 1 + upper]
    (a number f: lower = upper = f)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.lower, self.upper = _range("factor", factor, symmetric=False, low=0)
        if self.lower > 1:
            raise ValueError(f"factor's lower bound must be in [0, 1], got {factor!r}")

    def augment(self, x):
        c = self.rng.uniform(1 - self.lower, 1 + self.upper, len(x)).reshape(-1, 1, 1, 1)
        mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float64)
        return self.clip((x - mean) * c + mean, x.dtype)


class RandomBrightness(PixelLayer):
    """x + d per image, d uniform in factor * (high - low) of value_range (a number f:
    (-f, f)), clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.lower, self.upper = _range("factor", factor, low=-1, high=1)

    def augment(self, x):
        span = self.value_range[1] - self.value_range[0]
        d = self.rng.uniform(self.lower, self.upper, len(x)).reshape(-1, 1, 1, 1) * span
        return self.clip(x + d, x.dtype)
