"""A short run of every kernel, checked against fastconv.reference: the workload of
tools/valgrind.sh (a few seconds natively, minutes under memcheck)."""
import numpy as np

import fastconv
from fastconv import reference
from fastconv._kernels import _conv

# (x shape, w shape, strides, padding): stride 1 and 2, padded and not, C below and above
# the micro-kernels' NR (the two backward-data formulations).
CASES = [((2, 9, 8, 3), (3, 3, 3, 5), 1, "same"), ((2, 10, 9, 40), (3, 2, 40, 7), 2, "valid"),
         ((1, 7, 7, 40), (3, 3, 40, 33), (2, 1), 1)]


def check(got, want):
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(got - want).max()) <= 1e-4 * scale


def main():
    rng = np.random.default_rng(0)
    for variant in _conv.supported_variants():
        _conv.set_kernel_variant(variant)
        for dtype in (np.float32, np.float64):
            for xs, ws, strides, padding in CASES:
                x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
                b = rng.standard_normal(ws[3]).astype(dtype)
                y = fastconv.conv2d(x, w, b, strides, padding)
                check(y, reference.conv2d(x, w, b, strides, padding))
                for got, want in zip(fastconv.conv2d_backward(y, x, w, strides, padding),
                                     reference.conv2d_backward(y, x, w, strides, padding)):
                    check(got, want)
                for mode in ("max", "min", "avg"):
                    for pool, stride, pad in [(2, None, "valid"), (3, 1, "same")]:
                        p = fastconv.pool2d(x, pool, stride, pad, mode)
                        check(p, reference.pool2d(x, pool, stride, pad, mode))
                        check(fastconv.pool2d_backward(p, x, pool, stride, pad, mode),
                              reference.pool2d_backward(p, x, pool, stride, pad, mode))
    print("kernel workload: all results match the reference")


if __name__ == "__main__":
    main()
