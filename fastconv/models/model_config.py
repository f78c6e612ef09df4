"""A functional model's graph as a JSON-ready config, and back (Keras 2's layout).

    {"name": "functional", "trainable": true,
     "layers": [{"class_name": "Conv2D", "config": {...}, "name": "conv2d",
                 "inbound_nodes": [{"inputs": [["input_layer", 0, 0]], "as_list": false}]},
                ...],
     "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense", 0, 0]]}

A tensor is named [layer name, node index, tensor index], the node index counting the
layer's calls within this model. Nested models are layers whose config is their own.
"""
from fastconv import layers as layers_module
from fastconv.layers.input import InputLayer

__all__ = ["functional_config", "functional_from_config"]


def functional_config(model):
    graph = model._graph
    node_index = graph.node_indices()

    def ref(tensor):
        return [tensor.node.layer.name, node_index[tensor.node], tensor.index]

    layer_configs = []
    for layer in model.layers:
        nodes = [n for n in graph.nodes if n.layer is layer]
        layer_configs.append({**layers_module.serialize(layer), "name": layer.name,
                              "inbound_nodes": [{"inputs": [ref(t) for t in n.inputs],
                                                 "as_list": n.as_list} for n in nodes]})
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": [ref(t) for t in graph.inputs],
            "output_layers": [ref(t) for t in graph.outputs]}


def functional_from_config(cls, config):
    """A new model of class cls from functional_config's output; ValueError if the config
    is malformed, names unknown layers, or its graph has a cycle."""
    try:
        return _rebuild(cls, config)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"bad functional model config ({type(exc).__name__}: {exc})") from None


def _rebuild(cls, config):
    tensors = {}  # (layer name, node index, tensor index) -> symbolic tensor
    pending = []  # (layer, node index, node config), each layer's calls in order
    for layer_config in config["layers"]:
        layer = layers_module.deserialize(layer_config)
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = layer.output
        pending += [(layer, i, node) for i, node in enumerate(layer_config["inbound_nodes"])]

    def ready(node_config):
        return all(tuple(ref) in tensors for ref in node_config["inputs"])

    # Call each layer once its inputs exist; a pass without progress means a cycle.
    while pending:
        progress = False
        for entry in list(pending):
            layer, index, node_config = entry
            earlier_calls = any(p[0] is layer and p[1] < index for p in pending)
            if earlier_calls or not ready(node_config):
                continue
            inputs = [tensors[tuple(ref)] for ref in node_config["inputs"]]
            outputs = layer(inputs if node_config["as_list"] else inputs[0])
            for i, t in enumerate(outputs if isinstance(outputs, list) else [outputs]):
                tensors[(layer.name, index, i)] = t
            pending.remove(entry)
            progress = True
        if not progress:
            names = sorted({p[0].name for p in pending})
            raise ValueError(f"the model config's graph has a cycle (or uses tensors no layer "
                             f"makes): layers {names} wait on each other; a model must be a "
                             f"directed acyclic graph")

    def lookup(refs):
        missing = [ref for ref in refs if tuple(ref) not in tensors]
        if missing:
            raise ValueError(f"the model config names tensors no layer makes: {missing}")
        return [tensors[tuple(ref)] for ref in refs]

    model = cls(lookup(config["input_layers"]), lookup(config["output_layers"]),
                name=config["name"])
    if not config.get("trainable", True):
        model.trainable = False  # True would override layers frozen one by one
    return model
