"""fastconv's benchmark: its kernels against the NumPy reference (and PyTorch with
--torch) for each shape of fastconv/benchmark/shapes.py and each pass, then one training
epoch of each benchmark model (fastconv.benchmark.models), side by side in one run.

    python bench/run.py --torch --chart bench/results.png   # everything: about 10 minutes
    python bench/run.py --quick         # small batches and short epochs: under a minute
    python bench/run.py --torch --shapes resnet-3x3 pool-56 --json out.json  # no models
    python bench/run.py --torch --groups networks --models vgg-bn-b32  # issue 12's layers
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
from fastconv.benchmark.shapes import GROUPS, QUICK_BATCH_DIVISOR, SHAPE_NAMES, select
from fastconv.benchmark.timing import interleaved_times

DEFAULT_ROUNDS = 7
# Per implementation and case: every round of the NumPy reference on the mid-size shapes,
# four to six on the 224×224 stem and the batch-128 ResNet-18 layers (0.9-1.5 s a call).
# The classic, family and pool groups took 30 s on an idle machine (47 s with --torch);
# the networks group does about twice their FLOPs, which makes the full run about
# 1.5 minutes (2.5 with --torch), an estimate from single calls of its largest shapes.
DEFAULT_BUDGET_S = 5.0
# A tutorial CNN's full MNIST epoch takes 10-20 s per implementation here, vgg-bn's
# shortened one 10-20 s (see fastconv.benchmark.models).
DEFAULT_MODEL_ROUNDS = 3
# --quick trains on this many times fewer images per epoch (whole batches).
QUICK_EPOCH_DIVISOR = 16


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
                   help=f"batches {QUICK_BATCH_DIVISOR} times smaller and epochs "
                        f"{QUICK_EPOCH_DIVISOR} times shorter: the run takes a minute")
    p.add_argument("--torch", action="store_true",
                   help="add PyTorch's CPU numbers (skipped with a note if torch is absent)")
    p.add_argument("--scaling", action="store_true",
                   help="also time fastconv's kernels on one thread (the threads column)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--shapes", nargs="+", choices=SHAPE_NAMES, metavar="NAME",
                   help=f"only these shapes, among: {' '.join(SHAPE_NAMES)}")
    p.add_argument("--groups", nargs="+", choices=GROUPS, metavar="GROUP",
                   help=f"only the shapes of these groups (with --shapes: those too), "
                        f"among: {' '.join(GROUPS)}")
    p.add_argument("--models", nargs="*", choices=MODEL_NAMES, metavar="NAME",
                   help=f"only these models, among: {' '.join(MODEL_NAMES)} "
                        "(no name: no model benchmark)")
    p.add_argument("--skip-kernels", action="store_true", help="only the model benchmark")
    p.add_argument("--images", type=int, metavar="N",
                   help="training images per epoch of every model (default: each "
                        "model's own, a full MNIST epoch for the tutorial CNNs)")
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
        args.models = [] if args.shapes or args.groups else MODEL_NAMES
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
    for shape in select(args.shapes, args.quick, args.groups):
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
    """Time training epochs of each selected model; print its table; return records."""
    specs = [spec for spec in _models.MODELS if spec.name in args.models]
    images = {spec.name: args.images or spec.epoch_images(
        QUICK_EPOCH_DIVISOR if args.quick else 1) for spec in specs}
    x, y, source = _models.training_data(max(images.values()))
    with_torch = torch_baseline is not None
    print(f"\n**Training** on the first images of {source}, median of {args.model_rounds} "
          f"epochs\n")
    print(_report.model_table_head(with_torch), flush=True)
    records = []
    for spec in specs:
        xs, ys = x[:images[spec.name]], y[:images[spec.name]]
        candidates = {_cases.FASTCONV: _models.fastconv_epoch(spec, xs, ys)}
        if torch_baseline:
            candidates[_cases.TORCH_PREFIX + "NCHW"] = torch_baseline.model_epoch(spec, xs, ys)
        times = interleaved_times(candidates, args.model_rounds, budget=float("inf"))
        records.append(_report.model_record(spec, len(xs), times))
        print(_report.model_row(spec, len(xs), times, with_torch), flush=True)
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
