"""A 3-D CNN on synthetic volumes: is the shape hidden in the noise a sphere or a cube?

Each 16×16×16 volume holds one solid sphere or axis-aligned cube of random size and
position, at random brightness, under Gaussian noise. Two Conv3D layers with 3-D max
pooling, global average pooling and a Dense softmax tell them apart (the 3-D version of
the keras.io "3D image classification from CT scans" model, on data that needs no
download): 96-99% test accuracy after 8 epochs (seeds 0, 1, 2 gave 98.5%, 96.3%, 98.3%),
about 25 s on 2 cores.

    python examples/conv3d_volumes.py [--epochs 8] [--samples 3000] [--seed 0]
"""
import argparse

import numpy as np

from fastconv import layers, models, optimizers

SHAPES = ("sphere", "cube")
SIZE = 16


def make_volumes(n, rng, noise=0.35):
    """n volumes (n, SIZE, SIZE, SIZE, 1) and their shape labels (n,)."""
    labels = rng.integers(0, len(SHAPES), n)
    radius = rng.uniform(2.5, 5.0, (n, 1, 1, 1))
    r = radius.reshape(n, 1)
    centre = rng.uniform(r + 0.5, SIZE - r - 1.5, (n, 3))
    z, y, x = np.indices((SIZE,) * 3)
    dz, dy, dx = (axis[None] - centre[:, i, None, None, None]
                  for i, axis in enumerate((z, y, x)))
    sphere = dz ** 2 + dy ** 2 + dx ** 2 <= radius ** 2
    # A cube of the sphere's volume: half side radius * (4π/3)^(1/3) / 2.
    half = radius * (4 * np.pi / 3) ** (1 / 3) / 2
    cube = np.maximum(np.maximum(np.abs(dz), np.abs(dy)), np.abs(dx)) <= half
    solid = np.where(labels[:, None, None, None] == 0, sphere, cube)
    brightness = rng.uniform(0.6, 1.4, (n, 1, 1, 1))
    volumes = solid * brightness + rng.normal(0, noise, solid.shape)
    return volumes[..., None].astype(np.float32), labels


def build_model():
    return models.Sequential([
        layers.Conv3D(16, 3, padding="same", activation="relu",
                      input_shape=(SIZE, SIZE, SIZE, 1)),
        layers.MaxPooling3D(2),
        layers.Conv3D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling3D(2),
        layers.Conv3D(32, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling3D(),
        layers.Dense(len(SHAPES), activation="softmax"),
    ])


def main(argv=None):
    """Train and evaluate; returns the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = make_volumes(args.samples, rng)
    x_test, y_test = make_volumes(args.samples // 5, rng)
    model = build_model()
    if args.verbose:
        model.summary()
    model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
              validation_data=(x_test, y_test), verbose=args.verbose)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (chance {1 / len(SHAPES):.2f})")
    return accuracy


if __name__ == "__main__":
    main()
