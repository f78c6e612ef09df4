"""How `fastconv predict` reads and prepares image files, tested in-process: the PGM
parser, the area resize, the aspect padding and the light-background rule."""
import numpy as np
import pytest

from fastconv.cli.errors import CLIError
from fastconv.cli.images import mnist_like, pad_to_aspect, read_inputs, read_pgm

RNG = np.random.default_rng(0)


def test_raw_pgm_with_comments_and_16_bit_pixels(tmp_path):
    image = RNG.integers(0, 1000, (3, 5)).astype(">u2")
    data = b"P5 # width next\n5\t3\n# maxval next\n999\n" + image.tobytes()
    np.testing.assert_allclose(read_pgm("x.pgm", data), (image / 999).clip(0, 1))


def test_plain_pgm(tmp_path):
    data = b"P2\n3 2\n4\n0 1 2\n3 4 4\n"
    np.testing.assert_allclose(read_pgm("x.pgm", data), [[0, .25, .5], [.75, 1, 1]])


@pytest.mark.parametrize("data, words", [
    (b"P5\n3\n", "no height"),
    (b"P5\n0 3 255\n", "bad PGM header: width 0"),
    (b"P2\n2 2 255\n1 2 3\n", "needs 4 decimal pixel values"),
    (b"P2\n2 1 255\n1 x\n", "needs 2 decimal pixel values"),
])
def test_malformed_pgm_is_a_clear_error(data, words):
    with pytest.raises(CLIError, match=words):
        read_pgm("x.pgm", data)


def test_downscaling_averages_whole_blocks_and_keeps_a_same_size_image():
    image = RNG.random((28, 28)) * 0.4  # a dark background: not inverted
    big = np.kron(image, np.ones((3, 3)))
    np.testing.assert_allclose(mnist_like(big, 28, 28), image, atol=1e-12)
    np.testing.assert_allclose(mnist_like(image, 28, 28), image, atol=1e-12)


def test_resize_keeps_the_mean_grey_level():
    image = RNG.random((50, 37)) * 0.4  # dark background: not inverted
    assert mnist_like(image, 50, 37).mean() == pytest.approx(image.mean())


def test_a_light_background_is_inverted():
    digit = np.zeros((28, 28))
    digit[8:20, 12:16] = 1
    np.testing.assert_allclose(mnist_like(1 - digit, 28, 28), digit, atol=1e-12)
    np.testing.assert_allclose(mnist_like(digit, 28, 28), digit, atol=1e-12)


def test_padding_keeps_the_aspect_ratio_centred():
    wide = np.ones((10, 30))
    padded = pad_to_aspect(wide, 28, 28)
    assert padded.shape == (30, 30)
    np.testing.assert_array_equal(padded[10:20], 1)
    assert padded.sum() == wide.sum()
    assert pad_to_aspect(np.ones((28, 28)), 28, 28).shape == (28, 28)


def test_npy_batches_keep_their_values_and_name_each_image(tmp_path):
    batch = RNG.integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    np.save(tmp_path / "b.npy", batch)
    names, images = read_inputs(str(tmp_path / "b.npy"), 28, 28)
    assert names == [f"{tmp_path / 'b.npy'}[{i}]" for i in range(3)]
    np.testing.assert_allclose(images, batch[..., 0] / 255)


def test_an_empty_npy_is_an_error(tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((0, 28, 28)))
    with pytest.raises(CLIError, match="the array is empty"):
        read_inputs(str(tmp_path / "e.npy"), 28, 28)
