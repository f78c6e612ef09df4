"""Thread count and build/run-time configuration of the compiled kernels.

Threads: set_num_threads(n), else OMP_NUM_THREADS, else the cores this process may
run on; and no more than `threadpoolctl.threadpool_limits(n, "openmp")` allows while it
is in force. The kernels give bitwise the same results for any thread count.

Forked children: GNU OpenMP (libgomp) is not fork-safe. Once a process has run a
kernel on several threads, a child it forks (os.fork, multiprocessing's "fork" start
method) hangs in its first multi-threaded kernel call: the child inherits the state of a
thread pool whose threads it does not have. So in such a child every kernel runs on one
thread, whatever set_num_threads or OMP_NUM_THREADS say, and show_config() says so.
Children forked before any multi-threaded call, and "spawn"/"forkserver" workers, are
fresh processes and use threads as usual.
"""
import os
import warnings

from fastconv import _blas_threads
from fastconv._validate import as_int
from fastconv._kernels import _conv, _openmp_helpers

# More threads than this is a typo, not a machine: OpenMP would try to start them all.
MAX_THREADS = 1024

_requested_threads = None
# Set once a kernel has been given more than one thread: from then on this process holds
# an OpenMP thread pool that a forked child cannot use.
_pool_started = False
# Set in a child forked after that: its kernels must stay on one thread.
_forked_after_pool = False


def _after_fork_in_child():
    global _forked_after_pool
    _forked_after_pool = _forked_after_pool or _pool_started


os.register_at_fork(after_in_child=_after_fork_in_child)


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _env_threads():
    """OMP_NUM_THREADS as an int (its first entry), or None if unset or not a positive int."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


# The OpenMP runtime's own thread count when nobody changed it: OMP_NUM_THREADS as it was
# when the runtime loaded (with fastconv's kernels), else the cores. threadpoolctl's
# "openmp" limits set it lower; the kernels pass their own count to every parallel
# region, so they read it and stay under it.
_OPENMP_DEFAULT = _env_threads() or _available_cores()


def _openmp_limit():
    """threadpoolctl's "openmp" limit in force now, or None. Asked of the runtime directly
    (0.1 us), not through threadpoolctl (3 us): this runs before every kernel call."""
    limit = _openmp_helpers.openmp_max_threads()
    return limit if 0 < limit < _OPENMP_DEFAULT else None


def set_num_threads(n):
    """Use n OpenMP threads in every kernel call (an int from 1 to MAX_THREADS).

    In a child forked after its parent ran multi-threaded kernels, the kernels stay on
    one thread (see the module docstring) and n > 1 warns.
    """
    global _requested_threads
    n = as_int("n", n)
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"number of threads must be between 1 and {MAX_THREADS}, got {n}")
    if n > 1 and _forked_after_pool:
        warnings.warn(f"set_num_threads({n}) in a forked child of a process that ran "
                      f"multi-threaded kernels: GNU OpenMP would hang here, so the kernels "
                      f"stay on 1 thread (use multiprocessing's 'spawn' start method for "
                      f"multi-threaded workers)", RuntimeWarning, stacklevel=2)
    _requested_threads = n


def get_num_threads():
    """The number of threads the next kernel call will use (1 in a serial build, and in
    a child forked after multi-threaded kernel calls; at most the limit of a
    `threadpoolctl.threadpool_limits(n, "openmp")` block)."""
    global _pool_started
    if _forked_after_pool or not _openmp_helpers.openmp_enabled():
        return 1
    n = min(_requested_threads or _env_threads() or _available_cores(), MAX_THREADS,
            _openmp_limit() or MAX_THREADS)
    # fastconv.ops asks right before each kernel call: a pool of n threads now exists.
    _pool_started = _pool_started or n > 1
    return n


def set_conv_algorithm(name):
    """The convolution algorithm from now on (the start value comes from the
    FASTCONV_CONV_ALGORITHM environment variable, else "auto"):

    - "auto": Winograd's minimal filtering, F(2x2, 3x3) or F(4x4, 3x3), for the 3x3
      stride-1 forward and backward-input passes where the cost model expects it to be
      faster (many channels), the direct algorithm everywhere else;
    - "direct": the direct algorithm everywhere (exact to float rounding of the plain sum);
    - "winograd": Winograd for every 3x3 stride-1 undilated ungrouped 2-D forward and
      backward-input pass it can run, direct for the rest.

    Winograd's float32 results differ from the direct ones by rounding (measured at most
    ~1e-5 of the output's largest magnitude); each algorithm's results are bitwise the
    same for any thread count.
    """
    if not isinstance(name, str):
        raise TypeError(f"algorithm must be a str, one of {list(_conv.ALGORITHMS)}, got "
                        f"{type(name).__name__}")
    _conv.set_conv_algorithm(name)


def get_conv_algorithm():
    """The convolution algorithm setting: "auto", "direct" or "winograd"."""
    return _conv.get_conv_algorithm()


def _threads_note():
    if _forked_after_pool:
        return " (forked child of a multi-threaded process: GNU OpenMP is not fork-safe)"
    return ""


def show_config(file=None):
    """Print the version, OpenMP status, thread count, the kernel variant and the
    convolution algorithm setting in use, and the BLAS and OpenMP libraries loaded in
    this process with their thread counts."""
    from fastconv import __version__
    lines = [
        f"fastconv {__version__}",
        f"  OpenMP:         {'on' if _openmp_helpers.openmp_enabled() else 'off (serial build)'}",
        f"  threads:        {get_num_threads()} (cores available: {_available_cores()})"
        f"{_threads_note()}",
        f"  conv kernel:    {_conv.kernel_variant()} "
        f"(supported here: {', '.join(_conv.supported_variants())})",
        f"  conv algorithm: {_conv.get_conv_algorithm()} (set_conv_algorithm: auto, direct, "
        f"winograd)",
        "  thread pools (threadpoolctl):",
    ] + [f"    {line}" for line in _blas_threads.describe_pools()]
    print("\n".join(lines), file=file)
