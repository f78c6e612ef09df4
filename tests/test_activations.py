"""Activation functions: values, gradients against finite differences, lookup by name."""
import warnings

import numpy as np
import pytest

from fastconv import activations

FORMULAS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_values_match_the_formula(name):
    z = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(activations.get(name)(z), FORMULAS[name](z), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_gradient_matches_finite_differences(name, finite_differences):
    numeric_gradient, assert_gradient_close = finite_differences
    act = activations.get(name)
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4))
    r = rng.standard_normal((3, 4))
    analytic = act.gradient(r, z, act(z))
    assert_gradient_close(analytic, numeric_gradient(lambda: float((act(z) * r).sum()), z), name)


def test_float32_stays_float32():
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    for name in FORMULAS:
        act = activations.get(name)
        y = act(z)
        assert y.dtype == np.float32, name
        assert act.gradient(np.ones_like(z), z, y).dtype == np.float32, name


def test_no_overflow_for_extreme_inputs():
    z = np.array([[-1e4, 0.0, 1e4]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("sigmoid", "softmax", "elu", "tanh"):
            assert np.isfinite(activations.get(name)(z)).all(), name


def test_lookup_errors():
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        activations.get("relux")
    with pytest.raises(TypeError, match="gradient"):
        activations.get(np.tanh)


def test_serialize_round_trip():
    for act in (activations.relu, activations.Softmax(axis=1), activations.ELU(alpha=0.5),
                activations.ReLU(negative_slope=0.1, max_value=6.0)):
        assert activations.deserialize(activations.serialize(act)) == act
    assert activations.serialize(activations.relu) == "relu"
    assert activations.get(None) is activations.linear
