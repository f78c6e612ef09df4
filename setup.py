"""Build fastconv's Cython kernels with -O3 and, when the compiler supports it, OpenMP.

OpenMP is probed by compiling *and running* a tiny program; if that fails (or
FASTCONV_NO_OPENMP=1 is set) the kernels are built serial and a warning says so.
No -march=native: faster instruction sets are chosen at run time by the kernels.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools._distutils.ccompiler import new_compiler
from setuptools._distutils.sysconfig import customize_compiler

OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("%d\n", n);
    return n > 0 ? 0 : 1;
}
"""

# Flag sets to try, in order: GCC/Clang on Linux, then Apple Clang with libomp; MSVC's
# own (its OpenMP runtime, vcomp, is linked by /openmp itself).
OPENMP_FLAG_SETS = [
    (["-fopenmp"], ["-fopenmp"]),
    (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
]
MSVC_OPENMP_FLAG_SETS = [(["/openmp"], [])]

# Linux only: keep the symbols Python needs (the dynamic table), drop the debug sections
# (about 80% of each module: 3.5 MB -> 0.6 MB for the three). macOS and Windows keep
# debug information outside the module (.dSYM, .pdb) already.
STRIP_LINK_ARGS = ["-s"] if sys.platform.startswith("linux") else []


def probe_openmp():
    """Return (compile_args, link_args) that build and run an OpenMP program, or None."""
    compiler = new_compiler()
    customize_compiler(compiler)
    tmp = tempfile.mkdtemp(prefix="fastconv-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        flag_sets = MSVC_OPENMP_FLAG_SETS if compiler.compiler_type == "msvc" else OPENMP_FLAG_SETS
        for cflags, lflags in flag_sets:
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                exe = os.path.join(tmp, "probe")
                compiler.link_executable(objs, exe, extra_postargs=lflags)
                subprocess.run([exe], check=True, capture_output=True, timeout=60)
                return cflags, lflags
            except Exception:  # any failure means "this flag set does not work"
                continue
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def openmp_flags():
    if os.environ.get("FASTCONV_NO_OPENMP", "") not in ("", "0"):
        warnings.warn("FASTCONV_NO_OPENMP is set: building fastconv without OpenMP (serial kernels)")
        return [], [], False
    found = probe_openmp()
    if found is None:
        msg = ("fastconv: the C compiler cannot build and run an OpenMP program; building serial "
               "kernels. On macOS: brew install libomp (see README, Installation).")
        warnings.warn(msg)
        print("WARNING: " + msg, file=sys.stderr)
        return [], [], False
    return found[0], found[1], True


def extensions():
    omp_cflags, omp_lflags, have_openmp = openmp_flags()
    base_cflags = ["-O3", "-std=gnu11", "-fno-strict-aliasing", "-Wno-unknown-pragmas",
                   "-Wno-unused-function"]
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
              ("FASTCONV_HAVE_OPENMP", "1" if have_openmp else "0")]
    sanitize = os.environ.get("FASTCONV_SANITIZE", "")
    san_flags = ["-fsanitize=" + sanitize, "-fno-omit-frame-pointer", "-g"] if sanitize else []
    names = ["_openmp_helpers", "_conv", "_pool", "_warp"]
    # The micro-kernel (C headers) and the drivers' shared Cython (.pxd, .pxi) are
    # compiled into the modules: a change to any of them must rebuild them.
    headers = [path for pattern in ("*.h", "*.pxd", "*.pxi")
               for path in glob.glob(os.path.join("fastconv", "_kernels", pattern))]
    return [
        Extension(
            "fastconv._kernels." + name,
            sources=[os.path.join("fastconv", "_kernels", name + ".pyx")],
            include_dirs=[np.get_include(), os.path.join("fastconv", "_kernels")],
            depends=headers,
            define_macros=macros,
            extra_compile_args=base_cflags + omp_cflags + san_flags,
            extra_link_args=omp_lflags + (san_flags or STRIP_LINK_ARGS),
        )
        for name in names
    ]


setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
