"""Rescaling, Resizing, CenterCrop and the random augmentation layers: exact cases,
training versus inference, seeds, save/load and training through fit."""
import numpy as np
import pytest

from fastconv import layers, models, optimizers
from fastconv.preprocessing.warp_reference import affine_warp_reference


def _images(n=6, h=5, w=5, c=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype(np.float32)


def test_rescaling():
    x = _images()
    layer = layers.Rescaling(1 / 255, offset=-1)
    np.testing.assert_allclose(layer(x), x / 255 - 1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), np.full_like(x, 1 / 255))


def test_resizing():
    x = _images(2, 4, 6)
    np.testing.assert_array_equal(layers.Resizing(4, 6)(x), x)
    half = layers.Resizing(2, 3)(x)  # half-pixel centres: the mean of each 2x2 block
    np.testing.assert_allclose(half, x.reshape(2, 2, 2, 3, 2, 2).mean(axis=(2, 4)),
                               rtol=1e-5)
    nearest = layers.Resizing(8, 12, interpolation="nearest")(x)
    np.testing.assert_array_equal(nearest, x.repeat(2, axis=1).repeat(2, axis=2))
    with pytest.raises(ValueError, match="height"):
        layers.Resizing(0, 3)


def test_center_crop_and_its_gradient():
    x = _images(2, 6, 7)
    layer = layers.CenterCrop(3, 4)
    np.testing.assert_array_equal(layer(x), x[:, 1:4, 1:5])
    dx = layer.backward(np.ones((2, 3, 4, 2), np.float32))
    assert dx.sum() == 2 * 3 * 4 * 2 and dx[:, 1:4, 1:5].all()
    with pytest.raises(ValueError, match="at least"):
        layers.CenterCrop(8, 4)(x)


RANDOM_LAYERS = {
    "flip": lambda: layers.RandomFlip(seed=1),
    "rotation": lambda: layers.RandomRotation(0.2, seed=1),
    "translation": lambda: layers.RandomTranslation(0.2, 0.3, seed=1),
    "zoom": lambda: layers.RandomZoom(0.3, seed=1),
    "contrast": lambda: layers.RandomContrast(0.5, seed=1),
    "brightness": lambda: layers.RandomBrightness(0.2, seed=1),
}


@pytest.mark.parametrize("name", list(RANDOM_LAYERS))
def test_random_layers_act_in_training_only_and_repeat_with_a_seed(name):
    x = _images()
    layer = RANDOM_LAYERS[name]()
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    out = layer(x, training=True)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.array_equal(out, x)
    np.testing.assert_array_equal(RANDOM_LAYERS[name]()(x, training=True), out)
    assert not np.array_equal(layer(x, training=True), out)  # the generator moves on


def test_random_flip_gives_each_image_flipped_or_not():
    x = _images(20)
    out = layers.RandomFlip("horizontal", seed=3)(x, training=True)
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    out = layers.RandomFlip("vertical", seed=3)(x, training=True)
    assert all(np.array_equal(o, i) or np.array_equal(o, i[::-1]) for o, i in zip(out, x))


def test_rotation_by_a_quarter_turn_is_rot90():
    x = _images(3, 5, 5)
    out = layers.RandomRotation((0.25, 0.25), fill_mode="constant")(x, training=True)
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(1, 2)), atol=1e-3)


def test_translation_by_whole_pixels_is_a_roll():
    x = _images(2, 4, 8)
    out = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="wrap")(
        x, training=True)
    np.testing.assert_array_equal(out, np.roll(x, (1, -2), axis=(1, 2)))


def test_zoom_matches_the_reference_warp():
    x = _images(4)
    layer = layers.RandomZoom((-0.4, 0.4), (0.1, 0.2), fill_mode="nearest", seed=5)
    out = layer(x, training=True)
    replay = layers.RandomZoom((-0.4, 0.4), (0.1, 0.2), fill_mode="nearest", seed=5)
    matrices = replay.matrices(4, 5, 5)
    assert ((matrices[:, 0] >= 1.1) & (matrices[:, 0] <= 1.2)).all()
    np.testing.assert_allclose(out, affine_warp_reference(x, matrices, fill_mode="nearest"),
                               rtol=1e-5, atol=1e-3)


def test_contrast_scales_deviations_from_the_mean():
    x = _images(4) * 0.2 + 100  # stays inside [0, 255]
    out = layers.RandomContrast((0.5, 0.5), seed=2)(x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, rtol=1e-5)
    factors = ((out - mean) / (x - mean)).reshape(4, -1)
    assert np.allclose(factors, factors[:, :1], rtol=1e-2)
    assert ((factors >= 0.5 - 1e-3) & (factors <= 1.5 + 1e-3)).all()


def test_brightness_adds_a_clipped_delta():
    x = _images(8)
    out = layers.RandomBrightness(0.1, seed=4)(x, training=True)
    inside = (out > 0) & (out < 255)
    delta = (out - x)[inside]
    assert out.min() >= 0 and out.max() <= 255
    assert np.abs(delta).max() <= 25.5 + 1e-3


def test_random_crop():
    x = _images(10, 6, 7)
    layer = layers.RandomCrop(3, 4, seed=0)
    np.testing.assert_array_equal(layer(x, training=False), x[:, 1:4, 1:5])
    out = layer(x, training=True)
    offsets = set()
    for o, image in zip(out, x):
        found = [(t, l) for t in range(4) for l in range(4)
                 if np.array_equal(image[t:t + 3, l:l + 4], o)]
        assert found
        offsets.add(found[0])
    assert len(offsets) > 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation((0.3, 0.1))
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=(1, 0))
    with pytest.raises(ValueError, match="images"):
        layers.RandomFlip()(np.zeros((2, 5), np.float32))


def _augmented_model(seed=0):
    np.random.seed(seed)
    model = models.Sequential([
        layers.Input((8, 8, 1)), layers.Rescaling(1 / 255), layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.05), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1),
        layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
        layers.Dense(2, activation="softmax")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_training_through_augmentation_saves_and_resumes_bitwise(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (32, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(int)
    straight = _augmented_model()
    straight.fit(x, y, epochs=2, batch_size=8, verbose=0)
    straight.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    first = _augmented_model()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "m.npz")
    loaded = models.load_model(tmp_path / "m.npz")
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__
                                                        for l in first.layers]
    np.testing.assert_array_equal(loaded.predict(x), first.predict(x))
    loaded.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_augmentation_layer_after_weights_says_where_it_belongs():
    model = models.Sequential([layers.Input((6, 6, 1)), layers.Conv2D(2, 3),
                               layers.RandomFlip(), layers.Flatten(), layers.Dense(2)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="start of the model"):
        model.fit(np.ones((4, 6, 6, 1)), np.ones((4, 2)), verbose=0)
