"""Thread count and build/run-time configuration of the compiled kernels.

Threads: set_num_threads(n), else OMP_NUM_THREADS, else the cores this process may
run on. The kernels give bitwise the same results for any thread count.
"""
import os

from fastconv._args import as_int
from fastconv._kernels import _conv, _openmp_helpers

# More threads than this is a typo, not a machine: OpenMP would try to start them all.
MAX_THREADS = 1024

_requested_threads = None


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _env_threads():
    """OMP_NUM_THREADS as an int (its first entry), or None if unset or not a positive int."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def set_num_threads(n):
    """Use n OpenMP threads in every kernel call (an int from 1 to MAX_THREADS)."""
    global _requested_threads
    n = as_int("n", n)
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"number of threads must be between 1 and {MAX_THREADS}, got {n}")
    _requested_threads = n


def get_num_threads():
    """The number of threads the next kernel call will use (1 in a serial build)."""
    if not _openmp_helpers.openmp_enabled():
        return 1
    n = _requested_threads or _env_threads() or _available_cores()
    return min(n, MAX_THREADS)


def show_config(file=None):
    """Print the version, OpenMP status, thread count and the kernel variant in use."""
    from fastconv import __version__
    lines = [
        f"fastconv {__version__}",
        f"  OpenMP:         {'on' if _openmp_helpers.openmp_enabled() else 'off (serial build)'}",
        f"  threads:        {get_num_threads()} (cores available: {_available_cores()})",
        f"  conv kernel:    {_conv.kernel_variant()} "
        f"(supported here: {', '.join(_conv.supported_variants())})",
    ]
    print("\n".join(lines), file=file)
