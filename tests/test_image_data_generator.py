"""ImageDataGenerator (fastconv.preprocessing.image): each transformation against a
NumPy/hand reference, Keras's shift and zoom semantics, the featurewise and samplewise
statistics, the flow() iterator (len, indexing, next, subsets, seeds), training with
fit(flow), one warp call per batch, and clear errors for bad arguments."""
import itertools
import warnings

import numpy as np
import pytest

from fastconv import layers, models, optimizers
from fastconv.preprocessing import image_transforms
from fastconv.preprocessing.image import ImageDataGenerator, NumpyArrayIterator
from fastconv.preprocessing.warp_reference import affine_warp_reference


def images(n=6, h=7, w=9, c=3, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype(np.float32)


def flow_all(iterator):
    """The batches of one epoch, in order, concatenated."""
    parts = [iterator[i] for i in range(len(iterator))]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts))
    return np.concatenate(parts)


# -- each transformation against a reference -------------------------------------------
def test_all_off_returns_the_input():
    x = images()
    out = flow_all(ImageDataGenerator(rotation_range=0).flow(x, batch_size=4, shuffle=False))
    assert out.dtype == np.float32 and np.array_equal(out, x)


@pytest.mark.parametrize("key, flip", [("flip_horizontal", lambda a: a[:, ::-1]),
                                        ("flip_vertical", lambda a: a[::-1])])
def test_flips_mirror_the_image(key, flip):
    x = images()[0]
    assert np.array_equal(ImageDataGenerator().apply_transform(x, {key: True}), flip(x))


def test_horizontal_flip_flips_about_half_the_images():
    x = images(n=64)
    out = ImageDataGenerator(horizontal_flip=True).flow(x, batch_size=64, shuffle=False,
                                                        seed=3)[0]
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
    assert np.all(flipped ^ kept) and 16 < flipped.sum() < 48


@pytest.mark.parametrize("tx, ty", [(2, 0), (-3, 0), (0, 1), (0, -2), (1, -1)])
def test_whole_pixel_shift_with_constant_fill_is_a_roll(tx, ty):
    x = images()[0]
    out = ImageDataGenerator(fill_mode="constant", cval=-1.0).apply_transform(
        x, {"tx": tx, "ty": ty})
    # tx samples the input tx pixels to the right: the image moves left by tx.
    expected = np.roll(x, (-ty, -tx), axis=(0, 1))
    if tx:
        expected[:, -tx:] = -1.0 if tx > 0 else expected[:, -tx:]
        expected[:, :-tx] = -1.0 if tx < 0 else expected[:, :-tx]
    if ty:
        expected[-ty:] = -1.0 if ty > 0 else expected[-ty:]
        expected[:-ty] = -1.0 if ty < 0 else expected[:-ty]
    assert np.array_equal(out, expected)


def test_nearest_fill_repeats_the_edge():
    x = images()[0]
    out = ImageDataGenerator().apply_transform(x, {"tx": 2})  # fill_mode "nearest"
    assert np.array_equal(out[:, :-2], x[:, 2:])
    assert np.array_equal(out[:, -2:], np.repeat(x[:, -1:], 2, axis=1))


@pytest.mark.parametrize("theta, turns", [(90, 1), (180, 2), (-90, -1)])
def test_right_angle_rotations_equal_rot90(theta, turns):
    x = images(h=8, w=8)[0]
    out = ImageDataGenerator().apply_transform(x, {"theta": theta})
    assert np.allclose(out, np.rot90(x, turns), atol=1e-6)


def test_rotation_then_shift_compose_as_keras():
    """Keras's matrix is rotation @ shift: the output is the rotated image, shifted."""
    x = images(h=8, w=8)[0]
    out = ImageDataGenerator(fill_mode="constant", cval=5.0).apply_transform(
        x, {"theta": 90, "tx": 1})
    expected = np.roll(np.rot90(x), -1, axis=1)
    expected[:, -1] = 5.0
    assert np.allclose(out, expected, atol=1e-6)


