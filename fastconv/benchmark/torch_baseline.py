"""PyTorch's CPU kernels (oneDNN) as an optional baseline: `run.py --torch`.

torch is never a dependency of fastconv: this module imports it only if it is there, and
run.py imports this module only for --torch (torch is slow to import and brings its own
OpenMP runtime).
Each pass is timed in both memory formats, NCHW and channels_last (NHWC), because
either may be PyTorch's faster one for a given shape; the report keeps the better.
The backward passes call the ATen operators autograd itself calls, with the output
mask selecting dx, (dw, db) or all three, so nothing but the kernels is timed.
"""
from fastconv.benchmark.cases import (BACKWARD_ALL, BACKWARD_INPUT, BACKWARD_WEIGHT, FORWARD,
                                      TORCH_PREFIX)
from fastconv.benchmark.shapes import ConvShape

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

# Which gradients convolution_backward returns: (dx, dw, db).
_CONV_BACKWARD_MASKS = {
    BACKWARD_INPUT: [True, False, False],
    BACKWARD_WEIGHT: [False, True, True],  # fastconv's weight kernel computes db too
    BACKWARD_ALL: [True, True, True],
}


def available():
    return torch is not None


def version():
    return torch.__version__


def set_num_threads(n):
    torch.set_num_threads(n)


def candidates(case):
    """label -> zero-argument callable, one per memory format, for a Case of fastconv.benchmark.cases."""
    build = _conv_call if isinstance(case.shape, ConvShape) else _max_pool_call
    rank = case.shape.rank if isinstance(case.shape, ConvShape) else 2
    last = torch.channels_last if rank == 2 else torch.channels_last_3d
    formats = {"NCHW": torch.contiguous_format, "NHWC": last}
    return {TORCH_PREFIX + name: build(case, fmt) for name, fmt in formats.items()}


def _channels_first(a, fmt):
    """A NumPy (N, *spatial, C) array (or a (*window, C, K) kernel, kernel=True) as a
    torch (N, C, *spatial) tensor stored in `fmt`."""
    perm = (0, a.ndim - 1) + tuple(range(1, a.ndim - 1))
    return torch.from_numpy(a).permute(*perm).contiguous(memory_format=fmt)


def _conv_call(case, fmt):
    s = case.shape
    x, dy = _channels_first(case.inputs["x"], fmt), _channels_first(case.inputs["dy"], fmt)
    # fastconv's (*window, C, K) is torch's (K, C, *window); a transposed kernel
    # (KH, KW, C_out, C_in) is torch's (C_in, C_out, KH, KW).
    kernel = case.inputs["w"]
    spatial = tuple(range(kernel.ndim - 2))
    order = (kernel.ndim - 1, kernel.ndim - 2) + spatial
    w = torch.from_numpy(kernel).permute(*order).contiguous(memory_format=fmt)
    b = torch.from_numpy(case.inputs["b"])
    stride, padding, dilation = ([v] * s.rank for v in (s.strides, s.padding, s.dilation))
    if case.pass_name == FORWARD:
        if s.transposed:
            return lambda: F.conv_transpose2d(x, w, b, stride, padding, 0, 1, dilation)
        conv = F.conv2d if s.rank == 2 else F.conv3d
        return lambda: conv(x, w, b, stride, padding, dilation, s.groups)
    mask = _CONV_BACKWARD_MASKS[case.pass_name]
    return lambda: torch.ops.aten.convolution_backward(
        dy, x, w, [s.k], stride, padding, dilation, s.transposed, [0] * s.rank, s.groups,
        mask)


def _max_pool_call(case, fmt):
    x, dy = _channels_first(case.inputs["x"], fmt), _channels_first(case.inputs["dy"], fmt)
    window = [case.shape.pool] * 2
    if case.pass_name == FORWARD:
        return lambda: F.max_pool2d(x, window, window)
    # Autograd keeps the forward's argmax indices for the backward, so that is timed
    # here too (fastconv recomputes the argmax from x instead).
    _, indices = F.max_pool2d(x, window, window, return_indices=True)
    return lambda: torch.ops.aten.max_pool2d_with_indices_backward(
        dy, x, window, window, [0, 0], [1, 1], False, indices)


