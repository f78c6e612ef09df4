"""Where one training step of a zoo model spends its time, part by part.

Usage: PYTHONPATH=. python tools/step_profile.py [--model vgg-bn] [--batch-size 32] [--steps 30]

Wraps every layer's forward and backward, the unfused activations (a Dense layer's ReLU;
a Conv2D applies its ReLU inside the kernel) and the optimizer update with timers, trains
`--steps` steps on random images after a few warm-up steps, and prints each part's share
of the steps' wall time. A nested timer's time is its own: a Dense forward excludes the
ReLU it applies. "rest" is the loss, the metric and fit's own loop.
On a shared machine read the shares (ratios within one run), not the absolute times.
"""
import argparse
import time
from collections import defaultdict

import numpy as np

from fastconv import zoo

WARMUP_STEPS = 3


class ExclusiveTimers:
    """Seconds per label, each timed call's own: time spent in timed calls nested inside
    it goes to their labels instead."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self._stack = []  # [label, start, nested seconds]

    def wrap(self, label, function):
        def timed(*args, **kwargs):
            self._stack.append([label, time.perf_counter(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                label_, start, nested = self._stack.pop()
                spent = time.perf_counter() - start
                self.seconds[label_] += spent - nested
                if self._stack:
                    self._stack[-1][2] += spent
        return timed


class TimedActivation:
    """An activation whose application and gradient are timed under one label."""

    def __init__(self, activation, timers, label):
        self._activation = activation
        self._apply = timers.wrap(label, activation.__call__)
        self.gradient = timers.wrap(label + " backward", activation.gradient)

    def __call__(self, z):
        return self._apply(z)

    def __getattr__(self, name):
        return getattr(self._activation, name)


def instrument(model, timers):
    """Wrap the layers' passes, their unfused activations and the optimizer update."""
    for layer in model.layers:
        kind = type(layer).__name__
        layer.forward = timers.wrap(f"{kind} forward", layer.forward)
        layer.backward = timers.wrap(f"{kind} backward", layer.backward)
        layer.backward_call = timers.wrap(f"{kind} backward", layer.backward_call)
        fused = getattr(layer, "FUSES_RELU", False) and layer.activation.name == "relu"
        if layer.activation.name != "linear" and not fused:
            layer.activation = TimedActivation(layer.activation, timers,
                                               f"{layer.activation.name} (unfused)")
    optimizer = model.optimizer
    optimizer.apply_gradients = timers.wrap(f"{type(optimizer).__name__} update",
                                            optimizer.apply_gradients)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=list(zoo.RECIPES), default="vgg-bn")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()

    np.random.seed(0)
    recipe = zoo.RECIPES[args.model]
    model = recipe.build()
    model.compile(optimizer=zoo.make_optimizer(recipe.optimizer),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    n = args.batch_size * args.steps
    x = rng.random((n,) + model.input_shape[1:], dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    model.fit(x[:WARMUP_STEPS * args.batch_size], y[:WARMUP_STEPS * args.batch_size],
              batch_size=args.batch_size, verbose=0)

    timers = ExclusiveTimers()
    instrument(model, timers)
    start = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    total = time.perf_counter() - start
    timed = sum(timers.seconds.values())
    print(f"{args.model}, batch {args.batch_size}: {args.steps} steps, "
          f"{1e3 * total / args.steps:.1f} ms per step")
    rows = sorted(timers.seconds.items(), key=lambda item: -item[1]) + [("rest", total - timed)]
    for label, seconds in rows:
        print(f"  {label:28s} {1e3 * seconds / args.steps:8.2f} ms  {100 * seconds / total:5.1f}%")


if __name__ == "__main__":
    main()
