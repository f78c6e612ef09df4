"""Pooling layers over the fastconv pool2d and pool3d kernels.

One class does max, min and average pooling in 1-D, 2-D and 3-D (a 1-D input (N, L, C)
is pooled as (N, 1, L, C)); global pooling is pool2d with a window as large as the input.
"""
from fastconv import ops
from fastconv._geometry import POOL_GEOMETRIES
from fastconv.layers.base import (Layer, check_data_format, from_channels_last,
                                  shape_from_channels_last, shape_to_channels_last,
                                  to_channels_last)
from fastconv.layers.conv import int_tuple

__all__ = ["MaxPooling2D", "MinPooling2D", "AveragePooling2D", "MaxPooling1D",
           "AveragePooling1D", "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
           "GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling3D",
           "GlobalMaxPooling3D"]


# The kernels each rank runs on: 1-D inputs go through the 2-D ones.
KERNELS = {1: (ops.pool2d, ops.pool2d_backward), 2: (ops.pool2d, ops.pool2d_backward),
           3: (ops.pool3d, ops.pool3d_backward)}


def _as_2d(x, rank):
    """A channels-last input of rank 1 (N, L, C) as (N, 1, L, C); rank 2 unchanged."""
    return x[:, None] if rank == 1 else x


def _from_2d(y, rank):
    return y[:, 0] if rank == 1 else y


def _window_2d(value, rank):
    return (1,) + value if rank == 1 else value


class Pooling(Layer):
    """Pooling with a sliding window (the subclass sets RANK and MODE: max, min or avg)."""

    RANK = None
    MODE = None

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int_tuple("pool_size", pool_size, self.RANK)
        self.strides = self.pool_size if strides is None else int_tuple(
            "strides", strides, self.RANK)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.data_format = check_data_format(data_format)

    def _kernel_args(self):
        return dict(pool_size=_window_2d(self.pool_size, self.RANK),
                    strides=_window_2d(self.strides, self.RANK), padding=self.padding,
                    mode=self.MODE)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.RANK + 1:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.RANK + 2}, "
                             f"got input_shape (None,) + {tuple(input_shape)}")
        shape = shape_to_channels_last(input_shape, self.data_format)
        args = self._kernel_args()
        spatial = _window_2d(shape[:-1], self.RANK)
        g = POOL_GEOMETRIES[len(spatial)]((1,) + spatial + shape[-1:], args["pool_size"],
                                          args["strides"], self.padding, self.MODE)
        # g.out_shape is (1, *spatial, C); a 1-D layer's is (1, 1, L, C).
        return shape_from_channels_last(g.out_shape[1 + len(spatial) - self.RANK:],
                                        self.data_format)

    def call(self, x, training):
        self._x = _as_2d(to_channels_last(x, self.data_format), self.RANK)
        y = KERNELS[self.RANK][0](self._x, **self._kernel_args())
        return from_channels_last(_from_2d(y, self.RANK), self.data_format)

    def backward_call(self, dz):
        dz = _as_2d(to_channels_last(dz, self.data_format), self.RANK)
        dx = KERNELS[self.RANK][1](dz, self._x, **self._kernel_args())
        return from_channels_last(_from_2d(dx, self.RANK), self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(Pooling):
    RANK, MODE = 2, "max"


class MinPooling2D(Pooling):
    RANK, MODE = 2, "min"


class AveragePooling2D(Pooling):
    RANK, MODE = 2, "avg"


class MaxPooling1D(Pooling):
    RANK, MODE = 1, "max"


class AveragePooling1D(Pooling):
    RANK, MODE = 1, "avg"


class MaxPooling3D(Pooling):
    RANK, MODE = 3, "max"


class AveragePooling3D(Pooling):
    RANK, MODE = 3, "avg"


class GlobalPooling(Layer):
    """Max or average over all spatial positions: (N, *spatial, C) -> (N, C)."""

    RANK = None
    MODE = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.RANK + 1:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.RANK + 2}, "
                             f"got input_shape (None,) + {tuple(input_shape)}")
        channels = shape_to_channels_last(input_shape, self.data_format)[-1]
        if not self.keepdims:
            return (channels,)
        return shape_from_channels_last((1,) * self.RANK + (channels,), self.data_format)

    def call(self, x, training):
        x = to_channels_last(x, self.data_format)
        self._x_shape = x.shape
        # Every spatial position on one axis: (N, positions, 1, C), one window.
        self._x = x.reshape(len(x), -1, 1, x.shape[-1])
        y = ops.pool2d(self._x, pool_size=self._x.shape[1:3], mode=self.MODE)
        return y.reshape((len(x),) + self.output_shape)

    def backward_call(self, dz):
        n, _, _, c = self._x.shape
        dx = ops.pool2d_backward(dz.reshape(n, 1, 1, c), self._x,
                                 pool_size=self._x.shape[1:3], mode=self.MODE)
        return from_channels_last(dx.reshape(self._x_shape), self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(GlobalPooling):
    RANK, MODE = 2, "avg"


class GlobalMaxPooling2D(GlobalPooling):
    RANK, MODE = 2, "max"


class GlobalAveragePooling1D(GlobalPooling):
    RANK, MODE = 1, "avg"


class GlobalAveragePooling3D(GlobalPooling):
    RANK, MODE = 3, "avg"


class GlobalMaxPooling3D(GlobalPooling):
    RANK, MODE = 3, "max"


class GlobalMaxPooling1D(GlobalPooling):
    RANK, MODE = 1, "max"
