"""Let the benchmark run straight from a source checkout that was built in place."""
import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_fastconv_importable():
    """An installed fastconv (editable or not) is used as it is; without one, this
    checkout's (`python setup.py build_ext --inplace`), as `python -m pytest` would."""
    if importlib.util.find_spec("fastconv") is None:
        sys.path.insert(1, str(REPO_ROOT))
