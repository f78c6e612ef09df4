"""`pytest bench/` from a checkout built in place, like `python bench/run.py`."""
import _checkout

_checkout.make_fastconv_importable()
