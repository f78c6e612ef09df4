"""ONNX export (fastconv.export): every layer type and the example models, run in ONNX
Runtime on the same channels-last inputs as model.predict, within 1e-5; the file passes
onnx.checker and runs in a fresh process that never imports fastconv."""
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from fastconv import layers, models, zoo  # noqa: E402
from fastconv.cli import main  # noqa: E402
from fastconv.export import UnsupportedLayerError, export_model  # noqa: E402
from fastconv.export.onnx_graph import OPSET, Node, TensorSpec, nodes_to_onnx  # noqa: E402

# float32 sums of a few hundred products, in another order than fastconv's kernels.
TOLERANCE = 1e-5
BATCH = 3


def run_onnx(path, x):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the test machine's cores are shared
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    return session.run(None, {"input": x})[0]


def randomise(model, rng):
    """Weights of unit scale everywhere, positive variances: every weight matters."""
    model.set_weights([rng.uniform(0.5, 1.5, w.shape) if "variance" in name
                       else rng.normal(0, 0.5, w.shape)
                       for name, w in ((name, w) for layer in model.layers
                                       for name, w in {**layer.params, **layer.state}.items())])


def exported_difference(model, tmp_path, rng=None):
    """max |ONNX Runtime - model.predict| on a random batch, after the checker passed."""
    rng = rng or np.random.default_rng(0)
    path = tmp_path / "model.onnx"
    assert model.export(path) == str(path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == OPSET >= 17
    x = rng.normal(size=(BATCH,) + model.input_shape[1:]).astype(np.float32)
    expected = model.predict(x)
    actual = run_onnx(path, x)
    assert actual.shape == expected.shape
    return float(np.abs(actual - expected).max())


def sequential(input_shape, *stack):
    return models.Sequential([layers.Input(shape=input_shape), *stack])


LAYER_CASES = {
    "Conv2D valid": lambda: sequential((9, 8, 3), layers.Conv2D(4, 3)),
    "Conv2D same strides relu": lambda: sequential(
        (9, 8, 3), layers.Conv2D(5, (3, 2), strides=(2, 3), padding="same",
                                 activation="relu")),
    "Conv2D channels_first no bias tanh": lambda: sequential(
        (3, 8, 7), layers.Conv2D(4, (2, 3), data_format="channels_first", use_bias=False,
                                 activation="tanh")),
    "Conv1D same strides": lambda: sequential(
        (17, 3), layers.Conv1D(6, 3, strides=2, padding="same", activation="sigmoid")),
    "Conv1D causal elu": lambda: sequential((11, 2), layers.Conv1D(3, 4, padding="causal",
                                                                   activation="elu")),
    "MaxPooling2D same": lambda: sequential(
        (7, 9, 2), layers.MaxPooling2D(3, strides=2, padding="same")),
    "AveragePooling2D same": lambda: sequential(
        (7, 9, 2), layers.AveragePooling2D((2, 3), strides=(2, 2), padding="same")),
    "MinPooling2D": lambda: sequential((8, 6, 3), layers.MinPooling2D(2)),
    "MaxPooling2D channels_first": lambda: sequential(
        (3, 8, 6), layers.MaxPooling2D(2, data_format="channels_first")),
    "MaxPooling1D same": lambda: sequential((11, 3), layers.MaxPooling1D(3, padding="same")),
    "AveragePooling1D": lambda: sequential((11, 3), layers.AveragePooling1D(2, strides=1)),
    "GlobalAveragePooling2D": lambda: sequential((5, 6, 4), layers.GlobalAveragePooling2D()),
    "GlobalMaxPooling2D keepdims": lambda: sequential(
        (5, 6, 4), layers.GlobalMaxPooling2D(keepdims=True)),
    "GlobalAveragePooling2D channels_first": lambda: sequential(
        (4, 5, 6), layers.GlobalAveragePooling2D(data_format="channels_first")),
    "GlobalAveragePooling1D": lambda: sequential((7, 3), layers.GlobalAveragePooling1D()),
    "GlobalMaxPooling1D": lambda: sequential((7, 3), layers.GlobalMaxPooling1D()),
    "Dense": lambda: sequential((12,), layers.Dense(5, activation="softmax")),
    "Dense on rank 3": lambda: sequential((4, 6), layers.Dense(3, use_bias=False)),
    "Flatten after Conv2D": lambda: sequential(
        (6, 5, 2), layers.Conv2D(3, 2), layers.Flatten(), layers.Dense(4)),
    "Reshape": lambda: sequential((6, 4), layers.Reshape((3, -1)), layers.Dense(2)),
    "BatchNormalization": lambda: sequential(
        (5, 4, 3), layers.Conv2D(4, 2), layers.BatchNormalization()),
    "BatchNormalization axis 1 no center": lambda: sequential(
        (3, 4, 5), layers.BatchNormalization(axis=1, center=False)),
    "BatchNormalization no scale": lambda: sequential(
        (6,), layers.BatchNormalization(scale=False)),
    "Dropout": lambda: sequential((6,), layers.Dense(4), layers.Dropout(0.5),
                                  layers.Dense(2)),
    "Activation relu": lambda: sequential((7,), layers.Activation("relu")),
    "Activation leaky_relu": lambda: sequential((7,), layers.Activation("leaky_relu")),
    "Activation linear": lambda: sequential((7,), layers.Dense(3),
                                            layers.Activation("linear")),
    "Activation softmax": lambda: sequential((7,), layers.Activation("softmax")),
    "ReLU max_value negative_slope": lambda: sequential(
        (7,), layers.ReLU(max_value=0.5, negative_slope=0.1)),
    "Softmax axis 1": lambda: sequential((3, 4), layers.Softmax(axis=1)),
    "Conv2D softmax over channels": lambda: sequential(
        (5, 5, 2), layers.Conv2D(3, 2, activation="softmax")),
    "Conv2D dilated grouped same": lambda: sequential(
        (9, 8, 4), layers.Conv2D(6, 3, padding="same", dilation_rate=(2, 1), groups=2,
                                 activation="relu")),
    "Conv1D causal dilated": lambda: sequential(
        (12, 2), layers.Conv1D(3, 3, padding="causal", dilation_rate=2)),
    "Conv3D same strided": lambda: sequential(
        (5, 6, 7, 2), layers.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same",
                                    activation="relu")),
    "Conv3D channels_first dilated": lambda: sequential(
        (2, 6, 5, 5), layers.Conv3D(2, 2, dilation_rate=2, data_format="channels_first")),
    "DepthwiseConv2D multiplier": lambda: sequential(
        (7, 6, 3), layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                          activation="relu")),
    "DepthwiseConv2D strided channels_first": lambda: sequential(
        (3, 8, 7), layers.DepthwiseConv2D((2, 3), strides=2, use_bias=False,
                                          data_format="channels_first")),
    "SeparableConv2D": lambda: sequential(
        (8, 7, 3), layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same",
                                          activation="relu")),
    "Conv2DTranspose same": lambda: sequential(
        (4, 5, 3), layers.Conv2DTranspose(2, 3, strides=2, padding="same")),
    "Conv2DTranspose valid output_padding": lambda: sequential(
        (4, 5, 3), layers.Conv2DTranspose(2, (2, 3), strides=(2, 3), output_padding=(1, 2),
                                          activation="relu")),
    "Conv2DTranspose same output_padding dilated": lambda: sequential(
        (4, 5, 3), layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1,
                                          dilation_rate=1)),
    "MaxPooling3D": lambda: sequential((4, 6, 5, 2), layers.MaxPooling3D(2)),
    "AveragePooling3D same": lambda: sequential(
        (5, 4, 6, 2), layers.AveragePooling3D((2, 3, 2), strides=1, padding="same")),
    "GlobalAveragePooling3D": lambda: sequential((3, 4, 5, 2), layers.GlobalAveragePooling3D()),
    "GlobalMaxPooling3D channels_first": lambda: sequential(
        (2, 3, 4, 5), layers.GlobalMaxPooling3D(data_format="channels_first")),
    "ZeroPadding1D": lambda: sequential((5, 3), layers.ZeroPadding1D((1, 2))),
    "ZeroPadding2D": lambda: sequential((4, 5, 2), layers.ZeroPadding2D(((1, 0), (2, 1)))),
    "ZeroPadding3D channels_first": lambda: sequential(
        (2, 3, 3, 4), layers.ZeroPadding3D((1, 0, 2), data_format="channels_first")),
    "Cropping1D": lambda: sequential((6, 2), layers.Cropping1D((2, 1))),
    "Cropping2D": lambda: sequential((6, 5, 2), layers.Cropping2D(((1, 2), (0, 1)))),
    "Cropping3D": lambda: sequential((4, 5, 4, 2), layers.Cropping3D(1)),
    "UpSampling1D": lambda: sequential((4, 3), layers.UpSampling1D(3)),
    "UpSampling2D nearest": lambda: sequential((3, 4, 2), layers.UpSampling2D((2, 3))),
    "UpSampling2D bilinear": lambda: sequential(
        (3, 4, 2), layers.UpSampling2D(2, interpolation="bilinear")),
    "UpSampling2D bilinear channels_first": lambda: sequential(
        (2, 3, 5), layers.UpSampling2D((3, 2), interpolation="bilinear",
                                       data_format="channels_first")),
    "UpSampling3D": lambda: sequential((2, 3, 2, 2), layers.UpSampling3D((1, 2, 2))),
    "Rescaling": lambda: sequential((4, 4, 2), layers.Rescaling(1 / 255, offset=-0.5)),
    "Resizing bilinear": lambda: sequential((5, 7, 2), layers.Resizing(8, 3)),
    "Resizing nearest": lambda: sequential((5, 7, 2), layers.Resizing(9, 4,
                                                                      interpolation="nearest")),
    "CenterCrop": lambda: sequential((6, 7, 2), layers.CenterCrop(3, 4)),
    "CenterCrop channels_first": lambda: sequential(
        (2, 6, 7), layers.CenterCrop(3, 4, data_format="channels_first")),
    "RandomCrop (inference: the centre)": lambda: sequential((6, 7, 2),
                                                             layers.RandomCrop(3, 4)),
    "random augmentation (inference: identity)": lambda: sequential(
        (6, 6, 2), layers.RandomFlip(), layers.RandomRotation(0.2),
        layers.RandomTranslation(0.1, 0.1), layers.RandomZoom(0.1), layers.RandomContrast(0.2),
        layers.RandomBrightness(0.2), layers.Conv2D(2, 3)),
}


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_each_layer_type_agrees_with_predict(case, tmp_path):
    model = LAYER_CASES[case]()
    randomise(model, np.random.default_rng(1))
    assert exported_difference(model, tmp_path) <= TOLERANCE


