"""Thread pools through threadpoolctl: NumPy's BLAS runs on one thread while a model
trains and is restored afterwards; `threadpool_limits(n, "openmp")` caps the kernels;
show_config() lists the BLAS and OpenMP libraries."""
import numpy as np
import pytest
import threadpoolctl

import fastconv
import fastconv.reference
from fastconv import callbacks, config, layers, models
from fastconv._blas_threads import single_threaded_blas

OPENMP = config._openmp_helpers.openmp_enabled()


def blas_threads():
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"]


needs_blas = pytest.mark.skipif(not blas_threads(), reason="threadpoolctl finds no BLAS")


@pytest.fixture
def restore_threads():
    saved = config._requested_threads
    yield
    config._requested_threads = saved


@needs_blas
def test_single_threaded_blas_limits_and_restores():
    with threadpoolctl.threadpool_limits(2, "blas"):  # a known starting point
        with single_threaded_blas():
            assert blas_threads() == [1] * len(blas_threads())
        assert blas_threads() == [2] * len(blas_threads())


class RecordBlasThreads(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(blas_threads())


@needs_blas
def test_fit_trains_with_one_blas_thread():
    record = RecordBlasThreads()
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with threadpoolctl.threadpool_limits(2, "blas"):
        model.fit(np.ones((8, 4), np.float32), np.zeros(8), batch_size=4, verbose=0,
                  callbacks=[record])
        assert blas_threads() == [2] * len(blas_threads())
    assert record.seen and all(s == [1] * len(s) for s in record.seen)


@pytest.mark.skipif(not OPENMP, reason="serial build: the kernels always run on 1 thread")
@pytest.mark.parametrize("requested", [None, 3])
def test_threadpool_limits_openmp_caps_the_kernels(requested, restore_threads):
    config._requested_threads = requested
    before = fastconv.get_num_threads()
    with threadpoolctl.threadpool_limits(1, "openmp"):
        assert fastconv.get_num_threads() == 1
        x = np.random.default_rng(0).random((2, 6, 6, 3), dtype=np.float32)
        w = np.random.default_rng(1).random((3, 3, 3, 4), dtype=np.float32)
        np.testing.assert_allclose(fastconv.conv2d(x, w), fastconv.reference.conv2d(x, w),
                                   rtol=1e-5, atol=1e-5)
    assert fastconv.get_num_threads() == before


def test_show_config_lists_blas_and_openmp_libraries(capsys):
    fastconv.show_config()
    out = capsys.readouterr().out
    assert "thread pools (threadpoolctl)" in out
    for info in threadpoolctl.threadpool_info():
        assert f"{info['user_api']}: {info['internal_api']}" in out
        assert f"({info['num_threads']} threads" in out
    if OPENMP:
        assert "openmp: " in out
