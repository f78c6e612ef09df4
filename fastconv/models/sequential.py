"""Sequential: a Model over a linear graph, `Sequential([Conv2D(...), MaxPooling2D(), ...])`.

The graph is made as soon as the input shape is known (an Input or InputLayer first, a
first layer with input_shape=, build(), or the first data seen): an input layer, then
each layer called on the previous one's output. Training is the Trainer's, as for every
model.
"""
from fastconv import layers as layers_module
from fastconv.layers.base import Layer, unique_name
from fastconv.layers.input import InputLayer
from fastconv.layers.node import SymbolicTensor
from fastconv.models.model import Model

__all__ = ["Sequential"]


def _declared_input_shape(layer):
    """The input shape a first layer declares (input_shape=, or a built model's)."""
    if isinstance(layer, Model):
        return layer.input_shape[1:] if layer.built and not layer.MULTI_INPUT else None
    return layer.declared_input_shape


def _contains(model, layer):
    """Whether `layer` is `model` or nested inside it."""
    return layer is model or any(_contains(inner, layer) for inner in getattr(model, "_layers", ())
                                 if isinstance(inner, Model))


class Sequential(Model):
    """A linear stack of layers (which may be models themselves).

    Attributes: `layers` (the input layer excluded, as Keras), and the Trainer's.
    """

    CLASS_NAME = "Sequential"
    _is_linear = True

    def __init__(self, layers=None, name=None, trainable=True):
        self._init_model(name or unique_name("sequential"), trainable)
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    # -- structure -----------------------------------------------------------------
    def add(self, layer):
        """Append a layer; the graph grows at once if the model's input shape is known."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # Keras: Sequential([Input(shape=...), ...])
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a fastconv layer, got "
                            f"{type(layer).__name__} {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("an InputLayer can only be the first layer of a model")
            self._input_layer = layer
            self._set_graph([layer.output], [layer.output])
            return
        if _contains(layer, self):
            raise ValueError(f"model {self.name!r} cannot contain itself: that would make its "
                             f"graph a cycle")
        self._check_names(self._layers + [layer])
        if not self._layers and self._input_layer is None:
            shape = _declared_input_shape(layer)
            if shape is not None:
                self._input_layer = InputLayer(shape=shape)
        self._layers.append(layer)
        if self._input_layer is not None:
            previous = self._graph.outputs[0] if self._graph else self._input_layer.output
            try:
                output = layer(previous)
                if isinstance(output, list):
                    raise ValueError(f"a Sequential model's layers must have one output; "
                                     f"{layer.name!r} has {len(output)}")
            except (ValueError, TypeError):
                self._layers.pop()  # leave the model as it was
                raise
            self._set_graph([self._input_layer.output], [output])

    def pop(self):
        """Remove the last layer (Keras's Sequential.pop)."""
        if not self._layers:
            raise TypeError("there are no layers in the model to pop")
        layer = self._layers.pop()
        if self.built:
            last_call = self._graph.outputs[0].node
            layer._inbound_nodes.remove(last_call)
            self._set_graph([self._input_layer.output], last_call.inputs)
        return layer

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (batch dimension included, as Keras)."""
        if input_shape is not None:
            shape = tuple(int(d) for d in tuple(input_shape)[1:])
            if self.built and self.input_shape[1:] == shape:
                return
            self._input_layer = InputLayer(shape=shape)
        if self._input_layer is None:
            raise ValueError("build needs an input shape, e.g. model.build((None, 28, 28, 1))")
        output = self._input_layer.output
        for layer in self._layers:
            output = layer(output)
        self._set_graph([self._input_layer.output], [output])

    def symbolic_output_shapes(self, input_shape):
        if not self.built:
            self.build((None,) + tuple(input_shape))
        return super().symbolic_output_shapes(input_shape)

    def _require_built(self):
        if not self._layers:
            raise ValueError("the model has no layers yet: add some with model.add(...)")
        if not self.built:
            raise ValueError("this model has not been built yet: give the first layer an "
                             "input_shape, start with layers.Input(shape=...), call "
                             "model.build((None, ...)), or fit/predict on data first")

    @property
    def input_names(self):
        return super().input_names if self.built else ["input"]

    @property
    def output_names(self):
        if self.built:
            return super().output_names
        return [self._layers[-1].name] if self._layers else ["output"]

    def input_shapes_for_data(self):
        return [self.input_shape[1:] if self.built else None]

    def prepare_for_inputs(self, xs):
        if not self.built:
            self.build((None,) + xs[0].shape[1:])
        self._require_built()

    # -- config --------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name,
                "input_shape": (None if self._input_layer is None
                                else list(self._input_layer.input_shape)),
                "layers": [layers_module.serialize(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config):
        try:
            model = cls(name=config["name"])
            if config.get("input_shape") is not None:
                model.add(InputLayer(shape=tuple(int(d) for d in config["input_shape"])))
            for layer_config in config["layers"]:
                model.add(layers_module.deserialize(layer_config))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad Sequential config ({type(exc).__name__}: {exc})") from None
        return model
