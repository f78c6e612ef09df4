"""MNIST with the two-convolution CNN behind augmentation layers (small rotations,
shifts and zooms, active in training only) and a cosine learning-rate schedule with
warm-up. The issue's target is >= 99.4% test accuracy: the full run (15 epochs, seed 0)
reached 99.44%, training in 516 s (34 s per epoch, validation included) on one thread of
the 2-core machine while another training used the other core.

    python examples/mnist_augmented.py [--epochs 15] [--batch-size 128] [--limit N] [--verbose 2]
"""
import argparse
import math
import time

import numpy as np

from fastconv import datasets, layers, models, optimizers


def build_model():
    return models.Sequential([
        layers.Input((28, 28, 1)),
        layers.Rescaling(1 / 255),
        layers.RandomRotation(0.04, fill_mode="constant"),  # about +-15 degrees
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        layers.RandomZoom(0.1, fill_mode="constant"),
        layers.Conv2D(32, 5, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 5, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None, help="use only N training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_train = x_train.astype("float32")[..., None]  # Rescaling divides by 255
    x_test = x_test.astype("float32")[..., None]

    steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    warmup = steps // 20
    schedule = optimizers.schedules.CosineDecay(
        1e-4, steps - warmup, alpha=0.01, warmup_target=2e-3, warmup_steps=warmup)
    model = build_model()
    if args.verbose:
        model.summary()
    model.compile(optimizer=optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), verbose=args.verbose)
    elapsed = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"trained {len(history.epoch)} epochs in {elapsed:.1f} s "
          f"({elapsed / len(history.epoch):.1f} s per epoch, validation included)")
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