def test_zoom_samples_about_the_centre():
    """zx = zy = 0.5 (Keras: the output pixel p samples centre + 0.5 (p - centre))."""
    x = images(h=9, w=9)[0]
    out = ImageDataGenerator(interpolation_order=0).apply_transform(x, {"zx": 0.5, "zy": 0.5})
    source = np.floor(4 + 0.5 * (np.arange(9) - 4) + 0.5).astype(int)
    assert np.array_equal(out, x[source][:, source])


def test_shear_matches_the_written_out_matrix():
    x = images(h=8, w=8)[0]
    out = ImageDataGenerator(fill_mode="reflect").apply_transform(x, {"shear": 20})
    s, c = np.sin(np.deg2rad(20)), np.cos(np.deg2rad(20))
    centre = 3.5  # x_in = x - s (y - centre), y_in = centre + c (y - centre)
    matrix = [[1, -s, s * centre, 0, c, centre - c * centre]]
    expected = affine_warp_reference(x[None], matrix, fill_mode="reflect")[0]
    assert np.allclose(out, expected, atol=1e-5)


def test_channel_shift_adds_one_value_clipped_to_the_image_range():
    x = images()[0]
    out = ImageDataGenerator().apply_transform(x, {"channel_shift_intensity": 0.3})
    assert np.allclose(out, np.clip(x + 0.3, x.min(), x.max()))


def test_a_batch_is_one_warp_call(monkeypatch):
    calls = []
    real = image_transforms.affine_warp
    monkeypatch.setattr(image_transforms, "affine_warp",
                        lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    flow_all(generator.flow(images(n=10), batch_size=4))
    assert calls == [4, 4, 2]


def test_flow_matches_warping_each_image_by_its_parameters():
    """The batched path equals apply_transform of each image with the parameters drawn."""
    generator = ImageDataGenerator(rotation_range=40, width_shift_range=0.2,
                                   height_shift_range=[1, 2], shear_range=15, zoom_range=0.3,
                                   horizontal_flip=True, vertical_flip=True, fill_mode="wrap")
    x = images(n=5)
    params = generator.random_parameters(np.random.RandomState(7), 5, x.shape[1:])
    batch = generator.transform_batch(x, params)
    for i in range(5):
        one = {k: None if v is None else v[i] for k, v in params.items()}
        assert np.allclose(batch[i], generator.apply_transform(x[i], one), atol=1e-6)


# -- Keras's random parameter semantics ----------------------------------------------------
def draws(generator, key, shape=(10, 20, 1), n=400):
    return np.array([generator.get_random_transform(shape, seed=s)[key] for s in range(n)])


def test_float_shift_is_a_fraction_of_the_size():
    tx = draws(ImageDataGenerator(width_shift_range=0.25), "tx")
    ty = draws(ImageDataGenerator(height_shift_range=0.5), "ty")
    assert np.abs(tx).max() <= 5 and np.abs(tx).max() > 4.5  # 0.25 of width 20
    assert np.abs(ty).max() <= 5 and np.abs(ty).max() > 4.5  # 0.5 of height 10
    assert np.all(draws(ImageDataGenerator(height_shift_range=0.5), "tx") == 0)


def test_int_shift_is_whole_pixels_and_float_over_one_is_pixels():
    tx = draws(ImageDataGenerator(width_shift_range=3), "tx")
    assert set(tx) == {-2, -1, 0, 1, 2}  # Keras: whole pixels in (-3, 3)
    tx = draws(ImageDataGenerator(width_shift_range=3.0), "tx")
    assert np.abs(tx).max() <= 3 and len(np.unique(tx)) > 300
    tx = draws(ImageDataGenerator(width_shift_range=[4, 6]), "tx")
    assert set(tx) == {-6, -4, 4, 6}


def test_zoom_range_float_and_pair():
    zx = draws(ImageDataGenerator(zoom_range=0.2), "zx")
    zy = draws(ImageDataGenerator(zoom_range=0.2), "zy")
    assert 0.8 <= zx.min() < 0.82 and 1.18 < zx.max() <= 1.2 and not np.array_equal(zx, zy)
    zx = draws(ImageDataGenerator(zoom_range=[0.5, 0.7]), "zx")
    assert 0.5 <= zx.min() and zx.max() <= 0.7


def test_rotation_and_shear_ranges_are_degrees():
    theta = draws(ImageDataGenerator(rotation_range=30), "theta")
    shear = draws(ImageDataGenerator(shear_range=10), "shear")
    assert 29 < np.abs(theta).max() <= 30 and 9.5 < np.abs(shear).max() <= 10


def test_get_random_transform_keys_and_seed():
    generator = ImageDataGenerator(rotation_range=10, horizontal_flip=True)
    params = generator.get_random_transform((8, 8, 1), seed=5)
    assert set(params) == set(image_transforms.IDENTITY)
    assert params == generator.get_random_transform((8, 8, 1), seed=5)
    assert params["channel_shift_intensity"] is None
    x = images()[0]
    assert np.array_equal(generator.random_transform(x, seed=4),
                          generator.random_transform(x, seed=4))


# -- normalisation ----------------------------------------------------------------------------
def test_featurewise_statistics_are_per_channel_over_images_and_pixels():
    x = images(n=20) * 255
    generator = ImageDataGenerator(featurewise_center=True,
                                   featurewise_std_normalization=True, rescale=1 / 255)
    generator.fit(x)
    scaled = x * np.float32(1 / 255)
    assert generator.mean.shape == (1, 1, 3)
    assert np.allclose(generator.mean.ravel(), scaled.mean(axis=(0, 1, 2)), rtol=1e-6)
    assert np.allclose(generator.std.ravel(), scaled.std(axis=(0, 1, 2)), rtol=1e-5)
    out = flow_all(generator.flow(x, batch_size=8, shuffle=False))
    expected = (scaled - generator.mean) / (generator.std + 1e-6)
    assert np.allclose(out, expected, atol=1e-5)
    assert np.allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)


