"""fastconv.utils.plot_model: the layer graph as a PNG, drawn with matplotlib."""
import numpy as np
import pytest

import fastconv
from fastconv import layers, models, utils

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _branching_model():
    inputs = fastconv.Input((8, 8, 1))
    a = layers.Conv2D(2, 3, padding="same", name="left")(inputs)
    b = layers.Conv2D(2, 1, name="right")(inputs)
    merged = layers.Add(name="join")([a, b])
    outputs = layers.Dense(3, name="head")(layers.Flatten()(merged))
    return models.Model(inputs, outputs)


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_writes_a_png_with_a_box_per_layer_and_an_arrow_per_edge(tmp_path, rankdir):
    model = _branching_model()
    path = tmp_path / "model.png"
    figure = utils.plot_model(model, to_file=str(path), show_shapes=True, rankdir=rankdir)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty texts
    assert len(texts) == len(model._graph.layers)
    assert any(t.startswith("join (Add)") and "output: (None, 8, 8, 2)" in t for t in texts)
    edges = sum(len(n.inputs) for n in model._graph.nodes)
    assert len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) == edges


def test_sequential_and_errors(tmp_path):
    model = models.Sequential([layers.Input((4,)), layers.Dense(2), layers.Dense(1)])
    figure = utils.plot_model(model, to_file=None, show_layer_names=False)
    assert [t.get_text() for t in figure.axes[0].texts if t.get_text()] == [
        "InputLayer", "Dense", "Dense"]
    with pytest.raises(ValueError, match="rankdir"):
        utils.plot_model(model, to_file=None, rankdir="BT")
    with pytest.raises(ValueError, match="built"):
        utils.plot_model(models.Sequential([layers.Dense(2)]), to_file=None)
    assert np.isfinite(figure.get_size_inches()).all()
