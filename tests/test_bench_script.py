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
