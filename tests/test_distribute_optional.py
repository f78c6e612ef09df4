"""fastconv without the mpi extra: it imports and trains; the distributed API says how to
install what it needs. And the launch detection behind `fastconv train` under mpiexec."""
import sys

import numpy as np
import pytest

import fastconv
from fastconv import layers
from fastconv.distribute import context, launched_under_mpi


def test_without_mpi4py_fastconv_trains_and_the_strategy_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    model = fastconv.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    with pytest.raises(ImportError, match=r'pip install "fastconv\[mpi\]"'):
        fastconv.distribute.MPIStrategy()


@pytest.mark.parametrize("variables, expected", [
    ({}, False), ({"PMI_SIZE": "1"}, False), ({"PMI_SIZE": "4"}, True),
    ({"OMPI_COMM_WORLD_SIZE": "2"}, True)])
def test_launched_under_mpi_reads_the_launcher_environment(monkeypatch, variables, expected):
    for name in context._WORLD_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert launched_under_mpi() is expected


def test_a_model_belongs_to_the_strategy_whose_scope_made_it():
    marker = object()
    with context.strategy_scope(marker):
        assert context.get_strategy() is marker and context.has_strategy()
    assert context.get_strategy() is None
