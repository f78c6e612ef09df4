"""Conv2D and Conv1D against fastconv.reference; Keras's layout and defaults."""
import numpy as np
import pytest

from fastconv import initializers, layers, reference


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "same"), ((1, 2), "valid")])
def test_conv2d_matches_reference(strides, padding):
    layer = layers.Conv2D(5, (3, 2), strides=strides, padding=padding, activation="relu")
    x = _x((2, 9, 8, 3))
    y = layer.forward(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 5), "Keras's (KH, KW, C_in, C_out) layout"
    expected = np.maximum(reference.conv2d(x, kernel, bias, strides, padding), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_backward_matches_reference():
    layer = layers.Conv2D(4, 3, padding="same")
    x, dy = _x((2, 7, 6, 3)), _x((2, 7, 6, 4), seed=1)
    layer.forward(x)
    dx = layer.backward(dy)
    rdx, rdw, rdb = reference.conv2d_backward(dy, x, layer.params["kernel"], 1, "same")
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["kernel"], rdw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["bias"], rdb, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_fused_relu_backward_equals_relu_then_conv_backward(data_format):
    fused = layers.Conv2D(4, 3, padding="same", activation="relu", data_format=data_format)
    x = _x((2, 7, 6, 3) if data_format == "channels_last" else (2, 3, 7, 6))
    y = fused.forward(x)
    assert fused.pre_activation is None, "ReLU applied inside the kernel"
    dy = _x(y.shape, seed=1)
    dx = fused.backward(dy)
    plain = layers.Conv2D(4, 3, padding="same", data_format=data_format)
    plain.build(x.shape[1:])
    plain.set_weights(fused.get_weights())
    z = plain.forward(x)
    np.testing.assert_allclose(y, np.maximum(z, 0), rtol=1e-6, atol=1e-6)
    expected_dx = plain.backward(dy * (z > 0))
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-5, atol=1e-5)
    for key in ("kernel", "bias"):
        np.testing.assert_allclose(fused.grads[key], plain.grads[key], rtol=1e-5, atol=1e-5)


def test_fused_relu_conv2d_gradients_match_finite_differences(gradient_check):
    layer = layers.Conv2D(3, (2, 3), strides=(2, 1), activation="relu", dtype="float64",
                          bias_initializer="random_normal")
    gradient_check(layer, np.random.default_rng(4).standard_normal((2, 6, 5, 2)))


def test_first_layer_skips_dx_only_when_told():
    layer = layers.Conv2D(4, 3, activation="relu")
    x = _x((2, 7, 6, 1))
    dy = _x(layer.forward(x).shape, seed=1)
    assert layer.backward(dy).shape == x.shape
    kernel_grad = layer.grads["kernel"].copy()
    assert layer.backward(dy, input_gradient=False) is None
    np.testing.assert_array_equal(layer.grads["kernel"], kernel_grad)


def test_conv2d_channels_first_is_channels_last_transposed():
    last = layers.Conv2D(3, 3, padding="same")
    first = layers.Conv2D(3, 3, padding="same", data_format="channels_first")
    x = _x((2, 6, 5, 2))
    y_last = last.forward(x)
    first.build((2, 6, 5))
    first.set_weights(last.get_weights())
    y_first = first.forward(x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(y_first, y_last.transpose(0, 3, 1, 2), rtol=1e-6)
    assert first.output_shape == (3, 6, 5)


def test_conv1d_matches_reference_with_causal_padding():
    layer = layers.Conv1D(4, 3, padding="causal")
    x = _x((2, 10, 3))
    y = layer.forward(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 4)
    np.testing.assert_allclose(y, reference.conv1d(x, kernel, bias, 1, "causal"),
                               rtol=1e-5, atol=1e-5)
    # Causal: output t sees inputs up to t only.
    x2 = x.copy()
    x2[:, 6:] += 1
    np.testing.assert_allclose(layer.forward(x2)[:, :6], y[:, :6], rtol=1e-6)


def test_default_initializers_are_glorot_uniform_and_zeros():
    np.random.seed(3)
    layer = layers.Conv2D(64, 5)
    layer.build((28, 28, 32))
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6 / (25 * 32 + 25 * 64))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert not bias.any()


