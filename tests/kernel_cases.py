"""Shared helpers for the kernel tests: random inputs, tolerance checks, variant switching."""
import contextlib

import numpy as np
import pytest

from fastconv._kernels import _conv

# Worst-case relative error against a float64 reference, scaled by the largest magnitude:
# float32 sums of a few hundred products keep ~6 digits, float64 ~14.
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}

VARIANTS = _conv.supported_variants()


def assert_close(actual, expected, dtype=None):
    """actual matches expected to the tolerance of actual's (or the given) dtype."""
    dtype = np.dtype(dtype or actual.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if actual.size == 0:
        return
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(actual.astype(np.float64) - expected)))
    assert err <= TOLERANCE[dtype] * scale, f"max error {err:.3g} (scale {scale:.3g}, {dtype})"


def random_array(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


@contextlib.contextmanager
def kernel_variant(name):
    """Run the block with the named micro-kernel variant, then restore the previous one."""
    previous = _conv.kernel_variant()
    _conv.set_kernel_variant(name)
    try:
        yield
    finally:
        _conv.set_kernel_variant(previous)


@pytest.fixture(params=VARIANTS)
def variant(request):
    """Every micro-kernel variant this CPU supports (generic, avx2, avx512)."""
    with kernel_variant(request.param):
        yield request.param
