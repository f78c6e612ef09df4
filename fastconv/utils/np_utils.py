"""Keras 2's `keras.utils.np_utils`, kept for the programs that import it."""
from fastconv.utils.categorical import to_categorical

__all__ = ["to_categorical"]
