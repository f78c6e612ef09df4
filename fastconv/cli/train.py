"""`fastconv train`: train one of the example models, report, save the model and plots.

Launched by `mpiexec -n P` (P > 1) it trains data-parallel with an MPIStrategy, found
from the launcher's environment: --batch-size is the global batch; rank 0 downloads the
data set (the others wait, then read its cache), prints and saves.
"""
import contextlib
import time
from pathlib import Path

import numpy as np

from fastconv import callbacks, distribute, zoo
from fastconv.cli import data, plots
from fastconv.cli.errors import CLIError
from fastconv.models import data as model_data


def check_output_paths(args):
    """CLIError now, not after training, if --save or --plots cannot be written."""
    if args.save and not Path(args.save).resolve().parent.is_dir():
        raise CLIError(f"cannot save the model to {args.save}: no directory "
                       f"{Path(args.save).resolve().parent}")
    if args.plots:
        if Path(args.plots).exists() and not Path(args.plots).is_dir():
            raise CLIError(f"--plots {args.plots} is a file, not a directory")
        plots.require_matplotlib()


def split_validation(args, x_train, y_train, test):
    """((x_train, y_train), validation data): the test set, as in the examples, or with
    --validation-split the last fraction of the training images (Keras's rule)."""
    if not args.validation_split:
        return (x_train, y_train), test
    try:
        return model_data.validation_split(x_train, y_train, args.validation_split)
    except ValueError as exc:
        raise CLIError(f"--validation-split: {exc}") from None


def save_plots(args, model, history, train, test):
    """Save the pictures into --plots and say which files were written."""
    for path in plots.save_training_plots(args.plots, model, history, *train, *test,
                                          data.CLASS_NAMES[args.dataset]):
        print(f"saved {path}")
    if plots.first_conv_layer(model) is None:
        print(f"({args.model} has no Conv2D layer: no {plots.FILTERS} or "
              f"{plots.FEATURE_MAPS})")


def strategy_for_launch():
    """An MPIStrategy when mpiexec started this process among several, else None."""
    if not distribute.launched_under_mpi():
        return None
    try:
        return distribute.MPIStrategy()
    except ImportError as exc:
        raise CLIError(f"launched by mpiexec with several processes: {exc}") from None


def load_dataset_once(args, strategy):
    """The data set, downloaded by rank 0 alone: the others wait, then read the cache."""
    with strategy.chief_first() if strategy else contextlib.nullcontext():
        return data.load_dataset(args.dataset, args.limit)


def run(args):
    """Train as the arguments say; print the test accuracy and time; return 0."""
    check_output_paths(args)
    np.random.seed(args.seed)
    recipe = zoo.RECIPES[args.model]
    strategy = strategy_for_launch()
    chief = strategy is None or strategy.is_chief
    (train_images, train_labels), (test_images, y_test) = load_dataset_once(args, strategy)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = recipe.build()
    x_test = data.model_inputs(model, test_images, args.dataset)
    (x_train, y_train), validation_data = split_validation(
        args, data.model_inputs(model, train_images, args.dataset), train_labels,
        (x_test, y_test))
    with strategy.scope() if strategy else contextlib.nullcontext():
        model.compile(optimizer=zoo.make_optimizer(args.optimizer or recipe.optimizer, args.lr),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if args.verbose and chief:
        model.summary()
    schedule = [callbacks.LearningRateScheduler(recipe.schedule)] if recipe.schedule else []
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size,
                        epochs=args.epochs or recipe.epochs, verbose=args.verbose,
                        callbacks=schedule, validation_data=validation_data)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    epochs = len(history.epoch)
    if args.save:
        model.save(args.save)  # the chief writes, the others return at once
    if not chief:
        return 0
    if strategy is not None:
        print(f"data-parallel over {strategy.num_replicas_in_sync} processes (global batch "
              f"{args.batch_size})")
    print(f"trained {epochs} epoch{'s' * (epochs != 1)} on {len(x_train)} {args.dataset} "
          f"images in {seconds:.1f} s ({seconds / epochs:.1f} s per epoch)")
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} ({len(x_test)} images)")
    if args.save:
        print(f"saved the model to {args.save}")
    if args.plots:
        save_plots(args, model, history, (train_images, train_labels), (x_test, y_test))
    return 0
