"""Layers to and from JSON-ready dicts: {"class_name": ..., "config": ...}."""
from fastconv.layers import (augmentation, conv, core, depthwise, image_preprocessing,
                             input, merging, normalization, pooling, reshaping, transpose)

__all__ = ["serialize", "deserialize", "register_layer_class"]

LAYER_CLASSES = {name: getattr(module, name)
                 for module in (augmentation, conv, core, depthwise, image_preprocessing,
                                input, merging, normalization, pooling, reshaping, transpose)
                 for name in module.__all__ if name[0].isupper() and name != "Input"}


def register_layer_class(cls, class_name):
    """Make `class_name` configs deserialize to cls (fastconv.models registers its models,
    so that a model nested in another loads as a layer)."""
    LAYER_CLASSES[class_name] = cls


def serialize(layer):
    """The layer as a JSON-ready dict {"class_name": ..., "config": ...}; see deserialize."""
    return {"class_name": getattr(layer, "CLASS_NAME", type(layer).__name__),
            "config": layer.get_config()}


def deserialize(config):
    """A new layer from serialize()'s output; ValueError for anything else."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"a layer config must be a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    cls = LAYER_CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"unknown layer class {config.get('class_name')!r}; expected one "
                         f"of {sorted(LAYER_CLASSES)}")
    try:
        return cls.from_config(config["config"])
    except TypeError as exc:
        raise ValueError(f"bad config for layer {config['class_name']}: {exc}") from None
