"""A training run in its own process, for tests that kill it or run it under TF_CONFIG.

Usage: python run_worker.py OUT SETTINGS_JSON [--kill-after-epoch N]

With --kill-after-epoch N the process kills itself with SIGKILL once epoch N has ended
and its checkpoint is written, as a crash or `kill -9` would.
"""

import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from ganzoo import training  # noqa: E402


class KillAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv):
    out, settings = argv[0], json.loads(argv[1])
    callbacks = []
    if "--kill-after-epoch" in argv:
        callbacks.append(KillAfterEpoch(int(argv[argv.index("--kill-after-epoch") + 1])))
    family = settings.pop("family")
    training.plan_run(family, out=out, **settings).train(callbacks=callbacks, verbose=0)


if __name__ == "__main__":
    main(sys.argv[1:])
