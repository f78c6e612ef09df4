"""Merge layers: combine a list of inputs into one (Keras's Add, Subtract, Multiply,
Average, Maximum, Minimum, Concatenate, Dot, and their function forms add(...), ...).

Element-wise merges take inputs of one rank whose dimensions are equal or 1 (broadcast,
as Keras); the gradient of a broadcast input is summed over the axes it was stretched on.
"""
import numpy as np

from fastconv.layers.base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
           "concatenate", "dot"]


def _unbroadcast(grad, shape):
    """grad summed back to `shape` (the input's) over the axes broadcasting stretched."""
    if grad.shape == shape:
        return grad
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True)


class Merge(Layer):
    """Base class: `merge(xs)` computes the output, `merge_backward(dy)` the inputs' grads."""

    MULTI_INPUT = True
    MIN_INPUTS = 1

    def build(self, input_shape):
        if (not isinstance(input_shape, (list, tuple))
                or not all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"{type(self).__name__} must be called on a list of inputs, got "
                             f"one input of shape {input_shape!r}")
        shapes = [tuple(int(d) for d in s) for s in input_shape]
        if len(shapes) < self.MIN_INPUTS:
            raise ValueError(f"{type(self).__name__} needs at least {self.MIN_INPUTS} inputs, "
                             f"got {len(shapes)}")
        self.output_shape = tuple(self.compute_output_shape(shapes))
        self.input_shape = shapes
        self.built = True

    def symbolic_output_shapes(self, input_shape):
        if self.built and [tuple(s) for s in input_shape] != self.input_shape:
            raise ValueError(f"it was built for inputs of shapes {self._shapes_text()}")
        if not self.built:
            self.build(input_shape)
        return [(None,) + self.output_shape]

    def _shapes_text(self, shapes=None):
        shapes = self.input_shape if shapes is None else shapes
        return ", ".join(str((None,) + tuple(s)) for s in shapes)

    def compute_output_shape(self, shapes):
        """Element-wise: one rank, each dimension equal across inputs or 1 (broadcast)."""
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(f"{type(self).__name__} needs inputs of one rank, got shapes "
                             f"{self._shapes_text(shapes)}")
        out = []
        for dims in zip(*shapes):
            sizes = set(dims) - {1}
            if len(sizes) > 1:
                raise ValueError(f"{type(self).__name__} needs inputs of the same shape (or "
                                 f"of size 1 where they differ), got shapes "
                                 f"{self._shapes_text(shapes)}")
            out.append(sizes.pop() if sizes else 1)
        return tuple(out)

    def forward(self, xs, training=False):
        if not isinstance(xs, (list, tuple)):
            raise TypeError(f"layer {self.name!r} ({type(self).__name__}) takes a list of "
                            f"arrays, got {type(xs).__name__}")
        xs = [np.asarray(x, dtype=self.dtype) for x in xs]
        if any(x.ndim == 0 or len(x) != len(xs[0]) for x in xs):
            raise ValueError(f"layer {self.name!r} needs inputs with one batch size, got "
                             f"shapes {[x.shape for x in xs]}")
        shapes = [x.shape[1:] for x in xs]
        if not self.built:
            self.build(shapes)
        elif shapes != self.input_shape:
            raise ValueError(f"layer {self.name!r} expects inputs of shapes "
                             f"{self._shapes_text()}, got {[x.shape for x in xs]}")
        self._xs = xs
        self._output = self.merge(xs)
        self._record_activity(self._output)
        return self._output

    def backward(self, dy, input_gradient=True):
        return [_unbroadcast(g, x.shape) for g, x in zip(self.merge_backward(dy), self._xs)]

    def merge(self, xs):
        raise NotImplementedError

    def merge_backward(self, dy):
        raise NotImplementedError


class Add(Merge):
    """The sum of the inputs."""

    def merge(self, xs):
        y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            y += x
        return y

    def merge_backward(self, dy):
        return [dy] * len(self._xs)


