"""One training loop for every model: the Trainer that Model mixes in (compile, fit,
evaluate, predict, train_on_batch, test_on_batch, predict_on_batch)."""
from fastconv.trainer.trainer import Trainer

__all__ = ["Trainer"]
