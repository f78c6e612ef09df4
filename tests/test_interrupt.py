"""Ctrl-C during fit: training stops when the running batch is done (never half an
optimizer update), the KeyboardInterrupt propagates as in Keras, model.history keeps the
completed epochs, and checkpoint files stay valid."""
import os
import signal

import numpy as np
import pytest

from fastconv import callbacks, layers, models, optimizers

BATCH, SAMPLES = 8, 40  # 5 steps per epoch
STOP_EPOCH, STOP_STEP = 1, 2  # the interrupt arrives in the 3rd batch of the 2nd epoch


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((SAMPLES, 6, 6, 1)).astype(np.float32), rng.integers(0, 3, SAMPLES)


def model():
    np.random.seed(1)
    m = models.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)),
                           layers.Flatten(), layers.Dropout(0.3),
                           layers.Dense(3, activation="softmax")])
    m.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    return m


class At(callbacks.Callback):
    """Calls action() at on_train_batch_begin or _end of (STOP_EPOCH, STOP_STEP)."""

    def __init__(self, hook, action):
        super().__init__()
        self.hook, self.action, self.epoch = hook, action, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.hook == "begin" and (self.epoch, batch) == (STOP_EPOCH, STOP_STEP):
            self.action()

    def on_train_batch_end(self, batch, logs=None):
        if self.hook == "end" and (self.epoch, batch) == (STOP_EPOCH, STOP_STEP):
            self.action()


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(scope="module")
def expected():
    """Weights and optimizer step count of an uninterrupted run at the end of the batch
    the interrupt arrives in."""
    m, x, y = model(), *data()
    seen = {}
    m.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=[At("end", lambda: seen.update(
        weights=m.get_weights(), iterations=m.optimizer.iterations))])
    return seen


def interrupted_fit(m, extra_callbacks=()):
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=list(extra_callbacks))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def assert_stopped_after_the_batch(m, expected):
    for got, want in zip(m.get_weights(), expected["weights"]):
        np.testing.assert_array_equal(got, want)
    assert m.optimizer.iterations == expected["iterations"]
    assert m.epoch == STOP_EPOCH
    assert len(m.history.history["loss"]) == STOP_EPOCH, "the completed epochs are kept"


def test_ctrl_c_before_a_batch_stops_after_it(expected):
    m = model()
    interrupted_fit(m, [At("begin", ctrl_c)])
    assert_stopped_after_the_batch(m, expected)


def test_ctrl_c_in_the_middle_of_an_update_completes_the_update(expected):
    m = model()
    calls = []
    arrays = len(m.get_weights())  # all trainable here: one update_step call each per step
    step = STOP_EPOCH * SAMPLES // BATCH + STOP_STEP

    def update_step_then_ctrl_c(*args):
        optimizers.Adam.update_step(m.optimizer, *args)
        calls.append(1)
        if len(calls) == step * arrays + 1:  # after the step's first array, before the rest
            ctrl_c()

    m.optimizer.update_step = update_step_then_ctrl_c
    interrupted_fit(m)
    assert_stopped_after_the_batch(m, expected)


def test_checkpoints_written_before_and_during_the_interrupt_load(tmp_path, monkeypatch):
    m = model()
    path = str(tmp_path / "ckpt-{epoch}.npz")
    real_save = models.Sequential.save

    def save_then_ctrl_c(self, filepath):
        if filepath.endswith("ckpt-2.npz"):
            ctrl_c()  # arrives while the second checkpoint is being written
        real_save(self, filepath)

    monkeypatch.setattr(models.Sequential, "save", save_then_ctrl_c)
    interrupted_fit(m, [callbacks.ModelCheckpoint(path)])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.npz", "ckpt-2.npz"]
    for epoch in (1, 2):
        assert models.load_model(tmp_path / f"ckpt-{epoch}.npz").epoch == epoch
    assert m.epoch == 2 and len(m.history.history["loss"]) == 2


def test_a_users_sigint_handler_is_left_alone():
    seen = []

    def handler(signum, frame):
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        m, (x, y) = model(), data()
        m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[At("begin", ctrl_c)])
        m.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[At("begin", ctrl_c)])
        assert seen == [signal.SIGINT] and signal.getsignal(signal.SIGINT) is handler
        assert m.epoch == 2, "the user's handler did not stop training"
    finally:
        signal.signal(signal.SIGINT, previous)
