"""Regularizers: penalties and gradients against NumPy written out, Keras's names and
defaults, the layers' arguments, the penalties in training (loss, gradient, one SGD
step), layer.losses / model.losses, save/load and ONNX export."""
import numpy as np
import pytest

import fastconv
from fastconv import layers, models, optimizers, regularizers
from fastconv.regularizers import L1, L1L2, L2, OrthogonalRegularizer

F64 = "float64"


def _weights(shape=(4, 3), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


class TestPenalties:
    @pytest.mark.parametrize("regularizer, penalty", [
        (L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
        (L2(0.2), lambda w: 0.2 * (w ** 2).sum()),
        (L1L2(0.1, 0.4), lambda w: 0.1 * np.abs(w).sum() + 0.4 * (w ** 2).sum()),
        (L1L2(l2=0.4), lambda w: 0.4 * (w ** 2).sum()),
    ])
    def test_penalty_is_keras_formula(self, regularizer, penalty):
        w = _weights((3, 3, 2, 4))
        assert regularizer(w) == pytest.approx(penalty(w), rel=1e-12)
        assert regularizer(w.astype(np.float32)) == pytest.approx(penalty(w), rel=1e-6)

    def test_keras_docstring_example(self):
        assert L2(2.0)(np.ones((5, 5), np.float32)) == 50.0

    @pytest.mark.parametrize("regularizer", [
        L1(0.3), L2(0.2), L1L2(0.1, 0.4), OrthogonalRegularizer(0.5),
        OrthogonalRegularizer(0.5, mode="columns")])
    def test_gradient_matches_finite_differences(self, regularizer, finite_differences):
        numeric_gradient, assert_close = finite_differences
        w = _weights((4, 5), seed=3)
        grad = regularizer.gradient(w)
        assert grad.shape == w.shape and grad.dtype == w.dtype
        assert_close(grad, numeric_gradient(lambda: regularizer(w), w), repr(regularizer))

    def test_gradient_keeps_float32(self):
        w = _weights(dtype=np.float32)
        assert L1L2(0.1, 0.1).gradient(w).dtype == np.float32
        np.testing.assert_allclose(L1L2(0.1, 0.2).gradient(w), 0.1 * np.sign(w) + 0.4 * w,
                                   rtol=1e-6)

    def test_orthogonal_penalty_written_out(self):
        w = _weights((3, 4), seed=1)
        rows = w / np.linalg.norm(w, axis=1, keepdims=True)
        pairs = [(i, j) for i in range(3) for j in range(3) if i != j]
        expected = 0.5 * 0.5 * sum(abs(rows[i] @ rows[j]) for i, j in pairs) / 3
        assert OrthogonalRegularizer(0.5)(w) == pytest.approx(expected, rel=1e-12)
        orthogonal = np.linalg.qr(_weights((4, 4)))[0]
        assert OrthogonalRegularizer(1.0)(orthogonal) == pytest.approx(0.0, abs=1e-12)


class TestNamesAndConfig:
    def test_keras_defaults_and_aliases(self):
        assert L1().l1 == 0.01 and L2().l2 == 0.01
        assert (L1L2().l1, L1L2().l2) == (0.0, 0.0)
        assert regularizers.l1 is L1 and regularizers.l2 is L2 and regularizers.l1_l2 is L1L2
        assert regularizers.l2(0.5).l2 == 0.5

    @pytest.mark.parametrize("name, cls, config", [
        ("l1", L1, {"l1": 0.01}), ("L2", L2, {"l2": 0.01}), ("l2", L2, {"l2": 0.01}),
        ("l1_l2", L1L2, {"l1": 0.01, "l2": 0.01}),  # by name: Keras's 0.01 for both
        ("L1L2", L1L2, {"l1": 0.0, "l2": 0.0}),  # the class name: L1L2(), as Keras 3
        ("orthogonal_regularizer", OrthogonalRegularizer, {"factor": 0.01, "mode": "rows"}),
    ])
    def test_get_by_name(self, name, cls, config):
        regularizer = regularizers.get(name)
        assert type(regularizer) is cls and regularizer.get_config() == config

    def test_get_none_instance_class_and_dict(self):
        assert regularizers.get(None) is None
        instance = L2(0.3)
        assert regularizers.get(instance) is instance
        assert isinstance(regularizers.get(L1), L1)
        restored = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.2, "l2": 0.1}})
        assert restored.get_config() == {"l1": 0.2, "l2": 0.1}

    @pytest.mark.parametrize("regularizer", [L1(0.2), L2(0.3), L1L2(0.1, 0.2),
                                             OrthogonalRegularizer(0.1, "columns")])
    def test_config_round_trip(self, regularizer):
        config = regularizers.serialize(regularizer)
        again = regularizers.deserialize(config)
        assert type(again) is type(regularizer)
        assert again.get_config() == regularizer.get_config()
        assert type(regularizer).from_config(regularizer.get_config()).get_config() == \
            regularizer.get_config()

    @pytest.mark.parametrize("identifier, error", [
        ("l3", ValueError), (3, TypeError), ([0.1], TypeError),
        (lambda w: 0.01 * np.abs(w).sum(), TypeError),  # no gradient: must subclass
        ({"class_name": "Nope", "config": {}}, ValueError),
    ])
    def test_bad_identifiers(self, identifier, error):
        with pytest.raises(error, match="regularizer"):
            regularizers.get(identifier)

    @pytest.mark.parametrize("make", [lambda: L1(-1), lambda: L2("a"), lambda: L1L2(l1=np.inf),
                                      lambda: L2(True), lambda: OrthogonalRegularizer(mode="x"),
                                      lambda: OrthogonalRegularizer(-0.1)])
    def test_bad_factors_are_value_errors(self, make):
        with pytest.raises(ValueError):
            make()

    def test_orthogonal_needs_a_matrix(self):
        with pytest.raises(ValueError, match="2-D"):
            OrthogonalRegularizer()(np.ones((2, 2, 2)))

    @pytest.mark.parametrize("argument, value, error", [
        ("kernel_regularizer", "l3", ValueError), ("bias_regularizer", 5, TypeError),
        ("activity_regularizer", "nope", ValueError), ("kernel_constraint", 2, TypeError),
        ("bias_constraint", "positive", ValueError)])
    def test_layer_errors_name_the_argument(self, argument, value, error):
        with pytest.raises(error, match=argument):
            layers.Dense(2, **{argument: value})


# (layer, {argument: weight name it penalises}) for every layer class with weights.
WEIGHTED_LAYERS = [
    (lambda **kw: layers.Dense(3, **kw), (4,), {"kernel": "kernel", "bias": "bias"}),
    (lambda **kw: layers.Conv1D(2, 3, **kw), (6, 2), {"kernel": "kernel", "bias": "bias"}),
    (lambda **kw: layers.Conv2D(2, 3, **kw), (5, 5, 2), {"kernel": "kernel", "bias": "bias"}),
    (lambda **kw: layers.Conv3D(2, 2, **kw), (3, 3, 3, 1), {"kernel": "kernel", "bias": "bias"}),
    (lambda **kw: layers.Conv2DTranspose(2, 3, **kw), (3, 3, 2),
     {"kernel": "kernel", "bias": "bias"}),
    (lambda **kw: layers.DepthwiseConv2D(3, **kw), (5, 5, 2),
     {"depthwise": "kernel", "bias": "bias"}),
    (lambda **kw: layers.SeparableConv2D(3, 3, **kw), (5, 5, 2),
     {"depthwise": "depthwise_kernel", "pointwise": "pointwise_kernel", "bias": "bias"}),
    (lambda **kw: layers.BatchNormalization(**kw), (4,), {"gamma": "gamma", "beta": "beta"}),
]


class TestLayers:
    @pytest.mark.parametrize("make, shape, roles", WEIGHTED_LAYERS)
    def test_each_weight_argument_reaches_its_weight(self, make, shape, roles):
        options = {f"{role}_regularizer": L2(0.1 * (i + 1)) for i, role in enumerate(roles)}
        options.update((f"{role}_constraint", "non_neg") for role in roles)
        layer = make(**options)
        layer.build(shape)
        for i, (role, weight) in enumerate(roles.items()):
            assert layer.weight_regularizers[weight].l2 == pytest.approx(0.1 * (i + 1))
            assert type(layer.weight_constraints[weight]).__name__ == "NonNeg"
        penalties = [L2(0.1 * (i + 1))(layer.params[w]) for i, w in enumerate(roles.values())]
        assert layer.losses == pytest.approx(penalties)
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config() == config

    def test_layers_without_weights_take_an_activity_regularizer(self):
        layer = layers.Flatten(activity_regularizer="l1")
        out = layer(np.full((2, 3, 2), -2.0, np.float32))
        assert layer.losses == pytest.approx([0.01 * np.abs(out).sum() / 2])
        assert layers.Flatten.from_config(layer.get_config()).activity_regularizer.l1 == 0.01
        assert "activity_regularizer" not in layers.Flatten().get_config()

    def test_layer_losses_keras_example(self):
        # Keras's Regularizer docstring: kernel 0.25 plus activity 25 / batch of 5.
        layer = layers.Dense(5, input_dim=5, kernel_initializer="ones",
                             kernel_regularizer=L1(0.01), activity_regularizer=L2(0.01))
        layer(np.full((5, 5), 2.0, np.float32))
        assert sum(layer.losses) == pytest.approx(5.25)
        assert layer.losses == pytest.approx([5.0, 0.25])

    def test_frozen_layers_are_not_penalised(self):
        layer = layers.Dense(3, kernel_regularizer="l2", input_dim=2)
        layer.build((2,))
        assert len(layer.losses) == 1
        layer.trainable = False
        assert layer.losses == []


def _penalised_model():
    """Convolutions, a shared layer (two activity penalties) and a softmax output whose
    activity penalty keeps the loss from fusing with it; float64."""
    inputs = fastconv.Input(shape=(5, 5, 2), dtype=F64)
    x = layers.Conv2D(3, 3, activation="relu", kernel_regularizer=L1L2(0.01, 0.02),
                      bias_regularizer=L2(0.05), bias_initializer="random_normal",
                      activity_regularizer=L2(0.03), dtype=F64)(inputs)
    x = layers.Dense(4, dtype=F64)(layers.Flatten(dtype=F64)(x))
    shared = layers.Dense(4, activation="tanh", kernel_regularizer=L2(0.1),
                          activity_regularizer=L1(0.02), dtype=F64)
    x = shared(shared(x))
    outputs = layers.Dense(3, activation="softmax", kernel_regularizer=L1(0.05),
                           activity_regularizer=L2(0.1), dtype=F64)(x)
    return fastconv.Model(inputs, outputs)


def _penalised_conv_family():
    """Separable, depthwise and transposed convolutions, BatchNormalization at inference
    and a fused softmax output (no activity penalty on it); float64."""
    inputs = fastconv.Input(shape=(6, 6, 2), dtype=F64)
    x = layers.SeparableConv2D(3, 3, activation="tanh", depthwise_regularizer=L2(0.1),
                               pointwise_regularizer=L1(0.01), dtype=F64)(inputs)
    x = layers.DepthwiseConv2D(2, depthwise_regularizer=L1L2(0.01, 0.01),
                               bias_regularizer=L2(0.2), dtype=F64)(x)
    x = layers.Conv2DTranspose(2, 2, strides=2, kernel_regularizer=L2(0.1),
                               activity_regularizer=L2(0.01), dtype=F64)(x)
    x = layers.Conv1D(2, 3, kernel_regularizer=L2(0.1), activity_regularizer=L1(0.01),
                      dtype=F64)(layers.Reshape((36, 2), dtype=F64)(x))
    outputs = layers.Dense(3, activation="softmax", kernel_regularizer=L2(0.1),
                           dtype=F64)(layers.Flatten(dtype=F64)(x))
    return fastconv.Model(inputs, outputs)


def _batch(input_shape, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n,) + input_shape), np.eye(3)[rng.integers(0, 3, n)]


def _sgd_step_gradients(model, x, y):
    """The gradient of one training step: w - w' after SGD with learning rate 1, the
    weights restored afterwards."""
    before = model.get_weights()
    model.train_on_batch(x, y)
    grads = [b - a for b, a in zip(before, model.get_weights())]
    model.set_weights(before)
    return grads