def test_fit_with_augment_over_rounds():
    x = images(n=10)
    generator = ImageDataGenerator(featurewise_center=True, horizontal_flip=True)
    generator.fit(x, augment=True, rounds=3, seed=1)
    # flips move pixels around within each image: the per-channel mean is unchanged
    assert np.allclose(generator.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)


def test_samplewise_normalisation_is_per_image():
    x = images(n=5) * 3 + 1
    out = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)\
        .standardize(x)
    assert np.allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    assert np.allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-4)
    assert np.allclose(out[2], (x[2] - x[2].mean()) / (x[2].std() + 1e-6), atol=1e-5)


def test_zca_whitening_decorrelates():
    x = np.random.default_rng(1).standard_normal((400, 3, 3, 1))
    x = x + 0.5 * x[:, :1, :1]  # correlated pixels
    with pytest.warns(UserWarning, match="featurewise_center"):  # ZCA centres (per channel)
        generator = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9, dtype="float64")
    generator.fit(x)
    flat = generator.standardize(x).reshape(400, -1)
    assert np.allclose(flat.T @ flat / 400, np.eye(9), atol=1e-6)


def test_standardize_order_preprocessing_then_rescale():
    seen = []

    def negate(image):
        seen.append(image.shape)
        return -image

    generator = ImageDataGenerator(rescale=2.0, preprocessing_function=negate,
                                   horizontal_flip=True)
    x = images(n=3)
    out = generator.flow(x, batch_size=3, shuffle=False, seed=0)[0]
    assert seen == [x.shape[1:]] * 3
    assert all(np.allclose(o, -2 * i) or np.allclose(o, -2 * i[:, ::-1])
               for o, i in zip(out, x))


def test_featurewise_without_fit_warns():
    generator = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        generator.standardize(images())


