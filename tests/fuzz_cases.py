"""Hypothesis strategies and the outcome check shared by the fuzz tests.

An input is drawn as (values, dtype, memory layout): normal values, or ones sprinkled
with NaN, inf, huge or subnormal numbers; float32/float64 or a dtype the kernels must
refuse; C or Fortran order, a strided slice, negative strides, or read-only.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Examples per fuzz test: CI runs a few hundred in all; the slow-marked long runs over
# 2,000 (python -m pytest -m slow tests/test_fuzz_*.py).
CI_EXAMPLES = 120
LONG_EXAMPLES = 1000

ACCEPTED_DTYPES = (np.float32, np.float64)
REFUSED_DTYPES = (np.int32, np.int64, np.float16, np.complex64, np.bool_, object)
LAYOUTS = ("C", "F", "sliced", "negative", "readonly")
VALUE_KINDS = ("normal", "nan", "inf", "huge", "subnormal")
# Scale of "huge" values: large, yet the product of two and sums of a few hundred such
# products stay finite (float32 max 3.4e38). Overflowing products would make the result
# depend on the order of additions and on FMA contraction (fma(a, b, inf) is inf where
# a*b + inf is NaN for a*b = -inf), where no answer is the right one.
HUGE = {np.dtype(np.float32): 1e17, np.dtype(np.float64): 1e150}
# Worst-case error relative to the largest finite output magnitude: float32 sums of a few
# hundred terms keep ~6 digits, float64 ~14 (as kernel_cases.TOLERANCE), plus a few
# units in the last place of the subnormal range, where ulps are absolute.
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}
SUBNORMAL_ULPS = 1024


def fuzz_test(strategy_kwargs, scale=1):
    """Decorator: a CI test and a slow-marked long test of the same property, with
    `scale` times the usual numbers of examples."""
    def decorate(check):
        ci = settings(max_examples=CI_EXAMPLES * scale)(given(**strategy_kwargs)(check))
        long = pytest.mark.slow(settings(max_examples=LONG_EXAMPLES * scale)(
            given(**strategy_kwargs)(check)))
        return ci, long
    return decorate


def values(rng, shape, kind, dtype):
    """Random values of the given kind, as float64 (cast by the caller)."""
    a = rng.standard_normal(shape)
    if a.size == 0 or kind == "normal":
        return a
    if kind == "huge":
        return a * HUGE[np.dtype(dtype)]
    if kind == "subnormal":  # below the smallest normal number, ~16 bits of precision
        return a * float(np.finfo(dtype).tiny) / 100
    special = {"nan": [np.nan], "inf": [np.inf, -np.inf]}[kind]
    flat = a.reshape(-1)
    picks = rng.integers(0, flat.size, max(1, flat.size // 8))
    flat[picks] = rng.choice(special, len(picks))
    return a


def in_layout(a, layout, rng):
    """An array equal to `a` in the given memory layout."""
    if layout == "C" or a.ndim == 0:
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "readonly":
        a = a.copy()
        a.setflags(write=False)
        return a
    axis = int(rng.integers(a.ndim))
    if layout == "negative":
        return np.flip(np.ascontiguousarray(np.flip(a, axis)), axis)
    big_shape = list(a.shape)  # "sliced": every other element along one axis
    big_shape[axis] *= 2
    big = np.full(big_shape, 7, dtype=a.dtype)
    index = [slice(None)] * a.ndim
    index[axis] = slice(None, None, 2)
    big[tuple(index)] = a
    return big[tuple(index)]


@st.composite
def arrays(draw, shape, refused_dtypes=True):
    """An array of `shape` with random values, dtype and layout (see the module doc)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    refused = refused_dtypes and draw(st.integers(0, 15)) == 0
    dtype = draw(st.sampled_from(REFUSED_DTYPES if refused else ACCEPTED_DTYPES))
    kind = draw(st.sampled_from(VALUE_KINDS))
    a = values(rng, shape, kind, np.float64 if refused else dtype)
    return in_layout(a.astype(dtype), draw(st.sampled_from(LAYOUTS)), rng)


def outcome(function, *args, **kwargs):
    """(result, None) or (None, exception type) for TypeError/ValueError; any other
    exception (or a crash) fails the test."""
    try:
        return function(*args, **kwargs), None
    except (TypeError, ValueError) as exc:
        return None, type(exc)


def assert_matches(actual, expected, extra_nan=False):
    """Same shape and dtype, NaN and +-inf in the same places, finite values close.

    extra_nan: `actual` may also hold NaN where `expected` does not. Backward passes need
    it when an input holds inf/NaN: where such a value meets a zero that is not a term of
    the gradient (padding, or the kernel's zero-filled expansion of dy), 0 * inf is NaN,
    and whether a sum meets that zero depends on the algorithm (BLAS even skips zero
    factors in the reference's small products).
    """
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    if extra_nan:
        actual = np.where(np.isnan(actual) & ~np.isnan(expected), expected, actual)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), "NaN positions")
    inf = np.isinf(expected)
    np.testing.assert_array_equal(np.isinf(actual), inf, "inf positions")
    np.testing.assert_array_equal(actual[inf], expected[inf], "inf signs")
    finite = np.isfinite(expected)
    if not finite.any():
        return
    a, e = actual[finite].astype(np.float64), expected[finite].astype(np.float64)
    scale = float(np.abs(e).max())
    allowed = TOLERANCE[actual.dtype] * scale + SUBNORMAL_ULPS * float(
        np.finfo(actual.dtype).smallest_subnormal)
    error = float(np.abs(a - e).max())
    assert error <= allowed, f"max error {error:.3g} > {allowed:.3g} (scale {scale:.3g})"


def assert_unchanged(before, after):
    """The call did not write to its inputs."""
    for b, a in zip(before, after):
        if isinstance(b, np.ndarray) and b.dtype != object:
            np.testing.assert_array_equal(a, b, "an input was modified")
