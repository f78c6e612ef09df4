"""Optimizers that update parameter arrays in place, with Keras's names, defaults and
update rules: SGD, RMSprop, Adam, AdamW, Adadelta, Adagrad, Adamax, Nadam; every one takes
clipnorm / clipvalue / global_clipnorm, weight_decay, and a learning rate that may be a
schedule from `fastconv.optimizers.schedules`."""
from fastconv._registry import Registry
from fastconv.optimizers import schedules
from fastconv.optimizers.adaptive import Adadelta, Adagrad, Adamax, AdamW, Nadam
from fastconv.optimizers.base import SGD, Adam, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax",
           "Nadam", "schedules", "get", "serialize", "deserialize"]

_REGISTRY = Registry("optimizer", Optimizer, {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adadelta": Adadelta,
    "adagrad": Adagrad, "adamax": Adamax, "nadam": Nadam}, example="adam")
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize
