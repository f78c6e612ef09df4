"""Repeated kernel calls and training steps keep the resident memory flat.

RSS is read from /proc/self/status (Linux). CI runs 1,000 calls per kernel and 40 steps; the slow-marked
run does the full 10,000 calls per kernel and 200 training steps. A leak of even one
small workspace per call (a packed weight panel: kilobytes) would exceed the bound within
these counts: 1,000 calls x 9 KiB (conv2d's packed weights here) is 9 MiB.
"""
import numpy as np
import pytest

import fastconv
from fastconv import config, layers, models, optimizers

# RSS may grow this much in all (allocator caches, first-call set-up); more is a leak.
RSS_BOUND_MIB = 8
CI_CALLS, FULL_CALLS = 1000, 10_000
CI_STEPS, FULL_STEPS = 40, 200


@pytest.fixture
def one_thread():
    """CI's runs use one OpenMP thread: on a loaded shared machine, two threads that wait
    for each other at every call's barrier made 7,000 calls take 70 s instead of 3. The
    kernels allocate and free the same workspaces (per-thread ones once) either way; the
    slow runs use the default thread count."""
    saved = config._requested_threads
    fastconv.set_num_threads(1)
    yield
    config._requested_threads = saved


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no VmRSS in /proc/self/status")


def kernel_calls():
    """name: a function making one call of that kernel (shapes with padding, so that
    every workspace is allocated)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 12, 12, 8)).astype(np.float32)
    w = rng.standard_normal((3, 3, 8, 16)).astype(np.float32)
    b = np.zeros(16, np.float32)
    y = fastconv.conv2d(x, w, b, 1, "same")
    p = fastconv.pool2d(y, 3, 1, "same")
    x1, w1 = x[:, 0], w[0]
    y1 = fastconv.conv1d(x1, w1, None, 1, "same")
    return {
        "conv2d": lambda: fastconv.conv2d(x, w, b, 1, "same"),
        "conv2d_backward": lambda: fastconv.conv2d_backward(y, x, w, 1, "same"),
        "conv2d_backward_strided": lambda: fastconv.conv2d_backward(
            fastconv.conv2d(x, w, b, 2, "same"), x, w, 2, "same"),
        "pool2d": lambda: fastconv.pool2d(y, 3, 1, "same"),
        "pool2d_backward": lambda: fastconv.pool2d_backward(p, y, 3, 1, "same"),
        "conv1d": lambda: fastconv.conv1d(x1, w1, None, 1, "same"),
        "conv1d_backward": lambda: fastconv.conv1d_backward(y1, x1, w1, 1, "same"),
    }


def rss_growth(step, count):
    """(RSS before, after) in MiB around `count` calls, after a warm-up."""
    for _ in range(10):
        step()
    before = rss_mib()
    for _ in range(count):
        step()
    return before, rss_mib()


def check_kernels(calls):
    for name, call in kernel_calls().items():
        before, after = rss_growth(call, calls)
        print(f"{name}: {calls} calls, RSS {before:.1f} -> {after:.1f} MiB")
        assert after - before < RSS_BOUND_MIB, f"{name}: RSS {before:.1f} -> {after:.1f} MiB"


def test_kernel_calls_keep_rss_flat(one_thread):
    check_kernels(CI_CALLS)


@pytest.mark.slow
def test_kernel_calls_keep_rss_flat_full():
    check_kernels(FULL_CALLS)


def check_training(steps):
    np.random.seed(0)
    model = models.Sequential([
        layers.Conv2D(8, 3, activation="relu", padding="same", input_shape=(12, 12, 1)),
        layers.BatchNormalization(), layers.MaxPooling2D(), layers.Dropout(0.2),
        layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 12, 12, 1)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    before, after = rss_growth(lambda: model.train_on_batch(x, y), steps)
    print(f"training: {steps} steps, RSS {before:.1f} -> {after:.1f} MiB")
    assert after - before < RSS_BOUND_MIB, f"training: RSS {before:.1f} -> {after:.1f} MiB"


def test_training_steps_keep_rss_flat(one_thread):
    check_training(CI_STEPS)


@pytest.mark.slow
def test_training_steps_keep_rss_flat_full():
    check_training(FULL_STEPS)
