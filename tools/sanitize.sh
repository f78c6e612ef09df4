#!/usr/bin/env bash
# Build fastconv's kernels with AddressSanitizer + UndefinedBehaviorSanitizer in a scratch
# copy of this checkout, and run the test suite (or the pytest arguments given) on them.
#
#   tools/sanitize.sh                      # the default suite, but for two tests (below)
#   tools/sanitize.sh tests/test_conv.py   # any pytest arguments
#
# Left out by default, as they cannot pass under ASan whatever the code: tests/test_leaks.py
# (ASan keeps freed memory in quarantine, so RSS grows by design) and
# test_fastconv_kernel_environment_variable (it runs Python with an environment of its own,
# without the LD_PRELOAD that ASan needs).
#
# How: setup.py's FASTCONV_SANITIZE=address,undefined adds -fsanitize=address,undefined
# -fno-omit-frame-pointer -g. Python itself is not instrumented, so the ASan runtime must
# be loaded first: LD_PRELOAD=libasan (and libubsan), found with gcc -print-file-name.
# Settings:
#   ASAN_OPTIONS=detect_leaks=0   Python keeps its interned objects and module state
#                                 until exit; LeakSanitizer would report them all (leaks
#                                 of the kernels are measured by tests/test_leaks.py).
#   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1  with -fno-sanitize-recover=undefined
#                                 (in CFLAGS) the first undefined behaviour ends the run.
# The run fails if pytest fails or any "runtime error:" / "ERROR: AddressSanitizer" line
# appears; the full log is left in the scratch directory, whose path is printed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/fastconv-sanitize.XXXXXX)"
echo "scratch copy: $work"
# Tracked and new (not ignored) files, as they are in the working tree.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
    | xargs -0 cp --parents -t "$work" 2>/dev/null || true)
cd "$work"
export FASTCONV_SANITIZE=address,undefined
export CFLAGS="${CFLAGS:-} -fno-sanitize-recover=undefined"  # setuptools adds $CFLAGS
python setup.py build_ext --inplace >build.log 2>&1 || { tail -20 build.log; exit 1; }
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ "$#" -eq 0 ]; then
    set -- --ignore=tests/test_leaks.py \
        --deselect=tests/test_errors.py::test_fastconv_kernel_environment_variable
fi
status=0
PYTHONPATH="$work" python -m pytest -q -p no:cacheprovider "$@" >test.log 2>&1 || status=$?
unset LD_PRELOAD
tail -3 test.log
if grep -E "runtime error:|ERROR: AddressSanitizer" test.log; then
    echo "sanitizer reports: see $work/test.log"
    exit 1
fi
echo "no sanitizer reports; pytest exit code $status (log: $work/test.log)"
exit "$status"
