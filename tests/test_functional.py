"""The functional API: Input, Model over any graph, merge layers, shared layers, models
as layers, multi-input/multi-output training, summary, config and save/load, and the
errors of what is not supported."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import layers, models, optimizers

F64 = "float64"


def _residual_model(dtype="float32", seed=None):
    """Two Conv2D and an Add around a skip connection, then a softmax classifier."""
    inputs = fastconv.Input(shape=(6, 6, 2), dtype=dtype)
    x = layers.Conv2D(3, 3, padding="same", activation="relu", dtype=dtype)(inputs)
    y = layers.Conv2D(3, 3, padding="same", activation="relu", dtype=dtype)(x)
    y = layers.Conv2D(3, 3, padding="same", dtype=dtype)(y)
    x = layers.Activation("relu", dtype=dtype)(layers.Add(dtype=dtype)([x, y]))
    x = layers.Flatten(dtype=dtype)(x)
    outputs = layers.Dense(4, activation="softmax", dtype=dtype)(x)
    return fastconv.Model(inputs, outputs)


def _model_gradients(model, xs, r):
    """Analytic d sum(outputs * r) / d (inputs, every weight), for a float64 model."""
    outs = model.run_forward(xs, training=False)
    dxs = model.run_backward([ri.copy() for ri in r], input_gradient=True)
    grads = [leaf.grads[key].copy() for leaf in model.leaf_layers() for key in leaf.params]
    assert all(o.shape == ri.shape for o, ri in zip(outs, r))
    return dxs, grads


def _check_model_gradients(model, xs, finite_differences, seed=0):
    numeric_gradient, assert_close = finite_differences
    xs = [np.array(x, dtype=np.float64) for x in xs]
    rng = np.random.default_rng(seed)
    r = [rng.standard_normal(o.shape) for o in model.run_forward(xs, training=False)]
    dxs, grads = _model_gradients(model, xs, r)

    def f():
        return float(sum((o * ri).sum() for o, ri in zip(model.run_forward(xs, False), r)))

    for i, (x, dx) in enumerate(zip(xs, dxs)):
        dx = np.zeros_like(x) if dx is None else dx  # None: an input no output uses
        assert_close(dx, numeric_gradient(f, x), f"input {i}")
    params = [(leaf.name, key, p) for leaf in model.leaf_layers()
              for key, p in leaf.params.items()]
    assert len(params) == len(grads)
    for (name, key, param), grad in zip(params, grads):
        assert_close(grad, numeric_gradient(f, param), f"{name} {key}")


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3,) + s) for s in shapes]


class TestGradients:
    def test_residual_network_matches_finite_differences(self, finite_differences):
        np.random.seed(0)
        model = _residual_model(F64)
        _check_model_gradients(model, _inputs([(6, 6, 2)]), finite_differences)

    @pytest.mark.parametrize("merge, shapes", [
        (layers.Add, [(4,), (4,), (4,)]),
        (layers.Add, [(2, 4), (1, 4)]),  # broadcast: the gradient is summed back
        (layers.Subtract, [(4,), (4,)]),
        (layers.Multiply, [(4,), (4,), (4,)]),
        (layers.Average, [(2, 3), (2, 3)]),
        (layers.Maximum, [(5,), (5,), (5,)]),
        (layers.Minimum, [(5,), (5,)]),
        (lambda **kw: layers.Concatenate(axis=1, **kw), [(2, 3), (1, 3)]),
        (layers.Concatenate, [(2, 3), (2, 1)]),
        (lambda **kw: layers.Dot(axes=1, **kw), [(4,), (4,)]),
        (lambda **kw: layers.Dot(axes=-1, normalize=True, **kw), [(4,), (4,)]),
    ])
    def test_merge_layers_match_finite_differences(self, merge, shapes, finite_differences):
        inputs = [fastconv.Input(shape=s, dtype=F64) for s in shapes]
        # A Dense before the merge checks the gradient reaches weights through it too.
        first = layers.Dense(shapes[0][-1], dtype=F64)(inputs[0])
        model = fastconv.Model(inputs, merge(dtype=F64)([first] + inputs[1:]))
        _check_model_gradients(model, _inputs(shapes), finite_differences)

    def test_a_shared_layer_sums_its_gradients(self, finite_differences):
        a, b = fastconv.Input(shape=(3,), dtype=F64), fastconv.Input(shape=(3,), dtype=F64)
        shared = layers.Dense(3, activation="tanh", dtype=F64)
        merged = layers.Multiply(dtype=F64)([shared(a), shared(shared(b))])
        model = fastconv.Model([a, b], merged)
        assert model.count_params() == 12, "one set of weights"
        _check_model_gradients(model, _inputs([(3,), (3,)]), finite_differences)

    def test_a_nested_model_called_twice_shares_its_weights(self, finite_differences):
        inner_in = fastconv.Input(shape=(4,), dtype=F64)
        hidden = layers.Dense(3, activation="tanh", dtype=F64)(inner_in)
        inner = fastconv.Model(inner_in, layers.Dense(2, dtype=F64)(hidden), name="tower")
        a, b = fastconv.Input(shape=(4,), dtype=F64), fastconv.Input(shape=(4,), dtype=F64)
        model = fastconv.Model([a, b], layers.Subtract(dtype=F64)([inner(a), inner(b)]))
        assert model.count_params() == inner.count_params() == 4 * 3 + 3 + 3 * 2 + 2
        _check_model_gradients(model, _inputs([(4,), (4,)]), finite_differences)

    def test_a_siamese_network_with_a_shared_sequential_tower(self, finite_differences):
        np.random.seed(0)
        tower = models.Sequential([
            layers.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1), dtype=F64),
            layers.MaxPooling2D(dtype=F64), layers.Flatten(dtype=F64),
            layers.Dense(4, dtype=F64)], name="tower")
        left = fastconv.Input(shape=(6, 6, 1), dtype=F64)
        right = fastconv.Input(shape=(6, 6, 1), dtype=F64)
        similarity = layers.Dot(axes=1, normalize=True, dtype=F64)([tower(left), tower(right)])
        out = layers.Activation("sigmoid", dtype=F64)(layers.Dense(1, dtype=F64)(similarity))
        model = fastconv.Model([left, right], out)
        _check_model_gradients(model, _inputs([(6, 6, 1), (6, 6, 1)]), finite_differences)

    def test_an_output_also_used_inside_the_graph(self, finite_differences):
        inputs = fastconv.Input(shape=(3,), dtype=F64)
        hidden = layers.Dense(3, activation="softmax", dtype=F64)(inputs)
        out = layers.Dense(2, dtype=F64)(hidden)
        model = fastconv.Model(inputs, [hidden, out])
        _check_model_gradients(model, _inputs([(3,)]), finite_differences)


# Each property example checks every weight by finite differences: keep them few.
RANDOM_GRAPH_EXAMPLES = 25


@st.composite
def random_graphs(draw):
    """A random DAG of width-3 float64 tensors: new or reused (shared) Dense layers and
    merges, one or two inputs, one or two outputs (possibly also used inside)."""
    inputs = [fastconv.Input(shape=(3,), dtype=F64) for _ in range(draw(st.integers(1, 2)))]
    tensors, dense_layers = list(inputs), []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["dense", "dense", "shared", "add", "multiply",
                                     "subtract", "maximum", "concat"]))
        pick = st.sampled_from(range(len(tensors)))
        a, b = tensors[draw(pick)], tensors[draw(pick)]
        if kind == "shared" and dense_layers:
            tensors.append(dense_layers[draw(st.sampled_from(range(len(dense_layers))))](a))
        elif kind in ("dense", "shared"):
            dense_layers.append(layers.Dense(3, activation="tanh", dtype=F64))
            tensors.append(dense_layers[-1](a))
        elif kind == "concat":
            joined = layers.Concatenate(dtype=F64)([a, b])
            tensors.append(layers.Dense(3, dtype=F64)(joined))
        else:
            merge = {"add": layers.Add, "multiply": layers.Multiply,
                     "subtract": layers.Subtract, "maximum": layers.Maximum}[kind]
            tensors.append(merge(dtype=F64)([a, b]))
    made = tensors[len(inputs):]
    outputs = [made[-1]] + ([made[draw(st.sampled_from(range(len(made))))]]
                            if draw(st.booleans()) else [])
    return inputs, outputs


@settings(max_examples=RANDOM_GRAPH_EXAMPLES, deadline=None)
@given(graph=random_graphs(), seed=st.integers(0, 99))
def test_random_graphs_match_finite_differences_and_round_trip(graph, seed):
    from conftest import assert_gradient_close, numeric_gradient
    inputs, outputs = graph
    model = fastconv.Model(inputs, outputs)
    xs = _inputs([(3,)] * len(inputs), seed)
    _check_model_gradients(model, xs, (numeric_gradient, assert_gradient_close), seed)
    clone = fastconv.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for a, b in zip(model.run_forward(xs, False), clone.run_forward(xs, False)):
        np.testing.assert_array_equal(a, b)


def _two_in_two_out():
    image = fastconv.Input(shape=(6, 6, 1), name="image")
    meta = fastconv.Input(shape=(3,), name="meta")
    x = layers.Flatten()(layers.Conv2D(2, 3, activation="relu")(image))
    x = layers.Concatenate()([x, layers.Dense(4, activation="relu")(meta)])
    label = layers.Dense(3, activation="softmax", name="label")(x)
    score = layers.Dense(1, name="score")(x)
    return fastconv.Model([image, meta], [label, score])


def _two_in_two_out_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((n, 6, 6, 1)).astype(np.float32)
    meta = rng.standard_normal((n, 3)).astype(np.float32)
    label = (meta[:, 0] > 0).astype(int) + (image.mean(axis=(1, 2, 3)) > 0)
    score = meta.sum(axis=1, keepdims=True)
    return [image, meta], [label, score]


class TestMultipleInputsAndOutputs:
    def test_per_output_losses_weights_and_metrics(self):
        np.random.seed(0)
        model = _two_in_two_out()
        model.compile(optimizers.Adam(0.01),
                      loss={"label": "sparse_categorical_crossentropy", "score": "mse"},
                      loss_weights={"label": 1.0, "score": 0.5},
                      metrics={"label": ["accuracy"], "score": ["mae"]})
        x, y = _two_in_two_out_data()
        history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, validation_data=(x, y))
        assert list(history.history) == [
            "loss", "label_loss", "score_loss", "label_accuracy", "score_mae", "val_loss",
            "val_label_loss", "val_score_loss", "val_label_accuracy", "val_score_mae"]
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert model.metrics_names == ["loss", "label_loss", "score_loss", "label_accuracy",
                                       "score_mae"]
        # evaluate's total is the weighted sum of the per-output losses of predict.
        label_p, score_p = model.predict(x)
        label_loss = -np.log(label_p[np.arange(64), y[0]]).mean()
        score_loss = np.square(score_p - y[1]).mean()
        result = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
        assert result["label_loss"] == pytest.approx(label_loss, rel=1e-5)
        assert result["score_loss"] == pytest.approx(score_loss, rel=1e-5)
        assert result["loss"] == pytest.approx(label_loss + 0.5 * score_loss, rel=1e-5)
        assert result["score_mae"] == pytest.approx(np.abs(score_p - y[1]).mean(), rel=1e-5)

    def test_list_forms_and_dict_inputs_agree(self):
        x, y = _two_in_two_out_data(16)
        results = []
        for loss, data_x, data_y in [
                (["sparse_categorical_crossentropy", "mse"], x, y),
                ({"label": "sparse_categorical_crossentropy", "score": "mse"},
                 {"image": x[0], "meta": x[1]}, {"label": y[0], "score": y[1]})]:
            np.random.seed(1)
            model = _two_in_two_out()
            model.compile("sgd", loss)
            model.fit(data_x, data_y, batch_size=8, epochs=1, verbose=0, shuffle=False)
            results.append(model.get_weights())
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)

    def test_an_output_without_loss_is_not_trained_on(self):
        model = _two_in_two_out()
        model.compile("sgd", loss=[None, "mse"])
        x, y = _two_in_two_out_data(16)
        logs = model.train_on_batch(x, [None, y[1]], return_dict=True)
        assert set(logs) == {"loss", "score_loss"} and logs["loss"] == logs["score_loss"]

    @pytest.mark.parametrize("kwargs, match", [
        (dict(loss={"labels": "mse"}), r"\['labels'\], which are not outputs"),
        (dict(loss=["mse"]), "list of 1 entries, but the model has 2"),
        (dict(loss="mse", metrics=["mae", "mae", "mae"]), "metrics is a list of 3"),
    ])
    def test_compile_errors_name_the_outputs(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            _two_in_two_out().compile("sgd", **kwargs)

    def test_data_errors_name_the_inputs(self):
        model = _two_in_two_out()
        model.compile("sgd", "mse")
        x, y = _two_in_two_out_data(8)
        with pytest.raises(ValueError, match=r"2 inputs \['image', 'meta'\]"):
            model.fit(x[0], y, verbose=0)
        with pytest.raises(ValueError, match=r"keys \['image'\].*\['image', 'meta'\]"):
            model.predict({"image": x[0]})
        with pytest.raises(ValueError, match="input 'meta' of shape"):
            model.predict([x[0], x[1][:, :2]])
        with pytest.raises(ValueError, match="'image' has 8, 'meta' has 7"):
            model.predict([x[0], x[1][:7]])


class TestStructure:
    def test_inputs_outputs_shapes_and_get_layer(self):
        model = _two_in_two_out()
        assert model.input_shape == [(None, 6, 6, 1), (None, 3)]
        assert model.output_shape == [(None, 3), (None, 1)]
        assert model.input_names == ["image", "meta"]
        assert model.output_names == ["label", "score"]
        assert model.get_layer("score") is model.layers[-1]
        assert model.get_layer(index=0).name == "image"
        assert isinstance(model.layers[0], layers.InputLayer), "functional lists its inputs"
        with pytest.raises(ValueError, match="no such layer: 'nope'"):
            model.get_layer("nope")

    def test_feature_extraction_through_layer_output(self):
        model = models.Sequential([layers.Conv2D(2, 3, activation="relu",
                                                 input_shape=(6, 6, 1)),
                                   layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3)])
        x = np.random.default_rng(0).standard_normal((5, 6, 6, 1)).astype(np.float32)
        features = fastconv.Model(inputs=model.inputs, outputs=model.layers[2].output)
        expected = x
        for layer in model.layers[:3]:
            expected = layer.forward(expected)
        np.testing.assert_array_equal(features.predict(x), expected)
        pooled = fastconv.Model(model.inputs, model.get_layer(model.layers[1].name).output)
        assert pooled.output_shape == (None, 2, 2, 2)
        both = fastconv.Model(model.inputs, [layer.output for layer in model.layers])
        assert [o.shape for o in both.predict(x)] == [(5, 4, 4, 2), (5, 2, 2, 2), (5, 8),
                                                       (5, 3)]

    def test_nested_sequential_trains_and_matches_its_parts(self):
        np.random.seed(0)
        base = models.Sequential([layers.Flatten(input_shape=(6, 6, 1)),
                                  layers.Dense(3)], name="base")
        model = models.Sequential([base, layers.Softmax()])
        assert model.count_params() == base.count_params() == 36 * 3 + 3
        x, y = _two_in_two_out_data()
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
        before = base.get_weights()[0].copy()
        model.fit(x[0], y[0], epochs=2, verbose=0)
        assert not np.array_equal(base.get_weights()[0], before), "the inner model trained"
        logits = base.predict(x[0])
        expected = np.exp(logits - logits.max(1, keepdims=True))
        np.testing.assert_allclose(model.predict(x[0]), expected / expected.sum(1, keepdims=True),
                                   rtol=1e-5)

    def test_a_model_inside_a_functional_model(self):
        inner = models.Sequential([layers.Dense(4, activation="relu")], name="block")
        inputs = fastconv.Input(shape=(3,))
        outputs = layers.Dense(1)(inner(inputs))
        model = fastconv.Model(inputs, outputs)
        assert inner.built and inner.input_shape == (None, 3)
        assert [layer.name for layer in model.layers][1] == "block"
        assert model.count_params() == 3 * 4 + 4 + 4 + 1

    def test_an_ensemble_of_models_averaged(self):
        def member():
            inputs = fastconv.Input(shape=(5,))
            return fastconv.Model(inputs, layers.Dense(1)(inputs))

        members = [member() for _ in range(3)]
        inputs = fastconv.Input(shape=(5,))
        ensemble = fastconv.Model(inputs, layers.average([m(inputs) for m in members]))
        ensemble.compile("sgd", "mse")
        x = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)
        ensemble.fit(x, x.sum(axis=1), epochs=2, verbose=0)
        expected = sum(m.predict(x) for m in members) / 3
        np.testing.assert_allclose(ensemble.predict(x), expected, rtol=1e-6)
        lines = []
        ensemble.summary(lines.append)
        assert sum("(Functional)" in line for line in lines) == 3

    def test_frozen_inner_model_is_not_trained(self):
        inner = models.Sequential([layers.Dense(4, input_shape=(3,))])
        inner.trainable = False
        model = models.Sequential([inner, layers.Dense(1)])
        model.compile("sgd", "mse")
        before = inner.get_weights()
        model.fit(np.ones((8, 3)), np.zeros((8, 1)), verbose=0)
        for a, b in zip(before, inner.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_sequential_and_functional_train_identically(self):
        x, y = _two_in_two_out_data(32)
        weights = []
        for functional in (False, True):
            np.random.seed(3)
            stack = [layers.Conv2D(2, 3, activation="relu"), layers.Flatten(),
                     layers.Dropout(0.2), layers.Dense(3, activation="softmax")]
            if functional:
                inputs = fastconv.Input(shape=(6, 6, 1))
                outputs = inputs
                for layer in stack:
                    outputs = layer(outputs)
                model = fastconv.Model(inputs, outputs)
            else:
                model = models.Sequential([layers.Input(shape=(6, 6, 1))] + stack)
            # The two build in different orders, so start them from the same state.
            model.set_weights([np.random.default_rng(i).uniform(-0.3, 0.3, w.shape)
                               for i, w in enumerate(model.get_weights())])
            model.shuffle_rng = np.random.default_rng(5)
            model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
            model.fit(x[0], y[0], batch_size=8, epochs=2, verbose=0)
            weights.append(model.get_weights())
        for a, b in zip(*weights):
            np.testing.assert_array_equal(a, b)

    def test_summary_has_the_connected_to_column(self):
        model = _residual_model()
        lines = []
        model.summary(print_fn=lines.append)
        names = [layer.name for layer in model.layers]
        body = lines[lines.index("=" * len(lines[1])) + 1:]
        assert lines[0] == f'Model: "{model.name}"'
        assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#",
                                    "Connected", "to"]
        assert body[0].split() == [names[0], "(InputLayer)", "(None,", "6,", "6,", "2)", "0",
                                   "-"]
        assert body[4].split() == [names[4], "(Add)", "(None,", "6,", "6,", "3)", "0",
                                   f"{names[1]}[0][0]"]
        assert body[5].split() == [f"{names[3]}[0][0]"], "a second connection, own line"
        assert lines[-4].startswith("Total params: 661 (") and lines[-3] == "Trainable params: 661"

    def test_sequential_summary_has_no_connections(self):
        lines = []
        models.Sequential([layers.Dense(2, input_shape=(3,))]).summary(lines.append)
        assert "Connected to" not in "\n".join(lines)


class TestBatchSteps:
    def test_test_and_predict_on_batch(self):
        model = _two_in_two_out()
        model.compile("sgd", ["sparse_categorical_crossentropy", "mse"])
        x, y = _two_in_two_out_data(8)
        before = model.get_weights()
        logs = model.test_on_batch(x, y, return_dict=True)
        assert list(logs) == ["loss", "label_loss", "score_loss"]
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
        label, score = model.predict_on_batch(x)
        np.testing.assert_array_equal(label, model.predict(x)[0])
        assert logs["score_loss"] == pytest.approx(np.square(score - y[1]).mean(), rel=1e-6)

    def test_sequential_pop_and_layer_inputs(self):
        model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])
        last = model.pop()
        assert isinstance(last, layers.Dense) and model.output_shape == (None, 4)
        assert model.layers[0].input is model.inputs[0]
        assert model.predict(np.ones((2, 3))).shape == (2, 4)
        model.add(last)  # its node was dropped with the pop, so it can come back
        assert model.output_shape == (None, 2) and last.output is model.outputs[0]


class TestSaving:
    def test_files_of_the_first_release_still_load(self, tmp_path):
        """0.1.0 wrote format "fastconv.Sequential" with the bare Sequential config."""
        model = models.Sequential([layers.Dense(3, input_shape=(4,))])
        model.compile("adam", "mse", ["mae"])
        x = np.ones((4, 4), np.float32)
        model.fit(x, np.zeros((4, 3)), verbose=0)
        model.save(tmp_path / "new.npz")
        with np.load(tmp_path / "new.npz", allow_pickle=False) as data:
            arrays = dict(data)
        header = json.loads(str(arrays["fastconv_header"][()]))
        header.update(format="fastconv.Sequential", model=header["model"]["config"])
        arrays["fastconv_header"] = np.array(json.dumps(header))
        np.savez(tmp_path / "old.npz", **arrays)
        old = models.load_model(tmp_path / "old.npz")
        np.testing.assert_array_equal(old.predict(x), model.predict(x))
        assert old.optimizer.iterations == 1 and old.metrics_names == ["loss", "mae"]

    def test_config_round_trip(self):
        model = _two_in_two_out()
        clone = fastconv.Model.from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        again = models.model_from_json(model.to_json())
        assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]

    def test_shared_and_nested_config_round_trip(self):
        inner = models.Sequential([layers.Dense(2, input_shape=(3,))], name="inner")
        a, b = fastconv.Input(shape=(3,)), fastconv.Input(shape=(3,))
        shared = layers.Dense(3, name="shared")
        out = layers.Add()([inner(shared(a)), inner(shared(b))])
        model = fastconv.Model([a, b], out)
        clone = fastconv.Model.from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert clone.count_params() == model.count_params()

    @pytest.mark.parametrize("build", ["residual", "two_in_two_out", "nested"])
    def test_save_load_predicts_identically_and_resumes_bitwise(self, tmp_path, build):
        np.random.seed(7)
        if build == "residual":
            model = _residual_model()
            x, y = _inputs([(6, 6, 2)], seed=1)[0].astype(np.float32), np.arange(3) % 4
            loss = "sparse_categorical_crossentropy"
        elif build == "two_in_two_out":
            model = _two_in_two_out()
            x, y = _two_in_two_out_data(24)
            loss = {"label": "sparse_categorical_crossentropy", "score": "mse"}
        else:
            inner = models.Sequential([layers.Dense(8, activation="relu"),
                                       layers.Dropout(0.3)], name="inner")
            inputs = fastconv.Input(shape=(6, 6, 1))
            x_ = layers.Flatten()(inputs)
            model = fastconv.Model(inputs, layers.Dense(3, activation="softmax")(inner(x_)))
            x, y = _two_in_two_out_data(24)
            x, y = x[0], y[0]
            loss = "sparse_categorical_crossentropy"
        model.compile(optimizers.Adam(0.01), loss, loss_weights=None)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        model.save(tmp_path / "m.npz")
        loaded = models.load_model(tmp_path / "m.npz")
        assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
        for a, b in zip(*[np.atleast_1d(m.predict(x)) if build != "two_in_two_out"
                          else m.predict(x) for m in (model, loaded)]):
            np.testing.assert_array_equal(a, b)
        model.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, verbose=0)
        loaded.fit(x, y, batch_size=8, epochs=3, initial_epoch=loaded.epoch, verbose=0)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            np.testing.assert_array_equal(a, b)


class TestUnsupportedUses:
    def test_a_subclassed_model_with_call(self):
        class MyModel(fastconv.Model):
            def __init__(self):
                super().__init__()
                self.dense = layers.Dense(2)

            def call(self, inputs):
                return self.dense(inputs)

        with pytest.raises(TypeError, match="MyModel subclasses Model with its own call"):
            MyModel()

    @pytest.mark.parametrize("use, match", [
        (lambda t: np.exp(t), "NumPy operation np.exp"),
        (lambda t: np.concatenate([t, t]), "NumPy function np.concatenate"),
        (lambda t: np.asarray(t), "NumPy function"),
        (lambda t: t + 1, r"operator \+"),
        (lambda t: 2 * t, r"operator \*"),
        (lambda t: math.exp(t), r"float\(\)"),
        (lambda t: t[:, 0], "indexing or slicing"),
    ])
    def test_numpy_and_python_operations_on_symbolic_tensors(self, use, match):
        t = fastconv.Input(shape=(3,))
        with pytest.raises(TypeError, match=match) as info:
            use(t)
        assert "symbolic tensor" in str(info.value) and "use a layer" in str(info.value)

    def test_an_array_as_a_model_output(self):
        with pytest.raises(TypeError, match="outputs must be symbolic tensors"):
            fastconv.Model(fastconv.Input(shape=(3,)), np.zeros((1, 3)))

    def test_a_cycle_in_a_config(self):
        inputs = fastconv.Input(shape=(3,), name="x")
        out = layers.Dense(3, name="b")(layers.Dense(3, name="a")(inputs))
        config = fastconv.Model(inputs, out).get_config()
        config["layers"][1]["inbound_nodes"][0]["inputs"] = [["b", 0, 0]]  # a <- b <- a
        with pytest.raises(ValueError, match=r"cycle.*\['a', 'b'\]"):
            fastconv.Model.from_config(config)

    def test_a_model_containing_itself(self):
        model = models.Sequential([layers.Dense(3, input_shape=(3,))])
        with pytest.raises(ValueError, match="cannot contain itself"):
            model.add(model)

    def test_a_disconnected_graph(self):
        a, b = fastconv.Input(shape=(3,), name="a"), fastconv.Input(shape=(3,), name="b")
        out = layers.Add()([a, b])
        with pytest.raises(ValueError, match="disconnected.*'b'"):
            fastconv.Model(a, out)

    def test_shape_errors_name_both_layers_and_shapes(self):
        x = layers.Dense(10, name="features")(fastconv.Input(shape=(4,)))
        with pytest.raises(ValueError, match=r"layer 'conv' \(Conv2D\) cannot take input\(s\) "
                                             r"\(None, 10\) from layer 'features' \(Dense\).*"
                                             r"rank 4"):
            layers.Conv2D(2, 3, name="conv")(x)
        y = layers.Dense(3)(fastconv.Input(shape=(4,)))
        with pytest.raises(ValueError, match=r"Add.*\(None, 10\).*\(None, 3\).*same shape"):
            layers.Add()([x, y])

    def test_a_list_to_a_layer_of_one_input(self):
        a, b = fastconv.Input(shape=(3,)), fastconv.Input(shape=(3,))
        with pytest.raises(TypeError, match="takes one input, got a list of 2"):
            layers.Dense(2)([a, b])

    def test_mixing_arrays_and_symbolic_tensors(self):
        with pytest.raises(TypeError, match="mixing symbolic tensors and ndarray"):
            layers.Add()([fastconv.Input(shape=(3,)), np.zeros((1, 3))])

    def test_unsupported_input_arguments(self):
        with pytest.raises(ValueError, match="sparse"):
            fastconv.Input(shape=(3,), sparse=True)
