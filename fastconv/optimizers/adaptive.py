"""Adagrad, Adadelta, Adamax, Nadam and AdamW: Keras 3's update rules and defaults.

Each `update_step` is the per-parameter rule of Keras 3's optimizer of the same name
(keras/src/optimizers/*.py); the tests write each out again in NumPy.
"""
import numpy as np

from fastconv.optimizers.base import Adam, Optimizer

__all__ = ["Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW"]


class Adagrad(Optimizer):
    """accumulator += g^2; w -= lr g / sqrt(accumulator + epsilon)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 decay=0.0, name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def slot_names(self):
        return ("accumulator",)

    def build(self, params):
        super().build(params)
        for slots in self.slots:
            slots["accumulator"].fill(self.initial_accumulator_value)

    def update_step(self, grad, param, slots, lr):
        accumulator = slots["accumulator"]
        accumulator += np.square(grad)
        param -= lr * grad / np.sqrt(accumulator + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Zeiler's Adadelta: the step is -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) g, scaled
    by the learning rate (Keras's default 0.001)."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, decay=0.0, name=None,
                 lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, grad, param, slots, lr):
        rho, eps = self.rho, self.epsilon
        accumulated_grad, accumulated_delta = slots["accumulated_grad"], slots[
            "accumulated_delta_var"]
        accumulated_grad *= rho
        accumulated_grad += (1 - rho) * np.square(grad)
        delta = -np.sqrt(accumulated_delta + eps) * grad / np.sqrt(accumulated_grad + eps)
        accumulated_delta *= rho
        accumulated_delta += (1 - rho) * np.square(delta)
        param += lr * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm: u = max(beta_2 u, |g|);
    w -= lr m / ((1 - beta_1^t) (u + epsilon))."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 decay=0.0, name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def slot_names(self):
        return ("m", "u")

    def update_step(self, grad, param, slots, lr):
        t = self.iterations + 1
        m, u = slots["m"], slots["u"]
        m += (grad - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        param -= (lr * m) / ((1 - self.beta_1 ** t) * (u + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


# Nadam's momentum schedule: mu_t = beta_1 (1 - 0.5 * 0.96^t) (Dozat; Keras 3).
_NADAM_DECAY = 0.96


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with Keras's momentum schedule."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 decay=0.0, name=None, lr=None, **kwargs):
        super().__init__(learning_rate, decay, name, lr, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.u_product = 1.0

    def slot_names(self):
        return ("m", "v")

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * _NADAM_DECAY ** t)

    def begin_step(self):
        self.u_product *= self._mu(self.iterations + 1)

    def set_state(self, iterations, arrays, params):
        super().set_state(iterations, arrays, params)
        # The product of the mu's so far, recomputed in the order the steps made it.
        self.u_product = 1.0
        for t in range(1, self.iterations + 1):
            self.u_product *= self._mu(t)

    def update_step(self, grad, param, slots, lr):
        t = self.iterations + 1
        u_t, u_t1 = self._mu(t), self._mu(t + 1)
        u_product_t = self.u_product
        u_product_t1 = u_product_t * u_t1
        m, v = slots["m"], slots["v"]
        m += (grad - m) * (1 - self.beta_1)
        v += (np.square(grad) - v) * (1 - self.beta_2)
        m_hat = u_t1 * m / (1 - u_product_t1) + (1 - u_t) * grad / (1 - u_product_t)
        v_hat = v / (1 - self.beta_2 ** t)
        param -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w -= w * weight_decay * lr
    before each Adam step; Keras's default weight_decay is 0.004."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, decay=0.0, name=None, lr=None, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (a number >= 0), got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, decay, name, lr,
                         weight_decay=weight_decay, **kwargs)
