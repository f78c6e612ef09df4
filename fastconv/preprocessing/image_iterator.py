"""Keras's image iterators: `Iterator` (batches of a shuffled index order, as a
PyDataset: len(), indexing, on_epoch_end; and as an endless iterator: next()) and
`NumpyArrayIterator`, what `ImageDataGenerator.flow()` returns.

Randomness: each iterator has a seed (its `seed` argument, else drawn from NumPy's
global generator when it is made, so np.random.seed(...) first repeats a run). Epoch e
shuffles with RandomState([seed, e]) and batch i of epoch e draws its transformations
from RandomState([seed, e, i]): a batch is the same whichever thread makes it and in
whatever order batches are asked for, so background prefetching changes nothing.
"""
import numbers
import threading

import numpy as np

from fastconv.preprocessing import image_arguments as args
from fastconv.preprocessing.image_generator import warn_if_not_images
from fastconv.utils.sequence import PyDataset

__all__ = ["Iterator", "NumpyArrayIterator"]

SUBSETS = ("training", "validation")


class Iterator(PyDataset):
    """Batches of the samples [0, n) in a (shuffled) order that changes every epoch.
    Subclasses implement `_get_batches_of_transformed_samples(index_array, rng)`.

    Attributes as in Keras: `n`, `batch_size`, `shuffle`, `seed`, `batch_index` (the
    next batch next() returns), `total_batches_seen`, `index_array` (this epoch's order).
    """

    def __init__(self, n, batch_size, shuffle, seed):
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.n, self.batch_size, self.shuffle = n, int(batch_size), bool(shuffle)
        seed = args.check_seed(seed)
        self.seed = seed
        self._seed = seed if seed is not None else int(np.random.randint(2**32,
                                                                         dtype=np.uint64))
        self.batch_index = 0
        self.total_batches_seen = 0
        self.epoch = 0
        self.index_array = None
        self.lock = threading.Lock()

    def _set_index_array(self):
        self.index_array = (np.random.RandomState([self._seed, self.epoch]).permutation(self.n)
                            if self.shuffle else np.arange(self.n))

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, numbers.Integral) \
                or not 0 <= idx < len(self):
            raise ValueError(f"Asked to retrieve element {idx!r}, but the Sequence has "
                             f"length {len(self)}")
        with self.lock:
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            rng = np.random.RandomState([self._seed, self.epoch, int(idx)])
        return self._get_batches_of_transformed_samples(index_array, rng)

    def on_epoch_end(self):
        """A new order (and new transformations) for the next epoch."""
        with self.lock:
            self.epoch += 1
            self._set_index_array()

    def reset(self):
        """next() starts again from the first batch of the epoch."""
        self.batch_index = 0

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch, going round the epochs forever (Keras's iterator protocol)."""
        with self.lock:
            idx = self.batch_index
            self.batch_index += 1
            self.total_batches_seen += 1
            wrapped = self.batch_index >= len(self)
            if wrapped:
                self.batch_index = 0
        batch = self[idx]
        if wrapped:
            self.on_epoch_end()
        return batch

    def _get_batches_of_transformed_samples(self, index_array, rng):
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"_get_batches_of_transformed_samples")


def _split(arrays, split_at, subset):
    """Keras's validation_split: the validation subset is the first split_at samples."""
    part = slice(None, split_at) if subset == "validation" else slice(split_at, None)
    return [None if a is None else a[part] for a in arrays]


class NumpyArrayIterator(Iterator):
    """Augmented, standardized batches of NumPy images x (N, H, W, C), with their
    labels y and sample_weight when given: each batch is `x`, `(x, y)` or
    `(x, y, sample_weight)`. x may also be a pair (images, other inputs): the batch's
    x is then [images, *other inputs] (not augmented), for models of several inputs.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, ignore_class_split=False, subset=None,
                 dtype=None):
        self.image_data_generator = image_data_generator
        self.dtype = args.check_dtype(image_data_generator.dtype if dtype is None else dtype)
        x, x_misc = self._split_inputs(x)
        n = len(x)
        if y is not None and len(y) != n:
            raise ValueError(f"`x` (images tensor) and `y` (labels) should have the same "
                             f"length. Found: x.shape = {np.shape(x)}, y.shape = "
                             f"{np.shape(y)}")
        if sample_weight is not None and len(sample_weight) != n:
            raise ValueError(f"`x` (images tensor) and `sample_weight` should have the "
                             f"same length. Found: x.shape = {np.shape(x)}, "
                             f"sample_weight.shape = {np.shape(sample_weight)}")
        # (fit checks each batch's sample weights as it checks arrays)
        y = None if y is None else np.asarray(y)
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        if subset is not None:
            x, y, sample_weight, *x_misc = self._subset(
                subset, [x, y, sample_weight, *x_misc], y, ignore_class_split)
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError(f"Input data in `NumpyArrayIterator` should have rank 4 "
                             f"(N, H, W, C). You passed an array with shape {self.x.shape}")
        warn_if_not_images(self.x)
        self.x_misc, self.y, self.sample_weight = x_misc, y, sample_weight
        super().__init__(len(self.x), batch_size, shuffle, seed)

    @staticmethod
    def _split_inputs(x):
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError(f"x must be an array of images or a pair (images, other "
                                 f"inputs), got a {type(x).__name__} of {len(x)} entries")
            images, misc = x
            misc = [np.asarray(m) for m in (misc if isinstance(misc, list) else [misc])]
            for m in misc:
                if len(m) != len(images):
                    raise ValueError(f"All of the arrays in `x` should have the same "
                                     f"length. Found a pair with: len(x[0]) = "
                                     f"{len(images)}, len(x[?]) = {len(m)}")
            return images, misc
        return x, []

    def _subset(self, subset, arrays, y, ignore_class_split):
        if subset not in SUBSETS:
            raise ValueError(f"Invalid subset name: {subset!r}; expected 'training' or "
                             f"'validation'")
        split = self.image_data_generator._validation_split
        if not split:
            raise ValueError(f"subset={subset!r} needs the ImageDataGenerator's "
                             f"validation_split (> 0)")
        split_at = int(len(arrays[0]) * split)
        if (y is not None and not ignore_class_split
                and not np.array_equal(np.unique(y[:split_at]), np.unique(y[split_at:]))):
            raise ValueError("Training and validation subsets have different number of "
                             "classes after the split. If your numpy arrays are sorted by "
                             "the label, you might want to shuffle them.")
        return _split(arrays, split_at, subset)

    def _get_batches_of_transformed_samples(self, index_array, rng):
        generator = self.image_data_generator
        batch_x = self.x[index_array]
        params = generator.random_parameters(rng, len(batch_x), batch_x.shape[1:])
        batch_x = generator.standardize(generator.transform_batch(batch_x, params))
        if self.x_misc:
            batch_x = [batch_x] + [m[index_array] for m in self.x_misc]
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[index_array]
        return batch_x, self.y[index_array], self.sample_weight[index_array]
