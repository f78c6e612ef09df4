"""pytest-benchmark suite: fastconv's kernels and the NumPy reference, shape by shape.

Run with `pytest bench/` (the default test run only collects tests/). Batches are the
quick ones of fastconv/benchmark/shapes.py so the suite takes seconds. pytest-benchmark times one
implementation after the other, not interleaved: on a shared machine whose speed drifts,
compare with `python bench/run.py`, which alternates them round by round.
"""
import pytest

from fastconv.benchmark import cases as _cases
from fastconv.benchmark.shapes import SHAPES, quick

# Timed calls per benchmark, after one warm-up: the reference's slowest quick call takes
# tens of milliseconds, so the suite stays short.
BENCH_ROUNDS = 5

CASES = [case for shape in SHAPES for case in _cases.cases(quick(shape), "float32")]


@pytest.mark.parametrize("case, label", [
    pytest.param(case, label, id=f"{case.shape.name}-{case.pass_name}-{label}")
    for case in CASES for label in case.candidates])
def test_kernel(benchmark, case, label):
    benchmark.group = f"{case.shape.label} {case.pass_name}"
    benchmark.pedantic(case.candidates[label], rounds=BENCH_ROUNDS, warmup_rounds=1)
    if benchmark.stats:  # None under --benchmark-disable, which only runs each call once
        rate = case.work / benchmark.stats.stats.median / 1e9
        benchmark.extra_info[case.unit] = round(rate, 2)
