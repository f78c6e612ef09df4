"""fastconv: fast CPU convolution and pooling kernels (Cython + OpenMP) for channels-last
arrays, and a Keras-style API to train small CNNs with them.

Kernel API (same signatures in fastconv.reference, the plain-NumPy baseline):
conv2d, conv2d_backward, conv2d_transpose, conv2d_transpose_backward, conv3d,
conv3d_backward, conv1d, conv1d_backward, pool2d, pool2d_backward, pool3d,
pool3d_backward, set_num_threads, get_num_threads, set_conv_algorithm,
get_conv_algorithm, show_config.

Keras-style API (each module imported on first use): fastconv.Input, Model, Sequential;
fastconv.layers, models (Sequential, Model, load_model), optimizers, losses, metrics,
callbacks, initializers, regularizers, constraints, activations, datasets (mnist,
fashion_mnist), utils, backend, export (ONNX), distribute (MPIStrategy: data-parallel
training over MPI).
"""
__version__ = "0.1.0"

try:
    from fastconv._kernels import _conv, _openmp_helpers, _pool  # noqa: F401
except ImportError as exc:  # running from a source tree that was never built
    raise ImportError(
        "fastconv's compiled kernels are missing: install the package with `pip install .` "
        "(or build in place with `python setup.py build_ext --inplace`). "
        f"Original error: {exc}") from exc

from fastconv.config import (get_conv_algorithm, get_num_threads, set_conv_algorithm,
                             set_num_threads, show_config)
from fastconv.ops import (conv1d, conv1d_backward, conv2d, conv2d_backward, conv2d_transpose,
                          conv2d_transpose_backward, conv3d, conv3d_backward, pool2d,
                          pool2d_backward, pool3d, pool3d_backward)

# The Keras-style API is reachable as attributes (fastconv.layers.Conv2D, ...) as in Keras,
# each imported on first use: `import fastconv` then costs NumPy plus the kernels, and a
# program pays for the data-set downloaders (urllib, ssl) or the exporter only if it uses them.
_LAZY_SUBMODULES = ("activations", "backend", "callbacks", "constraints", "datasets",
                    "distribute", "export", "initializers", "layers", "losses", "metrics",
                    "models", "optimizers", "regularizers", "utils")
# keras.Input, keras.Model and keras.Sequential, from the module that defines them.
_LAZY_NAMES = {"Input": "layers", "Model": "models", "Sequential": "models"}


def __getattr__(name):
    import importlib
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"fastconv.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"fastconv.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'fastconv' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES))


__all__ = ["conv2d", "conv2d_backward", "conv2d_transpose", "conv2d_transpose_backward",
           "conv3d", "conv3d_backward", "pool3d", "pool3d_backward", "conv1d", "conv1d_backward", "pool2d",
           "pool2d_backward", "set_num_threads", "get_num_threads", "set_conv_algorithm",
           "get_conv_algorithm", "show_config",
           "Input", "Model", "Sequential", "__version__"]
