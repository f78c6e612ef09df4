"""What is timed: for each shape, one Case per pass, with fastconv's and the reference's calls.

Every call allocates its outputs, as `fastconv.ops` does, so the times are what a user
of the public API pays. fastconv's `conv2d_backward` runs two kernels, one for dx and
one for dw and db; they are timed separately here by calling them the way ops does.
The NumPy reference computes dx and dw in one loop, so it is only timed on the
BACKWARD_ALL pass, the full `conv2d_backward` -> (dx, dw, db) of every implementation.

The reference runs with NumPy's BLAS on one thread, as fastconv's model training does:
after each call a multi-threaded OpenBLAS pool keeps spinning for a while and takes the
cores from the next OpenMP kernel, which would slow fastconv and torch in the
interleaved rounds (see fastconv/_blas_threads.py for the measurement).
"""
from dataclasses import dataclass, field

import numpy as np

import fastconv
import fastconv.reference
from fastconv._blas_threads import single_threaded_blas
from fastconv._kernels import _conv
from fastconv.benchmark.shapes import ConvShape
from fastconv.ops import _lift, _window_args, conv_algorithm

FASTCONV = "fastconv"
REFERENCE = "reference"
ONE_THREAD = "fastconv 1 thread"
TORCH_PREFIX = "torch "  # then the memory format: see _torch_baseline

FORWARD = "forward"
BACKWARD_INPUT = "backward-input"
BACKWARD_WEIGHT = "backward-weight"
BACKWARD_ALL = "backward-all"
BACKWARD = "backward"  # pooling

GFLOPS = "GFLOP/s"
GBPS = "GB/s"


@dataclass
class Case:
    """One shape and pass: its work (FLOPs or bytes moved) and the calls to time."""
    shape: object
    pass_name: str
    work: float
    unit: str
    inputs: dict
    candidates: dict = field(default_factory=dict)
    algorithm: str = ""     # the convolution algorithm fastconv runs ("" for pooling)


def cases(shape, dtype, seed=0):
    """The Cases of one ConvShape or PoolShape, on random inputs of `dtype`."""
    rng = np.random.default_rng(seed)
    build = _conv_cases if isinstance(shape, ConvShape) else _pool_cases
    return build(shape, np.dtype(dtype), rng)


def add_one_thread_candidate(case):
    """Also time fastconv's call of `case` on one OpenMP thread (thread scaling)."""
    call = case.candidates[FASTCONV]

    def run():
        threads = fastconv.get_num_threads()
        fastconv.set_num_threads(1)
        try:
            return call()
        finally:
            fastconv.set_num_threads(threads)
    case.candidates[ONE_THREAD] = run


def _one_blas_thread(call):
    """`call`, run with OpenBLAS limited to one thread."""
    def run():
        with single_threaded_blas():
            return call()
    return run


def random_inputs(shape, dtype, rng):
    """Standard-normal inputs of one shape: x, w and b (a convolution's), then dy."""
    inputs = dict(x=rng.standard_normal(shape.x_shape, dtype=dtype))
    if isinstance(shape, ConvShape):
        inputs.update(w=rng.standard_normal(shape.w_shape, dtype=dtype),
                      b=rng.standard_normal(shape.k, dtype=dtype))
    inputs["dy"] = rng.standard_normal(shape.geometry().out_shape, dtype=dtype)
    return inputs


def _conv_cases(shape, dtype, rng):
    g = shape.geometry()
    inputs = random_inputs(shape, dtype, rng)
    x, w, b, dy = (inputs[name] for name in ("x", "w", "b", "dy"))
    flops = shape.flops()
    forward, backward, backward_input, backward_weight = (
        _transposed_calls if shape.transposed else _conv_calls)(shape, g, x, w, b, dy)
    algorithm = _algorithms(shape, g)
    return [
        Case(shape, FORWARD, flops, GFLOPS, inputs, {
            FASTCONV: lambda: forward(fastconv),
            REFERENCE: _one_blas_thread(lambda: forward(fastconv.reference))},
            algorithm[FORWARD]),
        Case(shape, BACKWARD_INPUT, flops, GFLOPS, inputs, {FASTCONV: backward_input},
             algorithm[BACKWARD_INPUT]),
        Case(shape, BACKWARD_WEIGHT, flops, GFLOPS, inputs, {FASTCONV: backward_weight},
             algorithm[BACKWARD_WEIGHT]),
        Case(shape, BACKWARD_ALL, 2 * flops, GFLOPS, inputs, {
            FASTCONV: lambda: backward(fastconv),
            REFERENCE: _one_blas_thread(lambda: backward(fastconv.reference))},
            " + ".join(dict.fromkeys((algorithm[BACKWARD_INPUT], algorithm[BACKWARD_WEIGHT])))),
    ]


