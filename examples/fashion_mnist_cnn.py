"""Fashion-MNIST with a two-convolution CNN: >= 91% test accuracy.

Conv 32 3x3 same -> MaxPool -> Conv 64 3x3 same -> MaxPool -> Dropout -> Dense 128 ->
Dropout -> Dense 10, Adam with the learning rate halved for the last third of training.

    python examples/fashion_mnist_cnn.py [--epochs 12]
"""
import argparse
import time

import numpy as np

from fastconv import callbacks, datasets, layers, models, optimizers

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def build_model():
    return models.Sequential([
        layers.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    np.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    x_train = (x_train.astype("float32") / 255)[..., None]
    x_test = (x_test.astype("float32") / 255)[..., None]

    model = build_model()
    model.summary()
    model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    decay_from = 2 * args.epochs // 3
    schedule = callbacks.LearningRateScheduler(
        lambda epoch, lr: 1e-3 if epoch < decay_from else 5e-4)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), callbacks=[schedule])
    elapsed = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test, batch_size=512).argmax(axis=1)
    print(f"trained {len(history.epoch)} epochs in {elapsed:.1f} s "
          f"({elapsed / len(history.epoch):.1f} s per epoch, validation included)")
    print(f"test accuracy {accuracy:.4f}; per class:")
    for label, name in enumerate(CLASS_NAMES):
        print(f"  {name:<12} {(predicted[y_test == label] == label).mean():.3f}")


if __name__ == "__main__":
    main()
