"""bench/run.py must not rot: one quick run of one small shape, in a subprocess."""
import json
import subprocess
import sys
from pathlib import Path

from child_process import child_env

RUN_PY = Path(__file__).resolve().parents[1] / "bench" / "run.py"
SMALL_SHAPE = "mnist-c2-5x5"


def test_quick_run_prints_a_table_and_saves_json(tmp_path):
    # The script must import the fastconv these tests import (installed or built in place).
    env = child_env()
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(RUN_PY), "--quick", "--rounds", "1", "--shapes", SMALL_SHAPE,
         "--json", str(out_json)],
        capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(f"| `{SMALL_SHAPE}`")]
    assert [row.split(" | ")[1] for row in rows] == [
        "forward", "backward-input", "backward-weight", "backward-all"]
    results = json.loads(out_json.read_text())["results"]
    assert {r["pass"] for r in results} == {"forward", "backward-input", "backward-weight",
                                            "backward-all"}


def test_model_benchmark_and_chart(tmp_path):
    """One short epoch of one model, and the chart of a kernel case plus that model."""
    env = child_env()
    chart = tmp_path / "chart.png"
    proc = subprocess.run(
        [sys.executable, str(RUN_PY), "--quick", "--rounds", "1", "--shapes", "pool-24",
         "--models", "tutorial", "--images", "256", "--model-rounds", "1",
         "--chart", str(chart)],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| `tutorial`"))
    images, batch, seconds, images_per_s = (
        float(cell) for cell in row.strip(" |").split(" | ")[1:5])
    assert (images, batch) == (256, 128)
    # seconds is printed to 3 significant digits, images/s from the exact time.
    assert seconds > 0 and abs(images_per_s * seconds / 256 - 1) < 0.2
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


COMPARE_BUILDS_PY = RUN_PY.parent / "compare_builds.py"


def test_compare_builds_against_a_copy_of_itself(tmp_path):
    """The build under test compared with itself, loaded a second time under another name:
    both builds' rows are printed and their outputs agree."""
    import fastconv
    proc = subprocess.run(
        [sys.executable, str(COMPARE_BUILDS_PY), str(Path(fastconv.__file__).parent),
         "--quick", "--rounds", "2", "--shapes", SMALL_SHAPE, "pool-24"],
        capture_output=True, text=True, env=child_env(), timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert [(r[0], r[1]) for r in rows] == [
        (f"| `{SMALL_SHAPE}`", "forward"), (f"| `{SMALL_SHAPE}`", "backward-all"),
        ("| `pool-24`", "forward"), ("| `pool-24`", "backward")]
    assert all(float(r[4]) > 0 for r in rows)


def test_compare_builds_renames_every_form_of_import():
    from fastconv.benchmark.compare_builds import rename_imports
    source = ("import fastconv\nimport fastconv.reference\nfrom fastconv import ops\n"
              "    from fastconv.ops import conv2d\nimport fastconv.ops as ops\n"
              "import fastconvx\nx = 'fastconv.Sequential'\n")
    assert rename_imports(source) == (
        "import fastconv_base as fastconv\n"
        "import fastconv_base.reference; fastconv = fastconv_base\n"
        "from fastconv_base import ops\n    from fastconv_base.ops import conv2d\n"
        "import fastconv_base.ops as ops\nimport fastconvx\nx = 'fastconv.Sequential'\n")
