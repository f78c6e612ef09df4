"""Every fastconv layer and activation as ONNX nodes.

A converter takes (writer, layer, input names) and returns (result, perm): the name of
the layer's output before its activation, and how that tensor's axes are ordered against
the layer's output (numpy.transpose's perm; the identity for most layers). Convolution
and pooling work channels-first in ONNX, so they return their channels-first result and
its perm; `convert` applies the activation in that layout (a softmax's axis follows it)
and transposes back, which the writer cancels against the next layer's transpose.

Converters are found by class name along the layer's MRO, so a subclass of Conv2D
exports as a Conv2D.
"""
import numpy as np

from fastconv import activations
from fastconv._geometry import same_padding
from fastconv.export import UnsupportedLayerError
from fastconv.layers.base import shape_to_channels_last

__all__ = ["CONVERTERS", "convert", "inverse_perm"]

CONVERTERS = {}


def converts(*class_names):
    """Register the decorated function as the converter of these layer classes."""
    def register(function):
        for name in class_names:
            CONVERTERS[name] = function
        return function
    return register


def _converter(layer):
    for cls in type(layer).__mro__:
        if cls.__name__ in CONVERTERS:
            return CONVERTERS[cls.__name__]
    raise UnsupportedLayerError(
        f"layer {layer.name!r} ({type(layer).__name__}) cannot be exported to ONNX: no "
        f"ONNX mapping for {type(layer).__name__}; exportable layers: "
        f"{', '.join(sorted(CONVERTERS))}")


def convert(writer, layer, inputs):
    """Append `layer` applied to the named `inputs`; returns [its output's name]."""
    result, perm = _converter(layer)(writer, layer, inputs)
    result = apply_activation(writer, layer, result, perm)
    return [writer.transpose(result, inverse_perm(perm), layer.name)]


def inverse_perm(perm):
    """The permutation that undoes `perm` (numpy.transpose's meaning)."""
    return tuple(int(i) for i in np.argsort(perm))


def _identity(rank):
    return tuple(range(rank))


# ------------------------------------------------------------------ activations

def apply_activation(writer, layer, x, perm):
    """x after `layer.activation`; x's axes are the layer output's, ordered by `perm`."""
    act, scope = layer.activation, layer.name
    if isinstance(act, activations.Linear):
        return x
    if isinstance(act, activations.ReLU):
        if act.negative_slope:
            x = writer.op("LeakyRelu", [x], scope, alpha=act.negative_slope)
        else:
            x = writer.op("Relu", [x], scope)
        if act.max_value is not None:
            x = writer.op("Min", [x, writer.constant(f"{scope}/max_value", act.max_value)], scope)
        return x
    if isinstance(act, activations.Softmax):
        axis = act.axis % len(perm)
        return writer.op("Softmax", [x], scope, axis=perm.index(axis))
    if isinstance(act, activations.ELU):
        return writer.op("Elu", [x], scope, alpha=act.alpha)
    simple = {activations.Sigmoid: "Sigmoid", activations.Tanh: "Tanh"}
    if type(act) in simple:
        return writer.op(simple[type(act)], [x], scope)
    raise UnsupportedLayerError(f"layer {layer.name!r} ({type(layer).__name__}): its "
                                f"activation {act!r} has no ONNX mapping")


# ------------------------------------------------------------------ convolution, pooling

def _channels_first(writer, layer, x):
    """(x in channels-first order, perm from the layer's layout to it, rank) for a layer
    with `data_format` whose inputs have `layer.RANK` spatial axes."""
    rank = layer.RANK + 2
    perm = ((0, rank - 1) + tuple(range(1, rank - 1)) if layer.data_format == "channels_last"
            else _identity(rank))
    return writer.transpose(x, perm, layer.name), perm


def _extents(layer):
    """The (dilated) extents of a convolution layer's kernel."""
    dilation = getattr(layer, "dilation_rate", (1,) * len(layer.kernel_size))
    return [(k - 1) * d + 1 for k, d in zip(layer.kernel_size, dilation)]


def _pads(layer, window):
    """ONNX pads (all befores, then all afters) of a layer's "valid"/"same"/"causal"."""
    sizes = shape_to_channels_last(layer.input_shape, layer.data_format)[:-1]
    pairs = []
    for size, k, stride in zip(sizes, window, layer.strides):
        if layer.padding == "same":
            pairs.append(same_padding(size, k, stride))
        elif layer.padding == "causal":
            pairs.append((k - 1, 0))
        else:
            pairs.append((0, 0))
    return [b for b, _ in pairs] + [a for _, a in pairs]


def _onnx_kernel(kernel):
    """fastconv's (*window, C_in // groups, C_out) kernel as ONNX's (C_out, C_in // groups,
    *window)."""
    rank = kernel.ndim
    return np.transpose(kernel, (rank - 1, rank - 2) + _identity(rank - 2))


