"""Keras-style models: Sequential, load_model, model_from_json.

    from fastconv import layers, models
    model = models.Sequential([layers.Conv2D(32, 3, activation="relu",
                                             input_shape=(28, 28, 1)), ...])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=5, validation_data=(x_test, y_test))
    model.save("mnist.npz"); model = models.load_model("mnist.npz")
"""
import json

from fastconv.models import saving
from fastconv.models.sequential import Sequential

__all__ = ["Sequential", "load_model", "model_from_json"]


def load_model(filepath, compile=True):
    """A model saved by Sequential.save, with its weights and (with compile=True) its
    optimizer, optimizer state and epoch count, ready to continue training.

    Raises ValueError for a file that is not such a model (corrupt, truncated, foreign,
    or with weights that do not fit its architecture); FileNotFoundError if it is missing.
    """
    header, arrays = saving.read_archive(filepath, (saving.MODEL_FORMAT,))
    try:
        model = Sequential.from_config(header["model"])
        model._restore_state(header, arrays, compile)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(filepath)!r} holds an inconsistent fastconv model "
                         f"({type(exc).__name__}: {exc})") from None
    return model


def model_from_json(json_string):
    """A new (untrained) model from Sequential.to_json()'s output."""
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a model JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise ValueError("not a Sequential model JSON (expected class_name 'Sequential')")
    return Sequential.from_config(config.get("config", {}))
