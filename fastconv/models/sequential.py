"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

Training randomness comes from generators seeded from NumPy's global one when the
model (or a Dropout layer) is created, so `np.random.seed(...)` first makes a run
repeatable; their states are saved with the model, so a saved and reloaded model
continues exactly as the original would have.
"""
import contextlib
import json
import math
import signal
import threading
import warnings

import numpy as np

from fastconv import callbacks as callbacks_module
from fastconv import layers as layers_module
from fastconv import losses, optimizers
from fastconv import metrics as metrics_module
from fastconv._blas_threads import single_threaded_blas
from fastconv._progress import ProgbarLogger, ProgressBar
from fastconv.layers.base import Layer, unique_name
from fastconv.layers.input import InputLayer
from fastconv.models import data, saving
from fastconv.models.summary import summary_lines

__all__ = ["Sequential"]


def _new_generator():
    return np.random.default_rng(np.random.randint(2**63, dtype=np.int64))


def _resolve_verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


class _EpochMeans:
    """Running means of the loss (weighted by batch size) and of the metrics."""

    def __init__(self, metric_objects):
        self.metrics = metric_objects
        for m in self.metrics:
            m.reset_state()
        self.loss_sum = 0.0
        self.count = 0

    def update(self, loss, y_true, y_pred):
        self.loss_sum += loss * len(y_pred)
        self.count += len(y_pred)
        for m in self.metrics:
            m.update_state(y_true, y_pred)

    def results(self):
        logs = {"loss": self.loss_sum / max(self.count, 1)}
        logs.update((m.name, m.result()) for m in self.metrics)
        return logs


@contextlib.contextmanager
def _interrupts_at_batch_boundaries():
    """Hold Ctrl-C (SIGINT) until the running batch is done; yields a function that
    raises the held KeyboardInterrupt. Only where Python's default handler is active
    (in the main thread): a handler the user installed is left alone."""
    pending = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: None
        return

    def hold(signum, frame):
        pending.append(signum)

    def raise_pending():
        if pending:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, hold)
    try:
        yield raise_pending
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Sequential:
    """A linear stack of layers: `Sequential([Conv2D(...), MaxPooling2D(), ...])`.

    Attributes: `layers`, `optimizer`, `loss`, `history` (of the last fit), `epoch`
    (epochs trained so far; saved with the model), `stop_training` (set by callbacks).
    """

    def __init__(self, layers=None, name=None):
        self.name = name or unique_name("sequential")
        self._layers = []
        self._input_shape = None
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self.history = None
        self.epoch = 0
        self.stop_training = False
        self.shuffle_rng = _new_generator()
        for layer in layers or []:
            self.add(layer)

    # -- structure -----------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + self._input_shape

    @property
    def output_shape(self):
        self._require_built()
        return (None,) + self._layers[-1].output_shape

    @property
    def built(self):
        return self._input_shape is not None and all(layer.built for layer in self._layers)

    def add(self, layer):
        """Append a layer; it is built at once if the model's input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a fastconv layer, got "
                            f"{type(layer).__name__} {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_shape is not None:
                raise ValueError("an InputLayer can only be the first layer of a model")
            self._input_shape = layer.input_shape
            return
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"the model already has a layer named {layer.name!r}: layer "
                             f"names must be unique")
        if not self._layers and self._input_shape is None:
            self._input_shape = layer.declared_input_shape
        self._layers.append(layer)
        if self._input_shape is not None:
            try:
                self._build_layers()
            except ValueError:
                self._layers.pop()  # leave the model as it was
                raise

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (batch dimension included, as Keras)."""
        if input_shape is not None:
            self._input_shape = tuple(int(d) for d in tuple(input_shape)[1:])
        if self._input_shape is None:
            raise ValueError("build needs an input shape, e.g. model.build((None, 28, 28, 1))")
        self._build_layers()

    def _build_layers(self):
        shape = self._input_shape
        for layer in self._layers:
            if not layer.built:
                layer.build(shape)
            elif layer.input_shape != tuple(shape):
                raise ValueError(f"layer {layer.name!r} was built for inputs of shape "
                                 f"(None,) + {layer.input_shape}, but receives (None,) + "
                                 f"{tuple(shape)}")
            shape = layer.output_shape

    def _require_built(self):
        if not self._layers:
            raise ValueError("the model has no layers yet: add some with model.add(...)")
        if not self.built:
            raise ValueError("this model has not been built yet: give the first layer an "
                             "input_shape, start with layers.Input(shape=...), call "
                             "model.build((None, ...)), or fit/predict on data first")

    def summary(self, print_fn=None):
        """Print a table of the layers, their output shapes and parameter counts."""
        self._require_built()
        print_fn = print_fn or print
        for line in summary_lines(self):
            print_fn(line)

    # -- weights -------------------------------------------------------------------
    def count_params(self):
        self._require_built()
        return sum(layer.count_params() for layer in self._layers)

    def get_weights(self):
        """All layers' weights (copies), layer by layer in Keras's order."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        weights = list(weights)
        self._require_built()
        expected = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError(f"model {self.name!r} has {expected} weight arrays, got "
                             f"{len(weights)}")
        start = 0
        for layer in self._layers:
            count = len(layer.weights)
            layer.set_weights(weights[start:start + count])
            start += count

    def _trainable_pairs(self):
        """(gradient, parameter) for every trainable parameter, in a fixed order."""
        return [(layer.grads[key], param) for layer in self._layers if layer.trainable
                for key, param in layer.params.items()]

    def _trainable_params(self):
        return [param for layer in self._layers if layer.trainable
                for param in layer.params.values()]

    # -- compile -------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics ("accuracy", ...) for training."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = None if loss is None else losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        self.compiled_metrics = list(metrics)
        for m in self.compiled_metrics:  # fail now on unknown names, not in fit
            metrics_module.get(m, self.loss)

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ValueError("the model must be compiled with a loss before training or "
                             "evaluating: call model.compile(optimizer, loss, metrics)")

    @property
    def metrics_names(self):
        return ["loss"] + [m if isinstance(m, str) else m.name for m in self.compiled_metrics]

    def _metric_objects(self):
        output_shape = self._layers[-1].output_shape
        return [metrics_module.get(m, self.loss, output_shape) for m in self.compiled_metrics]

    # -- the computation -----------------------------------------------------------
    def _forward(self, x, training):
        for layer in self._layers:
            x = layer.forward(x, training)
        return x

    __call__ = _forward

    def _loss_and_gradient(self, y_true, y_pred):
        """The batch loss, and the gradient that starts the backward pass.

        When the loss fuses with the last layer's activation (softmax + cross-entropy),
        the gradient is with respect to that layer's pre-activation (the logits), and
        `pre_activation` is True.
        """
        last = self._layers[-1]
        if self.loss.fuses_with(last.activation):
            loss, grad = self.loss.loss_and_gradient_from_logits(
                y_true, last.pre_activation, y_pred)
            return loss, grad, True
        loss, grad = self.loss.loss_and_gradient(y_true, y_pred)
        return loss, grad, False

    def _train_step(self, x, y, means):
        y_pred = self._forward(x, training=True)
        loss, grad, pre_activation = self._loss_and_gradient(y, y_pred)
        last = self._layers[-1]
        grad = last.backward_call(grad) if pre_activation else last.backward(grad)
        for i in range(len(self._layers) - 2, -1, -1):
            # Nothing uses the first layer's dx: it may skip computing it.
            grad = self._layers[i].backward(grad, input_gradient=i > 0)
        self.optimizer.apply_gradients(self._trainable_pairs())
        means.update(loss, y, y_pred)
        return loss

    @single_threaded_blas()
    def train_on_batch(self, x, y):
        """One optimizer step on one batch; returns the loss (and metrics, as evaluate)."""
        self._require_compiled()
        x, y = self._checked_data(x, y)
        means = _EpochMeans(self._metric_objects())
        self._train_step(x, y, means)
        return self._as_evaluate_result(means.results(), return_dict=False)

    def _checked_data(self, x, y):
        x = data.as_inputs(x, self._input_shape)
        y = data.check_same_length(x, y)
        if self._input_shape is None:
            self.build((None,) + x.shape[1:])
        self._require_built()
        return x, self.loss.check_targets(y, self._layers[-1].output_shape)

    # -- fit -----------------------------------------------------------------------
    @single_threaded_blas()
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for `epochs` epochs (counting from initial_epoch); returns a History whose
        `history` dict holds the per-epoch loss, metrics and val_ values.

        Ctrl-C (KeyboardInterrupt) takes effect when the running batch is done, so the
        weights and optimizer state are those after a whole number of steps; then, as
        in Keras, the KeyboardInterrupt propagates, and `model.history` holds the
        History of the epochs completed so far (Keras sets it after every epoch).
        """
        self._require_compiled()
        batch_size = data.check_batch_size(batch_size)
        verbose = _resolve_verbose(verbose)
        x, y = self._checked_data(x, y)
        if validation_data is not None:
            x_val, y_val = self._checked_data(*data.unpack_validation_data(validation_data))
        elif validation_split:
            (x, y), (x_val, y_val) = data.validation_split(x, y, validation_split)
        else:
            x_val = y_val = None

        n = len(x)
        steps = math.ceil(n / batch_size)
        history = callbacks_module.History()
        progress = [ProgbarLogger(verbose)] if verbose else []
        callback_list = callbacks_module.CallbackList(
            progress + list(callbacks or []) + [history], self,
            {"epochs": epochs, "steps": steps, "batch_size": batch_size, "samples": n,
             "verbose": verbose})
        metric_objects = self._metric_objects()
        self.stop_training = False
        warned_nan = False
        callback_list.on_train_begin()
        self.history = history
        with _interrupts_at_batch_boundaries() as raise_pending_interrupt:
            for epoch in range(initial_epoch, epochs):
                callback_list.on_epoch_begin(epoch)
                order = self.shuffle_rng.permutation(n) if shuffle else np.arange(n)
                means = _EpochMeans(metric_objects)
                for step in range(steps):
                    batch = order[step * batch_size:(step + 1) * batch_size]
                    callback_list.on_train_batch_begin(step)
                    loss = self._train_step(x[batch], y[batch], means)
                    if not math.isfinite(loss) and not warned_nan:
                        warnings.warn(f"the loss is {loss} at epoch {epoch + 1}, batch "
                                      f"{step + 1}: training diverged (try a lower learning "
                                      f"rate, and check the inputs for NaN or inf)",
                                      RuntimeWarning, stacklevel=2)
                        warned_nan = True
                    callback_list.on_train_batch_end(step, means.results())
                    raise_pending_interrupt()
                logs = means.results()
                if x_val is not None:
                    val_logs = self._evaluate_arrays(x_val, y_val, batch_size, verbose=0)
                    logs.update((f"val_{k}", v) for k, v in val_logs.items())
                # Before the callbacks: a ModelCheckpoint file must count this epoch.
                self.epoch = epoch + 1
                callback_list.on_epoch_end(epoch, logs)
                raise_pending_interrupt()
                if self.stop_training:
                    break
        callback_list.on_train_end()
        return history

    # -- evaluate / predict --------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, verbose):
        means = _EpochMeans(self._metric_objects())
        steps = math.ceil(len(x) / batch_size)
        bar = ProgressBar(steps, verbose)
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            y_pred = self._forward(x[batch], training=False)
            loss, _, _ = self._loss_and_gradient(y[batch], y_pred)
            means.update(loss, y[batch], y_pred)
            bar.update(step + 1, min((step + 1) * batch_size, len(x)), means.results())
        results = means.results()
        bar.finish(len(x), results)
        return results

    def _as_evaluate_result(self, results, return_dict):
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    @single_threaded_blas()
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """The loss and metrics on (x, y): [loss, metric, ...], or the loss alone when
        compiled without metrics, or a dict with return_dict=True."""
        self._require_compiled()
        batch_size = data.check_batch_size(batch_size)
        x, y = self._checked_data(x, y)
        results = self._evaluate_arrays(x, y, batch_size, _resolve_verbose(verbose))
        return self._as_evaluate_result(results, return_dict)

    @single_threaded_blas()
    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x, computed batch by batch (inference mode)."""
        batch_size = data.check_batch_size(batch_size)
        x = data.as_inputs(x, self._input_shape)
        if self._input_shape is None:
            self.build((None,) + x.shape[1:])
        self._require_built()
        steps = math.ceil(len(x) / batch_size)
        bar = ProgressBar(steps, _resolve_verbose(verbose))
        out = None
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            y_pred = self._forward(x[batch], training=False)
            if out is None:
                out = np.empty((len(x),) + y_pred.shape[1:], dtype=y_pred.dtype)
            out[batch] = y_pred
            bar.update(step + 1, min((step + 1) * batch_size, len(x)), {})
        bar.finish(len(x), {})
        return out

    # -- config and saving ---------------------------------------------------------
    def get_config(self):
        return {"name": self.name,
                "input_shape": None if self._input_shape is None else list(self._input_shape),
                "layers": [layers_module.serialize(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config):
        try:
            model = cls(name=config["name"])
            if config.get("input_shape") is not None:
                model._input_shape = tuple(int(d) for d in config["input_shape"])
            for layer_config in config["layers"]:
                model.add(layers_module.deserialize(layer_config))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad Sequential config ({type(exc).__name__}: {exc})") from None
        return model

    def to_json(self):
        return json.dumps({"class_name": "Sequential", "config": self.get_config()})

    def _compile_config(self):
        if self.optimizer is None:
            return None
        return {"optimizer": optimizers.serialize(self.optimizer),
                "loss": None if self.loss is None else losses.serialize(self.loss),
                "metrics": self.metrics_names[1:]}

    def save(self, filepath):
        """Save architecture, weights, optimizer state, epoch count and random-generator
        states to one .npz file (written atomically); load it with load_model."""
        self._require_built()
        weights = self.get_weights()
        iterations, slots = (0, []) if self.optimizer is None else self.optimizer.get_state()
        header = {"format": saving.MODEL_FORMAT, "version": saving.FORMAT_VERSION,
                  "model": self.get_config(), "compile": self._compile_config(),
                  "epoch": self.epoch, "weights": len(weights),
                  "optimizer": {"iterations": iterations, "slots": len(slots)},
                  "rng": {"shuffle": self.shuffle_rng.bit_generator.state,
                          "layers": {layer.name: layer.rng.bit_generator.state
                                     for layer in self._layers if layer.rng is not None}}}
        arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
        arrays.update((f"optimizer_{i}", s) for i, s in enumerate(slots))
        saving.write_archive(filepath, header, arrays)

    def export(self, filepath, format="onnx"):
        """Write the model for another runtime (ONNX; see fastconv.export), as Keras 3."""
        from fastconv.export import export_model
        return export_model(self, filepath, format)

    def save_weights(self, filepath):
        """Save only the weights (Keras's order) to an .npz file, atomically."""
        weights = self.get_weights()
        header = {"format": saving.WEIGHTS_FORMAT, "version": saving.FORMAT_VERSION,
                  "weights": len(weights)}
        saving.write_archive(filepath, header,
                             {f"weight_{i}": w for i, w in enumerate(weights)})

    def load_weights(self, filepath):
        """Load weights saved by save_weights (or by save) into this model."""
        header, arrays = saving.read_archive(
            filepath, (saving.WEIGHTS_FORMAT, saving.MODEL_FORMAT))
        self.set_weights(saving.numbered(arrays, "weight", header.get("weights", -1)))

    def _restore_state(self, header, arrays, compile):
        """Weights, then (with compile) the optimizer, epoch count and generator states."""
        self.set_weights(saving.numbered(arrays, "weight", header["weights"]))
        self.epoch = int(header["epoch"])
        self.shuffle_rng.bit_generator.state = header["rng"]["shuffle"]
        for layer in self._layers:
            if layer.rng is not None and layer.name in header["rng"]["layers"]:
                layer.rng.bit_generator.state = header["rng"]["layers"][layer.name]
        if compile and header["compile"] is not None:
            config = header["compile"]
            self.compile(optimizers.deserialize(config["optimizer"]),
                         None if config["loss"] is None else losses.deserialize(config["loss"]),
                         config["metrics"])
            state = header["optimizer"]
            if state["slots"] or state["iterations"]:
                self.optimizer.set_state(state["iterations"],
                                         saving.numbered(arrays, "optimizer", state["slots"]),
                                         self._trainable_params())

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self._layers)}>"
