"""NumPy's OpenBLAS runs on one thread while a model trains, and is restored afterwards."""
import numpy as np
import pytest

from fastconv import callbacks, layers, models
from fastconv._blas_threads import _openblas_controls, single_threaded_blas

CONTROLS = _openblas_controls()
pytestmark = pytest.mark.skipif(not CONTROLS, reason="NumPy is not linked to OpenBLAS here")


def blas_threads():
    return [get() for _, get in CONTROLS]


def test_single_threaded_blas_limits_and_restores():
    before = blas_threads()
    with single_threaded_blas():
        assert blas_threads() == [1] * len(CONTROLS)
    assert blas_threads() == before


class RecordBlasThreads(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(blas_threads())


def test_fit_trains_with_one_blas_thread():
    record = RecordBlasThreads()
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = blas_threads()
    model.fit(np.ones((8, 4), np.float32), np.zeros(8), batch_size=4, verbose=0,
              callbacks=[record])
    assert record.seen and all(s == [1] * len(CONTROLS) for s in record.seen)
    assert blas_threads() == before
