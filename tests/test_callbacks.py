"""Callbacks and the progress display."""
import io

import numpy as np
import pytest

from fastconv import callbacks, layers, models, optimizers
from fastconv._progress import ProgressBar


class FakeModel:
    """What EarlyStopping and ModelCheckpoint touch: weights, stop_training, save."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(1)]
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = weights

    def save(self, path):
        self.saved.append(path)


def _drive(callback, values, key="val_loss"):
    """Run epochs whose logs hold `values`; the fake weights record the epoch."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.array([epoch])]
        callback.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            break
    callback.on_train_end()
    return model, epoch


def _model_and_data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
    return model, x, y


class TestEarlyStopping:
    def test_stops_after_patience_epochs_without_improvement(self):
        _, last_epoch = _drive(callbacks.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.93, 0.5])
        assert last_epoch == 3

    def test_restores_the_best_weights(self):
        model, _ = _drive(callbacks.EarlyStopping(patience=1, restore_best_weights=True),
                          [1.0, 0.5, 0.7, 0.8, 0.1])
        assert model.weights[0][0] == 1

    def test_mode_auto_maximises_accuracy(self):
        _, last_epoch = _drive(callbacks.EarlyStopping(monitor="val_accuracy", patience=0),
                               [0.5, 0.6, 0.55, 0.9], key="val_accuracy")
        assert last_epoch == 2

    def test_min_delta(self):
        _, last_epoch = _drive(callbacks.EarlyStopping(patience=0, min_delta=0.1),
                               [1.0, 0.95, 0.5])
        assert last_epoch == 1

    def test_missing_monitor_warns(self):
        with pytest.warns(RuntimeWarning, match="val_loss"):
            _drive(callbacks.EarlyStopping(), [1.0], key="loss")

    def test_stops_fit(self):
        model, x, y = _model_and_data()
        history = model.fit(x, y, epochs=20, verbose=0, callbacks=[
            callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)])
        assert len(history.epoch) == 2


class TestModelCheckpoint:
    def test_saves_every_epoch_with_formatted_names(self):
        model, _ = _drive(callbacks.ModelCheckpoint("ckpt-{epoch:02d}-{val_loss:.1f}.npz"),
                          [0.5, 0.25])
        assert model.saved == ["ckpt-01-0.5.npz", "ckpt-02-0.2.npz"]

    def test_save_best_only(self):
        model, _ = _drive(callbacks.ModelCheckpoint("best-{epoch}.npz", save_best_only=True),
                          [0.5, 0.7, 0.4, 0.45])
        assert model.saved == ["best-1.npz", "best-3.npz"]

    def test_writes_loadable_models_during_fit(self, tmp_path):
        model, x, y = _model_and_data()
        path = tmp_path / "best.npz"
        model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[
            callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)])
        loaded = models.load_model(path)
        assert loaded.evaluate(x, y, verbose=0)[1] == pytest.approx(
            max(model.history.history["val_accuracy"]))


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model, x, y = _model_and_data()
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return 0.1 / (epoch + 1)

    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(schedule)])
    assert seen == pytest.approx([0.1, 0.1, 0.05])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_custom_callback_sees_every_hook():
    calls = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            calls.append(f"batch {batch} {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model, x, y = _model_and_data(40)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Recorder()])
    assert calls == ["train_begin", "epoch_begin 0", "batch 0 ['accuracy', 'loss']",
                     "batch 1 ['accuracy', 'loss']", "epoch_end 0 ['accuracy', 'loss']",
                     "train_end"]


def test_batch_aliases_are_called_for_every_training_batch():
    calls = []

    class OldStyle(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, sorted(logs)))

    model, x, y = _model_and_data(40)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[OldStyle()])
    one_epoch = [("begin", 0), ("end", 0, ["accuracy", "loss"]), ("begin", 1),
                 ("end", 1, ["accuracy", "loss"]), ("begin", 2),
                 ("end", 2, ["accuracy", "loss"])]
    assert calls == one_epoch * 2


