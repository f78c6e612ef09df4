"""What compile() chose, per model output: the loss, its weight and the metrics; and the
running means of an epoch.

`loss`, `loss_weights` and `metrics` take Keras's forms: one value for every output, a
list in the order of model.outputs, or a dict keyed by output name (the name of the
layer making the output). The logs are named as Keras 3 names them: "loss" (the
weighted total), and with several outputs "<output>_loss" and "<output>_<metric>".
"""
import copy
import numbers

from fastconv import losses as losses_module
from fastconv import metrics as metrics_module

__all__ = ["CompiledOutputs", "EpochMeans"]


def _per_output(argument, value, names, default):
    """value as a list with one entry per output name (dict or list form resolved)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{argument} has entries for {unknown}, which are not outputs of "
                             f"the model; its outputs are {names}")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{argument} is a list of {len(value)} entries, but the model has "
                             f"{len(names)} output(s) {names}: give one entry per output, or "
                             f"a dict keyed by output name")
        return list(value)
    return [value] * len(names)


def _metric_list(entry):
    if entry is None:
        return []
    return list(entry) if isinstance(entry, (list, tuple)) else [entry]


def _per_output_metrics(metrics, names):
    """metrics as one list of identifiers per output."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        return [_metric_list(m) for m in _per_output("metrics", metrics, names, None)]
    if isinstance(metrics, (str, metrics_module.Metric)):
        metrics = [metrics]
    metrics = list(metrics)
    nested = all(m is None or isinstance(m, (list, tuple)) for m in metrics)
    if len(names) == 1:
        return [_metric_list(metrics[0]) if nested and len(metrics) == 1 else metrics]
    if len(metrics) == len(names):
        return [_metric_list(m) for m in metrics]
    if len(metrics) == 1:  # Keras 2: one metric list for every output
        return [_metric_list(metrics[0]) for _ in names]
    raise ValueError(f"metrics is a list of {len(metrics)} entries, but the model has "
                     f"{len(names)} outputs {names}: give one entry (a metric or a list of "
                     f"them) per output, or a dict keyed by output name")


class CompiledOutputs:
    """The loss (a Loss or None), loss weight and metric identifiers of each output."""

    def __init__(self, loss, metrics, loss_weights, output_names):
        self.output_names = list(output_names)
        self.losses = [None if entry is None else losses_module.get(entry)
                       for entry in _per_output("loss", loss, self.output_names, None)]
        self.weights = []
        for weight in _per_output("loss_weights", loss_weights, self.output_names, 1.0):
            weight = 1.0 if weight is None else weight
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                raise TypeError(f"loss_weights must be numbers, got {weight!r}")
            self.weights.append(float(weight))
        self.metric_ids = _per_output_metrics(metrics, self.output_names)
        for loss, ids in zip(self.losses, self.metric_ids):
            for m in ids:  # fail now on unknown names, not in fit
                metrics_module.get(m, loss)

    @property
    def has_loss(self):
        return any(loss is not None for loss in self.losses)

    @property
    def multiple(self):
        return len(self.output_names) > 1

    def metric_objects(self, output_shapes):
        """Fresh metrics per output ("accuracy" resolved from the loss and the shape)."""
        objects, seen = [], set()
        for loss, ids, shape in zip(self.losses, self.metric_ids, output_shapes):
            per_output = []
            for m in ids:
                metric = metrics_module.get(m, loss, shape[1:])
                if id(metric) in seen:  # one Metric object given for several outputs
                    metric = copy.deepcopy(metric)
                seen.add(id(metric))
                per_output.append(metric)
            objects.append(per_output)
        return objects

    def metric_names(self):
        """The logs' keys in order, as Keras names them."""
        names = ["loss"]
        if self.multiple:
            names += [f"{o}_loss" for o, loss in zip(self.output_names, self.losses) if loss]
        for output, ids in zip(self.output_names, self.metric_ids):
            for m in ids:
                name = m if isinstance(m, str) else m.name
                names.append(f"{output}_{name}" if self.multiple else name)
        return names

    def check_targets(self, ys, output_shapes):
        """Each target array as its loss expects it (outputs without a loss: as given)."""
        return [y if loss is None else loss.check_targets(y, shape[1:])
                for y, loss, shape in zip(ys, self.losses, output_shapes)]

    def losses_and_gradients(self, model, ys, y_preds, sample_weight=None):
        """(weighted total loss, [loss per output or None], [gradient per output or None],
        [indices of outputs whose gradient is with respect to the pre-activation]).
        sample_weight: None, or one weight per sample, the same for every output."""
        total, values, grads, fused = 0.0, [], [], []
        for i, (loss, weight) in enumerate(zip(self.losses, self.weights)):
            if loss is None:
                values.append(None)
                grads.append(None)
                continue
            activation = model.output_activation(i)
            if activation is not None and loss.fuses_with(activation):
                value, grad = loss.loss_and_gradient_from_logits(
                    ys[i], model.output_logits(i), y_preds[i], sample_weight=sample_weight)
                fused.append(i)
            else:
                value, grad = loss.loss_and_gradient(ys[i], y_preds[i], sample_weight)
            if weight != 1.0:
                grad = grad * grad.dtype.type(weight)
            total += weight * value
            values.append(value)
            grads.append(grad)
        return total, values, grads, fused


class EpochMeans:
    """Running means over an epoch: the total loss and per-output losses (weighted by
    batch size) and the metrics."""

    def __init__(self, compiled, metric_objects):
        self.compiled = compiled
        self.metrics = metric_objects
        for per_output in self.metrics:
            for m in per_output:
                m.reset_state()
        self.loss_sum = 0.0
        self.output_sums = [0.0] * len(compiled.output_names)
        self.count = 0

    def update(self, loss, output_losses, ys, y_preds):
        n = len(y_preds[0])
        self.loss_sum += loss * n
        self.count += n
        for i, value in enumerate(output_losses):
            if value is not None:
                self.output_sums[i] += value * n
        for y, y_pred, per_output in zip(ys, y_preds, self.metrics):
            for m in per_output:
                m.update_state(y, y_pred)

    def results(self):
        count = max(self.count, 1)
        logs = {"loss": self.loss_sum / count}
        c = self.compiled
        if c.multiple:
            logs.update((f"{o}_loss", total / count) for o, loss, total
                        in zip(c.output_names, c.losses, self.output_sums) if loss)
        for output, per_output in zip(c.output_names, self.metrics):
            logs.update((f"{output}_{m.name}" if c.multiple else m.name, m.result())
                        for m in per_output)
        return logs
