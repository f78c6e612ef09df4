"""Model files: one .npz holding the architecture and training state as JSON (a NumPy
string array), the weights, and the optimizer's slot arrays.

Written atomically (fastconv._atomic: a reader sees the old file or the new one, never
half of one), read with allow_pickle=False: a file never holds anything that runs code when loaded.
Anything that is not such a file, or whose contents do not fit together, raises
ValueError naming the file.
"""
import json
import os
import zipfile

import numpy as np

from fastconv._atomic import atomic_write

__all__ = ["write_archive", "read_archive", "numbered", "HEADER_KEY", "MODEL_FORMAT",
           "WEIGHTS_FORMAT", "FORMAT_VERSION"]

HEADER_KEY = "fastconv_header"
MODEL_FORMAT = "fastconv.Sequential"
WEIGHTS_FORMAT = "fastconv.weights"
FORMAT_VERSION = 1


def write_archive(filepath, header, arrays):
    """Write header (a JSON-ready dict) and named arrays to filepath, atomically."""
    with atomic_write(filepath) as f:
        np.savez(f, **{HEADER_KEY: np.array(json.dumps(header))}, **arrays)


def read_archive(filepath, expected_formats):
    """(header dict, {name: array}) from a file written by write_archive, or ValueError."""
    filepath = os.fspath(filepath)
    try:
        data = np.load(filepath, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with data:
            if HEADER_KEY not in data.files:
                raise ValueError(f"no {HEADER_KEY!r} entry")
            header = json.loads(str(data[HEADER_KEY][()]))
            arrays = {name: data[name] for name in data.files if name != HEADER_KEY}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{filepath!r} is not a readable fastconv file "
                         f"({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or header.get("format") not in expected_formats:
        raise ValueError(f"{filepath!r} is not a fastconv file of kind "
                         f"{' or '.join(expected_formats)}")
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(f"{filepath!r} has format version {header.get('version')!r}; this "
                         f"fastconv reads version {FORMAT_VERSION}")
    return header, arrays


def numbered(arrays, prefix, count):
    """arrays[prefix_0] ... arrays[prefix_{count-1}], or ValueError if one is missing."""
    try:
        return [arrays[f"{prefix}_{i}"] for i in range(count)]
    except KeyError as exc:
        raise ValueError(f"the file lacks array {exc.args[0]!r}") from None
