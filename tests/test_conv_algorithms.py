"""The convolution algorithms: Winograd's F(2x2, 3x3) and F(4x4, 3x3) against the float64
reference, the tiled weight gradient, the algorithm setting and the cost model's choices."""
import numpy as np
import pytest

import fastconv
from fastconv import reference
from fastconv.ops import conv_algorithm
from kernel_cases import assert_close, f64, random_array, variant  # noqa: F401

# Winograd's float32 error grows with the transform's coefficients (F(4x4)'s reach 8 and
# 1/24): the bound, relative to the output's largest magnitude.
WINOGRAD_F32_TOLERANCE = 1e-4


@pytest.fixture
def algorithm():
    """Set the algorithm inside a test; the previous setting comes back afterwards."""
    saved = fastconv.get_conv_algorithm()
    yield fastconv.set_conv_algorithm
    fastconv.set_conv_algorithm(saved)


def chosen(pass_name, x, w, padding):
    """The algorithm the kernels run for this stride-1 2-D convolution's pass."""
    return conv_algorithm(pass_name, x.shape, w.shape, 1, padding)


def check_against_reference(x, w, b, padding, activation=None):
    """Forward and both backward passes against the float64 reference: float64 to 1e-12,
    float32 within WINOGRAD_F32_TOLERANCE of the largest magnitude."""
    dtype = x.dtype
    y = fastconv.conv2d(x, w, b, 1, padding, activation=activation)
    y_ref = reference.conv2d(*f64(x, w, b), 1, padding)
    if activation == "relu":
        y_ref = np.maximum(y_ref, 0)
    dy = random_array(np.random.default_rng(3), y.shape, dtype)
    grads = fastconv.conv2d_backward(dy, x, w, 1, padding, activation=activation,
                                     y=y if activation else None)
    dy_ref = f64(dy)[0] * (y_ref > 0) if activation == "relu" else f64(dy)[0]
    expected = reference.conv2d_backward(dy_ref, *f64(x, w), 1, padding)
    for got, want in zip((y,) + tuple(grads), (y_ref,) + tuple(expected)):
        assert got.dtype == dtype
        if dtype == np.float64:
            assert_close(got, want)
        else:
            err = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)
            assert err <= WINOGRAD_F32_TOLERANCE, err


# (x shape, channels out, padding): odd sizes (partial tiles at the right and bottom),
# batch 1, asymmetric padding, C and K not multiples of the micro-kernel's panels, and
# sizes where F(2x2) is the cheaper transform.
WINOGRAD_CASES = [((2, 11, 9, 5), 7, "valid"),
                  ((1, 8, 8, 16), 33, "same"),
                  ((3, 6, 13, 20), 17, ((2, 0), (1, 2))),
                  ((2, 4, 5, 3), 2, 1),
                  ((1, 3, 3, 4), 4, "valid"),
                  ((2, 14, 10, 9), 24, ((0, 1), (2, 2)))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, k, padding", WINOGRAD_CASES)
def test_winograd_matches_the_reference(variant, algorithm, dtype, x_shape, k, padding):
    rng = np.random.default_rng(0)
    x = random_array(rng, x_shape, dtype)
    w = random_array(rng, (3, 3, x_shape[3], k), dtype)
    b = random_array(rng, k, dtype)
    algorithm("winograd")
    assert chosen("forward", x, w, padding).startswith("winograd")
    assert chosen("backward-input", x, w, padding).startswith("winograd")
    check_against_reference(x, w, b, padding)
    check_against_reference(x, w, b, padding, activation="relu")


def test_both_transforms_are_chosen_by_the_cost_model(algorithm):
    algorithm("winograd")
    x = np.zeros((1, 4, 4, 8), np.float32)   # one 2x2 output: one F(2x2) tile, no waste
    w = np.zeros((3, 3, 8, 8), np.float32)
    assert chosen("forward", x, w, "valid") == "winograd F(2x2,3x3)"
    x = np.zeros((1, 10, 10, 8), np.float32)  # 8x8 outputs: four F(4x4) tiles
    assert chosen("forward", x, w, "valid") == "winograd F(4x4,3x3)"


def test_winograd_reads_non_contiguous_inputs(algorithm):
    rng = np.random.default_rng(1)
    x = random_array(rng, (2, 9, 9, 12), np.float64)[:, ::-1, :, ::2]   # (2, 9, 9, 6)
    w = np.asfortranarray(random_array(rng, (3, 3, 6, 10), np.float64))
    algorithm("winograd")
    check_against_reference(x, w, None, 1)


def test_real_layers_use_winograd_under_auto_and_stay_accurate(algorithm):
    """A layer of the benchmark's ResNet-18 at a small batch: the cost model picks
    Winograd, and float32 stays within the bound against float64."""
    rng = np.random.default_rng(2)
    x = random_array(rng, (6, 16, 16, 128), np.float32)
    w = random_array(rng, (3, 3, 128, 128), np.float32) * 0.05
    algorithm("auto")
    assert chosen("forward", x, w, 1).startswith("winograd")
    assert chosen("backward-input", x, w, 1).startswith("winograd")
    check_against_reference(x, w, None, 1)


@pytest.mark.parametrize("case", [dict(strides=2), dict(dilation=2), dict(groups=2)])
def test_other_convolutions_stay_direct(algorithm, case):
    algorithm("winograd")
    w_shape = (3, 3, 4 // case.get("groups", 1), 4)
    assert conv_algorithm("forward", (1, 9, 9, 4), w_shape, **case) == "direct"
    assert conv_algorithm("forward", (1, 5, 9, 9, 4), (3, 3, 3, 4, 4)) == "direct"  # 3-D


def test_conv_algorithm_checks_its_arguments():
    with pytest.raises(ValueError, match="pass_name must be one of"):
        conv_algorithm("backward", (1, 9, 9, 4), (3, 3, 4, 4))
    with pytest.raises(ValueError, match="x_shape must have 4"):
        conv_algorithm("forward", (9, 9, 4), (3, 3, 4, 4))


def test_direct_never_runs_winograd(algorithm):
    algorithm("direct")
    x, w = np.zeros((6, 16, 16, 128)), np.zeros((3, 3, 128, 128))
    assert chosen("forward", x, w, 1) == "direct"
    assert chosen("backward-input", x, w, 1) == "direct"


def test_winograd_differs_from_direct_only_by_rounding(algorithm):
    """The two algorithms are really different computations (the test above could not
    tell them apart otherwise), and agree to float64 rounding."""
    rng = np.random.default_rng(5)
    x, w = random_array(rng, (2, 10, 10, 16), np.float64), random_array(rng, (3, 3, 16, 8), np.float64)
    algorithm("direct")
    direct = fastconv.conv2d(x, w)
    algorithm("winograd")
    winograd = fastconv.conv2d(x, w)
    assert not np.array_equal(direct, winograd)
    np.testing.assert_allclose(winograd, direct, rtol=0, atol=1e-12 * np.abs(direct).max())


def test_set_conv_algorithm_rejects_unknown_names(algorithm):
    with pytest.raises(ValueError, match="unknown convolution algorithm 'fast'"):
        fastconv.set_conv_algorithm("fast")
    with pytest.raises(TypeError, match="algorithm must be a str"):
        fastconv.set_conv_algorithm(1)
    assert fastconv.get_conv_algorithm() in ("auto", "direct", "winograd")


def test_show_config_names_the_algorithm(algorithm, capsys):
    algorithm("direct")
    fastconv.show_config()
    assert "conv algorithm: direct" in capsys.readouterr().out


def test_environment_variable_sets_the_algorithm_at_import(tmp_path):
    import os
    import pathlib
    import subprocess
    import sys
    # The fastconv under test (an installed one, or the in-place build), not a source
    # tree in the working directory.
    package_root = str(pathlib.Path(fastconv.__file__).resolve().parent.parent)
    env = dict(os.environ, FASTCONV_CONV_ALGORITHM="direct", PYTHONPATH=package_root)
    out = subprocess.run([sys.executable, "-c",
                          "import fastconv; print(fastconv.get_conv_algorithm())"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "direct"


# The tiled weight gradient: small output planes, many (r, s, c) rows; strided, dilated,
# 3-D, ReLU-masked, K (at least 128) not a multiple of the panel width, rows not a
# multiple of MR.
TILED_CASES = [((3, 6, 7, 40), (3, 3, 40, 128), 1, 0, 1),
               ((2, 9, 9, 24), (3, 3, 24, 130), 2, 1, 1),
               ((2, 9, 10, 24), (3, 3, 24, 129), 1, 1, 2),
               ((1, 5, 5, 70), (3, 3, 70, 136), 1, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", TILED_CASES)
def test_tiled_weight_gradient_matches_the_reference(variant, dtype, x_shape, w_shape, strides,
                                                     padding, dilation):
    rng = np.random.default_rng(6)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    y = fastconv.conv2d(x, w, None, strides, padding, activation="relu", dilation=dilation)
    assert y.shape[1] * y.shape[2] <= 64      # the tiled form's planes
    dy = random_array(rng, y.shape, dtype)
    _, dw, db = fastconv.conv2d_backward(dy, x, w, strides, padding, activation="relu", y=y,
                                         dilation=dilation)
    masked = f64(dy)[0] * (y > 0)
    _, dw_ref, db_ref = reference.conv2d_backward(masked, *f64(x, w), strides, padding,
                                                  dilation=dilation)
    assert_close(dw, dw_ref)
    assert_close(db, db_ref)


def test_tiled_weight_gradient_in_3d():
    rng = np.random.default_rng(7)
    x, w = random_array(rng, (2, 4, 5, 5, 12), np.float64), random_array(rng, (3, 3, 3, 12, 130), np.float64)
    y = fastconv.conv3d(x, w, None, 1, "valid")
    dy = random_array(rng, y.shape, np.float64)
    _, dw, db = fastconv.conv3d_backward(dy, x, w, 1, "valid")
    _, dw_ref, db_ref = reference.conv3d_backward(dy, x, w, 1, "valid")
    assert_close(dw, dw_ref)
    assert_close(db, db_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_and_tiled_weights_are_bitwise_identical_for_1_2_and_3_threads(algorithm,
                                                                                dtype):
    from fastconv import config
    saved = config._requested_threads
    rng = np.random.default_rng(8)
    # Enough tiles for several Winograd blocks; a 4x4 output plane for the tiled dw form.
    x, w = random_array(rng, (9, 14, 14, 24), dtype), random_array(rng, (3, 3, 24, 40), dtype)
    x_small = random_array(rng, (7, 6, 6, 24), dtype)
    w_wide = random_array(rng, (3, 3, 24, 130), dtype)
    algorithm("winograd")
    results = {}
    try:
        for n in (1, 2, 3):
            fastconv.set_num_threads(n)
            y = fastconv.conv2d(x, w, None, 1, "same", activation="relu")
            dy = random_array(np.random.default_rng(9), y.shape, dtype)
            small = fastconv.conv2d(x_small, w_wide)
            results[n] = [y, *fastconv.conv2d_backward(dy, x, w, 1, "same", activation="relu",
                                                       y=y),
                          *fastconv.conv2d_backward(small, x_small, w_wide)]
    finally:
        config._requested_threads = saved
    for n in (2, 3):
        for a, b in zip(results[1], results[n]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_3x3_stride_1_transposed_convolution_under_winograd(algorithm, dtype):
    """conv2d_transpose runs conv2d's backward-input as its forward and conv2d's forward
    as its backward-input: both Winograd here, with the (KH, KW, C_out, C_in) kernel."""
    rng = np.random.default_rng(10)
    x, w = random_array(rng, (2, 7, 9, 12), dtype), random_array(rng, (3, 3, 10, 12), dtype)
    algorithm("winograd")
    y = fastconv.conv2d_transpose(x, w, None, 1, "same")
    dy = random_array(rng, y.shape, dtype)
    got = (y, *fastconv.conv2d_transpose_backward(dy, x, w, 1, "same"))
    want = (reference.conv2d_transpose(*f64(x, w), None, 1, "same"),
            *reference.conv2d_transpose_backward(*f64(dy, x, w), 1, "same"))
    tolerance = 1e-12 if dtype == np.float64 else WINOGRAD_F32_TOLERANCE
    for a, b in zip(got, want):
        assert np.max(np.abs(a - b)) <= tolerance * np.max(np.abs(b))
