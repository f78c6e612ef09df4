"""The affine warp in plain NumPy, written for clarity: the test oracle of the kernel
(fastconv._kernels._warp; its module doc states the conventions both follow)."""
import numpy as np

from fastconv.preprocessing.warp_options import FILL_MODES, INTERPOLATIONS, option_code

__all__ = ["affine_warp_reference"]


def _fold(index, n, fill_mode):
    """Integer indices mapped into [0, n) by fill_mode; -1 where the fill value is used."""
    inside = (index >= 0) & (index < n)
    if fill_mode == "constant":
        return np.where(inside, index, -1)
    if fill_mode == "nearest":
        return np.clip(index, 0, n - 1)
    if fill_mode == "wrap":
        return np.mod(index, n)
    folded = np.mod(index, 2 * n)  # reflect: d c b a | a b c d | d c b a
    return np.where(folded < n, folded, 2 * n - 1 - folded)


def _gather(image, rows, cols, fill_value):
    valid = (rows >= 0) & (cols >= 0)
    values = image[np.where(valid, rows, 0), np.where(valid, cols, 0)]
    return np.where(valid[..., None], values, fill_value)


def affine_warp_reference(images, matrices, output_shape=None, interpolation="bilinear",
                          fill_mode="constant", fill_value=0.0):
    """images (N, H, W, C) warped by matrices (N, 6), one per image, to (N, OH, OW, C)."""
    option_code("interpolation", interpolation, INTERPOLATIONS)
    option_code("fill_mode", fill_mode, FILL_MODES)
    images = np.asarray(images)
    n, h, w, _ = images.shape
    oh, ow = (h, w) if output_shape is None else output_shape
    oy, ox = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64),
                         indexing="ij")
    out = np.empty((n, oh, ow, images.shape[3]), images.dtype)
    for i, m in enumerate(np.asarray(matrices, dtype=np.float64)):
        px = m[0] * ox + m[1] * oy + m[2]
        py = m[3] * ox + m[4] * oy + m[5]
        if interpolation == "nearest":
            rows = _fold(np.floor(py + 0.5).astype(np.int64), h, fill_mode)
            cols = _fold(np.floor(px + 0.5).astype(np.int64), w, fill_mode)
            out[i] = _gather(images[i], rows, cols, fill_value)
            continue
        x0, y0 = np.floor(px), np.floor(py)
        fx, fy = (px - x0)[..., None], (py - y0)[..., None]
        r0, r1 = (_fold(y0.astype(np.int64) + d, h, fill_mode) for d in (0, 1))
        c0, c1 = (_fold(x0.astype(np.int64) + d, w, fill_mode) for d in (0, 1))
        total = (1 - fy) * (1 - fx) * _gather(images[i], r0, c0, fill_value)
        # neighbours of weight 0 are skipped, as the kernel does (0 * inf would be NaN)
        total = total + np.where(fx != 0, (1 - fy) * fx * _gather(images[i], r0, c1,
                                                                  fill_value), 0)
        total = total + np.where(fy != 0, fy * (1 - fx) * _gather(images[i], r1, c0,
                                                                  fill_value), 0)
        total = total + np.where((fx != 0) & (fy != 0),
                                 fy * fx * _gather(images[i], r1, c1, fill_value), 0)
        out[i] = total
    return out
