"""The Layer base class: parameters and gradients, weights I/O, config, naming.

A layer computes `y = activation(call(x))`. Subclasses implement `call(x, training)`
and `backward_call(dz) -> dx`, where dz is the gradient with respect to call's
output (the pre-activation). `backward(dy)` first takes dy back through the
activation; a loss that is fused with the activation (softmax + cross-entropy)
hands its gradient with respect to the pre-activation straight to `backward_call`.

Shapes given to `build` and `compute_output_shape` exclude the batch dimension.
"""
import re

import numpy as np

from fastconv import activations, initializers
from fastconv.layers.node import call_symbolic, is_symbolic
from fastconv.layers.penalties import WeightPenalties

__all__ = ["Layer", "to_channels_last", "from_channels_last", "shape_to_channels_last",
           "shape_from_channels_last", "check_data_format"]

FLOAT_DTYPES = ("float32", "float64")
DATA_FORMATS = ("channels_last", "channels_first")
_COMMON_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                  "batch_size", "input_dim", "activity_regularizer")

# How many layers of each base name exist, for Keras-like names conv2d, conv2d_1, ...
_name_counts = {}


def snake_case(class_name):
    """Conv2D -> conv2d, MaxPooling2D -> max_pooling2d (Keras's rule)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def reset_layer_names():
    """Start the automatic names again (conv2d, conv2d_1, ...): backend.clear_session."""
    _name_counts.clear()


def unique_name(base):
    """`base`, then base_1, base_2, ... on later calls: Keras's layer names."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def check_data_format(data_format):
    """data_format if it is 'channels_last' or 'channels_first' (None: the default,
    fastconv.backend.image_data_format()), else ValueError."""
    if data_format is None:
        from fastconv import backend
        return backend.image_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {DATA_FORMATS}, got {data_format!r}")
    return data_format


def to_channels_last(a, data_format):
    """(N, C, *spatial) -> (N, *spatial, C) when data_format is channels_first (a view)."""
    return a if data_format == "channels_last" else np.moveaxis(a, 1, -1)


def from_channels_last(a, data_format):
    """The inverse of to_channels_last: (N, *spatial, C) -> (N, C, *spatial)."""
    return a if data_format == "channels_last" else np.moveaxis(a, -1, 1)


def shape_to_channels_last(shape, data_format):
    """The same move for a shape without its batch dimension."""
    shape = tuple(shape)
    return shape if data_format == "channels_last" else shape[1:] + shape[:1]


def shape_from_channels_last(shape, data_format):
    """The inverse of shape_to_channels_last."""
    shape = tuple(shape)
    return shape if data_format == "channels_last" else shape[-1:] + shape[:-1]


def _shape_tuple(name, shape):
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a tuple of positive ints, got {shape!r}") from None
    if any(d < 1 for d in dims):
        raise ValueError(f"{name} must be a tuple of positive ints, got {shape!r}")
    return dims


