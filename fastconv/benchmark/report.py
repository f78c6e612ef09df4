"""The benchmark's output: one header line, a Markdown table streamed row by row, notes
saying what each column measures, and the raw numbers as JSON."""
import json

from fastconv.benchmark.cases import FASTCONV, GFLOPS, ONE_THREAD, REFERENCE, TORCH_PREFIX
from fastconv.benchmark.timing import median_ms

MISSING = "—"
# A candidate whose slowest round took this many times its fastest is marked: other work
# on the shared cores disturbed the case (a preempted OpenMP thread holds up every barrier
# for a scheduler tick, ~4 ms), so its median deserves a rerun before it is believed.
NOISY_SPREAD = 2.0
NOISY_MARK = "*"


def header(meta):
    """One line: what ran, where, and against which peak."""
    threads = f"{meta['threads']} thread" + ("s" if meta["threads"] != 1 else "")
    torch = f" · torch {meta['torch']}" if meta["torch"] else ""
    quick = " (quick batches)" if meta["quick"] else ""
    return (f"**fastconv {meta['fastconv']} kernel benchmark** · {meta['date']} · "
            f"{meta['cpu']} ({meta['logical_cpus']} logical CPUs) · {threads} · "
            f"kernel `{meta['kernel_variant']}` · {meta['dtype']} · "
            f"median of {meta['rounds']} rounds{quick} · "
            f"peak {meta['peak_gflops']:.0f} GFLOP/s{torch}")


def table_head(with_torch, scaling=False):
    """The kernel table's first two lines."""
    cols = ["shape", "pass", "algorithm", "fastconv ms", "fastconv rate", "% of peak",
            "reference ms", "speed-up vs reference"]
    if with_torch:
        cols += ["torch ms (format)", "speed-up vs torch"]
    if scaling:
        cols += ["1-thread ms", "threads speed-up"]
    return _head(cols)


def table_row(case, times, meta, with_torch, scaling=False):
    """One Markdown row for a measured Case; `times` is label -> seconds."""
    fast = median_ms(times[FASTCONV])
    rate = case.work / fast / 1e6  # work per ms -> per second, in giga-units
    cells = [f"`{case.shape.name}` {case.shape.label}", case.pass_name, case.algorithm or MISSING,
             _ms_cell(times[FASTCONV], meta["rounds"]),
             f"{_num(rate)} {case.unit}",
             f"{100 * rate / meta['peak_gflops']:.0f}%" if case.unit == GFLOPS else ""]
    ref = times.get(REFERENCE)
    cells += [_ms_cell(ref, meta["rounds"]), _speedup(ref and median_ms(ref), fast)]
    if with_torch:
        label, torch_ms = _best_torch(times)
        cells += [f"{_ms_cell(times[label], meta['rounds'])} ({label[len(TORCH_PREFIX):]})",
                  _speedup(torch_ms, fast)]
    if scaling:
        single = times.get(ONE_THREAD)
        cells += [_ms_cell(single, meta["rounds"]), _speedup(single and median_ms(single), fast)]
    return _line(cells)


def notes(meta, with_torch):
    """What each column measures, as a Markdown list printed under the table."""
    lines = [
        "- **ms**: median wall time of one call, outputs allocated as in the public API. "
        "In each round every implementation is called once, in turn (after one warm-up "
        "call each), so all see the same machine; `[k of R rounds]`: fewer rounds, because "
        f"that implementation's calls used up the {meta['budget_s']:g} s budget. "
        f"`{NOISY_MARK}`: its slowest round took over {NOISY_SPREAD:g}× its fastest (the "
        "shared machine was disturbed): rerun before believing that number.",
        "- **backward-input / backward-weight**: fastconv's dx kernel and its dw+db kernel, "
        "timed separately. The NumPy reference computes dx and dw in one loop, so it is "
        "timed only on **backward-all**: `conv2d_backward` -> (dx, dw, db) for every "
        "implementation, counted as two passes of FLOPs.",
        "- **rate**: convolutions 2·N·OH·OW·KH·KW·C·K FLOPs per pass; % of peak against "
        f"{meta['peak_gflops']:.0f} GFLOP/s ({meta['dtype']}). Pooling: GB/s of the bytes "
        "fastconv moves (forward x + y; backward dy + x + dx).",
        "- **algorithm**: the convolution algorithm fastconv ran for the pass under "
        "`set_conv_algorithm(\"auto\")` (the default): direct, or Winograd's F(2x2,3x3) / "
        "F(4x4,3x3); a Winograd pass's rate counts the direct algorithm's FLOPs.",
        "- **speed-up**: the other's ms / fastconv's ms (above 1: fastconv is faster).",
        "- The NumPy reference runs with NumPy's BLAS on one thread, as fastconv's model "
        "training does: a multi-threaded OpenBLAS pool keeps spinning after each call and "
        "would take the cores from the OpenMP kernels timed next to it.",
    ]
    if meta["scaling"]:
        lines.append(f"- **threads speed-up**: fastconv on one thread / on {meta['threads']}, "
                     "timed in the same rounds.")
    if with_torch:
        lines.append(
            "- **torch**: the faster of NCHW and channels_last (NHWC) memory formats, named "
            "in brackets, same thread count; backward via `aten.convolution_backward`. Its "
            "max-pool backward reuses the forward's argmax indices, as autograd does; "
            "fastconv's recomputes the argmax from x.")
    return "\n".join(lines)


