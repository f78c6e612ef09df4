"""MNIST's CNN trained data-parallel over MPI processes (one machine or several).

    python examples/mnist_distributed.py                      # one process
    mpiexec -n 2 python examples/mnist_distributed.py         # two processes
    mpiexec -n 8 -hosts a,b python examples/mnist_distributed.py --batch-size 512

Needs the mpi extra: pip install "fastconv[mpi]". --batch-size is the global batch:
each of the P processes computes the gradient of batch_size / P images, the gradients
are averaged (MPI allreduce), and every process applies the same update; so the model
trains as one process would with the same batch. Only rank 0 prints and saves.
"""
import argparse
import time

import numpy as np

from fastconv import callbacks, datasets, distribute, optimizers
from fastconv.zoo import halve_from_third_epoch, mnist_cnn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--limit", type=int, default=None, help="use only N training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="save the trained model here (.npz)")
    args = parser.parse_args()

    strategy = distribute.MPIStrategy()
    np.random.seed(args.seed)  # the same on every rank; rank 0's weights are broadcast anyway
    with strategy.chief_first():  # rank 0 downloads; the others then read its cache
        (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_train, x_test = ((x.astype("float32") / 255)[..., None] for x in (x_train, x_test))
    with strategy.scope():
        model = mnist_cnn()
        model.compile(optimizer=optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if strategy.is_chief:
        print(f"{strategy.num_replicas_in_sync} process(es), global batch {args.batch_size}")
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(x_test, y_test),
              callbacks=[callbacks.LearningRateScheduler(halve_from_third_epoch)])
    elapsed = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)  # split over the ranks
    if args.save:
        model.save(args.save)  # rank 0 writes
    if strategy.is_chief:
        print(f"trained {args.epochs} epochs in {elapsed:.1f} s; test loss {loss:.4f}, "
              f"test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
