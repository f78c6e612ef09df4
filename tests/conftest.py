"""Shared test set-up: hypothesis profiles, a watchdog against hangs, and the float64
finite-difference gradient checks of the layer and loss tests.

Hypothesis profiles (HYPOTHESIS_PROFILE=name; "ci" by default): "ci" draws a fixed set of
examples (derandomized, so CI runs are repeatable), "long" draws fresh random ones.
The fuzz tests' example counts are in fuzz_cases.py.
"""
import faulthandler
import os
import signal

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Kernel calls on tiny shapes take well under a millisecond, but the first call of a
# process and a loaded shared machine do not: hangs are caught by the watchdog instead.
# The fuzz tests re-arm the (function-scoped) watchdog fixture in every example.
SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", deadline=None, derandomize=True, database=None,
                          suppress_health_check=SUPPRESSED)
settings.register_profile("long", deadline=None, print_blob=True,
                          suppress_health_check=SUPPRESSED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A suite started in the background by a non-interactive shell (`cmd &`, nohup) inherits
# an ignored SIGINT: Python then installs no KeyboardInterrupt handler, here or in the
# children the Ctrl-C tests start, and their SIGINT is silently lost (seen: the CLI
# test's child trained on for its whole timeout). The tests need Python's own handler.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def watchdog():
    """watchdog(seconds): if the test is still running after `seconds`, print every
    thread's stack and end the process, so that a hang fails CI instead of blocking it."""
    def arm(seconds):
        faulthandler.dump_traceback_later(seconds, exit=True)
    yield arm
    faulthandler.cancel_dump_traceback_later()

# Central differences in float64 with this step are accurate to ~1e-9 on smooth
# functions of O(1) values, so 1e-6 relative disagreement means a wrong gradient.
FD_STEP = 1e-6
FD_TOLERANCE = 1e-6


def numeric_gradient(f, array):
    """d f() / d array by central differences, perturbing `array` in place."""
    grad = np.zeros_like(array)
    flat, grad_flat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + FD_STEP
        up = f()
        flat[i] = saved - FD_STEP
        down = f()
        flat[i] = saved
        grad_flat[i] = (up - down) / (2 * FD_STEP)
    return grad


def assert_gradient_close(analytic, numeric, what):
    scale = max(1.0, float(np.abs(numeric).max()))
    error = float(np.abs(analytic - numeric).max())
    assert error <= FD_TOLERANCE * scale, f"{what}: max error {error:.3g} (scale {scale:.3g})"


def check_layer_gradients(layer, x, training=True, seed=0):
    """Compare layer.backward's dx and grads with finite differences of
    sum(forward(x) * r) for a random projection r (the layer must be float64)."""
    assert layer.dtype == np.float64
    x = np.array(x, dtype=np.float64)
    y = layer.forward(x, training)
    r = np.random.default_rng(seed).standard_normal(y.shape)
    dx = layer.backward(r)
    grads = {k: g.copy() for k, g in layer.grads.items()}

    def f():
        return float((layer.forward(x, training) * r).sum())

    assert_gradient_close(dx, numeric_gradient(f, x), f"{layer.name} dx")
    assert set(grads) == set(layer.params), "a gradient for each parameter"
    for key, param in layer.params.items():
        assert_gradient_close(grads[key], numeric_gradient(f, param), f"{layer.name} {key}")


@pytest.fixture
def gradient_check():
    """check_layer_gradients(layer, x, training=True)."""
    return check_layer_gradients


@pytest.fixture
def finite_differences():
    """numeric_gradient(f, array) and assert_gradient_close(analytic, numeric, what)."""
    return numeric_gradient, assert_gradient_close
