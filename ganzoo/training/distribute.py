"""Pick a `tf.distribute` strategy by name."""

import json
import os
import sys

import tensorflow as tf

from ganzoo.training import peers

KINDS = ("auto", "none", "mirrored", "multiworker")


def strategy(kind="auto", devices=None):
    """A `tf.distribute.Strategy` to build and `fit` ganzoo models under.

    Args:
        kind: str. `"auto"`: `MirroredStrategy` over all GPUs when there are two or more,
            else the default (single-device) strategy. `"none"`: the default strategy.
            `"mirrored"`: `MirroredStrategy` over `devices` (all GPUs, or the CPU, when
            None). `"multiworker"`: `MultiWorkerMirroredStrategy`, configured by the
            `TF_CONFIG` environment variable.
        devices: list of str or None. Devices for `"mirrored"`, e.g.
            `["/cpu:0", "/cpu:1"]`.

    `"multiworker"` waits until every worker of `TF_CONFIG` is up. TensorFlow waits in
    C++ holding the interpreter, where no timeout, exception or Ctrl-C can reach it;
    `ganzoo train --peer-timeout` bounds that wait from a supervising process
    (`ganzoo.training.peers.supervised`), which Python programs can use too.

    Examples:
    ```python
    with ganzoo.training.strategy("mirrored").scope():
        gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1))
        gan.compile()
    gan.fit(data, epochs=1)
    ```
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown distribution {kind!r}; expected one of {list(KINDS)}")
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    return _multiworker()


def _multiworker():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "multiworker distribution needs the TF_CONFIG environment variable "
            '(e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}})'
        )
    try:
        config = json.loads(raw)
        config["cluster"]["worker"]
        config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "TF_CONFIG must be JSON with cluster.worker and task.index entries. "
            f"Received: TF_CONFIG={raw!r}"
        ) from None
    missing = peers.unreachable(peers.of(config))
    if missing:
        print(f"ganzoo: waiting for {', '.join(missing)}", file=sys.stderr, flush=True)
    multiworker = tf.distribute.MultiWorkerMirroredStrategy()
    # A first collective over every worker: it returns once all of them are up.
    multiworker.reduce("SUM", multiworker.run(lambda: tf.constant(1.0)), axis=None)
    peers.report_ready()
    return multiworker
