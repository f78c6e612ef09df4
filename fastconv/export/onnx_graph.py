"""A model as a list of layer nodes, and the writer that turns such a list into ONNX.

The exporter never looks at how a model is built: it walks `model_nodes(model)`, a list
of Node(layer, input names, output names) in an order where every input is produced
before it is used, with the graph's inputs and outputs named beside it. A Sequential
model is a chain; a functional model (a graph of layers) gives its own list, and merge
layers (several inputs) or nested models fit the same walk.
"""
from typing import NamedTuple, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fastconv.export import onnx_layers

__all__ = ["OPSET", "IR_VERSION", "Node", "TensorSpec", "model_nodes", "GraphWriter",
           "nodes_to_onnx", "to_onnx"]

# Opset 17 (ONNX 1.12, 2022): what ONNX Runtime >= 1.13 and every current runtime run.
OPSET = 17
# The IR version that goes with opset 17; newer onnx packages would stamp a newer one
# that older runtimes refuse.
IR_VERSION = 8
# The graph computes in float32 whatever the model's dtype: runtimes implement every
# operator used here in float32 (ONNX Runtime's CPU Conv has no float64 kernel).
EXPORT_DTYPE = np.float32
BATCH_DIM = "batch"


class Node(NamedTuple):
    """One layer applied to the named tensors `inputs`, producing the tensors `outputs`;
    layer None is the identity (it gives a tensor a second name, such as a graph output's)."""
    layer: object
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]


class TensorSpec(NamedTuple):
    """A graph input or output: its name and shape without the batch dimension."""
    name: str
    shape: Tuple[int, ...]


def model_nodes(model):
    """(inputs, nodes, outputs) of a built model: TensorSpecs and the Nodes between them.

    The model's graph is walked in its own order; a nested model's nodes are spliced in
    where it is called. Each layer call's output tensor is named after the layer (with
    _1, _2, ... for further calls of a shared layer). A model with one input and one
    output has them named "input" and "output"; else they take the model's input and
    output names.
    """
    from fastconv.models import Model
    if not isinstance(model, Model):
        raise TypeError(f"cannot export {type(model).__name__} {model!r}: not a fastconv "
                        f"model")
    if not model.built or not model.layers:
        raise ValueError(f"model {model.name!r} is not built: give its first layer an "
                         f"input_shape (or start with layers.Input), or call "
                         f"model.build((None, ...)) or predict on data first")
    graph = model._graph
    input_names = (["input"] if len(graph.inputs) == 1 else list(model.input_names))
    output_names = (["output"] if len(graph.outputs) == 1 else list(model.output_names))
    names = {id(t): name for t, name in zip(graph.inputs, input_names)}
    nodes = []
    _splice(model, names, nodes, {})
    nodes += [Node(None, (names[id(t)],), (name,)) for t, name in zip(graph.outputs,
                                                                      output_names)]
    inputs = [TensorSpec(name, tuple(t.shape[1:])) for t, name in zip(graph.inputs,
                                                                      input_names)]
    outputs = [TensorSpec(name, tuple(t.shape[1:])) for t, name in zip(graph.outputs,
                                                                       output_names)]
    return inputs, nodes, outputs


def _splice(model, names, nodes, calls):
    """Append the nodes of `model`'s graph; `names` maps its input tensors (by id) to graph
    tensor names and gains its nodes' outputs; `calls` counts each layer's calls."""
    from fastconv.models import Model
    for call in model._graph.nodes:
        sources = tuple(names[id(t)] for t in call.inputs)
        layer = call.layer
        if isinstance(layer, Model):
            inner = layer._graph
            names.update((id(t), name) for t, name in zip(inner.inputs, sources))
            _splice(layer, names, nodes, calls)
            names.update((id(t), names[id(o)]) for t, o in zip(call.outputs, inner.outputs))
            continue
        count = calls.get(id(layer), 0)
        calls[id(layer)] = count + 1
        # "#" keeps a shared layer's later calls apart from layers named like them.
        base = layer.name if count == 0 else f"{layer.name}#{count}"
        targets = tuple(base if len(call.outputs) == 1 else f"{base}#out{i}"
                        for i in range(len(call.outputs)))
        names.update((id(t), name) for t, name in zip(call.outputs, targets))
        nodes.append(Node(layer, sources, targets))


