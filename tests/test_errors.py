"""Bad input raises TypeError/ValueError naming the argument and shapes: never a crash."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastconv
from fastconv import reference

IMPLEMENTATIONS = [fastconv, reference]
X = np.zeros((2, 8, 8, 3), np.float32)
W = np.zeros((3, 3, 3, 4), np.float32)


@pytest.fixture(params=IMPLEMENTATIONS, ids=["fastconv", "reference"])
def impl(request):
    return request.param


@pytest.mark.parametrize("x, w, b, kwargs, error, message", [
    (X[0], W, None, {}, ValueError, r"x must be 4-D.*\(8, 8, 3\)"),
    (X, W[0], None, {}, ValueError, r"w must be 4-D"),
    (X, np.zeros((3, 3, 2, 4), np.float32), None, {}, ValueError, r"2 input channels.*x has 3"),
    (X, W, np.zeros(5, np.float32), {}, ValueError, r"b must have shape \(4,\)"),
    (X, np.zeros((9, 3, 3, 4), np.float32), None, {}, ValueError, r"larger than the padded input"),
    (X, W, None, {"strides": 0}, ValueError, r"strides must be >= 1"),
    (X, W, None, {"strides": (1, -1)}, ValueError, r"strides"),
    (X, W, None, {"strides": 1.5}, TypeError, r"strides"),
    (X, W, None, {"strides": (1, 2, 3)}, ValueError, r"strides"),
    (X, W, None, {"padding": -1}, ValueError, r"padding must be >= 0"),
    (X, W, None, {"padding": 10**12}, ValueError, r"padding .* too large"),
    (X, W, None, {"padding": "full"}, ValueError, r"padding must be 'valid', 'same'"),
    (X, W, None, {"padding": None}, TypeError, r"padding"),
    (X.astype(np.int64), W, None, {}, TypeError, r"x must be a float32 or float64.*int64"),
    (X.astype(np.complex64), W, None, {}, TypeError, r"x must be .*complex64"),
    (X.astype(object), W, None, {}, TypeError, r"x must be .*object"),
    ("not an array", W, None, {}, TypeError, r"x must be"),
    (None, W, None, {}, TypeError, r"x must be .*None"),
    (X, None, None, {}, TypeError, r"w must be .*None"),
    (X, W, "bias", {}, TypeError, r"b must be"),
    (np.zeros((2, 0, 8, 3), np.float32), W, None, {}, ValueError, r"zero-size"),
])
def test_conv2d_bad_input(impl, x, w, b, kwargs, error, message):
    with pytest.raises(error, match=message):
        impl.conv2d(x, w, b, **kwargs)


def test_conv2d_backward_rejects_wrong_dy(impl):
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(2, 6, 6, 4\).*\(2, 6, 6, 3\)"):
        impl.conv2d_backward(np.zeros((2, 6, 6, 3), np.float32), X, W)
    with pytest.raises(TypeError, match="dy must be"):
        impl.conv2d_backward(np.zeros((2, 6, 6, 4), np.int32), X, W)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"pool_size": 0}, ValueError, r"pool_size must be >= 1"),
    ({"pool_size": 9}, ValueError, r"larger than the padded input"),
    ({"strides": -1}, ValueError, r"strides must be >= 1"),
    ({"padding": 2, "pool_size": 2}, ValueError, r"too large"),
    ({"padding": "full"}, ValueError, r"padding must be"),
    ({"mode": "median"}, ValueError, r"mode must be one of"),
    ({"mode": None}, ValueError, r"mode must be one of"),
])
def test_pool2d_bad_input(impl, kwargs, error, message):
    with pytest.raises(error, match=message):
        impl.pool2d(X, **kwargs)
    with pytest.raises(error, match=message):
        impl.pool2d_backward(np.zeros((2, 4, 4, 3), np.float32), X, **kwargs)


def test_pool2d_backward_rejects_wrong_dy(impl):
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(2, 4, 4, 3\)"):
        impl.pool2d_backward(np.zeros((2, 4, 4, 4), np.float32), X)


def test_conv1d_bad_input(impl):
    x, w = np.zeros((2, 10, 3)), np.zeros((3, 3, 4))
    with pytest.raises(ValueError, match=r"x must be 3-D"):
        impl.conv1d(x[0], w)
    with pytest.raises(ValueError, match=r"padding must be 'valid', 'same', 'causal'"):
        impl.conv1d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"3-D \(N, L_out, C_out\)"):
        impl.conv1d_backward(np.zeros((2, 8)), x, w)


@pytest.mark.parametrize("setting, expected", [("generic", "generic"), ("bogus", "unknown kernel variant")])
def test_fastconv_kernel_environment_variable(setting, expected, tmp_path):
    # Run where this process found fastconv (installed or built in place), not the cwd.
    package_parent = os.path.dirname(os.path.dirname(fastconv.__file__))
    run = subprocess.run([sys.executable, "-c", "import fastconv; fastconv.show_config()"],
                         env={"FASTCONV_KERNEL": setting, "PYTHONPATH": package_parent},
                         cwd=tmp_path, capture_output=True, text=True)
    assert expected in run.stdout + run.stderr
