"""Model files: architecture (JSON), weights, optimizer state, epoch count and random
generator states in one .npz, through saving.write_archive / read_archive (atomic, no
pickle). Any model (Sequential, functional, nested) saves and loads the same way.

Files written before functional models existed (format "fastconv.Sequential", the
bare Sequential config) still load.
"""
import json

from fastconv import layers as layers_module
from fastconv import losses, optimizers
from fastconv.models import saving

__all__ = ["save_model", "load_model", "restore_training_state", "save_weights", "load_weights", "model_from_json",
           "MODEL_FORMAT"]

MODEL_FORMAT = "fastconv.model"
_MODEL_FORMATS = (MODEL_FORMAT, saving.MODEL_FORMAT)


def _compile_config(model):
    if model.optimizer is None:
        return None
    compiled = model._compiled_for_outputs()
    serialized = [None if loss is None else losses.serialize(loss) for loss in compiled.losses]
    single = len(serialized) == 1

    def names(groups):
        named = [[m if isinstance(m, str) else m.name for m in ids] for ids in groups]
        return named[0] if single else named

    return {"optimizer": optimizers.serialize(model.optimizer),
            "loss": serialized[0] if single else serialized,
            "loss_weights": None if single else compiled.weights,
            "metrics": names(compiled.metric_ids),
            "weighted_metrics": names(compiled.weighted_metric_ids)}


def _compile_from_config(model, config):
    loss = config["loss"]
    loss = ([None if entry is None else losses.deserialize(entry) for entry in loss]
            if isinstance(loss, list) else None if loss is None else losses.deserialize(loss))
    model.compile(optimizers.deserialize(config["optimizer"]), loss, config["metrics"],
                  config.get("loss_weights"), config.get("weighted_metrics"))


def save_model(model, filepath):
    weights = model.get_weights()
    iterations, slots = (0, []) if model.optimizer is None else model.optimizer.get_state()
    header = {"format": MODEL_FORMAT, "version": saving.FORMAT_VERSION,
              "model": layers_module.serialize(model), "compile": _compile_config(model),
              "epoch": model.epoch, "weights": len(weights),
              "optimizer": {"iterations": iterations, "slots": len(slots)},
              "rng": {"shuffle": model.shuffle_rng.bit_generator.state,
                      "layers": {path: leaf.rng.bit_generator.state
                                 for path, leaf in model.named_leaves()
                                 if leaf.rng is not None}}}
    arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
    arrays.update((f"optimizer_{i}", s) for i, s in enumerate(slots))
    saving.write_archive(filepath, header, arrays)


def _restore_state(model, header, arrays, compile):
    """Weights, then (with compile) the optimizer, epoch count and generator states."""
    model.set_weights(saving.numbered(arrays, "weight", header["weights"]))
    model.epoch = int(header["epoch"])
    model.shuffle_rng.bit_generator.state = header["rng"]["shuffle"]
    states = header["rng"]["layers"]
    for path, leaf in model.named_leaves():
        if leaf.rng is not None and path in states:
            leaf.rng.bit_generator.state = states[path]
    if compile and header["compile"] is not None:
        _compile_from_config(model, header["compile"])
        _restore_optimizer(model, header, arrays)


def _restore_optimizer(model, header, arrays):
    state = header["optimizer"]
    if state["slots"] or state["iterations"]:
        model.optimizer.set_state(state["iterations"],
                                  saving.numbered(arrays, "optimizer", state["slots"]),
                                  model.trainable_params())


def restore_training_state(model, filepath):
    """Into a compiled `model` of the file's architecture: the weights, optimizer state,
    epoch count and generator states that save_model wrote (BackupAndRestore resumes
    with this, keeping the user's optimizer object)."""
    header, arrays = saving.read_archive(filepath, (MODEL_FORMAT,))
    try:
        _restore_state(model, header, arrays, compile=False)
        _restore_optimizer(model, header, arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(filepath)!r} does not fit this model, so training cannot "
                         f"resume from it ({type(exc).__name__}: {exc})") from None


def load_model(filepath, compile=True):
    """A model saved by model.save, with its weights and (with compile=True) its
    optimizer, optimizer state and epoch count, ready to continue training.

    Raises ValueError for a file that is not such a model (corrupt, truncated, foreign,
    or with weights that do not fit its architecture); FileNotFoundError if it is missing.
    """
    header, arrays = saving.read_archive(filepath, _MODEL_FORMATS)
    try:
        config = header["model"]
        if header["format"] == saving.MODEL_FORMAT:  # a Sequential's bare config
            config = {"class_name": "Sequential", "config": config}
        model = layers_module.deserialize(config)
        if not hasattr(model, "shuffle_rng"):
            raise ValueError(f"the file holds a {type(model).__name__} layer, not a model")
        _restore_state(model, header, arrays, compile)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(filepath)!r} holds an inconsistent fastconv model "
                         f"({type(exc).__name__}: {exc})") from None
    return model


def save_weights(model, filepath):
    weights = model.get_weights()
    header = {"format": saving.WEIGHTS_FORMAT, "version": saving.FORMAT_VERSION,
              "weights": len(weights)}
    saving.write_archive(filepath, header, {f"weight_{i}": w for i, w in enumerate(weights)})


def load_weights(model, filepath):
    header, arrays = saving.read_archive(filepath, (saving.WEIGHTS_FORMAT,) + _MODEL_FORMATS)
    model.set_weights(saving.numbered(arrays, "weight", header.get("weights", -1)))


def model_from_json(json_string):
    """A new (untrained) model from model.to_json()'s output."""
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a model JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential",
                                                                        "Functional"):
        raise ValueError("not a model JSON (expected class_name 'Sequential' or 'Functional')")
    return layers_module.deserialize(config)
