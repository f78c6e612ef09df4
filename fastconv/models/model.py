"""Model: a directed acyclic graph of layers between symbolic inputs and outputs (Keras's
functional API), trained by the Trainer it mixes in; a model is itself a layer.

    inputs = fastconv.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    y = layers.Conv2D(16, 3, padding="same")(x)
    x = layers.Activation("relu")(layers.Add()([x, y]))
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    model = fastconv.Model(inputs, outputs)

A layer called at several places (shared) keeps one set of weights; its gradients
from every call are summed. Nodes run in the graph's order; a node's call state is
saved after its forward and restored before its backward only when its layer is shared.
"""
import json

import numpy as np

from fastconv.distribute.context import chief_writes
from fastconv.layers.base import Layer, unique_name
from fastconv.layers.input import InputLayer
from fastconv.models import model_config, model_io
from fastconv.models.graph import Graph
from fastconv.models.summary import summary_lines
from fastconv.trainer import Trainer

__all__ = ["Model"]


def _as_list(tensors):
    if isinstance(tensors, dict):
        raise TypeError("Model inputs and outputs must be a symbolic tensor or a list of them "
                        "(a dict is not supported: pass list(d.values()))")
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


def _accumulate(grads, tensor, grad):
    key = id(tensor)
    grads[key] = grad if key not in grads else grads[key] + grad


def _one_or_list(items):
    return items[0] if len(items) == 1 else list(items)