def _algorithms(shape, g):
    """pass -> the algorithm fastconv runs for it. A transposed convolution's forward is
    the backward-input pass of the conv2d it transposes, and the other way round."""
    conv = g.forward if shape.transposed else g
    x_shape = (conv.n, *conv.spatial, conv.c)
    w_shape = (*conv.window, conv.c // conv.groups, conv.k)
    names = {p: conv_algorithm(p, x_shape, w_shape, conv.strides, conv.padding, conv.dilation,
                               conv.groups)
             for p in (FORWARD, BACKWARD_INPUT, BACKWARD_WEIGHT)}
    if shape.transposed:
        names[FORWARD], names[BACKWARD_INPUT] = names[BACKWARD_INPUT], names[FORWARD]
    return names


def _conv_calls(shape, g, x, w, b, dy):
    """forward(module), backward(module), backward_input(), backward_weight() of a conv:
    the last two call fastconv's dx kernel and its dw+db kernel as fastconv.ops does."""
    name = f"conv{shape.rank}d"
    args = dict(strides=shape.strides, padding=shape.padding, dilation=shape.dilation,
                groups=shape.groups)
    window = (*_window_args(g), g.groups)

    def backward_input():
        dx = np.empty(x.shape, x.dtype)
        _conv.conv_backward_data(_lift(dy), None, _lift(w, kernel=True), _lift(dx), *window,
                                 fastconv.get_num_threads())

    def backward_weight():
        dw = np.empty(w.shape, w.dtype)
        db = np.empty(shape.k, w.dtype)
        _conv.conv_backward_weights(_lift(dy), None, _lift(x), _lift(dw, kernel=True), db,
                                    *window, fastconv.get_num_threads())

    return (lambda module: getattr(module, name)(x, w, b, **args),
            lambda module: getattr(module, name + "_backward")(dy, x, w, **args),
            backward_input, backward_weight)


def _transposed_calls(shape, g, x, w, b, dy):
    """The same four calls for a transposed convolution: its input gradient is the
    forward conv2d of dy, its weight gradient that conv2d's weight gradient."""
    args = dict(strides=shape.strides, padding=shape.padding, dilation=shape.dilation)
    window = (*_window_args(g.forward), 1)

    def backward_input():
        dx = np.empty(x.shape, x.dtype)
        _conv.conv_forward(_lift(dy), _lift(w, kernel=True), None, _lift(dx), *window, False,
                           fastconv.get_num_threads())

    def backward_weight():
        dw = np.empty(w.shape, w.dtype)
        _conv.conv_backward_weights(_lift(x), None, _lift(dy), _lift(dw, kernel=True),
                                    np.empty(shape.c, w.dtype), *window,
                                    fastconv.get_num_threads())

    return (lambda module: module.conv2d_transpose(x, w, b, **args),
            lambda module: module.conv2d_transpose_backward(dy, x, w, **args),
            backward_input, backward_weight)


def _pool_cases(shape, dtype, rng):
    inputs = random_inputs(shape, dtype, rng)
    x, dy = inputs["x"], inputs["dy"]
    # Bytes fastconv must move: forward reads x and writes y; backward reads dy and x
    # (the argmax is recomputed from x) and writes dx.
    forward_bytes = (x.size + dy.size) * dtype.itemsize
    backward_bytes = (2 * x.size + dy.size) * dtype.itemsize
    args = (shape.pool, None, "valid", "max")
    return [
        Case(shape, FORWARD, forward_bytes, GBPS, inputs, {
            FASTCONV: lambda: fastconv.pool2d(x, *args),
            REFERENCE: _one_blas_thread(lambda: fastconv.reference.pool2d(x, *args))}),
        Case(shape, BACKWARD, backward_bytes, GBPS, inputs, {
            FASTCONV: lambda: fastconv.pool2d_backward(dy, x, *args),
            REFERENCE: _one_blas_thread(
                lambda: fastconv.reference.pool2d_backward(dy, x, *args))}),
    ]
