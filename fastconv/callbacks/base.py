"""The Callback base class with Keras's full hook set, the CallbackList that fit,
evaluate and predict drive, and History.

A callback's hooks get the epoch (0-based) or batch index and a `logs` dict: per batch
the running means so far ("loss", "accuracy", ...), per epoch the epoch's means plus
"val_..." entries when there is validation data.
"""

__all__ = ["Callback", "CallbackList", "History"]


class Callback:
    """Base class: override the hooks you need; `self.model` is the model being trained."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    # Keras's full hook set. on_batch_begin/on_batch_end are what older Keras programs
    # override: the training-batch hooks call them, as in Keras.
    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


def _forwarding(hook):
    def forward(self, *args, **kwargs):
        for callback in self.callbacks:
            getattr(callback, hook)(*args, **kwargs)
    forward.__name__ = hook
    return forward


class CallbackList(Callback):
    """Forwards every hook to each callback, in order."""

    def __init__(self, callbacks, model, params):
        super().__init__()
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be fastconv.callbacks.Callback objects, "
                                f"got {type(callback).__name__}")
            callback.set_model(model)
            callback.set_params(params)


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _forwarding(_hook))


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is the list of epoch losses."""

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
