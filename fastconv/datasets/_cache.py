"""Where data sets are cached, SHA-256 checks, and writes that never leave half a file.

The cache is `$FASTCONV_DATA` or else `~/.cache/fastconv/`, one sub-folder per data set.
Every file is written with fastconv._atomic.atomic_write (a temporary name in its final
folder, renamed into place), so a reader sees either no file or the whole file, even if
the process is killed mid-download.
"""
import hashlib
import os
from pathlib import Path

from fastconv._atomic import atomic_write

DATA_HOME_ENV_VAR = "FASTCONV_DATA"

# Large enough that hashing and copying are not dominated by Python call overhead.
CHUNK_BYTES = 1 << 20


class HashMismatchError(ValueError):
    """A file's SHA-256 is not the one expected: the file must not be used."""

    def __init__(self, name, expected, actual):
        super().__init__(f"{name}: SHA-256 mismatch: expected {expected}, got {actual}")
        self.name = name
        self.expected = expected
        self.actual = actual


def data_home():
    """The root of fastconv's data cache: `$FASTCONV_DATA` if set, else ~/.cache/fastconv."""
    configured = os.environ.get(DATA_HOME_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "fastconv"


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path, expected):
    """Raise HashMismatchError, naming `path` and both hashes, unless the file matches."""
    actual = sha256_of_file(path)
    if actual != expected:
        raise HashMismatchError(str(path), expected, actual)


def store_verified(dest, chunks, expected_sha256, source_name):
    """Write the byte chunks to `dest` atomically if their SHA-256 is the expected one.

    On a mismatch nothing is written and HashMismatchError names `source_name`.
    """
    digest = hashlib.sha256()
    with atomic_write(dest) as f:
        for chunk in chunks:
            digest.update(chunk)
            f.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise HashMismatchError(source_name, expected_sha256, digest.hexdigest())
