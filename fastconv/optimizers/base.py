"""The optimizer base class (Keras 3's rules for every optimizer): learning rate (a number
or a schedule), Keras 2's `decay`, gradient clipping (clipnorm, clipvalue,
global_clipnorm) and decoupled weight decay; and SGD, Adam, RMSprop.

An optimizer keeps one dict of slot arrays (momentum, moments) per parameter, in the
order the parameters are given, and an iteration count; `get_state`/`set_state` expose
them so that a saved model resumes training exactly. A learning rate given as a number
may be changed between steps (LearningRateScheduler does); `decay` is Keras 2's
time-based decay, learning_rate / (1 + decay * iterations).

One step, in Keras's order: clip the gradients, apply weight decay
(w -= w * weight_decay * lr), then the optimizer's own update.
"""
import math
import numbers

import numpy as np
from fastconv._registry import Registry
from fastconv.optimizers import schedules

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop"]


def _optional_positive(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    return float(value)


def clip_by_norm(grad, clipnorm):
    """grad scaled down so that its L2 norm is at most clipnorm (Keras's clip_by_norm)."""
    norm = math.sqrt(float(np.vdot(grad, grad)))
    return grad if norm <= clipnorm else grad * grad.dtype.type(clipnorm / norm)


def clip_by_global_norm(grads, clipnorm):
    """All gradients scaled by one factor so that their joint L2 norm is at most clipnorm."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if norm <= clipnorm:
        return grads
    return [g * g.dtype.type(clipnorm / norm) for g in grads]


class Optimizer:
    """Base class: subclasses name their slots and implement `update_step`."""

    def __init__(self, learning_rate, decay=0.0, name=None, lr=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        if lr is not None:  # Keras 2's spelling
            learning_rate = lr
        if isinstance(learning_rate, dict):  # a saved schedule
            learning_rate = schedules.deserialize(learning_rate)
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = float(learning_rate)
            if self._learning_rate < 0:
                raise ValueError(f"learning_rate must be >= 0, got {learning_rate!r}")
        self.decay = float(decay)
        self.name = name or type(self).__name__
        clips = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(clips) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be "
                             f"set, got {', '.join(clips)}")
        self.clipnorm = _optional_positive("clipnorm", clipnorm)
        self.clipvalue = _optional_positive("clipvalue", clipvalue)
        self.global_clipnorm = _optional_positive("global_clipnorm", global_clipnorm)
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        if self.weight_decay is not None and self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0 or None, got {weight_decay!r}")
        self.iterations = 0
        self.slots = None
        self._scratch = {}  # dtype -> the flat buffer behind scratch()

    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule's value at `iterations`)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError("this optimizer was created with a LearningRateSchedule as its "
                            "learning_rate, hence its learning rate is not settable")
        self._learning_rate = float(value)

    @property
    def lr(self):
        """Keras 2's name for learning_rate (read and write)."""
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = value

    def slot_names(self):
        """The names of the per-parameter state arrays (momentum, ...), in saving order."""
        return ()

    def build(self, params):
        """Create zeroed slots for these parameter arrays."""
        self.slots = [{s: np.zeros_like(p) for s in self.slot_names()} for p in params]

    def scratch(self, like, count):
        """`count` arrays shaped and typed like `like`, with garbage values: views of a
        buffer kept between steps, so that an update's temporaries cost no allocation
        (and no page faults on a large parameter) per parameter and step."""
        size = like.size
        buffer = self._scratch.get(like.dtype)
        if buffer is None or buffer.size < count * size:
            buffer = self._scratch[like.dtype] = np.empty(count * size, like.dtype)
        return [buffer[i * size:(i + 1) * size].reshape(like.shape) for i in range(count)]

    def current_learning_rate(self):
        """The learning rate of the next step, after the decay of the steps taken."""
        return self.learning_rate / (1 + self.decay * self.iterations)

    def _clipped(self, grads):
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm)
        return grads

    def apply_gradients(self, grads_and_vars):
        """One step: update each parameter array in place from its gradient."""
        pairs = list(grads_and_vars)
        if self.slots is None:
            self.build([p for _, p in pairs])
        if len(pairs) != len(self.slots):
            raise ValueError(f"{self.name} was built for {len(self.slots)} parameter arrays, "
                             f"got {len(pairs)}")
        lr = self.current_learning_rate()
        grads = self._clipped([g for g, _ in pairs])
        if self.weight_decay:
            for _, param in pairs:
                param -= param * param.dtype.type(self.weight_decay * lr)
        self.begin_step()
        for grad, (_, param), slots in zip(grads, pairs, self.slots):
            self.update_step(grad, param, slots, lr)
        self.iterations += 1

    def begin_step(self):
        """Once per step, before the updates: state shared by all parameters (Nadam's)."""

    def update_step(self, grad, param, slots, lr):
        """Update one parameter array in place from its gradient, its slots and the rate lr."""
        raise NotImplementedError
    def get_state(self):
        """(iterations, the slot arrays as a flat list: per parameter, in slot_names order)."""
        arrays = [] if self.slots is None else [s[k] for s in self.slots for k in self.slot_names()]
        return self.iterations, arrays

    def set_state(self, iterations, arrays, params):
        """Restore get_state()'s output for these parameter arrays (shapes checked)."""
        self.build(params)
        names = self.slot_names()
        if len(arrays) != len(self.slots) * len(names):
            raise ValueError(f"{self.name} state holds {len(arrays)} arrays, expected "
                             f"{len(self.slots) * len(names)}")
        for i, array in enumerate(arrays):
            slot = self.slots[i // len(names)][names[i % len(names)]]
            if np.shape(array) != slot.shape:
                raise ValueError(f"{self.name} state array {i} has shape {np.shape(array)}, "
                                 f"expected {slot.shape}")
            np.copyto(slot, array, casting="unsafe")
        self.iterations = int(iterations)

    def get_config(self):
        """The constructor arguments, as a dict (from_config rebuilds an equal optimizer)."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(learning_rate)
        return {"name": self.name, "learning_rate": learning_rate, "decay": self.decay,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        """A new optimizer (without state) that get_config() describes."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent, with (Nesterov) momentum: v = momentum v - lr g; w += v."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, decay=0.0,
                 name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def slot_names(self):
        return ("momentum",) if self.momentum else ()

    def update_step(self, grad, param, slots, lr):
        if not self.momentum:
            param -= lr * grad
            return
        velocity = slots["momentum"]
        velocity *= self.momentum
        step, = self.scratch(param, 1)
        velocity -= np.multiply(grad, lr, out=step)
        if self.nesterov:
            param += self.momentum * velocity - lr * grad
        else:
            param += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba) with Keras's defaults and its epsilon placement:
    w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 decay=0.0, name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def slot_names(self):
        return ("m", "v")

    def update_step(self, grad, param, slots, lr):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m, v = slots["m"], slots["v"]
        # m += (g - m)(1 - beta_1); v += (g² - v)(1 - beta_2);
        # w -= m alpha / (sqrt(v) + epsilon): Keras's operations and roundings, written
        # into two scratch arrays instead of eight new ones (1.8× faster on vgg-bn's).
        step, denominator = self.scratch(param, 2)
        np.subtract(grad, m, out=step)
        step *= 1 - self.beta_1
        m += step
        np.square(grad, out=step)
        step -= v
        step *= 1 - self.beta_2
        v += step
        np.multiply(m, alpha, out=step)
        np.sqrt(v, out=denominator)
        denominator += self.epsilon
        step /= denominator
        param -= step

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop as in Keras: v = rho v + (1 - rho) g^2; step lr g / sqrt(v + epsilon),
    optionally centred (variance instead of raw second moment) and with momentum."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, decay=0.0, name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def slot_names(self):
        return (("velocity",) + (("average_gradient",) if self.centered else ())
                + (("momentum",) if self.momentum else ()))

    def update_step(self, grad, param, slots, lr):
        velocity = slots["velocity"]
        velocity *= self.rho
        velocity += (1 - self.rho) * np.square(grad)
        denominator = velocity + self.epsilon
        if self.centered:
            average = slots["average_gradient"]
            average *= self.rho
            average += (1 - self.rho) * grad
            denominator -= np.square(average)
        increment = lr * grad / np.sqrt(denominator)
        if self.momentum:
            buffer = slots["momentum"]
            buffer *= self.momentum
            buffer += increment
            increment = buffer
        param -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
