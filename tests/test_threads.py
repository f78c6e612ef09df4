"""Thread count control, and bitwise-identical results for any thread count."""
import numpy as np
import pytest

import fastconv
from fastconv import config
from kernel_cases import random_array, variant  # noqa: F401  (variant is a fixture)


@pytest.fixture
def restore_threads():
    saved = config._requested_threads
    yield
    config._requested_threads = saved


# (x shape, w shape, strides, padding, dilation, groups): C < NR and C >= NR, strided and
# not, so that every backward-data form (col2im, the flipped-kernel correlation, depthwise)
# and partial tiles run; grouped and dilated; depthwise with and without a multiplier.
CONV_CASES = [((9, 13, 12, 5), (3, 3, 5, 33), 1, "same", 1, 1),
              ((3, 11, 10, 40), (3, 3, 40, 20), 1, "same", 1, 1),
              ((4, 15, 14, 40), (5, 3, 40, 17), 2, 1, 1, 1),
              ((5, 12, 11, 12), (3, 3, 4, 9), 1, "same", (2, 1), 3),
              ((6, 10, 10, 8), (3, 3, 1, 8), 1, "same", 2, 8),
              ((6, 10, 9, 3), (3, 2, 1, 6), 2, "valid", 1, 3)]


def run_all_kernels(dtype):
    rng = np.random.default_rng(0)
    outs = []
    for x_shape, w_shape, strides, padding, dilation, groups in CONV_CASES:
        x = random_array(rng, x_shape, dtype)
        w = random_array(rng, w_shape, dtype)
        b = random_array(rng, w_shape[3], dtype)
        geometry = dict(dilation=dilation, groups=groups)
        y = fastconv.conv2d(x, w, b, strides, padding, **geometry)
        dy = random_array(rng, y.shape, dtype)
        outs += [y, *fastconv.conv2d_backward(dy, x, w, strides, padding, **geometry)]
        # Fused ReLU: the masked copies of dy in every backward form.
        y_relu = fastconv.conv2d(x, w, b, strides, padding, activation="relu", **geometry)
        outs += [y_relu, *fastconv.conv2d_backward(dy, x, w, strides, padding,
                                                   activation="relu", y=y_relu, **geometry)]
    # A 3-D convolution (two depth planes per block of dw rows) and 3-D pooling.
    x3 = random_array(rng, (3, 5, 6, 7, 4), dtype)
    w3 = random_array(rng, (3, 2, 3, 4, 18), dtype)
    y3 = fastconv.conv3d(x3, w3, None, (1, 2, 1), "same")
    outs += [y3, *fastconv.conv3d_backward(random_array(rng, y3.shape, dtype), x3, w3,
                                           (1, 2, 1), "same")]
    for pool, stride in [(2, None), ((3, 2, 2), 1)]:
        p3 = fastconv.pool3d(y3, pool, stride, "valid", "max")
        outs += [p3, fastconv.pool3d_backward(p3, y3, pool, stride, "valid", "max")]
    # Overlapping windows (stride < pool) take the image-partitioned backward path.
    for mode in ["max", "min", "avg"]:
        for pool, stride in [(2, None), (3, 1)]:
            p = fastconv.pool2d(y, pool, stride, "valid", mode)
            outs += [p, fastconv.pool2d_backward(p, y, pool, stride, "valid", mode)]
    return outs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_are_bitwise_identical_for_1_2_and_3_threads(variant, dtype, restore_threads):
    results = {}
    for n in (1, 2, 3):
        fastconv.set_num_threads(n)
        results[n] = run_all_kernels(dtype)
    for n in (2, 3):
        for a, b in zip(results[1], results[n]):
            np.testing.assert_array_equal(a, b)


def test_set_and_get_num_threads(restore_threads):
    fastconv.set_num_threads(3)
    assert fastconv.get_num_threads() == (3 if config._openmp_helpers.openmp_enabled() else 1)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (10**6, ValueError),
                                        (2.0, TypeError), ("2", TypeError), (None, TypeError),
                                        (True, TypeError)])
def test_set_num_threads_rejects_bad_values(bad, error, restore_threads):
    with pytest.raises(error, match="thread|integer"):
        fastconv.set_num_threads(bad)


def test_omp_num_threads_is_the_default(monkeypatch, restore_threads):
    config._requested_threads = None
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    if config._openmp_helpers.openmp_enabled():
        assert fastconv.get_num_threads() == 3


def test_show_config_reports_openmp_threads_and_variant(capsys):
    fastconv.show_config()
    out = capsys.readouterr().out
    assert fastconv.__version__ in out
    assert "OpenMP" in out and "threads" in out
    assert fastconv._kernels._conv.kernel_variant() in out
