"""Fashion-MNIST (Zalando's clothing images), loaded like `keras.datasets.fashion_mnist`.

Sources, in order: the cache, Debian's installed copy (a local read, so tried before any
network), the mirrors Keras and torchvision use, then Debian's package fetched without root.
"""
from fastconv.datasets._idx import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from fastconv.datasets._sources import (CachedIdxFiles, DebianPackage, IdxDataset, IdxFolder,
                                        Mirror, load_idx_dataset)

FASHION_MNIST = IdxDataset(title="Fashion-MNIST", cache_name="fashion-mnist", sha256={
    TRAIN_IMAGES: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    TRAIN_LABELS: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    TEST_IMAGES: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    TEST_LABELS: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
})

MIRRORS = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras
           "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")  # torchvision

DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DATA_DIR = "/usr/share/datasets/fashion-mnist"


def load_data(path=None):
    """Load Fashion-MNIST: ((x_train, y_train), (x_test, y_test)), uint8 arrays of shapes
    (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    path: a folder holding the four IDX .gz files, used alone and never modified; by
        default the cache ($FASTCONV_DATA, else ~/.cache/fastconv), filled on first use.
    Hash checks and errors are those of fastconv.datasets.mnist.load_data.
    """
    return load_idx_dataset(FASHION_MNIST, path, [
        CachedIdxFiles(FASHION_MNIST),
        IdxFolder(FASHION_MNIST, DEBIAN_DATA_DIR, "installed Debian package folder"),
        *(Mirror(FASHION_MNIST, url) for url in MIRRORS),
        DebianPackage(FASHION_MNIST, DEBIAN_PACKAGE, DEBIAN_DATA_DIR),
    ])
