"""Every layer: output shape, parameter count, backward against float64 finite
differences, config and save/load round trip."""
import numpy as np
import pytest

from fastconv import layers, models

# (id, factory taking layer kwargs, input shape, output shape, parameter count)
CASES = [
    ("conv2d_same_strided", lambda **kw: layers.Conv2D(
        3, (3, 2), strides=(2, 1), padding="same", activation="tanh", **kw),
     (7, 6, 2), (4, 6, 3), 3 * 2 * 2 * 3 + 3),
    ("conv2d_channels_first_no_bias", lambda **kw: layers.Conv2D(
        2, 3, use_bias=False, data_format="channels_first", **kw),
     (2, 6, 5), (2, 4, 3), 3 * 3 * 2 * 2),
    ("conv1d_causal_relu", lambda **kw: layers.Conv1D(4, 3, padding="causal", activation="relu",
                                                       **kw),
     (9, 2), (9, 4), 3 * 2 * 4 + 4),
    ("conv1d_strided", lambda **kw: layers.Conv1D(3, 2, strides=2, **kw), (9, 2), (4, 3),
     2 * 2 * 3 + 3),
    ("conv2d_dilated_grouped_relu", lambda **kw: layers.Conv2D(
        4, 3, dilation_rate=(2, 1), groups=2, padding="same", activation="relu", **kw),
     (7, 6, 4), (7, 6, 4), 3 * 3 * 2 * 4 + 4),
    ("conv1d_dilated_grouped_causal", lambda **kw: layers.Conv1D(
        6, 3, dilation_rate=2, groups=3, padding="causal", **kw),
     (9, 3), (9, 6), 3 * 1 * 6 + 6),
    ("depthwise_multiplier_relu", lambda **kw: layers.DepthwiseConv2D(
        3, depth_multiplier=2, padding="same", activation="relu", **kw),
     (6, 5, 3), (6, 5, 6), 3 * 3 * 3 * 2 + 6),
    ("depthwise_channels_first_strided", lambda **kw: layers.DepthwiseConv2D(
        (2, 3), strides=2, use_bias=False, data_format="channels_first", **kw),
     (3, 7, 6), (3, 3, 2), 2 * 3 * 3),
    ("separable_dilated_relu", lambda **kw: layers.SeparableConv2D(
        4, 3, depth_multiplier=2, dilation_rate=2, padding="same", activation="relu", **kw),
     (7, 7, 2), (7, 7, 4), 3 * 3 * 2 * 2 + 4 * 4 + 4),
    ("conv2d_transpose_same_relu", lambda **kw: layers.Conv2DTranspose(
        3, 3, strides=2, padding="same", activation="relu", **kw),
     (4, 5, 2), (8, 10, 3), 3 * 3 * 3 * 2 + 3),
    ("conv2d_transpose_valid_output_padding_channels_first", lambda **kw:
     layers.Conv2DTranspose(2, (2, 3), strides=(2, 3), output_padding=(1, 2),
                            data_format="channels_first", **kw),
     (3, 4, 3), (2, 9, 11), 2 * 3 * 2 * 3 + 2),
    ("conv3d_same_relu", lambda **kw: layers.Conv3D(3, (2, 3, 2), padding="same",
                                                     activation="relu", **kw),
     (4, 5, 4, 2), (4, 5, 4, 3), 2 * 3 * 2 * 2 * 3 + 3),
    ("conv3d_channels_first_strided_grouped_dilated", lambda **kw: layers.Conv3D(
        4, 2, strides=(1, 2, 1), groups=2, dilation_rate=(2, 1, 1),
        data_format="channels_first", **kw),
     (2, 5, 5, 4), (4, 3, 2, 3), 2 * 2 * 2 * 1 * 4 + 4),
    ("max_pool3d", lambda **kw: layers.MaxPooling3D(**kw), (4, 5, 4, 2), (2, 2, 2, 2), 0),
    ("avg_pool3d_same_channels_first", lambda **kw: layers.AveragePooling3D(
        (1, 2, 3), strides=(1, 2, 2), padding="same", data_format="channels_first", **kw),
     (2, 3, 5, 5), (2, 3, 3, 3), 0),
    ("max_pool2d", lambda **kw: layers.MaxPooling2D(**kw), (6, 5, 2), (3, 2, 2), 0),
    ("min_pool2d_same", lambda **kw: layers.MinPooling2D(3, strides=2, padding="same", **kw),
     (7, 7, 2), (4, 4, 2), 0),
    ("avg_pool2d_same", lambda **kw: layers.AveragePooling2D((2, 3), padding="same", **kw),
     (5, 7, 3), (3, 3, 3), 0),
    ("max_pool2d_channels_first", lambda **kw: layers.MaxPooling2D(
        data_format="channels_first", **kw), (2, 6, 4), (2, 3, 2), 0),
    ("max_pool1d", lambda **kw: layers.MaxPooling1D(3, strides=2, **kw), (9, 2), (4, 2), 0),
    ("avg_pool1d_same", lambda **kw: layers.AveragePooling1D(2, padding="same", **kw),
     (7, 3), (4, 3), 0),
    ("global_avg2d", lambda **kw: layers.GlobalAveragePooling2D(**kw), (4, 5, 3), (3,), 0),
    ("global_max2d", lambda **kw: layers.GlobalMaxPooling2D(**kw), (4, 5, 3), (3,), 0),
    ("global_avg1d", lambda **kw: layers.GlobalAveragePooling1D(**kw), (6, 3), (3,), 0),
    ("global_max1d_keepdims", lambda **kw: layers.GlobalMaxPooling1D(keepdims=True, **kw),
     (6, 3), (1, 3), 0),
    ("global_avg3d", lambda **kw: layers.GlobalAveragePooling3D(**kw), (3, 4, 5, 2), (2,), 0),
    ("global_max3d_channels_first_keepdims", lambda **kw: layers.GlobalMaxPooling3D(
        data_format="channels_first", keepdims=True, **kw), (2, 3, 4, 5), (2, 1, 1, 1), 0),
    ("zero_padding1d", lambda **kw: layers.ZeroPadding1D((1, 2), **kw), (5, 3), (8, 3), 0),
    ("zero_padding2d", lambda **kw: layers.ZeroPadding2D(((1, 0), (2, 3)), **kw), (4, 3, 2),
     (5, 8, 2), 0),
    ("zero_padding3d_channels_first", lambda **kw: layers.ZeroPadding3D(
        (1, 0, 2), data_format="channels_first", **kw), (2, 3, 3, 2), (2, 5, 3, 6), 0),
    ("cropping1d", lambda **kw: layers.Cropping1D((2, 1), **kw), (6, 3), (3, 3), 0),
    ("cropping2d", lambda **kw: layers.Cropping2D(((1, 0), (1, 2)), **kw), (5, 6, 2),
     (4, 3, 2), 0),
    ("cropping3d", lambda **kw: layers.Cropping3D(**kw), (4, 5, 3, 2), (2, 3, 1, 2), 0),
    ("upsampling1d", lambda **kw: layers.UpSampling1D(3, **kw), (4, 2), (12, 2), 0),
    ("upsampling2d_nearest", lambda **kw: layers.UpSampling2D((2, 3), **kw), (3, 2, 2),
     (6, 6, 2), 0),
    ("upsampling2d_bilinear_channels_first", lambda **kw: layers.UpSampling2D(
        2, data_format="channels_first", interpolation="bilinear", **kw), (2, 3, 4),
     (2, 6, 8), 0),
    ("upsampling3d", lambda **kw: layers.UpSampling3D((1, 2, 2), **kw), (2, 3, 2, 2),
     (2, 6, 4, 2), 0),
    ("flatten", lambda **kw: layers.Flatten(**kw), (3, 4, 2), (24,), 0),
    ("reshape", lambda **kw: layers.Reshape((4, -1), **kw), (3, 4, 2), (4, 6), 0),
    ("dense_sigmoid", lambda **kw: layers.Dense(5, activation="sigmoid", **kw), (7,), (5,),
     7 * 5 + 5),
    ("dense_rank3_elu", lambda **kw: layers.Dense(4, activation="elu", **kw), (3, 6), (3, 4),
     6 * 4 + 4),
    ("dense_softmax", lambda **kw: layers.Dense(3, activation="softmax", **kw), (6,), (3,),
     6 * 3 + 3),
    ("activation_tanh", lambda **kw: layers.Activation("tanh", **kw), (4, 3), (4, 3), 0),
    ("activation_leaky_relu", lambda **kw: layers.Activation("leaky_relu", **kw), (5,), (5,), 0),
    ("relu_capped_leaky", lambda **kw: layers.ReLU(max_value=1.0, negative_slope=0.1, **kw),
     (5,), (5,), 0),
    ("softmax", lambda **kw: layers.Softmax(**kw), (6,), (6,), 0),
    ("batch_norm", lambda **kw: layers.BatchNormalization(**kw), (4, 4, 3), (4, 4, 3), 4 * 3),
    ("batch_norm_axis1_no_center", lambda **kw: layers.BatchNormalization(
        axis=1, center=False, **kw), (3, 5), (3, 5), 3 * 3),
    ("dropout", lambda **kw: layers.Dropout(0.3, seed=1, **kw), (5,), (5,), 0),
]
IDS = [case[0] for case in CASES]


