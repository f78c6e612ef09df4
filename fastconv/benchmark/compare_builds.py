"""Two fastconv builds side by side in one process: this one and another (a release, or
main before a change), their public calls taking turns round by round on the same arrays.

    python bench/compare_builds.py ../fastconv-0.1.0             # classic and pool shapes
    python bench/compare_builds.py ../old --shapes pool-24 mnist-c1-3x3 --rounds 61

Why one process: the machine is shared and its speed drifts by up to 2x over minutes.
Two runs of bench/run.py, one per build, measure two moments of that drift even when
they alternate; here every round calls both builds back to back (which one goes first
alternates), so both see the same moment. The table gives each build's median time and
the median of the per-round ratios with its quartiles: a ratio whose quartiles straddle
1 is not a measured difference.

What is compared is the public API every version has: conv2d / conv3d / conv2d_transpose
forward and backward (backward-all: dx, dw and db in one call), pool2d forward and
backward, with only the arguments a shape needs; a shape the other build cannot run is
skipped with a note. Both builds' outputs must agree (to float rounding) or the row says so.

OTHER is a checkout built in place (`python setup.py build_ext --inplace`) or a directory
holding an installed fastconv package. Its package is copied to a temporary directory as
`fastconv_base`, its `fastconv` imports renamed; its compiled extensions load unchanged.
"""
import argparse
import datetime
import importlib
import math
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

import fastconv
from fastconv.benchmark.cases import random_inputs
from fastconv.benchmark.shapes import CLASSIC, GROUPS, POOLING, SHAPE_NAMES, ConvShape, select
from fastconv.benchmark.timing import interleaved_times

ALIAS = "fastconv_base"
DEFAULT_ROUNDS = 31
THIS, BASE = "this", "base"

# `from fastconv...` and `import fastconv[.sub] [as name]` at the start of a line.
_FROM_IMPORT = re.compile(r"^(\s*)from fastconv(?=[.\s])", re.MULTILINE)
_IMPORT = re.compile(r"^(\s*)import fastconv((?:\.\w+)*)(\s+as\s+\w+)?[ \t]*$", re.MULTILINE)
# Any import of fastconv left after renaming (`import numpy, fastconv` and the like).
_LEFT_OVER = re.compile(r"^\s*(?:from|import)\s+fastconv(?!\w).*$", re.MULTILINE)


def _renamed_import(match):
    indent, submodule, alias = match.groups()
    if alias:
        return f"{indent}import {ALIAS}{submodule}{alias}"
    if submodule:  # `import fastconv.x` binds the name fastconv to the package
        return f"{indent}import {ALIAS}{submodule}; fastconv = {ALIAS}"
    return f"{indent}import {ALIAS} as fastconv"


def rename_imports(source):
    """A module's source with its absolute imports of fastconv pointed at ALIAS."""
    return _IMPORT.sub(_renamed_import, _FROM_IMPORT.sub(rf"\1from {ALIAS}", source))


def find_package(path):
    """The fastconv package directory of OTHER (a checkout or a directory holding it)."""
    path = Path(path).resolve()
    for candidate in (path / "fastconv", path):
        if (candidate / "__init__.py").is_file() and (candidate / "_kernels").is_dir():
            kernels = (candidate / "_kernels").glob("_conv.*")
            if not any(f.suffix in (".so", ".pyd") for f in kernels):
                raise SystemExit(f"{candidate} has no compiled kernels: build it first "
                                 f"(python setup.py build_ext --inplace in its checkout)")
            return candidate
    raise SystemExit(f"no fastconv package in {path} or {path / 'fastconv'}")


