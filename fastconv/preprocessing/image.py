"""`fastconv.preprocessing.image`, as `keras.preprocessing.image`: ImageDataGenerator
and the iterators its flow() returns."""
from fastconv.preprocessing.image_generator import ImageDataGenerator
from fastconv.preprocessing.image_iterator import Iterator, NumpyArrayIterator

__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator"]
