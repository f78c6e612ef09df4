"""compile(weighted_metrics=...): metrics weighted by sample_weight and class_weight,
against hand computations; Keras 3's log names; save/load."""
import numpy as np
import pytest

import fastconv
from fastconv import layers, models, optimizers


def _classifier(**compile_args):
    np.random.seed(0)
    model = models.Sequential([layers.Dense(3, activation="softmax", input_dim=4)])
    model.compile(optimizers.SGD(0.0), "categorical_crossentropy", **compile_args)
    return model


def _data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def _weighted_mean(values, w):
    return float((values * w).sum() / w.sum())


def test_evaluate_weights_only_the_weighted_metrics():
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy", "mae"])
    x, y = _data()
    w = np.random.default_rng(1).random(len(x))
    probs = model.predict(x)
    correct = (probs.argmax(1) == y.argmax(1)).astype(np.float64)
    mae = np.abs(probs - y).mean(axis=1)
    logs = model.evaluate(x, y, sample_weight=w, batch_size=3, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "weighted_accuracy", "mae"]
    assert logs["accuracy"] == pytest.approx(correct.mean())
    assert logs["weighted_accuracy"] == pytest.approx(_weighted_mean(correct, w))
    assert logs["mae"] == pytest.approx(_weighted_mean(mae, w), rel=1e-6)
    assert model.metrics_names == list(logs)


def test_without_weights_the_weighted_metrics_equal_the_plain_ones():
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy"])
    x, y = _data()
    loss, accuracy, weighted = model.evaluate(x, y, verbose=0)
    assert weighted == accuracy


def test_fit_weights_them_by_class_weight():
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy"])  # lr 0: fixed
    x, y = _data(n=12, seed=2)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    correct = (model.predict(x).argmax(1) == y.argmax(1)).astype(np.float64)
    w = np.array([class_weight[c] for c in y.argmax(1)])
    history = model.fit(x, y, class_weight=class_weight, batch_size=5, verbose=0)
    assert history.history["accuracy"] == [pytest.approx(correct.mean())]
    assert history.history["weighted_accuracy"] == [pytest.approx(_weighted_mean(correct, w))]


def test_multi_output_names_follow_keras():
    inputs = fastconv.Input(shape=(4,))
    a = layers.Dense(2, name="a")(inputs)
    b = layers.Dense(2, name="b")(inputs)
    model = fastconv.Model(inputs, [a, b])
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics={"b": ["mae", "mse"]})
    assert model.metrics_names == ["loss", "a_loss", "b_loss", "a_mae", "b_mae",
                                   "b_weighted_mae", "b_mse"]
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    ys = [np.zeros((6, 2), np.float32)] * 2
    w = np.arange(1.0, 7.0)
    logs = model.evaluate(x, ys, sample_weight=w, verbose=0, return_dict=True)
    _, pred_b = model.predict(x)
    assert logs["b_weighted_mae"] == pytest.approx(
        _weighted_mean(np.abs(pred_b).mean(axis=1), w), rel=1e-6)
    assert logs["b_mae"] == pytest.approx(np.abs(pred_b).mean(), rel=1e-6)


def test_repeated_names_are_numbered_as_keras():
    model = _classifier(metrics=["mae", "mae"], weighted_metrics=["mae", "mae"])
    assert model.metrics_names == ["loss", "mae", "mae_1", "weighted_mae", "weighted_mae_1"]


def test_save_load_keeps_them(tmp_path):
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy"])
    model.save(tmp_path / "m.npz")
    loaded = models.load_model(tmp_path / "m.npz")
    assert loaded.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    x, y = _data()
    w = np.linspace(0.1, 1.0, len(x))
    assert loaded.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(
        model.evaluate(x, y, sample_weight=w, verbose=0))


@pytest.mark.parametrize("weighted_metrics, error", [(["nope"], ValueError), ([3], TypeError)])
def test_bad_weighted_metrics(weighted_metrics, error):
    with pytest.raises(error, match="metric"):
        _classifier(weighted_metrics=weighted_metrics)
