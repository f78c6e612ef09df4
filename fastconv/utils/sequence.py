"""Batches produced by user code, indexed (Keras's `PyDataset`, formerly `Sequence`).

Subclass and implement `__len__` (batches per epoch) and `__getitem__(index)` returning
`(x, y)` or `(x, y, sample_weight)` (or `x` alone for predict); `on_epoch_end` is called
after each epoch. fit feeds the batches in a shuffled order when shuffle=True.
"""

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for indexed batch producers. The constructor accepts Keras's
    `workers`, `use_multiprocessing` and `max_queue_size`: fit makes the batches on one
    background thread, in order, up to min(max_queue_size, 2) ahead, unless workers=0
    (then in the training thread); use_multiprocessing is recorded only."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __iter__(self):
        """The batches in order, once (Keras 2's Sequence.__iter__)."""
        for index in range(len(self)):
            yield self[index]

    def on_epoch_begin(self):
        """Called before each epoch of training."""

    def on_epoch_end(self):
        """Called after each epoch of training (e.g. to reshuffle the samples)."""

    @property
    def num_batches(self):
        """The number of batches (Keras 3's name for len())."""
        return len(self)


# Keras 2's name, still importable from keras.utils.
Sequence = PyDataset
