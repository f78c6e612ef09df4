"""`fastconv bench` and `fastconv info`."""
import contextlib
import io

import fastconv
from fastconv.cli.errors import CLIError


def run_bench(args):
    """Run the kernel benchmark (fastconv.benchmark.run) with the arguments after `bench`;
    it prints its table. Returns its exit code."""
    from fastconv.benchmark import run as benchmark  # imports torch's baseline lazily itself
    # Its own parser judges the arguments; its multi-line usage error becomes our one line.
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            benchmark.parse_args(args.passthrough)
    except SystemExit as exit_:
        if exit_.code:
            last_line = captured.getvalue().strip().splitlines()[-1]
            raise CLIError(f"bench: {last_line.split('error: ', 1)[-1]}") from None
        return 0  # --help was printed
    return benchmark.main(args.passthrough)


def run_info(args):
    """Print fastconv.show_config(): version, OpenMP, threads, kernel variant. Returns 0."""
    fastconv.show_config()
    return 0