@pytest.mark.parametrize("name", list(zoo.RECIPES))
def test_example_models_agree_with_predict(name, tmp_path):
    model = zoo.RECIPES[name].build()
    x = np.random.default_rng(2).random((8,) + model.input_shape[1:], dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(8)]
    model.compile(optimizer=zoo.make_optimizer(zoo.RECIPES[name].optimizer),
                  loss="categorical_crossentropy")
    model.train_on_batch(x, y)  # trained weights, not only their initial values
    assert exported_difference(model, tmp_path) <= TOLERANCE


def test_consecutive_channels_first_layers_share_one_transpose(tmp_path):
    model = zoo.mnist_cnn()
    model.export(tmp_path / "cnn.onnx")
    ops = [node.op_type for node in onnx.load(str(tmp_path / "cnn.onnx")).graph.node]
    # in to NCHW once, back to NHWC once before Flatten (Keras's order of features)
    assert ops.count("Transpose") == 2
    assert ops.index("Flatten") == ops.index("Transpose", 1) + 1


FRESH_PROCESS = """
import sys
import numpy as np
import onnxruntime as ort
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
np.save(sys.argv[3], session.run(None, {"input": np.load(sys.argv[2])})[0])
assert "fastconv" not in sys.modules
"""


def test_exported_file_runs_in_a_process_without_fastconv(tmp_path):
    model = zoo.mnist_cnn()
    model.export(tmp_path / "cnn.onnx")
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    # -I: isolated mode, so neither PYTHONPATH nor the current folder can reach fastconv.
    subprocess.run([sys.executable, "-I", "-c", FRESH_PROCESS, "cnn.onnx", "x.npy", "y.npy"],
                   cwd=tmp_path, check=True, timeout=120)
    assert np.abs(np.load(tmp_path / "y.npy") - model.predict(x)).max() <= TOLERANCE


