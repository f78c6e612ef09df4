"""The models of examples/, by name, each with the optimizer, epochs and learning-rate
schedule its example trains it with: the `--model` choices of `fastconv train`, the
benchmark's training runs and the ONNX export tests. It imports no command-line code.

examples/mnist_cnn.py and examples/mnist_mlp.py build their models here;
examples/mnist_tutorial.py keeps the Keras tutorial's own lines, which `tutorial_cnn`
mirrors.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from fastconv import layers, models, optimizers


def mnist_cnn():
    """Conv 32 5x5 -> MaxPool 2 -> Conv 64 5x5 -> MaxPool 2 -> Dense 10 softmax:
    >= 99.0% on MNIST in 6 epochs of Adam with `halve_from_third_epoch`."""
    return models.Sequential([
        layers.Conv2D(32, (5, 5), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (5, 5), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def halve_from_third_epoch(epoch, lr):
    """mnist_cnn's learning-rate schedule: it settles the last tenths of a percent."""
    return lr if epoch < 2 else lr * 0.5


def tutorial_cnn():
    """The classic Keras tutorial's CNN: Conv 32 3x3 he_uniform -> MaxPool 2 -> Dense 100
    relu -> Dense 10 softmax; > 98% on MNIST in 10 epochs of SGD with momentum 0.9."""
    return models.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform",
                      input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(100, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(10, activation="softmax"),
    ])


def vgg_bn():
    """The deeper CNN MNIST programs commonly use (VGG-style blocks with batch
    normalisation), valid padding, ReLU throughout: Conv 64 3x3 -> Conv 64 3x3 -> MaxPool 2
    -> BatchNorm -> Conv 128 3x3 -> Conv 128 3x3 -> MaxPool 2 -> BatchNorm -> Conv 256 3x3
    -> MaxPool 2 -> Flatten -> BatchNorm -> Dense 512 -> Dense 10 softmax; images shrink
    28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4 -> 2 -> 1. The model benchmark's `vgg-bn`."""
    return models.Sequential([
        layers.Conv2D(64, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.BatchNormalization(),
        layers.Conv2D(128, (3, 3), activation="relu"),
        layers.Conv2D(128, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.BatchNormalization(),
        layers.Conv2D(256, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.BatchNormalization(),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def mlp():
    """Keras's mnist_mlp: Dense 512 -> Dropout 0.2 -> Dense 512 -> Dropout 0.2 -> Dense 10,
    on flattened (784,) images; the baseline a CNN is compared with."""
    return models.Sequential([
        layers.Dense(512, activation="relu", input_shape=(784,)),
        layers.Dropout(0.2),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


@dataclass(frozen=True)
class Recipe:
    """A model and how its example trains it."""
    build: Callable[[], models.Sequential]
    optimizer: str  # a key of OPTIMIZERS
    epochs: int
    schedule: Optional[Callable[[int, float], float]] = None


RECIPES = {
    "cnn": Recipe(mnist_cnn, "adam", epochs=6, schedule=halve_from_third_epoch),
    "tutorial": Recipe(tutorial_cnn, "sgd", epochs=10),
    "mlp": Recipe(mlp, "rmsprop", epochs=10),
    "vgg-bn": Recipe(vgg_bn, "adam", epochs=5),
}

# Each optimizer as the examples configure it, from a learning rate.
OPTIMIZERS = {
    "adam": lambda lr: optimizers.Adam(learning_rate=lr),
    "sgd": lambda lr: optimizers.SGD(learning_rate=lr, momentum=0.9),  # the tutorial's
    "rmsprop": lambda lr: optimizers.RMSprop(learning_rate=lr),
}
DEFAULT_LEARNING_RATES = {"adam": 1e-3, "sgd": 0.01, "rmsprop": 1e-3}  # Keras's defaults


def make_optimizer(name, learning_rate=None):
    """The optimizer `name` ("adam", "sgd" with momentum 0.9, "rmsprop"), at
    `learning_rate` or else at Keras's default rate for it."""
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[name]
    return OPTIMIZERS[name](learning_rate)
