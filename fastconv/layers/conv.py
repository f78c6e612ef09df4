"""Conv1D, Conv2D and Conv3D: one class over the fastconv convolution kernels.

Kernels are (*kernel_size, C_in // groups, C_out), as in Keras, whatever the data_format:
channels_first inputs are transposed at the edge.
"""
from fastconv import activations, initializers, ops
from fastconv._geometry import Conv2DGeometry, Conv3DGeometry, conv1d_as_2d
from fastconv.layers.base import (Layer, check_data_format, from_channels_last,
                                  shape_from_channels_last, shape_to_channels_last,
                                  to_channels_last)

__all__ = ["Conv1D", "Conv2D", "Conv3D"]


def positive_int(name, value):
    """value if it is a positive int (not a bool), else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def int_tuple(name, value, rank):
    """An int or a sequence of `rank` positive ints, as a tuple of length rank."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    if len(values) != rank or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"{name} must be a positive int or a tuple of {rank} positive ints, "
                         f"got {value!r}")
    return values


class _Conv(Layer):
    """Convolution of rank 1 or 2 (the subclass sets RANK and the kernel functions)."""

    RANK = None
    PADDINGS = ("valid", "same")
    # Whether the subclass's kernels take ReLU into the convolution (forward epilogue,
    # backward mask) and can skip dx.
    FUSES_RELU = False
    # The Keras name of the main kernel in the <name>_regularizer / <name>_constraint
    # arguments ("depthwise" for DepthwiseConv2D, "pointwise" for SeparableConv2D).
    KERNEL_ROLE = "kernel"

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = positive_int("filters", filters)
        self.groups = positive_int("groups", groups)
        if filters % groups:
            raise ValueError(f"filters ({filters}) must be divisible by groups ({groups})")
        self.kernel_size = int_tuple("kernel_size", kernel_size, self.RANK)
        self.strides = int_tuple("strides", strides, self.RANK)
        self.dilation_rate = int_tuple("dilation_rate", dilation_rate, self.RANK)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in self.PADDINGS:
            raise ValueError(f"padding must be one of {self.PADDINGS}, got {padding!r}")
        self.padding = padding
        self.data_format = check_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._set_weight_options(self.KERNEL_ROLE, kernel_regularizer, kernel_constraint)
        self._set_weight_options("bias", bias_regularizer, bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != self.RANK + 1:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.RANK + 2} "
                             f"(batch, {'spatial, ' * self.RANK}channels), got input_shape "
                             f"(None,) + {tuple(input_shape)}")
        channels = shape_to_channels_last(input_shape, self.data_format)[-1]
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input's {channels} "
                             f"channels (input_shape {tuple(input_shape)}) must be divisible "
                             f"by groups ({self.groups})")
        self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                        self.kernel_initializer, **self._weight_options(self.KERNEL_ROLE))
        self._add_bias()
        super().build(input_shape)

    def _add_bias(self):
        """The bias weight (filters,), when use_bias."""
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            **self._weight_options("bias"))

    def compute_output_shape(self, input_shape):
        shape = shape_to_channels_last(input_shape, self.data_format)
        kernel_shape = self.kernel_size + (shape[-1] // self.groups, self.filters)
        out = self._output_shape_channels_last(shape, kernel_shape)
        return shape_from_channels_last(out, self.data_format)

    def _fused_activation(self):
        """"relu" when the kernels apply this layer's activation themselves, else None."""
        a = self.activation
        plain_relu = (isinstance(a, activations.ReLU) and not a.negative_slope
                      and a.max_value is None)
        return "relu" if self.FUSES_RELU and plain_relu else None

    def call_and_activate(self, x, training):
        activation = self._fused_activation()
        if activation is None:
            return super().call_and_activate(x, training)
        self._x = to_channels_last(x, self.data_format)
        return None, from_channels_last(self.conv(self._x, activation), self.data_format)

    def call(self, x, training):
        self._x = to_channels_last(x, self.data_format)
        return from_channels_last(self.conv(self._x), self.data_format)

    def backward(self, dy, input_gradient=True):
        if self._pre_activation is not None:  # the activation was not fused
            dz = self.activation.gradient(dy, self._pre_activation, self._output)
            return self._backward(dz, None, input_gradient)
        return self._backward(dy, to_channels_last(self._output, self.data_format),
                              input_gradient)

    def backward_call(self, dz):
        return self._backward(dz, None, True)

    def _backward(self, dz, relu_output, input_gradient):
        """Gradients for dz; relu_output: the fused ReLU's output that masks dz, or None."""
        dx = self.conv_backward(to_channels_last(dz, self.data_format), relu_output,
                                input_gradient)
        return None if dx is None else from_channels_last(dx, self.data_format)

    def _store_gradients(self, dw, db, kernel="kernel"):
        self.grads[kernel] = dw
        if self.use_bias:
            self.grads["bias"] = db

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class Conv2D(_Conv):
    """2-D convolution (cross-correlation) of (N, H, W, C) inputs, Keras's Conv2D."""

    RANK = 2
    FUSES_RELU = True
    # The kernels and geometry of this rank (Conv3D sets its own).
    KERNELS = (ops.conv2d, ops.conv2d_backward)
    GEOMETRY = Conv2DGeometry

    def conv(self, x, activation=None):
        return self.KERNELS[0](x, self.params["kernel"], self.params.get("bias"),
                               self.strides, self.padding, activation, self.dilation_rate,
                               self.groups)

    def conv_backward(self, dy, relu_output, input_gradient):
        dx, dw, db = self.KERNELS[1](dy, self._x, self.params["kernel"], self.strides,
                                     self.padding, None if relu_output is None else "relu",
                                     relu_output, input_gradient, self.dilation_rate,
                                     self.groups)
        self._store_gradients(dw, db)
        return dx

    def _output_shape_channels_last(self, shape, kernel_shape):
        g = self.GEOMETRY((1,) + shape, kernel_shape, self.strides, self.padding,
                          self.dilation_rate, self.groups)
        return g.out_shape[1:]


class Conv3D(Conv2D):
    """3-D convolution (cross-correlation) of (N, D, H, W, C) volumes, Keras's Conv3D."""

    RANK = 3
    KERNELS = (ops.conv3d, ops.conv3d_backward)
    GEOMETRY = Conv3DGeometry


class Conv1D(_Conv):
    """1-D convolution of (N, L, C) inputs; padding may also be "causal" (Keras)."""

    RANK = 1
    PADDINGS = ("valid", "same", "causal")

    def conv(self, x):
        return ops.conv1d(x, self.params["kernel"], self.params.get("bias"), self.strides[0],
                          self.padding, self.dilation_rate[0], self.groups)

    def conv_backward(self, dy, relu_output, input_gradient):
        # Conv1D fuses nothing (FUSES_RELU is False), so relu_output is always None.
        dx, dw, db = ops.conv1d_backward(dy, self._x, self.params["kernel"], self.strides[0],
                                         self.padding, self.dilation_rate[0], self.groups)
        self._store_gradients(dw, db)
        return dx

    def _output_shape_channels_last(self, shape, kernel_shape):
        strides2d, padding2d, dilation2d = conv1d_as_2d(
            (1,) + shape, kernel_shape, self.strides[0], self.padding, self.dilation_rate[0])
        g = Conv2DGeometry((1, 1) + shape, (1,) + kernel_shape, strides2d, padding2d,
                           dilation2d, self.groups)
        return (g.ow, g.k)
