"""Constraints: outputs against Keras's formulas written out slice by slice, names,
defaults and configs, errors, and their application after each optimizer step."""
import numpy as np
import pytest

from fastconv import constraints, layers, models, optimizers
from fastconv.constraints import MaxNorm, MinMaxNorm, NonNeg, UnitNorm

EPSILON = 1e-7  # Keras's backend.epsilon() in the formulas


def _weights(shape, seed=0, scale=2.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _per_slice(w, axes, rescale):
    """Apply rescale(norm) -> desired norm to every slice of w spanning `axes`, in a loop."""
    kept = [a for a in range(w.ndim) if a not in axes]
    out = np.empty_like(w, dtype=np.float64)
    for index in np.ndindex(*[w.shape[a] for a in kept]):
        where = [slice(None)] * w.ndim
        for a, i in zip(kept, index):
            where[a] = i
        piece = w[tuple(where)].astype(np.float64)
        norm = np.sqrt((piece ** 2).sum())
        out[tuple(where)] = piece * rescale(norm) / (EPSILON + norm)
    return out


class TestFormulas:
    @pytest.mark.parametrize("shape, axis", [((5, 4), 0), ((5, 4), 1),
                                             ((3, 3, 2, 4), [0, 1, 2]), ((3, 3, 2, 4), 3)])
    def test_max_norm(self, shape, axis):
        w = _weights(shape)
        axes = tuple(np.atleast_1d(axis))
        expected = _per_slice(w, axes, lambda n: min(n, 1.5))
        np.testing.assert_allclose(MaxNorm(1.5, axis)(w), expected, rtol=1e-6)

    @pytest.mark.parametrize("shape, axis", [((5, 4), 0), ((3, 3, 2, 4), [0, 1, 2])])
    def test_unit_norm(self, shape, axis):
        w = _weights(shape, seed=1)
        expected = _per_slice(w, tuple(np.atleast_1d(axis)), lambda n: 1.0)
        np.testing.assert_allclose(UnitNorm(axis)(w), expected, rtol=1e-6)

    @pytest.mark.parametrize("rate", [1.0, 0.25])
    def test_min_max_norm(self, rate):
        w = _weights((6, 5), seed=2, scale=0.6)  # norms below, inside and above the range
        expected = _per_slice(w, (0,), lambda n: rate * min(max(n, 1.0), 1.8) + (1 - rate) * n)
        np.testing.assert_allclose(MinMaxNorm(1.0, 1.8, rate)(w), expected, rtol=1e-6)

    def test_non_neg(self):
        w = _weights((4, 3), seed=3)
        np.testing.assert_array_equal(NonNeg()(w), np.where(w >= 0, w, 0))

    def test_keeps_dtype(self):
        for constraint in (MaxNorm(), UnitNorm(), MinMaxNorm(), NonNeg()):
            assert constraint(_weights((3, 2))).dtype == np.float32
            assert constraint(_weights((3, 2)).astype(np.float64)).dtype == np.float64

    def test_max_norm_leaves_small_slices_alone(self):
        w = _weights((4, 3), scale=0.1)
        np.testing.assert_allclose(MaxNorm(2.0)(w), w, rtol=1e-5)


class TestNamesAndConfig:
    def test_keras_defaults_and_aliases(self):
        assert MaxNorm().get_config() == {"max_value": 2.0, "axis": 0}
        assert UnitNorm().get_config() == {"axis": 0}
        assert MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0,
                                             "axis": 0}
        assert NonNeg().get_config() == {}
        assert (constraints.max_norm, constraints.non_neg, constraints.unit_norm,
                constraints.min_max_norm) == (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)

    @pytest.mark.parametrize("name, cls", [("max_norm", MaxNorm), ("MaxNorm", MaxNorm),
                                           ("non_neg", NonNeg), ("unit_norm", UnitNorm),
                                           ("min_max_norm", MinMaxNorm)])
    def test_get_by_name(self, name, cls):
        assert type(constraints.get(name)) is cls

    def test_get_none_instance_function_and_dict(self):
        assert constraints.get(None) is None
        instance = MaxNorm(3)
        assert constraints.get(instance) is instance

        def clip(w):
            return np.clip(w, -1, 1)
        assert constraints.get(clip) is clip
        restored = constraints.get({"class_name": "MaxNorm",
                                    "config": {"max_value": 3.0, "axis": [0, 1, 2]}})
        assert restored.axis == (0, 1, 2) and restored.max_value == 3.0

    @pytest.mark.parametrize("constraint", [MaxNorm(3, [0, 1]), UnitNorm(1), NonNeg(),
                                            MinMaxNorm(0.5, 2.0, 0.3, [0, 1, 2])])
    def test_config_round_trip(self, constraint):
        again = constraints.deserialize(constraints.serialize(constraint))
        assert type(again) is type(constraint)
        assert again.get_config() == constraint.get_config()

    @pytest.mark.parametrize("make, error", [
        (lambda: constraints.get("positive"), ValueError),
        (lambda: constraints.get(3), TypeError),
        (lambda: MaxNorm(-1), ValueError), (lambda: MaxNorm(axis="rows"), TypeError),
        (lambda: MaxNorm(axis=[0, 1.5]), TypeError),
        (lambda: MinMaxNorm(2.0, 1.0), ValueError),
        (lambda: UnitNorm(axis=2)(np.ones((3, 3))), ValueError),
        (lambda: constraints.serialize(np.abs), TypeError),
    ])
    def test_errors(self, make, error):
        with pytest.raises(error):
            make()


class TestTraining:
    def test_the_step_is_constrained_after_the_optimizer_update(self):
        def make(constraint):
            np.random.seed(5)
            model = models.Sequential([layers.Dense(3, kernel_constraint=constraint,
                                                    kernel_initializer="ones", input_dim=4)])
            model.compile(optimizers.SGD(0.5), "mse")
            return model

        x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
        y = np.full((8, 3), 5.0, np.float32)
        plain, constrained = make(None), make(MaxNorm(1.0))
        plain.train_on_batch(x, y)
        constrained.train_on_batch(x, y)
        # The ones kernel (column norm 2) is not constrained before the step, only after.
        expected = MaxNorm(1.0)(plain.layers[0].params["kernel"])
        np.testing.assert_allclose(constrained.layers[0].params["kernel"], expected, rtol=1e-6)
        np.testing.assert_allclose(constrained.layers[0].params["bias"],
                                   plain.layers[0].params["bias"], rtol=1e-6)

    def test_weights_satisfy_their_constraints_after_fit(self):
        np.random.seed(6)
        model = models.Sequential([
            layers.Conv2D(4, 3, kernel_constraint=UnitNorm([0, 1, 2]), bias_constraint="non_neg",
                          input_shape=(6, 6, 2)),
            layers.BatchNormalization(gamma_constraint=MinMaxNorm(0.5, 0.8, axis=0),
                                      beta_constraint=NonNeg()),
            layers.DepthwiseConv2D(3, depthwise_constraint=MaxNorm(0.3, [0, 1])),
            layers.SeparableConv2D(2, 2, depthwise_constraint="non_neg",
                                   pointwise_constraint=MaxNorm(0.2, [0, 1, 2])),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", kernel_constraint=MaxNorm(0.5))])
        model.compile(optimizers.SGD(0.5), "categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((32, 6, 6, 2)).astype(np.float32)
        model.fit(x, np.eye(3)[rng.integers(0, 3, 32)], epochs=2, batch_size=8, verbose=0)
        conv, bn, depthwise, separable, _, dense = model.layers
        tolerance = 1e-5
        np.testing.assert_allclose(np.linalg.norm(conv.params["kernel"].reshape(-1, 4), axis=0),
                                   1.0, rtol=tolerance)
        assert (conv.params["bias"] >= 0).all()
        assert 0.5 - tolerance <= np.linalg.norm(bn.params["gamma"]) <= 0.8 + tolerance
        assert (bn.params["beta"] >= 0).all()
        assert np.sqrt((depthwise.params["kernel"] ** 2).sum(axis=(0, 1))).max() <= 0.3 + tolerance
        assert (separable.params["depthwise_kernel"] >= 0).all()
        pointwise = separable.params["pointwise_kernel"]
        assert np.sqrt((pointwise ** 2).sum(axis=(0, 1, 2))).max() <= 0.2 + tolerance
        assert np.linalg.norm(dense.params["kernel"], axis=0).max() <= 0.5 + tolerance

    def test_frozen_layers_are_not_constrained(self):
        np.random.seed(7)
        model = models.Sequential([
            layers.Dense(3, kernel_constraint=MaxNorm(0.01), kernel_initializer="ones",
                         trainable=False, input_dim=2),
            layers.Dense(1)])
        model.compile("sgd", "mse")
        model.train_on_batch(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32))
        np.testing.assert_array_equal(model.layers[0].params["kernel"], 1.0)

    def test_a_function_constrains_but_cannot_be_saved(self, tmp_path):
        model = models.Sequential([layers.Dense(2, kernel_constraint=lambda w: np.clip(w, 0, 0.1),
                                                input_dim=3)])
        model.compile("sgd", "mse")
        model.train_on_batch(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32))
        kernel = model.layers[0].params["kernel"]
        assert kernel.min() >= 0 and kernel.max() <= 0.1
        with pytest.raises(TypeError, match="Constraint"):
            model.save(tmp_path / "m.npz")
        assert not (tmp_path / "m.npz").exists()

    def test_save_load_keeps_constraints(self, tmp_path):
        np.random.seed(8)
        model = models.Sequential([layers.Dense(3, kernel_constraint=MaxNorm(0.7, [0]),
                                                bias_constraint="non_neg", input_dim=4)])
        model.compile("sgd", "mse")
        model.save(tmp_path / "m.npz")
        loaded = models.load_model(tmp_path / "m.npz")
        assert loaded.layers[0].kernel_constraint.get_config() == {"max_value": 0.7, "axis": [0]}
        assert isinstance(loaded.layers[0].bias_constraint, NonNeg)
        x, y = np.ones((2, 4), np.float32), np.full((2, 3), 9.0, np.float32)
        model.train_on_batch(x, y)
        loaded.train_on_batch(x, y)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)