def _conv_node(writer, layer, x, kernel, bias, groups, pads, strides):
    """One ONNX Conv of the layer's kernel size and dilation on channels-first x."""
    operands = [x, writer.constant(f"{layer.name}/kernel", _onnx_kernel(kernel))]
    if bias is not None:
        operands.append(writer.constant(f"{layer.name}/bias", bias))
    window = kernel.shape[:-2]
    return writer.op("Conv", operands, layer.name, kernel_shape=list(window),
                     strides=list(strides), pads=pads, group=groups,
                     dilations=list(getattr(layer, "dilation_rate", (1,) * len(window))))


@converts("Conv1D", "Conv2D", "Conv3D")
def _conv(writer, layer, inputs):
    x, perm = _channels_first(writer, layer, inputs[0])
    y = _conv_node(writer, layer, x, layer.params["kernel"], layer.params.get("bias"),
                   layer.groups, _pads(layer, _extents(layer)), layer.strides)
    return y, perm


def _depthwise_node(writer, layer, x, kernel, bias):
    """The layer's depthwise convolution: Keras's (KH, KW, C, m) kernel as the grouped
    (KH, KW, 1, C*m) one, groups = C (the kernels' own view, layers.depthwise.as_grouped)."""
    from fastconv.layers.depthwise import as_grouped
    return _conv_node(writer, layer, x, as_grouped(kernel), bias, kernel.shape[2],
                      _pads(layer, _extents(layer)), layer.strides)


@converts("DepthwiseConv2D")
def _depthwise(writer, layer, inputs):
    x, perm = _channels_first(writer, layer, inputs[0])
    return _depthwise_node(writer, layer, x, layer.params["kernel"],
                           layer.params.get("bias")), perm


@converts("SeparableConv2D")
def _separable(writer, layer, inputs):
    """The depthwise Conv (no bias), then the pointwise 1x1 Conv with the bias."""
    x, perm = _channels_first(writer, layer, inputs[0])
    mid = _depthwise_node(writer, layer, x, layer.params["depthwise_kernel"], None)
    pointwise = layer.params["pointwise_kernel"]
    y = writer.op("Conv", [mid, writer.constant(f"{layer.name}/pointwise",
                                                 _onnx_kernel(pointwise))]
                  + ([writer.constant(f"{layer.name}/bias", layer.params["bias"])]
                     if layer.use_bias else []), layer.name, kernel_shape=[1, 1])
    return y, perm


@converts("Conv2DTranspose")
def _conv_transpose(writer, layer, inputs):
    """ONNX ConvTranspose with the pads of the conv2d it transposes and the output_padding
    that gives fastconv's output size; the kernel (KH, KW, C_out, C_in) is ONNX's
    (C_in, C_out, KH, KW)."""
    from fastconv._geometry import Conv2DTransposeGeometry
    x, perm = _channels_first(writer, layer, inputs[0])
    kernel = layer.params["kernel"]
    shape = shape_to_channels_last(layer.input_shape, layer.data_format)
    g = Conv2DTransposeGeometry((1,) + shape, kernel.shape, layer.strides, layer.padding,
                                layer.output_padding, layer.dilation_rate)
    f = g.forward
    extra = [out - (s * (size - 1) + e - sum(p)) for out, s, size, e, p in
             zip(g.out_shape[1:3], f.strides, shape[:2], _extents(layer), f.padding)]
    operands = [x, writer.constant(f"{layer.name}/kernel", np.transpose(kernel, (3, 2, 0, 1)))]
    if layer.use_bias:
        operands.append(writer.constant(f"{layer.name}/bias", layer.params["bias"]))
    y = writer.op("ConvTranspose", operands, layer.name, kernel_shape=list(layer.kernel_size),
                  strides=list(f.strides), dilations=list(f.dilation),
                  pads=[p[0] for p in f.padding] + [p[1] for p in f.padding],
                  output_padding=extra)
    return y, perm


@converts("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MinPooling2D", "AveragePooling1D",
          "AveragePooling2D", "AveragePooling3D")
def _pool(writer, layer, inputs):
    x, perm = _channels_first(writer, layer, inputs[0])
    window = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides),
                  pads=_pads(layer, layer.pool_size))
    if layer.MODE == "avg":  # Keras: the mean of the real pixels only
        return writer.op("AveragePool", [x], layer.name, count_include_pad=0, **window), perm
    if layer.MODE == "max":
        return writer.op("MaxPool", [x], layer.name, **window), perm
    # min = -max(-x): ONNX has no MinPool.
    negated = writer.op("Neg", [x], layer.name)
    pooled = writer.op("MaxPool", [negated], layer.name, **window)
    return writer.op("Neg", [pooled], layer.name), perm


