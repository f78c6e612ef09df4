"""mpi4py, imported on first use of the distributed API, with the command that installs it."""

INSTALL_HINT = ('pip install "fastconv[mpi]"  (or: pip install mpi4py mpich)')


def import_mpi():
    """mpi4py's MPI module; ImportError naming the install command when it is missing."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"fastconv.distribute needs mpi4py and an MPI library: "
                          f"{INSTALL_HINT}. ({exc})") from exc
    return MPI
