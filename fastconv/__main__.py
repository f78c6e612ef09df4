"""`python -m fastconv ...`: the same as the `fastconv` command."""
from fastconv.cli import run

run()
