"""Ctrl-C during fit takes effect between batches, never half-way through an update."""
import contextlib
import signal
import threading

__all__ = ["interrupts_at_batch_boundaries"]


@contextlib.contextmanager
def interrupts_at_batch_boundaries():
    """Hold Ctrl-C (SIGINT) until the running batch is done; yields a function that
    raises the held KeyboardInterrupt. Only where Python's default handler is active
    (in the main thread): a handler the user installed is left alone."""
    pending = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: None
        return

    def hold(signum, frame):
        pending.append(signum)

    def raise_pending():
        if pending:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, hold)
    try:
        yield raise_pending
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
