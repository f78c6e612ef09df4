"""Fuzz every layer through its public API (construct, forward, backward) with random
configurations, shapes, dtypes, memory layouts and values. Each step either works or
raises TypeError/ValueError. Convolution and pooling layers must match a twin layer whose
kernels are fastconv.reference; every layer must give outputs and gradients of the
declared shapes and dtype, and finite ones for finite, moderate inputs."""
import contextlib
import warnings

import numpy as np
from hypothesis import event
from hypothesis import strategies as st

from fastconv import layers, reference
from fastconv.layers import conv, pooling
from fuzz_cases import arrays, assert_matches, fuzz_test, outcome

WATCHDOG_SECONDS = 120  # per example, as in test_fuzz_kernels
# Valid choices repeated: most draws should reach the kernels, some the refusals.
PADDINGS = ["valid", "same"] * 3 + ["causal", "full", 1]
FORMATS = ["channels_last", "channels_first"] * 3 + ["nchw"]
# name: (class, input rank without the batch dimension, whether it runs on the kernels)
LAYERS = {
    "Conv2D": (layers.Conv2D, 3, True), "Conv1D": (layers.Conv1D, 2, True),
    "MaxPooling2D": (layers.MaxPooling2D, 3, True),
    "MinPooling2D": (layers.MinPooling2D, 3, True),
    "AveragePooling2D": (layers.AveragePooling2D, 3, True),
    "MaxPooling1D": (layers.MaxPooling1D, 2, True),
    "AveragePooling1D": (layers.AveragePooling1D, 2, True),
    "GlobalAveragePooling2D": (layers.GlobalAveragePooling2D, 3, True),
    "GlobalMaxPooling2D": (layers.GlobalMaxPooling2D, 3, True),
    "GlobalAveragePooling1D": (layers.GlobalAveragePooling1D, 2, True),
    "GlobalMaxPooling1D": (layers.GlobalMaxPooling1D, 2, True),
    "Dense": (layers.Dense, 1, False), "Flatten": (layers.Flatten, 3, False),
    "Reshape": (layers.Reshape, 2, False), "Dropout": (layers.Dropout, 3, False),
    "Activation": (layers.Activation, 1, False), "ReLU": (layers.ReLU, 3, False),
    "Softmax": (layers.Softmax, 1, False),
    "BatchNormalization": (layers.BatchNormalization, 3, False),
    "InputLayer": (layers.InputLayer, 2, False),
}


@st.composite
def layer_kwargs(draw, name, input_shape):
    """Constructor arguments, valid most of the time."""
    window = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)),
                       st.sampled_from([0, (0, 1), -1]))
    common = {"dtype": draw(st.sampled_from(["float32", "float64"]))}
    if name.startswith("Conv"):
        return dict(common, filters=draw(st.sampled_from([1, 2, 3, 4, 0])), kernel_size=draw(window),
                    strides=draw(window), padding=draw(st.sampled_from(PADDINGS)),
                    data_format=draw(st.sampled_from(FORMATS)),
                    activation=draw(st.sampled_from([None, "relu", "tanh"] * 2 + ["bogus"])),
                    use_bias=draw(st.booleans()))
    if name.startswith("Global"):
        return dict(common, data_format=draw(st.sampled_from(FORMATS)),
                    keepdims=draw(st.booleans()))
    if "Pooling" in name:
        return dict(common, pool_size=draw(window),
                    strides=draw(st.one_of(st.none(), window)),
                    padding=draw(st.sampled_from(PADDINGS)),
                    data_format=draw(st.sampled_from(FORMATS)))
    extra = {
        "Dense": lambda: {"units": draw(st.integers(0, 4)),
                          "activation": draw(st.sampled_from(["softmax", "sigmoid", None]))},
        "Reshape": lambda: {"target_shape": draw(st.sampled_from(
            [(-1,), (input_shape[1], input_shape[0]), (5, -1), (-1, -1)]))},
        "Dropout": lambda: {"rate": draw(st.sampled_from([0.0, 0.5, 0.99, 1.0, -0.1]))},
        "Activation": lambda: {"activation": draw(st.sampled_from(
            ["relu", "softmax", "sigmoid", "tanh", "elu", "leaky_relu", "linear", "nope"]))},
        "ReLU": lambda: {"max_value": draw(st.sampled_from([None, 1.0])),
                         "negative_slope": draw(st.sampled_from([0.0, 0.1]))},
        "Softmax": lambda: {"axis": draw(st.sampled_from([-1, 1, 5]))},
        "BatchNormalization": lambda: {"axis": draw(st.sampled_from([-1, 1, 2, 0, 7])),
                                       "momentum": 0.9},
        "InputLayer": lambda: {"shape": input_shape},
        "Flatten": dict,
    }[name]()
    return dict(common, **extra)


