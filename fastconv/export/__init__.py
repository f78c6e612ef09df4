"""Models out of fastconv: `model.export("model.onnx", format="onnx")`, as in Keras 3.

    from fastconv import export
    export.export_model(model, "mnist.onnx")      # what model.export calls
    # shell: fastconv export mnist.npz mnist.onnx

The ONNX file (opset 17) takes the same channels-last float32 arrays as `model.predict`
and gives the same outputs: layers that work channels-first in ONNX (Conv, MaxPool, ...)
are wrapped in Transposes inside the graph. It needs the `onnx` package
(`pip install "fastconv[onnx]"`, which brings ONNX Runtime too, to serve or check it).

Modules, one job each:
- onnx_layers: every fastconv layer and activation as ONNX nodes (CONVERTERS);
- onnx_graph: the model as a list of nodes (layer, input names, output names), and the
  writer that turns such a list into an ONNX graph. A functional model plugs in by
  giving its own node list.
"""
import os

from fastconv._atomic import atomic_write

__all__ = ["export_model", "FORMATS", "UnsupportedLayerError"]

FORMATS = ("onnx",)


class UnsupportedLayerError(ValueError):
    """A layer (or its activation) that has no ONNX equivalent; the message names it."""


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("exporting to ONNX needs the onnx package: "
                          "pip install \"fastconv[onnx]\" (or pip install onnx)") from None
    return onnx


def export_model(model, filepath, format="onnx"):
    """Write `model` to `filepath` in `format` ("onnx"), atomically; returns the path.

    The model must be built (its input shape known). A layer that cannot be exported
    raises UnsupportedLayerError naming it, before anything is written.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    _require_onnx()
    from fastconv.export import onnx_graph
    proto = onnx_graph.to_onnx(model)  # checked by onnx.checker
    with atomic_write(filepath) as f:
        f.write(proto.SerializeToString())
    return os.fspath(filepath)
