"""The model benchmark: training epochs of the tutorial CNNs and of the deeper `vgg-bn`
on MNIST, fastconv's Sequential.fit against the same network trained by a plain PyTorch
loop.

Each model is a recipe of fastconv.zoo; its PyTorch twin is derived from the fastconv
model itself (fastconv.benchmark.torch_baseline.torch_twin), so the two cannot drift
apart. Both sides train the same layers with the same optimizer, hyper-parameters and
batch size, starting from the same data in memory; PyTorch's loop is the one its
tutorials write (index a batch, forward, cross-entropy on logits, backward, step) in
NCHW, its default memory format. fastconv's fit also computes the accuracy metric, as a
Keras script does.
"""
import math
from dataclasses import dataclass

import numpy as np

from fastconv import zoo

# One MNIST epoch.
MNIST_TRAIN_IMAGES = 60000
# fastconv trains vgg-bn at about 150 (batch 32) to 300 (batch 128) images a second on the
# 2 shared cores: a full epoch would take minutes per implementation and round, so its
# timed epoch is the first 2560 images (80 steps at batch 32, 20 at 128); every step does
# the same work, so its time ratio to PyTorch estimates the full epoch's.
VGG_BN_IMAGES = 2560


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark model: `recipe` names the zoo recipe that builds it and its
    optimizer; an epoch is the first `images` training images in batches of `batch_size`."""
    name: str
    recipe: str
    description: str
    batch_size: int = 128
    images: int = MNIST_TRAIN_IMAGES

    def fastconv_model(self):
        """The recipe's model, compiled with its optimizer at Keras's default rate."""
        model = zoo.RECIPES[self.recipe].build()
        model.compile(optimizer=zoo.make_optimizer(zoo.RECIPES[self.recipe].optimizer),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    def epoch_images(self, quick_divisor=1):
        """Images per timed epoch; with quick_divisor, that many times fewer, rounded up to
        whole batches."""
        batches = math.ceil(self.images / quick_divisor / self.batch_size)
        return min(self.images, batches * self.batch_size)


_VGG_BN = ("Conv 64 3×3 → Conv 64 3×3 → MaxPool → BN → Conv 128 3×3 → Conv 128 3×3 → "
           "MaxPool → BN → Conv 256 3×3 → MaxPool → BN → Dense 512 → Dense 10, Adam")
MODELS = [
    ModelSpec("tutorial", "tutorial", "Conv 32 3×3 → MaxPool → Dense 100 → Dense 10, SGD"),
    ModelSpec("cnn", "cnn", "Conv 32 5×5 → MaxPool → Conv 64 5×5 → MaxPool → Dense 10, Adam"),
    ModelSpec("vgg-bn-b32", "vgg-bn", _VGG_BN, batch_size=32, images=VGG_BN_IMAGES),
    ModelSpec("vgg-bn-b128", "vgg-bn", _VGG_BN, batch_size=128, images=VGG_BN_IMAGES),
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
        x = rng.integers(0, 256, (MNIST_TRAIN_IMAGES, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, MNIST_TRAIN_IMAGES)
        source = "random images (MNIST unavailable)"
    x, labels = x[:limit], labels[:limit]
    x = (x.astype(np.float32) / 255.0)[..., None]
    y = np.eye(10, dtype=np.float32)[labels]
    return x, y, source


def fastconv_epoch(spec, x, y, seed=0):
    """A zero-argument callable that trains one more epoch of `spec` with fastconv on
    x and one-hot y; returns the History of that epoch."""
    np.random.seed(seed)
    model = spec.fastconv_model()
    return lambda: model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
