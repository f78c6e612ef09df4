"""conv2d / conv1d kernels against the NumPy reference: shapes, strides, padding, dtypes,
memory layouts and every micro-kernel variant the CPU supports."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from kernel_cases import (VARIANTS, assert_close, f64, kernel_variant, random_array,
                          variant)  # noqa: F401  (variant is a fixture)

DTYPES = [np.float32, np.float64]


def check_conv2d(x, w, b, strides, padding, dtype):
    """fastconv's forward and backward equal the float64 reference within dtype tolerance."""
    y = fastconv.conv2d(x, w, b, strides, padding)
    assert y.dtype == dtype
    assert_close(y, reference.conv2d(*f64(x, w, b), strides, padding))
    dy = random_array(np.random.default_rng(7), y.shape, dtype)
    grads = fastconv.conv2d_backward(dy, x, w, strides, padding)
    expected = reference.conv2d_backward(*f64(dy, x, w), strides, padding)
    for got, want in zip(grads, expected):
        assert got.dtype == dtype
        assert_close(got, want)


@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(
        st.sampled_from(["valid", "same"]),
        st.tuples(st.integers(0, kh - 1), st.integers(0, kw - 1)),
        st.tuples(st.tuples(st.integers(0, kh - 1), st.integers(0, kh - 1)),
                  st.tuples(st.integers(0, kw - 1), st.integers(0, kw - 1)))))
    h, w = draw(st.integers(1, 13)), draw(st.integers(1, 13))
    if not isinstance(padding, str):
        pads = padding if isinstance(padding[0], tuple) else ((padding[0],) * 2, (padding[1],) * 2)
        assume(h + sum(pads[0]) >= kh and w + sum(pads[1]) >= kw)
    elif padding == "valid":
        assume(h >= kh and w >= kw)
    n = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 2, 3, 5, 8, 17, 33]))
    k = draw(st.sampled_from([1, 2, 7, 16, 31, 33, 64]))
    return (n, h, w, c), (kh, kw, c, k), strides, padding


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conv_cases(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(VARIANTS),
       use_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_matches_reference(case, dtype, name, use_bias, seed):
    x_shape, w_shape, strides, padding = case
    rng = np.random.default_rng(seed)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    b = random_array(rng, w_shape[3], dtype) if use_bias else None
    with kernel_variant(name):
        check_conv2d(x, w, b, strides, padding, dtype)


# The shapes small CNNs use, including the benchmark's, at reduced batch.
TYPICAL = [
    ((2, 28, 28, 1), (3, 3, 1, 32), 1, "valid"),
    ((2, 28, 28, 1), (5, 5, 1, 32), 1, "same"),
    ((3, 12, 12, 32), (5, 5, 32, 64), 1, "valid"),
    ((1, 14, 14, 64), (3, 3, 64, 64), 1, 1),
    ((1, 23, 23, 3), (7, 7, 3, 64), 2, 3),
    ((2, 9, 9, 16), (1, 1, 16, 10), 1, "valid"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, strides, padding", TYPICAL)
def test_conv2d_typical_shapes(variant, dtype, x_shape, w_shape, strides, padding):
    rng = np.random.default_rng(0)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    check_conv2d(x, w, random_array(rng, w_shape[3], dtype), strides, padding, dtype)


def layouts(a):
    """The same values as a in other memory layouts."""
    flipped = np.ascontiguousarray(a[:, ::-1])[:, ::-1]  # negative stride along H
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    readonly = a.copy()
    readonly.setflags(write=False)
    return {"fortran": np.asfortranarray(a), "negative-stride": flipped,
            "sliced": wide[..., ::2], "read-only": readonly}


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_any_memory_layout_gives_the_same_result(dtype):
    rng = np.random.default_rng(1)
    x, w = random_array(rng, (2, 7, 8, 3), dtype), random_array(rng, (3, 2, 3, 5), dtype)
    dy = random_array(rng, (2, 7, 8, 5), dtype)
    y = fastconv.conv2d(x, w, None, 1, "same")
    grads = fastconv.conv2d_backward(dy, x, w, 1, "same")
    for name, xl in layouts(x).items():
        wl, dyl = layouts(w)[name], layouts(dy)[name]
        np.testing.assert_array_equal(fastconv.conv2d(xl, wl, None, 1, "same"), y, err_msg=name)
        for got, want in zip(fastconv.conv2d_backward(dyl, xl, wl, 1, "same"), grads):
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_mixed_precision_is_computed_in_float64():
    rng = np.random.default_rng(2)
    x = random_array(rng, (1, 5, 5, 2), np.float32)
    w = random_array(rng, (3, 3, 2, 4), np.float64)
    y = fastconv.conv2d(x, w)
    assert y.dtype == np.float64
    assert_close(y, reference.conv2d(*f64(x, w)))
    assert all(g.dtype == np.float64 for g in fastconv.conv2d_backward(y, x, w))


def test_empty_batch_gives_empty_outputs():
    x = np.zeros((0, 6, 6, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    y = fastconv.conv2d(x, w, np.ones(4, np.float32))
    assert y.shape == (0, 4, 4, 4)
    dx, dw, db = fastconv.conv2d_backward(y, x, w)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (4,)
    assert not dw.any() and not db.any()


def test_nan_propagates():
    x = np.ones((1, 4, 4, 1), np.float32)
    x[0, 1, 1, 0] = np.nan
    y = fastconv.conv2d(x, np.ones((2, 2, 1, 1), np.float32))
    assert np.isnan(y[0, :2, :2, 0]).all()
    assert not np.isnan(y[0, 2:, 2:, 0]).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "same"), (1, "causal"), (3, 1)])
def test_conv1d_matches_reference(variant, dtype, strides, padding):
    rng = np.random.default_rng(3)
    x, w, b = (random_array(rng, s, dtype) for s in [(3, 17, 4), (3, 4, 6), (6,)])
    y = fastconv.conv1d(x, w, b, strides, padding)
    assert_close(y, reference.conv1d(*f64(x, w, b), strides, padding))
    dy = random_array(rng, y.shape, dtype)
    for got, want in zip(fastconv.conv1d_backward(dy, x, w, strides, padding),
                         reference.conv1d_backward(*f64(dy, x, w), strides, padding)):
        assert_close(got, want)