def _inputs(shape, batch=3, seed=0):
    return np.random.default_rng(seed).standard_normal((batch,) + shape)


@pytest.mark.parametrize("name, factory, in_shape, out_shape, n_params", CASES, ids=IDS)
def test_output_shape_and_param_count(name, factory, in_shape, out_shape, n_params):
    layer = factory()
    assert layer.compute_output_shape(in_shape) == out_shape
    y = layer.forward(_inputs(in_shape).astype(np.float32))
    assert y.shape == (3,) + out_shape
    assert y.dtype == np.float32
    assert layer.output_shape == out_shape
    assert layer.count_params() == n_params
    assert sum(w.size for w in layer.get_weights()) == n_params


@pytest.mark.parametrize("name, factory, in_shape, out_shape, n_params", CASES, ids=IDS)
def test_backward_matches_finite_differences(name, factory, in_shape, out_shape, n_params,
                                             gradient_check):
    layer = factory(dtype="float64")
    layer.build(in_shape)
    # Non-trivial weights (e.g. BatchNormalization's gamma starts at 1, beta at 0).
    rng = np.random.default_rng(1)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.get_weights()])
    # Dropout is random in training: its gradient is checked in inference mode here
    # (and against its mask in test_layers_core).
    gradient_check(layer, _inputs(in_shape), training=name != "dropout")