class Subtract(Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""

    MIN_INPUTS = 2

    def compute_output_shape(self, shapes):
        if len(shapes) != 2:
            raise ValueError(f"Subtract needs exactly 2 inputs, got {len(shapes)}")
        return super().compute_output_shape(shapes)

    def merge(self, xs):
        return xs[0] - xs[1]

    def merge_backward(self, dy):
        return [dy, -dy]


class Multiply(Merge):
    """The element-wise product of the inputs."""

    def merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y

    def merge_backward(self, dy):
        grads = []
        for i in range(len(self._xs)):
            g = dy
            for j, x in enumerate(self._xs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads


class Average(Merge):
    """The element-wise mean of the inputs."""

    def merge(self, xs):
        return Add.merge(self, xs) / self.dtype.type(len(xs))

    def merge_backward(self, dy):
        return [dy / self.dtype.type(len(self._xs))] * len(self._xs)


class _Extreme(Merge):
    """Maximum or minimum; the gradient goes to the first input holding the extreme
    (the rule max pooling follows)."""

    PICK = None

    def merge(self, xs):
        stacked = np.stack(np.broadcast_arrays(*xs))
        self._winner = self.PICK(stacked, axis=0)
        return np.take_along_axis(stacked, self._winner[None], axis=0)[0]

    def merge_backward(self, dy):
        zero = dy.dtype.type(0)
        return [np.where(self._winner == i, dy, zero) for i in range(len(self._xs))]


class Maximum(_Extreme):
    """The element-wise maximum of the inputs."""

    PICK = staticmethod(np.argmax)


class Minimum(_Extreme):
    """The element-wise minimum of the inputs."""

    PICK = staticmethod(np.argmin)


class Concatenate(Merge):
    """The inputs joined along `axis` (the last by default); other dimensions must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise ValueError(f"axis must be a non-zero int (axis 0 is the batch), got {axis!r}")
        self.axis = int(axis)

    def _feature_axis(self, rank):
        """The axis within a sample (batch dimension excluded)."""
        axis = self.axis - 1 if self.axis > 0 else self.axis + rank
        if not 0 <= axis < rank:
            raise ValueError(f"axis {self.axis} is out of range for inputs of rank {rank + 1}")
        return axis

    def compute_output_shape(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"Concatenate needs inputs of one rank, got shapes "
                             f"{self._shapes_text(shapes)}")
        axis = self._feature_axis(ranks.pop())
        others = {s[:axis] + s[axis + 1:] for s in shapes}
        if len(others) != 1:
            raise ValueError(f"Concatenate(axis={self.axis}) needs inputs whose shapes agree "
                             f"except along that axis, got shapes {self._shapes_text(shapes)}")
        first = shapes[0]
        return first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]

    def merge(self, xs):
        return np.concatenate(xs, axis=self.axis)

    def merge_backward(self, dy):
        ends = np.cumsum([x.shape[self.axis] for x in self._xs])[:-1]
        return np.split(dy, ends, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# Keras's l2_normalize floor on the squared norm.
L2_NORM_EPSILON = 1e-12


class Dot(Merge):
    """The dot product of two 2-D inputs (batch, features) along `axes` (1 or -1):
    output (batch, 1). normalize=True takes the cosine similarity (inputs L2-normalised
    first, as Keras)."""

    MIN_INPUTS = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = tuple(axes) if isinstance(axes, (list, tuple)) else (axes, axes)
        if len(pair) != 2 or any(a not in (1, -1) for a in pair):
            raise ValueError(f"Dot supports 2-D inputs only, so axes must be 1 or -1 (or a "
                             f"pair of them), got {axes!r}")
        self.axes = axes if isinstance(axes, int) else list(axes)
        self.normalize = bool(normalize)

    def compute_output_shape(self, shapes):
        if len(shapes) != 2 or any(len(s) != 1 for s in shapes) or shapes[0] != shapes[1]:
            raise ValueError(f"Dot needs exactly 2 inputs of shape (batch, features) with the "
                             f"same number of features, got shapes {self._shapes_text(shapes)}")
        return (1,)

    def merge(self, xs):
        a, b = xs
        if self.normalize:
            self._norms = [np.sqrt(np.maximum((x * x).sum(axis=1, keepdims=True),
                                              self.dtype.type(L2_NORM_EPSILON))) for x in xs]
            a, b = a / self._norms[0], b / self._norms[1]
        self._units = (a, b)
        return (a * b).sum(axis=1, keepdims=True)

    def merge_backward(self, dy):
        a, b = self._units
        grads = [dy * b, dy * a]
        if self.normalize:
            # d(x / |x|) = (I - u u^T) / |x|, with u = x / |x|.
            grads = [(g - u * (g * u).sum(axis=1, keepdims=True)) / n
                     for g, u, n in zip(grads, (a, b), self._norms)]
        return grads

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _function_form(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"{cls.__name__}(**kwargs)(inputs), Keras's function form."
    return merge


add, subtract, multiply, average, maximum, minimum, concatenate = (
    _function_form(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Dot(axes, normalize, **kwargs)(inputs), Keras's function form."""
    return Dot(axes, normalize, **kwargs)(inputs)
