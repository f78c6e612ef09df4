"""Data-parallel training over MPI (tf.distribute's shape, Horovod's design).

    strategy = fastconv.distribute.MPIStrategy()
    with strategy.scope():
        model = ...; model.compile(...)
    model.fit(x, y, batch_size=256)      # 256 is the global batch, split over the ranks

The same script runs as one process and under `mpiexec -n P python script.py`. Needs the
`mpi` extra (`pip install "fastconv[mpi]"`: mpi4py and MPICH from PyPI); fastconv imports
and trains without it.
"""
from fastconv.distribute.context import get_strategy, has_strategy, launched_under_mpi
from fastconv.distribute.strategy import MPIStrategy

__all__ = ["MPIStrategy", "get_strategy", "has_strategy", "launched_under_mpi"]
