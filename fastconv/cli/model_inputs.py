"""Saved models, and shaping images into what a model takes."""
import math

import numpy as np

from fastconv import models
from fastconv.cli.errors import CLIError

# Inputs of one grey channel, in the layouts a digit classifier uses.
SINGLE_CHANNEL_LAYOUTS = "(H, W), (H, W, 1), (1, H, W) or (H*W,) with H = W"


def load_saved_model(path):
    """The model saved at `path` by `fastconv train --save` or Sequential.save."""
    try:
        return models.load_model(path, compile=False)
    except FileNotFoundError:
        raise CLIError(f"no model file {path!r}") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def image_size(model):
    """(H, W) of the single-channel images `model` takes, or CLIError."""
    shape = model.input_shape[1:]
    if len(shape) == 3 and shape[-1] == 1:
        return shape[:2]
    if len(shape) == 3 and shape[0] == 1:
        return shape[1:]
    if len(shape) == 2:
        return shape
    side = math.isqrt(shape[0]) if len(shape) == 1 else 0
    if side * side == shape[0] and side > 0:
        return side, side
    raise CLIError(f"the model takes inputs of shape {shape}; the command line feeds grey "
                   f"images, to models with inputs {SINGLE_CHANNEL_LAYOUTS}")


def as_model_inputs(model, images, what):
    """Float images (N, H, W) in [0, 1] reshaped to the model's inputs, or CLIError if
    their size is not the model's (`what` names them in the message)."""
    height, width = image_size(model)
    if images.shape[1:] != (height, width):
        raise CLIError(f"the model takes {height}x{width} images, but {what} are "
                       f"{'x'.join(map(str, images.shape[1:]))}")
    return images.astype(np.float32).reshape((-1,) + model.input_shape[1:])
