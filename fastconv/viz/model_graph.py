"""plot_model: a model's layer graph drawn with matplotlib (no Graphviz needed), as
`keras.utils.plot_model` draws it: one box per layer, an arrow per connection, inputs at
the top (rankdir="TB") or at the left ("LR")."""
from fastconv.viz._figure import new_figure

__all__ = ["plot_model"]

# Box spacing, in figure inches per grid step: room for a name, a class and two shapes.
STEP_INCHES = (2.6, 1.0)
RANKDIRS = ("TB", "LR")


def _shape_text(shape):
    return str(tuple(shape)).replace("None,)", "None)")


def _levels(graph):
    """{layer: depth}: each layer one step below the deepest layer feeding it."""
    depth = {t.node.layer: 0 for t in graph.inputs}
    for node in graph.nodes:
        parents = [depth[t.node.layer] for t in node.inputs]
        depth[node.layer] = max(depth.get(node.layer, 0), 1 + max(parents, default=-1))
    return depth


def _label(layer, graph, show_shapes, show_layer_names, show_dtype, show_trainable):
    kind = getattr(layer, "CLASS_NAME", type(layer).__name__)
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    if show_shapes:
        nodes = [t.node for t in graph.inputs if t.node.layer is layer] + [
            n for n in graph.nodes if n.layer is layer]
        outputs = {_shape_text(t.shape) for n in nodes for t in n.outputs}
        lines.append("output: " + (outputs.pop() if len(outputs) == 1 else "multiple"))
    if show_dtype:
        lines.append(f"dtype: {layer.dtype}")
    if show_trainable:
        lines.append(f"trainable: {layer.trainable}")
    return "\n".join(lines)


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
               show_layer_activations=False, show_trainable=False):
    """Draw the layer graph of a built model and save it as a PNG at `to_file` (None: do
    not save). Returns the matplotlib Figure. Nested models are drawn as one box
    (expand_nested is accepted and ignored)."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    require_built = getattr(model, "_require_built", None)
    if require_built is not None:
        require_built()
    graph = model._graph
    depth = _levels(graph)
    rows = {}
    for layer in graph.layers:  # a Sequential's input layer too, unlike model.layers
        rows.setdefault(depth.get(layer, 0), []).append(layer)
    n_levels, widest = len(rows), max(len(v) for v in rows.values())
    across, down = (widest, n_levels) if rankdir == "TB" else (n_levels, widest)
    figure = new_figure(max(across, 1) * STEP_INCHES[0], max(down, 1) * STEP_INCHES[1] + 0.3)
    ax = figure.add_subplot()
    ax.set_axis_off()
    centre = {}
    for level, layers_at in rows.items():
        for i, layer in enumerate(layers_at):
            spread = i - (len(layers_at) - 1) / 2
            centre[layer] = (spread, -level) if rankdir == "TB" else (level, -spread)
    for layer, (x, y) in centre.items():
        text = _label(layer, graph, show_shapes, show_layer_names, show_dtype, show_trainable)
        if show_layer_activations and getattr(layer, "activation", None) is not None:
            text += f"\nactivation: {getattr(layer.activation, '__name__', layer.activation)}"
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="#e8eef7", edgecolor="#4a6fa5"))
    for node in graph.nodes:
        for t in node.inputs:
            (x0, y0), (x1, y1) = centre[t.node.layer], centre[node.layer]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color="#333333", shrinkA=14,
                                        shrinkB=14))
    xs = [x for x, _ in centre.values()]
    ys = [y for _, y in centre.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    if to_file is not None:
        figure.savefig(to_file, format="png", dpi=dpi)
    return figure
