"""Initializers: Keras's scales, shapes, dtypes, seeds and lookup."""
import numpy as np
import pytest

from fastconv import initializers

SHAPE = (5, 5, 32, 64)  # a conv kernel: fan_in 800, fan_out 1600
FAN_IN, FAN_OUT = 25 * 32, 25 * 64

# (name, expected standard deviation, uniform limit or None)
VARIANCE_SCALED = [
    ("glorot_uniform", np.sqrt(2 / (FAN_IN + FAN_OUT)), np.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("glorot_normal", np.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    ("he_uniform", np.sqrt(2 / FAN_IN), np.sqrt(6 / FAN_IN)),
    ("he_normal", np.sqrt(2 / FAN_IN), None),
    ("lecun_uniform", np.sqrt(1 / FAN_IN), np.sqrt(3 / FAN_IN)),
    ("lecun_normal", np.sqrt(1 / FAN_IN), None),
]


@pytest.mark.parametrize("name, std, limit", VARIANCE_SCALED)
def test_variance_scaling_statistics(name, std, limit):
    w = initializers.get(name)(SHAPE)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.std() - std) < 0.02 * std
    assert abs(w.mean()) < 0.02 * std
    if limit is not None:
        assert np.abs(w).max() <= limit
    else:  # truncated at two of the underlying normal's standard deviations
        assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-6


def test_zeros_ones_constant():
    assert not initializers.get("zeros")((3, 2)).any()
    assert (initializers.get("ones")((3,)) == 1).all()
    assert (initializers.Constant(0.25)((2, 2), dtype="float64") == 0.25).all()


def test_seeded_initializer_repeats_and_global_seed_is_honoured():
    a = initializers.HeNormal(seed=3)((4, 4))
    np.testing.assert_array_equal(a, initializers.HeNormal(seed=3)((4, 4)))
    np.random.seed(5)
    b = initializers.GlorotUniform()((4, 4))
    np.random.seed(5)
    np.testing.assert_array_equal(b, initializers.GlorotUniform()((4, 4)))


def test_dense_fans():
    assert initializers.compute_fans((784, 10)) == (784, 10)
    assert initializers.compute_fans((3, 3, 1, 32)) == (9, 288)


def test_lookup_by_name_class_name_object_and_config():
    assert isinstance(initializers.get("he_uniform"), initializers.HeUniform)
    assert isinstance(initializers.get("HeUniform"), initializers.HeUniform)
    init = initializers.RandomNormal(stddev=0.1, seed=2)
    assert initializers.get(init) is init
    clone = initializers.deserialize(initializers.serialize(init))
    np.testing.assert_array_equal(clone((3, 3)), init((3, 3)))
    with pytest.raises(ValueError, match="unknown initializer 'xavier'"):
        initializers.get("xavier")
    with pytest.raises(TypeError):
        initializers.get(3.0)
