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
    formats = {"NCHW": torch.contiguous_format, "NHWC": torch.channels_last}
    return {TORCH_PREFIX + name: build(case, fmt) for name, fmt in formats.items()}


def _nchw(a, fmt):
    """A NumPy (N, H, W, C) array as a torch (N, C, H, W) tensor stored in `fmt`."""
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous(memory_format=fmt)


def _conv_call(case, fmt):
    s = case.shape
    x, dy = _nchw(case.inputs["x"], fmt), _nchw(case.inputs["dy"], fmt)
    # fastconv's (KH, KW, C, K) is torch's (K, C, KH, KW)
    w = torch.from_numpy(case.inputs["w"]).permute(3, 2, 0, 1).contiguous(memory_format=fmt)
    b = torch.from_numpy(case.inputs["b"])
    stride, padding = [s.strides] * 2, [s.padding] * 2
    if case.pass_name == FORWARD:
        return lambda: F.conv2d(x, w, b, stride, padding)
    mask = _CONV_BACKWARD_MASKS[case.pass_name]
    return lambda: torch.ops.aten.convolution_backward(
        dy, x, w, [s.k], stride, padding, [1, 1], False, [0, 0], 1, mask)


def _max_pool_call(case, fmt):
    x, dy = _nchw(case.inputs["x"], fmt), _nchw(case.inputs["dy"], fmt)
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
