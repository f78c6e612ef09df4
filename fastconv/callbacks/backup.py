"""BackupAndRestore: survive an interrupted fit. After each epoch the whole training
state (weights, optimizer state, epoch count, random generator states) goes to
backup_dir; a new fit with the same callback starts from that state and epoch, so the
run ends exactly as an uninterrupted one would; a fit that completes deletes the backup.
"""
import os

from fastconv.callbacks.base import Callback

__all__ = ["BackupAndRestore"]

BACKUP_FILE = "latest.npz"


class BackupAndRestore(Callback):
    """Keras's BackupAndRestore(backup_dir, save_freq="epoch", delete_checkpoint=True)."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"save_freq must be 'epoch', got {save_freq!r}")
        if double_checkpoint:
            raise ValueError("double_checkpoint=True is not supported: the backup is "
                             "written atomically, so one file is always whole")
        if not backup_dir:
            raise ValueError("backup_dir must be a folder path, got an empty value")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)

    @property
    def backup_path(self):
        return os.path.join(self.backup_dir, BACKUP_FILE)

    def on_train_begin(self, logs=None):
        from fastconv.models import model_io  # models import callbacks: import late
        if os.path.exists(self.backup_path):
            model_io.restore_training_state(self.model, self.backup_path)
            self.model._initial_epoch = self.model.epoch

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(self.backup_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_path):
            os.remove(self.backup_path)
