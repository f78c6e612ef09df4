"""Keep NumPy's BLAS on one thread while a model runs on fastconv's OpenMP kernels.

After each call, both OpenBLAS's and OpenMP's worker threads busy-wait for a while; on a
machine with few cores the spinning BLAS pool takes the cores away from the next OpenMP
kernel and the reverse. Measured on 2 cores, one mnist_cnn training step took 84.5 ms
with OpenBLAS's default threads and 29.7 ms with one. The layers' matrix products (Dense)
are small, so one BLAS thread costs them little. OpenBLAS is found among the loaded
libraries (/proc/self/maps, as threadpoolctl does); elsewhere this does nothing.
"""
import contextlib
import ctypes
import functools
import os

# (setter, getter) names: NumPy's bundled scipy-openblas (64-bit ints), then plain OpenBLAS.
_OPENBLAS_SYMBOLS = [("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                     ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                     ("openblas_set_num_threads", "openblas_get_num_threads")]


@functools.lru_cache(maxsize=None)
def _openblas_controls():
    """(set_num_threads, get_num_threads) of every OpenBLAS loaded in this process."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return ()
    controls = []
    for path in sorted(p for p in paths if "openblas" in os.path.basename(p).lower()):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in _OPENBLAS_SYMBOLS:
            if hasattr(lib, setter) and hasattr(lib, getter):
                controls.append((getattr(lib, setter), getattr(lib, getter)))
                break
    return tuple(controls)


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block (or decorated function) with OpenBLAS limited to one thread."""
    controls = _openblas_controls()
    saved = [get() for _, get in controls]
    for set_threads, _ in controls:
        set_threads(1)
    try:
        yield
    finally:
        for (set_threads, _), n in zip(controls, saved):
            set_threads(n)