class Layer(WeightPenalties):
    """Base class of all layers.

    Attributes: `params` (trainable arrays by name, Keras order), `grads` (their
    gradients after `backward`, same keys), `state` (non-trainable arrays such as
    BatchNormalization's moving statistics), `activation`, `input_shape` and
    `output_shape` (without the batch dimension, set by `build`), `rng` (a NumPy
    Generator for layers that draw random numbers, else None); the regularizers and
    constraints of fastconv.layers.penalties (every layer takes `activity_regularizer`).

    Called on arrays, a layer computes (`forward`); called on symbolic tensors (from
    `Input`), it records the call in the model being defined and returns symbolic
    tensors (`output` is then its output tensor).
    """

    # Merge layers take a list of inputs; a model with several outputs returns a list.
    MULTI_INPUT = False
    MULTI_OUTPUT = False
    input_shape = output_shape = None
    built = False

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(_COMMON_KWARGS))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{', '.join(unknown)}")
        self.name = kwargs.get("name") or unique_name(snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {self.name!r}")
        self.trainable = bool(kwargs.get("trainable", True))
        dtype = kwargs.get("dtype") or "float32"
        if str(np.dtype(dtype)) not in FLOAT_DTYPES:
            raise ValueError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.declared_input_shape = self._declared_shape(kwargs)
        self.activation = activations.linear
        self.params, self.grads, self.state = {}, {}, {}
        self.rng = None
        self._inbound_nodes = []
        self._init_penalties(kwargs.get("activity_regularizer"))

    @staticmethod
    def _declared_shape(kwargs):
        if kwargs.get("input_shape") is not None:
            return _shape_tuple("input_shape", kwargs["input_shape"])
        if kwargs.get("batch_input_shape") is not None:
            return _shape_tuple("input_shape", tuple(kwargs["batch_input_shape"])[1:])
        if kwargs.get("input_dim") is not None:
            return _shape_tuple("input_dim", (kwargs["input_dim"],))
        return None

    # -- building ------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of shape `input_shape` (batch dimension excluded).

        Subclasses create their weights with `add_weight`, then call `super().build`.
        """
        input_shape = _shape_tuple("input_shape", input_shape)
        self.output_shape = tuple(self.compute_output_shape(input_shape))
        self.input_shape = input_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        """The output shape (batch dimension excluded) for inputs of `input_shape`."""
        return tuple(input_shape)

    def add_weight(self, name, shape, initializer, trainable=True, regularizer=None,
                   constraint=None):
        """Create, register and return a weight array of this layer's dtype; training adds
        `regularizer`'s penalty to the loss and applies `constraint` after each step."""
        value = initializers.get(initializer)(shape, self.dtype)
        (self.params if trainable else self.state)[name] = value
        for registry, option in ((self.weight_regularizers, regularizer),
                                 (self.weight_constraints, constraint)):
            if option is not None:
                registry[name] = option
        return value

    def symbolic_output_shapes(self, input_shape):
        """[output shape with the batch dimension] for a call on inputs of `input_shape`
        (batch dimension excluded): builds the layer on its first call; ValueError if
        it was built for another shape."""
        if not self.built:
            self.build(input_shape)
        elif tuple(input_shape) != self.input_shape:
            raise ValueError(f"it was built for inputs of shape (None,) + {self.input_shape}")
        return [(None,) + tuple(self.output_shape)]

    # -- graph ---------------------------------------------------------------------
    def __call__(self, inputs, training=False):
        """On arrays: forward(inputs, training). On symbolic tensors: record the call and
        return the symbolic output."""
        if is_symbolic(inputs):
            return call_symbolic(self, inputs)
        return self.forward(inputs, training)

    def _node_attribute(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has never been called on a symbolic "
                                 f"tensor, so it has no {what}: call it on Input(...) or "
                                 f"build the model that holds it first")
        node = self._inbound_nodes[0]  # Keras: the first call's tensors
        tensors = node.outputs if what == "output" else node.inputs
        return tensors if len(tensors) > 1 else tensors[0]

    @property
    def output(self):
        """The symbolic output of this layer's (first) call in a model definition."""
        return self._node_attribute("output")

    @property
    def input(self):
        """The symbolic input of this layer's (first) call in a model definition."""
        return self._node_attribute("input")

    def save_call_state(self):
        """What backward needs from the last forward call; a layer used twice in a model
        (shared weights) is restored to each call's state before its backward."""
        return dict(vars(self))

    def restore_call_state(self, saved):
        vars(self).update(saved)

    def leaf_layers(self):
        """The layers that own weights directly: this one (a model lists its layers')."""
        return [self]

    # -- computing -----------------------------------------------------------------
    def forward(self, x, training=False):
        """The layer's output for a batch x; builds the layer on first use."""
        x = np.asarray(x, dtype=self.dtype)
        if not self.built:
            self.build(x.shape[1:])
        elif x.shape[1:] != self.input_shape:
            raise ValueError(f"layer {self.name!r} expects inputs of shape "
                             f"(batch,) + {self.input_shape}, got {x.shape}")
        self._pre_activation, self._output = self.call_and_activate(x, training)
        self._record_activity(self._output)
        return self._output

    def call_and_activate(self, x, training):
        """(pre-activation, output) of a batch. A layer whose kernel applies the activation
        itself overrides this and returns None as the pre-activation."""
        z = self.call(x, training)
        return z, self.activation(z)

    def backward(self, dy, input_gradient=True):
        """Back-propagate dy (the gradient of the output): fills self.grads, returns dx.

        input_gradient=False tells the layer that nobody needs dx (the model's first
        layer): a layer may then skip computing it and return None.
        """
        return self.backward_call(
            self.activation.gradient(dy, self._pre_activation, self._output))

    def call(self, x, training):
        """The layer's computation before its activation; training: Dropout and
        BatchNormalization behave differently while training."""
        raise NotImplementedError

    def backward_call(self, dz):
        """Back-propagate the gradient of call's output (before the activation)."""
        raise NotImplementedError

    @property
    def pre_activation(self):
        """call's output in the last forward pass (the logits under a softmax); None when
        the layer's kernel applied the activation itself (Conv2D with ReLU)."""
        return self._pre_activation

    # -- weights -------------------------------------------------------------------
    @property
    def weights(self):
        """All weight arrays, trainable first, in Keras's order (the live arrays)."""
        return list(self.params.values()) + list(self.state.values())

    def get_weights(self):
        """Copies of the weights, in Keras's order (kernel, bias; gamma, beta, mean, var)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list in get_weights() order."""
        weights = list(weights)
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(f"layer {self.name!r} has {len(current)} weight arrays "
                             f"{[w.shape for w in current]}, got {len(weights)}")
        for target, value, key in zip(current, weights, list(self.params) + list(self.state)):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"weight {key!r} of layer {self.name!r} has shape "
                                 f"{target.shape}, got {value.shape}")
            if not np.issubdtype(value.dtype, np.number):
                raise TypeError(f"weight {key!r} of layer {self.name!r} must be numeric, "
                                f"got dtype {value.dtype}")
            np.copyto(target, value, casting="unsafe")

    def count_params(self):
        """The number of values in the layer's weights (ValueError before it is built)."""
        if not self.built:
            raise ValueError(f"layer {self.name!r} is not built yet: its parameter count "
                             f"depends on its input shape")
        return sum(w.size for w in self.weights)

    # -- config --------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments as a JSON-ready dict (subclasses add theirs)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": str(self.dtype)}
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        return {**config, **self._penalty_config()}

    @classmethod
    def from_config(cls, config):
        """A new layer that get_config() describes."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"
