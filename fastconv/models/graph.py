"""The graph of a functional model: which layer calls (nodes) run, in which order, and
which tensors need a gradient.

Built once when the model is made, from the symbolic tensors of its inputs and outputs.
"""
from fastconv.layers.input import InputLayer
from fastconv.layers.node import SymbolicTensor, describe_layer

__all__ = ["Graph"]


def _check_tensors(what, tensors):
    for t in tensors:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"Model {what} must be symbolic tensors (from Input() or from "
                            f"calling layers on them), got {type(t).__name__}: a NumPy array "
                            f"or a Python function's result cannot be part of a model")


class Graph:
    """The nodes between `inputs` and `outputs` (symbolic tensors), in an order where
    each node comes after the nodes making its inputs.

    Attributes: `nodes` (that order; the inputs' own nodes excluded), `layers` (each
    layer once: the input layers, then in node order), `consumers` (tensor -> how many
    nodes or outputs use it), `shared` (layers whose weights serve several nodes:
    gradients are summed, call states saved per node).
    """

    def __init__(self, inputs, outputs):
        _check_tensors("inputs", inputs)
        _check_tensors("outputs", outputs)
        self.inputs, self.outputs = list(inputs), list(outputs)
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from Input(), but {t.name!r} is the "
                                 f"output of {describe_layer(t.node.layer)}")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("the same Input appears twice in the model's inputs")
        self.nodes = self._ordered_nodes()
        self.layers = []
        for layer in [t.node.layer for t in self.inputs] + [n.layer for n in self.nodes]:
            if not any(layer is seen for seen in self.layers):
                self.layers.append(layer)
        self.consumers = {}
        for t in [t for n in self.nodes for t in n.inputs] + self.outputs:
            self.consumers[id(t)] = self.consumers.get(id(t), 0) + 1
        self.shared = self._shared_leaves()

    def _ordered_nodes(self):
        """Depth-first from the outputs; ValueError for an input that is not among the
        model's inputs (a disconnected graph) or a cycle."""
        input_ids = {id(t) for t in self.inputs}
        order, state = [], {}  # state: node -> "visiting" | "done"

        def dependencies(node):
            for t in node.inputs:
                if id(t) in input_ids:
                    continue
                if isinstance(t.node.layer, InputLayer):
                    raise ValueError(
                        f"the graph is disconnected: {describe_layer(node.layer)} needs input "
                        f"{t.name!r} of shape {t.shape}, which is not among the model's "
                        f"inputs {[i.name for i in self.inputs]}")
                yield t.node

        for out in self.outputs:
            if id(out) in input_ids or state.get(out.node) == "done":
                continue
            if isinstance(out.node.layer, InputLayer):
                raise ValueError(f"the graph is disconnected: output {out.name!r} is an Input "
                                 f"that is not among the model's inputs")
            state[out.node] = "visiting"
            stack = [(out.node, dependencies(out.node))]
            while stack:
                node, pending = stack[-1]
                following = next(pending, None)
                if following is None:
                    state[node] = "done"
                    order.append(node)
                    stack.pop()
                elif state.get(following) == "visiting":
                    raise ValueError(f"the graph has a cycle through "
                                     f"{describe_layer(following.layer)}: a model must be "
                                     f"a directed acyclic graph")
                elif following not in state:
                    state[following] = "visiting"
                    stack.append((following, dependencies(following)))
        return order

    def _shared_leaves(self):
        """{id: layer} of the layers reached by more than one node, directly or inside
        a nested model."""
        counts, by_id = {}, {}
        for node in self.nodes:
            for leaf in {id(leaf): leaf for leaf in node.layer.leaf_layers()}.values():
                counts[id(leaf)] = counts.get(id(leaf), 0) + 1
                by_id[id(leaf)] = leaf
        return {key: by_id[key] for key, count in counts.items() if count > 1}

    def node_is_shared(self, node):
        """Whether another node uses one of this node's layers (so this node's call
        state must be saved after its forward and restored before its backward)."""
        return any(id(leaf) in self.shared for leaf in node.layer.leaf_layers())

    def gradient_needs(self, inputs_need_gradient):
        """For each node, whether its inputs need a gradient: something upstream owns
        weights (or is a model input whose gradient is wanted)."""
        needs = {id(t): inputs_need_gradient for t in self.inputs}
        result = {}
        for node in self.nodes:
            result[node] = any(needs.get(id(t), False) for t in node.inputs)
            has_weights = any(leaf.weights for leaf in node.layer.leaf_layers())
            for t in node.outputs:
                needs[id(t)] = has_weights or result[node]
        return result

    def node_indices(self):
        """{node: Keras's node index}: its position among the calls of its layer that
        are in this graph (an input's own node included)."""
        indices = {}
        for node in [t.node for t in self.inputs] + self.nodes:
            indices[node] = sum(other.layer is node.layer for other in indices)
        return indices
