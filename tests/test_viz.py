"""fastconv.viz: every picture rendered headless (Agg) to a PNG in tmp_path, on a tiny
CNN trained for two epochs on random images; and the errors and the lazy import."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastconv
from fastconv import layers, models, viz
from png_files import assert_picture

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

IMAGE_SHAPE = (12, 12, 1)
CLASSES = 10


@pytest.fixture(scope="module")
def trained():
    """(model, history, x, y): two conv/pool stages, trained 2 epochs with validation."""
    np.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((40,) + IMAGE_SHAPE, dtype=np.float32)
    y = rng.integers(0, CLASSES, len(x))
    model = models.Sequential([
        layers.Conv2D(6, 3, activation="relu", input_shape=IMAGE_SHAPE),
        layers.MaxPooling2D(),
        layers.Conv2D(4, 3, activation="relu"),
        layers.AveragePooling2D(),
        layers.Flatten(),
        layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    return model, history, x, y


def test_plot_images_shows_nine_labelled_images(trained, tmp_path):
    _, _, x, y = trained
    figure = viz.plot_images(x, y, path=tmp_path / "images.png")
    assert isinstance(figure, Figure)
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 9
    assert [ax.get_title() for ax in shown] == [str(label) for label in y[:9]]
    assert_picture(tmp_path / "images.png")


def test_plot_images_takes_one_hot_labels_and_class_names(trained, tmp_path):
    _, _, x, y = trained
    names = [f"class {k}" for k in range(CLASSES)]
    figure = viz.plot_images(x[:4, :, :, 0], np.eye(CLASSES)[y[:4]], class_names=names)
    assert [ax.get_title() for ax in figure.axes if ax.images] == [names[k] for k in y[:4]]


def test_plot_history_draws_training_and_validation_per_metric(trained, tmp_path):
    _, history, _, _ = trained
    figure = viz.plot_history(history, path=tmp_path / "curves.png")
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    for ax, metric in zip(figure.axes, ["loss", "accuracy"]):
        lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        np.testing.assert_allclose(lines["training"], history.history[metric])
        np.testing.assert_allclose(lines["validation"], history.history["val_" + metric])
    width, height = assert_picture(tmp_path / "curves.png")
    assert width > height, "two panels side by side"


def test_plot_filters_shows_each_kernel_of_the_layer(trained, tmp_path):
    model, _, _, _ = trained
    conv = model.layers[0]
    figure = viz.plot_filters(conv, path=tmp_path / "filters.png")
    shown = [ax.images[0].get_array() for ax in figure.axes if ax.images]
    assert len(shown) == 6
    np.testing.assert_array_equal(shown[5], conv.get_weights()[0][:, :, 0, 5])
    assert_picture(tmp_path / "filters.png")


def test_feature_maps_are_each_conv_and_pool_output(trained):
    model, _, x, _ = trained
    maps = viz.feature_maps(model, x[0])
    assert [layer.name for layer, _ in maps] == [layer.name for layer in model.layers[:4]]
    assert [m.shape for _, m in maps] == [(10, 10, 6), (5, 5, 6), (3, 3, 4), (1, 1, 4)]
    # The last one, flattened, is what the Dense layer sees in predict.
    dense = model.layers[-1]
    logits = maps[-1][1].reshape(1, -1) @ dense.get_weights()[0] + dense.get_weights()[1]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(expected[0], model.predict(x[:1])[0], rtol=1e-5)


def test_plot_feature_maps_has_a_row_per_conv_and_pool_layer(trained, tmp_path):
    model, _, x, _ = trained
    figure = viz.plot_feature_maps(model, x[0].ravel(), maps_per_layer=6,
                                   path=tmp_path / "maps.png")
    assert len(figure.axes) == (1 + 4) * 6
    assert sum(1 for ax in figure.axes if ax.images) == 1 + 6 + 6 + 4 + 4
    assert_picture(tmp_path / "maps.png")


def test_confusion_matrix_counts():
    counts = viz.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    probabilities = np.eye(3)[[0, 2, 2, 2, 1]] * 0.8 + 0.05
    np.testing.assert_array_equal(viz.confusion_matrix(np.eye(3)[[0, 1, 2, 2, 1]],
                                                       probabilities, num_classes=3), counts)


def test_plot_model_confusion_matrix_counts_the_model_predictions(trained, tmp_path):
    model, _, x, y = trained
    figure = viz.plot_model_confusion_matrix(model, x, y, path=tmp_path / "confusion.png")
    shown = figure.axes[0].images[0].get_array()
    np.testing.assert_array_equal(
        shown, viz.confusion_matrix(y, model.predict(x).argmax(axis=1), num_classes=10))
    accuracy = np.mean(model.predict(x).argmax(axis=1) == y)
    assert figure.axes[0].get_title() == f"{len(x)} samples, accuracy {accuracy:.4f}"
    assert_picture(tmp_path / "confusion.png")


@pytest.mark.parametrize("call, error, words", [
    (lambda m, h, x: viz.plot_filters(m.layers[-1]), TypeError, "Conv2D"),
    (lambda m, h, x: viz.plot_filters(m.layers[0], input_channel=1), ValueError,
     "input_channel"),
    (lambda m, h, x: viz.plot_filters(layers.Conv2D(2, 3)), ValueError, "not built"),
    (lambda m, h, x: viz.plot_history({"loss": []}), ValueError, "empty"),
    (lambda m, h, x: viz.plot_history([1, 2]), TypeError, "list"),
    (lambda m, h, x: viz.plot_feature_maps(m, x[0, :5]), ValueError, "(5, 12, 1)"),
    (lambda m, h, x: viz.plot_feature_maps(models.Sequential([layers.Dense(
        10, input_shape=(4,))]), np.zeros(4)), ValueError, "no Conv2D"),
    (lambda m, h, x: viz.confusion_matrix([0, 1], [0]), ValueError, "as many"),
    (lambda m, h, x: viz.confusion_matrix([0, 5], [0, 1], num_classes=3), ValueError,
     "class 5"),
    (lambda m, h, x: viz.plot_images(np.zeros((2, 5))), ValueError, "(5,)"),
])
def test_bad_arguments_raise_clear_errors(trained, call, error, words):
    model, history, x, _ = trained
    with pytest.raises(error) as info:
        call(model, history, x)
    assert words in str(info.value)


def test_missing_matplotlib_says_how_to_install_it(trained, monkeypatch):
    model, _, _, _ = trained
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r'pip install "fastconv\[plot\]"'):
        viz.plot_filters(model.layers[0])


def test_import_fastconv_never_imports_matplotlib(tmp_path):
    root = str(Path(fastconv.__file__).resolve().parents[1])
    code = ("import sys, fastconv, fastconv.viz, fastconv.cli; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=root), timeout=60, check=True,
                         cwd=tmp_path)  # not a source checkout, whose fastconv is unbuilt
    assert out.stdout.strip() == "False"
