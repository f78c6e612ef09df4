"""Size limits of a kernel call: the kernels' C index type and this process's memory.

A call whose counts overflow the C `long` the kernels index with, or whose arrays cannot
fit in memory, fails here in Python, before any allocation or nogil code.
"""
import functools
import os
import resource

import numpy as np

# The kernels index arrays with C `long` (the Cython drivers) and allocate sizeof(T) * count
# bytes: every element count, offset and byte count they form must stay below this.
C_INDEX_MAX = int(np.iinfo(np.dtype("l")).max)
# Overflow checks use the widest element (float64); memory checks the narrowest
# (float32), so that they reject only calls that cannot fit whatever the dtype.
MAX_ITEMSIZE = np.dtype(np.float64).itemsize
MIN_ITEMSIZE = np.dtype(np.float32).itemsize
# A cgroup (container) memory limit, when there is one.
CGROUP_MEMORY_MAX = "/sys/fs/cgroup/memory.max"


@functools.lru_cache(maxsize=None)
def _machine_memory():
    """Physical memory, or a container's (cgroup) limit when lower; read once."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open(CGROUP_MEMORY_MAX) as f:
            value = f.read().strip()
    except OSError:
        return limit
    return min(limit, int(value)) if value.isdigit() else limit


def memory_limit():
    """Bytes this process may use at most: the machine's memory, or the address-space
    rlimit when that is lower (it may change at run time, so it is read every time)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    machine = _machine_memory()
    return machine if soft == resource.RLIM_INFINITY else min(machine, soft)


def check_sizes(what, counts):
    """Raise before any allocation if the arrays of a call do not fit.

    counts: {array name: element count} of arrays the call holds at the same time, a
    lower bound of its footprint. ValueError if one count's bytes overflow the C index
    type; MemoryError if together, as float32, they exceed memory_limit().
    """
    for name, count in counts.items():
        if count * MAX_ITEMSIZE > C_INDEX_MAX:
            raise ValueError(f"{what}: {name} would hold {count} elements; their bytes "
                             f"exceed the kernels' C index limit ({C_INDEX_MAX})")
    needed, limit = sum(counts.values()) * MIN_ITEMSIZE, memory_limit()
    if needed > limit:
        sizes = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise MemoryError(f"{what} needs at least {needed / 2**30:.1f} GiB ({sizes} "
                          f"elements), more than the {limit / 2**30:.1f} GiB this process "
                          f"may use")
