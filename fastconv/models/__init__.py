"""Keras-style models: Sequential and Model (the functional API), load_model,
model_from_json. Models train through the Trainer (fastconv.trainer), and a model is a
layer: it can be added to a Sequential or called on symbolic tensors.

    from fastconv import layers, models
    model = models.Sequential([layers.Conv2D(32, 3, activation="relu",
                                             input_shape=(28, 28, 1)), ...])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=5, validation_data=(x_test, y_test))
    model.save("mnist.npz"); model = models.load_model("mnist.npz")

    inputs = fastconv.Input(shape=(28, 28, 1))
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(inputs))
    model = models.Model(inputs, outputs)
"""
from fastconv.layers.serialization import register_layer_class
from fastconv.models.model import Model
from fastconv.models.model_io import load_model, model_from_json
from fastconv.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]

register_layer_class(Model, "Functional")
register_layer_class(Sequential, "Sequential")
