"""Background prefetch (fastconv.trainer.prefetch): order kept, bounded read-ahead,
the producer's exceptions raised in the training thread with their traceback, no thread
left behind after a normal end, an early stop, an error or Ctrl-C; and fit with
prefetching equal, bit for bit, to fit without it."""
import os
import signal
import threading
import time
import traceback

import numpy as np
import pytest

from fastconv import callbacks, layers, models, optimizers, utils
from fastconv.preprocessing.image import ImageDataGenerator
from fastconv.trainer.prefetch import MAX_DEPTH, Prefetcher, prefetch_depth


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "fastconv-prefetch"]


@pytest.fixture(autouse=True)
def no_thread_left():
    yield
    assert not prefetch_threads(), "a prefetch thread outlived its test"


def counting(n, log, fail_at=None, delay=0.0):
    """A generator of 0..n-1 that logs what it made and where it ran."""
    try:
        for i in range(n):
            if i == fail_at:
                raise ArithmeticError(f"bad batch {i}")
            time.sleep(delay)
            log.append((i, threading.current_thread().name))
            yield i
    finally:
        log.append(("closed", threading.current_thread().name))


def test_items_arrive_in_order_from_another_thread():
    log = []
    with Prefetcher(counting(50, log)) as items:
        assert list(items) == list(range(50))
    assert {name for _, name in log} == {"fastconv-prefetch"}


def test_read_ahead_is_bounded():
    log = []
    with Prefetcher(counting(20, log), depth=1) as items:
        next(items)
        time.sleep(0.3)  # the producer runs ahead as far as it may
        made = sum(1 for i, _ in log if i != "closed")
    assert made <= 1 + 1 + 1  # the one taken, one in the queue, one waiting to go in


def test_producer_exception_is_raised_with_its_traceback():
    log = []
    received = []
    with pytest.raises(ArithmeticError, match="bad batch 3") as caught:
        with Prefetcher(counting(10, log, fail_at=3)) as items:
            for item in items:
                received.append(item)
    assert received == [0, 1, 2]
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert "counting" in frames  # the producer's frame is kept


def test_leaving_early_stops_the_producer_and_closes_the_source():
    log = []
    with Prefetcher(counting(1000, log)) as items:
        for item in items:
            if item == 2:
                break
    assert ("closed", "fastconv-prefetch") in log  # closed in its own thread
    assert len(log) < 10


def test_keyboard_interrupt_in_the_consumer_stops_the_producer():
    log = []
    with pytest.raises(KeyboardInterrupt):
        with Prefetcher(counting(1000, log)) as items:
            next(items)
            raise KeyboardInterrupt
    assert log[-1][0] == "closed"


def test_on_wait_is_called_while_waiting_and_may_interrupt():
    waits = []

    def on_wait():
        waits.append(1)
        if len(waits) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with Prefetcher(counting(5, [], delay=1.0), on_wait=on_wait) as items:
            list(items)
    assert len(waits) == 3


def test_prefetch_depth():
    assert prefetch_depth(1, 10) == MAX_DEPTH
    assert prefetch_depth(4, 1) == 1
    assert prefetch_depth(0, 10) == 0
    for workers, size in ((-1, 10), (1, -1), (1.5, 10), (True, 10)):
        with pytest.raises(ValueError, match="workers|max_queue_size"):
            prefetch_depth(workers, size)


# -- in fit ----------------------------------------------------------------------------------
def data(n=48):
    rng = np.random.default_rng(0)
    x = rng.random((n, 8, 8, 1)).astype(np.float32)
    return x, (x[:, 2:6, 2:6, 0].mean(axis=(1, 2)) > 0.5).astype(np.int64)


def model():
    np.random.seed(3)
    m = models.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                           layers.Flatten(), layers.Dropout(0.2),
                           layers.Dense(2, activation="softmax")])
    m.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    return m


def generator(x, y, batch_size=8, log=None):
    while True:
        for i in range(0, len(x), batch_size):
            if log is not None:
                log.append(threading.current_thread().name)
            yield x[i:i + batch_size], y[i:i + batch_size]


class Batches(utils.PyDataset):
    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x, y

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.x[i * 8:(i + 1) * 8], self.y[i * 8:(i + 1) * 8]


def trained(source, **fit_kwargs):
    m = model()
    x, y = data()
    history = m.fit(source(x, y), epochs=3, verbose=0, validation_data=source(x, y),
                    **fit_kwargs)
    return m.get_weights(), history.history


@pytest.mark.parametrize("source", [
    lambda x, y: ImageDataGenerator(rotation_range=20, zoom_range=0.1, horizontal_flip=True)
    .flow(x, y, batch_size=8, seed=1),
    lambda x, y: Batches(x, y)])
def test_fit_with_prefetch_equals_fit_without(source):
    with_prefetch = trained(source, validation_steps=2)
    without = trained(source, validation_steps=2, workers=0)
    assert all(np.array_equal(a, b) for a, b in zip(with_prefetch[0], without[0]))
    assert with_prefetch[1] == without[1]


def test_generator_in_fit_equals_without_prefetch_and_workers_zero_stays_in_thread():
    x, y = data()
    runs = {}
    for workers in (1, 0):
        log = []
        m = model()
        m.fit(generator(x, y, log=log), steps_per_epoch=6, epochs=2, verbose=0,
              workers=workers)
        runs[workers] = (m.get_weights(), set(log))
    assert all(np.array_equal(a, b) for a, b in zip(runs[1][0], runs[0][0]))
    assert runs[1][1] == {"fastconv-prefetch"}
    assert runs[0][1] == {threading.main_thread().name}


def test_pydataset_workers_zero_switches_prefetch_off():
    x, y = data()
    made_in = []

    class Logged(Batches):
        def __getitem__(self, i):
            made_in.append(threading.current_thread().name)
            return super().__getitem__(i)

    model().fit(Logged(x, y, workers=0), epochs=1, verbose=0)
    assert set(made_in) == {threading.main_thread().name}


def test_early_stop_leaves_no_thread():
    x, y = data()
    stop = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch == 1 and setattr(m, "stop_training", True))
    m = model()
    history = m.fit(generator(x, y), steps_per_epoch=6, epochs=5, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 1


def test_generator_error_in_fit_is_raised_with_its_traceback():
    x, y = data()

    def failing():
        yield x[:8], y[:8]
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone") as caught:
        model().fit(failing(), steps_per_epoch=3, epochs=1, verbose=0)
    assert "failing" in [f.name for f in traceback.extract_tb(caught.value.__traceback__)]


def test_error_in_a_callback_stops_the_producer():
    x, y = data()
    boom = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        model().fit(generator(x, y), steps_per_epoch=6, epochs=2, verbose=0, callbacks=[boom])


def test_ctrl_c_while_waiting_for_a_slow_generator():
    """The interrupt is raised while fit waits for the next batch, not after it."""
    x, y = data()

    def slow():
        yield x[:8], y[:8]
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        yield x[8:16], y[8:16]
        time.sleep(30)  # never reached: fit stops before asking for this batch
        yield x[16:24], y[16:24]

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model().fit(slow(), steps_per_epoch=3, epochs=1, verbose=0)
    assert time.perf_counter() - start < 10
