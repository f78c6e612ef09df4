"""The IDX format of MNIST and Fashion-MNIST: parse it, and read a folder of the four files.

IDX is big-endian: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one 4-byte size per dimension, then the data. Both data sets store unsigned
bytes: images have 3 dimensions (count, rows, cols), labels 1 (count).
"""
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from fastconv.datasets._cache import verify_sha256

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

MAGIC_OF_FILE = {TRAIN_IMAGES: IMAGES_MAGIC, TRAIN_LABELS: LABELS_MAGIC,
                 TEST_IMAGES: IMAGES_MAGIC, TEST_LABELS: LABELS_MAGIC}


def parse_idx(data, expected_magic, name="IDX data"):
    """Parse the bytes of an uncompressed IDX file into a writable uint8 array.

    Raises ValueError, naming `name`, if the magic number is not `expected_magic` or the
    sizes in the header do not match the length of the data.
    """
    ndim = expected_magic & 0xFF
    header_bytes = 4 * (1 + ndim)
    if len(data) < header_bytes:
        raise ValueError(f"{name}: {len(data)} bytes is too short for an IDX header "
                         f"({header_bytes} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{name}: IDX magic number is {magic}, expected {expected_magic}")
    shape = tuple(int.from_bytes(data[4 * i:4 * i + 4], "big") for i in range(1, ndim + 1))
    expected_len = header_bytes + math.prod(shape)
    if len(data) != expected_len:
        raise ValueError(f"{name}: header says shape {shape} ({expected_len} bytes in all), "
                         f"but the file holds {len(data)} bytes")
    # A copy, so callers get a writable array like Keras returns, not a view of `bytes`.
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes).reshape(shape).copy()


def read_idx_gz(path, expected_magic):
    """Read and parse a gzipped IDX file; ValueError if it is not valid gzip or IDX."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a valid gzip file: {exc}") from None
    return parse_idx(data, expected_magic, name=str(path))


def read_idx_folder(folder, sha256_of_file):
    """Verify and parse the four IDX files in `folder`.

    `sha256_of_file` maps each of IDX_FILES to its expected SHA-256. Returns
    ((x_train, y_train), (x_test, y_test)). Raises FileNotFoundError naming the missing
    files, HashMismatchError for a file whose hash differs (the file is not parsed).
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    missing = [name for name in IDX_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}")
    arrays = {}
    for name in IDX_FILES:
        verify_sha256(folder / name, sha256_of_file[name])
        arrays[name] = read_idx_gz(folder / name, MAGIC_OF_FILE[name])
    return ((arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS]),
            (arrays[TEST_IMAGES], arrays[TEST_LABELS]))
