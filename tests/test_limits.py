"""Absurd sizes fail in argument checking, naming the size: never an OverflowError from
the C conversion, never an allocation or a kernel that cannot finish."""
import resource

import numpy as np
import pytest

import fastconv
from fastconv import _limits, reference

IMPLEMENTATIONS = [fastconv, reference]
X = np.zeros((1, 4, 4, 1), np.float32)
W = np.zeros((1, 1, 1, 1), np.float32)
BEYOND_C_LONG = _limits.C_INDEX_MAX + 1


def virtual(shape):
    """A float32 array of any shape that takes no memory (all strides 0)."""
    return np.broadcast_to(np.float32(0), shape)


@pytest.fixture(params=IMPLEMENTATIONS, ids=["fastconv", "reference"])
def impl(request):
    return request.param


@pytest.mark.parametrize("call", [
    lambda m: m.conv2d(X, W, strides=BEYOND_C_LONG),
    lambda m: m.conv2d(X, W, strides=(1, 2**200)),
    lambda m: m.conv2d_backward(np.zeros((1, 1, 1, 1), np.float32), X, W, strides=2**64),
    lambda m: m.pool2d(X, pool_size=2**64, padding=2**63),
    lambda m: m.pool2d(X, pool_size=2, strides=BEYOND_C_LONG),
    lambda m: m.pool2d_backward(np.zeros((1, 1, 1, 1), np.float32), X, 4, 2**70),
    lambda m: m.conv1d(X[0], W[0], strides=2**64),
])
def test_parameters_beyond_the_c_index_type_raise_value_error(impl, call):
    with pytest.raises(ValueError, match="C index limit"):
        call(impl)


def test_huge_but_representable_strides_still_work(impl):
    y = impl.conv2d(X + 1, W + 2, strides=2**62)
    np.testing.assert_array_equal(y, np.full((1, 1, 1, 1), 2, np.float32))


@pytest.mark.parametrize("call, name", [
    # 2**60 float64 elements are 2**63 bytes, one more than a C long holds.
    (lambda m: m.conv2d(virtual((2**20, 2**20, 2**20, 1)), virtual((1, 1, 1, 16))), "x"),
    (lambda m: m.conv2d(virtual((1, 2**29, 2**29, 1)), virtual((1, 1, 1, 2**6))), "y"),
    (lambda m: m.pool2d(virtual((2**19, 2**20, 2**20, 2)), 1), "x"),
])
def test_element_counts_beyond_the_c_index_type_raise_value_error(impl, call, name):
    with pytest.raises(ValueError, match=f"{name} would hold .* elements"):
        call(impl)


@pytest.mark.parametrize("call", [
    lambda m: m.conv2d(virtual((2**14, 2**10, 2**10, 1)), W, padding="same"),
    lambda m: m.conv2d(X, virtual((1, 1, 1, 2**40))),
    lambda m: m.conv2d_backward(virtual((2**14, 2**10, 2**10, 1)),
                                virtual((2**14, 2**10, 2**10, 1)), W),
    lambda m: m.pool2d(virtual((2**14, 2**10, 2**10, 1)), 1),
    lambda m: m.conv1d(virtual((2**20, 2**20, 2**4)), virtual((1, 2**4, 2**4))),
])
def test_outputs_larger_than_memory_raise_memory_error_naming_the_size(impl, call):
    # Terabytes on any machine this runs on: refused before anything is allocated.
    with pytest.raises(MemoryError, match=r"needs at least [\d.]+ GiB .* elements"):
        call(impl)


def test_an_address_space_rlimit_lowers_the_memory_limit(monkeypatch):
    x = virtual((64, 256, 256, 8))  # y as float32: 128 MiB
    w = np.zeros((1, 1, 8, 8), np.float32)
    assert _limits.memory_limit() > 2**28
    # Lowering the real rlimit would starve this process: the check reads it, so fake it.
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (2**27, resource.RLIM_INFINITY))
    with pytest.raises(MemoryError, match="0.1 GiB this process may use"):
        fastconv.conv2d(x, w)
