"""The few `keras.backend` functions Keras programs call: image_data_format,
set_image_data_format, epsilon, floatx, clear_session.

There is one backend (NumPy + the compiled kernels), so these only hold settings: the
default data_format of layers created with data_format=None (every layer's default),
and the constants Keras programs read (epsilon 1e-7, the losses' clipping value; floatx
"float32", the layers' dtype).
"""
import gc

__all__ = ["image_data_format", "set_image_data_format", "epsilon", "floatx",
           "clear_session"]

_DATA_FORMATS = ("channels_last", "channels_first")

_settings = {"image_data_format": "channels_last"}


def image_data_format():
    """The default data_format of layers: "channels_last" (N, H, W, C) unless set."""
    return _settings["image_data_format"]


def set_image_data_format(data_format):
    """Set the default data_format of layers created from now on."""
    if data_format not in _DATA_FORMATS:
        raise ValueError(f"data_format must be one of {_DATA_FORMATS}, got {data_format!r}")
    _settings["image_data_format"] = data_format


def epsilon():
    """The fuzz factor Keras uses in numeric expressions (1e-7)."""
    return 1e-7


def floatx():
    """The default float type, as a string: "float32"."""
    return "float32"


def clear_session(free_memory=True):
    """Reset the automatic layer names (conv2d, conv2d_1, ...) and, with free_memory,
    collect garbage; models already built keep working."""
    from fastconv.layers import base
    base.reset_layer_names()
    if free_memory:
        gc.collect()
