"""The batched affine warp kernel against its NumPy reference and exact cases."""
import numpy as np
import pytest

from fastconv import set_num_threads, get_num_threads
from fastconv.preprocessing.warp import affine_warp
from fastconv.preprocessing.warp_reference import affine_warp_reference

IDENTITY = [1, 0, 0, 0, 1, 0]
INTERPOLATIONS = ["nearest", "bilinear"]
FILL_MODES = ["constant", "nearest", "reflect", "wrap"]
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}


def _images(shape=(4, 6, 9, 3), dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_identity_gives_the_input_exactly(dtype, interpolation, fill_mode):
    x = _images(dtype=dtype)
    x[0, 0, 0, 0] = np.inf  # a neighbour of weight 0 must not turn into NaN
    out = affine_warp(x, np.tile(IDENTITY, (4, 1)), interpolation=interpolation,
                      fill_mode=fill_mode)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_rotation_by_90_degrees_equals_rot90(interpolation):
    x = _images((2, 5, 7, 2))
    h, w = 5, 7
    # output (r, c) of shape (w, h) samples input (row c, column w - 1 - r): np.rot90
    matrix = [0, -1, w - 1, 1, 0, 0]
    out = affine_warp(x, [matrix, matrix], output_shape=(w, h), interpolation=interpolation)
    np.testing.assert_array_equal(out, np.rot90(x, k=1, axes=(1, 2)))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dy,dx", [(1, 2), (-2, 3), (0, -4)])
def test_whole_pixel_translations_equal_shifts(interpolation, dy, dx):
    x = _images((1, 6, 8, 2))
    # output (r, c) samples input (r - dy, c - dx): the image moves by (dy, dx)
    out = affine_warp(x, [[1, 0, -dx, 0, 1, -dy]], interpolation=interpolation,
                      fill_mode="constant", fill_value=-7.0)
    expected = np.full_like(x, -7.0)
    src = x[:, max(0, -dy):6 - max(0, dy), max(0, -dx):8 - max(0, dx)]
    expected[:, max(0, dy):6 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = src
    np.testing.assert_array_equal(out, expected)
    wrapped = affine_warp(x, [[1, 0, -dx, 0, 1, -dy]], interpolation=interpolation,
                          fill_mode="wrap")
    np.testing.assert_array_equal(wrapped, np.roll(x, (dy, dx), axis=(1, 2)))


def test_reflect_and_nearest_fill():
    x = np.arange(4, dtype=np.float64).reshape(1, 1, 4, 1)  # a b c d = 0 1 2 3
    shift = [[1, 0, -4, 0, 1, 0]]  # output column c samples c - 4
    reflect = affine_warp(x, shift, interpolation="nearest", fill_mode="reflect")
    np.testing.assert_array_equal(reflect.ravel(), [3, 2, 1, 0])  # d c b a | a b c d
    nearest = affine_warp(x, shift, interpolation="nearest", fill_mode="nearest")
    np.testing.assert_array_equal(nearest.ravel(), [0, 0, 0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_kernel_equals_reference_on_random_matrices(dtype, interpolation, fill_mode):
    rng = np.random.default_rng(1)
    x = _images((5, 7, 6, 3), dtype)
    matrices = rng.uniform(-1.5, 1.5, (5, 6)) + np.array([1, 0, 0, 0, 1, 0])
    matrices[:, [2, 5]] *= 6
    got = affine_warp(x, matrices, (9, 5), interpolation, fill_mode, 0.25)
    expected = affine_warp_reference(x, matrices, (9, 5), interpolation, fill_mode, 0.25)
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_same_result_on_any_thread_count():
    x = _images((7, 8, 8, 2))
    matrices = np.random.default_rng(2).uniform(-1, 1, (7, 6))
    before = get_num_threads()
    try:
        set_num_threads(1)
        one = affine_warp(x, matrices)
        set_num_threads(2)
        two = affine_warp(x, matrices)
    finally:
        set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_bad_arguments_are_refused_before_the_kernel():
    x = _images((2, 4, 4, 1))
    m = np.tile(IDENTITY, (2, 1))
    with pytest.raises(ValueError, match="interpolation"):
        affine_warp(x, m, interpolation="bicubic")
    with pytest.raises(ValueError, match="fill_mode"):
        affine_warp(x, m, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"matrices must have shape \(2, 6\)"):
        affine_warp(x, m[:1])
    with pytest.raises(ValueError, match="finite"):
        affine_warp(x, np.full((2, 6), np.nan))
    with pytest.raises(ValueError, match="beyond"):
        affine_warp(x, np.full((2, 6), 1e300))
    with pytest.raises(TypeError, match="float32 or float64"):
        affine_warp(x.astype(np.int32), m)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        affine_warp(x[0], m)
    with pytest.raises(ValueError, match="output_shape"):
        affine_warp(x, m, output_shape=(0, 3))
    with pytest.raises(TypeError, match="fill_value"):
        affine_warp(x, m, fill_value="black")
    assert affine_warp(x[:0], m[:0]).shape == (0, 4, 4, 1)
