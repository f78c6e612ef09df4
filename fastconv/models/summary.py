"""The Keras-style summary table: layer (type), output shape, parameter count, totals."""

__all__ = ["summary_lines"]


def _format_shape(shape):
    return str((None,) + tuple(shape)).replace("None,)", "None)")


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def summary_lines(model):
    """The lines of model.summary(); the model must be built."""
    rows = [(f"{layer.name} ({type(layer).__name__})", _format_shape(layer.output_shape),
             f"{layer.count_params():,}") for layer in model.layers]
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(r[i]) for r in rows + [header]) + 3 for i in range(3)]
    width = sum(widths)

    def row(cells):
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    trainable = sum(w.size for layer in model.layers if layer.trainable
                    for w in layer.params.values())
    total = model.count_params()
    total_bytes = sum(w.nbytes for layer in model.layers for w in layer.weights)
    return ([f'Model: "{model.name}"', "_" * width, row(header), "=" * width]
            + [row(r) for r in rows]
            + ["=" * width,
               f"Total params: {total:,} ({_bytes(total_bytes)})",
               f"Trainable params: {trainable:,}",
               f"Non-trainable params: {total - trainable:,}",
               "_" * width])