@converts("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
          "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _global_pool(writer, layer, inputs):
    first_spatial = 1 if layer.data_format == "channels_last" else 2
    axes = list(range(first_spatial, first_spatial + layer.RANK))
    op = {"avg": "ReduceMean", "max": "ReduceMax"}[layer.MODE]
    y = writer.op(op, inputs, layer.name, axes=axes, keepdims=int(layer.keepdims))
    return y, _identity(len(layer.output_shape) + 1)


# ------------------------------------------------------------------ the other layers

@converts("Dense")
def _dense(writer, layer, inputs):
    y = writer.op("MatMul", [inputs[0], writer.constant(f"{layer.name}/kernel",
                                                        layer.params["kernel"])],
                  layer.name if layer.use_bias else layer.name)
    if layer.use_bias:
        y = writer.op("Add", [y, writer.constant(f"{layer.name}/bias", layer.params["bias"])],
                      layer.name)
    return y, _identity(len(layer.output_shape) + 1)


@converts("Flatten")
def _flatten(writer, layer, inputs):
    # The input is in the layer's own (channels-last) order, so ONNX's row-major
    # Flatten gives Keras's order.
    return writer.op("Flatten", inputs, layer.name, axis=1), (0, 1)


@converts("Reshape")
def _reshape(writer, layer, inputs):
    shape = writer.constant(f"{layer.name}/shape", (0,) + tuple(layer.output_shape))
    return (writer.op("Reshape", [inputs[0], shape], layer.name),  # 0: keep the batch size
            _identity(len(layer.output_shape) + 1))


@converts("BatchNormalization")
def _batch_normalization(writer, layer, inputs):
    """Inference form: (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta."""
    rank = len(layer.input_shape) + 1
    axis = layer.axis % rank
    as_feature = (-1,) + (1,) * (rank - 1 - axis)  # broadcasts along `axis`
    gain = 1 / np.sqrt(layer.state["moving_variance"] + layer.dtype.type(layer.epsilon))
    if layer.scale:
        gain = gain * layer.params["gamma"]
    x = writer.op("Sub", [inputs[0], writer.constant(
        f"{layer.name}/mean", layer.state["moving_mean"].reshape(as_feature))],
        layer.name)
    y = writer.op("Mul", [x, writer.constant(f"{layer.name}/gain", gain.reshape(as_feature))],
                  layer.name if layer.center else layer.name)
    if layer.center:
        y = writer.op("Add", [y, writer.constant(f"{layer.name}/beta",
                                                 layer.params["beta"].reshape(as_feature))],
                      layer.name)
    return y, _identity(rank)


@converts("Dropout", "Activation", "ReLU", "Softmax")
def _identity_then_activation(writer, layer, inputs):
    """Dropout is the identity at inference; an Activation layer (ReLU, Softmax too) is
    its activation alone, which `convert` applies."""
    return inputs[0], _identity(len(layer.output_shape) + 1)


# ------------------------------------------------------------------ merge layers

def _chain(writer, op_type, inputs, scope):
    """A binary ONNX operator folded over the inputs, left to right (numpy's broadcasting)."""
    result = inputs[0]
    for x in inputs[1:]:
        result = writer.op(op_type, [result, x], scope)
    return result


@converts("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def _elementwise(writer, layer, inputs):
    ops = {"Add": "Sum", "Average": "Mean", "Maximum": "Max", "Minimum": "Min"}
    name = type(layer).__name__
    if name in ops:  # variadic ONNX operators, broadcasting as NumPy
        y = writer.op(ops[name], inputs, layer.name)
    else:
        y = _chain(writer, {"Subtract": "Sub", "Multiply": "Mul"}[name], inputs, layer.name)
    return y, _identity(len(layer.output_shape) + 1)


@converts("Concatenate")
def _concatenate(writer, layer, inputs):
    rank = len(layer.output_shape) + 1
    return (writer.op("Concat", inputs, layer.name, axis=layer.axis % rank),
            _identity(rank))


@converts("Dot")
def _dot(writer, layer, inputs):
    """sum(a * b) over the features (2-D inputs); with normalize, of a / |a| and b / |b|,
    each norm at least sqrt(L2_NORM_EPSILON) as in the layer."""
    from fastconv.layers.merging import L2_NORM_EPSILON
    features = writer.constant(f"{layer.name}/axes", [1])
    if layer.normalize:
        floor = writer.constant(f"{layer.name}/epsilon", L2_NORM_EPSILON)
        units = []
        for x in inputs:
            squares = writer.op("ReduceSumSquare", [x], layer.name, axes=[1], keepdims=1)
            norm = writer.op("Sqrt", [writer.op("Max", [squares, floor], layer.name)],
                             layer.name)
            units.append(writer.op("Div", [x, norm], layer.name))
        inputs = units
    product = writer.op("Mul", inputs, layer.name)
    return writer.op("ReduceSum", [product, features], layer.name, keepdims=1), (0, 1)


# ------------------------------------------------------------------ padding, cropping, upsampling

def _spatial_axes(layer):
    """The spatial axes of the layer's input in its own layout (batch axis included)."""
    first = 1 if layer.data_format == "channels_last" else 2
    return list(range(first, first + layer.RANK))


@converts("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zero_padding(writer, layer, inputs):
    rank = layer.RANK + 2
    before, after = [0] * rank, [0] * rank
    for axis, (a, b) in zip(_spatial_axes(layer), layer.padding):
        before[axis], after[axis] = a, b
    pads = writer.constant(f"{layer.name}/pads", before + after)
    return writer.op("Pad", [inputs[0], pads], layer.name, mode="constant"), _identity(rank)


@converts("Cropping1D", "Cropping2D", "Cropping3D")
def _cropping(writer, layer, inputs):
    axes = _spatial_axes(layer)
    sizes = shape_to_channels_last(layer.input_shape, layer.data_format)[:-1]
    starts = [a for a, _ in layer.cropping]
    ends = [size - b for size, (_, b) in zip(sizes, layer.cropping)]
    y = writer.op("Slice", [inputs[0], writer.constant(f"{layer.name}/starts", starts),
                            writer.constant(f"{layer.name}/ends", ends),
                            writer.constant(f"{layer.name}/axes", axes)], layer.name)
    return y, _identity(layer.RANK + 2)


@converts("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsampling(writer, layer, inputs):
    """Resize by the integer factors: nearest as repetition (asymmetric, floor), bilinear
    with half-pixel centres as tf.image.resize."""
    rank = layer.RANK + 2
    scales = [1.0] * rank
    for axis, k in zip(_spatial_axes(layer), layer.size):
        scales[axis] = float(k)
    modes = {"nearest": dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                             nearest_mode="floor"),
             "bilinear": dict(mode="linear", coordinate_transformation_mode="half_pixel")}
    y = writer.op("Resize", [inputs[0], "", writer.constant(f"{layer.name}/scales", scales)],
                  layer.name, **modes[layer.interpolation])
    return y, _identity(rank)


# ------------------------------------------------------------------ image preprocessing

@converts("RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
          "RandomContrast", "RandomBrightness")
def _augmentation(writer, layer, inputs):
    """Random augmentation changes images in training only: at inference, the identity."""
    return inputs[0], _identity(len(layer.output_shape) + 1)


@converts("Rescaling")
def _rescaling(writer, layer, inputs):
    scale = writer.constant(f"{layer.name}/scale", np.float32(layer.scale))
    offset = writer.constant(f"{layer.name}/offset", np.float32(layer.offset))
    y = writer.op("Add", [writer.op("Mul", [inputs[0], scale], layer.name), offset],
                  layer.name)
    return y, _identity(len(layer.output_shape) + 1)


def _image_axes(layer):
    return [1, 2] if layer.data_format == "channels_last" else [2, 3]


@converts("CenterCrop", "RandomCrop")
def _center_crop(writer, layer, inputs):
    """The central window (RandomCrop's inference form)."""
    from fastconv.layers.image_preprocessing import center_offsets
    h, w, _ = shape_to_channels_last(layer.input_shape, layer.data_format)
    top, left = center_offsets(h, w, layer.height, layer.width)
    y = writer.op("Slice", [inputs[0],
                            writer.constant(f"{layer.name}/starts", [top, left]),
                            writer.constant(f"{layer.name}/ends",
                                            [top + layer.height, left + layer.width]),
                            writer.constant(f"{layer.name}/axes", _image_axes(layer))],
                  layer.name)
    return y, _identity(4)


@converts("Resizing")
def _resizing(writer, layer, inputs):
    """Resize to (height, width) with half-pixel centres, edges clamped, as the layer."""
    sizes = [int(s) for s in layer.output_shape]
    # nearest: the pixel at floor((o + 0.5) * in / out), tf.image.resize's rule
    modes = {"nearest": dict(mode="nearest",
                             coordinate_transformation_mode="tf_half_pixel_for_nn",
                             nearest_mode="floor"),
             "bilinear": dict(mode="linear", coordinate_transformation_mode="half_pixel")}
    shape = writer.op("Shape", [inputs[0]], layer.name)
    batch = writer.op("Slice", [shape, writer.constant(f"{layer.name}/b0", [0]),
                                writer.constant(f"{layer.name}/b1", [1])], layer.name)
    rest = writer.constant(f"{layer.name}/sizes", sizes)
    full = writer.op("Concat", [batch, rest], layer.name, axis=0)
    y = writer.op("Resize", [inputs[0], "", "", full], layer.name,
                  **modes[layer.interpolation])
    return y, _identity(4)
