"""The data sets the command line trains and evaluates on."""
import numpy as np

from fastconv import datasets
from fastconv.cli.errors import CLIError
from fastconv.cli.model_inputs import as_model_inputs

DATASETS = {"mnist": datasets.mnist, "fashion_mnist": datasets.fashion_mnist}
NUM_CLASSES = 10
CLASS_NAMES = {
    "mnist": None,  # the digits name themselves
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


def load_dataset(name, limit=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays, keeping only the first
    `limit` images of each split when given."""
    try:
        (x_train, y_train), (x_test, y_test) = DATASETS[name].load_data()
    except (datasets.DatasetUnavailableError, datasets.HashMismatchError) as exc:
        raise CLIError(f"cannot load {name}: {exc}") from None
    keep = slice(None, limit)
    return (x_train[keep], y_train[keep]), (x_test[keep], y_test[keep])


def model_inputs(model, images, dataset):
    """uint8 images of `dataset` as the model's float inputs in [0, 1], or CLIError if the
    model does not take them or does not output one score per class."""
    outputs = model.output_shape[1:]
    if outputs != (NUM_CLASSES,):
        raise CLIError(f"the model outputs shape {outputs}, but {dataset} has "
                       f"{NUM_CLASSES} classes")
    return as_model_inputs(model, np.asarray(images, np.float32) / 255, f"{dataset}'s images")
