"""Run fastconv's benchmark from a checkout: `python bench/run.py --help`.

The benchmark itself lives in fastconv.benchmark (so `fastconv bench` works after a plain
install); this script only makes a checkout built in place importable first.
"""
import sys

import _checkout

_checkout.make_fastconv_importable()

from fastconv.benchmark.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
