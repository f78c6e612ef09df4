"""Background prefetch: the next batches of a generator or PyDataset (their Python code
and augmentation; the kernels release the GIL) are made on one thread while the model
trains on the current one.

One producer thread and a queue of at most MAX_DEPTH batches: the batches arrive in the
order the source makes them, so training is the same, bit for bit, with or without
prefetching. An exception raised by the source is raised again in the training thread,
with its traceback. Leaving early (a callback stops training, an error, Ctrl-C) stops
the producer after the batch it is making and closes the source in its own thread, so
no thread outlives the epoch (the batches already made are dropped).
"""
import numbers
import queue
import threading

__all__ = ["Prefetcher", "MAX_DEPTH", "prefetch_depth"]

# One producer that runs ahead of the consumer by this many batches at most: more buys
# nothing (it is either ahead, and waits, or behind, and the queue is empty).
MAX_DEPTH = 2
# How often a waiting thread looks up from the queue (for a stop request or Ctrl-C).
_POLL_SECONDS = 0.05

_ITEM, _DONE, _ERROR = range(3)


def prefetch_depth(workers, max_queue_size):
    """The queue depth for Keras's `workers` / `max_queue_size`: 0 (no prefetch) for
    workers=0 (Keras's "run the generator in the main thread") or max_queue_size < 1,
    else min(max_queue_size, MAX_DEPTH)."""
    for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return 0 if workers == 0 else min(int(max_queue_size), MAX_DEPTH)


class Prefetcher:
    """Iterate over `iterable` made on a background thread, up to `depth` items ahead.

    Use as a context manager (or call close()): leaving the block stops the thread.
    `on_wait`, if given, is called while the consumer waits for an item (fit passes its
    Ctrl-C check, so an interrupt is not held up by a slow generator).
    """

    def __init__(self, iterable, depth=MAX_DEPTH, on_wait=None):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._on_wait = on_wait
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(iterable,),
                                        name="fastconv-prefetch", daemon=True)
        self._thread.start()

    # -- producer thread -------------------------------------------------------------
    def _put(self, entry):
        """Queue an entry, waiting for room unless asked to stop; False if stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, iterable):
        iterator = iter(iterable)
        try:
            for item in iterator:
                if not self._put((_ITEM, item)):
                    return
            self._put((_DONE, None))
        except BaseException as error:  # handed to the consumer, raised there
            self._put((_ERROR, error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:  # a generator: run its finally blocks here, its thread
                close()

    # -- consumer (training) thread ------------------------------------------------------
    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        while True:
            try:
                kind, value = self._queue.get(timeout=_POLL_SECONDS)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("the prefetch thread ended without a result") \
                        from None
                if self._on_wait is not None:
                    self._on_wait()
        if kind == _ITEM:
            return value
        self._finished = True
        self.close()
        if kind == _ERROR:
            raise value  # keeps the traceback from the producer thread
        raise StopIteration

    def close(self):
        """Stop the producer (after the item it is making) and wait for its thread."""
        self._stop.set()
        while self._thread.is_alive():
            self._drain()
            self._thread.join(_POLL_SECONDS)
        self._drain()

    def _drain(self):
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
