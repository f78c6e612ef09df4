"""What installing and importing fastconv costs: `import fastconv` loads no optional or
download code, the compiled modules carry no debug sections, and an installed package
holds no build leftovers (Cython's generated .c, the .pyx and .h sources)."""
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import fastconv
from child_process import child_env

PACKAGE_DIR = Path(fastconv.__file__).resolve().parent
IN_SOURCE_TREE = (PACKAGE_DIR.parent / "setup.py").exists()

# Modules `import fastconv` must not load: optional extras, downloaders, and the
# Keras-style API, which is imported on first use.
NOT_AT_IMPORT = ["onnx", "onnxruntime", "matplotlib", "threadpoolctl", "urllib.request",
                 "fastconv.datasets", "fastconv.export", "fastconv.models"]


def test_import_loads_only_the_kernels_and_the_api_follows_on_use(tmp_path):
    script = (f"import sys, fastconv\n"
              f"print([m for m in {NOT_AT_IMPORT!r} if m in sys.modules])\n"
              f"print(fastconv.layers.Conv2D.__name__, fastconv.datasets.mnist.__name__,\n"
              f"      'models' in dir(fastconv))\n")
    out = subprocess.run([sys.executable, "-c", script], env=child_env(), cwd=tmp_path,
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.splitlines() == ["[]", "Conv2D fastconv.datasets.mnist True"]
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        fastconv.nonexistent


def elf_section_names(path):
    """The section names of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_offset = headers[shstrndx][4]
    return [data[strtab_offset + name:data.index(b"\0", strtab_offset + name)].decode()
            for name, *_ in headers]


COMPILED = sorted(PACKAGE_DIR.glob("_kernels/*.so"))


@pytest.mark.skipif(not sys.platform.startswith("linux") or not COMPILED,
                    reason="ELF modules (Linux) only")
@pytest.mark.parametrize("module", COMPILED, ids=lambda p: p.name.split(".")[0])
def test_compiled_modules_have_no_debug_sections(module):
    if module.read_bytes()[:6] != b"\x7fELF\x02\x01":
        pytest.skip("not a 64-bit little-endian ELF file")
    names = elf_section_names(module)
    assert ".text" in names
    assert not [name for name in names if name.startswith(".debug")]


@pytest.mark.skipif(IN_SOURCE_TREE, reason="an in-place build sits beside its sources")
def test_installed_package_holds_no_build_leftovers():
    leftovers = [p.name for pattern in ("*.c", "*.pyx", "*.pxd", "*.pxi", "*.h")
                 for p in PACKAGE_DIR.rglob(pattern)]
    assert leftovers == []
