"""What a layer adds to training besides its computation: the penalties of its weights
and output (regularizers) and the constraints on its weights (Keras's
`<weight>_regularizer`, `<weight>_constraint` and `activity_regularizer` arguments).

The Trainer uses them in one place for every layer: after the backward pass it adds
each penalised weight's penalty gradient to its gradient (`add_regularization_gradients`)
and after the optimizer step it constrains the weights (`apply_constraints`); the model
adds each activity penalty's gradient to its layer's output gradient
(`activity_gradient`). The penalties themselves, in Keras's order, are `losses`.
"""
from fastconv import constraints, regularizers

__all__ = ["WeightPenalties", "resolve_argument"]


def resolve_argument(module, argument, identifier):
    """module.get(identifier) (a regularizer or a constraint), its errors naming the
    layer argument it came from."""
    try:
        return module.get(identifier)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{argument}: {exc}") from None


class WeightPenalties:
    """The Layer mixin that holds regularizers and constraints.

    Attributes: `activity_regularizer` (or None), `weight_regularizers` and
    `weight_constraints` (weight name -> regularizer / constraint, filled by add_weight).
    """

    def _init_penalties(self, activity_regularizer):
        self.activity_regularizer = resolve_argument(regularizers, "activity_regularizer",
                                                     activity_regularizer)
        self.weight_regularizers, self.weight_constraints = {}, {}
        self._weight_roles = []
        self._activity_losses = []

    def _set_weight_options(self, role, regularizer, constraint):
        """Keep the `<role>_regularizer` and `<role>_constraint` arguments as attributes
        of those names (resolved: names and configs become objects); get_config writes them."""
        for suffix, module, value in (("regularizer", regularizers, regularizer),
                                      ("constraint", constraints, constraint)):
            argument = f"{role}_{suffix}"
            setattr(self, argument, resolve_argument(module, argument, value))
        self._weight_roles.append(role)

    def _weight_options(self, role):
        """add_weight's regularizer= and constraint= for a weight of this role."""
        return {"regularizer": getattr(self, f"{role}_regularizer"),
                "constraint": getattr(self, f"{role}_constraint")}

    def _penalty_config(self):
        """The regularizer and constraint arguments, serialized, for get_config."""
        config = {}
        for role in self._weight_roles:
            config[f"{role}_regularizer"] = regularizers.serialize(
                getattr(self, f"{role}_regularizer"))
            config[f"{role}_constraint"] = constraints.serialize(
                getattr(self, f"{role}_constraint"))
        if self._weight_roles or self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    # -- activity ------------------------------------------------------------------
    def _record_activity(self, output):
        """The activity penalty of this call's output, divided by the batch size as Keras
        does (so that its weight against the weight penalties does not depend on it)."""
        regularizer = self.activity_regularizer
        self._activity_losses = ([] if regularizer is None or not len(output)
                                 else [regularizer(output) / len(output)])

    def activity_gradient(self, dy):
        """dy plus the gradient of the activity penalty of the last call's output."""
        regularizer = self.activity_regularizer
        if regularizer is None or not len(self._output):
            return dy
        output = self._output
        return dy + regularizer.gradient(output) / output.dtype.type(len(output))

    # -- weights -------------------------------------------------------------------
    def _weight_penalties(self):
        # Keras penalises trainable weights only: a frozen layer adds nothing.
        return [regularizer(leaf.params[name]) for leaf in self.leaf_layers() if leaf.trainable
                for name, regularizer in leaf.weight_regularizers.items()
                if name in leaf.params]

    @property
    def losses(self):
        """The penalties (floats) of the last call's activity, then of the weights as they
        are now: what training adds to the loss (Keras's `layer.losses`)."""
        return list(self._activity_losses) + self._weight_penalties()

    def add_regularization_gradients(self):
        """Add each penalised trainable weight's penalty gradient to its gradient (after
        a backward pass filled the gradients)."""
        for leaf in self.leaf_layers():
            if not leaf.trainable:
                continue
            for name, regularizer in leaf.weight_regularizers.items():
                if name in leaf.params:
                    leaf.grads[name] = leaf.grads[name] + regularizer.gradient(leaf.params[name])

    def apply_constraints(self):
        """Constrain each trainable weight in place (after an optimizer step, as Keras)."""
        for leaf in self.leaf_layers():
            if not leaf.trainable:
                continue
            for name, constraint in leaf.weight_constraints.items():
                if name in leaf.params:
                    param = leaf.params[name]
                    param[...] = constraint(param)
