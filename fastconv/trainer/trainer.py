"""The Trainer: compile, fit, evaluate, predict and the *_on_batch steps, one code path
for every model (Keras 3's Trainer, mixed into Model).

Training randomness comes from generators seeded from NumPy's global one when the
model (or a Dropout layer) is created, so `np.random.seed(...)` first makes a run
repeatable; their states are saved with the model, so a saved and reloaded model
continues exactly as the original would have.

What the Trainer needs from the model: `input_names`, `output_names`, `outputs`,
`prepare_for_inputs(xs)` (build a model that waits for its input shape),
`input_shapes_for_data()`, `run_forward(xs, training)`, `run_backward(grads, fused)`,
`output_activation(i)`, `output_logits(i)`, `trainable_pairs()`, and the penalties of
fastconv.layers.penalties: `losses`, `add_regularization_gradients()` and
`apply_constraints()`.

The loss that training minimises and reports is Keras's: the compiled losses plus the
model's regularization penalties (`model.losses`), in fit and evaluate alike.
"""
import contextlib
import math
import warnings

import numpy as np

from fastconv import callbacks as callbacks_module
from fastconv import optimizers
from fastconv._blas_threads import single_threaded_blas
from fastconv._progress import ProgbarLogger, ProgressBar
from fastconv.distribute import context as distribute_context
from fastconv.models import data
from fastconv.trainer import batches, prefetch
from fastconv.trainer.compile_utils import CompiledOutputs, EpochMeans
from fastconv.trainer.interrupts import interrupts_at_batch_boundaries

__all__ = ["Trainer"]

# compile() arguments that only tune how TensorFlow/JAX run the step: nothing to tune here.
_BACKEND_ONLY = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


def _new_generator():
    return np.random.default_rng(np.random.randint(2**63, dtype=np.int64))


def _resolve_verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


def _warn_out_of_data(epoch, epochs):
    if epoch < epochs:
        warnings.warn(f"your input ran out of data after {epoch} epoch(s) of {epochs}: "
                      f"training stops here (use a generator that repeats, and "
                      f"steps_per_epoch)", UserWarning, stacklevel=3)


