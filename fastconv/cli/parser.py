"""The command line's grammar: `fastconv train|evaluate|predict|export|bench|info ...`."""
import argparse

import fastconv
from fastconv.cli import export, inference, tools, train
from fastconv.cli.data import DATASETS
from fastconv.cli.errors import UsageError
from fastconv.export import FORMATS
from fastconv.zoo import OPTIMIZERS, RECIPES


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of printing usage and exiting, so
    that every error is one line."""

    def error(self, message):
        raise UsageError(message, self.prog)


def _number(kind, low, high=None, what="a number"):
    """An argparse type: `kind` of the string, within [low, high) (high: no bound)."""
    def parse(text):
        """The value of `text`, or ArgumentTypeError saying what was expected."""
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} expected, got {text!r}") from None
        if value < low or (high is not None and value >= high):
            raise argparse.ArgumentTypeError(f"{what} expected, got {text!r}")
        return value
    return parse


positive_int = _number(int, 1, what="a positive integer")
positive_float = _number(float, 1e-300, what="a positive number")
fraction = _number(float, 1e-300, 1.0, what="a fraction between 0 and 1")


def _add_common(parser, batch_size):
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                        help="the data set (default: mnist)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="use only the first N training and N test images")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, metavar="B",
                        help=f"images per batch (default: {batch_size})")
    parser.add_argument("--threads", type=positive_int, metavar="T",
                        help="OpenMP threads (default: OMP_NUM_THREADS, else all cores)")


def _train_parser(commands):
    p = commands.add_parser(
        "train", help="train an example model, save it and its pictures",
        description="Train one of the models of examples/ on MNIST or Fashion-MNIST, print "
                    "the test accuracy and the time, and save the model and pictures.")
    p.add_argument("--model", choices=list(RECIPES), default="cnn",
                   help="cnn: examples/mnist_cnn.py; tutorial: examples/mnist_tutorial.py; "
                        "mlp: examples/mnist_mlp.py (default: cnn)")
    _add_common(p, batch_size=128)
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="epochs (default: the example's: cnn 6, tutorial 10, mlp 10)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS),
                   help="sgd has momentum 0.9 (default: the example's: cnn adam, tutorial "
                        "sgd, mlp rmsprop)")
    p.add_argument("--lr", type=positive_float, metavar="X",
                   help="learning rate (default: 0.01 for sgd, 0.001 otherwise)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--validation-split", type=fraction, metavar="F",
                   help="validate on the last fraction F of the training images "
                        "(default: validate on the test set, as the examples do)")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1,
                   help="0 silent, 1 progress bar, 2 one line per epoch (default: 1)")
    p.add_argument("--save", metavar="MODEL.npz", help="save the trained model here")
    p.add_argument("--plots", metavar="DIR",
                   help="save the pictures here: first images, training curves, filters, "
                        "feature maps, confusion matrix (needs matplotlib)")
    p.set_defaults(run=train.run)


def _inference_parsers(commands):
    p = commands.add_parser("evaluate", help="a saved model's test loss and accuracy",
                            description="Print a saved model's loss and accuracy on the "
                                        "test split of a data set.")
    p.add_argument("model", metavar="MODEL.npz")
    _add_common(p, batch_size=256)
    p.set_defaults(run=inference.run_evaluate)

    p = commands.add_parser(
        "predict", help="classify images with a saved model",
        description="Print the class and the class probabilities of each image. FILE: a "
                    ".npy array (one image or a batch, pixel values 0-255 or 0-1), a PGM "
                    "image, or PNG/JPEG with Pillow installed; images are made grey, "
                    "inverted if their background is light, and resized to the model's "
                    "input, like MNIST.")
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--threads", type=positive_int, metavar="T", help="OpenMP threads")
    p.set_defaults(run=inference.run_predict)


def _export_parser(commands):
    p = commands.add_parser(
        "export", help="write a saved model as ONNX, to serve it with ONNX Runtime",
        description="Write a saved model as an ONNX file (opset 17) that takes the same "
                    "channels-last arrays as the model; needs pip install \"fastconv[onnx]\".")
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("output", metavar="MODEL.onnx")
    p.add_argument("--format", choices=list(FORMATS), default="onnx",
                   help="the file format (default: onnx)")
    p.set_defaults(run=export.run_export)


def build_parser():
    """The argparse parser of the `fastconv` command."""
    parser = Parser(prog="fastconv",
                    description="fastconv: train, evaluate and use small CNNs, and benchmark "
                                "the kernels.")
    parser.add_argument("--version", action="version",
                        version=f"fastconv {fastconv.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _train_parser(commands)
    _inference_parsers(commands)
    _export_parser(commands)
    commands.add_parser(
        "bench", add_help=False, help="the kernel benchmark table (--quick, --torch, ...)",
        description="Runs python bench/run.py's benchmark; every argument goes to it "
                    "(see fastconv bench --help).").set_defaults(run=tools.run_bench)
    commands.add_parser("info", help="version, OpenMP, threads, kernel variant",
                        description="Print fastconv.show_config().").set_defaults(
                            run=tools.run_info)
    return parser
