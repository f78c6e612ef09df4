"""Keras-style identifiers for losses, optimizers and initializers.

An identifier is a snake_case name ("adam"), a class name ("Adam"), a config dict
{"class_name": ..., "config": {...}} (what serialize writes into model files), or an
instance, which is returned as it is.
"""


class Registry:
    """Looks up the classes of one kind (e.g. "optimizer") by name or config."""

    def __init__(self, kind, base_class, by_name, example):
        self.kind = kind
        self.base_class = base_class
        self.by_name = dict(by_name)
        self.by_class_name = {cls.__name__: cls for cls in self.by_name.values()}
        self.example = example

    def get(self, identifier):
        """An instance from a name, a class name, a config dict or an instance."""
        if isinstance(identifier, self.base_class):
            return identifier
        if isinstance(identifier, str):
            cls = self.by_name.get(identifier.lower()) or self.by_class_name.get(identifier)
            if cls is None:
                raise ValueError(f"unknown {self.kind} {identifier!r}; expected one of "
                                 f"{sorted(self.by_name)}")
            return cls()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        raise TypeError(f"{self.kind} must be a name such as {self.example!r} or a fastconv "
                        f"{self.kind} object, got {type(identifier).__name__} {identifier!r}")

    def serialize(self, obj):
        """A JSON-ready {"class_name": ..., "config": ...} dict."""
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    def deserialize(self, config):
        """The inverse of serialize; a plain name is accepted too."""
        if isinstance(config, str):
            return self.get(config)
        cls = self.by_class_name.get(config.get("class_name")) if isinstance(config, dict) else None
        if cls is None:
            raise ValueError(f"unknown {self.kind} config {config!r}; expected a class_name "
                             f"among {sorted(self.by_class_name)}")
        try:
            return cls.from_config(config.get("config", {}))
        except TypeError as exc:
            raise ValueError(f"bad config for {self.kind} {config['class_name']}: {exc}") from None


class Configurable:
    """from_config (the constructor called with get_config()'s dict) and a repr that
    shows that config: the base of initializers and learning-rate schedules."""

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        """A new object that get_config() describes."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
