"""The places an MNIST-format data set can come from, and the loop that tries them in order.

A source has a `description` (for error messages), `downloads` (whether it goes to the
network) and `load()`, which returns ((x_train, y_train), (x_test, y_test)) or raises one of
SOURCE_ERRORS. Every file is checked against its SHA-256 before it is used.
"""
import pickle
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fastconv.datasets._arrays import as_splits, load_arrays_npz, verify_arrays
from fastconv.datasets._cache import HashMismatchError, data_home, sha256_of_file, store_verified
from fastconv.datasets._fetch import FetchError, apt_download_extract, url_chunks
from fastconv.datasets._idx import IDX_FILES, read_idx_folder

# Errors that mean "this source cannot deliver": record them and try the next source.
# Anything else is a bug and propagates.
SOURCE_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError,
                 FetchError)


class DatasetUnavailableError(RuntimeError):
    """No source could deliver the data set; the message lists what was tried and why."""


@dataclass(frozen=True)
class IdxDataset:
    """An MNIST-format data set: its name, cache folder name and the SHA-256 of its IDX files."""
    title: str
    cache_name: str
    sha256: dict  # each of IDX_FILES -> SHA-256 of the .gz file

    def cache_dir(self):
        return data_home() / self.cache_name


def load_idx_dataset(dataset, path, sources):
    """The public loaders' body: the user's folder alone if `path` is given, else `sources`."""
    if path is not None:
        # The user's own files: used as they are, never deleted or written to.
        return read_idx_folder(path, dataset.sha256)
    return load_first_available(dataset, sources)


def load_first_available(dataset, sources):
    """Return the splits from the first source that delivers; print one line before
    the first download; DatasetUnavailableError listing every failure if none does."""
    tried = []
    announced = False
    for source in sources:
        if source.downloads and not announced:
            print(f"fastconv: {dataset.title} is not in {dataset.cache_dir()}, downloading it",
                  file=sys.stderr)
            announced = True
        try:
            return source.load()
        except SOURCE_ERRORS as exc:
            tried.append(f"  - {source.description}: {exc}")
    raise DatasetUnavailableError(
        f"could not load {dataset.title}. Tried, in order:\n" + "\n".join(tried) +
        f"\nPut the files {', '.join(IDX_FILES)} in a folder and call "
        f"load_data(path=that_folder), or copy them into {dataset.cache_dir()}.")


def discard_corrupt_cache_file(path, reason):
    """Delete a cache file that failed its check, so the next source fetches it again."""
    Path(path).unlink(missing_ok=True)
    warnings.warn(f"{reason}; deleted this corrupted cache file", RuntimeWarning, stacklevel=2)


class CachedIdxFiles:
    """The four IDX files in the data set's cache folder."""
    downloads = False

    def __init__(self, dataset):
        self.dataset = dataset
        self.description = f"cached IDX files in {dataset.cache_dir()}"

    def load(self):
        try:
            return read_idx_folder(self.dataset.cache_dir(), self.dataset.sha256)
        except HashMismatchError as err:
            discard_corrupt_cache_file(err.name, err)
            raise


class IdxFolder:
    """A folder of the four IDX files that is read in place and never modified."""
    downloads = False

    def __init__(self, dataset, folder, what):
        self.dataset = dataset
        self.folder = Path(folder)
        self.description = f"{what} {folder}"

    def load(self):
        return read_idx_folder(self.folder, self.dataset.sha256)


def fill_cache_from(dataset, url_of_file):
    """Fetch each IDX file the cache lacks (or holds corrupted) from `url_of_file(name)`,
    verified, then read the cache."""
    cache_dir = dataset.cache_dir()
    for name in IDX_FILES:
        expected = dataset.sha256[name]
        dest = cache_dir / name
        if not (dest.is_file() and sha256_of_file(dest) == expected):
            url = url_of_file(name)
            store_verified(dest, url_chunks(url), expected, source_name=url)
    return read_idx_folder(cache_dir, dataset.sha256)


class Mirror:
    """A web server holding the four IDX files under one base URL."""
    downloads = True

    def __init__(self, dataset, base_url):
        self.dataset = dataset
        self.base_url = base_url
        self.description = f"mirror {base_url}"

    def load(self):
        return fill_cache_from(self.dataset, lambda name: self.base_url + name)


class DebianPackage:
    """A Debian package shipping the four IDX files in `data_dir`, fetched without root."""
    downloads = True

    def __init__(self, dataset, package, data_dir):
        self.dataset = dataset
        self.package = package
        self.data_dir = data_dir
        self.description = f"Debian package {package} (apt-get download, dpkg -x)"

    def load(self):
        with tempfile.TemporaryDirectory(prefix="fastconv-") as tmp:
            root = apt_download_extract(self.package, Path(tmp))
            folder = root / self.data_dir.lstrip("/")
            return fill_cache_from(self.dataset, lambda name: (folder / name).as_uri())


class CachedArrays:
    """A .npz in the cache holding the four arrays, checked against their SHA-256."""
    downloads = False

    def __init__(self, path, array_sha256):
        self.path = Path(path)
        self.array_sha256 = array_sha256
        self.description = f"cached arrays {path}"

    def load(self):
        if not self.path.is_file():
            raise FileNotFoundError(f"no file {self.path}")
        try:
            arrays = load_arrays_npz(self.path)
            verify_arrays(arrays, self.array_sha256, name=str(self.path))
        except SOURCE_ERRORS as exc:
            discard_corrupt_cache_file(self.path, exc)
            raise
        return as_splits(arrays)
