"""Small helpers in the style of `keras.utils`: to_categorical, Sequence / PyDataset,
plot_model (matplotlib, imported when it draws).

`fastconv.utils.np_utils` is there too, for Keras 2 programs that import
`keras.utils.np_utils.to_categorical`.
"""
from fastconv.utils.categorical import integer_labels, to_categorical
from fastconv.utils.sequence import PyDataset, Sequence
from fastconv.utils import np_utils

__all__ = ["to_categorical", "integer_labels", "Sequence", "PyDataset", "np_utils",
           "plot_model"]


def plot_model(model, to_file="model.png", **kwargs):
    """keras.utils.plot_model: the layer graph as a PNG (see fastconv.viz.model_graph)."""
    from fastconv.viz.model_graph import plot_model as draw
    return draw(model, to_file, **kwargs)
