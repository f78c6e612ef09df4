"""Reading the files `fastconv predict` classifies, and preparing them like MNIST.

.npy arrays and PGM images (P2 and P5, parsed here with NumPy) need nothing but NumPy;
PNG, JPEG and the other formats Pillow reads need Pillow (`pip install "fastconv[image]"`).
"""
import re
from pathlib import Path

import numpy as np

from fastconv.cli.errors import CLIError

NPY_MAGIC = b"\x93NUMPY"
PGM_MAGICS = (b"P2", b"P5")  # plain (ASCII) and raw (binary) greymaps
# A PGM header field: a number after white space and '#' comments (to the end of the line).
PGM_HEADER_FIELD = re.compile(rb"(?:\s|#[^\r\n]*)*(\d+)")
PGM_MAX_MAXVAL = 65535
# A grey level above this on the border means a light background: dark ink on paper, the
# opposite of MNIST's white digits on black, so the image is inverted.
LIGHT_BACKGROUND = 0.5


def read_pgm(path, data):
    """The greymap in the bytes `data` of a PGM file, as floats in [0, 1]."""
    fields, position = [], len(PGM_MAGICS[0])
    for name in ("width", "height", "maxval"):
        match = PGM_HEADER_FIELD.match(data, position)
        if match is None:
            raise CLIError(f"{path}: malformed PGM header: no {name}")
        fields.append(int(match.group(1)))
        position = match.end()
    width, height, maxval = fields
    if width < 1 or height < 1 or not 1 <= maxval <= PGM_MAX_MAXVAL:
        raise CLIError(f"{path}: bad PGM header: width {width}, height {height}, "
                       f"maxval {maxval}")
    count = width * height
    if data.startswith(b"P5"):
        dtype = np.uint8 if maxval < 256 else np.dtype(">u2")  # raw: big-endian 16 bits
        raster = data[position + 1:]  # after exactly one white-space byte
        if len(raster) < count * np.dtype(dtype).itemsize:
            raise CLIError(f"{path}: truncated PGM: {width}x{height} pixels announced")
        pixels = np.frombuffer(raster, dtype, count=count)
    else:
        tokens = data[position:].split()
        if len(tokens) < count or not all(token.isdigit() for token in tokens[:count]):
            raise CLIError(f"{path}: plain PGM needs {count} decimal pixel values")
        pixels = np.array([int(token) for token in tokens[:count]])
    return (pixels.reshape(height, width) / maxval).clip(0, 1)


def read_with_pillow(path):
    """The image at `path` as grey floats in [0, 1], through Pillow; transparent pixels
    count as white paper."""
    try:
        from PIL import Image
    except ImportError:
        raise CLIError(f'{path}: not a .npy or PGM file; reading PNG, JPEG and other image '
                       f'formats needs Pillow: pip install "fastconv[image]"') from None
    try:
        with Image.open(path) as image:
            if "A" in image.getbands() or "transparency" in image.info:
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return np.asarray(image.convert("L"), dtype=np.float64) / 255
    except OSError as exc:  # includes Pillow's "cannot identify image file"
        raise CLIError(f"{path}: not a readable image ({exc})") from None


def read_npy(path):
    """The array in a .npy file; integer pixels (0-255) are scaled to [0, 1]."""
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CLIError(f"{path}: not a readable .npy array ({exc})") from None
    if np.issubdtype(array.dtype, np.integer):
        return array / 255
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype == bool):
        raise CLIError(f"{path}: needs a numeric array, got dtype {array.dtype}")
    return array.astype(np.float64)


def _area_weights(size_in, size_out):
    """(size_out, size_in): row i averages the input pixels output pixel i covers, the
    ones it covers partly weighted by how much (a box filter, free of aliasing when
    shrinking a photo to 28x28)."""
    edges = np.linspace(0, size_in, size_out + 1)
    pixel = np.arange(size_in)
    overlap = np.minimum(edges[1:, None], pixel + 1) - np.maximum(edges[:-1, None], pixel)
    overlap = overlap.clip(0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def pad_to_aspect(image, height, width):
    """image centred on a black canvas with the aspect ratio height:width, so that resizing
    does not stretch the digit."""
    rows, columns = image.shape
    target_rows = max(rows, round(columns * height / width))
    target_columns = max(columns, round(rows * width / height))
    top, left = (target_rows - rows) // 2, (target_columns - columns) // 2
    canvas = np.zeros((target_rows, target_columns))
    canvas[top:top + rows, left:left + columns] = image
    return canvas


def mnist_like(image, height, width):
    """A grey image (H, W) in [0, 1] made to look like an MNIST input: light digit on dark
    background, height x width."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > LIGHT_BACKGROUND:
        image = 1 - image
    image = pad_to_aspect(image, height, width)
    return _area_weights(image.shape[0], height) @ image @ _area_weights(image.shape[1],
                                                                         width).T


def read_inputs(path, height, width):
    """(names, images (N, height, width) in [0, 1]) from one file: a .npy array (one image
    or a batch, used as it is) or an image file (prepared by mnist_like)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    if data.startswith(NPY_MAGIC):
        array = read_npy(path)
        if array.size == 0:
            raise CLIError(f"{path}: the array is empty (shape {array.shape})")
        if array.size == height * width:
            return [path], array.reshape(1, height, width)
        if array.ndim >= 2 and np.prod(array.shape[1:]) == height * width:
            names = [f"{path}[{i}]" for i in range(len(array))]
            return names, array.reshape(-1, height, width)
        raise CLIError(f"{path}: an array of shape {array.shape} is neither one "
                       f"{height}x{width} image nor a batch of them")
    if data.startswith(PGM_MAGICS):
        image = read_pgm(path, data)
    else:
        image = read_with_pillow(path)
    return [path], mnist_like(image, height, width)[None]
