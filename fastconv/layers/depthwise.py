"""DepthwiseConv2D and SeparableConv2D (MobileNet's building blocks), Keras's layers.

A depthwise convolution filters each input channel on its own: with depth_multiplier m,
input channel c gives output channels c*m .. c*m + m - 1. Its kernel is Keras's
(KH, KW, C, m); the kernels see it as a grouped convolution with groups = C and weights
(KH, KW, 1, C*m), the same numbers in the same order, and run fastconv's depthwise
kernel, vectorised over channels.
"""
from fastconv import initializers, ops
from fastconv._geometry import Conv2DGeometry
from fastconv.layers.base import Layer, shape_from_channels_last, shape_to_channels_last
from fastconv.layers.conv import Conv2D, positive_int

__all__ = ["DepthwiseConv2D", "SeparableConv2D"]


def as_grouped(kernel):
    """Keras's depthwise kernel (KH, KW, C, m) as the grouped kernel (KH, KW, 1, C*m)."""
    kh, kw, c, m = kernel.shape
    return kernel.reshape(kh, kw, 1, c * m)


def input_channels(layer, input_shape):
    """The channels of a depthwise layer's (H, W, C) input; ValueError for another rank."""
    if len(input_shape) != 3:
        raise ValueError(f"{type(layer).__name__} expects inputs of rank 4 (batch, height, "
                         f"width, channels), got input_shape (None,) + {tuple(input_shape)}")
    return shape_to_channels_last(input_shape, layer.data_format)[-1]


def depthwise_output_shape(layer, input_shape):
    """Channels-last (OH, OW, C*m) of the layer's depthwise convolution."""
    shape = shape_to_channels_last(input_shape, layer.data_format)
    channels = input_channels(layer, input_shape)
    g = Conv2DGeometry((1,) + shape, layer.kernel_size + (1, channels * layer.depth_multiplier),
                       layer.strides, layer.padding, layer.dilation_rate, channels)
    return g.out_shape[1:]


class DepthwiseConv2D(Conv2D):
    """Depthwise 2-D convolution: each input channel convolved with its own
    depth_multiplier filters (Keras's DepthwiseConv2D)."""

    KERNEL_ROLE = "depthwise"

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        self.depth_multiplier = positive_int("depth_multiplier", depth_multiplier)
        # filters and groups follow from the input's channels, in build().
        super().__init__(depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, 1, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)

    def build(self, input_shape):
        channels = input_channels(self, input_shape)
        self.filters, self.groups = channels * self.depth_multiplier, channels
        self.add_weight("kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.kernel_initializer, **self._weight_options("depthwise"))
        self._add_bias()
        Layer.build(self, input_shape)

    def compute_output_shape(self, input_shape):
        return shape_from_channels_last(depthwise_output_shape(self, input_shape),
                                        self.data_format)

    def conv(self, x, activation=None):
        return ops.conv2d(x, as_grouped(self.params["kernel"]), self.params.get("bias"),
                          self.strides, self.padding, activation, self.dilation_rate,
                          self.groups)

    def conv_backward(self, dy, relu_output, input_gradient):
        kernel = self.params["kernel"]
        dx, dw, db = ops.conv2d_backward(dy, self._x, as_grouped(kernel), self.strides,
                                         self.padding, None if relu_output is None else "relu",
                                         relu_output, input_gradient, self.dilation_rate,
                                         self.groups)
        self._store_gradients(dw.reshape(kernel.shape), db)
        return dx

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups", "kernel_initializer"):
            del config[key]
        return {**config, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.kernel_initializer)}


class SeparableConv2D(Conv2D):
    """Depthwise-separable 2-D convolution (Keras's SeparableConv2D): a depthwise
    convolution (no bias), then a pointwise 1x1 convolution to `filters` channels with the
    bias and the activation."""

    KERNEL_ROLE = "pointwise"

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        self.depth_multiplier = positive_int("depth_multiplier", depth_multiplier)
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, pointwise_initializer, bias_initializer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         pointwise_constraint, bias_constraint, **kwargs)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self._set_weight_options("depthwise", depthwise_regularizer, depthwise_constraint)

    def build(self, input_shape):
        channels = input_channels(self, input_shape)
        self.channels = channels
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, **self._weight_options("depthwise"))
        self.add_weight("pointwise_kernel", (1, 1, channels * self.depth_multiplier,
                                             self.filters), self.kernel_initializer,
                        **self._weight_options("pointwise"))
        self._add_bias()
        Layer.build(self, input_shape)

    def compute_output_shape(self, input_shape):
        spatial = depthwise_output_shape(self, input_shape)[:-1]
        return shape_from_channels_last(spatial + (self.filters,), self.data_format)

    def _depthwise_args(self):
        return self.strides, self.padding, None, self.dilation_rate, self.channels

    def conv(self, x, activation=None):
        self._mid = ops.conv2d(x, as_grouped(self.params["depthwise_kernel"]), None,
                               *self._depthwise_args())
        return ops.conv2d(self._mid, self.params["pointwise_kernel"], self.params.get("bias"),
                          1, "valid", activation)

    def conv_backward(self, dy, relu_output, input_gradient):
        dmid, dpw, db = ops.conv2d_backward(dy, self._mid, self.params["pointwise_kernel"], 1,
                                            "valid", None if relu_output is None else "relu",
                                            relu_output)
        depthwise = self.params["depthwise_kernel"]
        strides, padding, _, dilation, groups = self._depthwise_args()
        dx, ddw, _ = ops.conv2d_backward(dmid, self._x, as_grouped(depthwise), strides,
                                         padding, None, None, input_gradient, dilation, groups)
        self.grads["depthwise_kernel"] = ddw.reshape(depthwise.shape)
        self._store_gradients(dpw, db, kernel="pointwise_kernel")
        return dx

    def get_config(self):
        config = super().get_config()
        for key in ("groups", "kernel_initializer"):
            del config[key]
        return {**config, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.kernel_initializer)}
