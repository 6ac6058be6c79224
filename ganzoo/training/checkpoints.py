"""Callbacks that keep a run's work safe: atomic checkpoints and a non-finite guard.

`RunCheckpoint` replaces `keras.callbacks.BackupAndRestore` for ganzoo runs. Keras writes
its backup in place (a kill during that write leaves a file `--resume` cannot read) and
leaves out the state a GAN needs to continue exactly: the noise stream. Here every
checkpoint is

- `epoch-NNNN.weights.h5`: networks and optimizer state, written to a temporary file,
  flushed to disk and renamed into place;
- `epoch-NNNN.json`: the epoch, the steps done, the state of every seed generator of
  the model (the training noise, dropout, the augmentation's draws) and of the
  augmentation (ADA's p and its running statistics), written the same way *after* the
  weights: a checkpoint counts only once its JSON exists.

The newest `keep` checkpoints are kept (two by default), so a damaged newest one falls back
to the one before. `NonFiniteGuard` stops training as soon as a logged loss or, at the end
of an epoch, a weight is NaN or infinite, before anything bad is saved.
"""

import errno
import json
import math
import os

import keras
import numpy as np

from ganzoo import _atomic, _finite, presets
from ganzoo.training._layout import checkpoint_paths, list_checkpoints


class TrainingDiverged(RuntimeError):
    """Training produced NaN or infinite losses or weights."""


def seed_generator_states(model):
    """The state variables of every `keras.random.SeedGenerator` the model owns, in a
    stable order (the model's own first, then its layers' in traversal order)."""
    states, seen = [], set()
    for layer in model._flatten_layers(include_self=True):
        for generator in getattr(layer, "_seed_generators", ()):
            if id(generator.state) not in seen:
                seen.add(id(generator.state))
                states.append(generator.state)
    return states


def restore_latest(model, folder, log=None):
    """Load the newest readable checkpoint of `folder` into `model`.

    A damaged checkpoint (truncated weights, unreadable JSON) is reported in one line and
    the previous one is tried.

    Returns:
        The checkpoint's state dict (`epoch`, `steps`, ...), or None when there is none.

    Raises:
        ValueError: checkpoints exist but none can be read, or they do not fit the model.
    """
    epochs = list_checkpoints(folder)
    problems = []
    for position, epoch in enumerate(epochs):
        weights_path, state_path = checkpoint_paths(folder, epoch)
        try:
            with open(state_path, encoding="utf-8") as handle:
                state = json.load(handle)
            model.load_weights(weights_path)
        except (OSError, ValueError, KeyError) as error:
            mismatch = presets.weights_mismatch(model, weights_path)
            if mismatch:
                raise ValueError(
                    f"{weights_path} does not fit the model described by run.json "
                    f"({mismatch}): was run.json edited?"
                ) from None
            reason = _short_reason(error)
            problems.append(f"epoch {epoch}: {reason}")
            if log is not None and position + 1 < len(epochs):
                log(f"checkpoint {os.path.basename(weights_path)} is unreadable "
                    f"({reason}); trying the one before")
            continue
        states = seed_generator_states(model)
        saved = state.get("seed_states", [])
        if len(saved) == len(states):
            for variable, value in zip(states, saved):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        augmentation = getattr(model, "augmentation", None)
        if augmentation is not None and state.get("augment_state") is not None:
            # ADA's p goes on where it was, not from 0.
            augmentation.set_state(state["augment_state"])
        return state
    if epochs:
        raise ValueError(
            f"No readable checkpoint in {folder} ({'; '.join(problems)}): start the run "
            "again with --overwrite"
        )
    return None


def _short_reason(error):
    text = str(error).strip()
    if "truncated file" in text:
        return "truncated file"
    return text.splitlines()[0] if text else type(error).__name__


