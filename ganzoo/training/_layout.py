"""How checkpoints are named in a run's `backup/` folder: standard library only.

Shared by `run` (which plans and resumes runs without TensorFlow) and `checkpoints`
(which writes and reads them with Keras).
"""

import os
import re

_CHECKPOINT = re.compile(r"^epoch-(\d{4,})\.json$")


def list_checkpoints(folder):
    """Epoch numbers of the complete checkpoints in `folder`, newest first."""
    if not os.path.isdir(folder):
        return []
    epochs = [int(m.group(1)) for m in map(_CHECKPOINT.match, os.listdir(folder)) if m]
    return sorted(epochs, reverse=True)


def checkpoint_paths(folder, epoch):
    """(weights file, state file) of the checkpoint after `epoch` in `folder`."""
    stem = os.path.join(folder, f"epoch-{epoch:04d}")
    return stem + ".weights.h5", stem + ".json"
