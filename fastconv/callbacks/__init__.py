"""Callbacks for fit / evaluate / predict, with Keras's names, arguments and behaviour:
the Callback base class (every Keras hook, on_batch_begin/on_batch_end included),
History, ModelCheckpoint, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler,
TerminateOnNaN, LambdaCallback, CSVLogger, BackupAndRestore and ProgbarLogger."""
from fastconv.callbacks.base import Callback, CallbackList, History
from fastconv.callbacks.monitored import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from fastconv.callbacks.control import LambdaCallback, LearningRateScheduler, TerminateOnNaN
from fastconv.callbacks.csv_logger import CSVLogger
from fastconv.callbacks.backup import BackupAndRestore
from fastconv._progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ModelCheckpoint", "EarlyStopping",
           "ReduceLROnPlateau", "LearningRateScheduler", "TerminateOnNaN", "LambdaCallback",
           "CSVLogger", "BackupAndRestore", "ProgbarLogger"]
