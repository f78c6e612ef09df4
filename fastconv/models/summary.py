"""The Keras-style summary table: layer (type), output shape, parameter count, and for a
graph model the "Connected to" column (Keras's `layer[node][tensor]` references, one
per line); then the totals."""
from fastconv.layers.input import InputLayer

__all__ = ["summary_lines"]


def _format_shape(shape):
    return str(tuple(shape)).replace("None,)", "None)")


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def _layer_rows(model, layer, node_index, connections):
    """The table rows of one layer: the first holds its name, shape and count; more rows
    follow when it is connected to several tensors."""
    graph = model._graph
    nodes = [t.node for t in graph.inputs if t.node.layer is layer] + [
        n for n in graph.nodes if n.layer is layer]
    shapes = {_format_shape(t.shape) for n in nodes for t in n.outputs}
    shape = shapes.pop() if len(shapes) == 1 else "multiple"
    params = f"{layer.count_params():,}"
    links = [f"{t.node.layer.name}[{node_index[t.node]}][{t.index}]"
             for n in nodes for t in n.inputs] or ["-"]
    kind = getattr(layer, "CLASS_NAME", type(layer).__name__)  # Keras: "Functional"
    first = [f"{layer.name} ({kind})", shape, params]
    if not connections:
        return [first]
    return [first + [links[0]]] + [["", "", "", link] for link in links[1:]]


def summary_lines(model, connections=False):
    """The lines of model.summary(); the model must be built."""
    node_index = model._graph.node_indices()
    rows = [row for layer in model.layers
            for row in _layer_rows(model, layer, node_index, connections)]
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connections
                                                           else [])
    widths = [max(len(r[i]) for r in rows + [header]) + 3 for i in range(len(header))]
    width = sum(widths)

    def row(cells):
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    leaves = [leaf for leaf in model.leaf_layers() if not isinstance(leaf, InputLayer)]
    trainable = sum(w.size for leaf in leaves if leaf.trainable for w in leaf.params.values())
    total = model.count_params()
    total_bytes = sum(w.nbytes for leaf in leaves for w in leaf.weights)
    return ([f'Model: "{model.name}"', "_" * width, row(header), "=" * width]
            + [row(r) for r in rows]
            + ["=" * width,
               f"Total params: {total:,} ({_bytes(total_bytes)})",
               f"Trainable params: {trainable:,}",
               f"Non-trainable params: {total - trainable:,}",
               "_" * width])
