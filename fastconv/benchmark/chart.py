"""The benchmark's bar chart: fastconv's speed-up per kernel case and per model, as PNG.

matplotlib is optional: without it the chart is skipped with a note. Bars show how many
times faster fastconv is than PyTorch (the better memory format) when the run had torch,
else than the NumPy reference; a log scale keeps 0.5× and 2× equally far from 1×.
"""
import sys

from fastconv.benchmark.cases import FASTCONV, REFERENCE, TORCH_PREFIX


def speedups(records, model_records, baseline):
    """[(label, speed-up of fastconv over `baseline`)] for the bars, kernels then models.

    baseline: "torch" or "reference". A case or model without that baseline is left out.
    """
    bars = []
    for r in records:
        other = _baseline_ms(r["median_ms"], baseline)
        if other:
            bars.append((f"{r['shape']} {r['pass']}", other / r["median_ms"][FASTCONV]))
    for r in model_records:
        other = _baseline_ms(r["median_ms"], baseline)
        if other:
            bars.append((f"epoch: {r['model']}", other / r["median_ms"][FASTCONV]))
    return bars


def save(path, meta, records, model_records):
    """Write the chart to `path`; returns False (after a note) when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        print(f"note: matplotlib is not installed, no chart written to {path} "
              "(pip install matplotlib)", file=sys.stderr)
        return False
    baseline = "torch" if meta["torch"] else "reference"
    bars = speedups(records, model_records, baseline)
    fig = Figure(figsize=(8, 0.3 * len(bars) + 1.5))
    ax = fig.add_subplot()
    labels = [label for label, _ in bars]
    values = [value for _, value in bars]
    ax.barh(labels, values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.invert_yaxis()
    against = f"PyTorch {meta['torch']}" if meta["torch"] else "the NumPy reference"
    ax.set_xlabel(f"fastconv speed-up over {against} (above 1: fastconv is faster)")
    ax.set_title(f"fastconv {meta['fastconv']}, {meta['threads']} threads, "
                 f"kernel {meta['kernel_variant']}, {meta['date']}", fontsize=9)
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.2f}×", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"chart written to {path}")
    return True


def _baseline_ms(medians, baseline):
    if baseline == "reference":
        return medians.get(REFERENCE)
    torch = [ms for label, ms in medians.items() if label.startswith(TORCH_PREFIX)]
    return min(torch) if torch else None
