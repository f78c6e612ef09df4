"""The training progress display behind fit(verbose=...) and evaluate(verbose=...).

verbose=1 on a terminal: a live bar per epoch (steps, ETA, images/s, running loss and
metrics), redrawn at most every REFRESH_SECONDS. verbose=1 on anything else (a log
file, a pipe, CI) and verbose=2: one line per epoch. verbose=0: nothing.
"""
import sys
import time

from fastconv.callbacks.base import Callback

# Redrawing more often than this costs time and shows nothing a reader can follow.
REFRESH_SECONDS = 0.1
BAR_WIDTH = 30


def _format_values(values):
    return "".join(f" - {k}: {v:.4f}" for k, v in values.items())


def _format_seconds(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"


class ProgressBar:
    """Progress over `steps` batches: live on a terminal, a single summary line otherwise."""

    def __init__(self, steps, verbose=1, stream=None, prefix="", unit="img"):
        self.steps = steps
        self.unit = unit    # what `samples` counts: images, or batches of unknown size
        self.stream = stream or sys.stdout
        self.live = verbose == 1 and getattr(self.stream, "isatty", lambda: False)()
        self.enabled = bool(verbose)
        self.prefix = prefix
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.drawn_width = 0

    def update(self, step, samples, values):
        """`step` batches (`samples` units) are done; `values` are the running means."""
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last_draw < REFRESH_SECONDS:
            return  # finish() draws the last state
        self.last_draw = now
        elapsed = now - self.start
        eta = elapsed / step * (self.steps - step) if step else 0.0
        rate = samples / elapsed if elapsed > 0 else 0.0
        self._draw(f"{self._bar(step)} - ETA: {_format_seconds(eta)} - {rate:.0f} {self.unit}/s"
                   f"{_format_values(values)}")

    def finish(self, samples, values):
        """Print the final line for `samples` units with the final `values`."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(self.steps, 1) * 1000
        rate = samples / elapsed if elapsed > 0 else 0.0
        timing = (f"{_format_seconds(elapsed)} {per_step:.0f}ms/step - {rate:.0f} {self.unit}/s"
                  f"{_format_values(values)}")
        if self.live:
            self._draw(f"{self._bar(self.steps)} - {timing}")
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.prefix}{self.steps}/{self.steps} - {timing}\n")
        self.stream.flush()

    def _bar(self, step):
        width = len(str(self.steps))
        filled = BAR_WIDTH * step // max(self.steps, 1)
        arrow = ">" if step < self.steps else ""
        bar = ("=" * filled + arrow)[:BAR_WIDTH].ljust(BAR_WIDTH, ".")
        return f"{step:>{width}}/{self.steps} [{bar}]"

    def _draw(self, line):
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + line.ljust(self.drawn_width))
        self.stream.flush()
        self.drawn_width = len(line)


class ProgbarLogger(Callback):
    """The callback fit() adds for verbose=1 or 2: an 'Epoch i/n' header and a bar or line."""

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def on_epoch_begin(self, epoch, logs=None):
        stream = self.stream or sys.stdout
        header = f"Epoch {epoch + 1}/{self.params['epochs']}"
        self.batches = 0
        # A generator's batch sizes are not known in advance: its rate is in batches.
        unit = "batch" if self.params.get("samples") is None else "img"
        self.bar = ProgressBar(self.params["steps"] or 0, self.verbose, stream,
                               prefix=f"{header} - ", unit=unit)
        if self.bar.live:
            stream.write(header + "\n")

    def _seen(self, batch):
        samples = self.params.get("samples")
        if samples is None:  # a generator: counted in batches
            return batch + 1
        return min((batch + 1) * self.params["batch_size"], samples)

    def on_train_batch_end(self, batch, logs=None):
        self.batches = batch + 1
        self.bar.update(batch + 1, self._seen(batch), logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if not self.bar.steps:
            self.bar.steps = self.batches
        self.bar.finish(self._seen(self.batches - 1), logs or {})
