"""The batched affine warp: checks its arguments, then runs the compiled kernel
(fastconv._kernels._warp, whose module doc states the conventions) over all images at
once, each image with its own matrix, on OpenMP threads without the GIL."""
import numbers

import numpy as np

from fastconv._kernels import _warp
from fastconv.config import get_num_threads
from fastconv.preprocessing.warp_options import FILL_MODES, INTERPOLATIONS, option_code

__all__ = ["affine_warp"]

# Points beyond this are far outside any image; refusing them keeps the kernel's
# floor() -> long conversion defined (it is undefined past the long range).
_MAX_COORDINATE = 2.0 ** 40


def _output_shape(output_shape, h, w):
    if output_shape is None:
        return h, w
    if (not isinstance(output_shape, (tuple, list)) or len(output_shape) != 2 or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
            for s in output_shape)):
        raise ValueError(f"output_shape must be a pair of positive ints (height, width), "
                         f"got {output_shape!r}")
    return int(output_shape[0]), int(output_shape[1])


def affine_warp(images, matrices, output_shape=None, interpolation="bilinear",
                fill_mode="constant", fill_value=0.0):
    """images (N, H, W, C), float32 or float64, warped by matrices (N, 6): output pixel
    (column x, row y) of image n samples input point (a0 x + a1 y + a2, b0 x + b1 y + b2)
    of image n (Keras's transform layout). Returns (N, OH, OW, C), OH, OW =
    output_shape or (H, W), of the images' dtype.

    interpolation: "bilinear" or "nearest"; fill_mode, for points outside the image:
    "constant" (fill_value), "nearest", "reflect" or "wrap".
    """
    interpolation_code = option_code("interpolation", interpolation, INTERPOLATIONS)
    fill_code = option_code("fill_mode", fill_mode, FILL_MODES)
    images = np.asarray(images)
    if images.dtype not in (np.float32, np.float64):
        raise TypeError(f"images must be float32 or float64, got dtype {images.dtype}")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
    n, h, w, c = images.shape
    if h == 0 or w == 0:
        raise ValueError(f"images must have a height and width of at least 1, got "
                         f"{images.shape}")
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.shape != (n, 6):
        raise ValueError(f"matrices must have shape ({n}, 6), one per image, got "
                         f"{matrices.shape}")
    if not np.isfinite(matrices).all():
        raise ValueError("matrices must be finite")
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise TypeError(f"fill_value must be a number, got {fill_value!r}")
    oh, ow = _output_shape(output_shape, h, w)
    extent = np.abs(matrices[:, [0, 1, 3, 4]]).sum(axis=1) * max(oh, ow) + np.abs(
        matrices[:, [2, 5]]).max(axis=1)
    if extent.size and extent.max() > _MAX_COORDINATE:
        raise ValueError(f"matrices map pixels to coordinates beyond {_MAX_COORDINATE:g}")
    out = np.empty((n, oh, ow, c), images.dtype)
    scratch = np.empty((n, c), np.float64)
    _warp.affine_warp(np.ascontiguousarray(images), np.ascontiguousarray(matrices), out,
                      interpolation_code, fill_code, float(fill_value), scratch,
                      get_num_threads())
    return out
