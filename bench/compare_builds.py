"""Compare this checkout's fastconv with another build in one process:
`python bench/compare_builds.py --help`.

The comparison lives in fastconv.benchmark.compare_builds; this script only makes a
checkout built in place importable first.
"""
import sys

import _checkout

_checkout.make_fastconv_importable()

from fastconv.benchmark.compare_builds import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
