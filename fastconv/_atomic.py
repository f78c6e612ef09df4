"""Files written whole or not at all: model saves and the data-set cache share this.

The data go to a temporary file in the destination's folder (so that the final step is a
rename), are flushed to disk, and `os.replace` puts the file in place; then the folder is
flushed so that the rename survives a power cut too. A reader sees the old file or the
new one, never half of one; a process killed mid-write leaves at most its temporary file
(`.fastconv-*.tmp`), never a truncated destination.
"""
import contextlib
import os
import tempfile

__all__ = ["atomic_write", "TEMP_PREFIX", "TEMP_SUFFIX"]

TEMP_PREFIX = ".fastconv-"
TEMP_SUFFIX = ".tmp"


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current


def _fsync_directory(directory):
    """Flush a directory's entries (the rename) to disk, where directories can be opened."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _naming(exc, dest):
    """The same kind of OSError, naming the user's path rather than our temporary file."""
    return type(exc)(exc.errno, f"cannot write {dest!r}: {exc.strerror}")


@contextlib.contextmanager
def atomic_write(dest):
    """Yield a binary file that becomes `dest` only if the `with` block succeeds.

    On an exception the temporary file is removed and `dest` (old or absent) is untouched.
    The destination's folder is created if needed.
    """
    dest = os.fspath(dest)
    directory = os.path.dirname(os.path.abspath(dest))
    try:
        os.makedirs(directory, exist_ok=True)
        # A unique name (mkstemp: O_EXCL), so concurrent writers never share a temporary file.
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise _naming(exc, dest) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        # mkstemp makes the file private; give it the permissions a plain open() would.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, dest)
        _fsync_directory(directory)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise _naming(exc, dest) from None
        raise
