"""`fastconv export MODEL.npz MODEL.onnx`: a saved model as an ONNX file."""
from fastconv.cli.errors import CLIError
from fastconv.cli.model_inputs import load_saved_model
from fastconv.export import UnsupportedLayerError, export_model


def run_export(args):
    """Write the saved model as ONNX (fastconv.export); print where. Returns 0."""
    model = load_saved_model(args.model)
    try:
        export_model(model, args.output, format=args.format)
    except (UnsupportedLayerError, ImportError) as exc:
        raise CLIError(str(exc)) from None
    print(f"exported {args.model} to {args.output} ({args.format})")
    return 0
