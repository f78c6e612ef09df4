"""The names of the warp's interpolations and fill modes, and their kernel codes (shared
by the kernel wrapper and the NumPy reference)."""

INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
FILL_MODES = {"constant": 0, "nearest": 1, "reflect": 2, "wrap": 3}


def option_code(name, value, options):
    """The kernel code of `value` among `options`, or ValueError naming the argument."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return options[value]