class Model(Trainer, Layer):
    """A model over the graph of layers from `inputs` to `outputs` (symbolic tensors from
    `fastconv.Input` and layer calls). Has Keras's compile / fit / evaluate / predict,
    summary, save; can be called on symbolic tensors or added to a Sequential like a layer.
    """

    CLASS_NAME = "Functional"
    _is_linear = False  # Sequential: its summary has no "Connected to" column

    def __new__(cls, *args, **kwargs):
        for klass in cls.__mro__:
            if klass is Model:
                break
            if "call" in vars(klass):
                raise TypeError(
                    f"{klass.__name__} subclasses Model with its own call(): subclassed models "
                    f"are not supported by fastconv, whose models are graphs of layers. Build "
                    f"it with the functional API (Model(inputs, outputs)) or Sequential")
        return super().__new__(cls)

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True):
        if inputs is None or outputs is None:
            raise TypeError("Model needs inputs and outputs: Model(inputs, outputs) with the "
                            "symbolic tensors of fastconv.Input(...) and of the layers called "
                            "on them")
        self._init_model(name or unique_name("functional"), trainable)
        self._set_graph(_as_list(inputs), _as_list(outputs))
        self._layers = list(self._graph.layers)
        self._check_names(self._layers)
        if not trainable:
            self.trainable = False

    def _init_model(self, name, trainable):
        self._layers, self._graph = [], None
        Layer.__init__(self, name=name, trainable=trainable)
        self._init_trainer()

    def _set_graph(self, inputs, outputs):
        graph = Graph(inputs, outputs)
        self._graph = graph
        self._gradient_needs = {need: graph.gradient_needs(need) for need in (False, True)}
        self._shared_nodes = {node for node in graph.nodes if graph.node_is_shared(node)}
        self._call_states = {}
        self.dtype = np.dtype(outputs[0].dtype)
        # An output can start the backward pass from its layer's pre-activation (fused
        # softmax + cross-entropy) when nothing else uses it.
        self._fusable = [None if isinstance(t.node.layer, InputLayer)
                         or graph.consumers[id(t)] != 1 or len(t.node.outputs) != 1
                         else t.node for t in graph.outputs]

    @staticmethod
    def _check_names(layers):
        seen = set()
        for layer in layers:
            if layer.name in seen:
                raise ValueError(f"the model already has a layer named {layer.name!r}: layer "
                                 f"names must be unique")
            seen.add(layer.name)

    # -- structure -----------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def built(self):
        return self._graph is not None

    @property
    def inputs(self):
        """The model's symbolic input tensors (a list)."""
        self._require_built()
        return list(self._graph.inputs)

    @property
    def outputs(self):
        """The model's symbolic output tensors (a list)."""
        self._require_built()
        return list(self._graph.outputs)

    @property
    def input(self):
        return _one_or_list(self.inputs)

    @property
    def output(self):
        return _one_or_list(self.outputs)

    @property
    def input_names(self):
        return [t.node.layer.name for t in self.inputs]

    @property
    def output_names(self):
        """Names of the outputs (their layers', as Keras), for dict-valued losses and logs."""
        names = []
        for t in self.outputs:
            name = t.node.layer.name
            if len(t.node.outputs) > 1 or name in names:
                name = f"{name}_{len(names)}"
            names.append(name)
        return names

    @property
    def input_shape(self):
        """(None, ...) for one input, a list of them for several (Keras)."""
        if not self.built:
            return None
        return _one_or_list([t.shape for t in self._graph.inputs])

    @property
    def output_shape(self):
        return _one_or_list([t.shape for t in self.outputs])

    @property
    def MULTI_INPUT(self):
        return self.built and len(self._graph.inputs) > 1

    @property
    def MULTI_OUTPUT(self):
        return self.built and len(self._graph.outputs) > 1

    def _require_built(self):
        if not self.built:
            raise ValueError("this model has not been built yet")

    def get_layer(self, name=None, index=None):
        """A layer by name or by index in model.layers (Keras's get_layer)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name= or index=")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer(index={index}): the model has only "
                                 f"{len(self._layers)} layers")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no such layer: {name!r}; the model's layers are "
                         f"{[layer.name for layer in self._layers]}")

    def summary(self, print_fn=None):
        """Print Keras's table: layers, output shapes, parameter counts (and for a graph
        model, what each layer is connected to)."""
        self._require_built()
        print_fn = print_fn or print
        for line in summary_lines(self, connections=not self._is_linear):
            print_fn(line)

    def symbolic_output_shapes(self, input_shape):
        shapes = input_shape if self.MULTI_INPUT else [input_shape]
        expected = [t.shape[1:] for t in self._graph.inputs]
        if len(shapes) != len(expected) or any(tuple(s) != e for s, e in zip(shapes, expected)):
            raise ValueError(f"model {self.name!r} takes inputs of shape(s) "
                             f"{', '.join(str(t.shape) for t in self._graph.inputs)}")
        return [t.shape for t in self._graph.outputs]

    # -- weights -------------------------------------------------------------------
    def named_leaves(self):
        """(path, layer) for each weight-owning layer once, nested models opened up:
        "dense", "inner_model/conv2d", ..."""
        seen, result = set(), []
        for layer in self._layers:
            if isinstance(layer, InputLayer):
                continue
            inner = (layer.named_leaves() if isinstance(layer, Model)
                     else [(layer.name, layer)])
            for path, leaf in inner:
                if id(leaf) not in seen:
                    seen.add(id(leaf))
                    prefix = f"{layer.name}/" if isinstance(layer, Model) else ""
                    result.append((prefix + path, leaf))
        return result

    def leaf_layers(self):
        return [leaf for _, leaf in self.named_leaves()]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Setting it sets every layer's (Keras): a frozen model trains none of its layers."""
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = self._trainable

    @property
    def weights(self):
        """Every weight array (live), layer by layer in model.layers order, each once."""
        return [w for leaf in self.leaf_layers() for w in leaf.weights]

    def count_params(self):
        self._require_built()
        return sum(leaf.count_params() for leaf in self.leaf_layers())

    def set_weights(self, weights):
        weights = list(weights)
        self._require_built()
        leaves = self.leaf_layers()
        expected = sum(len(leaf.weights) for leaf in leaves)
        if len(weights) != expected:
            raise ValueError(f"model {self.name!r} has {expected} weight arrays, got "
                             f"{len(weights)}")
        start = 0
        for leaf in leaves:
            count = len(leaf.weights)
            leaf.set_weights(weights[start:start + count])
            start += count

    def trainable_pairs(self):
        """(gradient, parameter) for every trainable parameter, in a fixed order."""
        return [(leaf.grads[key], param) for leaf in self.leaf_layers() if leaf.trainable
                for key, param in leaf.params.items()]

    def trainable_params(self):
        return [param for leaf in self.leaf_layers() if leaf.trainable
                for param in leaf.params.values()]

    # -- the computation -----------------------------------------------------------
    def input_shapes_for_data(self):
        return [t.shape[1:] for t in self.inputs]

    def prepare_for_inputs(self, xs):
        """Nothing to do: a functional model is built from its inputs' shapes."""

    def run_forward(self, xs, training):
        """The outputs (a list) for the input arrays xs (a list, in model.inputs order)."""
        values = {id(t): x for t, x in zip(self._graph.inputs, xs)}
        states = self._call_states = {}  # a new dict: a saved call state keeps its own
        activity_losses = []
        for node in self._graph.nodes:
            args = [values[id(t)] for t in node.inputs]
            out = node.layer.forward(args if node.as_list else args[0], training)
            activity_losses += node.layer._activity_losses  # one per call, as Keras
            if node in self._shared_nodes:
                states[node] = node.layer.save_call_state()
            if len(node.outputs) == 1:
                values[id(node.outputs[0])] = out
            else:
                values.update(zip(map(id, node.outputs), out))
        self._batch_size = len(xs[0])
        self._activity_losses = activity_losses
        return [values[id(t)] for t in self._graph.outputs]

    def output_activation(self, index):
        """The activation of the layer making output `index`, when a loss may start the
        backward pass from that layer's pre-activation; else None (also when the layer's
        activity penalty needs the gradient of its output)."""
        node = self._fusable[index]
        if node is None or node.layer.activity_regularizer is not None:
            return None
        return node.layer.activation

    def output_logits(self, index):
        """The pre-activation of the layer making output `index` in the last forward pass
        (for a loss that fuses with output_activation(index))."""
        node = self._fusable[index]
        if node in self._shared_nodes:
            node.layer.restore_call_state(self._call_states[node])
        return node.layer.pre_activation

    def run_backward(self, output_grads, fused=(), input_gradient=False):
        """Back-propagate the outputs' gradients (None: no gradient) through the graph,
        filling every layer's grads; `fused`: indices of outputs whose gradient is with
        respect to their layer's pre-activation. Returns the inputs' gradients when
        input_gradient, else Nones."""
        graph = self._graph
        needs = self._gradient_needs[input_gradient]
        grads, from_logits = {}, {}
        for i, (t, grad) in enumerate(zip(graph.outputs, output_grads)):
            if grad is None:
                continue
            if i in fused:
                from_logits[graph.outputs[i].node] = grad
            else:
                _accumulate(grads, t, grad)
        summed = {}
        for node in reversed(graph.nodes):
            if node in self._shared_nodes:
                node.layer.restore_call_state(self._call_states[node])
            if node in from_logits:
                dx = node.layer.backward_call(from_logits[node])
            else:
                dys = [grads.pop(id(t), None) for t in node.outputs]
                dys = [np.zeros((self._batch_size,) + t.shape[1:], t.dtype) if d is None else d
                       for d, t in zip(dys, node.outputs)]
                if len(dys) == 1:  # a layer's activity penalty (a nested model has none)
                    dys[0] = node.layer.activity_gradient(dys[0])
                dx = node.layer.backward(dys[0] if len(dys) == 1 else dys,
                                         input_gradient=needs[node])
            if node in self._shared_nodes:
                self._sum_shared_gradients(node, summed)
            if needs[node]:
                for t, d in zip(node.inputs, dx if node.as_list else [dx]):
                    if d is not None:
                        _accumulate(grads, t, d)
        for leaf, leaf_grads in summed.values():
            leaf.grads.update(leaf_grads)
        return [grads.get(id(t)) for t in graph.inputs]

    def _sum_shared_gradients(self, node, summed):
        """Add the gradients a shared layer got from this node to its running sums."""
        for leaf in node.layer.leaf_layers():
            if id(leaf) not in self._graph.shared or not leaf.params:
                continue
            if id(leaf) in summed:
                _, sums = summed[id(leaf)]
                for key, grad in leaf.grads.items():
                    sums[key] = sums[key] + grad
            else:
                summed[id(leaf)] = (leaf, dict(leaf.grads))

    # A model is a layer: forward/backward on arrays, for a model nested in another.
    def forward(self, x, training=False):
        xs = list(x) if self.MULTI_INPUT else [x]
        return _one_or_list(self.run_forward(xs, training))

    def backward(self, dy, input_gradient=True):
        dys = list(dy) if self.MULTI_OUTPUT else [dy]
        dxs = self.run_backward(dys, input_gradient=input_gradient)
        return dxs if self.MULTI_INPUT else dxs[0]

    def save_call_state(self):
        inner = {id(leaf): leaf.save_call_state() for leaf in self.leaf_layers()}
        return dict(vars(self)), inner

    def restore_call_state(self, saved):
        own, inner = saved
        vars(self).update(own)
        for leaf in self.leaf_layers():
            leaf.restore_call_state(inner[id(leaf)])

    # -- config and saving ---------------------------------------------------------
    def get_config(self):
        return model_config.functional_config(self)

    @classmethod
    def from_config(cls, config):
        return model_config.functional_from_config(cls, config)

    def to_json(self):
        return json.dumps({"class_name": self.CLASS_NAME, "config": self.get_config()})

    @chief_writes
    def save(self, filepath):
        """Save architecture, weights, optimizer state, epoch count and random-generator
        states to one .npz file (written atomically); load it with load_model. In a
        distributed model only the chief (rank 0) writes; the other ranks return at once."""
        self._require_built()
        model_io.save_model(self, filepath)

    @chief_writes
    def save_weights(self, filepath):
        """Save only the weights (Keras's order) to an .npz file, atomically."""
        model_io.save_weights(self, filepath)

    def load_weights(self, filepath):
        """Load weights saved by save_weights (or by save) into this model."""
        model_io.load_weights(self, filepath)

    def export(self, filepath, format="onnx"):
        """Write the model for another runtime (ONNX; see fastconv.export), as Keras 3."""
        from fastconv.export import export_model
        return export_model(self, filepath, format)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self._layers)}>"
