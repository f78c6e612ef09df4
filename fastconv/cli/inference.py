"""`fastconv evaluate` and `fastconv predict`: use a saved model."""
import numpy as np

from fastconv.cli import data
from fastconv.cli.images import read_inputs
from fastconv.cli.model_inputs import as_model_inputs, image_size, load_saved_model

PREDICT_BATCH_SIZE = 256
# Outputs further than this from summing to 1 are scores (logits), not probabilities.
PROBABILITY_SUM_TOLERANCE = 1e-3


def run_evaluate(args):
    """Print the saved model's loss and accuracy on the test split; return 0."""
    model = load_saved_model(args.model)
    _, (test_images, y_test) = data.load_dataset(args.dataset, args.limit)
    x_test = data.model_inputs(model, test_images, args.dataset)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} "
          f"({len(x_test)} {args.dataset} images)")
    return 0


def as_probabilities(outputs):
    """Rows of class probabilities: the outputs themselves after a softmax layer, else
    their softmax."""
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1,
                                            atol=PROBABILITY_SUM_TOLERANCE):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def run_predict(args):
    """Print the predicted class and the class probabilities of every image; return 0."""
    model = load_saved_model(args.model)
    height, width = image_size(model)
    # Every file is read before anything is printed, so a bad one fails the command cleanly.
    inputs = [read_inputs(path, height, width) for path in args.files]
    for names, images in inputs:
        x = as_model_inputs(model, images, names[0])
        probabilities = as_probabilities(model.predict(x, batch_size=PREDICT_BATCH_SIZE))
        for name, row in zip(names, probabilities):
            print(f"{name}: class {row.argmax()}, probabilities "
                  f"{' '.join(f'{p:.4f}' for p in row)}")
    return 0
