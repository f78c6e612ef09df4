"""fastconv: fast CPU convolution and pooling kernels (Cython + OpenMP) for channels-last
arrays, and a Keras-style API to train small CNNs with them.

Kernel API (same signatures in fastconv.reference, the plain-NumPy baseline):
conv2d, conv2d_backward, conv2d_transpose, conv2d_transpose_backward, conv3d,
conv3d_backward, conv1d, conv1d_backward, pool2d, pool2d_backward, pool3d,
pool3d_backward, set_num_threads, get_num_threads, show_config.

Keras-style API: fastconv.layers, models (Sequential, load_model), optimizers, losses,
metrics, callbacks, initializers, activations, datasets (mnist, fashion_mnist), utils.
"""
__version__ = "0.1.0"

try:
    from fastconv._kernels import _conv, _openmp_helpers, _pool  # noqa: F401
except ImportError as exc:  # running from a source tree that was never built
    raise ImportError(
        "fastconv's compiled kernels are missing: install the package with `pip install .` "
        "(or build in place with `python setup.py build_ext --inplace`). "
        f"Original error: {exc}") from exc

from fastconv.config import get_num_threads, set_num_threads, show_config
from fastconv.ops import (conv1d, conv1d_backward, conv2d, conv2d_backward, conv2d_transpose,
                          conv2d_transpose_backward, conv3d, conv3d_backward, pool2d,
                          pool2d_backward, pool3d, pool3d_backward)

# The Keras-style API, reachable as attributes (fastconv.layers.Conv2D, ...) as in Keras.
from fastconv import (activations, callbacks, datasets, initializers, layers, losses,  # noqa: E402
                      metrics, models, optimizers, utils)

__all__ = ["conv2d", "conv2d_backward", "conv2d_transpose", "conv2d_transpose_backward",
           "conv3d", "conv3d_backward", "pool3d", "pool3d_backward", "conv1d", "conv1d_backward", "pool2d",
           "pool2d_backward", "set_num_threads", "get_num_threads", "show_config",
           "__version__"]