class Squared(layers.Layer):
    def call(self, x, training):
        return x * x


def test_a_layer_without_mapping_is_named_and_nothing_is_written(tmp_path):
    model = sequential((4,), layers.Dense(3), Squared(name="my_square"))
    with pytest.raises(UnsupportedLayerError, match="'my_square' \\(Squared\\)"):
        export_model(model, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_unbuilt_model_and_unknown_format_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        models.Sequential([layers.Dense(3)]).export(tmp_path / "model.onnx")
    with pytest.raises(ValueError, match="format must be one of"):
        zoo.mlp().export(tmp_path / "model.onnx", format="tf_saved_model")


def test_missing_onnx_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with pytest.raises(ImportError, match=r"fastconv\[onnx\]"):
        zoo.mlp().export(tmp_path / "model.onnx")


def test_command_line_exports_a_saved_model(tmp_path, capsys):
    model = zoo.tutorial_cnn()
    model.save(tmp_path / "model.npz")
    assert main(["export", str(tmp_path / "model.npz"), str(tmp_path / "model.onnx")]) == 0
    assert "model.onnx" in capsys.readouterr().out
    x = np.random.default_rng(4).random((2, 28, 28, 1), dtype=np.float32)
    assert np.abs(run_onnx(tmp_path / "model.onnx", x) - model.predict(x)).max() <= TOLERANCE
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 2
    assert "no model file" in capsys.readouterr().err


def test_a_branching_node_list_with_two_outputs(tmp_path):
    """The writer takes any node list, not only a chain: two convolutions read the same
    input (one transpose serves both), and both results are graph outputs."""
    rng = np.random.default_rng(5)
    wide, narrow = layers.Conv2D(4, 3, padding="same"), layers.Conv2D(2, 1, activation="relu")
    for layer in (wide, narrow):
        layer.build((6, 7, 3))
        layer.set_weights([rng.normal(size=w.shape) for w in layer.weights])
    nodes = [Node(wide, ("image",), ("wide",)), Node(narrow, ("image",), ("narrow",))]
    proto = nodes_to_onnx([TensorSpec("image", (6, 7, 3))], nodes,
                          [TensorSpec("wide", (6, 7, 4)), TensorSpec("narrow", (6, 7, 2))],
                          "two_heads")
    onnx.save(proto, str(tmp_path / "two_heads.onnx"))
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Conv") == 2 and ops.count("Transpose") == 3  # one in, one out each
    session = ort.InferenceSession(str(tmp_path / "two_heads.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = rng.normal(size=(2, 6, 7, 3)).astype(np.float32)
    got_wide, got_narrow = session.run(["wide", "narrow"], {"image": x})
    assert np.abs(got_wide - wide(x)).max() <= TOLERANCE
    assert np.abs(got_narrow - narrow(x)).max() <= TOLERANCE


def test_every_layer_class_has_an_onnx_mapping():
    """A new layer class must come with its ONNX mapping (fastconv/export/onnx_layers.py)."""
    from fastconv.export.onnx_layers import CONVERTERS
    from fastconv.layers.serialization import LAYER_CLASSES
    # InputLayer only declares a shape: a model's graph input, never a node; models are
    # spliced into the graph layer by layer. The class's own name must have a mapping: a
    # fastconv subclass (DepthwiseConv2D of Conv2D) computes something else than its base.
    from fastconv.models import Model
    missing = [name for name, cls in LAYER_CLASSES.items() if name != "InputLayer"
               and not issubclass(cls, Model) and name not in CONVERTERS]
    assert missing == []


def functional_difference(model, tmp_path, rng):
    """max |ONNX Runtime - predict| over every output of a functional model, its inputs fed
    by name."""
    path = tmp_path / "model.onnx"
    model.export(path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    model.set_weights([rng.normal(0, 0.5, w.shape) for w in model.get_weights()])
    model.export(path)
    xs = [rng.normal(size=(BATCH,) + tuple(t.shape[1:])).astype(np.float32)
          for t in model.inputs]
    expected = model.predict(xs if len(xs) > 1 else xs[0])
    expected = expected if isinstance(expected, list) else [expected]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = ({"input": xs[0]} if len(xs) == 1 else dict(zip(model.input_names, xs)))
    got = session.run(None, feeds)
    return max(float(np.abs(a - b).max()) for a, b in zip(got, expected))


def test_functional_models_with_merges_shared_layers_and_nesting(tmp_path):
    rng = np.random.default_rng(6)
    image = layers.Input(shape=(8, 8, 3), name="image")
    extra = layers.Input(shape=(5,), name="extra")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    skip = layers.Conv2D(4, 1)(image)
    x = layers.Add()([x, skip])
    x = layers.Concatenate()([x, layers.Maximum()([x, skip]), layers.Minimum()([x, skip])])
    x = layers.GlobalAveragePooling2D()(x)
    tower = models.Sequential([layers.Input(shape=(5,)), layers.Dense(12, activation="tanh")])
    shared = layers.Dense(12)
    y = layers.Average()([shared(x), shared(tower(extra))])
    z = layers.Subtract()([layers.Multiply()([y, y]), tower(extra)])
    score = layers.Dot(axes=1, normalize=True)([y, z])
    model = models.Model([image, extra], [layers.Dense(3, activation="softmax",
                                                       name="classes")(z), score])
    assert functional_difference(model, tmp_path, rng) <= TOLERANCE
