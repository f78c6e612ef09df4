"""The Trainer: compile, fit, evaluate, predict and the *_on_batch steps, one code path
for every model (Keras 3's Trainer, mixed into Model).

Training randomness comes from generators seeded from NumPy's global one when the
model (or a Dropout layer) is created, so `np.random.seed(...)` first makes a run
repeatable; their states are saved with the model, so a saved and reloaded model
continues exactly as the original would have.

What the Trainer needs from the model: `input_names`, `output_names`, `outputs`,
`prepare_for_inputs(xs)` (build a model that waits for its input shape),
`input_shapes_for_data()`, `run_forward(xs, training)`, `run_backward(grads, fused)`,
`output_activation(i)`, `output_logits(i)` and `trainable_pairs()`.
"""
import math
import warnings

import numpy as np

from fastconv import callbacks as callbacks_module
from fastconv import optimizers
from fastconv._blas_threads import single_threaded_blas
from fastconv._progress import ProgbarLogger, ProgressBar
from fastconv.distribute import context as distribute_context
from fastconv.models import data
from fastconv.trainer.compile_utils import CompiledOutputs, EpochMeans
from fastconv.trainer.interrupts import interrupts_at_batch_boundaries

__all__ = ["Trainer"]

# compile() arguments that only tune how TensorFlow/JAX run the step: nothing to tune here.
_BACKEND_ONLY = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


def _new_generator():
    return np.random.default_rng(np.random.randint(2**63, dtype=np.int64))


def _resolve_verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


def _batch(arrays, index):
    return [None if a is None else a[index] for a in arrays]


