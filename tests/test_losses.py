"""Losses and metrics: values, gradients, the fused softmax/sigmoid forms, target checks."""
import warnings

import numpy as np
import pytest

from fastconv import activations, losses, metrics


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    return logits, labels, np.eye(4)[labels]


def test_categorical_crossentropy_value(batch):
    logits, labels, one_hot = batch
    p = _softmax(logits)
    expected = -np.log(p[np.arange(6), labels]).mean()
    assert losses.get("categorical_crossentropy")(one_hot, p) == pytest.approx(expected, 1e-9)
    assert losses.get("sparse_categorical_crossentropy")(labels, p) == pytest.approx(expected,
                                                                                    1e-9)
    loss, grad = losses.CategoricalCrossentropy().loss_and_gradient_from_logits(one_hot, logits)
    assert loss == pytest.approx(expected, 1e-9)
    np.testing.assert_allclose(grad, (p - one_hot) / 6, rtol=1e-9)


@pytest.mark.parametrize("loss", [losses.CategoricalCrossentropy(),
                                  losses.SparseCategoricalCrossentropy()])
def test_fused_gradient_equals_the_chain_through_softmax(loss, batch):
    logits, labels, one_hot = batch
    targets = labels if isinstance(loss, losses.SparseCategoricalCrossentropy) else one_hot
    p = _softmax(logits)
    fused_loss, fused = loss.loss_and_gradient_from_logits(targets, logits, p)
    plain_loss, dp = loss.loss_and_gradient(targets, p)
    chained = activations.softmax.gradient(dp, logits, p)
    assert fused_loss == pytest.approx(plain_loss, 1e-9)
    np.testing.assert_allclose(fused, chained, rtol=1e-7, atol=1e-12)


def test_binary_crossentropy_fused_with_sigmoid(finite_differences):
    numeric_gradient, assert_gradient_close = finite_differences
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3))
    y = rng.integers(0, 2, (5, 3)).astype(float)
    loss = losses.BinaryCrossentropy()
    value, grad = loss.loss_and_gradient_from_logits(y, z)
    p = 1 / (1 + np.exp(-z))
    assert value == pytest.approx(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(), 1e-9)
    assert_gradient_close(grad, numeric_gradient(
        lambda: loss.loss_and_gradient_from_logits(y, z)[0], z), "bce logits")
    plain, dp = loss.loss_and_gradient(y, p)
    assert plain == pytest.approx(value, 1e-6)
    np.testing.assert_allclose(activations.sigmoid.gradient(dp, z, p), grad, rtol=1e-6)
    assert loss.fuses_with(activations.sigmoid) and not loss.fuses_with(activations.softmax)


@pytest.mark.parametrize("loss", [losses.CategoricalCrossentropy(), losses.BinaryCrossentropy(),
                                  losses.MeanSquaredError()])
def test_probability_gradients_match_finite_differences(loss, finite_differences):
    numeric_gradient, assert_gradient_close = finite_differences
    rng = np.random.default_rng(2)
    p = rng.uniform(0.1, 0.9, (4, 3))
    y = np.eye(3)[rng.integers(0, 3, 4)]
    _, grad = loss.loss_and_gradient(y, p)
    assert_gradient_close(grad, numeric_gradient(lambda: loss.loss_and_gradient(y, p)[0], p),
                          loss.name)


def test_mse_value():
    assert losses.get("mse")(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])) == 2.5


def test_huge_logits_stay_finite():
    logits = np.array([[1e4, -1e4, 0.0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = losses.CategoricalCrossentropy().loss_and_gradient_from_logits(
            np.array([[0.0, 1.0, 0.0]], np.float32), logits)
        assert np.isfinite(grad).all() and loss == pytest.approx(2e4, rel=1e-6)
        loss, _ = losses.BinaryCrossentropy().loss_and_gradient_from_logits(
            np.ones((1, 3), np.float32), logits)
        assert np.isfinite(loss)


def test_from_logits_applies_softmax_itself(batch):
    logits, _, one_hot = batch
    a = losses.CategoricalCrossentropy(from_logits=True).loss_and_gradient(one_hot, logits)
    b = losses.CategoricalCrossentropy().loss_and_gradient(one_hot, _softmax(logits))
    assert a[0] == pytest.approx(b[0], 1e-9)
    assert not losses.CategoricalCrossentropy(from_logits=True).fuses_with(activations.softmax)


class TestTargetChecks:
    def test_one_hot_with_the_wrong_number_of_classes(self):
        with pytest.raises(ValueError, match="10 classes, the targets have 9"):
            losses.get("categorical_crossentropy").check_targets(np.zeros((5, 9)), (10,))

    def test_integer_labels_for_categorical_get_a_hint(self):
        with pytest.raises(ValueError, match="to_categorical"):
            losses.get("categorical_crossentropy").check_targets(np.zeros(5, int), (10,))

    def test_sparse_labels_out_of_range(self):
        with pytest.raises(ValueError, match=r"\[0, 10\)"):
            losses.get("sparse_categorical_crossentropy").check_targets(np.array([0, 10]),
                                                                         (10,))

    def test_one_hot_for_sparse_gets_a_hint(self):
        with pytest.raises(ValueError, match="one-hot"):
            losses.get("sparse_categorical_crossentropy").check_targets(np.eye(10), (10,))

    def test_sparse_accepts_a_column_of_labels(self):
        y = losses.get("sparse_categorical_crossentropy").check_targets(
            np.array([[1], [2]]), (3,))
        assert y.shape == (2,) and y.dtype == np.intp

    def test_non_numeric_targets(self):
        with pytest.raises(TypeError, match="numeric"):
            losses.get("mse").check_targets(np.array(["a", "b"]), (1,))


def test_lookup_errors():
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'"):
        losses.get("crossentropy")
    with pytest.raises(TypeError):
        losses.get(3)
    loss = losses.CategoricalCrossentropy(from_logits=True)
    assert losses.deserialize(losses.serialize(loss)).from_logits


class TestMetrics:
    @pytest.mark.parametrize("loss, expected", [
        ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", metrics.CategoricalAccuracy),
        ("binary_crossentropy", metrics.BinaryAccuracy),
    ])
    def test_accuracy_follows_the_loss(self, loss, expected):
        metric = metrics.get("accuracy", losses.get(loss), (10,))
        assert type(metric) is expected and metric.name == "accuracy"

    def test_accuracy_for_mse_follows_the_output_shape(self):
        assert isinstance(metrics.get("acc", losses.get("mse"), (1,)), metrics.BinaryAccuracy)
        assert isinstance(metrics.get("acc", losses.get("mse"), (4,)),
                          metrics.CategoricalAccuracy)

    def test_running_mean_over_batches(self):
        metric = metrics.get("accuracy", losses.get("sparse_categorical_crossentropy"))
        metric.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
        metric.update_state(np.array([1]), np.array([[0.1, 0.9]]))
        assert metric.result() == pytest.approx(2 / 3)
        metric.reset_state()
        assert metric.result() == 0.0

    def test_binary_accuracy_thresholds_at_one_half(self):
        values = metrics.binary_accuracy(np.array([[1.0], [0.0], [1.0]]),
                                         np.array([[0.7], [0.6], [0.2]]))
        np.testing.assert_array_equal(values, [1, 0, 0])

    def test_unknown_metric(self):
        with pytest.raises(ValueError, match="unknown metric 'f1'"):
            metrics.get("f1")