def test_stop_training_in_a_batch_hook_stops_after_that_batch():
    batches, epochs_ended = [], []

    class StopAtBatch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if batch == 1:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            epochs_ended.append(epoch)

    model, x, y = _model_and_data(160)
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[StopAtBatch()])
    assert batches == [0, 1]
    assert epochs_ended == [0]  # the epoch still ends (Keras), then training stops
    assert model.optimizer.iterations == 2


def test_model_checkpoint_creates_missing_folders(tmp_path):
    model, x, y = _model_and_data()
    path = tmp_path / "runs" / "one" / "ckpt-{epoch:02d}.npz"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(path))])
    assert sorted(p.name for p in (tmp_path / "runs" / "one").iterdir()) == [
        "ckpt-01.npz", "ckpt-02.npz"]
    loaded = models.load_model(tmp_path / "runs" / "one" / "ckpt-02.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_save_errors_name_the_users_path(tmp_path):
    model, _, _ = _model_and_data()
    (tmp_path / "a_file").write_text("")
    dest = tmp_path / "a_file" / "model.npz"
    with pytest.raises(OSError, match="a_file/model.npz") as info:
        model.save(dest)
    assert ".fastconv-" not in str(info.value)


def test_non_callbacks_are_refused():
    model, x, y = _model_and_data()
    with pytest.raises(TypeError, match="Callback"):
        model.fit(x, y, verbose=0, callbacks=[print])


class TestProgress:
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    @pytest.mark.parametrize("verbose", [1, 2])
    def test_one_line_per_epoch_when_not_a_terminal(self, verbose, capsys):
        model, x, y = _model_and_data()
        model.fit(x, y, batch_size=16, epochs=2, verbose=verbose, validation_data=(x, y))
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith("Epoch 1/2 - 4/4 - ")
        for part in ("ms/step", "img/s", "loss: ", "accuracy: ", "val_loss: ", "val_accuracy: "):
            assert part in lines[1]

    def test_verbose_0_prints_nothing(self, capsys):
        model, x, y = _model_and_data()
        model.fit(x, y, epochs=2, verbose=0)
        model.evaluate(x, y, verbose=0)
        assert capsys.readouterr().out == ""

    def test_live_bar_on_a_terminal(self):
        terminal = self.Terminal()
        bar = ProgressBar(4, verbose=1, stream=terminal)
        for step in range(1, 5):
            bar.last_draw = 0  # draw every step
            bar.update(step, step * 10, {"loss": 1.0 / step})
        bar.finish(40, {"loss": 0.25})
        out = terminal.getvalue()
        assert out.count("\r") == 5 and out.endswith("\n")
        assert "1/4 [=======>" in out and "ETA: " in out and "img/s" in out
        assert "4/4 [==============================]" in out and "loss: 0.2500" in out

    def test_verbose_2_is_not_live_even_on_a_terminal(self):
        terminal = self.Terminal()
        bar = ProgressBar(2, verbose=2, stream=terminal, prefix="Epoch 1/1 - ")
        bar.update(1, 10, {"loss": 1.0})
        bar.finish(20, {"loss": 0.5})
        assert terminal.getvalue().count("\n") == 1 and "\r" not in terminal.getvalue()

    def test_evaluate_prints_one_summary_line(self, capsys):
        model, x, y = _model_and_data()
        model.evaluate(x, y, batch_size=16)
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 1 and out[0].startswith("4/4 - ") and "accuracy: " in out[0]


def test_progress_of_a_generator_counts_batches_per_second(capsys):
    """A generator's batch sizes are unknown in advance: its rate is batches, not images."""
    import fastconv
    model = fastconv.models.Sequential([fastconv.layers.Input((3,)), fastconv.layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
    model.fit(((x[i:i + 4], y[i:i + 4]) for i in (0, 4)), steps_per_epoch=2, verbose=2)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "batch/s" in line and "img/s" not in line
    model.fit(x, y, batch_size=4, verbose=2)
    assert "img/s" in capsys.readouterr().out
