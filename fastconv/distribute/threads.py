"""Each rank's share of its machine's cores, so that ranks sharing a machine do not
oversubscribe it (P ranks on C cores: C // P OpenMP threads each)."""
import os

from fastconv import config

__all__ = ["share_cores_among_local_ranks"]


def _cores_of_machine():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def share_cores_among_local_ranks(comm, MPI):
    """Set this rank's OpenMP threads to its share of the machine, unless the user chose
    (OMP_NUM_THREADS, or set_num_threads before creating the strategy). Returns the
    number of ranks on this machine."""
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    try:
        local_size = local.Get_size()
    finally:
        local.Free()
    if local_size > 1 and not os.environ.get("OMP_NUM_THREADS") \
            and config._requested_threads is None:
        config.set_num_threads(max(1, _cores_of_machine() // local_size))
    return local_size
