"""Data sets in the Keras layout: `mnist.load_data()`, `fashion_mnist.load_data()`.

Each returns ((x_train, y_train), (x_test, y_test)) as uint8 arrays, cached in
$FASTCONV_DATA (else ~/.cache/fastconv) and checked by SHA-256. Needs only NumPy.
"""
from fastconv.datasets import fashion_mnist, mnist
from fastconv.datasets._cache import HashMismatchError
from fastconv.datasets._sources import DatasetUnavailableError

__all__ = ["mnist", "fashion_mnist", "HashMismatchError", "DatasetUnavailableError"]
