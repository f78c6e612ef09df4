"""The `fastconv` command (also `python -m fastconv`):

    fastconv train --dataset mnist --model cnn --epochs 6 --save model.npz --plots plots/
    fastconv evaluate model.npz --dataset mnist
    fastconv predict model.npz digit.png more_digits.npy
    fastconv export model.npz model.onnx
    fastconv bench --quick [--torch]
    fastconv info

Errors the user can fix print one line, `fastconv: error: ...`, and exit with code 2.
"""
import os
import sys

import fastconv
from fastconv.cli.errors import CLIError, UsageError
from fastconv.cli.parser import build_parser

__all__ = ["main", "run"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _report(message):
    # One line, whatever the message holds (a data set error lists each source it tried).
    print("fastconv: error: " + "; ".join(line.strip() for line in message.splitlines()
                                           if line.strip()), file=sys.stderr)


def main(argv=None):
    """Run the command line on `argv` (default: sys.argv[1:]); return the exit code."""
    parser = build_parser()
    try:
        args, passthrough = parser.parse_known_args(argv)
        if args.command == "bench":
            args.passthrough = passthrough
        elif passthrough:
            raise UsageError(f"unrecognized arguments: {' '.join(passthrough)}",
                             f"fastconv {args.command}")
        if getattr(args, "threads", None) and args.command != "bench":
            fastconv.set_num_threads(args.threads)
        return args.run(args)
    except CLIError as exc:
        _report(str(exc))
    except OSError as exc:  # writing the model or the plots, for one
        _report(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        print("fastconv: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_USAGE


def run(argv=None):
    """The `fastconv` command: main's exit code becomes the process's. An interrupted
    run leaves at once, with 130, after flushing its output: the suite's Ctrl-C test
    saw such a child, rarely and only under load, print its message and still die of
    SIGINT during interpreter shutdown (cause not found); leaving here skips shutdown."""
    code = main(argv)
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
