"""MNIST with a 512-512 multilayer perceptron (Keras's mnist_mlp example), the baseline a
CNN is compared with: more parameters than examples/mnist_cnn.py, and lower accuracy.

    python examples/mnist_mlp.py [--epochs 10] [--compare-cnn]

--compare-cnn also trains the CNN of mnist_cnn.py for the same epochs and prints both.
"""
import argparse
import time

import numpy as np

from fastconv import datasets, optimizers, utils
# The models, shared with `fastconv train --model mlp|cnn`:
from fastconv.zoo import mlp, mnist_cnn


def train(name, model, x_train, y_train, x_test, y_test, epochs, batch_size):
    model.summary()
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_data=(x_test, y_test), verbose=2)
    seconds_per_epoch = (time.perf_counter() - start) / len(history.epoch)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return name, model.count_params(), seconds_per_epoch, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--compare-cnn", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    np.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train, y_test = utils.to_categorical(y_train, 10), utils.to_categorical(y_test, 10)

    mlp_model = mlp()
    mlp_model.compile(optimizer=optimizers.RMSprop(), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    results = [train("MLP 512-512", mlp_model, x_train, y_train, x_test, y_test, args.epochs,
                     args.batch_size)]
    if args.compare_cnn:
        cnn = mnist_cnn()
        cnn.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        results.append(train("CNN (mnist_cnn.py)", cnn, x_train.reshape(-1, 28, 28, 1),
                             y_train, x_test.reshape(-1, 28, 28, 1), y_test, args.epochs,
                             args.batch_size))
    print(f"\n{'model':<20}{'params':>10}{'s/epoch':>10}{'test accuracy':>16}")
    for name, params, seconds, accuracy in results:
        print(f"{name:<20}{params:>10,}{seconds:>10.1f}{accuracy:>16.4f}")


if __name__ == "__main__":
    main()
