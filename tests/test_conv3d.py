"""conv3d and pool3d: the reference against 2-D constructions and finite differences,
the kernels against the reference (float32 and float64, every variant, strides, padding,
dilation, groups, fused ReLU), and bad arguments."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from conftest import FD_TOLERANCE, numeric_gradient
from kernel_cases import VARIANTS, assert_close, f64, kernel_variant, random_array

DTYPES = [np.float32, np.float64]


def test_reference_conv3d_is_a_sum_of_conv2d_over_depth_taps():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 5, 7, 3)), rng.standard_normal((3, 2, 3, 3, 4))
    y = reference.conv3d(x, w, None, (2, 1, 1), "valid")
    for oz in range(y.shape[1]):
        expected = sum(reference.conv2d(x[:, 2 * oz + a], w[a]) for a in range(3))
        np.testing.assert_allclose(y[:, oz], expected, rtol=1e-12, atol=1e-12)


def test_reference_pool3d_is_pool2d_of_the_depth_window_extreme():
    x = np.random.default_rng(1).standard_normal((2, 6, 5, 4, 3))
    y = reference.pool3d(x, (3, 2, 2), (3, 2, 2), "valid", "max")
    deep = np.stack([x[:, 3 * z:3 * z + 3].max(axis=1) for z in range(2)], axis=1)
    for z in range(2):
        np.testing.assert_array_equal(y[:, z], reference.pool2d(deep[:, z], 2))


GEOMETRIES = [  # (x shape, w shape, strides, padding, dilation, groups)
    ((1, 5, 4, 5, 2), (2, 3, 2, 2, 3), 1, "valid", 1, 1),
    ((2, 4, 5, 4, 2), (3, 3, 3, 2, 2), (2, 1, 2), "same", 1, 1),
    ((1, 6, 5, 5, 4), (2, 2, 2, 2, 4), 1, 1, (2, 1, 2), 2),
    ((1, 4, 4, 4, 3), (3, 3, 3, 1, 3), 1, "same", 1, 3),     # depthwise
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation, groups", GEOMETRIES)
def test_reference_conv3d_gradients_match_finite_differences(x_shape, w_shape, strides,
                                                             padding, dilation, groups):
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[-1]))
    kwargs = dict(dilation=dilation, groups=groups)
    dy = rng.standard_normal(reference.conv3d(x, w, b, strides, padding, **kwargs).shape)

    def loss():
        return np.sum(reference.conv3d(x, w, b, strides, padding, **kwargs) * dy)

    dx, dw, db = reference.conv3d_backward(dy, x, w, strides, padding, **kwargs)
    for analytic, array in [(dx, x), (dw, w), (db, b)]:
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), atol=FD_TOLERANCE)


@pytest.mark.parametrize("mode", ["max", "min", "avg"])
def test_reference_pool3d_gradient_matches_finite_differences(mode):
    rng = np.random.default_rng(3)
    x = rng.permutation(2 * 5 * 4 * 6 * 2).reshape(2, 5, 4, 6, 2) / 10.0  # no ties
    args = ((2, 3, 2), (2, 1, 2), "same", mode)
    dy = rng.standard_normal(reference.pool3d(x, *args).shape)

    def loss():
        return np.sum(reference.pool3d(x, *args) * dy)

    np.testing.assert_allclose(reference.pool3d_backward(dy, x, *args),
                               numeric_gradient(loss, x), atol=FD_TOLERANCE)


@pytest.mark.parametrize("impl", [reference, fastconv], ids=["reference", "fastconv"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation, groups", GEOMETRIES)
def test_conv3d_adjoint_identity(impl, x_shape, w_shape, strides, padding, dilation, groups):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    kwargs = dict(dilation=dilation, groups=groups)
    y = impl.conv3d(x, w, None, strides, padding, **kwargs)
    dy = rng.standard_normal(y.shape)
    dx, dw, _ = impl.conv3d_backward(dy, x, w, strides, padding, **kwargs)
    assert np.isclose(np.sum(y * dy), np.sum(x * dx), rtol=1e-12)
    assert np.isclose(np.sum(y * dy), np.sum(w * dw), rtol=1e-12)


@st.composite
def conv_cases(draw):
    window = tuple(draw(st.integers(1, 3)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = draw(st.sampled_from(["valid", "same", 1]))
    groups = draw(st.sampled_from([1, 2]))
    cg = 1 if draw(st.booleans()) else draw(st.sampled_from([2, 5, 17]))
    kg = draw(st.sampled_from([1, 3, 16]))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(3))
    extents = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    pad = {"valid": 0, "same": 0, 1: 1}[padding]
    assume(padding == "same" or all(s + 2 * pad >= e for s, e in zip(spatial, extents)))
    assume(padding != 1 or min(extents) >= 2)
    n = draw(st.integers(1, 2))
    return ((n,) + spatial + (cg * groups,), window + (cg, kg * groups), strides, padding,
            dilation, groups)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conv_cases(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(VARIANTS),
       relu=st.booleans(), seed=st.integers(0, 2**16))
def test_conv3d_kernels_match_reference(case, dtype, name, relu, seed):
    x_shape, w_shape, strides, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    b = random_array(rng, w_shape[-1], dtype)
    kwargs = dict(activation="relu" if relu else None, dilation=dilation, groups=groups)
    with kernel_variant(name):
        y = fastconv.conv3d(x, w, b, strides, padding, **kwargs)
        want = reference.conv3d(*f64(x, w, b), strides, padding, **kwargs)
        assert y.dtype == dtype
        assert_close(y, want)
        dy = random_array(rng, y.shape, dtype)
        grads = fastconv.conv3d_backward(dy, x, w, strides, padding,
                                         **dict(kwargs, y=y if relu else None))
        expected = reference.conv3d_backward(*f64(dy, x, w), strides, padding,
                                             **dict(kwargs, y=want if relu else None))
        for got, wanted in zip(grads, expected):
            assert got.dtype == dtype
            assert_close(got, wanted)


@st.composite
def pool_cases(draw):
    pool = tuple(draw(st.integers(1, 3)) for _ in range(3))
    strides = draw(st.one_of(st.none(), st.tuples(*(st.integers(1, 3) for _ in range(3)))))
    padding = draw(st.sampled_from(["valid", "same"]))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(3))
    assume(padding == "same" or all(s >= p for s, p in zip(spatial, pool)))
    return (draw(st.integers(1, 2)),) + spatial + (draw(st.sampled_from([1, 3, 16])),), \
        pool, strides, padding


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=pool_cases(), dtype=st.sampled_from(DTYPES),
       mode=st.sampled_from(["max", "min", "avg"]), seed=st.integers(0, 2**16))
def test_pool3d_kernels_match_reference(case, dtype, mode, seed):
    x_shape, pool, strides, padding = case
    rng = np.random.default_rng(seed)
    x = random_array(rng, x_shape, dtype)
    args = (pool, strides, padding, mode)
    y = fastconv.pool3d(x, *args)
    assert_close(y, reference.pool3d(*f64(x), *args))
    dy = random_array(rng, y.shape, dtype)
    assert_close(fastconv.pool3d_backward(dy, x, *args),
                 reference.pool3d_backward(*f64(dy, x), *args))


@pytest.mark.parametrize("call, error, match", [
    (lambda: fastconv.conv3d(np.zeros((1, 4, 4, 4)), np.zeros((2, 2, 2, 1, 1))), ValueError,
     r"x must be 5-D \(N, D, H, W, C\)"),
    (lambda: fastconv.conv3d(np.zeros((1, 4, 4, 4, 1)), np.zeros((2, 2, 1, 1))), ValueError,
     r"w must be 5-D \(KD, KH, KW, C_in, C_out\)"),
    (lambda: fastconv.conv3d(np.zeros((1, 4, 4, 4, 1)), np.zeros((5, 2, 2, 1, 1))), ValueError,
     "kernel size 5 along D is larger"),
    (lambda: fastconv.conv3d(np.zeros((1, 4, 4, 4, 1)), np.zeros((2, 2, 2, 1, 1)),
                             strides=(1, 1)), ValueError, "strides must be an int or a triple"),
    (lambda: fastconv.pool3d(np.zeros((1, 4, 4, 1))), ValueError, "x must be 5-D"),
    (lambda: fastconv.pool3d(np.zeros((1, 4, 4, 4, 1)), (2, 2)), ValueError,
     "pool_size must be an int or a triple"),
    (lambda: fastconv.pool3d(np.zeros((1, 4, 4, 4, 1)), 2, padding=(2, 0, 0)), ValueError,
     "padding .* is too large"),
])
def test_bad_3d_arguments_raise_naming_them(call, error, match):
    with pytest.raises(error, match=match):
        call()