def test_std_normalization_implies_centering_with_a_warning():
    with pytest.warns(UserWarning, match="overrides"):
        generator = ImageDataGenerator(featurewise_std_normalization=True)
    assert generator.featurewise_center


# -- the flow() iterator ----------------------------------------------------------------------
def test_iterator_protocol():
    x, y = images(n=10), np.arange(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert isinstance(it, NumpyArrayIterator)
    assert (len(it), it.n, it.batch_size) == (3, 10, 4)
    assert [len(b[0]) for b in (it[0], it[1], it[2])] == [4, 4, 2]
    labels = [next(it)[1] for _ in range(4)]  # goes round forever
    assert [list(v) for v in labels] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]
    it.reset()
    assert list(it.next()[1]) == [0, 1, 2, 3]
    assert len(list(itertools.islice(iter(it), 7))) == 7
    with pytest.raises(ValueError, match="length 3"):
        it[3]


def test_shuffled_order_covers_every_sample_and_changes_each_epoch():
    x, y = images(n=10), np.arange(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=2)
    first = flow_all(it)[1]
    it.on_epoch_end()
    second = flow_all(it)[1]
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert list(first) != list(second)


def test_seeds_repeat_and_differ():
    generator = ImageDataGenerator(rotation_range=30, width_shift_range=0.2)
    x = images(n=8)
    a = flow_all(generator.flow(x, batch_size=3, seed=11))
    b = flow_all(generator.flow(x, batch_size=3, seed=11))
    c = flow_all(generator.flow(x, batch_size=3, seed=12))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    np.random.seed(4)
    d = flow_all(generator.flow(x, batch_size=3))
    np.random.seed(4)
    assert np.array_equal(d, flow_all(generator.flow(x, batch_size=3)))


def test_a_batch_is_the_same_whatever_the_access_order():
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.1)
    it = generator.flow(images(n=9), batch_size=3, seed=5)
    forwards = [it[i] for i in range(3)]
    assert all(np.array_equal(it[i], forwards[i]) for i in (2, 0, 1))


def test_sample_weight_and_extra_inputs():
    x, y, w = images(n=6), np.arange(6), np.linspace(0.5, 1, 6)
    batch = ImageDataGenerator().flow(x, y, sample_weight=w, batch_size=6, shuffle=False)[0]
    assert len(batch) == 3 and np.array_equal(batch[2], w)
    extra = np.arange(12).reshape(6, 2)
    batch_x, _ = ImageDataGenerator().flow((x, extra), y, batch_size=6, shuffle=False)[0]
    assert isinstance(batch_x, list) and np.array_equal(batch_x[1], extra)


def test_validation_split_subsets_are_disjoint_and_cover():
    x, y = images(n=20), np.arange(20) % 4
    generator = ImageDataGenerator(validation_split=0.25)
    val = generator.flow(x, y, batch_size=3, shuffle=False, subset="validation")
    train = generator.flow(x, y, batch_size=3, shuffle=False, subset="training")
    assert (val.n, train.n) == (5, 15)
    assert np.array_equal(np.concatenate([flow_all(val)[0], flow_all(train)[0]]), x)


