"""Conv2DTranspose: the transposed 2-D convolution (Keras's layer), for small decoders.

Its kernel is Keras's (KH, KW, filters, C_in); the output size follows Keras's rule for
"valid" and "same" and output_padding (see fastconv._geometry.Conv2DTransposeGeometry).
"""
from fastconv import ops
from fastconv._geometry import Conv2DTransposeGeometry
from fastconv.layers.base import Layer, shape_from_channels_last, shape_to_channels_last
from fastconv.layers.conv import Conv2D

__all__ = ["Conv2DTranspose"]


class Conv2DTranspose(Conv2D):
    """Transposed 2-D convolution of (N, H, W, C) inputs to `filters` channels."""

    # The transposed kernels take no ReLU mask: the activation runs as a layer of its own.
    FUSES_RELU = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = (None if output_padding is None else
                               _pair("output_padding", output_padding))

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                        self.kernel_initializer, **self._weight_options("kernel"))
        self._add_bias()
        Layer.build(self, input_shape)

    def _input_channels(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Conv2DTranspose expects inputs of rank 4 (batch, height, width, "
                             f"channels), got input_shape (None,) + {tuple(input_shape)}")
        return shape_to_channels_last(input_shape, self.data_format)[-1]

    def _geometry(self, x_shape, channels):
        return Conv2DTransposeGeometry(x_shape, self.kernel_size + (self.filters, channels),
                                       self.strides, self.padding, self.output_padding,
                                       self.dilation_rate)

    def compute_output_shape(self, input_shape):
        shape = shape_to_channels_last(input_shape, self.data_format)
        g = self._geometry((1,) + shape, self._input_channels(input_shape))
        return shape_from_channels_last(g.out_shape[1:], self.data_format)

    def _arguments(self):
        return self.strides, self.padding, self.output_padding, self.dilation_rate

    def conv(self, x, activation=None):
        return ops.conv2d_transpose(x, self.params["kernel"], self.params.get("bias"),
                                    *self._arguments())

    def conv_backward(self, dy, relu_output, input_gradient):
        dx, dw, db = ops.conv2d_transpose_backward(dy, self._x, self.params["kernel"],
                                                   *self._arguments())
        self._store_gradients(dw, db)
        return dx if input_gradient else None

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        return {**config, "output_padding": (None if self.output_padding is None
                                             else list(self.output_padding))}


def _pair(name, value):
    """An int or a pair of non-negative ints, as a tuple of 2."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                   for v in values):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value!r}")
    return values
