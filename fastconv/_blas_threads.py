"""The BLAS and OpenMP thread pools of this process, through threadpoolctl.

Why NumPy's BLAS runs on one thread while a model runs on fastconv's OpenMP kernels:
after each call, both BLAS's and OpenMP's worker threads busy-wait for a while; on a
machine with few cores the spinning BLAS pool takes the cores away from the next OpenMP
kernel and the reverse. Measured on 2 cores, one mnist_cnn training step took 84.5 ms
with OpenBLAS's default threads and 29.7 ms with one. The layers' matrix products (Dense)
are small, so one BLAS thread costs them little.

threadpoolctl finds OpenBLAS, MKL and BLIS, and the OpenMP runtimes, on Linux, macOS and
Windows. Its import (3 ms) and its scan of the loaded libraries (2 ms) happen once, at
the first training or inference call, not at `import fastconv`.
"""
import contextlib
import functools

__all__ = ["controller", "single_threaded_blas", "describe_pools"]


@functools.lru_cache(maxsize=None)
def controller():
    """A threadpoolctl controller of the libraries loaded when first called (NumPy's BLAS
    and fastconv's OpenMP runtime are loaded by `import fastconv`)."""
    import threadpoolctl
    return threadpoolctl.ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block (or decorated function) with NumPy's BLAS limited to one thread."""
    with controller().limit(limits=1, user_api="blas"):
        yield


def describe_pools():
    """One line per BLAS or OpenMP library loaded now: API, implementation, version,
    threads, file."""
    import os

    import threadpoolctl
    return [" ".join(str(part) for part in (info["user_api"] + ":", info["internal_api"],
                                            info.get("version")) if part)
            + f" ({info['num_threads']} threads, {os.path.basename(info['filepath'])})"
            for info in threadpoolctl.threadpool_info()]
