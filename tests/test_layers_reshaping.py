"""Padding, cropping and upsampling layers: values against their definitions and Keras's
(TensorFlow's) numbers; bad arguments."""
import numpy as np
import pytest

from fastconv import layers


def test_bilinear_upsampling_gives_tensorflows_half_pixel_values():
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    y = layers.UpSampling2D(2, interpolation="bilinear").forward(x)
    expected = [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5],
                [3, 3.25, 3.75, 4]]
    np.testing.assert_allclose(y[0, :, :, 0], expected)


def test_nearest_upsampling_repeats_and_its_gradient_sums_the_blocks():
    x = np.arange(12.0).reshape(1, 2, 3, 2)
    layer = layers.UpSampling2D((2, 3))
    y = layer.forward(x)
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=2))
    dy = np.random.default_rng(0).standard_normal(y.shape)
    expected = dy.reshape(1, 2, 2, 3, 3, 2).sum(axis=(2, 4))
    np.testing.assert_allclose(layer.backward(dy), expected)


def test_padding_then_cropping_the_same_amounts_is_the_identity():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5, 2)).astype(np.float32)
    amounts = ((1, 2), (0, 3), (2, 2))
    padded = layers.ZeroPadding3D(amounts).forward(x)
    assert padded.shape == (2, 6, 7, 9, 2)
    assert padded[:, 0].sum() == 0 and padded[:, :, :, -2:].sum() == 0
    np.testing.assert_array_equal(layers.Cropping3D(amounts).forward(padded), x)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.ZeroPadding2D(-1), "padding must be >= 0"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "padding must be an int, 2 ints or 2 pairs"),
    (lambda: layers.Cropping1D("1"), "cropping must be an int"),
    (lambda: layers.UpSampling2D(0), "size must be a positive int"),
    (lambda: layers.UpSampling3D(2, interpolation="bilinear"), "interpolation must be one of"),
    (lambda: layers.UpSampling2D(2, interpolation="bicubic"), "interpolation must be one of"),
])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_cropping_everything_is_refused_naming_the_layer():
    layer = layers.Cropping2D(((2, 2), (0, 0)), name="crop")
    with pytest.raises(ValueError, match=r"'crop'.*leaves nothing.*\(4, 5\)"):
        layer.forward(np.zeros((1, 4, 5, 1)))


def test_wrong_rank_names_the_layer():
    with pytest.raises(ValueError, match=r"UpSampling3D 'up3'.*rank 5"):
        layers.UpSampling3D(name="up3").forward(np.zeros((1, 4, 5, 1)))
