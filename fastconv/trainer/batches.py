"""Where fit/evaluate/predict get their batches: arrays sliced by the Trainer, Python
generators and iterators, and `fastconv.utils.PyDataset` (`Sequence`) objects.

Every source yields raw batches `(x, y, sample_weight)` (y and sample_weight may be
None); the Trainer checks each batch as it checks arrays. What a number of steps means
follows Keras:
- arrays: ceil(n / batch_size) batches per epoch (or the first steps_per_epoch of them);
- a PyDataset: len(dataset) batches (or steps_per_epoch, going round the dataset),
  in a shuffled order when shuffle=True, with its on_epoch_begin/on_epoch_end called;
- an iterator: steps_per_epoch batches per epoch, drawn from one iterator that carries
  on across epochs; without steps_per_epoch, an epoch lasts until it is exhausted. An
  iterator that runs out of data ends training (with a warning if epochs remain).

`prefetch` on each source: how many batches a background thread may make ahead of
training (fastconv.trainer.prefetch), 0 to make them in the training thread. Arrays
are never prefetched: slicing a batch takes microseconds.
"""
import math
import numbers

import numpy as np

from fastconv.trainer.prefetch import MAX_DEPTH, prefetch_depth
from fastconv.utils.sequence import PyDataset

__all__ = ["is_batch_source", "ArrayBatches", "DatasetBatches", "IteratorBatches",
           "make_source", "unpack_batch", "check_steps", "class_weights_as_sample_weights",
           "check_sample_weight", "should_validate"]


def is_batch_source(x):
    """True for a PyDataset/Sequence or an iterator (a generator, iter(...), a flow())."""
    return isinstance(x, PyDataset) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def check_steps(name, steps):
    """steps as an int >= 1, or None."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{name} must be a positive int or None, got {steps!r}")
    return int(steps)


def unpack_batch(batch, what="the generator"):
    """(x, y, sample_weight) from a batch: a tuple of 1 to 3 entries, or x alone."""
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"{what} must yield (x, y) or (x, y, sample_weight), got a "
                             f"tuple of {len(batch)} entries")
        return tuple(batch) + (None,) * (3 - len(batch))
    return batch, None, None


class ArrayBatches:
    """Batches of arrays already checked: index ranges of a (shuffled) order."""

    def __init__(self, arrays, batch_size, steps=None, shuffle_rng=None):
        self.arrays = arrays  # (xs, ys, sample_weight or None)
        self.n = len(arrays[0][0])
        self.batch_size = batch_size
        self.shuffle_rng = shuffle_rng
        self.steps = min(steps or math.inf, math.ceil(self.n / batch_size))
        self.samples = min(self.n, self.steps * batch_size)
        self.prefetch = 0

    def epoch(self):
        order = (self.shuffle_rng.permutation(self.n) if self.shuffle_rng is not None
                 else None)
        xs, ys, weights = self.arrays
        for step in range(self.steps):
            index = slice(step * self.batch_size, (step + 1) * self.batch_size)
            if order is not None:
                index = order[index]
            yield ([a[index] for a in xs], [None if a is None else a[index] for a in ys],
                   None if weights is None else weights[index])

    def end_epoch(self):
        pass


class DatasetBatches:
    """The batches of a PyDataset, len(dataset) of them per epoch unless steps says."""

    def __init__(self, dataset, steps=None, shuffle_rng=None, prefetch=MAX_DEPTH):
        self.dataset = dataset
        self.prefetch = prefetch
        self.length = len(dataset)
        if self.length < 1:
            raise ValueError(f"{type(dataset).__name__} has no batches (len() is "
                             f"{self.length})")
        self.steps = steps or self.length
        self.shuffle_rng = shuffle_rng
        self.samples = None

    def epoch(self):
        self.dataset.on_epoch_begin()
        order = (self.shuffle_rng.permutation(self.length) if self.shuffle_rng is not None
                 else np.arange(self.length))
        for step in range(self.steps):
            yield unpack_batch(self.dataset[int(order[step % self.length])],
                               f"{type(self.dataset).__name__}.__getitem__")

    def end_epoch(self):
        self.dataset.on_epoch_end()


class IteratorBatches:
    """The batches of one iterator, shared by every epoch."""

    def __init__(self, iterator, steps=None, prefetch=MAX_DEPTH):
        self.iterator = iter(iterator)
        self.prefetch = prefetch
        self.steps = steps
        self.samples = None
        self.exhausted = False

    def epoch(self):
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(self.iterator)
            except StopIteration:
                self.exhausted = True
                return
            yield unpack_batch(batch)
            step += 1

    def end_epoch(self):
        pass


def make_source(x, steps=None, shuffle_rng=None, workers=None, max_queue_size=None):
    """The batch source for a PyDataset or an iterator (shuffle_rng: shuffle a PyDataset's
    batch order with it; iterators are never shuffled). workers / max_queue_size (fit's,
    Keras 2's) set the prefetch; where None, a PyDataset's own settings, else 1 and 10
    (Keras's defaults): prefetch on."""
    own = ((getattr(x, "workers", 1), getattr(x, "max_queue_size", 10))  # super().__init__
           if isinstance(x, PyDataset) else (1, 10))                     # may be skipped
    depth = prefetch_depth(own[0] if workers is None else workers,
                           own[1] if max_queue_size is None else max_queue_size)
    if isinstance(x, PyDataset):
        return DatasetBatches(x, steps, shuffle_rng, depth)
    return IteratorBatches(x, steps, depth)


def check_sample_weight(sample_weight, n, what="sample_weight"):
    """sample_weight as a float array of n weights (shape (n,) or (n, 1)), or ValueError."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.dtype.kind not in "biuf" or weights.shape != (n,):
        raise ValueError(f"{what} must hold one number per sample, shape ({n},), got "
                         f"shape {weights.shape} and dtype {weights.dtype}")
    if not np.isfinite(weights).all():
        raise ValueError(f"{what} must be finite, got {weights[~np.isfinite(weights)][0]}")
    return weights.astype(np.float64)


def class_weights_as_sample_weights(class_weight, y, sample_weight):
    """Keras's class_weight: each sample weighs class_weight[its class] (times its sample
    weight); the class is y itself for integer labels, argmax(y) for one-hot targets."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}")
    y = np.asarray(y)
    labels = (np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1
              else y.reshape(len(y), -1)[:, 0])
    labels = np.rint(labels).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}; it has "
                         f"{sorted(class_weight)}")
    table = {int(k): float(v) for k, v in class_weight.items()}
    weights = np.array([table[int(c)] for c in labels], dtype=np.float64)
    return weights if sample_weight is None else weights * sample_weight


def should_validate(epoch, validation_freq):
    """Keras's validation_freq: an int N validates every N epochs, a list/tuple/set at
    the 1-based epochs it holds."""
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"validation_freq must be >= 1, got {validation_freq}")
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set, range)):
        return epoch + 1 in validation_freq
    raise ValueError(f"validation_freq must be an int or a list of epochs, got "
                     f"{validation_freq!r}")
