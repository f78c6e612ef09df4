"""AdamW, Adadelta, Adagrad, Adamax, Nadam, gradient clipping, weight decay and the
learning-rate schedules, each against Keras 3's rule written out here in NumPy."""
import math

import numpy as np
import pytest

from fastconv import layers, models, optimizers
from fastconv.optimizers import schedules

STEPS = 5


def _run(optimizer, params=None, grads=None, steps=STEPS):
    """Apply `steps` steps of random float64 gradients; returns (params, grads used)."""
    rng = np.random.default_rng(3)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)] if params is None else params
    grads = grads or [[rng.standard_normal(p.shape) for p in params] for _ in range(steps)]
    start = [p.copy() for p in params]
    for step_grads in grads:
        optimizer.apply_gradients(zip([g.copy() for g in step_grads], params))
    return start, grads, params


def _expect(rule, start, grads, state_init):
    """Apply `rule(p, g, state, t, lr)` (t 1-based) to each parameter."""
    out = []
    for i, p in enumerate(start):
        p, state = p.copy(), state_init(p)
        for t, step_grads in enumerate(grads, 1):
            p = rule(p, step_grads[i], state, t)
        out.append(p)
    return out


def _check(optimizer, rule, state_init):
    start, grads, got = _run(optimizer)
    for g, e in zip(got, _expect(rule, start, grads, state_init)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_adagrad():
    lr, eps = 0.1, 1e-7

    def rule(p, g, s, t):
        s["acc"] = s["acc"] + g * g
        return p - lr * g / np.sqrt(s["acc"] + eps)
    _check(optimizers.Adagrad(lr), rule, lambda p: {"acc": np.full_like(p, 0.1)})


def test_adadelta():
    lr, rho, eps = 1.0, 0.95, 1e-7

    def rule(p, g, s, t):
        s["eg"] = rho * s["eg"] + (1 - rho) * g * g
        dx = -np.sqrt(s["ex"] + eps) / np.sqrt(s["eg"] + eps) * g
        s["ex"] = rho * s["ex"] + (1 - rho) * dx * dx
        return p + lr * dx
    _check(optimizers.Adadelta(lr), rule, lambda p: {"eg": 0 * p, "ex": 0 * p})


def test_adamax():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def rule(p, g, s, t):
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["u"] = np.maximum(b2 * s["u"], np.abs(g))
        return p - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)
    _check(optimizers.Adamax(0.01), rule, lambda p: {"m": 0 * p, "u": 0 * p})


def test_nadam():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** t)

    def rule(p, g, s, t):
        prod_t = np.prod([mu(i) for i in range(1, t + 1)])
        prod_t1 = prod_t * mu(t + 1)
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        m_hat = mu(t + 1) * s["m"] / (1 - prod_t1) + (1 - mu(t)) * g / (1 - prod_t)
        v_hat = s["v"] / (1 - b2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)
    _check(optimizers.Nadam(0.01), rule, lambda p: {"m": 0 * p, "v": 0 * p})


def _adam_rule(lr, wd=0.0, b1=0.9, b2=0.999, eps=1e-7):
    def rule(p, g, s, t):
        p = p - p * wd * lr
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        return p - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["v"]) + eps)
    return rule


def test_adamw_defaults_and_rule():
    opt = optimizers.AdamW()
    assert (opt.learning_rate, opt.weight_decay, opt.beta_1, opt.beta_2, opt.epsilon) == (
        0.001, 0.004, 0.9, 0.999, 1e-7)
    _check(optimizers.AdamW(0.05, weight_decay=0.1), _adam_rule(0.05, 0.1),
           lambda p: {"m": 0 * p, "v": 0 * p})


def test_weight_decay_on_sgd():
    lr, wd = 0.1, 0.01
    _check(optimizers.SGD(lr, weight_decay=wd), lambda p, g, s, t: p - p * wd * lr - lr * g,
           lambda p: {})


def test_clipvalue_and_clipnorm():
    lr = 0.1
    _check(optimizers.SGD(lr, clipvalue=0.5),
           lambda p, g, s, t: p - lr * np.clip(g, -0.5, 0.5), lambda p: {})

    def by_norm(p, g, s, t):
        n = np.sqrt((g * g).sum())
        return p - lr * (g * 0.7 / n if n > 0.7 else g)
    _check(optimizers.SGD(lr, clipnorm=0.7), by_norm, lambda p: {})


def test_global_clipnorm_scales_all_gradients_together():
    start, grads, got = _run(optimizers.SGD(1.0, global_clipnorm=1.0), steps=1)
    g = grads[0]
    norm = math.sqrt(sum((x * x).sum() for x in g))
    assert norm > 1.0
    for p0, gi, p in zip(start, g, got):
        np.testing.assert_allclose(p, p0 - gi / norm, rtol=1e-12)


