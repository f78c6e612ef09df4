"""Data-parallel scaling of the tutorial CNNs: one training epoch on MNIST, timed, and
the efficiency a ring allreduce predicts for P machines from the measured step time.

    OMP_NUM_THREADS=2 python bench/mpi_scaling.py             # 1 process x 2 threads
    OMP_NUM_THREADS=1 mpiexec -n 2 python bench/mpi_scaling.py # 2 processes x 1 thread

Prints per model: the epoch time, the time per step, the bytes of the fused gradient
buffer each rank allreduces per step, and (from a one-process run) the predicted
efficiency on P = 2..64 machines, each training its share `--batch-size` of a global
batch P x batch-size (weak scaling, the way data-parallel jobs grow) over links of
`--gbits` Gbit/s. The model: a ring allreduce sends and receives 2(P-1)/P of the buffer
per rank, plus 2(P-1) message latencies of `--latency-us`; nothing overlaps the backward
pass (fastconv allreduces after it); compute per step stays the measured one.
"""
import argparse
import time

import numpy as np

from fastconv import datasets, distribute
from fastconv.benchmark.models import MODELS

MACHINES = (2, 4, 8, 16, 32, 64)


def ring_allreduce_seconds(nbytes, machines, gbits, latency_s):
    steps = 2 * (machines - 1)
    return steps / machines * nbytes * 8 / (gbits * 1e9) + steps * latency_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="train on N images only")
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--gbits", type=float, default=10.0)
    parser.add_argument("--latency-us", type=float, default=50.0)
    args = parser.parse_args()

    strategy = distribute.MPIStrategy()
    with strategy.chief_first():
        (x, y), _ = datasets.mnist.load_data()
    x, y = (x[:args.limit].astype("float32") / 255)[..., None], y[:args.limit]
    y = np.eye(10, dtype=np.float32)[y]
    for spec in MODELS:
        np.random.seed(0)
        with strategy.scope():
            model = spec.fastconv_model()
        model.fit(x[:args.batch_size * 2], y[:args.batch_size * 2],
                  batch_size=args.batch_size, epochs=1, verbose=0)  # warm-up
        strategy.barrier()
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
        steps = -(-len(x) // args.batch_size)
        nbytes = strategy.gradient_bytes_per_step(model)
        if not strategy.is_chief:
            continue
        print(f"{spec.name}: {strategy.num_replicas_in_sync} process(es), {len(x)} images, "
              f"batch {args.batch_size}: epoch {seconds:.2f} s, {seconds / steps * 1e3:.1f} ms "
              f"per step, {nbytes} bytes allreduced per step per rank")
        if strategy.num_replicas_in_sync == 1:
            step = seconds / steps
            latency = args.latency_us * 1e-6
            efficiency = {p: step / (step + ring_allreduce_seconds(nbytes, p, args.gbits,
                                                                   latency))
                          for p in MACHINES}
            predicted = ", ".join(f"P={p}: {e:.3f}" for p, e in efficiency.items())
            print(f"  predicted efficiency over {args.gbits:g} Gbit/s: {predicted}")


if __name__ == "__main__":
    main()
