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
    one-hot y, in NCHW (PyTorch's default memory format)."""
    torch.manual_seed(seed)
    modules = []
    channels = 1
    for filters, size in spec.conv_layers:
        modules += [torch.nn.Conv2d(channels, filters, size), torch.nn.ReLU(),
                    torch.nn.MaxPool2d(2)]
        channels = filters
    modules.append(torch.nn.Flatten())
    features = spec.flat_features()
    if spec.hidden:
        modules += [torch.nn.Linear(features, spec.hidden), torch.nn.ReLU()]
        features = spec.hidden
    modules.append(torch.nn.Linear(features, 10))
    model = torch.nn.Sequential(*modules)
    if spec.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=spec.learning_rate, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=spec.learning_rate)
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(y.argmax(axis=1))

    def epoch():
        order = torch.randperm(len(images))
        for start in range(0, len(images), spec.batch_size):
            batch = order[start:start + spec.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return epoch