@pytest.mark.parametrize("name, factory, in_shape, out_shape, n_params", CASES, ids=IDS)
def test_save_load_round_trip(name, factory, in_shape, out_shape, n_params, tmp_path):
    layer = factory(input_shape=in_shape)
    model = models.Sequential([layer])
    rng = np.random.default_rng(2)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in model.get_weights()])
    x = _inputs(in_shape, batch=4).astype(np.float32)
    model.save(tmp_path / "model.npz")
    loaded = models.load_model(tmp_path / "model.npz")
    restored = loaded.layers[0]
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("name, factory, in_shape, out_shape, n_params", CASES, ids=IDS)
def test_config_round_trip(name, factory, in_shape, out_shape, n_params):
    layer = factory()
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()


def test_unique_keras_like_names():
    first, second = layers.Conv2D(1, 1), layers.Conv2D(1, 1)
    assert first.name.startswith("conv2d") and second.name.startswith("conv2d")
    assert first.name != second.name
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")
    assert layers.BatchNormalization().name.startswith("batch_normalization")
    assert layers.Dense(1, name="logits").name == "logits"


@pytest.mark.parametrize("factory", [
    lambda: layers.Conv2D(4, 3, kernal_size=3),
    lambda: layers.Dense(4, activaton="relu"),
    lambda: layers.MaxPooling2D(pool=2),
    lambda: layers.Dropout(0.5, rat=0.1),
])
def test_unknown_keyword_arguments_are_named(factory):
    with pytest.raises(TypeError, match="unexpected keyword"):
        factory()


def test_set_weights_checks_count_and_shapes():
    layer = layers.Dense(3)
    layer.build((4,))
    with pytest.raises(ValueError, match="2 weight arrays"):
        layer.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(3)])
    kernel = layer.params["kernel"]
    layer.set_weights([np.ones((4, 3)), np.zeros(3)])
    assert layer.params["kernel"] is kernel, "weights are overwritten in place"
    assert kernel.dtype == np.float32 and kernel.sum() == 12


def test_count_params_before_build_is_an_error():
    with pytest.raises(ValueError, match="not built"):
        layers.Dense(3).count_params()


def test_forward_rejects_a_different_input_shape():
    layer = layers.Dense(3)
    layer.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"expects inputs of shape"):
        layer.forward(np.zeros((2, 5), np.float32))


def test_bad_dtype_is_rejected():
    with pytest.raises(ValueError, match="dtype"):
        layers.Dense(3, dtype="int32")