class RunCheckpoint(keras.callbacks.Callback):
    """Atomic end-of-epoch checkpoints of a ganzoo model, with its noise state.

    Args:
        folder: str. Folder of the checkpoints (created when missing).
        steps_per_epoch: int. Recorded so a resumed run can continue the data stream.
        keep: int. How many of the newest checkpoints are kept. Defaults to 2.
    """

    def __init__(self, folder, steps_per_epoch, keep=2):
        super().__init__()
        if keep < 1:
            raise ValueError(f"keep must be at least 1. Received: keep={keep}")
        self.folder = os.fspath(folder)
        self.steps_per_epoch = steps_per_epoch
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1)

    def save(self, epochs_done):
        os.makedirs(self.folder, exist_ok=True)
        weights_path, state_path = checkpoint_paths(self.folder, epochs_done)
        state = {
            "epoch": epochs_done,
            "steps": epochs_done * self.steps_per_epoch,
            "seed_states": [
                np.asarray(keras.ops.convert_to_numpy(v.value)).tolist()
                for v in seed_generator_states(self.model)
            ],
        }
        augmentation = getattr(self.model, "augmentation", None)
        if augmentation is not None:
            state["augment_state"] = augmentation.get_state()
        try:
            # Through memory: HDF5 writing straight onto a full disk crashes the process.
            _atomic.replace_file(weights_path,
                                 lambda tmp: presets.save_weights(self.model, tmp),
                                 suffix=".weights.h5")
            _atomic.write_json(state_path, state)
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else _short_reason(error)
            kept = [e for e in list_checkpoints(self.folder) if e != epochs_done]
            last = f"the checkpoint of epoch {kept[0]} is kept" if kept else "no earlier checkpoint"
            raise OSError(
                error.errno or errno.EIO,
                f"cannot write the checkpoint of epoch {epochs_done} in {self.folder}: "
                f"{reason} ({last})",
            ) from None
        for old in list_checkpoints(self.folder)[self.keep:]:
            for path in checkpoint_paths(self.folder, old):
                if os.path.exists(path):
                    os.remove(path)


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop training when a logged loss or a weight becomes NaN or infinite.

    Losses are checked after every batch, weights at the end of every epoch (before any
    checkpoint of that epoch is written). Raises `TrainingDiverged` with `advice` appended.

    Under float16 loss scaling, a step skipped for overflowing gradients is not a
    divergence (its weights are untouched, its losses left out of the logs, and it is
    counted in `skipped_steps`); a loss scale that falls below `MIN_LOSS_SCALE` is: the
    gradients then overflow even unscaled and no step applies any more.

    Args:
        advice: str, or a callable returning one. What the user can do, appended to the
            error message.
    """

    def __init__(self, advice=""):
        super().__init__()
        self.advice = advice
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = _non_finite_logs(logs) or _collapsed_loss_scale(logs)
        if bad:
            self._stop(f"{bad} at epoch {self._epoch + 1}, step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        bad = _non_finite_logs(logs)
        if bad:
            self._stop(f"{bad} at the end of epoch {epoch + 1}")
        found = _finite.first_non_finite(self.model)
        if found:
            network, variable = found
            self._stop(f"{network} weight {variable} is not finite at the end of epoch "
                       f"{epoch + 1}")

    def _stop(self, what):
        self.model.stop_training = True
        advice = self.advice() if callable(self.advice) else self.advice
        raise TrainingDiverged(f"training diverged: {what}. {advice}".strip())


# Below this, float16 gradients overflow even unscaled: every step is being skipped.
MIN_LOSS_SCALE = 1.0


def _collapsed_loss_scale(logs):
    """What diverged, when a float16 loss scale (`g_optimizer_loss_scale`, ...) fell
    below MIN_LOSS_SCALE; None otherwise. A skipped float16 step alone is not a
    divergence: its weights are untouched and its losses are left out of the logs."""
    for name, value in (logs or {}).items():
        if not name.endswith("_loss_scale"):
            continue
        number = _first_number(value)
        if number is not None and not number >= MIN_LOSS_SCALE:
            skipped = _first_number((logs or {}).get("skipped_steps"))
            seen = f", {skipped:.0f} steps skipped this epoch" if skipped is not None else ""
            return (f"{name}={number:g}: float16 gradients overflow even unscaled, so every "
                    f"step is skipped{seen} (train with --precision mixed_bfloat16 or "
                    "float32 if the model is sound)")
    return None


def _first_number(value):
    if value is None:
        return None
    try:
        return float(np.asarray(keras.ops.convert_to_numpy(value)).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None


def _non_finite_logs(logs):
    for name, value in (logs or {}).items():
        number = _first_number(value)
        if number is not None and not math.isfinite(number):
            return f"{name}={number}"
    return None
