#!/usr/bin/env bash
# Run a short workload of every kernel (tools/kernel_workload.py: a few calls each, both
# dtypes, padded and strided, all micro-kernel variants this CPU has) under valgrind
# memcheck, on the build this checkout imports (python setup.py build_ext --inplace first).
#
#   tools/valgrind.sh   # prints memcheck's ERROR SUMMARY and how many error contexts pass
#                       # through fastconv's modules (valgrind_contexts.py); exit 1 if any
#
# Settings: PYTHONMALLOC=malloc makes Python use malloc directly, so memcheck sees every
# allocation (pymalloc's arenas otherwise look like uninitialised reads). One OpenMP thread
# keeps the run short and the report free of libgomp's thread-pool internals. Leak checking
# is off: Python keeps its objects until exit (tests/test_leaks.py measures the kernels').
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
log="$(mktemp /tmp/fastconv-valgrind.XXXXXX.log)"
# The interpreter itself: `python` may be a wrapper script (pyenv), which memcheck would
# check instead.
python="$(python -c 'import sys; print(sys.executable)')"
PYTHONMALLOC=malloc OMP_NUM_THREADS=1 PYTHONPATH="$repo" \
    valgrind --tool=memcheck --error-exitcode=0 --leak-check=no --track-origins=yes \
    --log-file="$log" "$python" "$repo/tools/kernel_workload.py"
grep "ERROR SUMMARY" "$log"
echo "log: $log"
"$python" "$repo/tools/valgrind_contexts.py" "$log"
