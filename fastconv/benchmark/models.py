"""The model benchmark: one training epoch of each tutorial CNN on MNIST, fastconv's
Sequential.fit against the same network trained by a plain PyTorch loop.

Both sides train the same layers with the same optimizer, batch size and shuffling,
starting from the same data in memory; PyTorch's loop is the one its tutorials write
(index a batch, forward, cross-entropy on logits, backward, step) in NCHW, its default
memory format. fastconv's fit also computes the accuracy metric, as a Keras script does.
"""
import numpy as np

from fastconv import zoo

class ModelSpec:
    """One tutorial CNN: its name among fastconv.zoo's recipes (which build the fastconv
    model and name its optimizer), and its layers again for the PyTorch twin."""

    batch_size = 128

    def __init__(self, name, description, conv_layers, hidden=None):
        self.name = name
        self.description = description
        self.conv_layers = conv_layers      # [(filters, kernel size)], each then max-pool 2
        self.hidden = hidden                # units of a Dense relu layer before the output
        self.optimizer = zoo.RECIPES[name].optimizer
        self.learning_rate = zoo.DEFAULT_LEARNING_RATES[self.optimizer]

    def fastconv_model(self):
        model = zoo.RECIPES[self.name].build()
        model.compile(optimizer=zoo.make_optimizer(self.optimizer, self.learning_rate),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    def flat_features(self):
        """Length of the flattened features after the last pooling layer."""
        side, channels = 28, 1
        for filters, size in self.conv_layers:
            side, channels = (side - size + 1) // 2, filters
        return side * side * channels


MODELS = [
    ModelSpec("tutorial", "Conv 32 3×3 → MaxPool → Dense 100 → Dense 10, SGD",
              [(32, 3)], hidden=100),
    ModelSpec("cnn", "Conv 32 5×5 → MaxPool → Conv 64 5×5 → MaxPool → Dense 10, Adam",
              [(32, 5), (64, 5)]),
]
MODEL_NAMES = [m.name for m in MODELS]


def training_data(limit, seed=0):
    """(x (n, 28, 28, 1) float32 in [0, 1], one-hot y (n, 10), source): MNIST's first
    `limit` training images, or random images of the same shape when MNIST cannot be
    loaded (the time of an epoch does not depend on the pixel values)."""
    from fastconv.datasets import DatasetUnavailableError, mnist
    try:
        (x, labels), _ = mnist.load_data()
        source = "MNIST"
    except (DatasetUnavailableError, OSError):
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, 60000)
        source = "random images (MNIST unavailable)"
    x, labels = x[:limit], labels[:limit]
    x = (x.astype(np.float32) / 255.0)[..., None]
    y = np.eye(10, dtype=np.float32)[labels]
    return x, y, source


def fastconv_epoch(spec, x, y, seed=0):
    """A zero-argument callable that trains one more epoch of `spec` with fastconv."""
    np.random.seed(seed)
    model = spec.fastconv_model()
    return lambda: model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
