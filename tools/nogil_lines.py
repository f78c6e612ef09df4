"""List the lines of the Cython kernels that touch Python, from `cython -a`'s scores.

Usage: python tools/nogil_lines.py   (from the checkout; needs Cython)

Runs `cython -a` on fastconv/_kernels/*.pyx with setup.py's directives into a scratch
folder and prints every line whose annotation score is above zero, file by file. The
drivers' nogil bodies should show none, except the `parallel`/`prange` lines themselves:
Cython wraps each parallel region in one check of the thread state (save and restore of
an unknown GIL state), made once per region, outside the loop.
"""
import html
import pathlib
import re
import subprocess
import sys
import tempfile

KERNELS = pathlib.Path(__file__).resolve().parent.parent / "fastconv" / "_kernels"
DIRECTIVES = "boundscheck=False,wraparound=False,cdivision=True,initializedcheck=False"
LINE = re.compile(r'<pre class="cython line score-(\d+)"[^>]*>\+?<span class="">(\d+)</span>: '
                  r'(.*?)</pre>')


def main():
    with tempfile.TemporaryDirectory() as out:
        for pyx in sorted(KERNELS.glob("*.pyx")):
            subprocess.run([sys.executable, "-m", "cython", "-3", "-a", "-I",
                            str(KERNELS.parent.parent), "--directive", DIRECTIVES, str(pyx),
                            "-o", str(pathlib.Path(out) / (pyx.stem + ".c"))], check=True)
        for page in sorted(pathlib.Path(out).glob("*.html")):
            print(f"== {page.stem}")
            for score, number, code in LINE.findall(page.read_text()):
                if int(score) > 0:
                    text = html.unescape(re.sub("<[^>]+>", "", code))
                    print(f"{int(number):5d}  score {int(score):3d}  {text[:90]}")


if __name__ == "__main__":
    main()