@contextlib.contextmanager
def reference_kernels():
    """Run the layers on fastconv.reference instead of the compiled kernels."""
    saved = conv.ops, pooling.ops
    conv.ops = pooling.ops = reference
    try:
        yield
    finally:
        conv.ops, pooling.ops = saved


def forward_backward(layer, x, dy_seed, training):
    y = layer.forward(x, training)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(y.dtype)
    return y, layer.backward(dy), {k: g.copy() for k, g in layer.grads.items()}


@fuzz_test(dict(data=st.data()), scale=2)
def check_layer(data, watchdog):
    watchdog(WATCHDOG_SECONDS)
    draw = data.draw
    name = draw(st.sampled_from(sorted(LAYERS)))
    cls, rank, on_kernels = LAYERS[name]
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    kwargs = draw(layer_kwargs(name, shape))
    layer, error = outcome(cls, **kwargs)
    if error is not None:
        event("refused by the constructor")
        return
    x = draw(arrays((draw(st.integers(0, 3)),) + shape))
    training = draw(st.booleans())
    result, error = outcome(forward_backward, layer, x, draw(st.integers(0, 99)), training)
    if error is not None:
        event("refused by forward or backward")
        return
    event(f"ran {'on the kernels' if on_kernels else 'in NumPy'}")
    y, dx, grads = result
    with warnings.catch_warnings():  # a layer casts its input, complex ones too (Keras)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        x = np.asarray(x, dtype=layer.dtype)
    assert y.shape == (len(x),) + layer.output_shape and y.dtype == layer.dtype
    assert dx.shape == x.shape and dx.dtype == layer.dtype
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in layer.params.items()}
    finite_inputs = np.isfinite(x).all() and np.abs(x).max(initial=0) < 1e3
    if name != "Activation" and finite_inputs:  # exp() of an Activation may overflow
        assert np.isfinite(y).all() and np.isfinite(dx).all(), "finite inputs, non-finite results"
    if on_kernels:
        twin = cls.from_config(layer.get_config())
        twin.build(layer.input_shape)
        twin.set_weights(layer.get_weights())
        with reference_kernels():
            want = forward_backward(twin, x, 0, training)
        got = forward_backward(layer, x, 0, training)
        nonfinite = not finite_inputs
        for g, w, backward in [(got[0], want[0], False), (got[1], want[1], True)] + [
                (got[2][k], want[2][k], True) for k in got[2]]:
            assert_matches(g, w, extra_nan=backward and nonfinite)


test_layers_work_or_refuse, test_layers_work_or_refuse_long = check_layer


MERGES = {"Add": layers.Add, "Subtract": layers.Subtract, "Multiply": layers.Multiply,
          "Average": layers.Average, "Maximum": layers.Maximum, "Minimum": layers.Minimum,
          "Concatenate": layers.Concatenate, "Dot": layers.Dot}


@fuzz_test(dict(data=st.data()))
def check_merge(data, watchdog):
    """Merge layers on lists of random arrays: shapes that fit (or broadcast) give an
    output and one gradient per input of that input's shape; the rest are refused."""
    watchdog(WATCHDOG_SECONDS)
    draw = data.draw
    name = draw(st.sampled_from(sorted(MERGES)))
    kwargs = {"dtype": draw(st.sampled_from(["float32", "float64"]))}
    if name == "Concatenate":
        kwargs["axis"] = draw(st.sampled_from([-1, 1, 2, 0, 5]))
    if name == "Dot":
        kwargs.update(axes=draw(st.sampled_from([1, -1, 2, (1, 1)])),
                      normalize=draw(st.booleans()))
    layer, error = outcome(MERGES[name], **kwargs)
    if error is not None:
        event("refused by the constructor")
        return
    rank = draw(st.integers(1, 3))
    base = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    batch = draw(st.integers(0, 3))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        # Mostly the same shape; sometimes a dimension of 1, another size or batch.
        shape = tuple(draw(st.sampled_from([d, d, d, 1, d + 1])) for d in base)
        xs.append(draw(arrays((draw(st.sampled_from([batch] * 4 + [batch + 1])),) + shape)))
    result, error = outcome(forward_backward, layer, xs, draw(st.integers(0, 99)), True)
    if error is not None:
        event("refused by forward or backward")
        return
    event("ran")
    y, dxs, _ = result
    assert y.shape == (len(xs[0]),) + layer.output_shape and y.dtype == layer.dtype
    assert [dx.shape for dx in dxs] == [np.shape(x) for x in xs]


test_merge_layers_work_or_refuse, test_merge_layers_work_or_refuse_long = check_merge
