"""Zero padding, cropping and upsampling of 1-D, 2-D and 3-D inputs (Keras's layers).

One class per operation serves every rank (the subclass sets RANK); all are exact NumPy
(padding and cropping are slices; nearest upsampling repeats, and its gradient sums the
repeated cells; bilinear upsampling is one small interpolation matrix per axis).
"""
import numpy as np

from fastconv.layers.base import (Layer, check_data_format, from_channels_last,
                                  shape_from_channels_last, shape_to_channels_last,
                                  to_channels_last)

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
           "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D"]


def _amounts(name, value, rank, minimum):
    """Keras's spellings of per-axis (before, after) amounts: an int (all sides), `rank`
    ints (symmetric per axis), or `rank` pairs. Returns a tuple of `rank` pairs."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if rank == 1 and isinstance(value, (tuple, list)) and len(value) == 2 and all(
            is_int(v) for v in value):
        pairs = (tuple(value),)
    elif is_int(value):
        pairs = ((value, value),) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank and all(
            is_int(v) for v in value):
        pairs = tuple((v, v) for v in value)
    elif isinstance(value, (tuple, list)) and len(value) == rank and all(
            isinstance(p, (tuple, list)) and len(p) == 2 and all(is_int(v) for v in p)
            for p in value):
        pairs = tuple(tuple(p) for p in value)
    else:
        raise ValueError(f"{name} must be an int, {rank} ints or {rank} pairs of ints, got "
                         f"{value!r}")
    if any(v < minimum for p in pairs for v in p):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


class _Spatial(Layer):
    """A layer over the spatial axes of a (N, *spatial, C) input of rank RANK + 2."""

    RANK = None

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)

    def _spatial(self, input_shape):
        if len(input_shape) != self.RANK + 1:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects inputs of rank "
                             f"{self.RANK + 2} (batch, {'spatial, ' * self.RANK}channels), "
                             f"got input_shape (None,) + {tuple(input_shape)}")
        shape = shape_to_channels_last(input_shape, self.data_format)
        return shape[:-1], shape[-1]

    def compute_output_shape(self, input_shape):
        spatial, channels = self._spatial(input_shape)
        out = self._output_spatial(spatial)
        return shape_from_channels_last(tuple(out) + (channels,), self.data_format)

    def call(self, x, training):
        x = to_channels_last(x, self.data_format)
        self._x_shape = x.shape
        return from_channels_last(self._forward(x), self.data_format)

    def backward_call(self, dz):
        return from_channels_last(self._backward(to_channels_last(dz, self.data_format)),
                                  self.data_format)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        return config if self.RANK > 1 else {k: v for k, v in config.items()
                                             if k != "data_format"}


class _ZeroPadding(_Spatial):
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _amounts("padding", padding, self.RANK, 0)

    def _output_spatial(self, spatial):
        return [s + a + b for s, (a, b) in zip(spatial, self.padding)]

    def _forward(self, x):
        return np.pad(x, ((0, 0),) + self.padding + ((0, 0),))

    def _backward(self, dz):
        return dz[(slice(None),) + tuple(slice(a, a + s) for (a, _), s in
                                         zip(self.padding, self._x_shape[1:-1]))]

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class _Cropping(_Spatial):
    def __init__(self, cropping=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _amounts("cropping", cropping, self.RANK, 0)

    def _output_spatial(self, spatial):
        out = [s - a - b for s, (a, b) in zip(spatial, self.cropping)]
        if min(out) < 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: cropping {self.cropping} "
                             f"leaves nothing of the spatial shape {tuple(spatial)}")
        return out

    def _forward(self, x):
        return x[(slice(None),) + tuple(slice(a, s - b) for (a, b), s in
                                        zip(self.cropping, x.shape[1:-1]))]

    def _backward(self, dz):
        return np.pad(dz, ((0, 0),) + self.cropping + ((0, 0),))

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping]}


def bilinear_matrix(size, scale, dtype):
    """(size*scale, size) weights of bilinear upsampling along one axis, with half-pixel
    centres (tf.image.resize, Keras): output i samples input (i + 0.5) / scale - 0.5."""
    out = size * scale
    src = np.clip((np.arange(out) + 0.5) / scale - 0.5, 0, size - 1)
    lower = np.floor(src).astype(int)
    upper = np.minimum(lower + 1, size - 1)
    frac = src - lower
    a = np.zeros((out, size), dtype=dtype)
    np.add.at(a, (np.arange(out), lower), 1 - frac)
    np.add.at(a, (np.arange(out), upper), frac)
    return a


class _UpSampling(_Spatial):
    INTERPOLATIONS = ("nearest",)

    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        sizes = (size,) * self.RANK if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != self.RANK or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                for v in sizes):
            raise ValueError(f"size must be a positive int or {self.RANK} of them, got "
                             f"{size!r}")
        self.size = tuple(int(v) for v in sizes)
        if interpolation not in self.INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {self.INTERPOLATIONS} for "
                             f"{type(self).__name__}, got {interpolation!r}")
        self.interpolation = interpolation

    def _output_spatial(self, spatial):
        return [s * k for s, k in zip(spatial, self.size)]

    def _forward(self, x):
        if self.interpolation == "bilinear":
            return self._bilinear(x, transpose=False)
        for axis, k in enumerate(self.size, start=1):
            x = np.repeat(x, k, axis=axis)
        return x

    def _backward(self, dz):
        if self.interpolation == "bilinear":
            return self._bilinear(dz, transpose=True)
        # Each input cell was repeated into a block of size cells: its gradient is their sum.
        n, c = dz.shape[0], dz.shape[-1]
        blocks = [n]
        for s, k in zip(self._x_shape[1:-1], self.size):
            blocks += [s, k]
        dz = dz.reshape(blocks + [c])
        return dz.sum(axis=tuple(range(2, 2 * self.RANK + 1, 2)))

    def _bilinear(self, a, transpose):
        h, w = self._x_shape[1:3]
        rows = bilinear_matrix(h, self.size[0], a.dtype)
        cols = bilinear_matrix(w, self.size[1], a.dtype)
        if transpose:
            return np.einsum("ph,npqc,qw->nhwc", rows, a, cols, optimize=True)
        return np.einsum("ph,nhwc,qw->npqc", rows, a, cols, optimize=True)

    def get_config(self):
        config = {**super().get_config(), "size": list(self.size)}
        if len(self.INTERPOLATIONS) > 1:
            config["interpolation"] = self.interpolation
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps of (N, L, C): padding an int or (before, after)."""
    RANK = 1


class ZeroPadding2D(_ZeroPadding):
    """Zero rows and columns around (N, H, W, C) images."""
    RANK = 2


class ZeroPadding3D(_ZeroPadding):
    """Zero planes, rows and columns around (N, D, H, W, C) volumes."""
    RANK = 3


class Cropping1D(_Cropping):
    """Drops steps at the start and end of (N, L, C)."""
    RANK = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Drops rows and columns at the borders of (N, H, W, C) images."""
    RANK = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Drops planes, rows and columns at the borders of (N, D, H, W, C) volumes."""
    RANK = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None,
                 **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class UpSampling1D(_UpSampling):
    """Repeats each step `size` times."""
    RANK = 1


class UpSampling2D(_UpSampling):
    """Upsamples images by `size` (rows, columns): "nearest" repeats pixels, "bilinear"
    interpolates as tf.image.resize does (half-pixel centres)."""
    RANK = 2
    INTERPOLATIONS = ("nearest", "bilinear")


class UpSampling3D(_UpSampling):
    """Repeats each voxel size = (depth, rows, columns) times."""
    RANK = 3
