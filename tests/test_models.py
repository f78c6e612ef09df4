"""Sequential: building, summary, fit/evaluate/predict, errors, save/load, resuming,
reproducibility and the fused softmax/cross-entropy path."""
import os
import warnings

import numpy as np
import pytest

import fastconv
from fastconv import layers, losses, models, optimizers
from fastconv.utils import to_categorical


def _data(n=96, seed=0):
    """A learnable 3-class problem on 8x8x1 images: which third holds the bright blob."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i, label in enumerate(y):
        x[i, 1:7, 2 * label + 1:2 * label + 3, 0] += 1.0
    return x, y


def _cnn(activation="softmax", dropout=None):
    return models.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(),
        layers.Flatten(),
        *([] if dropout is None else [layers.Dropout(dropout)]),
        layers.Dense(3, activation=activation),
    ])


def _compiled(optimizer=None, loss="sparse_categorical_crossentropy", metrics=("accuracy",),
              dropout=None):
    model = _cnn(dropout=dropout)
    model.compile(optimizer=optimizer or optimizers.Adam(0.01), loss=loss,
                  metrics=list(metrics))
    return model


class TestStructure:
    def test_layers_exclude_the_input_layer(self):
        model = models.Sequential([layers.Input(shape=(8, 8, 1)), layers.Flatten(),
                                   layers.Dense(2)])
        assert [type(layer) for layer in model.layers] == [layers.Flatten, layers.Dense]
        assert model.input_shape == (None, 8, 8, 1)
        assert model.output_shape == (None, 2)

    def test_add_builds_when_the_input_shape_is_known(self):
        model = models.Sequential()
        model.add(layers.Dense(5, input_shape=(3,)))
        model.add(layers.Dense(2))
        assert model.built and model.count_params() == 3 * 5 + 5 + 5 * 2 + 2

    def test_build_later_from_a_batch_shape_or_from_data(self):
        model = models.Sequential([layers.Dense(2)])
        assert not model.built
        model.build((None, 4))
        assert model.count_params() == 10
        other = models.Sequential([layers.Dense(2)])
        assert other.predict(np.zeros((3, 6))).shape == (3, 2)

    def test_summary_table(self):
        lines = []
        _cnn().summary(print_fn=lines.append)
        text = "\n".join(lines)
        assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
        assert "(Conv2D)" in text and "(None, 6, 6, 4)" in text and "(None, 3, 3, 4)" in text
        assert "Total params: 151" in text and "Trainable params: 151" in text
        assert "Non-trainable params: 0" in text

    def test_summary_counts_batch_norm_statistics_as_non_trainable(self):
        lines = []
        models.Sequential([layers.BatchNormalization(input_shape=(5,))]).summary(lines.append)
        assert "Non-trainable params: 10" in "\n".join(lines)

    def test_summary_of_an_unbuilt_model_explains(self):
        with pytest.raises(ValueError, match="not been built"):
            models.Sequential([layers.Dense(2)]).summary()

    def test_duplicate_layer_names_are_refused(self):
        model = models.Sequential([layers.Dense(2, name="d", input_shape=(2,))])
        with pytest.raises(ValueError, match="already has a layer named 'd'"):
            model.add(layers.Dense(2, name="d"))

    def test_add_of_an_incompatible_layer_leaves_the_model_unchanged(self):
        model = models.Sequential([layers.Dense(4, input_shape=(3,))])
        with pytest.raises(ValueError, match="rank 4"):
            model.add(layers.Conv2D(2, 3))
        assert len(model.layers) == 1 and model.output_shape == (None, 4)

    def test_add_refuses_non_layers(self):
        with pytest.raises(TypeError, match="fastconv layer"):
            models.Sequential().add("dense")

    def test_get_set_weights_round_trip(self):
        a, b = _cnn(), _cnn()
        b.set_weights(a.get_weights())
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
        with pytest.raises(ValueError, match="4 weight arrays"):
            b.set_weights(a.get_weights()[:3])


class TestTraining:
    def test_fit_learns_and_returns_history(self):
        np.random.seed(0)
        x, y = _data()
        model = _compiled()
        history = model.fit(x, y, batch_size=16, epochs=8, verbose=0,
                            validation_data=_data(48, seed=1))
        assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert len(history.history["loss"]) == 8 and history.epoch == list(range(8))
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert history.history["val_accuracy"][-1] > 0.8
        assert model.history is history and model.epoch == 8

    def test_evaluate_returns_loss_and_metrics_or_a_scalar(self):
        x, y = _data()
        model = _compiled()
        result = model.evaluate(x, y, verbose=0)
        assert isinstance(result, list) and len(result) == 2
        assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}
        model.compile("sgd", "sparse_categorical_crossentropy")
        assert isinstance(model.evaluate(x, y, verbose=0), float)

    def test_evaluate_matches_the_loss_of_predict(self):
        x, y = _data()
        model = _compiled()
        p = model.predict(x, batch_size=7)
        expected = -np.log(p[np.arange(len(y)), y]).mean()
        loss, accuracy = model.evaluate(x, y, batch_size=10, verbose=0)
        assert loss == pytest.approx(expected, rel=1e-5)
        assert accuracy == pytest.approx((p.argmax(1) == y).mean())

    def test_predict_shape_and_dtype(self):
        model = _cnn()
        out = model.predict(_data(10)[0], batch_size=4)
        assert out.shape == (10, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-6)

    def test_validation_split_takes_the_last_samples(self):
        x, y = _data(100)
        model = _compiled()
        history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2, shuffle=False)
        expected = model.evaluate(x[80:], y[80:], verbose=0)
        assert history.history["val_loss"][0] == pytest.approx(expected[0], rel=1e-6)

    def test_train_on_batch(self):
        x, y = _data(16)
        model = _compiled()
        before = model.get_weights()[0].copy()
        loss, accuracy = model.train_on_batch(x, y)
        assert np.isfinite(loss) and 0 <= accuracy <= 1
        assert not np.array_equal(model.get_weights()[0], before)

    def test_initial_epoch_counts_towards_epochs(self):
        x, y = _data(32)
        history = _compiled().fit(x, y, epochs=3, initial_epoch=1, verbose=0)
        assert history.epoch == [1, 2]

    def test_uint8_inputs_are_cast_not_scaled(self):
        model = _cnn()
        x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype(np.uint8)
        np.testing.assert_array_equal(model.predict(x), model.predict(x.astype(np.float32)))

    def test_one_hot_targets_with_categorical_crossentropy(self):
        x, y = _data()
        model = _compiled(loss="categorical_crossentropy")
        model.fit(x, to_categorical(y, 3), epochs=2, verbose=0)
        assert model.evaluate(x, to_categorical(y, 3), verbose=0)[1] > 0.4

    def test_binary_classification_with_sigmoid(self):
        np.random.seed(1)
        rng = np.random.default_rng(1)
        x = rng.standard_normal((200, 4)).astype(np.float32)
        y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
        model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
        model.compile(optimizers.SGD(0.5), "binary_crossentropy", ["accuracy"])
        history = model.fit(x, y, epochs=10, batch_size=20, verbose=0)
        assert history.history["accuracy"][-1] > 0.9


class TestFusedSoftmax:
    """Softmax + cross-entropy take one step from the logits however the model spells it."""

    @staticmethod
    def _one_step(model, loss):
        x, y = _data(32)
        np.random.seed(0)
        model.set_weights([np.random.default_rng(3).uniform(-0.5, 0.5, w.shape)
                           for w in model.get_weights()])
        model.compile(optimizers.SGD(0.1), loss)
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        return model.get_weights()

    def test_dense_softmax_separate_softmax_and_from_logits_agree(self):
        fused = self._one_step(_cnn("softmax"), "sparse_categorical_crossentropy")
        separate = models.Sequential(_cnn(None).layers + [layers.Softmax()])
        separate = self._one_step(separate, "sparse_categorical_crossentropy")
        logits = self._one_step(_cnn(None),
                                losses.SparseCategoricalCrossentropy(from_logits=True))
        for a, b, c in zip(fused, separate, logits):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)

    def test_the_fused_path_is_used_and_survives_saturated_outputs(self):
        model = _cnn()
        model.compile("sgd", "sparse_categorical_crossentropy")
        kernel = model.layers[-1].params["kernel"]
        kernel[...] = 1e3 * np.sign(np.random.default_rng(0).standard_normal(kernel.shape))
        x, y = _data(16)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = model.evaluate(x, y, verbose=0)
        # A probability-space loss would clip at -log(1e-7) = 16.1; from logits it does not.
        assert np.isfinite(loss) and loss > 20


class TestErrors:
    def test_fit_before_compile(self):
        with pytest.raises(ValueError, match="compile"):
            _cnn().fit(*_data(8), verbose=0)

    def test_x_y_length_mismatch(self):
        x, y = _data(10)
        with pytest.raises(ValueError, match="x has 10, y has 9"):
            _compiled().fit(x, y[:9], verbose=0)

    def test_input_shape_mismatch_names_both_shapes(self):
        x, y = _data(10)
        with pytest.raises(ValueError, match=r"\(None,\) \+ \(8, 8, 1\).*\(10, 8, 8\)"):
            _compiled().fit(x[..., 0], y, verbose=0)
        with pytest.raises(ValueError, match="expects inputs"):
            _cnn().predict(np.zeros((2, 9, 9, 1)))

    def test_wrong_number_of_classes(self):
        x, y = _data(10)
        model = _compiled(loss="categorical_crossentropy")
        with pytest.raises(ValueError, match="3 classes, the targets have 4"):
            model.fit(x, np.eye(4)[y % 4], verbose=0)
        with pytest.raises(ValueError, match=r"\[0, 3\)"):
            _compiled().fit(x, y + 3, verbose=0)

    @pytest.mark.parametrize("kwargs, error, match", [
        (dict(optimizer="lion"), ValueError, "unknown optimizer"),
        (dict(loss="hinge"), ValueError, "unknown loss"),
        (dict(metrics=["f1"]), ValueError, "unknown metric"),
        (dict(optimizer=3), TypeError, "optimizer"),
    ])
    def test_compile_names(self, kwargs, error, match):
        args = dict(optimizer="sgd", loss="mse", metrics=None)
        args.update(kwargs)
        with pytest.raises(error, match=match):
            _cnn().compile(**args)

    def test_non_numeric_inputs(self):
        with pytest.raises(TypeError, match="numeric"):
            _cnn().predict(np.array([["a"]]))

    def test_bad_batch_size_and_validation_data(self):
        x, y = _data(8)
        with pytest.raises(ValueError, match="batch_size"):
            _compiled().fit(x, y, batch_size=0, verbose=0)
        with pytest.raises(ValueError, match="validation_data"):
            _compiled().fit(x, y, validation_data=(x,), verbose=0)

    def test_nan_loss_is_reported_once(self):
        x, y = _data(32)
        x[0, 0, 0, 0] = np.nan
        model = _compiled()
        with pytest.warns(RuntimeWarning, match="loss is nan") as record:
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        assert len([w for w in record if "loss is" in str(w.message)]) == 1
        assert np.isnan(history.history["loss"][-1])


class TestSaveLoad:
    def test_round_trip_keeps_everything(self, tmp_path):
        x, y = _data()
        model = _compiled(optimizer=optimizers.SGD(0.05, momentum=0.9))
        model.fit(x, y, epochs=2, verbose=0)
        path = tmp_path / "model.npz"
        model.save(path)
        loaded = models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        assert loaded.optimizer.iterations == model.optimizer.iterations
        assert loaded.epoch == 2
        assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
        assert [f for f in os.listdir(tmp_path)] == ["model.npz"], "no temporary file left"

    def test_file_is_plain_npz_with_json_architecture(self, tmp_path):
        _compiled().save(tmp_path / "m.npz")
        with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
            header = str(data["fastconv_header"][()])
        assert '"class_name": "Conv2D"' in header

    def test_load_without_compile(self, tmp_path):
        _compiled().save(tmp_path / "m.npz")
        assert models.load_model(tmp_path / "m.npz", compile=False).optimizer is None

    def test_resume_is_bitwise_identical(self, tmp_path):
        x, y = _data(64)
        np.random.seed(42)
        # Dropout has its own random generator, which the file must carry too.
        straight = _compiled(optimizer=optimizers.Adam(0.01), dropout=0.3)
        straight.save(tmp_path / "start.npz")
        resumed = models.load_model(tmp_path / "start.npz")

        straight.fit(x, y, batch_size=16, epochs=2, verbose=0)
        resumed.fit(x, y, batch_size=16, epochs=1, verbose=0)
        resumed.save(tmp_path / "half.npz")
        reloaded = models.load_model(tmp_path / "half.npz")
        assert reloaded.epoch == 1
        reloaded.fit(x, y, batch_size=16, epochs=2, initial_epoch=reloaded.epoch, verbose=0)
        for a, b in zip(straight.get_weights(), reloaded.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_save_weights_load_weights(self, tmp_path):
        a, b = _cnn(), _cnn()
        a.save_weights(tmp_path / "w.npz")
        b.load_weights(tmp_path / "w.npz")
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)

    def test_to_json_and_model_from_json(self):
        model = _cnn()
        clone = models.model_from_json(model.to_json())
        assert clone.get_config() == model.get_config()
        with pytest.raises(ValueError):
            models.model_from_json("{}")

    @pytest.mark.parametrize("corrupt", ["truncated", "garbage", "foreign_npz", "npy",
                                         "tampered_weights", "tampered_json"])
    def test_bad_files_raise_value_error(self, tmp_path, corrupt):
        good = tmp_path / "good.npz"
        _compiled().save(good)
        bad = tmp_path / "bad.npz"
        blob = good.read_bytes()
        if corrupt == "truncated":
            bad.write_bytes(blob[:len(blob) // 2])
        elif corrupt == "garbage":
            bad.write_bytes(b"not a model at all")
        elif corrupt == "foreign_npz":
            np.savez(bad, weights=np.zeros(3))
        elif corrupt == "npy":
            with open(bad, "wb") as f:
                np.save(f, np.zeros(3))
        else:
            with np.load(good, allow_pickle=False) as data:
                arrays = dict(data)
            if corrupt == "tampered_weights":
                arrays["weight_0"] = np.zeros((2, 2), np.float32)
            else:
                arrays["fastconv_header"] = np.array(
                    str(arrays["fastconv_header"][()]).replace("Conv2D", "Conv9D"))
            np.savez(bad, **arrays)
        with pytest.raises(ValueError, match="bad.npz"):
            models.load_model(bad)

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            models.load_model(tmp_path / "nothing.npz")

    def test_failed_save_keeps_the_previous_file(self, tmp_path, monkeypatch):
        path = tmp_path / "m.npz"
        model = _compiled()
        model.save(path)
        before = path.read_bytes()

        def broken_savez(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(np, "savez", broken_savez)
        with pytest.raises(OSError, match="disk full"):
            model.save(path)
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == ["m.npz"]


class TestReproducibility:
    @staticmethod
    def _train(seed):
        np.random.seed(seed)
        x, y = _data(64)
        model = _compiled(optimizer=optimizers.SGD(0.05, momentum=0.9), dropout=0.2)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights()

    def test_np_random_seed_makes_training_repeatable(self):
        for a, b in zip(self._train(5), self._train(5)):
            np.testing.assert_array_equal(a, b)
        assert any(not np.array_equal(a, b) for a, b in zip(self._train(5), self._train(6)))

    def test_bitwise_identical_with_one_or_two_threads(self):
        previous = fastconv.get_num_threads()
        try:
            fastconv.set_num_threads(1)
            one = self._train(3)
            fastconv.set_num_threads(2)
            two = self._train(3)
        finally:
            fastconv.set_num_threads(previous)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)