def model_table_head(with_torch):
    """The model table's first two lines."""
    cols = ["model", "images", "batch", "fastconv s/epoch", "fastconv images/s"]
    if with_torch:
        cols += ["torch s/epoch", "torch images/s", "fastconv time / torch time"]
    return _head(cols)


def model_row(spec, images, times, with_torch):
    """One Markdown row of the model table; `times` is label -> seconds per epoch."""
    fast = median_ms(times[FASTCONV]) / 1e3
    cells = [f"`{spec.name}` {spec.description}", str(images), str(spec.batch_size),
             f"{_num(fast)}", f"{images / fast:.0f}"]
    if with_torch:
        _, torch_ms = _best_torch(times)
        torch_s = torch_ms / 1e3
        cells += [f"{_num(torch_s)}", f"{images / torch_s:.0f}", f"{fast / torch_s:.2f}"]
    return _line(cells)


def model_notes(with_torch):
    """What the model table measures."""
    lines = ["- **s/epoch**: median wall time of one `fit(x, y, epochs=1, batch_size=batch)` "
             "on the first `images` training images (shuffling, forward, loss, backward, "
             "optimizer step, accuracy metric), after one warm-up epoch; implementations "
             "alternate epoch by epoch. Every step does the same work, so a shortened epoch "
             "(vgg-bn's) estimates the full epoch's time ratio."]
    if with_torch:
        lines.append("- **torch**: the same layers, optimizer, hyper-parameters and batch size "
                     "in the loop PyTorch tutorials write (NCHW, cross-entropy on logits, no "
                     "metric); below 1 in the last column: fastconv takes less time.")
    return "\n".join(lines)


def model_record(spec, images, times):
    """A model's raw epoch times and medians, for the JSON file and the chart."""
    return {"model": spec.name, "images": images, "batch_size": spec.batch_size,
            "times_s": times,
            "median_ms": {label: median_ms(t) for label, t in times.items()}}


def record(case, times):
    """A Case's raw times (seconds, every round) and medians, for the JSON file."""
    return {"shape": case.shape.name, "label": case.shape.label, "pass": case.pass_name,
            "algorithm": case.algorithm,
            "work": case.work, "unit": case.unit, "times_s": times,
            "median_ms": {label: median_ms(t) for label, t in times.items()}}


def write_json(path, meta, records, model_records=()):
    with open(path, "w") as f:
        json.dump({"meta": meta, "results": records, "models": list(model_records)}, f,
                  indent=1)


def _best_torch(times):
    """(label, median ms) of the fastest torch memory format."""
    return min(((label, median_ms(t)) for label, t in times.items()
                if label.startswith(TORCH_PREFIX)), key=lambda item: item[1])


def _ms_cell(seconds, rounds):
    if not seconds:
        return MISSING
    noisy = NOISY_MARK if max(seconds) > NOISY_SPREAD * min(seconds) else ""
    fewer = f" [{len(seconds)} of {rounds} rounds]" if len(seconds) < rounds else ""
    return _num(median_ms(seconds)) + noisy + fewer


def _speedup(other_ms, fast_ms):
    return f"{_num(other_ms / fast_ms)}×" if other_ms else MISSING


def _num(v):
    """Three significant digits, never in exponent notation."""
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _head(cols):
    return _line(cols) + "\n" + _line(["---"] * len(cols))


def _line(cells):
    return "| " + " | ".join(cells) + " |"
