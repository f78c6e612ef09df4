"""ImageDataGenerator's transformations, for a whole batch at once: the affine matrices
built in NumPy from per-image parameters, then one call of the batched warp kernel.

Parameters (each an array with one entry per image), as Keras's `apply_transform` names
them: "theta" (rotation, degrees), "tx"/"ty" (shift in pixels along x = columns and
y = rows), "shear" (degrees), "zx"/"zy" (zoom along x and y), "flip_horizontal",
"flip_vertical", "channel_shift_intensity" (or None).

The matrices are Keras 3's (keras/src/legacy/preprocessing/image.py): in (x, y)
coordinates, rotation @ shift @ shear @ zoom, taken about the image centre
((w - 1) / 2, (h - 1) / 2), mapping each output pixel to the input point it samples;
the flips are applied to the result (Keras flips after the warp), folded into the same
matrix so that one warp does all. A batch with no geometric change is not warped.
"""
import numpy as np

from fastconv.preprocessing.warp import affine_warp

__all__ = ["IDENTITY", "transform_matrices", "is_identity", "apply_transforms",
           "channel_shift"]

# Parameters that leave an image as it is (Keras's defaults for a missing key).
IDENTITY = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
            "flip_horizontal": False, "flip_vertical": False,
            "channel_shift_intensity": None}
_GEOMETRIC = ("theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
              "flip_vertical")


def _affine(a, b, c, d, e, f):
    """The stack of 3x3 matrices [[a, b, c], [d, e, f], [0, 0, 1]] (arguments: arrays
    of one value per image, or scalars)."""
    a, b, c, d, e, f = np.broadcast_arrays(*(np.asarray(v, np.float64)
                                             for v in (a, b, c, d, e, f)))
    zero, one = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([a, b, c], -1), np.stack([d, e, f], -1),
                     np.stack([zero, zero, one], -1)], -2)


def transform_matrices(params, h, w):
    """The warp kernel's (N, 6) matrices for images of height h and width w."""
    theta, shear = np.deg2rad(params["theta"]), np.deg2rad(params["shear"])
    cos, sin = np.cos(theta), np.sin(theta)
    rotation = _affine(cos, -sin, 0, sin, cos, 0)
    shift = _affine(1, 0, params["tx"], 0, 1, params["ty"])
    shearing = _affine(1, -np.sin(shear), 0, 0, np.cos(shear), 0)
    zoom = _affine(params["zx"], 0, 0, 0, params["zy"], 0)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    to_centre, from_centre = _affine(1, 0, cx, 0, 1, cy), _affine(1, 0, -cx, 0, 1, -cy)
    flip_x = np.where(params["flip_horizontal"], -1.0, 1.0)
    flip_y = np.where(params["flip_vertical"], -1.0, 1.0)
    # x -> (w - 1) - x mirrors the columns about the same centre (and y the rows).
    flips = _affine(flip_x, 0, (1 - flip_x) * cx, 0, flip_y, (1 - flip_y) * cy)
    matrix = to_centre @ rotation @ shift @ shearing @ zoom @ from_centre @ flips
    return matrix[:, :2, :].reshape(-1, 6)


def is_identity(params):
    """True when no image of the batch changes geometrically."""
    return all(np.all(np.asarray(params[key]) == IDENTITY[key]) for key in _GEOMETRIC)


def channel_shift(x, intensity):
    """Keras's apply_channel_shift, per image: add intensity[i] to every channel of
    image i, clipped to that image's range before the shift."""
    axes = tuple(range(1, x.ndim))
    low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
    shift = np.asarray(intensity, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return np.clip(x + shift, low, high)


def apply_transforms(x, params, interpolation="bilinear", fill_mode="nearest", cval=0.0):
    """The batch x (N, H, W, C) with each image transformed by its parameters (a dict
    of arrays of N entries; see the module doc). Returns a new array."""
    if is_identity(params):
        x = x.copy()
    else:
        x = affine_warp(x, transform_matrices(params, x.shape[1], x.shape[2]),
                        interpolation=interpolation, fill_mode=fill_mode, fill_value=cval)
    if params.get("channel_shift_intensity") is not None:
        x = channel_shift(x, params["channel_shift_intensity"])
    return x
