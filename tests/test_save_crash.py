"""Nothing lost: a process killed (SIGKILL) while saving leaves the previous model file
intact; training resumed from a checkpoint continues bitwise; a model file cannot run
code when loaded."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from child_process import child_env
from fastconv import callbacks, layers, models, optimizers

KILLS = 12
# Seconds the saver may take to write its first file (imports, building the model).
START_TIMEOUT = 60

SAVER = """
import sys
import numpy as np
from fastconv import layers, models
np.random.seed(0)
# ~16 MiB of weights: each save takes long enough to be killed in the middle of it.
model = models.Sequential([layers.Dense(2048, input_shape=(2048,)), layers.Dense(10)])
model.compile("adam", "mse")
path, version = sys.argv[1], 0
while True:
    version += 1
    model.layers[1].params["bias"][:] = version  # which save a file came from
    model.save(path)
    print(version, flush=True)
"""


def saved_version(path):
    return int(models.load_model(path).layers[1].params["bias"][0])


def test_sigkill_during_save_leaves_a_loadable_file(tmp_path, watchdog):
    watchdog(KILLS * START_TIMEOUT)
    path = tmp_path / "model.npz"
    rng = np.random.default_rng(0)
    versions = []
    for _ in range(KILLS):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)],
                                 stdout=subprocess.PIPE, text=True, env=child_env(),
                                 cwd=tmp_path)
        try:
            assert saver.stdout.readline(), "the saver wrote no file"  # >= 1 complete save
            time.sleep(rng.uniform(0, 0.3))  # then kill it at a random point of a save
        finally:
            saver.send_signal(signal.SIGKILL)
            saver.wait(START_TIMEOUT)
            saver.stdout.close()
        versions.append(saved_version(path))  # intact: loads, weights from one save
    leftovers = [f for f in os.listdir(tmp_path) if f != "model.npz"]
    print(f"{KILLS} kills, {len(leftovers)} in the middle of a save; versions: {versions}")
    # A kill between mkstemp and os.replace leaves its temporary file (never the model).
    assert all(f.startswith(".fastconv-") and f.endswith(".tmp") for f in leftovers)


def checkpointed_model():
    np.random.seed(3)
    model = models.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                               layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.2),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    return model


def test_resuming_from_a_checkpoint_is_bitwise_identical(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((48, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, 48)
    straight = checkpointed_model()
    straight.fit(x, y, batch_size=16, epochs=2, verbose=0)
    first = checkpointed_model()
    first.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "ckpt.npz"))])
    resumed = models.load_model(tmp_path / "ckpt.npz")
    assert resumed.epoch == 1
    resumed.fit(x, y, batch_size=16, epochs=2, initial_epoch=resumed.epoch, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


class Boom:
    """Unpickling this would run code: the loader must never unpickle."""

    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_a_pickled_object_in_a_model_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    checkpointed_model().save("m.npz")
    with np.load("m.npz", allow_pickle=False) as data:
        arrays = dict(data)
    arrays["weight_0"] = np.array([Boom()], dtype=object)
    np.savez("evil.npz", **arrays)
    with pytest.raises(ValueError, match="evil.npz"):
        models.load_model("evil.npz")
    assert not os.path.exists("pwned.txt")
