"""What compile() chose, per model output: the loss, its weight and the metrics; and the
running means of an epoch.

`loss`, `loss_weights`, `metrics` and `weighted_metrics` take Keras's forms: one value
for every output, a list in the order of model.outputs, or a dict keyed by output name
(the name of the layer making the output). The logs are named as Keras 3 names them:
"loss" (the weighted total), and with several outputs "<output>_loss" and
"<output>_<metric>"; then the weighted metrics, a name already taken getting the prefix
"weighted_". Metrics see the sample weights (sample_weight, class_weight) only when
they are weighted metrics.
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


def _metric_name(identifier):
    return identifier if isinstance(identifier, str) else identifier.name


def _unique_names(names, weighted):
    """Keras 3's log keys: a repeated name gets _1, _2, ...; a weighted metric whose name
    is taken becomes weighted_<name> (numbered in turn if that is taken too)."""
    counts, result = {}, []
    for (output, name), is_weighted in zip(names, weighted):
        key = f"{output}_{name}" if output else name
        if key in counts and is_weighted:
            key = f"{output}_weighted_{name}" if output else f"weighted_{name}"
        if key in counts:
            counts[key] += 1
            key = f"{key}_{counts[key] - 1}"
        else:
            counts[key] = 1
        result.append(key)
    return result


class CompiledOutputs:
    """The loss (a Loss or None), loss weight and metric identifiers of each output; the
    metrics form groups: the plain ones of each output, then the weighted ones of each."""

    def __init__(self, loss, metrics, loss_weights, output_names, weighted_metrics=None):
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
        self.weighted_metric_ids = _per_output_metrics(weighted_metrics, self.output_names)
        for loss, ids in zip(self.losses * 2, self.metric_groups()):
            for m in ids:  # fail now on unknown names, not in fit
                metrics_module.get(m, loss)

    @property
    def has_loss(self):
        return any(loss is not None for loss in self.losses)

    @property
    def multiple(self):
        return len(self.output_names) > 1

    def metric_groups(self):
        """The metric identifiers of each group: per output, then weighted per output."""
        return self.metric_ids + self.weighted_metric_ids

    def is_weighted(self, group):
        return group >= len(self.output_names)

    def metric_objects(self, output_shapes):
        """Fresh metrics per group ("accuracy" resolved from the loss and the shape)."""
        objects, seen = [], set()
        for loss, ids, shape in zip(self.losses * 2, self.metric_groups(), output_shapes * 2):
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
        metrics, weighted = [], []
        for group, ids in enumerate(self.metric_groups()):
            output = self.output_names[group % len(self.output_names)] if self.multiple else ""
            metrics += [(output, _metric_name(m)) for m in ids]
            weighted += [self.is_weighted(group)] * len(ids)
        return names + _unique_names(metrics, weighted)

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
    batch size) and the metrics (`metrics`: CompiledOutputs.metric_objects's groups)."""

    def __init__(self, compiled, metric_objects):
        self.compiled = compiled
        self.metrics = metric_objects
        for per_output in self.metrics:
            for m in per_output:
                m.reset_state()
        self.loss_sum = 0.0
        self.output_sums = [0.0] * len(compiled.output_names)
        self.count = 0

    def update(self, loss, output_losses, ys, y_preds, sample_weight=None):
        n = len(y_preds[0])
        self.loss_sum += loss * n
        self.count += n
        for i, value in enumerate(output_losses):
            if value is not None:
                self.output_sums[i] += value * n
        for group, metrics in enumerate(self.metrics):
            i = group % len(ys)
            for m in metrics:
                if self.compiled.is_weighted(group):
                    m.update_state(ys[i], y_preds[i], sample_weight=sample_weight)
                else:
                    m.update_state(ys[i], y_preds[i])

    def results(self):
        count = max(self.count, 1)
        c = self.compiled
        values = [self.loss_sum / count]
        if c.multiple:
            values += [total / count for loss, total in zip(c.losses, self.output_sums) if loss]
        values += [m.result() for metrics in self.metrics for m in metrics]
        return dict(zip(c.metric_names(), values))
