"""The program the MPI tests run, as one process or under `mpiexec -n P` (not a test).

    python mpi_worker.py train OUT [--resume CKPT] [--epochs E]
    python mpi_worker.py fail OUT raise|kill
    python mpi_worker.py batchnorm OUT

train: a small CNN on fixed random data, fit with a global batch of 24 (97 samples: the
last batch of each epoch holds 1, so rank 1 of 2 has no share of it), validation data,
a ModelCheckpoint per epoch; writes OUT/rank<r>.npz (weights, history, evaluate and
predict results) and appends one line per model write to OUT/writes.log.
batchnorm: one epoch of a model with BatchNormalization; writes OUT/bn<r>.npz (weights,
the rank's OpenMP threads). fail: rank 1 raises (or kills itself) in its 3rd batch.
"""
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

import fastconv
from fastconv import callbacks, layers
from fastconv.distribute import MPIStrategy
from fastconv.models import model_io

SAMPLES, BATCH = 97, 24  # the last batch: 1 sample, rank 1 of 2 has none


def dataset():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(SAMPLES, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    return x, y


def build():
    np.random.seed(3)
    model = fastconv.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=fastconv.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def log_writes(out, rank):
    """Record every model file written, and by which rank."""
    save_model = model_io.save_model

    def logged(model, filepath):
        with open(out / "writes.log", "a") as f:
            f.write(f"{rank} {os.path.basename(filepath)}\n")
        save_model(model, filepath)
    model_io.save_model = logged


def train(out, epochs, resume):
    strategy = MPIStrategy()
    log_writes(out, strategy.rank)
    x, y = dataset()
    with strategy.scope():
        model = fastconv.models.load_model(resume) if resume else build()
        if resume:  # a loaded model is compiled as saved; compiling in scope distributes it
            model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
    checkpoint = callbacks.ModelCheckpoint(str(out / "ckpt-{epoch}.npz"))
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, initial_epoch=model.epoch,
                        validation_data=(x[:30], y[:30]), callbacks=[checkpoint],
                        shuffle=True, verbose=2)
    loss, accuracy = model.evaluate(x, y, batch_size=BATCH, verbose=0)
    np.savez(out / f"rank{strategy.rank}.npz", *model.get_weights(),
             history=json.dumps(history.history), evaluate=np.array([loss, accuracy]),
             predict=model.predict(x, batch_size=BATCH),
             replicas=strategy.num_replicas_in_sync)


class FailOnRankOne(callbacks.Callback):
    def __init__(self, rank, how):
        super().__init__()
        self.rank, self.how = rank, how

    def on_train_batch_begin(self, batch, logs=None):
        if self.rank == 1 and batch == 2:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("rank 1 broke on purpose")


def fail(out, how):
    strategy = MPIStrategy()
    x, y = dataset()
    with strategy.scope():
        model = build()
    model.fit(x, y, batch_size=4, epochs=1000, verbose=0,
              callbacks=[FailOnRankOne(strategy.rank, how)])


def batchnorm(out):
    strategy = MPIStrategy()
    x, y = dataset()
    with strategy.scope():
        np.random.seed(3)
        model = fastconv.Sequential([
            layers.Conv2D(4, 3, input_shape=(8, 8, 1)), layers.BatchNormalization(),
            layers.Flatten(), layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    np.savez(out / f"bn{strategy.rank}.npz", *model.get_weights(),
             threads=fastconv.get_num_threads())


if __name__ == "__main__":
    task, out = sys.argv[1], Path(sys.argv[2])
    if task == "train":
        epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 2
        resume = sys.argv[sys.argv.index("--resume") + 1] if "--resume" in sys.argv else None
        train(out, epochs, resume)
    elif task == "batchnorm":
        batchnorm(out)
    else:
        fail(out, sys.argv[3])
