"""Fuzz every public kernel against fastconv.reference: random shapes, strides, paddings
(valid or not), dtypes, memory layouts and values. Each call must either match the
reference or raise the same TypeError/ValueError; anything else fails, and the watchdog
turns a hang into a failure."""
import numpy as np
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from fuzz_cases import arrays, assert_matches, assert_unchanged, fuzz_test, outcome

# Seconds one example may take (milliseconds are usual) before the watchdog ends the run.
WATCHDOG_SECONDS = 120
BAD_STRIDES = [0, -1, 2**64, 1.5, "2", None, (1, 2, 3), (1, 0), True]
BAD_PADDINGS = ["full", -1, 10**6, None, 2**64, 1.5, (1,), ((1, 2),), ((0, 1), (2, -1))]
BAD_POOL_MODES = ["median", None, "MAX"]


def rarely(draw, bad):
    """True about one time in eight: then the caller draws from `bad` values."""
    return draw(st.integers(0, 7)) == 0 and bool(bad)


@st.composite
def strides(draw, rank=2):
    if rarely(draw, BAD_STRIDES):
        return draw(st.sampled_from(BAD_STRIDES))
    if rank == 1 or draw(st.booleans()):
        return draw(st.integers(1, 4))
    return draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))


@st.composite
def paddings(draw, extra=()):
    if rarely(draw, BAD_PADDINGS):
        return draw(st.sampled_from(BAD_PADDINGS))
    small = st.integers(0, 3)
    return draw(st.one_of(st.sampled_from(("valid", "same", "SAME") + extra), small,
                          st.tuples(small, small),
                          st.tuples(st.tuples(small, small), st.tuples(small, small))))


def dim(draw, low, high):
    """A size in [low, high], or now and then 0 (zero-size arrays)."""
    return 0 if draw(st.integers(0, 15)) == 0 else draw(st.integers(low, high))


def same_outcome(kernel_name, args, kwargs):
    """fastconv's and the reference's outcome of one call: equal results or equal errors.
    Returns the result (None after an error)."""
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got, got_error = outcome(getattr(fastconv, kernel_name), *args, **kwargs)
    assert_unchanged(before, args)
    want, want_error = outcome(getattr(reference, kernel_name), *args, **kwargs)
    assert got_error == want_error, f"{kernel_name}: {got_error} vs reference {want_error}"
    if want_error is None:
        # A backward pass of non-finite inputs may add NaN (see assert_matches).
        extra_nan = kernel_name.endswith("backward") and not all(
            np.isfinite(a).all() for a in args)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            assert_matches(g, w, extra_nan)
    return want


def backward_dy(draw, forward):
    """dy for a backward call: the forward output's shape, or now and then a wrong one."""
    shape = np.shape(forward)
    if rarely(draw, [1]):
        shape = shape[:-1] + (shape[-1] + 1,)
    return draw(arrays(shape))


@fuzz_test(dict(data=st.data()))
def check_conv2d(data, watchdog):
    watchdog(WATCHDOG_SECONDS)
    draw = data.draw
    n, h, w, c = dim(draw, 1, 3), dim(draw, 1, 9), dim(draw, 1, 9), dim(draw, 1, 5)
    kh, kw, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), dim(draw, 1, 5)
    c_in = c if not rarely(draw, [1]) else c + 1
    x = draw(arrays((n, h, w, c)))
    wt = draw(arrays((kh, kw, c_in, k)))
    b = None if draw(st.booleans()) else draw(arrays((k,) if not rarely(draw, [1]) else (k + 1,)))
    geometry = dict(strides=draw(strides()), padding=draw(paddings()))
    y = same_outcome("conv2d", (x, wt, b), geometry)
    if y is not None:
        same_outcome("conv2d_backward", (backward_dy(draw, y), x, wt), geometry)


test_conv2d_matches_reference, test_conv2d_matches_reference_long = check_conv2d


@fuzz_test(dict(data=st.data()))
def check_pool2d(data, watchdog):
    watchdog(WATCHDOG_SECONDS)
    draw = data.draw
    x = draw(arrays((dim(draw, 1, 3), dim(draw, 1, 9), dim(draw, 1, 9), dim(draw, 1, 5))))
    pool = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)),
                          st.sampled_from([0, -2, 2**64, 2.0])))
    mode = draw(st.sampled_from(BAD_POOL_MODES if rarely(draw, [1]) else ["max", "min", "avg"]))
    geometry = dict(pool_size=pool, strides=None if draw(st.booleans()) else draw(strides()),
                    padding=draw(paddings()), mode=mode)
    y = same_outcome("pool2d", (x,), geometry)
    if y is not None:
        same_outcome("pool2d_backward", (backward_dy(draw, y), x), geometry)


test_pool2d_matches_reference, test_pool2d_matches_reference_long = check_pool2d


@fuzz_test(dict(data=st.data()))
def check_conv1d(data, watchdog):
    watchdog(WATCHDOG_SECONDS)
    draw = data.draw
    n, length, c, k = dim(draw, 1, 3), dim(draw, 1, 12), dim(draw, 1, 5), dim(draw, 1, 5)
    x = draw(arrays((n, length, c)))
    wt = draw(arrays((draw(st.integers(1, 5)), c, k)))
    b = None if draw(st.booleans()) else draw(arrays((k,)))
    geometry = dict(strides=draw(strides(rank=1)), padding=draw(paddings(extra=("causal",))))
    y = same_outcome("conv1d", (x, wt, b), geometry)
    if y is not None:
        same_outcome("conv1d_backward", (backward_dy(draw, y), x, wt), geometry)


test_conv1d_matches_reference, test_conv1d_matches_reference_long = check_conv1d
