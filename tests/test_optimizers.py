"""Optimizers against hand-computed steps (Keras's update rules)."""
import math

import numpy as np
import pytest

from fastconv import optimizers


def _steps(optimizer, grads, w0=1.0):
    """Apply each gradient in turn to a one-element parameter; return the values after each."""
    w = np.array([w0], np.float64)
    values = []
    for g in grads:
        optimizer.apply_gradients([(np.array([g]), w)])
        values.append(float(w[0]))
    return values


def test_sgd_plain():
    assert _steps(optimizers.SGD(learning_rate=0.1), [2.0, -1.0]) == pytest.approx([0.8, 0.9])


def test_sgd_momentum():
    # v1 = -0.1*2 = -0.2, w = 0.8; v2 = 0.9*-0.2 - 0.1*1 = -0.28, w = 0.52
    assert _steps(optimizers.SGD(0.1, momentum=0.9), [2.0, 1.0]) == pytest.approx([0.8, 0.52])


def test_sgd_nesterov():
    # v1 = -0.2; w = 1 + 0.9*-0.2 - 0.2 = 0.62; v2 = -0.28; w = 0.62 + 0.9*-0.28 - 0.1 = 0.268
    assert _steps(optimizers.SGD(0.1, momentum=0.9, nesterov=True), [2.0, 1.0]) == \
        pytest.approx([0.62, 0.268])


def test_sgd_accepts_the_old_lr_spelling_and_decay():
    opt = optimizers.SGD(lr=0.5, decay=1.0)
    assert opt.learning_rate == 0.5
    # step 1 uses 0.5 / (1 + 0), step 2 uses 0.5 / (1 + 1)
    assert _steps(opt, [1.0, 1.0]) == pytest.approx([0.5, 0.25])


def test_adam_two_steps():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    opt = optimizers.Adam(learning_rate=lr)
    w, m, v, expected = 1.0, 0.0, 0.0, []
    for t, g in enumerate([0.5, -0.25], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (math.sqrt(v) + eps)
        expected.append(w)
    assert _steps(opt, [0.5, -0.25]) == pytest.approx(expected, rel=1e-12)
    assert opt.iterations == 2


@pytest.mark.parametrize("centered, momentum", [(False, 0.0), (True, 0.0), (False, 0.5)])
def test_rmsprop_two_steps(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7
    opt = optimizers.RMSprop(lr, rho=rho, momentum=momentum, centered=centered)
    w, v, avg, buf, expected = 1.0, 0.0, 0.0, 0.0, []
    for g in [0.5, -0.25]:
        v = rho * v + (1 - rho) * g * g
        denominator = v + eps
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator -= avg * avg
        step = lr * g / math.sqrt(denominator)
        buf = momentum * buf + step
        w -= buf if momentum else step
        expected.append(w)
    assert _steps(opt, [0.5, -0.25]) == pytest.approx(expected, rel=1e-12)


def test_float32_parameters_stay_float32_and_are_updated_in_place():
    w = np.ones(3, np.float32)
    for opt in (optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(), optimizers.RMSprop()):
        opt.apply_gradients([(np.full(3, 0.5, np.float32), w)])
        assert w.dtype == np.float32
        assert all(s.dtype == np.float32 for slots in opt.slots for s in slots.values())
    assert (w < 1).all()


def test_state_round_trip_continues_identically():
    grads = [np.array([0.3, -0.2]), np.array([0.1, 0.4]), np.array([-0.5, 0.2])]
    a, wa = optimizers.Adam(0.1), np.array([1.0, 2.0])
    for g in grads:
        a.apply_gradients([(g, wa)])
    b, wb = optimizers.Adam(0.1), np.array([1.0, 2.0])
    b.apply_gradients([(grads[0], wb)])
    c = optimizers.deserialize(optimizers.serialize(b))
    iterations, arrays = b.get_state()
    c.set_state(iterations, [x.copy() for x in arrays], [wb])
    for g in grads[1:]:
        c.apply_gradients([(g, wb)])
    np.testing.assert_array_equal(wa, wb)


def test_set_state_checks_shapes():
    opt = optimizers.SGD(momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        opt.set_state(1, [np.zeros(3)], [np.zeros(2)])


def test_names_and_errors():
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        optimizers.get("lion")
    with pytest.raises(TypeError):
        optimizers.get(0.1)
    with pytest.raises(TypeError):
        optimizers.SGD(0.1, momentun=0.9)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_and_sgd_in_place_updates_equal_keras_formulas_bit_for_bit(dtype):
    """The updates write into scratch arrays shared by all parameters (sizes up and down
    here); every value must be what Keras's out-of-place expressions give."""
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 2, 4), (4,), (50, 7), (1,)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    steps = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3)]
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    adam, sgd = optimizers.Adam(lr), optimizers.SGD(lr, momentum=0.9)
    got_adam, got_sgd = [p.copy() for p in params], [p.copy() for p in params]
    want_adam, want_sgd = [p.copy() for p in params], [p.copy() for p in params]
    m, v, velocity = ([np.zeros_like(p) for p in params] for _ in range(3))
    for t, grads in enumerate(steps, start=1):
        adam.apply_gradients(zip(grads, got_adam))
        sgd.apply_gradients(zip(grads, got_sgd))
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i, g in enumerate(grads):
            m[i] += (g - m[i]) * (1 - b1)
            v[i] += (np.square(g) - v[i]) * (1 - b2)
            want_adam[i] -= (m[i] * alpha) / (np.sqrt(v[i]) + eps)
            velocity[i] *= 0.9
            velocity[i] -= lr * g
            want_sgd[i] += velocity[i]
    for got, want in zip(got_adam + got_sgd, want_adam + want_sgd):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