def load_other_build(path, workdir):
    """Import OTHER's fastconv as ALIAS from a renamed copy under workdir."""
    copy = Path(workdir) / ALIAS
    shutil.copytree(find_package(path), copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.c", "*.pyx", "*.pxi"))
    for module in copy.rglob("*.py"):
        source = rename_imports(module.read_text())
        if _LEFT_OVER.search(source):  # would mix this build's modules into the other
            raise SystemExit(f"{module.relative_to(copy)}: an import of fastconv this tool "
                             f"cannot rename: {_LEFT_OVER.search(source).group().strip()}")
        module.write_text(source)
    sys.path.insert(0, str(workdir))
    return importlib.import_module(ALIAS)


def _conv_calls(shape, inputs):
    """{pass: fn(module)} of one ConvShape through the public API."""
    x, w, b, dy = (inputs[name] for name in ("x", "w", "b", "dy"))
    args = dict(strides=shape.strides, padding=shape.padding)
    args.update({k: v for k, v in (("dilation", shape.dilation), ("groups", shape.groups))
                 if v != 1})
    name = "conv2d_transpose" if shape.transposed else f"conv{shape.rank}d"
    return {"forward": lambda m: getattr(m, name)(x, w, b, **args),
            "backward-all": lambda m: getattr(m, name + "_backward")(dy, x, w, **args)}


def _pool_calls(shape, inputs):
    x, dy = inputs["x"], inputs["dy"]
    args = (shape.pool, None, "valid", "max")
    return {"forward": lambda m: m.pool2d(x, *args),
            "backward": lambda m: m.pool2d_backward(dy, x, *args)}


def _outputs_agree(a, b):
    """Same results to float rounding (the builds may sum in different orders)."""
    a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    return all(np.allclose(p, q, rtol=1e-3, atol=1e-3 * max(1.0, float(np.abs(p).max())))
               for p, q in zip(a, b))


def _quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return q[0], q[2]


def compare(shapes, other, rounds, dtype="float32", out=sys.stdout):
    """Time every pass of `shapes` in both builds; print a Markdown row per pass as it
    goes; return the rows as dicts."""
    print("| shape | pass | base ms | this ms | this/base | quartiles |", file=out)
    print("| --- | --- | ---: | ---: | ---: | --- |", file=out, flush=True)
    rows = []
    for shape in shapes:
        inputs = random_inputs(shape, np.dtype(dtype), np.random.default_rng(0))
        calls = (_conv_calls if isinstance(shape, ConvShape) else _pool_calls)(shape, inputs)
        for pass_name, call in calls.items():
            try:
                agree = _outputs_agree(call(fastconv), call(other))
            except (AttributeError, TypeError) as exc:  # an API the other build lacks
                print(f"note: {shape.name} {pass_name} skipped: the base build fails: "
                      f"{exc}", file=sys.stderr)
                continue
            times = interleaved_times({THIS: lambda: call(fastconv), BASE: lambda: call(other)},
                                      rounds, math.inf)
            ratios = [t / b for t, b in zip(times[THIS], times[BASE])]
            low, high = _quartiles(ratios)
            row = dict(shape=shape.name, pass_name=pass_name, agree=agree,
                       base_ms=1e3 * statistics.median(times[BASE]),
                       this_ms=1e3 * statistics.median(times[THIS]),
                       ratio=statistics.median(ratios), low=low, high=high)
            rows.append(row)
            flag = "" if agree else " (outputs differ!)"
            print(f"| `{shape.name}` | {pass_name}{flag} | {row['base_ms']:.3g} | "
                  f"{row['this_ms']:.3g} | {row['ratio']:.2f} | {low:.2f}–{high:.2f} |",
                  file=out, flush=True)
    return rows


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("other", metavar="OTHER",
                   help="the other build: a checkout built in place, or a directory "
                        "holding an installed fastconv package")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, metavar="R",
                   help=f"rounds per pass, medians reported (default {DEFAULT_ROUNDS})")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for both builds (default: fastconv.get_num_threads())")
    p.add_argument("--quick", action="store_true", help="batches 16 times smaller")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--shapes", nargs="+", choices=SHAPE_NAMES, metavar="NAME",
                   help=f"only these shapes, among: {' '.join(SHAPE_NAMES)}")
    p.add_argument("--groups", nargs="+", choices=GROUPS, metavar="GROUP",
                   help=f"the shapes of these groups (default: {CLASSIC} {POOLING})")
    args = p.parse_args(argv)
    if args.rounds < 1 or (args.threads is not None and args.threads < 1):
        p.error("--rounds and --threads must be at least 1")
    if not args.shapes and not args.groups:
        args.groups = [CLASSIC, POOLING]
    return args


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fastconv-base-") as workdir:
        other = load_other_build(args.other, workdir)
        threads = args.threads or fastconv.get_num_threads()
        for module in (fastconv, other):
            module.set_num_threads(threads)
        print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}: this = fastconv "
              f"{fastconv.__version__} ({Path(fastconv.__file__).parent}), base = fastconv "
              f"{other.__version__} ({find_package(args.other)}); {threads} threads, "
              f"{args.dtype}, {args.rounds} rounds")
        compare(select(args.shapes, args.quick, args.groups), other, args.rounds, args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
