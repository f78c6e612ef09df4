"""Pooling layers against fastconv.reference."""
import numpy as np
import pytest

from fastconv import layers, reference


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("cls, mode", [(layers.MaxPooling2D, "max"),
                                       (layers.MinPooling2D, "min"),
                                       (layers.AveragePooling2D, "avg")])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"),
                                                         (3, 2, "same"),
                                                         ((2, 3), (1, 2), "valid")])
def test_pool2d_matches_reference(cls, mode, pool_size, strides, padding):
    layer = cls(pool_size, strides=strides, padding=padding)
    x = _x((2, 7, 8, 3))
    y = layer.forward(x)
    np.testing.assert_allclose(y, reference.pool2d(x, pool_size, strides, padding, mode),
                               rtol=1e-6)
    dy = _x(y.shape, seed=1)
    np.testing.assert_allclose(layer.backward(dy),
                               reference.pool2d_backward(dy, x, pool_size, strides, padding,
                                                         mode), rtol=1e-6, atol=1e-6)


def test_pool1d_is_pool2d_over_one_row():
    x = _x((2, 9, 3))
    y = layers.MaxPooling1D(3, strides=2).forward(x)
    np.testing.assert_allclose(y, reference.pool2d(x[:, None], (1, 3), (1, 2))[:, 0])
    y = layers.AveragePooling1D(2).forward(x)
    np.testing.assert_allclose(y, reference.pool2d(x[:, None], (1, 2), mode="avg")[:, 0],
                               rtol=1e-6)


def test_global_pooling_is_mean_and_max_over_space():
    x = _x((2, 4, 5, 3))
    np.testing.assert_allclose(layers.GlobalAveragePooling2D().forward(x),
                               x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D().forward(x), x.max(axis=(1, 2)))
    np.testing.assert_allclose(layers.GlobalAveragePooling1D().forward(x[:, 0]),
                               x[:, 0].mean(axis=1), rtol=1e-5)


def test_global_max_sends_gradient_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 1), np.float32)  # all tied
    layer = layers.GlobalMaxPooling2D()
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1), np.float32))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


def test_strides_default_to_pool_size():
    layer = layers.MaxPooling2D(pool_size=(2, 3))
    assert layer.strides == (2, 3)
    assert layer.compute_output_shape((6, 9, 1)) == (3, 3, 1)


def test_bad_padding_is_rejected():
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling2D(padding="full")