def test_initializer_objects_and_names_are_accepted():
    layer = layers.Conv2D(2, 3, kernel_initializer=initializers.Constant(0.5),
                          bias_initializer="ones")
    layer.build((5, 5, 1))
    kernel, bias = layer.get_weights()
    assert (kernel == 0.5).all() and (bias == 1).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=0, kernel_size=3), "filters"),
    (dict(filters=2, kernel_size=(3, 3, 3)), "kernel_size"),
    (dict(filters=2, kernel_size=3, padding="causal"), "padding"),
    (dict(filters=2, kernel_size=3, data_format="NCHW"), "data_format"),
    (dict(filters=2, kernel_size=3, activation="relux"), "unknown activation"),
    (dict(filters=2, kernel_size=3, kernel_initializer="glorot"), "unknown initializer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Conv2D(**kwargs)


def test_kernel_larger_than_input_is_a_clear_error():
    with pytest.raises(ValueError, match="kernel"):
        layers.Conv2D(2, 5).build((3, 3, 1))


def test_conv2d_on_rank3_input_is_a_clear_error():
    with pytest.raises(ValueError, match="rank 4"):
        layers.Conv2D(2, 3).build((28, 28))


def test_depthwise_conv2d_matches_the_grouped_reference_in_kerass_channel_order():
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    x = _x((2, 6, 7, 3))
    y = layer.forward(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2), "Keras's (KH, KW, C, depth_multiplier) layout"
    # Output channel c*m + j filters input channel c with kernel[..., c, j].
    for c in range(3):
        for j in range(2):
            expected = reference.conv2d(x[..., c:c + 1], kernel[:, :, c:c + 1, j:j + 1],
                                        bias[c * 2 + j:c * 2 + j + 1], 1, "same")
            np.testing.assert_allclose(y[..., c * 2 + j:c * 2 + j + 1], expected, rtol=1e-5,
                                       atol=1e-5)


def test_separable_conv2d_is_depthwise_then_pointwise():
    layer = layers.SeparableConv2D(5, 3, strides=2, padding="same")
    x = _x((2, 9, 8, 3))
    y = layer.forward(x)
    depthwise, pointwise, bias = layer.get_weights()
    assert depthwise.shape == (3, 3, 3, 1) and pointwise.shape == (1, 1, 3, 5)
    mid = reference.conv2d(x, depthwise.reshape(3, 3, 1, 3), None, 2, "same", groups=3)
    np.testing.assert_allclose(y, reference.conv2d(mid, pointwise, bias), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Conv2D(5, 3, groups=2), r"filters \(5\) must be divisible by groups \(2\)"),
    (lambda: layers.Conv2D(4, 3, groups=0), "groups must be a positive int"),
    (lambda: layers.Conv2D(4, 3, dilation_rate=0), "dilation_rate must be a positive int"),
    (lambda: layers.Conv1D(4, 3, dilation_rate=(1, 2)), "dilation_rate must be a positive int"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier must be"),
    (lambda: layers.SeparableConv2D(4, 3, depth_multiplier=1.5), "depth_multiplier must be"),
])
def test_bad_dilation_groups_and_multiplier_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_input_channels_not_divisible_by_groups_names_the_layer_and_shape():
    layer = layers.Conv2D(4, 3, groups=2, name="grouped")
    with pytest.raises(ValueError, match=r"'grouped'.*3 channels.*\(8, 8, 3\).*groups \(2\)"):
        layer.forward(_x((1, 8, 8, 3)))


def test_dilated_kernel_larger_than_the_input_is_refused_when_built():
    layer = layers.Conv2D(2, 3, dilation_rate=4)
    with pytest.raises(ValueError, match="dilated kernel size 9"):
        layer.forward(_x((1, 8, 8, 1)))
