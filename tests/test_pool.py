"""pool2d kernels against the NumPy reference: modes, windows, strides, padding, layouts, NaN."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from kernel_cases import assert_close, f64, random_array

MODES = ["max", "min", "avg"]


@st.composite
def pool_cases(draw):
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    padding = draw(st.one_of(st.sampled_from(["valid", "same"]),
                             st.tuples(st.integers(0, ph // 2), st.integers(0, pw // 2))))
    h, w = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    if padding == "valid":
        assume(h >= ph and w >= pw)
    elif not isinstance(padding, str):
        assume(h + 2 * padding[0] >= ph and w + 2 * padding[1] >= pw)
    shape = (draw(st.integers(1, 3)), h, w, draw(st.sampled_from([1, 3, 8, 17, 32])))
    return shape, (ph, pw), strides, padding


@settings(max_examples=150, deadline=None)
@given(case=pool_cases(), mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16),
       ties=st.booleans())
def test_pool2d_matches_reference(case, mode, dtype, seed, ties):
    shape, pool_size, strides, padding = case
    rng = np.random.default_rng(seed)
    # With ties (few distinct values) the "first extreme wins" rule is what is tested.
    x = (rng.integers(0, 3, shape) if ties else rng.standard_normal(shape)).astype(dtype)
    y = fastconv.pool2d(x, pool_size, strides, padding, mode)
    assert y.dtype == dtype
    assert_close(y, reference.pool2d(x, pool_size, strides, padding, mode))
    dy = random_array(rng, y.shape, dtype)
    dx = fastconv.pool2d_backward(dy, x, pool_size, strides, padding, mode)
    assert dx.dtype == dtype
    assert_close(dx, reference.pool2d_backward(*f64(dy, x), pool_size, strides, padding, mode),
                 dtype)


@pytest.mark.parametrize("mode", MODES)
def test_pool2d_benchmark_shape(mode):
    rng = np.random.default_rng(0)
    x = random_array(rng, (4, 24, 24, 32), np.float32)
    y = fastconv.pool2d(x, 2, mode=mode)
    assert_close(y, reference.pool2d(x, 2, mode=mode))
    dy = random_array(rng, y.shape, np.float32)
    assert_close(fastconv.pool2d_backward(dy, x, 2, mode=mode),
                 reference.pool2d_backward(dy, x, 2, mode=mode))


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[7, 7], [7, 1]], np.float64)[None, :, :, None]
    dx = fastconv.pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


@pytest.mark.parametrize("mode", ["max", "min"])
def test_nan_wins_the_window_and_takes_the_gradient(mode):
    x = np.array([[1, np.nan], [np.nan, 5]], np.float32)[None, :, :, None]
    assert np.isnan(fastconv.pool2d(x, 2, mode=mode)).all()
    dx = fastconv.pool2d_backward(np.ones((1, 1, 1, 1), np.float32), x, 2, mode=mode)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1], [0, 0]])


def test_avg_pool_counts_only_real_pixels():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(fastconv.pool2d(x, 2, 2, "same", "avg"), np.ones((1, 2, 2, 1)))


def test_pool2d_any_layout_and_empty_batch():
    rng = np.random.default_rng(1)
    x = random_array(rng, (2, 6, 6, 4), np.float32)
    y = fastconv.pool2d(x, 3, 2, 1)
    np.testing.assert_array_equal(fastconv.pool2d(np.asfortranarray(x), 3, 2, 1), y)
    np.testing.assert_array_equal(fastconv.pool2d(x[:, ::-1][:, ::-1], 3, 2, 1), y)
    empty = np.zeros((0, 6, 6, 4), np.float32)
    assert fastconv.pool2d(empty, 2).shape == (0, 3, 3, 4)
    assert fastconv.pool2d_backward(np.zeros((0, 3, 3, 4)), empty, 2).shape == empty.shape