class TestTraining:
    @pytest.mark.parametrize("make", [_penalised_model, _penalised_conv_family])
    def test_loss_gradient_matches_finite_differences(self, make, finite_differences):
        numeric_gradient, assert_close = finite_differences
        np.random.seed(0)
        model = make()
        model.compile(optimizers.SGD(1.0), "categorical_crossentropy")
        x, y = _batch(model.input_shape[1:])
        grads = _sgd_step_gradients(model, x, y)
        params = [(leaf.name, key, p) for leaf in model.leaf_layers()
                  for key, p in leaf.params.items()]
        assert len(params) == len(grads)

        def loss():  # the loss that is reported: the penalties included
            return model.test_on_batch(x, y)

        for (name, key, param), grad in zip(params, grads):
            assert_close(grad, numeric_gradient(loss, param), f"{name} {key}")

    def test_reported_loss_is_compiled_loss_plus_penalties(self):
        np.random.seed(1)
        model = _penalised_model()
        model.compile("sgd", "categorical_crossentropy")
        x, y = _batch((5, 5, 2))
        probs = model.predict(x)
        data_loss = -np.mean(np.sum(y * np.log(probs), axis=1))
        penalties = model.losses  # of the predict call and the current weights
        assert len(penalties) == 4 + 4  # activities: conv, shared twice, output; 4 kernels/biases
        assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss + sum(penalties))
        assert model.train_on_batch(x, y) == pytest.approx(data_loss + sum(penalties))

    def test_an_sgd_step_adds_the_written_out_l2_gradient(self):
        def make(regularizer):
            np.random.seed(2)
            model = models.Sequential([
                layers.Conv2D(2, 3, activation="relu", kernel_regularizer=regularizer,
                              input_shape=(5, 5, 1)),
                layers.Flatten(), layers.Dense(3, activation="softmax")])
            model.compile(optimizers.SGD(0.1), "categorical_crossentropy")
            return model

        plain, penalised = make(None), make(L2(0.3))
        x, y = _batch((5, 5, 1), n=8)
        x = x.astype(np.float32)
        kernel = penalised.layers[0].params["kernel"].copy()
        np.testing.assert_array_equal(kernel, plain.layers[0].params["kernel"])
        plain_loss, loss = plain.train_on_batch(x, y), penalised.train_on_batch(x, y)
        assert loss == pytest.approx(plain_loss + 0.3 * np.sum(kernel.astype(np.float64) ** 2),
                                     rel=1e-6)
        expected = plain.layers[0].params["kernel"] - 0.1 * 2 * 0.3 * kernel
        np.testing.assert_allclose(penalised.layers[0].params["kernel"], expected,
                                   rtol=1e-5, atol=1e-7)
        for a, b in zip(plain.get_weights()[1:], penalised.get_weights()[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)

    def test_fit_decays_the_kernel_by_the_written_out_factor(self):
        # Zero inputs give the kernel no data gradient: each SGD step multiplies it by
        # 1 - lr * 2 * l2 exactly.
        np.random.seed(3)
        model = models.Sequential([layers.Dense(4, kernel_regularizer=L2(1.0), input_dim=3)])
        model.compile(optimizers.SGD(0.1), "mse")
        kernel = model.layers[0].params["kernel"].copy()
        model.fit(np.zeros((16, 3), np.float32), np.ones((16, 4), np.float32), epochs=5,
                  batch_size=16, verbose=0)
        np.testing.assert_allclose(model.layers[0].params["kernel"], kernel * 0.8 ** 5,
                                   rtol=1e-5)

    def test_model_losses_before_any_call_are_the_weight_penalties(self):
        model = models.Sequential([layers.Dense(2, kernel_regularizer="l1",
                                                activity_regularizer="l2", input_dim=3)])
        kernel = model.layers[0].params["kernel"]
        assert model.losses == pytest.approx([0.01 * np.abs(kernel).sum()])


class TestSaving:
    def _model(self):
        np.random.seed(4)
        model = models.Sequential([
            layers.Conv2D(3, 3, kernel_regularizer="l2", bias_regularizer=L1(0.2),
                          activity_regularizer=L1L2(0.1, 0.3), kernel_constraint="max_norm",
                          input_shape=(6, 6, 1)),
            layers.BatchNormalization(gamma_regularizer="l1", beta_constraint="non_neg"),
            layers.SeparableConv2D(2, 3, depthwise_regularizer=L2(0.2),
                                   pointwise_constraint="unit_norm"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", kernel_regularizer=L1L2(0.0, 0.5))])
        model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
        return model

    def test_save_load_keeps_regularizers_and_continues_identically(self, tmp_path):
        model = self._model()
        x, y = _batch((6, 6, 1), n=8)
        x = x.astype(np.float32)
        model.fit(x, y, epochs=1, verbose=0)
        model.save(tmp_path / "m.npz")
        loaded = models.load_model(tmp_path / "m.npz")
        for a, b in zip(model.layers, loaded.layers):
            assert a.get_config() == b.get_config()
        assert loaded.layers[0].activity_regularizer.get_config() == {"l1": 0.1, "l2": 0.3}
        assert loaded.losses == pytest.approx(model.losses[1:])  # no call yet: no activity
        first, again = model.train_on_batch(x, y), loaded.train_on_batch(x, y)
        assert first == pytest.approx(again, rel=1e-6)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    def test_json_round_trip(self):
        model = self._model()
        again = models.model_from_json(model.to_json())
        assert again.to_json() == model.to_json()
        assert again.layers[2].depthwise_regularizer.l2 == 0.2

    def test_onnx_export_ignores_regularizers(self, tmp_path):
        pytest.importorskip("onnx")
        ort = pytest.importorskip("onnxruntime")
        model = self._model()
        x = np.random.default_rng(0).random((2, 6, 6, 1), dtype=np.float32)
        model.export(tmp_path / "m.onnx")
        session = ort.InferenceSession(str(tmp_path / "m.onnx"))
        (out,) = session.run(None, {session.get_inputs()[0].name: x})
        np.testing.assert_allclose(out, model.predict(x), rtol=1e-4, atol=1e-6)