class GraphWriter:
    """Collects ONNX nodes and initializers with unique names.

    Converters call `op`, `constant` and `transpose`; `transpose` cancels a transpose
    of a transpose, so consecutive channels-first layers (Conv, then MaxPool) share one
    layout change instead of undoing and redoing it.
    """

    def __init__(self):
        self.nodes, self.initializers = [], []
        self._used = set()
        self._aliases = {}
        self._transposes = {}  # output name -> (input name, perm)
        self._transpose_cache = {}  # (input name, perm) -> output name

    def fresh_name(self, hint):
        """`hint`, or hint_1, hint_2, ... if taken."""
        name, count = hint, 0
        while name in self._used:
            count += 1
            name = f"{hint}_{count}"
        self._used.add(name)
        return name

    def bind(self, name, value):
        """Make the tensor `name` (reserved, see `reserve`) stand for the tensor `value`."""
        if name != value:
            self._aliases[name] = value

    def resolve(self, name):
        while name in self._aliases:
            name = self._aliases[name]
        return name

    def constant(self, hint, value):
        """An initializer holding `value`: floats as float32, integers as int64."""
        value = np.asarray(value)
        dtype = np.int64 if np.issubdtype(value.dtype, np.integer) else EXPORT_DTYPE
        name = self.fresh_name(hint)
        self.initializers.append(numpy_helper.from_array(value.astype(dtype), name))
        return name

    def op(self, op_type, inputs, scope, **attributes):
        """Append one node of `op_type` on the named `inputs`; returns its output's name,
        `scope/op_type` (scope: the layer's name)."""
        output = self.fresh_name(f"{scope}/{op_type}")
        self.nodes.append(helper.make_node(op_type, [self.resolve(n) for n in inputs],
                                           [output], name=output, **attributes))
        return output

    def transpose(self, name, perm, scope):
        """`name` transposed by `perm` (numpy.transpose's meaning)."""
        name, perm = self.resolve(name), tuple(perm)
        if perm == tuple(range(len(perm))):
            return name
        source = self._transposes.get(name)
        if source is not None and source[1] == onnx_layers.inverse_perm(perm):
            return source[0]
        key = (name, perm)
        if key not in self._transpose_cache:
            output = self.op("Transpose", [name], scope, perm=list(perm))
            self._transposes[output] = key
            self._transpose_cache[key] = output
        return self._transpose_cache[key]

    def model(self, graph_name, inputs, outputs):
        """The ModelProto with graph inputs and outputs as TensorSpecs (batch dim free)."""
        nodes = list(self.nodes)
        for spec in outputs:
            value = self.resolve(spec.name)
            if value != spec.name:
                nodes.append(helper.make_node("Identity", [value], [spec.name],
                                              name=spec.name))
        graph = helper.make_graph(
            _used_nodes(nodes, [spec.name for spec in outputs]), graph_name,
            [_value_info(spec) for spec in inputs], [_value_info(spec) for spec in outputs],
            initializer=self.initializers)
        model = helper.make_model(graph, producer_name="fastconv",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        return model


def _used_nodes(nodes, outputs):
    """The nodes that the outputs depend on, in order: a transpose back to channels-last
    that the next layer cancelled is left out."""
    needed, kept = set(outputs), []
    for node in reversed(nodes):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1]


def _value_info(spec):
    return helper.make_tensor_value_info(spec.name, TensorProto.FLOAT,
                                         [BATCH_DIM] + list(spec.shape))


def nodes_to_onnx(inputs, nodes, outputs, graph_name):
    """The checked ONNX ModelProto of a node list: graph `inputs` and `outputs` are
    TensorSpecs, `nodes` Nodes in an order where each input is produced before its use.
    The node list's tensor names are reserved first, so the writer's own never take one."""
    from fastconv import __version__
    writer = GraphWriter()
    for name in [spec.name for spec in inputs] + [n for node in nodes for n in node.outputs]:
        writer.fresh_name(name)
    for node in nodes:
        sources = [writer.resolve(name) for name in node.inputs]
        results = [sources[0]] if node.layer is None else onnx_layers.convert(
            writer, node.layer, sources)
        for name, result in zip(node.outputs, results):
            writer.bind(name, result)
    proto = writer.model(graph_name, inputs, outputs)
    proto.producer_version = __version__
    onnx.checker.check_model(proto)
    return proto


def to_onnx(model):
    """The ONNX ModelProto of a built fastconv model (see the package docstring)."""
    return nodes_to_onnx(*model_nodes(model), model.name)
