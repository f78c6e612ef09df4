"""Which strategy a model belongs to: the one whose scope() was open when the model was
created or compiled (Keras's rule). Imports nothing from MPI, so the Trainer and the
models can ask without the `mpi` extra installed."""
import contextlib
import functools
import os

__all__ = ["current_strategy", "get_strategy", "has_strategy", "strategy_scope",
           "chief_writes", "launched_under_mpi"]

_stack = []

# Environment variables a process launched by mpiexec finds (MPICH/Hydra, Open MPI, PMIx,
# Slurm's PMI2): the world size, before MPI is initialised.
_WORLD_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def current_strategy():
    """The strategy of the innermost open scope(), or None."""
    return _stack[-1] if _stack else None


def has_strategy():
    """True inside a strategy's scope() (tf.distribute.has_strategy)."""
    return bool(_stack)


def get_strategy():
    """The strategy of the open scope(), or None outside every scope."""
    return current_strategy()


@contextlib.contextmanager
def strategy_scope(strategy):
    _stack.append(strategy)
    try:
        yield strategy
    finally:
        _stack.pop()


def launched_under_mpi():
    """True when this process was started by mpiexec/srun with more than one rank."""
    for name in _WORLD_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value) > 1
    return False


def chief_writes(method):
    """For a model method that writes a file: in a distributed model only the chief
    (rank 0) writes; the other ranks return at once. No collective here, so both
    habits work: every rank calling save (Keras) and `if strategy.is_chief:` (Horovod).
    A rank that must read the file next calls strategy.barrier() first."""
    @functools.wraps(method)
    def write(model, *args, **kwargs):
        strategy = getattr(model, "distribute_strategy", None)
        if strategy is None or strategy.is_chief:
            return method(model, *args, **kwargs)
        return None
    return write
