"""Kernels called from several Python threads at once, in a child after os.fork(), and in
multiprocessing workers ("fork" and "spawn") give the reference's results and never hang
(GNU OpenMP hangs a forked child's first multi-threaded call: fastconv.config keeps such
children on one thread). Every wait has a timeout, and the watchdog ends a hung run."""
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import fastconv
from fastconv import config, reference
from child_process import child_env
from kernel_cases import assert_close

# A kernel call here takes milliseconds: far beyond these means a hang.
CHILD_TIMEOUT = 60
WATCHDOG_SECONDS = 300
# What set_num_threads(2) gives outside forked children.
TWO = 2 if config._openmp_helpers.openmp_enabled() else 1
# A serial build starts no OpenMP pool: a forked child has nothing to fall back from.
needs_openmp = pytest.mark.skipif(TWO == 1, reason="serial build: one thread everywhere")


@pytest.fixture
def two_threads():
    saved = config._requested_threads
    fastconv.set_num_threads(2)
    yield
    config._requested_threads = saved


def case(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 11, 10, 6)).astype(np.float32)
    w = rng.standard_normal((3, 3, 6, 20)).astype(np.float32)
    return x, w


def all_kernels(module, x, w):
    """Every kernel once, on the given implementation."""
    y = module.conv2d(x, w, None, 1, "same")
    return [y, *module.conv2d_backward(y, x, w, 1, "same"), module.pool2d(y, 3, 1),
            module.pool2d_backward(module.pool2d(y), y)]


def matches_reference(seed):
    x, w = case(seed)
    for got, want in zip(all_kernels(fastconv, x, w), all_kernels(reference, x, w)):
        assert_close(got, want.astype(np.float64))
    return fastconv.get_num_threads()


def test_concurrent_calls_from_python_threads_match_the_reference(two_threads, watchdog):
    watchdog(WATCHDOG_SECONDS)
    errors = []

    def work(seed):
        try:
            for i in range(10):
                matches_reference(seed * 100 + i)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CHILD_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


def wait_for_child(pid):
    """The child's exit code; kills it and fails if it runs past CHILD_TIMEOUT."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {CHILD_TIMEOUT} s")


@needs_openmp
def test_a_forked_child_keeps_working_after_the_parent_ran_threads(two_threads, watchdog):
    watchdog(WATCHDOG_SECONDS)
    matches_reference(0)  # the parent now holds an OpenMP thread pool
    pid = os.fork()
    if pid == 0:  # the child: any exception must end it with a failing code
        code = 1
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fastconv.set_num_threads(2)
            assert any("forked child" in str(w.message) for w in caught)
            assert matches_reference(1) == 1
            code = 0
        finally:
            os._exit(code)
    assert wait_for_child(pid) == 0
    assert matches_reference(2) == TWO, "the parent keeps its threads"


FRESH_PARENT = """
import os, sys
import numpy as np
import fastconv
fastconv.set_num_threads(2)
x = np.ones((2, 9, 9, 4), np.float32)
w = np.ones((3, 3, 4, 8), np.float32)
pid = os.fork()  # before any multi-threaded call: the child may use threads
if pid == 0:
    ok = fastconv.get_num_threads() == 2 and (fastconv.conv2d(x, w) == 36).all()
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@needs_openmp
def test_a_child_forked_before_any_threads_were_started_keeps_its_threads(tmp_path):
    run = subprocess.run([sys.executable, "-c", FRESH_PARENT], timeout=CHILD_TIMEOUT,
                         capture_output=True, text=True, env=child_env(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def worker(seed):
    """A multiprocessing task: check the kernels, report the threads they used."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the forked-child warning
        fastconv.set_num_threads(2)
    return matches_reference(seed)


@pytest.mark.parametrize("method, threads", [("fork", 1), ("spawn", TWO)])
def test_multiprocessing_workers(method, threads, two_threads, watchdog):
    watchdog(WATCHDOG_SECONDS)
    matches_reference(0)  # threads started before the pool forks its workers
    with multiprocessing.get_context(method).Pool(2) as pool:
        used = pool.map_async(worker, range(4)).get(CHILD_TIMEOUT)
    assert used == [threads] * 4


@needs_openmp
def test_show_config_names_a_forked_child(two_threads, watchdog, capfd):
    watchdog(WATCHDOG_SECONDS)
    matches_reference(0)
    pid = os.fork()
    if pid == 0:
        fastconv.show_config()
        sys.stdout.flush()  # os._exit does not
        os._exit(0)
    assert wait_for_child(pid) == 0
    assert "forked child" in capfd.readouterr().out
