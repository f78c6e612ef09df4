"""fastconv's benchmark: its kernels against the NumPy reference (and PyTorch with
--torch) for each shape of fastconv/benchmark/shapes.py and each pass, then one training
epoch of each tutorial CNN (fastconv.benchmark.models), side by side in one run.

    python bench/run.py --torch --chart bench/results.png   # everything: a few minutes
    python bench/run.py --quick         # small batches and a short epoch: seconds
    python bench/run.py --torch --shapes resnet-3x3 pool-56 --json out.json  # no models
    python bench/run.py --skip-kernels --torch               # the model benchmark only

Prints one header line, then Markdown tables (streamed row by row) and notes on what
each column measures. See bench/README.md.
"""
import argparse
import datetime
import os
import sys

import fastconv
from fastconv._kernels import _conv
from fastconv.benchmark import cases as _cases
from fastconv.benchmark import chart as _chart
from fastconv.benchmark import models as _models
from fastconv.benchmark import report as _report
from fastconv.benchmark.machine import FP32_PEAK_GFLOPS, cpu_model, peak_gflops
from fastconv.benchmark.models import MODEL_NAMES
from fastconv.benchmark.shapes import QUICK_BATCH_DIVISOR, SHAPE_NAMES, select
from fastconv.benchmark.timing import interleaved_times

DEFAULT_ROUNDS = 7
# Per implementation and case: every round of the NumPy reference on the mid-size shapes,
# four or five on the 224×224 stem (1-1.5 s a call), so a full run takes well under a
# minute on an idle machine (30 s measured; 47 s with --torch).
DEFAULT_BUDGET_S = 5.0
# A full MNIST epoch takes 10-20 s per implementation and model here.
DEFAULT_MODEL_ROUNDS = 3
MODEL_IMAGES = 60000
QUICK_MODEL_IMAGES = 1280


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
                   help=f"batches {QUICK_BATCH_DIVISOR} times smaller and "
                        f"{QUICK_MODEL_IMAGES} training images: the run takes seconds")
    p.add_argument("--torch", action="store_true",
                   help="add PyTorch's CPU numbers (skipped with a note if torch is absent)")
    p.add_argument("--scaling", action="store_true",
                   help="also time fastconv's kernels on one thread (the threads column)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--shapes", nargs="+", choices=SHAPE_NAMES, metavar="NAME",
                   help=f"only these shapes, among: {' '.join(SHAPE_NAMES)}")
    p.add_argument("--models", nargs="*", choices=MODEL_NAMES, metavar="NAME",
                   help=f"only these models, among: {' '.join(MODEL_NAMES)} "
                        "(no name: no model benchmark)")
    p.add_argument("--skip-kernels", action="store_true", help="only the model benchmark")
    p.add_argument("--images", type=int, metavar="N",
                   help=f"training images per model epoch (default {MODEL_IMAGES}, "
                        f"{QUICK_MODEL_IMAGES} with --quick)")
    p.add_argument("--model-rounds", type=int, default=DEFAULT_MODEL_ROUNDS, metavar="R",
                   help=f"timed epochs per model (default {DEFAULT_MODEL_ROUNDS})")
    p.add_argument("--peak", type=float, default=FP32_PEAK_GFLOPS, metavar="GFLOPS",
                   help="the machine's fp32 peak for the %% of peak column "
                        f"(default {FP32_PEAK_GFLOPS:.1f}; float64 counts half)")
    p.add_argument("--json", metavar="PATH", help="also save the raw times here")
    p.add_argument("--chart", metavar="PATH",
                   help="save a bar chart of the speed-ups as PNG (needs matplotlib)")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.model_rounds < 1:
        p.error("--rounds and --model-rounds must be at least 1")
    if args.images is not None and args.images < 1:
        p.error("--images must be at least 1")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    if args.models is None:
        args.models = [] if args.shapes else MODEL_NAMES
    if args.images is None:
        args.images = QUICK_MODEL_IMAGES if args.quick else MODEL_IMAGES
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
        "budget_s": args.budget, "quick": args.quick, "scaling": args.scaling,
        "peak_gflops": peak_gflops(args.dtype, args.peak),
        "torch": torch_baseline.version() if torch_baseline else None,
    }


def run_kernels(args, meta, torch_baseline):
    """Time every case of the selected shapes; print the table as it goes; return records."""
    with_torch = torch_baseline is not None
    print(_report.table_head(with_torch, args.scaling), flush=True)
    records = []  # not the Cases: they hold their inputs, hundreds of MB for large shapes
    for shape in select(args.shapes, args.quick):
        for case in _cases.cases(shape, args.dtype):
            if args.scaling:
                _cases.add_one_thread_candidate(case)
            if torch_baseline:
                case.candidates.update(torch_baseline.candidates(case))
            times = interleaved_times(case.candidates, args.rounds, args.budget)
            records.append(_report.record(case, times))
            print(_report.table_row(case, times, meta, with_torch, args.scaling), flush=True)
    print("\n" + _report.notes(meta, with_torch))
    return records


def run_models(args, torch_baseline):
    """Time one training epoch of each selected model; print its table; return records."""
    x, y, source = _models.training_data(args.images)
    with_torch = torch_baseline is not None
    print(f"\n**Training one epoch** of {len(x)} {source} images, batch "
          f"{_models.ModelSpec.batch_size}, median of {args.model_rounds} epochs\n")
    print(_report.model_table_head(with_torch), flush=True)
    records = []
    for spec in _models.MODELS:
        if spec.name not in args.models:
            continue
        candidates = {_cases.FASTCONV: _models.fastconv_epoch(spec, x, y)}
        if torch_baseline:
            candidates[_cases.TORCH_PREFIX + "NCHW"] = torch_baseline.model_epoch(spec, x, y)
        times = interleaved_times(candidates, args.model_rounds, budget=float("inf"))
        records.append(_report.model_record(spec, len(x), times))
        print(_report.model_row(spec, len(x), times, with_torch), flush=True)
    print("\n" + _report.model_notes(with_torch))
    return records


def main(argv=None):
    """Run the benchmark with command-line arguments `argv`; returns the exit code."""
    args = parse_args(argv)
    if args.threads is not None:
        fastconv.set_num_threads(args.threads)
    threads = fastconv.get_num_threads()
    torch_baseline = load_torch(threads) if args.torch else None
    meta = run_metadata(args, threads, torch_baseline)

    print(_report.header(meta) + "\n")
    records = [] if args.skip_kernels else run_kernels(args, meta, torch_baseline)
    model_records = run_models(args, torch_baseline) if args.models else []
    if args.json:
        _report.write_json(args.json, meta, records, model_records)
    if args.chart:
        _chart.save(args.chart, meta, records, model_records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
