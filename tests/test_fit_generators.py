"""fit / evaluate / predict fed by generators, iterators and PyDataset (Sequence) objects,
with steps_per_epoch, validation_steps, validation_freq, sample_weight and class_weight."""
import numpy as np
import pytest

from fastconv import callbacks, layers, models, optimizers, utils
from fastconv.trainer import batches


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _model(seed=1):
    np.random.seed(seed)
    model = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    return model


class Batches(utils.Sequence):
    def __init__(self, x, y, batch_size, weights=None):
        super().__init__()
        self.x, self.y, self.batch_size, self.weights = x, y, batch_size, weights
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        if self.weights is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.weights[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _generator(x, y, batch_size, repeat=True, weights=None):
    while True:
        for i in range(0, len(x), batch_size):
            part = slice(i, i + batch_size)
            yield ((x[part], y[part]) if weights is None
                   else (x[part], y[part], weights[part]))
        if not repeat:
            return


def _same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_sequence_training_equals_array_training_bitwise():
    x, y = _data()
    by_arrays, by_sequence = _model(), _model()
    h1 = by_arrays.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    seq = Batches(x, y, 32)
    h2 = by_sequence.fit(seq, epochs=3, shuffle=False, verbose=0)
    _same_weights(by_arrays, by_sequence)
    assert h1.history == h2.history
    assert seq.epochs_ended == 3


def test_generator_training_equals_array_training_bitwise():
    x, y = _data(100)
    by_arrays, by_generator = _model(), _model()
    by_arrays.fit(x, y, batch_size=25, epochs=2, shuffle=False, verbose=0)
    by_generator.fit(_generator(x, y, 25), steps_per_epoch=4, epochs=2, verbose=0)
    _same_weights(by_arrays, by_generator)
    assert by_generator.optimizer.iterations == 8


def test_sample_weights_from_a_generator_equal_array_sample_weights():
    x, y = _data()
    w = np.linspace(0.1, 2.0, len(x))
    a, b = _model(), _model()
    a.fit(x, y, batch_size=32, sample_weight=w, shuffle=False, epochs=2, verbose=0)
    b.fit(_generator(x, y, 32, weights=w), steps_per_epoch=3, epochs=2, verbose=0)
    _same_weights(a, b)


def test_sample_weight_scales_the_loss_as_keras():
    x, y = _data(8)
    model = _model()
    p = model.predict(x)
    per_sample = -np.log(np.clip(p[np.arange(8), y], 1e-7, 1))
    w = np.arange(8, dtype=np.float64)
    loss = model.evaluate(x, y, sample_weight=w, verbose=0)[0]
    # Keras: sum(w * loss) / batch size (not / sum(w))
    np.testing.assert_allclose(loss, (w * per_sample).sum() / 8, rtol=1e-5)


def test_zero_sample_weight_ignores_the_sample():
    x, y = _data(64)
    w = np.ones(64)
    w[32:] = 0
    a, b = _model(), _model()
    # the half of weight 0 adds nothing: the gradient is the first half's, halved (the
    # mean is over all 64 samples), so SGD(0.1) on all equals SGD(0.05) on the first half
    a2 = _model()
    a2.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    b2 = _model()
    b2.compile(optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    a2.fit(x, y, sample_weight=w, batch_size=64, shuffle=False, verbose=0)
    b2.fit(x[:32], y[:32], batch_size=32, shuffle=False, verbose=0)
    for wa, wb in zip(a2.get_weights(), b2.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_class_weight_equals_the_matching_sample_weight():
    x, y = _data()
    a, b = _model(), _model()
    a.fit(x, y, class_weight={0: 0.5, 1: 3.0}, batch_size=32, shuffle=False, verbose=0)
    b.fit(x, y, sample_weight=np.where(y == 1, 3.0, 0.5), batch_size=32, shuffle=False,
          verbose=0)
    _same_weights(a, b)
    with pytest.raises(ValueError, match="class"):
        _model().fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_class_weight_with_one_hot_targets():
    y = np.eye(3)[[0, 2, 1, 2]]
    np.testing.assert_array_equal(
        batches.class_weights_as_sample_weights({0: 1, 1: 2, 2: 5}, y, None), [1, 5, 2, 5])


def test_validation_freq_and_validation_steps():
    x, y = _data()
    model = _model()
    seen = []

    class CountTests(callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(x, y, epochs=4, verbose=0, validation_data=Batches(x, y, 16),
                        validation_steps=2, validation_freq=2, callbacks=[CountTests()])
    assert "val_loss" in history.history and len(history.history["val_loss"]) == 2
    assert seen == [0, 1, 0, 1]
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                        validation_freq=[1, 3])
    assert len(history.history["val_loss"]) == 2


def test_a_finite_generator_runs_one_epoch_then_warns():
    x, y = _data(64)
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(_generator(x, y, 16, repeat=False), epochs=3, verbose=0)
    assert history.epoch == [0]
    assert model.optimizer.iterations == 4


def test_evaluate_and_predict_take_generators_and_sequences():
    x, y = _data()
    model = _model()
    expected = model.evaluate(x, y, batch_size=32, verbose=0)
    assert model.evaluate(Batches(x, y, 32), verbose=0) == expected
    assert model.evaluate(_generator(x, y, 32), steps=3, verbose=0) == expected
    np.testing.assert_array_equal(model.predict((b[0] for b in Batches(x, y, 32))),
                                  model.predict(x))
    np.testing.assert_array_equal(model.predict(Batches(x, y, 32)), model.predict(x))


def test_sequence_shuffles_batch_order_with_shuffle_true():
    x, y = _data()
    order = []

    class Recording(Batches):
        def __getitem__(self, i):
            order.append(i)
            return super().__getitem__(i)

    _model().fit(Recording(x, y, 16), epochs=1, verbose=0)
    assert sorted(order) == list(range(6)) and order != list(range(6))


def test_bad_arguments_with_generators():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="y must not be given"):
        model.fit(_generator(x, y, 16), y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(Batches(x, y, 16), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(_generator(x, y, 16), steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="validation_freq"):
        model.fit(x, y, validation_data=(x, y), validation_freq=0, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(x, y, sample_weight=np.ones(3), verbose=0)
    with pytest.raises(ValueError, match="expects inputs"):
        model.fit(_generator(x[:, :3], y, 16), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="yield"):
        model.fit(iter([(x, y, None, None)]), verbose=0)


def test_progress_with_a_generator_of_unknown_length(capsys):
    x, y = _data(64)
    _model().fit(_generator(x, y, 16), steps_per_epoch=4, epochs=1,
                 verbose=2)
    assert "4/4" in capsys.readouterr().out
