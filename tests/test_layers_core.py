"""Dense, Flatten, Reshape, Dropout, the activation layers, Input and BatchNormalization."""
import numpy as np
import pytest

from fastconv import layers


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_dense_is_x_at_kernel_plus_bias():
    layer = layers.Dense(4, activation="relu")
    x = _x((5, 3))
    y = layer.forward(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-6)


def test_dense_input_dim_declares_the_input_shape():
    assert layers.Dense(4, input_dim=7).declared_input_shape == (7,)


def test_flatten_keeps_channels_last_order():
    x = _x((2, 3, 4, 5))
    np.testing.assert_array_equal(layers.Flatten().forward(x), x.reshape(2, -1))


def test_reshape_rejects_impossible_shapes():
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5, -1)).build((3, 4))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_dropout_training_masks_and_scales_inference_is_identity():
    layer = layers.Dropout(0.25, seed=0)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    y = layer.forward(x, training=True)
    kept = y != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    dy = _x(y.shape)
    np.testing.assert_allclose(layer.backward(dy), dy * y, rtol=1e-6)


def test_dropout_is_repeatable_with_a_seed_or_np_random_seed():
    x = np.ones((10, 10), np.float32)
    a = layers.Dropout(0.5, seed=7).forward(x, training=True)
    b = layers.Dropout(0.5, seed=7).forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    np.random.seed(1)
    c = layers.Dropout(0.5).forward(x, training=True)
    np.random.seed(1)
    d = layers.Dropout(0.5).forward(x, training=True)
    np.testing.assert_array_equal(c, d)


def test_dropout_noise_shape_broadcasts_the_mask():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=0)
    y = layer.forward(np.ones((3, 5, 4), np.float32), training=True)
    assert (y == y[:, :1, :]).all()


def test_dropout_rate_must_be_below_one():
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.0)


def test_softmax_layer_rows_sum_to_one_even_for_huge_logits():
    y = layers.Softmax().forward(np.array([[1000, 0, -1000], [1, 2, 3]], np.float32))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-6)


def test_relu_layer_options():
    y = layers.ReLU(max_value=6.0, negative_slope=0.5).forward(
        np.array([[-2.0, 3.0, 9.0]], np.float32))
    np.testing.assert_array_equal(y, [[-1.0, 3.0, 6.0]])


def test_input_and_input_layer_carry_the_shape():
    tensor = layers.Input(shape=(28, 28, 1), name="image")
    assert tensor.shape == (None, 28, 28, 1) and tensor.dtype == "float32"
    assert isinstance(tensor.node.layer, layers.InputLayer) and tensor.name == "image"
    assert layers.InputLayer(input_shape=(4,)).output_shape == (4,)
    with pytest.raises(ValueError, match="shape"):
        layers.InputLayer()


class TestBatchNormalization:
    def test_training_normalises_with_batch_statistics(self):
        layer = layers.BatchNormalization()
        x = _x((64, 3)) * 5 + 2
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3),
                                   rtol=1e-4)

    def test_moving_statistics_follow_keras(self):
        layer = layers.BatchNormalization(momentum=0.9)
        x = _x((32, 2, 2, 3)) * 3 + 1
        layer.forward(x, training=True)
        gamma, beta, mean, var = layer.get_weights()
        np.testing.assert_allclose(mean, 0.1 * x.mean(axis=(0, 1, 2)), rtol=1e-5)
        np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=(0, 1, 2)), rtol=1e-5)

    def test_inference_uses_the_moving_statistics(self):
        layer = layers.BatchNormalization(epsilon=0.01)
        layer.build((2,))
        layer.set_weights([np.array([2.0, 1.0]), np.array([0.0, 1.0]),
                           np.array([1.0, -1.0]), np.array([3.99, 0.99])])
        y = layer.forward(np.array([[3.0, 0.0]], np.float32))
        np.testing.assert_allclose(y, [[2.0 * 2 / 2, 1 + 1 / 1]], rtol=1e-5)

    def test_inference_backward_matches_finite_differences(self, gradient_check):
        layer = layers.BatchNormalization(dtype="float64")
        layer.build((3,))
        layer.set_weights([np.full(3, 1.5), np.full(3, 0.2), np.full(3, 0.3), np.full(3, 2.0)])
        gradient_check(layer, np.random.default_rng(0).standard_normal((4, 3)), training=False)

    @pytest.mark.parametrize("axis, scale, center", [
        (-1, True, True), (-1, False, True), (-1, True, False), (1, True, True)])
    def test_training_backward_matches_finite_differences_on_images(
            self, gradient_check, axis, scale, center):
        layer = layers.BatchNormalization(axis=axis, scale=scale, center=center,
                                          dtype="float64")
        layer.build((3, 4, 5))
        rng = np.random.default_rng(3)
        layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.get_weights()])
        gradient_check(layer, rng.standard_normal((2, 3, 4, 5)) * 2 + 1, training=True)

    def test_training_step_matches_the_textbook_formulas(self):
        """y = gamma x_hat + beta and its gradient, written out plainly (as Keras's
        docs and Ioffe & Szegedy give them), on vgg-bn-like channels-last images."""
        rng = np.random.default_rng(4)
        x = (rng.standard_normal((8, 6, 6, 16)) * 3 + 1).astype(np.float32)
        dy = rng.standard_normal(x.shape).astype(np.float32)
        gamma, beta = rng.uniform(0.5, 1.5, 16), rng.standard_normal(16)
        layer = layers.BatchNormalization()
        layer.build(x.shape[1:])
        layer.set_weights([gamma, beta, np.zeros(16), np.ones(16)])
        y, dx = layer.forward(x, training=True), layer.backward(dy)

        x64, dy64, axes = x.astype(np.float64), dy.astype(np.float64), (0, 1, 2)
        mean, var = x64.mean(axis=axes), x64.var(axis=axes)  # biased, as Keras
        x_hat = (x64 - mean) / np.sqrt(var + 1e-3)
        dx_hat = dy64 * gamma
        want_dx = (dx_hat - dx_hat.mean(axis=axes)
                   - x_hat * (dx_hat * x_hat).mean(axis=axes)) / np.sqrt(var + 1e-3)
        np.testing.assert_allclose(y, gamma * x_hat + beta, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dx, want_dx, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.grads["gamma"], (dy64 * x_hat).sum(axis=axes),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(layer.grads["beta"], dy64.sum(axis=axes), rtol=1e-5)
        np.testing.assert_allclose(layer.state["moving_variance"], 0.99 + 0.01 * var,
                                   rtol=1e-6)

    def test_weights_are_in_keras_order_and_two_are_not_trainable(self):
        layer = layers.BatchNormalization()
        layer.build((5,))
        assert list(layer.params) == ["gamma", "beta"]
        assert list(layer.state) == ["moving_mean", "moving_variance"]