def test_validation_split_errors():
    x, y = images(n=8), np.array([0, 0, 1, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="different number of classes"):
        ImageDataGenerator(validation_split=0.25).flow(x, y, subset="training")
    ImageDataGenerator(validation_split=0.25).flow(x, y, subset="training",
                                                   ignore_class_split=True)
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow(x, y, subset="validation")
    with pytest.raises(ValueError, match="subset"):
        ImageDataGenerator(validation_split=0.5).flow(x, y, subset="test")


def test_dtype_float64():
    out = ImageDataGenerator(dtype="float64", rotation_range=5).flow(images(), seed=0)[0]
    assert out.dtype == np.float64


# -- training -------------------------------------------------------------------------------
def test_fit_on_flow_trains_with_len_as_steps():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = rng.random((64, 8, 8, 1)).astype(np.float32) * 0.2
    x[y == 1, 2:6, 2:6] += 0.8  # class 1: a bright square in the middle
    np.random.seed(0)
    model = models.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                               layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    datagen = ImageDataGenerator(width_shift_range=1, horizontal_flip=True)
    steps = []
    from fastconv import callbacks
    counter = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    history = model.fit(datagen.flow(x, y, batch_size=16), epochs=6, verbose=0,
                        validation_data=(x, y), callbacks=[counter])
    assert len(steps) == 6 * 4  # len(flow) = 4 batches per epoch
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9


def test_evaluate_and_predict_on_flow_equal_arrays():
    x = images(n=10, h=6, w=6, c=1)
    y = np.arange(10) % 2
    np.random.seed(0)
    model = models.Sequential([layers.Flatten(input_shape=(6, 6, 1)),
                               layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    flow = ImageDataGenerator(rescale=0.5).flow(x, y, batch_size=4, shuffle=False)
    assert np.allclose(model.predict(flow), model.predict(x * 0.5), atol=1e-6)
    assert np.allclose(model.evaluate(flow, verbose=0), model.evaluate(x * 0.5, y, verbose=0))


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"rotation_range": -1}, ValueError, "rotation_range"),
    ({"rotation_range": "10"}, TypeError, "rotation_range"),
    ({"width_shift_range": -0.1}, ValueError, "width_shift_range"),
    ({"height_shift_range": [[1]]}, ValueError, "height_shift_range"),
    ({"shear_range": float("nan")}, ValueError, "shear_range"),
    ({"zoom_range": [1, 2, 3]}, ValueError, "zoom_range"),
    ({"zoom_range": [1.2, 0.8]}, ValueError, "zoom_range"),
    ({"zoom_range": "0.1"}, ValueError, "zoom_range"),
    ({"fill_mode": "mirror"}, ValueError, "fill_mode"),
    ({"cval": "0"}, TypeError, "cval"),
    ({"rescale": "1/255"}, TypeError, "rescale"),
    ({"preprocessing_function": 3}, TypeError, "preprocessing_function"),
    ({"data_format": "channels_first"}, ValueError, "channels_last"),
    ({"validation_split": 1.5}, ValueError, "validation_split"),
    ({"dtype": "float16"}, TypeError, "dtype"),
    ({"dtype": "not a dtype"}, TypeError, "dtype"),
    ({"interpolation_order": 3}, ValueError, "interpolation_order"),
    ({"brightness_range": [0.5, 1.5]}, TypeError, "brightness_range"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ImageDataGenerator(**kwargs)


@pytest.mark.parametrize("call, error, match", [
    (lambda g: g.flow(np.zeros((4, 5, 5))), ValueError, "rank 4"),
    (lambda g: g.flow(images(n=4), np.arange(3)), ValueError, "same length"),
    (lambda g: g.flow(images(n=4), sample_weight=np.ones(2)), ValueError, "sample_weight"),
    (lambda g: g.flow(images(), batch_size=0), ValueError, "batch_size"),
    (lambda g: g.flow(images(), seed=-1), ValueError, "seed"),
    (lambda g: g.flow(images(), save_to_dir="out"), TypeError, "save_to_dir"),
    (lambda g: g.fit(np.zeros((4, 5, 5))), ValueError, "rank 4"),
    (lambda g: g.fit(images(), rounds=0), ValueError, "rounds"),
    (lambda g: g.apply_transform(images(), {}), ValueError, r"\(H, W, C\)"),
    (lambda g: g.apply_transform(images()[0], {"rotation": 3}), ValueError, "unknown keys"),
    (lambda g: g.standardize(np.zeros(5)), ValueError, "shape"),
])
def test_bad_calls(call, error, match):
    with pytest.raises(error, match=match):
        call(ImageDataGenerator())


def test_unusual_channel_count_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ImageDataGenerator().flow(np.zeros((2, 4, 4, 5), np.float32))
    assert any("channels" in str(w.message) for w in caught)
