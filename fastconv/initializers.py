"""Weight initializers by their Keras names and classes.

An initializer is called as `init(shape, dtype="float32")` and returns a new array.
Without a seed it draws from NumPy's global generator, so `np.random.seed(...)` makes
a model's initial weights repeatable; with `seed=` it uses its own generator (the same
values on every call, as a seeded Keras initializer gives).
"""
import math

import numpy as np
from fastconv._registry import Configurable, Registry

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
           "LecunUniform", "LecunNormal", "get", "serialize", "deserialize"]

# Standard deviation of a unit normal truncated to [-2, 2]: Keras divides by it so
# that the truncated draws keep the variance VarianceScaling asks for.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978
TRUNCATION_BOUND = 2.0


def _random_source(seed):
    return np.random if seed is None else np.random.default_rng(seed)


def _truncated_standard_normal(source, shape):
    """Standard normal draws, redrawing those beyond +-2 (a few rounds, each vectorised)."""
    z = source.standard_normal(shape)
    outside = np.abs(z) > TRUNCATION_BOUND
    while outside.any():
        z[outside] = source.standard_normal(int(outside.sum()))
        outside = np.abs(z) > TRUNCATION_BOUND
    return z


def compute_fans(shape):
    """(fan_in, fan_out) as Keras computes them: conv kernels (..., C_in, C_out) count the
    receptive field, Dense kernels are (in, out)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer(Configurable):
    """Base class: `__call__(shape, dtype)` returns a new array of that shape and dtype."""

    def __call__(self, shape, dtype="float32"):
        shape = tuple(int(s) for s in shape)
        return np.asarray(self.sample(shape), dtype=dtype).reshape(shape)

    def sample(self, shape):
        """New values for an array of `shape` (any dtype; __call__ casts them)."""
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments, as a dict (from_config rebuilds an equal initializer)."""
        return {}



class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def sample(self, shape):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def sample(self, shape):
        return _random_source(self.seed).uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def sample(self, shape):
        return self.mean + self.stddev * _random_source(self.seed).standard_normal(shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Draws with variance scale / n, n the fan_in, fan_out or their average (Keras)."""

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal", "normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {self.DISTRIBUTIONS}, "
                             f"got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        source = _random_source(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return source.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * source.standard_normal(shape)
        # "normal" is Keras's old spelling of "truncated_normal".
        stddev = math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV
        return stddev * _truncated_standard_normal(source, shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _VarianceScalingPreset(VarianceScaling):
    """A named VarianceScaling whose only argument is the seed."""

    PRESET = None  # (scale, mode, distribution)

    def __init__(self, seed=None):
        super().__init__(*self.PRESET, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_VarianceScalingPreset):
    """Uniform in +-sqrt(6 / (fan_in + fan_out))."""
    PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out))."""
    PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """Uniform in +-sqrt(6 / fan_in)."""
    PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal, stddev sqrt(2 / fan_in)."""
    PRESET = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """Uniform in +-sqrt(3 / fan_in)."""
    PRESET = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal, stddev sqrt(1 / fan_in)."""
    PRESET = (1.0, "fan_in", "truncated_normal")


_REGISTRY = Registry("initializer", Initializer, {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_uniform": RandomUniform, "random_normal": RandomNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}, example="glorot_uniform")
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize

