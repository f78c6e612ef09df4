"""fastconv.distribute: data-parallel training under `mpiexec -n 2` against one process.

The MPI runs are subprocesses (tests/mpi_worker.py) with a timeout; they need mpi4py and
an MPI launcher (the `mpi` extra, installed by the `test` extra).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from child_process import child_env

mpi4py = pytest.importorskip("mpi4py", reason="the mpi extra (mpi4py, mpich) is not installed")

WORKER = str(Path(__file__).with_name("mpi_worker.py"))
# A job that must end (a failing rank, a whole training run) ends well within this.
JOB_SECONDS = 60
# Two ranks sum the per-rank gradients in another order than one process sums the
# per-sample ones: after 10 Adam steps the weights differ by at most 4.5e-8 (measured).
WEIGHT_TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def mpiexec():
    """The launcher beside this interpreter (a venv's bin), else the one on PATH."""
    found = (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
             or shutil.which("mpiexec"))
    assert found, "mpi4py is installed but no mpiexec was found (pip install mpich)"
    return found


def run(args, cwd, processes=None, omp_threads="1"):
    """Run the worker (under mpiexec -n processes); omp_threads None: leave the threads
    to fastconv (OMP_NUM_THREADS unset)."""
    command = [sys.executable, WORKER, *map(str, args)]
    if processes:
        command = [mpiexec(), "-n", str(processes)] + command
    env = child_env()
    env.pop("OMP_NUM_THREADS", None)
    if omp_threads:
        env["OMP_NUM_THREADS"] = omp_threads
    start = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=JOB_SECONDS)
    return done, time.monotonic() - start


def train(out, processes=None, *extra):
    out.mkdir()
    done, _ = run(["train", out, *extra], out, processes)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def results(out, rank=0):
    with np.load(out / f"rank{rank}.npz") as f:
        weights = [f[f"arr_{i}"] for i in range(len([k for k in f.files if k.startswith("arr_")]))]
        return dict(weights=weights, history=json.loads(str(f["history"])),
                    evaluate=f["evaluate"], predict=f["predict"], replicas=int(f["replicas"]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("mpi")
    one, two, resumed = base / "one", base / "two", base / "resumed"
    single_output = train(one).stdout
    two_output = train(two, 2).stdout
    train(resumed, None, "--resume", two / "ckpt-1.npz", "--epochs", 2)
    return dict(one=one, two=two, resumed=resumed, two_output=two_output,
                single_output=single_output)


def test_two_processes_train_the_model_one_process_trains(runs):
    one, two = results(runs["one"]), results(runs["two"])
    assert one["replicas"] == 1 and two["replicas"] == 2
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(b, a, **WEIGHT_TOLERANCE)
    assert one["history"]["loss"][1] < one["history"]["loss"][0]  # it did train


def test_every_rank_ends_with_the_same_weights(runs):
    rank0, rank1 = results(runs["two"], 0), results(runs["two"], 1)
    for a, b in zip(rank0["weights"], rank1["weights"]):
        np.testing.assert_array_equal(a, b)


def test_losses_and_metrics_are_averaged_over_ranks(runs):
    one, two = results(runs["one"]), results(runs["two"])
    for rank in (0, 1):
        two = results(runs["two"], rank)
        assert two["history"].keys() == one["history"].keys()
        for key, values in one["history"].items():
            # accuracy is a count over all 97 samples: a rank's own would differ
            np.testing.assert_allclose(two["history"][key], values, rtol=1e-5, err_msg=key)
        np.testing.assert_allclose(two["evaluate"], one["evaluate"], rtol=1e-5)
        # predict: each rank's share, gathered in order on every rank
        np.testing.assert_allclose(two["predict"], one["predict"], atol=1e-6)


def test_only_the_chief_prints_and_writes_checkpoints(runs):
    writes = (runs["two"] / "writes.log").read_text().split("\n")
    assert [w for w in writes if w] == ["0 ckpt-1.npz", "0 ckpt-2.npz"]
    assert runs["two_output"].count("Epoch 2/2") == 1
    assert sorted(p.name for p in runs["two"].glob("ckpt-*")) == ["ckpt-1.npz", "ckpt-2.npz"]


def test_one_process_resumes_from_a_two_process_checkpoint(runs):
    resumed, two = results(runs["resumed"]), results(runs["two"])
    assert resumed["replicas"] == 1
    # epoch 2 from the epoch-1 checkpoint (weights, Adam's state, the shuffling
    # generator) on one process continues the two-process run's epoch 2
    for a, b in zip(two["weights"], resumed["weights"]):
        np.testing.assert_allclose(b, a, **WEIGHT_TOLERANCE)
    np.testing.assert_allclose(resumed["history"]["loss"], two["history"]["loss"][1:],
                               rtol=1e-5)


def test_batchnorm_statistics_agree_and_ranks_share_the_cores(tmp_path):
    done, _ = run(["batchnorm", tmp_path], tmp_path, processes=2, omp_threads=None)
    assert done.returncode == 0, done.stdout + done.stderr
    with np.load(tmp_path / "bn0.npz") as rank0, np.load(tmp_path / "bn1.npz") as rank1:
        for key in rank0.files:  # the moving mean and variance too: one model saved
            np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count()
        assert int(rank0["threads"]) == max(1, cores // 2)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_job_with_an_error(tmp_path, how):
    done, seconds = run(["fail", tmp_path, how], tmp_path, processes=2)
    assert done.returncode != 0
    assert seconds < JOB_SECONDS
    if how == "raise":
        assert "rank 1 of 2 failed with RuntimeError: rank 1 broke on purpose" in done.stderr


def test_one_replica_trains_exactly_as_without_a_strategy():
    from fastconv.distribute import MPIStrategy
    sys.path.insert(0, os.path.dirname(WORKER))
    import mpi_worker
    x, y = mpi_worker.dataset()
    plain = mpi_worker.build()
    plain.fit(x, y, batch_size=24, epochs=1, verbose=0)
    strategy = MPIStrategy()
    with strategy.scope():
        distributed = mpi_worker.build()
    assert distributed.distribute_strategy is strategy and plain.distribute_strategy is None
    distributed.fit(x, y, batch_size=24, epochs=1, verbose=0)
    for a, b in zip(plain.get_weights(), distributed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (strategy.num_replicas_in_sync, strategy.rank, strategy.is_chief) == (1, 0, True)


def test_fastconv_train_under_mpiexec_trains_data_parallel(tmp_path):
    command = [mpiexec(), "-n", "2", sys.executable, "-m", "fastconv", "train", "--dataset",
               "mnist", "--model", "cnn", "--epochs", "1", "--limit", "400", "--batch-size",
               "100", "--save", str(tmp_path / "model.npz")]
    done = subprocess.run(command, cwd=tmp_path, env=child_env(), capture_output=True,
                          text=True, timeout=JOB_SECONDS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("data-parallel over 2 processes (global batch 100)") == 1
    assert done.stdout.count("trained 1 epoch on 400 mnist images") == 1  # the chief's
    assert (tmp_path / "model.npz").is_file()


def test_the_distributed_example_runs_under_mpiexec(tmp_path):
    example = Path(__file__).resolve().parents[1] / "examples" / "mnist_distributed.py"
    if not example.is_file():
        pytest.skip("the examples are not beside the tests (installed package)")
    done = subprocess.run([mpiexec(), "-n", "2", sys.executable, str(example), "--epochs", "1",
                           "--limit", "512", "--save", str(tmp_path / "m.npz")],
                          cwd=tmp_path, env=child_env(), capture_output=True, text=True,
                          timeout=JOB_SECONDS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("2 process(es), global batch 128") == 1
    assert "test accuracy" in done.stdout and (tmp_path / "m.npz").is_file()
