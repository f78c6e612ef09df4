"""One training epoch fed by an augmenting ImageDataGenerator, with and without the
background prefetch (fit's workers=1 / workers=0), in interleaved rounds; prints each
round and the medians; then the two parts of a step, making the augmented batch and
training on it (prefetching hides at most the first); and the cost of slicing an array
batch, the case that is not prefetched.

    python bench/prefetch_epoch.py [--images 4096] [--rounds 3] [--batch-size 128]
"""
import argparse
import statistics
import time

import numpy as np

from fastconv import datasets, layers, models
from fastconv.preprocessing.image import ImageDataGenerator


def build_model():
    """examples/fashion_mnist_cnn.py's network."""
    return models.Sequential([
        layers.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def epoch_seconds(x, y, batch_size, workers):
    np.random.seed(0)
    model = build_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                                 height_shift_range=0.1, zoom_range=0.1)
    model.fit(x[:batch_size], y[:batch_size], verbose=0)  # build and warm up
    start = time.perf_counter()
    model.fit(datagen.flow(x, y, batch_size=batch_size, seed=0), epochs=1, verbose=0,
              workers=workers)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    (x, y), _ = datasets.mnist.load_data()
    x = (x[:args.images].astype("float32") / 255)[..., None]
    y = y[:args.images]

    times = {"prefetch": [], "no prefetch": []}
    for round_ in range(args.rounds):
        for name, workers in (("prefetch", 1), ("no prefetch", 0)):
            times[name].append(epoch_seconds(x, y, args.batch_size, workers))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s"
                                                  for k, v in times.items()))
    medians = {k: statistics.median(v) for k, v in times.items()}
    print(f"median epoch of {args.images} images: prefetch {medians['prefetch']:.2f} s, "
          f"no prefetch {medians['no prefetch']:.2f} s "
          f"({medians['no prefetch'] / medians['prefetch']:.2f}x)")

    # The parts: what prefetching can hide is the batch-making time, at most.
    np.random.seed(0)
    model = build_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    flow = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                              height_shift_range=0.1, zoom_range=0.1).flow(
        x, y, batch_size=args.batch_size, seed=0)
    model.train_on_batch(*flow[0])
    parts = {"make a batch": [], "train on it": []}
    for i in range(8):
        start = time.perf_counter()
        batch = flow[i]
        parts["make a batch"].append(time.perf_counter() - start)
        start = time.perf_counter()
        model.train_on_batch(*batch)
        parts["train on it"].append(time.perf_counter() - start)
    print("median of 8 steps: " + ", ".join(f"{k} {statistics.median(v) * 1e3:.1f} ms"
                                            for k, v in parts.items()))

    order = np.random.default_rng(0).permutation(len(x))
    start = time.perf_counter()
    for i in range(0, len(x), args.batch_size):
        index = order[i:i + args.batch_size]
        x[index], y[index]
    per_batch = (time.perf_counter() - start) / -(-len(x) // args.batch_size)
    print(f"slicing one shuffled array batch: {per_batch * 1e6:.0f} us")


if __name__ == "__main__":
    main()
