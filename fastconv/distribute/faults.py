"""A failure on one rank ends the whole job: no rank is left waiting in a collective.

An exception that escapes on any rank is printed with the rank's number, then
MPI_Abort ends every process of the job with a non-zero status (Horovod and
`python -m mpi4py` do the same). A rank that dies without raising (killed, crashed) is
noticed by mpiexec, which ends the others.
"""
import sys
import traceback

__all__ = ["abort_job_on_uncaught_exception", "ABORT_STATUS"]

ABORT_STATUS = 1
_installed = False


def abort_job_on_uncaught_exception(comm):
    """Install the excepthook (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    rank, size = comm.Get_rank(), comm.Get_size()
    previous = sys.excepthook

    def report_and_abort(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            return previous(kind, value, tb)
        try:
            # The summary first, flushed on its own: MPI_Abort can end mpiexec's
            # forwarding of stderr part-way through the traceback (seen in the suite).
            sys.stderr.write(f"fastconv.distribute: rank {rank} of {size} failed with "
                             f"{kind.__name__}: {value}; ending the job on every rank.\n")
            sys.stderr.flush()
            traceback.print_exception(kind, value, tb, file=sys.stderr)
            sys.stderr.flush()
        finally:
            comm.Abort(ABORT_STATUS)

    sys.excepthook = report_and_abort