def _batch(arrays, index):
    return [a[index] for a in arrays]


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
        self._initial_epoch = None  # set by BackupAndRestore in on_train_begin
        self.shuffle_rng = _new_generator()
        # The MPIStrategy whose scope() made or compiled the model (None: one process).
        self.distribute_strategy = distribute_context.current_strategy()

    # -- compile -------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, **kwargs):
        """Choose the optimizer, the loss(es) and the metrics ("accuracy", ...) for training.

        With several outputs, `loss`, `loss_weights`, `metrics` and `weighted_metrics` may
        be lists (in the order of model.outputs) or dicts keyed by output name; one loss
        serves every output. `metrics` ignore sample_weight and class_weight;
        `weighted_metrics` are the same metrics weighted by them (Keras's rule).
        """
        unknown = sorted(set(kwargs) - set(_BACKEND_ONLY))
        if unknown:
            raise TypeError(f"compile got unexpected keyword argument(s) {', '.join(unknown)}")
        self.optimizer = optimizers.get(optimizer)
        self.distribute_strategy = (distribute_context.current_strategy()
                                    or self.distribute_strategy)
        self._compile_arguments = {"loss": loss, "metrics": metrics,
                                   "loss_weights": loss_weights,
                                   "weighted_metrics": weighted_metrics}
        self._compiled = CompiledOutputs(output_names=self.output_names,
                                         **self._compile_arguments)
        losses = self._compiled.losses
        self.loss = losses[0] if len(losses) == 1 else losses
        self.compiled_metrics = [m for ids in self._compiled.metric_groups() for m in ids]

    def _compiled_for_outputs(self):
        """The compile choices, resolved again if the model was built after compile (a
        Sequential learns its output names when it sees data)."""
        if self._compiled.output_names != self.output_names:
            self._compiled = CompiledOutputs(output_names=self.output_names,
                                             **self._compile_arguments)
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

    def _checked_batch(self, x, y, sample_weight, class_weight=None):
        """One batch from a generator or PyDataset, checked as fit checks arrays."""
        xs, ys = self._inputs_and_targets(x, y)
        weights = batches.check_sample_weight(sample_weight, len(xs[0]))
        if class_weight is not None:
            weights = self._class_weights(class_weight, ys, weights)
        return xs, ys, weights

    def _class_weights(self, class_weight, ys, weights):
        if len(ys) != 1:
            raise ValueError("class_weight is only supported for models with one output "
                             "(as in Keras): use sample_weight instead")
        return batches.class_weights_as_sample_weights(class_weight, ys[0], weights)

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
    def _train_step(self, xs, ys, means, sample_weight=None):
        strategy = self.distribute_strategy
        if strategy is not None and not len(xs[0]):  # no share of a last, short batch
            strategy.average_gradients(self.trainable_pairs(), 0)
            self._apply_update()
            return 0.0
        y_preds = self.run_forward(xs, training=True)
        loss, output_losses = self._losses(ys, y_preds, sample_weight, backward=True)
        if strategy is not None:
            strategy.average_gradients(self.trainable_pairs(), len(y_preds[0]))
        self._apply_update()
        means.update(loss, output_losses, ys, y_preds, sample_weight)
        return loss

    def _losses(self, ys, y_preds, sample_weight, backward):
        """(total loss with the penalties, [loss per output]) of the last forward pass;
        with backward, the gradients too (the penalties' included)."""
        loss, output_losses, grads, fused = self._compiled.losses_and_gradients(
            self, ys, y_preds, sample_weight)
        loss += sum(self.losses)  # before the step: the penalties of these weights
        if backward:
            self.run_backward(grads, fused)
            self.add_regularization_gradients()
        return loss, output_losses

    def _apply_update(self):
        """The optimizer step, then the weight constraints (Keras's order)."""
        self.optimizer.apply_gradients(self.trainable_pairs())
        self.apply_constraints()

    def _test_step(self, xs, ys, means, sample_weight=None):
        if not len(xs[0]):  # a replica's empty share of a last, short batch
            return
        y_preds = self.run_forward(xs, training=False)
        loss, output_losses = self._losses(ys, y_preds, sample_weight, backward=False)
        means.update(loss, output_losses, ys, y_preds, sample_weight)

    @single_threaded_blas()
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics, as evaluate)."""
        xs, ys, weights = self._checked_batch(x, y, sample_weight, class_weight)
        means = self._new_means()
        self._train_step(xs, ys, means, weights)
        return self._as_evaluate_result(means.results(), return_dict)

    @single_threaded_blas()
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics, as evaluate) on one batch, without training."""
        xs, ys, weights = self._checked_batch(x, y, sample_weight)
        means = self._new_means()
        self._test_step(xs, ys, means, weights)
        return self._as_evaluate_result(means.results(), return_dict)

    @single_threaded_blas()
    def predict_on_batch(self, x):
        """The model's outputs for one batch (inference mode)."""
        return self._as_outputs(self.run_forward(self._inputs(x), training=False))

    # -- where batches come from ---------------------------------------------------
    def _source(self, x, y, sample_weight, batch_size, steps, shuffle, class_weight=None,
                what="x", workers=None, max_queue_size=None):
        """The batches of (x, y, sample_weight): arrays checked once, or a generator /
        PyDataset whose batches are checked one by one (made on a background thread
        unless workers=0; see _made_batches)."""
        steps = batches.check_steps("steps" if what == "x" else what, steps)
        rng = self.shuffle_rng if shuffle else None
        if batches.is_batch_source(x):
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(f"{name} must not be given when x is a generator or a "
                                     f"PyDataset (Keras's rule): yield (x, y, sample_weight) "
                                     f"batches instead")
            return batches.make_source(x, steps, rng, workers, max_queue_size)
        xs, ys = self._inputs_and_targets(x, y)
        weights = batches.check_sample_weight(sample_weight, len(xs[0]))
        if class_weight is not None:
            weights = self._class_weights(class_weight, ys, weights)
        return batches.ArrayBatches((xs, ys, weights), batch_size, steps, rng)

    @staticmethod
    def _made_batches(source, on_wait=None):
        """A context manager giving the raw batches of one epoch of a source: made on a
        background thread when source.prefetch > 0 (generators and PyDatasets), in this
        thread otherwise; leaving it stops that thread and closes the epoch."""
        made = source.epoch()
        if source.prefetch:
            return prefetch.Prefetcher(made, source.prefetch, on_wait)
        return contextlib.closing(made)

    @contextlib.contextmanager
    def _batches(self, source, class_weight=None, on_wait=None):
        """A context manager giving the checked (xs, ys, sample_weight) batches of one
        epoch of a source; under a distribution strategy, this replica's contiguous
        share of each (global) batch."""
        with self._made_batches(source, on_wait) as made:
            yield self._checked_batches(source, made, class_weight)

    def _checked_batches(self, source, made, class_weight):
        if isinstance(source, batches.ArrayBatches):
            checked = made
        else:
            checked = (self._checked_batch(x, y, sample_weight, class_weight)
                       for x, y, sample_weight in made)
        for xs, ys, weights in checked:
            if self.distribute_strategy is not None:
                xs, ys = self._replica_part(xs), self._replica_part(ys)
                weights, = self._replica_part([weights])
            yield xs, ys, weights

    def _validation_source(self, validation_data, batch_size, validation_steps,
                           workers=None, max_queue_size=None):
        if batches.is_batch_source(validation_data):
            x_val, y_val, w_val = validation_data, None, None
        else:
            x_val, y_val, w_val = data.unpack_validation_data(validation_data)
        return self._source(x_val, y_val, w_val, batch_size, validation_steps, False,
                            what="validation_steps", workers=workers,
                            max_queue_size=max_queue_size)

    # -- fit -----------------------------------------------------------------------
    @single_threaded_blas()
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, max_queue_size=None, workers=None,
            use_multiprocessing=False):
        """Train for `epochs` epochs (counting from initial_epoch); returns a History whose
        `history` dict holds the per-epoch loss, metrics and val_ values.

        x may be arrays (with y), or a generator / iterator / fastconv.utils.PyDataset
        yielding (x, y) or (x, y, sample_weight) batches; validation_data likewise, or a
        tuple (x_val, y_val[, sample_weight_val]). See fastconv.trainer.batches for what
        steps_per_epoch and validation_steps mean for each.

        The batches of a generator or PyDataset are made on a background thread, up to
        two ahead of training (in order: the results are those of making them here).
        Keras 2's `workers=0` (or a PyDataset's) makes them in this thread instead;
        `max_queue_size` caps how far ahead (at 2); `use_multiprocessing` is accepted,
        but a thread is used.

        Ctrl-C (KeyboardInterrupt) takes effect when the running batch is done, so the
        weights and optimizer state are those after a whole number of steps; then, as
        in Keras, the KeyboardInterrupt propagates, and `model.history` holds the
        History of the epochs completed so far (Keras sets it after every epoch).
        """
        batch_size = data.check_batch_size(batch_size)
        validation_batch_size = (batch_size if validation_batch_size is None
                                 else data.check_batch_size(validation_batch_size))
        verbose = self._replica_verbose(_resolve_verbose(verbose))
        batches.should_validate(0, validation_freq)  # checks it
        if validation_split and validation_data is None:
            if batches.is_batch_source(x):
                raise ValueError("validation_split is only supported for arrays, not for "
                                 "a generator or a PyDataset: pass validation_data")
            self._require_compiled()
            xs, ys = self._inputs_and_targets(x, y)
            (xs, xs_val), (ys, ys_val) = (data.split_arrays(xs, validation_split),
                                          data.split_arrays(ys, validation_split))
            w_val = None
            if sample_weight is not None:
                weights = batches.check_sample_weight(sample_weight, len(xs[0]) +
                                                      len(xs_val[0]))
                sample_weight, w_val = weights[:len(xs[0])], weights[len(xs[0]):]
            x, y, validation_data = xs, ys, (xs_val, ys_val, w_val)
        self._require_compiled()
        source = self._source(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                              class_weight, "steps_per_epoch", workers, max_queue_size)
        val_source = (None if validation_data is None else self._validation_source(
            validation_data, validation_batch_size, validation_steps, workers,
            max_queue_size))
        if self.distribute_strategy is not None:
            self.distribute_strategy.check_global_batch(batch_size,
                                                        source.samples or batch_size)
            self.distribute_strategy.broadcast_model(self)

        history = callbacks_module.History()
        given = list(callbacks or [])
        has_progress = any(isinstance(c, ProgbarLogger) for c in given)
        progress = [ProgbarLogger(verbose)] if verbose and not has_progress else []
        callback_list = callbacks_module.CallbackList(
            progress + given + [history], self,
            {"epochs": epochs, "steps": source.steps, "batch_size": batch_size,
             "samples": source.samples, "verbose": verbose})
        metric_objects = self._compiled.metric_objects(self._output_shapes())
        self.stop_training = False
        warned_nan = False
        self._initial_epoch = None
        callback_list.on_train_begin()
        if self._initial_epoch is not None:  # BackupAndRestore resumed a run
            initial_epoch, self._initial_epoch = self._initial_epoch, None
        self.history = history
        logs = None
        with interrupts_at_batch_boundaries() as raise_pending_interrupt:
            for epoch in range(initial_epoch, epochs):
                callback_list.on_epoch_begin(epoch)
                means = EpochMeans(self._compiled, metric_objects)
                with self._batches(source, class_weight,
                                   raise_pending_interrupt) as epoch_batches:
                    for step, (xs, ys, weights) in enumerate(epoch_batches):
                        callback_list.on_train_batch_begin(step)
                        loss = self._train_step(xs, ys, means, weights)
                        if not math.isfinite(loss) and not warned_nan:
                            warnings.warn(f"the loss is {loss} at epoch {epoch + 1}, batch "
                                          f"{step + 1}: training diverged (try a lower "
                                          f"learning rate, and check the inputs for NaN "
                                          f"or inf)", RuntimeWarning, stacklevel=2)
                            warned_nan = True
                        callback_list.on_train_batch_end(step, self._results(means))
                        raise_pending_interrupt()
                        if self.stop_training:  # Keras stops after the batch that asked
                            break
                if means.count == 0:  # an iterator that had run out: nothing trained
                    _warn_out_of_data(epoch, epochs)
                    break
                source.end_epoch()
                logs = self._results(means)
                if self.distribute_strategy is not None:
                    self.distribute_strategy.synchronize_weights(self)
                if val_source is not None and batches.should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_source(val_source, callback_list, verbose=0)
                    logs.update((f"val_{k}", v) for k, v in val_logs.items())
                # Before the callbacks: a ModelCheckpoint file must count this epoch.
                self.epoch = epoch + 1
                callback_list.on_epoch_end(epoch, logs)
                raise_pending_interrupt()
                if getattr(source, "exhausted", False):
                    _warn_out_of_data(epoch + 1, epochs)
                    break
                if self.stop_training:
                    break
        callback_list.on_train_end(logs)
        return history

    # -- evaluate / predict --------------------------------------------------------
    def _evaluate_source(self, source, callback_list, verbose):
        means = self._new_means()
        bar = ProgressBar(source.steps or 0, verbose)
        callback_list.on_test_begin()
        seen = 0
        with self._batches(source) as epoch_batches:
            for step, (xs, ys, weights) in enumerate(epoch_batches):
                callback_list.on_test_batch_begin(step)
                self._test_step(xs, ys, means, weights)
                seen += len(xs[0])
                results = self._results(means)
                callback_list.on_test_batch_end(step, results)
                bar.update(step + 1, seen, results)
        results = self._results(means)
        if means.count == 0:
            raise ValueError("evaluation got no batches: the generator yielded nothing")
        bar.steps = step + 1
        bar.finish(seen, results)
        callback_list.on_test_end(results)
        return results

    def _predict_batches(self, inputs, callback_list, bar):
        """The outputs of each batch of inputs, and the number of samples."""
        pieces, seen = [], 0
        for step, batch_inputs in enumerate(inputs):
            callback_list.on_predict_batch_begin(step)
            y_preds = self.run_forward(batch_inputs, training=False)
            pieces.append(y_preds)
            seen += len(y_preds[0])
            callback_list.on_predict_batch_end(step, {"outputs": self._as_outputs(y_preds)})
            bar.update(step + 1, seen, {})
        return pieces, seen

    @staticmethod
    def _as_evaluate_result(results, return_dict):
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def _as_outputs(self, arrays):
        return arrays if len(arrays) > 1 else arrays[0]

    def _callback_list(self, callbacks, verbose, steps):
        return callbacks_module.CallbackList(list(callbacks or []), self,
                                             {"verbose": verbose, "epochs": 1, "steps": steps})

    @single_threaded_blas()
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, max_queue_size=None,
                 workers=None, use_multiprocessing=False):
        """The loss and metrics on (x, y): [loss, metric, ...], or the loss alone when
        compiled without metrics, or a dict with return_dict=True. x may also be a
        generator or PyDataset of (x, y[, sample_weight]) batches (steps: how many;
        workers, max_queue_size: as in fit)."""
        batch_size = data.check_batch_size(batch_size)
        verbose = self._replica_verbose(_resolve_verbose(verbose))
        self._require_compiled()
        source = self._source(x, y, sample_weight, batch_size, steps, False,
                              workers=workers, max_queue_size=max_queue_size)
        results = self._evaluate_source(
            source, self._callback_list(callbacks, verbose, source.steps), verbose)
        return self._as_evaluate_result(results, return_dict)

    @single_threaded_blas()
    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=None, workers=None, use_multiprocessing=False):
        """The model's outputs for x (a list of arrays for a model of several outputs),
        computed batch by batch (inference mode). x may also be a generator or PyDataset
        of batches (x alone, or (x, ...) tuples whose first entry is used; workers,
        max_queue_size: as in fit)."""
        batch_size = data.check_batch_size(batch_size)
        verbose = self._replica_verbose(_resolve_verbose(verbose))
        steps = batches.check_steps("steps", steps)
        if batches.is_batch_source(x):
            source = batches.make_source(x, steps, None, workers, max_queue_size)
        else:
            # Under a strategy each replica predicts its contiguous share; gathered below.
            xs = self._replica_part(self._inputs(x))
            n = len(xs[0])
            count = min(math.ceil(n / batch_size), steps or math.inf)
            inputs = (_batch(xs, slice(i * batch_size, (i + 1) * batch_size))
                      for i in range(count))
            source = None
        callback_list = self._callback_list(callbacks, verbose,
                                            None if source is None else source.steps)
        bar = ProgressBar(0 if source is None else source.steps or 0, verbose)
        if source is None:
            bar.steps = count
        callback_list.on_predict_begin()
        if source is None:
            pieces, seen = self._predict_batches(inputs, callback_list, bar)
        else:
            with self._made_batches(source) as made:
                pieces, seen = self._predict_batches((self._inputs(b[0]) for b in made),
                                                     callback_list, bar)
        if not pieces:
            raise ValueError("predict got no batches: the generator yielded nothing")
        bar.steps = len(pieces)
        bar.finish(seen, {})
        callback_list.on_predict_end()
        outs = [np.concatenate(p) for p in zip(*pieces)]
        if self.distribute_strategy is not None and source is None:
            outs = self.distribute_strategy.gather(outs)
        return self._as_outputs(outs)
