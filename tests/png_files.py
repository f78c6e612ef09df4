"""Checking that a file is a real PNG picture, for the viz and command-line tests."""
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Smaller than any figure fastconv.viz draws (one 1.3-inch cell at 100 dpi is 130 pixels).
MIN_SIDE_PIXELS = 100
# A blank canvas compresses to scanlines of one repeated value; a drawing has many.
MIN_DISTINCT_BYTES = 16


def png_chunks(data):
    """[(type, payload)] of a PNG file's bytes, after checking its signature."""
    assert data.startswith(PNG_SIGNATURE), f"not a PNG: starts {data[:8]!r}"
    chunks, position = [], len(PNG_SIGNATURE)
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunks.append((kind, data[position + 8:position + 8 + length]))
        position += 12 + length  # length, type, payload, CRC
    return chunks


def assert_picture(path):
    """`path` is a complete, non-blank PNG of a plausible figure size; returns its
    (width, height)."""
    chunks = png_chunks(path.read_bytes())
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND", f"{path}: chunks {kinds}"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert min(width, height) >= MIN_SIDE_PIXELS, f"{path}: only {width}x{height} pixels"
    pixels = zlib.decompress(b"".join(payload for kind, payload in chunks if kind == b"IDAT"))
    assert len(set(pixels)) >= MIN_DISTINCT_BYTES, f"{path} looks blank"
    return width, height
