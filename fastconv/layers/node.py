"""Symbolic tensors and nodes: what calling a layer on `Input(...)` records.

A SymbolicTensor stands for a batch of arrays while a model is being defined: it has a
shape (batch dimension first, None), a dtype, and the Node that produced it. A Node is
one call of a layer: its input tensors and its output tensors. A functional Model is
the graph of nodes between its inputs and outputs.

A symbolic tensor holds no values, so NumPy functions, arithmetic operators and Python
functions that need numbers refuse it with a TypeError that says what to use instead
(a layer), rather than failing somewhere inside NumPy.
"""
__all__ = ["SymbolicTensor", "Node", "call_symbolic", "is_symbolic", "describe_layer"]


def describe_layer(layer):
    return f"layer {layer.name!r} ({type(layer).__name__})"


def _refuse(what):
    raise TypeError(
        f"{what} cannot be applied to a symbolic tensor (the output of Input() or of a layer "
        f"called on one): it holds no values while the model is being defined. The "
        f"functional API supports fastconv layers only: use a layer (layers.Add, "
        f"layers.Subtract, layers.Multiply, layers.Concatenate, layers.Activation, "
        f"layers.Reshape, ...) instead; custom Python functions (Lambda layers) are not "
        f"supported")


def _operator(symbol):
    def refuse(self, *args):
        _refuse(f"the operator {symbol}")
    return refuse


class SymbolicTensor:
    """A placeholder for a layer's output in a model being defined (Keras's KerasTensor).

    Attributes: `shape` (batch dimension first, None), `dtype`, `name`, `node` (the
    layer call that made it) and `index` (which of that call's outputs it is).
    """

    def __init__(self, shape, dtype, node, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = str(dtype)
        self.node = node
        self.index = index
        self.name = name or f"{node.layer.name}/output_{index}"

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<SymbolicTensor shape={self.shape}, dtype={self.dtype}, "
                f"name={self.name!r}>")

    # Everything that would need values refuses, naming itself.
    def __array__(self, *args, **kwargs):
        _refuse("a NumPy function (np.asarray, np.array, ...)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse(f"the NumPy operation np.{ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        _refuse(f"the NumPy function np.{func.__name__}")

    def __bool__(self):
        _refuse("a truth test (if / and / or)")

    def __float__(self):
        _refuse("float() (a Python function needing a number)")

    def __int__(self):
        _refuse("int() (a Python function needing a number)")

    def __len__(self):
        _refuse("len()")

    def __iter__(self):
        _refuse("iteration")

    def __getitem__(self, key):
        _refuse("indexing or slicing")

    __index__ = __int__
    __complex__ = __float__
    __add__ = __radd__ = _operator("+")
    __sub__ = __rsub__ = _operator("-")
    __mul__ = __rmul__ = _operator("*")
    __truediv__ = __rtruediv__ = _operator("/")
    __floordiv__ = __rfloordiv__ = _operator("//")
    __mod__ = __rmod__ = _operator("%")
    __pow__ = __rpow__ = _operator("**")
    __matmul__ = __rmatmul__ = _operator("@")
    __neg__ = _operator("unary -")
    __pos__ = _operator("unary +")
    __abs__ = _operator("abs()")
    __lt__ = _operator("<")
    __le__ = _operator("<=")
    __gt__ = _operator(">")
    __ge__ = _operator(">=")
    __and__ = __rand__ = _operator("&")
    __or__ = __ror__ = _operator("|")
    __xor__ = __rxor__ = _operator("^")
    __invert__ = _operator("~")


def is_symbolic(value):
    """True if value is a symbolic tensor or a list/tuple holding one."""
    if isinstance(value, SymbolicTensor):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, SymbolicTensor)
                                                      for v in value)


class Node:
    """One call of `layer` on `inputs` (symbolic tensors), producing `outputs`.

    `as_list`: whether the layer was called with a list (merge layers, models with
    several inputs) rather than with one tensor.
    """

    def __init__(self, layer, inputs, output_shapes, as_list):
        self.layer = layer
        self.inputs = list(inputs)
        self.as_list = as_list
        self.outputs = [SymbolicTensor(shape, layer.dtype, self, i)
                        for i, shape in enumerate(output_shapes)]
        layer._inbound_nodes.append(self)

    @property
    def node_index(self):
        """This node's position among its layer's calls (Keras's node index)."""
        return self.layer._inbound_nodes.index(self)

    def __repr__(self):
        return f"<Node {describe_layer(self.layer)} inputs={len(self.inputs)}>"


def _describe_inputs(tensors):
    return ", ".join(f"{t.shape} from {describe_layer(t.node.layer)}" for t in tensors)


def call_symbolic(layer, inputs):
    """Record a call of `layer` on symbolic tensor(s) and return its symbolic output(s),
    building the layer for their shapes if it is not built yet."""
    as_list = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if as_list else [inputs]
    for t in tensors:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"{describe_layer(layer)} was called on a list mixing symbolic "
                            f"tensors and {type(t).__name__}: in a model definition every "
                            f"input must come from Input() or from a layer")
    if as_list and len(tensors) == 1 and not layer.MULTI_INPUT:
        as_list = False  # Keras accepts [x] for a layer of one input
    if as_list and not layer.MULTI_INPUT:
        raise TypeError(f"{describe_layer(layer)} takes one input, got a list of "
                        f"{len(tensors)}: {_describe_inputs(tensors)} (combine them first "
                        f"with a merge layer such as layers.Concatenate or layers.Add)")
    shapes = [t.shape[1:] for t in tensors]
    try:
        output_shapes = layer.symbolic_output_shapes(shapes if as_list else shapes[0])
    except ValueError as exc:
        raise ValueError(f"{describe_layer(layer)} cannot take input(s) "
                         f"{_describe_inputs(tensors)}: {exc}") from None
    node = Node(layer, tensors, output_shapes, as_list)
    outputs = [t for t in node.outputs]
    return outputs if layer.MULTI_OUTPUT else outputs[0]
