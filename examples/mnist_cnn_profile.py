"""How much of one mnist_cnn.py training epoch is spent outside the compiled kernels.

Times every fastconv.ops call (convolution and pooling, forward and backward) during one
epoch and prints the share of the epoch spent elsewhere: the layers' NumPy work (ReLU,
Dense, the loss), the optimizer and fit's own loop. The target is under 15%.

    python examples/mnist_cnn_profile.py [--limit 60000] [--batch-size 128]
"""
import argparse
import time

import numpy as np

from fastconv import ops

from mnist_cnn import build_model, load_mnist

KERNEL_FUNCTIONS = ("conv2d", "conv2d_backward", "pool2d", "pool2d_backward")


def time_kernels():
    """Wrap the ops functions the layers call; return the list holding the seconds spent."""
    spent = [0.0]

    def timed(function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper

    for name in KERNEL_FUNCTIONS:
        setattr(ops, name, timed(getattr(ops, name)))
    return spent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60000, help="training images")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    np.random.seed(0)
    (x_train, y_train), _ = load_mnist(args.limit)
    model = build_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    # One short warm-up epoch so that first-call costs do not count.
    model.fit(x_train[:10 * args.batch_size], y_train[:10 * args.batch_size],
              batch_size=args.batch_size, verbose=0)
    spent = time_kernels()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0)
    total = time.perf_counter() - start
    steps = -(-len(x_train) // args.batch_size)
    print(f"one epoch of {len(x_train)} images: {total:.2f} s ({total / steps * 1000:.1f} ms "
          f"per step of {args.batch_size})")
    print(f"in the compiled kernels (fastconv.ops): {spent[0]:.2f} s; "
          f"outside: {total - spent[0]:.2f} s = {100 * (1 - spent[0] / total):.1f}%")


if __name__ == "__main__":
    main()
