"""conv2d / conv1d with dilation and groups (grouped, depthwise with a depth multiplier):
the reference against independent constructions and finite differences, and the kernels
against the reference."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from conftest import FD_TOLERANCE, numeric_gradient
from kernel_cases import VARIANTS, assert_close, f64, kernel_variant, random_array

DTYPES = [np.float32, np.float64]


def dilate_kernel(w, dilation):
    """w with dilation-1 zeros between its taps: a dense kernel of the dilated extent."""
    dh, dw = dilation
    kh, kw = w.shape[:2]
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1) + w.shape[2:], w.dtype)
    out[::dh, ::dw] = w
    return out


def test_reference_dilation_equals_a_zero_filled_dense_kernel():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 11, 10, 3)), rng.standard_normal((3, 2, 3, 4))
    for dilation in [(2, 1), (1, 3), (2, 2)]:
        np.testing.assert_allclose(
            reference.conv2d(x, w, None, 1, "valid", dilation=dilation),
            reference.conv2d(x, dilate_kernel(w, dilation), None, 1, "valid"), rtol=1e-12)


def test_reference_groups_equal_separate_convolutions_per_group():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 7, 6, 6)), rng.standard_normal((3, 3, 2, 9))
    y = reference.conv2d(x, w, None, 1, "same", groups=3)
    for j in range(3):
        np.testing.assert_allclose(
            y[..., 3 * j:3 * j + 3],
            reference.conv2d(x[..., 2 * j:2 * j + 2], w[..., 3 * j:3 * j + 3], None, 1, "same"),
            rtol=1e-12)


# (x shape, w shape, strides, padding, dilation, groups)
GEOMETRIES = [
    ((1, 9, 8, 2), (3, 2, 2, 3), 1, "valid", (2, 3), 1),
    ((2, 8, 9, 4), (3, 3, 2, 6), (2, 1), "same", 1, 2),
    ((1, 7, 7, 3), (3, 3, 1, 3), 1, 2, 2, 3),            # depthwise, dilated
    ((2, 6, 7, 2), (2, 3, 1, 6), 2, "same", 1, 2),       # depthwise, multiplier 3
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation, groups", GEOMETRIES)
def test_reference_gradients_match_finite_differences(x_shape, w_shape, strides, padding,
                                                      dilation, groups):
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[3]))
    args = (strides, padding)
    geometry = dict(dilation=dilation, groups=groups)
    dy = rng.standard_normal(reference.conv2d(x, w, b, *args, **geometry).shape)

    def loss():
        return np.sum(reference.conv2d(x, w, b, *args, **geometry) * dy)

    dx, dw, db = reference.conv2d_backward(dy, x, w, *args, **geometry)
    for analytic, array in [(dx, x), (dw, w), (db, b)]:
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), atol=FD_TOLERANCE)


@pytest.mark.parametrize("impl", [reference, fastconv], ids=["reference", "fastconv"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation, groups", GEOMETRIES)
def test_adjoint_identity(impl, x_shape, w_shape, strides, padding, dilation, groups):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geometry = dict(dilation=dilation, groups=groups)
    y = impl.conv2d(x, w, None, strides, padding, **geometry)
    dy = rng.standard_normal(y.shape)
    dx, dw, _ = impl.conv2d_backward(dy, x, w, strides, padding, **geometry)
    inner = np.sum(y * dy)
    assert np.isclose(inner, np.sum(x * dx), rtol=1e-12)
    assert np.isclose(inner, np.sum(w * dw), rtol=1e-12)


@st.composite
def cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ekh, ekw = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    padding = draw(st.one_of(st.sampled_from(["valid", "same"]),
                             st.tuples(st.integers(0, ekh - 1), st.integers(0, ekw - 1))))
    groups = draw(st.sampled_from([1, 2, 3, 4]))
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.sampled_from([1, 2, 5, 8, 17]))
    kg = draw(st.sampled_from([1, 2, 3, 16, 17]))
    c = cg * groups
    h, w = draw(st.integers(1, 14)), draw(st.integers(1, 14))
    pads = (0, 0) if padding in ("valid", "same") else padding
    assume(padding == "same" or (h + 2 * pads[0] >= ekh and w + 2 * pads[1] >= ekw))
    n = draw(st.integers(1, 3))
    return (n, h, w, c), (kh, kw, cg, kg * groups), strides, padding, dilation, groups


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(VARIANTS),
       relu=st.booleans(), seed=st.integers(0, 2**16))
def test_kernels_match_reference(case, dtype, name, relu, seed):
    x_shape, w_shape, strides, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    b = random_array(rng, w_shape[3], dtype)
    kwargs = dict(activation="relu" if relu else None, dilation=dilation, groups=groups)
    with kernel_variant(name):
        y = fastconv.conv2d(x, w, b, strides, padding, **kwargs)
        want = reference.conv2d(*f64(x, w, b), strides, padding, **kwargs)
        assert y.dtype == dtype
        assert_close(y, want)
        dy = random_array(rng, y.shape, dtype)
        back = dict(kwargs, y=y if relu else None)
        grads = fastconv.conv2d_backward(dy, x, w, strides, padding, **back)
        expected = reference.conv2d_backward(*f64(dy, x, w), strides, padding,
                                             **dict(back, y=want if relu else None))
        for got, wanted in zip(grads, expected):
            assert got.dtype == dtype
            assert_close(got, wanted)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("dilation, groups, w_shape", [(2, 1, (3, 4, 6)), (1, 2, (3, 2, 6)),
                                                        (3, 4, (2, 1, 8))])
def test_conv1d_dilation_and_groups_match_reference(dtype, padding, dilation, groups, w_shape):
    rng = np.random.default_rng(5)
    x, w, b = (random_array(rng, s, dtype) for s in [(2, 19, 4), w_shape, (w_shape[2],)])
    args = (1, padding, dilation, groups)
    y = fastconv.conv1d(x, w, b, *args)
    assert_close(y, reference.conv1d(*f64(x, w, b), *args))
    dy = random_array(rng, y.shape, dtype)
    for got, want in zip(fastconv.conv1d_backward(dy, x, w, *args),
                         reference.conv1d_backward(*f64(dy, x, w), *args)):
        assert_close(got, want)


def test_causal_dilated_conv1d_depends_only_on_the_past():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 20, 1)), rng.standard_normal((3, 1, 1))
    y = fastconv.conv1d(x, w, None, 1, "causal", dilation=4)
    x2 = x.copy()
    x2[0, 12:] += 1.0
    y2 = fastconv.conv1d(x2, w, None, 1, "causal", dilation=4)
    assert y.shape == (1, 20, 1)
    np.testing.assert_array_equal(y[0, :12], y2[0, :12])
    assert not np.allclose(y[0, 12:], y2[0, 12:])


X = np.zeros((1, 8, 8, 6), np.float32)


@pytest.mark.parametrize("w_shape, kwargs, error, match", [
    ((3, 3, 6, 4), dict(groups=4), ValueError, r"groups=4 must divide.*6.*4"),
    ((3, 3, 2, 4), dict(groups=3), ValueError, r"groups=3 must divide the input.*output"),
    ((3, 3, 3, 6), dict(groups=3), ValueError, r"3 input channels.*6 in 3 groups, 2 each"),
    ((3, 3, 6, 4), dict(groups=0), ValueError, "groups must be >= 1"),
    ((3, 3, 6, 4), dict(groups=1.5), TypeError, "groups must be an integer"),
    ((3, 3, 6, 4), dict(groups=True), TypeError, "groups must be an integer"),
    ((3, 3, 6, 4), dict(dilation=0), ValueError, "dilation must be >= 1"),
    ((3, 3, 6, 4), dict(dilation=(1, 2, 3)), ValueError, "dilation must be an int or a pair"),
    ((3, 3, 6, 4), dict(dilation=4), ValueError, r"dilated kernel size 9 along H is larger"),
])
def test_bad_dilation_and_groups_raise_naming_them(w_shape, kwargs, error, match):
    w = np.zeros(w_shape, np.float32)
    for impl in (fastconv, reference):
        with pytest.raises(error, match=match):
            impl.conv2d(X, w, **kwargs)
        if "dilation" in kwargs or "groups" in kwargs:
            with pytest.raises(error, match=match):
                impl.conv2d_backward(np.zeros((1, 6, 6, 4), np.float32), X, w, **kwargs)
