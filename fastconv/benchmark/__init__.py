"""fastconv's benchmark, shipped with the package so `fastconv bench` works after a plain
install: kernels against the NumPy reference (and PyTorch where importable), side by side.

`python bench/run.py` in a checkout and `python -m fastconv.benchmark.run` run it too.
"""
