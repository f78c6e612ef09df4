"""The oracle itself: textbook examples, finite differences and the adjoint identity, in float64."""
import numpy as np
import pytest

import fastconv
from fastconv import reference
from conftest import FD_TOLERANCE, numeric_gradient

IMPLEMENTATIONS = [reference, fastconv]

TEXTBOOK_IMAGE = [[1, 1, 0, 1, 1], [1, 0, 1, 0, 1], [1, 1, 1, 1, 0], [0, 0, 1, 1, 0], [1, 1, 0, 0, 0]]
TEXTBOOK_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 1, 0]]
TEXTBOOK_POOL_INPUT = [[3, 5, 4, 1], [2, 2, 5, 6], [4, 4, 2, 5], [1, 3, 5, 4]]
TEXTBOOK_POOLED = {"max": [[5, 6], [4, 5]], "min": [[2, 1], [1, 2]], "avg": [[3, 4], [3, 4]]}

@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=["reference", "fastconv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_textbook_convolution(impl, dtype):
    x = np.array(TEXTBOOK_IMAGE, dtype=dtype)[None, :, :, None]
    w = np.array(TEXTBOOK_KERNEL, dtype=dtype)[:, :, None, None]
    y = impl.conv2d(x, w)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[0, :, :, 0], [[3, 5, 3], [3, 2, 5], [4, 4, 2]])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=["reference", "fastconv"])
@pytest.mark.parametrize("mode", ["max", "min", "avg"])
def test_textbook_pooling(impl, mode):
    x = np.array(TEXTBOOK_POOL_INPUT, dtype=np.float64)[None, :, :, None]
    np.testing.assert_array_equal(impl.pool2d(x, 2, mode=mode)[0, :, :, 0], TEXTBOOK_POOLED[mode])


CONV_GEOMETRIES = [
    # (x shape, w shape, strides, padding)
    ((2, 5, 6, 3), (3, 3, 3, 4), 1, "valid"),
    ((1, 6, 5, 2), (3, 2, 2, 3), (2, 1), "same"),
    ((2, 7, 7, 1), (5, 5, 1, 2), 2, 2),
    ((1, 4, 5, 3), (2, 2, 3, 2), 1, ((1, 0), (0, 1))),
    ((1, 4, 5, 3), (1, 1, 3, 2), 1, "valid"),
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding", CONV_GEOMETRIES)
def test_reference_conv2d_gradients_match_finite_differences(x_shape, w_shape, strides, padding):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[3])
    dy = rng.standard_normal(reference.conv2d(x, w, b, strides, padding).shape)

    def loss():
        return np.sum(reference.conv2d(x, w, b, strides, padding) * dy)

    dx, dw, db = reference.conv2d_backward(dy, x, w, strides, padding)
    np.testing.assert_allclose(dx, numeric_gradient(loss, x), atol=FD_TOLERANCE)
    np.testing.assert_allclose(dw, numeric_gradient(loss, w), atol=FD_TOLERANCE)
    np.testing.assert_allclose(db, numeric_gradient(loss, b), atol=FD_TOLERANCE)


@pytest.mark.parametrize("mode", ["max", "min", "avg"])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"), (3, 2, 1),
                                                          ((2, 3), 1, "same")])
def test_reference_pool2d_gradient_matches_finite_differences(mode, pool_size, strides, padding):
    rng = np.random.default_rng(2)
    # Distinct values, so no window has a tie and max/min are differentiable.
    x = rng.permutation(2 * 6 * 7 * 3).reshape(2, 6, 7, 3) / 10.0
    dy = rng.standard_normal(reference.pool2d(x, pool_size, strides, padding, mode).shape)

    def loss():
        return np.sum(reference.pool2d(x, pool_size, strides, padding, mode) * dy)

    dx = reference.pool2d_backward(dy, x, pool_size, strides, padding, mode)
    np.testing.assert_allclose(dx, numeric_gradient(loss, x), atol=FD_TOLERANCE)


@pytest.mark.parametrize("padding", ["valid", "same", "causal", 1])
def test_reference_conv1d_gradients_match_finite_differences(padding):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    dy = rng.standard_normal(reference.conv1d(x, w, b, 2, padding).shape)

    def loss():
        return np.sum(reference.conv1d(x, w, b, 2, padding) * dy)

    dx, dw, db = reference.conv1d_backward(dy, x, w, 2, padding)
    np.testing.assert_allclose(dx, numeric_gradient(loss, x), atol=FD_TOLERANCE)
    np.testing.assert_allclose(dw, numeric_gradient(loss, w), atol=FD_TOLERANCE)
    np.testing.assert_allclose(db, numeric_gradient(loss, b), atol=FD_TOLERANCE)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=["reference", "fastconv"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding", CONV_GEOMETRIES)
def test_adjoint_identity(impl, x_shape, w_shape, strides, padding):
    """<conv(x, w), dy> = <x, dx(dy)> = <w, dw(dy)>: the backward passes are the transposes."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y = impl.conv2d(x, w, None, strides, padding)
    dy = rng.standard_normal(y.shape)
    dx, dw, _ = impl.conv2d_backward(dy, x, w, strides, padding)
    inner = np.sum(y * dy)
    assert np.isclose(inner, np.sum(x * dx), rtol=1e-12)
    assert np.isclose(inner, np.sum(w * dw), rtol=1e-12)


def test_conv1d_causal_output_depends_only_on_the_past():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 8, 2)), rng.standard_normal((3, 2, 1))
    y = fastconv.conv1d(x, w, padding="causal")
    x_future_changed = x.copy()
    x_future_changed[:, 5:] += 1.0
    y2 = fastconv.conv1d(x_future_changed, w, padding="causal")
    assert y.shape == (1, 8, 1)
    np.testing.assert_array_equal(y[:, :5], y2[:, :5])
    assert not np.allclose(y[:, 5:], y2[:, 5:])
