"""ReduceLROnPlateau, CSVLogger, TerminateOnNaN, BackupAndRestore, LambdaCallback,
ProgbarLogger, and the order in which fit / evaluate / predict call every hook."""
import csv

import numpy as np
import pytest

from fastconv import callbacks, layers, models, optimizers


def _model_and_data(n=64, lr=0.1, seed=0):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    np.random.seed(seed)
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizers.SGD(lr), "sparse_categorical_crossentropy", ["accuracy"])
    return model, x, y


class FakeModel:
    def __init__(self):
        self.optimizer = optimizers.SGD(1.0)
        self.stop_training = False


def test_reduce_lr_on_plateau_follows_keras():
    callback = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                           cooldown=1, min_lr=0.2, min_delta=0.0)
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    lrs = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": value}
        callback.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == (lrs[-1] if lrs else 1.0)  # the rate before
        lrs.append(model.optimizer.learning_rate)
    # epoch 0 sets the best; 2 epochs without improvement reduce; the cooldown epoch
    # after a reduction counts as the first of the next 2; min_lr stops the last one
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_in_fit():
    model, x, y = _model_and_data()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.ReduceLROnPlateau(monitor="loss", min_delta=100.0, patience=1, factor=0.5)])
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05]  # the rate of each epoch
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_csv_logger(tmp_path):
    model, x, y = _model_and_data()
    path = tmp_path / "logs" / "training.csv"
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.CSVLogger(path)])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "0"]
    assert float(rows[2][2]) == history.history["loss"][1]
    assert len(rows) == 4  # append adds a row, no second header


def test_terminate_on_nan_stops_after_the_batch():
    model, x, y = _model_and_data(lr=1e30)
    x = x * 1e30
    with pytest.warns(RuntimeWarning):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN()])
    assert model.optimizer.iterations < 8


def test_lambda_callback():
    seen = []
    callback = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch)),
        on_batch_end=lambda batch, logs: seen.append(("batch", batch)))
    model, x, y = _model_and_data(32)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    assert seen == [("batch", 0), ("batch", 1), ("epoch", 0)]
    with pytest.raises(TypeError, match="hook"):
        callbacks.LambdaCallback(on_everything=print)


class Crash(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("simulated crash")


def test_backup_and_restore_resumes_bitwise(tmp_path):
    straight, x, y = _model_and_data(seed=5)
    straight.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    straight.fit(x, y, epochs=4, batch_size=16, verbose=0)

    def fresh():
        model, _, _ = _model_and_data(seed=5)
        model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return model
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="simulated"):
        fresh().fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[backup, Crash(1)])
    assert (tmp_path / "backup" / "latest.npz").exists()
    resumed = fresh()
    history = resumed.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3]
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "backup" / "latest.npz").exists()


def test_a_given_progbar_logger_replaces_the_default(capsys):
    model, x, y = _model_and_data()
    model.fit(x, y, epochs=1, verbose=2, callbacks=[callbacks.ProgbarLogger(2)])
    assert len(capsys.readouterr().out.splitlines()) == 1


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


for _hook in [h for h in vars(callbacks.Callback) if h.startswith("on_")
              and h not in ("on_batch_begin", "on_batch_end")]:
    def _record(self, *args, _hook=_hook, **kwargs):
        index = args[0] if args and isinstance(args[0], int) else None
        self.calls.append(_hook if index is None else f"{_hook} {index}")
    setattr(Recorder, _hook, _record)


def test_every_hook_in_keras_order():
    model, x, y = _model_and_data(40)
    recorder = Recorder()
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x[:20], y[:20]),
              callbacks=[recorder])
    epoch = lambda e: [f"on_epoch_begin {e}",  # noqa: E731
                       "on_train_batch_begin 0", "on_train_batch_end 0",
                       "on_train_batch_begin 1", "on_train_batch_end 1",
                       "on_test_begin", "on_test_batch_begin 0", "on_test_batch_end 0",
                       "on_test_end", f"on_epoch_end {e}"]
    assert recorder.calls == ["on_train_begin"] + epoch(0) + epoch(1) + ["on_train_end"]
    recorder.calls.clear()
    model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[recorder])
    assert recorder.calls == ["on_test_begin", "on_test_batch_begin 0", "on_test_batch_end 0",
                              "on_test_batch_begin 1", "on_test_batch_end 1", "on_test_end"]
    recorder.calls.clear()
    model.predict(x, batch_size=32, callbacks=[recorder])
    assert recorder.calls == ["on_predict_begin", "on_predict_batch_begin 0",
                              "on_predict_batch_end 0", "on_predict_batch_begin 1",
                              "on_predict_batch_end 1", "on_predict_end"]