def model_epoch(spec, x, y, seed=0):
    """A zero-argument callable training one more epoch of the benchmark model `spec`
    (fastconv.benchmark.models) the way PyTorch tutorials do, on x (n, 28, 28, 1) and
    one-hot y, in NCHW (PyTorch's default memory format): the twin of spec's fastconv
    model, with the twin of its optimizer."""
    torch.manual_seed(seed)
    fastconv_model = spec.fastconv_model()
    model = torch_twin(fastconv_model)
    optimizer = torch_optimizer(fastconv_model.optimizer, model.parameters())
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(y.argmax(axis=1))

    def epoch():
        """Trains one epoch; returns its mean batch loss, as tutorials print it."""
        model.train()
        order = torch.randperm(len(images))
        losses = []
        for start in range(0, len(images), spec.batch_size):
            batch = order[start:start + spec.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)
    return epoch


def torch_twin(model):
    """A torch.nn.Sequential (NCHW) with the layers of the fastconv Sequential `model`:
    Conv2D, MaxPooling2D, BatchNormalization, Flatten, Dense and Dropout with the same
    sizes, activations and hyper-parameters (BatchNormalization's momentum and epsilon
    converted to PyTorch's convention), freshly initialised by PyTorch. The last
    layer's softmax is left out: F.cross_entropy takes logits. ValueError for a layer
    or argument without a twin here."""
    modules = []
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind not in _TWINS:
            raise ValueError(f"layer {layer.name!r} ({kind}) has no PyTorch twin in the "
                             f"benchmark; supported: {', '.join(_TWINS)}")
        modules.append(_TWINS[kind](layer))
        activation = layer.activation.name
        if activation == "relu" and not layer.activation.negative_slope \
                and layer.activation.max_value is None:
            modules.append(torch.nn.ReLU())
        elif not (activation == "linear" or activation == "softmax"
                  and i == len(model.layers) - 1):
            raise ValueError(f"layer {layer.name!r}: activation {layer.activation!r} has no "
                             f"PyTorch twin in the benchmark")
    return torch.nn.Sequential(*modules)


def torch_optimizer(optimizer, parameters):
    """The torch.optim twin of a fastconv SGD or Adam, with the same hyper-parameters."""
    rate = optimizer.learning_rate
    kind = type(optimizer).__name__
    if kind == "SGD":
        return torch.optim.SGD(parameters, lr=rate, momentum=optimizer.momentum,
                               nesterov=optimizer.nesterov)
    if kind == "Adam":
        return torch.optim.Adam(parameters, lr=rate, betas=(optimizer.beta_1, optimizer.beta_2),
                                eps=optimizer.epsilon)
    raise ValueError(f"optimizer {kind} has no PyTorch twin in the benchmark")


def _valid_padding(layer):
    if layer.padding != "valid":
        raise ValueError(f"layer {layer.name!r}: padding {layer.padding!r} has no PyTorch "
                         f"twin in the benchmark (only 'valid')")
    return 0


def _conv2d_twin(layer):
    if layer.data_format != "channels_last":
        raise ValueError(f"layer {layer.name!r}: only channels_last Conv2D has a PyTorch "
                         f"twin in the benchmark")
    return torch.nn.Conv2d(layer.input_shape[-1], layer.filters, layer.kernel_size,
                           layer.strides, _valid_padding(layer), layer.dilation_rate,
                           layer.groups, bias=layer.use_bias)


def _batch_norm_twin(layer):
    """Keras's moving = momentum·moving + (1 - momentum)·batch is PyTorch's
    running = (1 - momentum)·running + momentum·batch, so PyTorch's momentum is
    1 - Keras's; both normalise a batch by its biased variance."""
    if layer.axis not in (-1, len(layer.input_shape)) or layer.scale != layer.center:
        raise ValueError(f"layer {layer.name!r}: only batch normalisation over the last "
                         f"axis, with both or neither of scale and center, has a PyTorch "
                         f"twin in the benchmark")
    norm = torch.nn.BatchNorm2d if len(layer.input_shape) == 3 else torch.nn.BatchNorm1d
    return norm(layer.input_shape[-1], eps=layer.epsilon, momentum=1 - layer.momentum,
                affine=layer.scale)


def _dense_twin(layer):
    if len(layer.input_shape) != 1:
        raise ValueError(f"layer {layer.name!r}: only Dense on flat inputs has a PyTorch "
                         f"twin in the benchmark, got inputs of shape {layer.input_shape}")
    return torch.nn.Linear(layer.input_shape[0], layer.units, bias=layer.use_bias)


_TWINS = {
    "Conv2D": _conv2d_twin,
    "MaxPooling2D": lambda layer: torch.nn.MaxPool2d(
        layer.pool_size, layer.strides, _valid_padding(layer)),
    "BatchNormalization": _batch_norm_twin,
    "Flatten": lambda layer: torch.nn.Flatten(),
    "Dense": _dense_twin,
    "Dropout": lambda layer: torch.nn.Dropout(layer.rate),
}
