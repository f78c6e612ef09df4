"""Run child Python processes on the fastconv under test.

A child started from the repository root would import the unbuilt source tree ahead of
the installed package, so children get the tested package's parent folder first on
PYTHONPATH and run in a folder of their own.
"""
import os
from pathlib import Path

import fastconv

PACKAGE_PARENT = str(Path(fastconv.__file__).resolve().parents[1])


def child_env(**extra):
    """os.environ with the tested fastconv first on PYTHONPATH, plus `extra` variables."""
    paths = [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p), **extra)
