"""conv2d with ReLU fused (forward epilogue, backward mask) and without dx, against the
NumPy reference and finite differences, on every micro-kernel variant."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from kernel_cases import VARIANTS, assert_close, f64, kernel_variant, random_array
from test_conv import conv_cases

DTYPES = [np.float32, np.float64]


def check_fused(x, w, b, strides, padding, dtype, input_gradient=True):
    """Fused forward equals relu(reference); fused backward equals the reference's."""
    y = fastconv.conv2d(x, w, b, strides, padding, activation="relu")
    assert y.dtype == dtype
    assert (y >= 0).all()
    assert_close(y, np.maximum(reference.conv2d(*f64(x, w, b), strides, padding), 0))
    dy = random_array(np.random.default_rng(11), y.shape, dtype)
    grads = fastconv.conv2d_backward(dy, x, w, strides, padding, activation="relu", y=y,
                                     input_gradient=input_gradient)
    # The reference masks with the same y, so ties at 0 are decided identically.
    expected = reference.conv2d_backward(*f64(dy, x, w), strides, padding, activation="relu",
                                         y=y, input_gradient=input_gradient)
    if not input_gradient:
        assert grads[0] is None and expected[0] is None
        grads, expected = grads[1:], expected[1:]
    for got, want in zip(grads, expected):
        assert got.dtype == dtype
        assert_close(got, want)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conv_cases(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(VARIANTS),
       use_bias=st.booleans(), input_gradient=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_relu_matches_reference(case, dtype, name, use_bias, input_gradient, seed):
    x_shape, w_shape, strides, padding = case
    rng = np.random.default_rng(seed)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    b = random_array(rng, w_shape[3], dtype) if use_bias else None
    with kernel_variant(name):
        check_fused(x, w, b, strides, padding, dtype, input_gradient)


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((2, 28, 28, 1), (5, 5, 1, 32), "valid"),    # first layer: dx by col2im (C < NR)
    ((3, 12, 12, 32), (5, 5, 32, 64), "valid"),  # second layer: dx by the transposed form
    ((1, 9, 10, 16), (3, 3, 16, 20), "same"),
])
def test_fused_relu_typical_shapes(name, x_shape, w_shape, padding):
    rng = np.random.default_rng(0)
    x, w = random_array(rng, x_shape, np.float32), random_array(rng, w_shape, np.float32)
    with kernel_variant(name):
        check_fused(x, w, random_array(rng, w_shape[3], np.float32), 1, padding, np.float32)


def test_fused_relu_gradients_match_finite_differences(finite_differences):
    numeric_gradient, assert_gradient_close = finite_differences
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 6, 7, 3)), rng.standard_normal((3, 2, 3, 4)), \
        rng.standard_normal(4)
    z = reference.conv2d(x, w, b, 2, "same")
    r = rng.standard_normal(z.shape)
    # Central differences straddling the kink at 0 would be wrong by design.
    assert np.abs(z).min() > 1e-3

    def f():
        return float((fastconv.conv2d(x, w, b, 2, "same", activation="relu") * r).sum())

    y = fastconv.conv2d(x, w, b, 2, "same", activation="relu")
    dx, dw, db = fastconv.conv2d_backward(r, x, w, 2, "same", activation="relu", y=y)
    assert_gradient_close(dx, numeric_gradient(f, x), "dx")
    assert_gradient_close(dw, numeric_gradient(f, w), "dw")
    assert_gradient_close(db, numeric_gradient(f, b), "db")


def test_fused_relu_keeps_nan_and_blocks_its_gradient():
    x = np.ones((1, 4, 4, 1), np.float32)
    x[0, 0, 0, 0] = np.nan
    w = np.ones((2, 2, 1, 1), np.float32)
    y = fastconv.conv2d(x, w, activation="relu")
    assert np.isnan(y[0, 0, 0, 0]) and not np.isnan(y[0, 1:, 1:]).any()
    np.testing.assert_array_equal(y, np.maximum(reference.conv2d(x, w), 0))
    dy = np.ones_like(y)
    dx, dw, _ = fastconv.conv2d_backward(dy, np.ones_like(x), w, activation="relu", y=y)
    # NaN > 0 is false: no gradient flows through that output, as np.maximum's derivative.
    np.testing.assert_array_equal(dx[0, 0, 0, 0], 0)
    assert np.isfinite(dw).all()


def test_relu_mask_is_applied_not_just_passed():
    x = np.ones((1, 3, 3, 1))
    w = np.ones((1, 1, 1, 1))
    dy = np.ones((1, 3, 3, 1))
    y = np.zeros((1, 3, 3, 1))
    y[0, 1, 1, 0] = 1.0
    dx, dw, db = fastconv.conv2d_backward(dy, x, w, activation="relu", y=y)
    expected = np.zeros_like(x)
    expected[0, 1, 1, 0] = 1.0
    np.testing.assert_array_equal(dx, expected)
    np.testing.assert_array_equal(db, [1.0])


@pytest.mark.parametrize("module", [fastconv, reference])
def test_fused_arguments_are_checked(module):
    x, w = np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 5))
    dy = np.ones((1, 2, 2, 5))
    with pytest.raises(ValueError, match="activation"):
        module.conv2d(x, w, activation="sigmoid")
    with pytest.raises(ValueError, match="needs y"):
        module.conv2d_backward(dy, x, w, activation="relu")
    with pytest.raises(ValueError, match=r"y must have the output's shape \(1, 2, 2, 5\)"):
        module.conv2d_backward(dy, x, w, activation="relu", y=np.ones((1, 2, 2, 4)))
    with pytest.raises(ValueError, match="only used with activation"):
        module.conv2d_backward(dy, x, w, y=dy)
    with pytest.raises(TypeError, match="input_gradient"):
        module.conv2d_backward(dy, x, w, input_gradient="no")
