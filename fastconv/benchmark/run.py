"""fastconv's kernel benchmark: fastconv against the NumPy reference (and PyTorch with
--torch), side by side in one run, for each shape of fastconv/benchmark/shapes.py and each pass.

    python bench/run.py                 # all shapes, float32: under a minute when idle
    python bench/run.py --quick         # small batches, well under a minute
    python bench/run.py --torch --shapes resnet-3x3 pool-56 --json out.json

Prints one header line, then a Markdown table (streamed row by row) and notes on what
each column measures. See bench/README.md.
"""
import argparse
import datetime
import os
import sys

import fastconv
from fastconv._kernels import _conv
from fastconv.benchmark import cases as _cases
from fastconv.benchmark import report as _report
from fastconv.benchmark.machine import FP32_PEAK_GFLOPS, cpu_model, peak_gflops
from fastconv.benchmark.shapes import QUICK_BATCH_DIVISOR, SHAPE_NAMES, select
from fastconv.benchmark.timing import interleaved_times

DEFAULT_ROUNDS = 7
# Per implementation and case: every round of the NumPy reference on the mid-size shapes,
# four or five on the 224×224 stem (1-1.5 s a call), so a full run takes well under a
# minute on an idle machine (30 s measured; 47 s with --torch).
DEFAULT_BUDGET_S = 5.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for fastconv and torch (default: fastconv.get_num_threads())")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, metavar="R",
                   help=f"timed rounds per case, median reported (default {DEFAULT_ROUNDS})")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, metavar="SECONDS",
                   help="an implementation whose timed calls of one case add up to this "
                        f"sits out the remaining rounds (default {DEFAULT_BUDGET_S:g})")
    p.add_argument("--quick", action="store_true",
                   help=f"batches {QUICK_BATCH_DIVISOR} times smaller: the run takes seconds")
    p.add_argument("--torch", action="store_true",
                   help="add PyTorch's CPU numbers (skipped with a note if torch is absent)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--shapes", nargs="+", choices=SHAPE_NAMES, metavar="NAME",
                   help=f"only these shapes, among: {' '.join(SHAPE_NAMES)}")
    p.add_argument("--peak", type=float, default=FP32_PEAK_GFLOPS, metavar="GFLOPS",
                   help="the machine's fp32 peak for the %% of peak column "
                        f"(default {FP32_PEAK_GFLOPS:.1f}; float64 counts half)")
    p.add_argument("--json", metavar="PATH", help="also save the raw times here")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def load_torch(threads):
    """The torch baseline module with torch's threads set, or None (and a note) without torch."""
    from fastconv.benchmark import torch_baseline as _torch_baseline
    if not _torch_baseline.available():
        print("note: torch is not importable, PyTorch columns skipped", file=sys.stderr)
        return None
    _torch_baseline.set_num_threads(threads)
    return _torch_baseline


def run_metadata(args, threads, torch_baseline):
    """What the header line and the JSON file say about this run."""
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(), "logical_cpus": os.cpu_count(),
        "fastconv": fastconv.__version__, "kernel_variant": _conv.kernel_variant(),
        "threads": threads, "dtype": args.dtype, "rounds": args.rounds,
        "budget_s": args.budget, "quick": args.quick,
        "peak_gflops": peak_gflops(args.dtype, args.peak),
        "torch": torch_baseline.version() if torch_baseline else None,
    }


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        fastconv.set_num_threads(args.threads)
    threads = fastconv.get_num_threads()
    torch_baseline = load_torch(threads) if args.torch else None
    meta = run_metadata(args, threads, torch_baseline)

    print(_report.header(meta) + "\n")
    print(_report.table_head(torch_baseline is not None), flush=True)
    records = []  # not the Cases: they hold their inputs, hundreds of MB for large shapes
    for shape in select(args.shapes, args.quick):
        for case in _cases.cases(shape, args.dtype):
            if torch_baseline:
                case.candidates.update(torch_baseline.candidates(case))
            times = interleaved_times(case.candidates, args.rounds, args.budget)
            records.append(_report.record(case, times))
            print(_report.table_row(case, times, meta, torch_baseline is not None), flush=True)
    print("\n" + _report.notes(meta, torch_baseline is not None))
    if args.json:
        _report.write_json(args.json, meta, records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
