"""InputLayer and Input: declare the shape of a model's inputs."""
from fastconv.layers.base import Layer
from fastconv.layers.node import Node

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """The identity, carrying the input shape (batch dimension excluded), and the node
    whose output is the symbolic tensor `Input` returns.

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
        Node(self, [], [(None,) + self.input_shape], as_list=False)
        self.output.name = self.name

    @property
    def input(self):
        return self.output  # Keras: an input layer's input is its output

    def call(self, x, training):
        return x

    def backward_call(self, dz):
        return dz


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic tensor for a model's input of `shape` (batch dimension excluded), as
    keras.Input: call layers on it, then make a `Model(inputs, outputs)`; or put it first
    in a `Sequential([Input(shape=(28, 28, 1)), Conv2D(32, 3), ...])`."""
    for argument, value in (("sparse", sparse), ("tensor", tensor), ("optional", optional)):
        if value:
            raise ValueError(f"Input({argument}=...) is not supported by fastconv")
    layer = InputLayer(shape=shape, batch_size=batch_size, batch_shape=batch_shape, name=name,
                       dtype=dtype)
    return layer.output