class Trainer:
    """Training for a model. Attributes: `optimizer`, `loss`, `history` (of the last fit),
    `epoch` (epochs trained so far; saved with the model), `stop_training` (set by
    callbacks), `shuffle_rng` (the generator of fit's shuffling)."""

    def _init_trainer(self):
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self._compiled = None
        self._compile_arguments = None
        self.history = None
        self.epoch = 0
        self.stop_training = False
        self.shuffle_rng = _new_generator()
        # The MPIStrategy whose scope() made or compiled the model (None: one process).
        self.distribute_strategy = distribute_context.current_strategy()

    # -- compile -------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, **kwargs):
        """Choose the optimizer, the loss(es) and the metrics ("accuracy", ...) for training.

        With several outputs, `loss`, `loss_weights` and `metrics` may be lists (in the
        order of model.outputs) or dicts keyed by output name; one loss serves every output.
        """
        unknown = sorted(set(kwargs) - set(_BACKEND_ONLY))
        if unknown:
            raise TypeError(f"compile got unexpected keyword argument(s) {', '.join(unknown)}")
        if weighted_metrics is not None:
            raise TypeError("compile(weighted_metrics=...) is not supported by fastconv "
                            "(there are no sample weights)")
        self.optimizer = optimizers.get(optimizer)
        self.distribute_strategy = (distribute_context.current_strategy()
                                    or self.distribute_strategy)
        self._compile_arguments = (loss, metrics, loss_weights)
        self._compiled = CompiledOutputs(loss, metrics, loss_weights, self.output_names)
        losses = self._compiled.losses
        self.loss = losses[0] if len(losses) == 1 else losses
        self.compiled_metrics = [m for ids in self._compiled.metric_ids for m in ids]

    def _compiled_for_outputs(self):
        """The compile choices, resolved again if the model was built after compile (a
        Sequential learns its output names when it sees data)."""
        if self._compiled.output_names != self.output_names:
            self._compiled = CompiledOutputs(*self._compile_arguments, self.output_names)
        return self._compiled

    def _require_compiled(self):
        if self.optimizer is None or self._compiled is None or not self._compiled.has_loss:
            raise ValueError("the model must be compiled with a loss before training or "
                             "evaluating: call model.compile(optimizer, loss, metrics)")

    @property
    def metrics_names(self):
        """The names of evaluate's values, in order ("loss", then the metrics)."""
        if self._compiled is None:
            return ["loss"]
        return self._compiled_for_outputs().metric_names()

    def _output_shapes(self):
        return [t.shape for t in self.outputs]

    # -- data ----------------------------------------------------------------------
    def _inputs(self, x):
        xs = data.as_input_list(x, self.input_names, self.input_shapes_for_data())
        self.prepare_for_inputs(xs)
        return xs

    def _inputs_and_targets(self, x, y):
        self._require_compiled()
        xs = self._inputs(x)  # a Sequential may learn its output names here
        compiled = self._compiled_for_outputs()
        ys = data.as_target_list(y, self.output_names, len(xs[0]))
        for name, target, loss in zip(self.output_names, ys, compiled.losses):
            if target is None and loss is not None:
                raise ValueError(f"y has no targets for output {name!r}, which has a loss")
        return xs, compiled.check_targets(ys, self._output_shapes())

    def _new_means(self):
        compiled = self._compiled
        return EpochMeans(compiled, compiled.metric_objects(self._output_shapes()))

    # -- distribution hooks (no-ops without a strategy) -------------------------------
    def _replica_part(self, arrays):
        strategy = self.distribute_strategy
        return arrays if strategy is None else strategy.local_part(arrays)

    def _results(self, means):
        strategy = self.distribute_strategy
        return means.results() if strategy is None else strategy.reduce_results(means)

    def _replica_verbose(self, verbose):
        strategy = self.distribute_strategy
        return verbose if strategy is None or strategy.is_chief else 0

    # -- one batch -----------------------------------------------------------------
    def _train_step(self, xs, ys, means):
        strategy = self.distribute_strategy
        if strategy is not None and not len(xs[0]):  # no share of a last, short batch
            strategy.average_gradients(self.trainable_pairs(), 0)
            self.optimizer.apply_gradients(self.trainable_pairs())
            return 0.0
        y_preds = self.run_forward(xs, training=True)
        loss, output_losses, grads, fused = self._compiled.losses_and_gradients(
            self, ys, y_preds)
        self.run_backward(grads, fused)
        if strategy is not None:
            strategy.average_gradients(self.trainable_pairs(), len(y_preds[0]))
        self.optimizer.apply_gradients(self.trainable_pairs())
        means.update(loss, output_losses, ys, y_preds)
        return loss

    def _test_step(self, xs, ys, means):
        y_preds = self.run_forward(xs, training=False)
        loss, output_losses, _, _ = self._compiled.losses_and_gradients(self, ys, y_preds)
        means.update(loss, output_losses, ys, y_preds)

    @single_threaded_blas()
    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics, as evaluate)."""
        xs, ys = self._inputs_and_targets(x, y)
        means = self._new_means()
        self._train_step(xs, ys, means)
        return self._as_evaluate_result(means.results(), return_dict)

    @single_threaded_blas()
    def test_on_batch(self, x, y, return_dict=False):
        """The loss (and metrics, as evaluate) on one batch, without training."""
        xs, ys = self._inputs_and_targets(x, y)
        means = self._new_means()
        self._test_step(xs, ys, means)
        return self._as_evaluate_result(means.results(), return_dict)

    @single_threaded_blas()
    def predict_on_batch(self, x):
        """The model's outputs for one batch (inference mode)."""
        return self._as_outputs(self.run_forward(self._inputs(x), training=False))

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
        batch_size = data.check_batch_size(batch_size)
        verbose = self._replica_verbose(_resolve_verbose(verbose))
        xs, ys = self._inputs_and_targets(x, y)
        if validation_data is not None:
            xs_val, ys_val = self._inputs_and_targets(
                *data.unpack_validation_data(validation_data))
        elif validation_split:
            (xs, xs_val), (ys, ys_val) = (data.split_arrays(xs, validation_split),
                                          data.split_arrays(ys, validation_split))
        else:
            xs_val = ys_val = None

        n = len(xs[0])
        steps = math.ceil(n / batch_size)
        if self.distribute_strategy is not None:
            self.distribute_strategy.check_global_batch(batch_size, n)
            self.distribute_strategy.broadcast_model(self)
        history = callbacks_module.History()
        progress = [ProgbarLogger(verbose)] if verbose else []
        callback_list = callbacks_module.CallbackList(
            progress + list(callbacks or []) + [history], self,
            {"epochs": epochs, "steps": steps, "batch_size": batch_size, "samples": n,
             "verbose": verbose})
        metric_objects = self._compiled.metric_objects(self._output_shapes())
        self.stop_training = False
        warned_nan = False
        callback_list.on_train_begin()
        self.history = history
        with interrupts_at_batch_boundaries() as raise_pending_interrupt:
            for epoch in range(initial_epoch, epochs):
                callback_list.on_epoch_begin(epoch)
                order = self.shuffle_rng.permutation(n) if shuffle else np.arange(n)
                means = EpochMeans(self._compiled, metric_objects)
                for step in range(steps):
                    batch, = self._replica_part([order[step * batch_size:(step + 1) * batch_size]])
                    callback_list.on_train_batch_begin(step)
                    loss = self._train_step(_batch(xs, batch), _batch(ys, batch), means)
                    if not math.isfinite(loss) and not warned_nan:
                        warnings.warn(f"the loss is {loss} at epoch {epoch + 1}, batch "
                                      f"{step + 1}: training diverged (try a lower learning "
                                      f"rate, and check the inputs for NaN or inf)",
                                      RuntimeWarning, stacklevel=2)
                        warned_nan = True
                    callback_list.on_train_batch_end(step, self._results(means))
                    raise_pending_interrupt()
                logs = self._results(means)
                if self.distribute_strategy is not None:
                    self.distribute_strategy.synchronize_weights(self)
                if xs_val is not None:
                    val_logs = self._evaluate_arrays(xs_val, ys_val, batch_size, verbose=0)
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
    def _evaluate_arrays(self, xs, ys, batch_size, verbose):
        means = self._new_means()
        xs, ys = self._replica_part(xs), self._replica_part(ys)
        verbose = self._replica_verbose(verbose)
        n = len(xs[0])
        steps = math.ceil(n / batch_size)
        bar = ProgressBar(steps, verbose)
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            self._test_step(_batch(xs, batch), _batch(ys, batch), means)
            bar.update(step + 1, min((step + 1) * batch_size, n), means.results())
        results = self._results(means)
        bar.finish(n, results)
        return results

    @staticmethod
    def _as_evaluate_result(results, return_dict):
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def _as_outputs(self, arrays):
        return arrays if len(arrays) > 1 else arrays[0]

    @single_threaded_blas()
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """The loss and metrics on (x, y): [loss, metric, ...], or the loss alone when
        compiled without metrics, or a dict with return_dict=True."""
        batch_size = data.check_batch_size(batch_size)
        xs, ys = self._inputs_and_targets(x, y)
        results = self._evaluate_arrays(xs, ys, batch_size, _resolve_verbose(verbose))
        return self._as_evaluate_result(results, return_dict)

    @single_threaded_blas()
    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x (a list of arrays for a model of several outputs),
        computed batch by batch (inference mode)."""
        batch_size = data.check_batch_size(batch_size)
        xs = self._replica_part(self._inputs(x))
        n = len(xs[0])
        steps = math.ceil(n / batch_size)
        bar = ProgressBar(steps, self._replica_verbose(_resolve_verbose(verbose)))
        outs = None
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            y_preds = self.run_forward(_batch(xs, batch), training=False)
            if outs is None:
                outs = [np.empty((n,) + p.shape[1:], dtype=p.dtype) for p in y_preds]
            for out, p in zip(outs, y_preds):
                out[batch] = p
            bar.update(step + 1, min((step + 1) * batch_size, n), {})
        bar.finish(n, {})
        if self.distribute_strategy is not None:
            outs = self.distribute_strategy.gather(outs)
        return self._as_outputs(outs)