def test_clipping_arguments_are_checked():
    with pytest.raises(ValueError, match="only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.Adam(clipnorm=-1.0)
    with pytest.raises(TypeError):
        optimizers.Adam(not_an_argument=1)


def test_every_optimizer_by_name():
    for name in ("adamw", "adadelta", "adagrad", "adamax", "nadam", "Nadam", "AdamW"):
        assert isinstance(optimizers.get(name), optimizers.Optimizer)


# -- schedules ------------------------------------------------------------------------
STEPS_TO_CHECK = np.arange(0, 60)


def _values(schedule):
    return np.array([schedule(int(s)) for s in STEPS_TO_CHECK])


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    p = STEPS_TO_CHECK / 7
    p = np.floor(p) if staircase else p
    np.testing.assert_allclose(_values(schedules.ExponentialDecay(0.1, 7, 0.5, staircase)),
                               0.1 * 0.5 ** p, rtol=1e-12)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    p = STEPS_TO_CHECK / 7
    p = np.floor(p) if staircase else p
    np.testing.assert_allclose(_values(schedules.InverseTimeDecay(0.1, 7, 0.5, staircase)),
                               0.1 / (1 + 0.5 * p), rtol=1e-12)


def test_piecewise_constant_decay():
    got = _values(schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]))
    s = STEPS_TO_CHECK
    np.testing.assert_array_equal(got, np.where(s <= 10, 1.0, np.where(s <= 20, 0.5, 0.1)))
    with pytest.raises(ValueError, match="1 less"):
        schedules.PiecewiseConstantDecay([10], [1.0])


@pytest.mark.parametrize("cycle", [False, True])
def test_polynomial_decay(cycle):
    s = STEPS_TO_CHECK.astype(float)
    if cycle:
        steps = 20 * np.maximum(np.ceil(s / 20), 1)
    else:
        s, steps = np.minimum(s, 20), 20
    expected = (0.1 - 0.001) * (1 - s / steps) ** 2 + 0.001
    np.testing.assert_allclose(
        _values(schedules.PolynomialDecay(0.1, 20, 0.001, power=2, cycle=cycle)), expected,
        rtol=1e-12)


def test_cosine_decay_with_and_without_warmup():
    s = np.minimum(STEPS_TO_CHECK, 30)
    np.testing.assert_allclose(
        _values(schedules.CosineDecay(0.1, 30, alpha=0.1)),
        0.1 * (0.9 * 0.5 * (1 + np.cos(np.pi * s / 30)) + 0.1), rtol=1e-12)
    s = np.minimum(STEPS_TO_CHECK, 40)
    warm = 0.0 + (1.0 - 0.0) * s / 10
    decay = 1.0 * 0.5 * (1 + np.cos(np.pi * (s - 10) / 30))
    np.testing.assert_allclose(
        _values(schedules.CosineDecay(0.0, 30, warmup_target=1.0, warmup_steps=10)),
        np.where(s < 10, warm, decay), rtol=1e-12, atol=1e-15)


def test_cosine_decay_restarts():
    # periods 10, 20, 40 (t_mul=2), peaks 1, 0.5, 0.25 (m_mul=0.5)
    expected = []
    for step in STEPS_TO_CHECK:
        start, length, peak = 0, 10, 1.0
        while step >= start + length:
            start, length, peak = start + length, length * 2, peak * 0.5
        expected.append(peak * 0.5 * (1 + math.cos(math.pi * (step - start) / length)))
    np.testing.assert_allclose(
        _values(schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)), expected,
        rtol=1e-9, atol=1e-12)
    one = _values(schedules.CosineDecayRestarts(1.0, 10, t_mul=1.0))
    np.testing.assert_allclose(one, 0.5 * (1 + np.cos(np.pi * (STEPS_TO_CHECK % 10) / 10)),
                               rtol=1e-12, atol=1e-15)


def test_a_schedule_drives_the_optimizer_by_its_iterations():
    schedule = schedules.ExponentialDecay(0.1, 1, 0.5)
    lrs = []

    def rule(p, g, s, t):
        lrs.append(0.1 * 0.5 ** (t - 1))
        return p - lrs[-1] * g
    opt = optimizers.SGD(schedule)
    _check(opt, rule, lambda p: {})
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** STEPS)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def _small_model(optimizer):
    np.random.seed(0)
    model = models.Sequential([layers.Input((5,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("make", [
    lambda: optimizers.Nadam(0.01, clipnorm=1.0),
    lambda: optimizers.AdamW(schedules.CosineDecay(0.01, 20, warmup_target=0.02,
                                                   warmup_steps=3)),
    lambda: optimizers.Adadelta(1.0, global_clipnorm=0.5),
    lambda: optimizers.Adagrad(0.1, weight_decay=0.01),
    lambda: optimizers.Adamax(0.01, clipvalue=0.1),
])
def test_save_and_resume_is_bitwise(make, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    straight = _small_model(make())
    straight.fit(x, y, epochs=2, batch_size=16, verbose=0)
    straight.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    first = _small_model(make())
    first.fit(x, y, epochs=2, batch_size=16, verbose=0)
    first.save(tmp_path / "m.npz")
    resumed = models.load_model(tmp_path / "m.npz")
    assert type(resumed.optimizer) is type(first.optimizer)
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
