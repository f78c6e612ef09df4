"""InputLayer and Input: declare the shape of a model's inputs."""
from fastconv.layers.base import Layer

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """The identity, carrying the input shape (batch dimension excluded).

    `shape=` or `batch_shape=` (Keras 3) and `input_shape=` (Keras 2) are accepted. A Sequential
    model takes the shape from it and does not list it in `model.layers`, as Keras.
    """

    def __init__(self, shape=None, batch_size=None, batch_shape=None, **kwargs):
        if shape is not None:
            kwargs["input_shape"] = shape
        if batch_shape is not None:
            kwargs["batch_input_shape"] = batch_shape
        super().__init__(**kwargs)
        if self.declared_input_shape is None:
            raise ValueError("InputLayer needs shape= (the input shape without the batch "
                             "dimension), e.g. InputLayer(shape=(28, 28, 1))")
        self.batch_size = batch_size
        self.build(self.declared_input_shape)

    def call(self, x, training):
        return x

    def backward_call(self, dz):
        return dz


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """An InputLayer for `shape` (batch dimension excluded), to start a Sequential model:
    `Sequential([Input(shape=(28, 28, 1)), Conv2D(32, 3), ...])`."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, **kwargs)
