"""One worker of the multi-worker test: trains a tiny model under TF_CONFIG and reports.

Run by tests/training/test_training.py as two local processes on loopback ports:
`multiworker_worker.py RESULT.json [--labels | --model JSON] [--augment]`, where JSON is
`{"family": ..., "kwargs": {...}, "pairs": "super_resolution" | "unpaired"}` for families
trained on paired batches; `--augment` trains with ADA.
"""

import hashlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import ganzoo  # noqa: E402
import ganzoo.augment  # noqa: E402


def main(result_path):
    strategy = ganzoo.training.strategy("multiworker")
    images = load_digits().images[:256, :, :, None].astype("float32") / 8.0 - 1.0
    images = tf.image.resize(images, (16, 16)).numpy()
    labels = load_digits().target[:256].astype("int32")
    spec = {"family": "dcgan", "kwargs": dict(image_shape=(16, 16, 1), latent_dim=8,
                                              generator_filters=8, discriminator_filters=8)}
    if "--model" in sys.argv:
        spec = json.loads(sys.argv[sys.argv.index("--model") + 1])
    elements = (images, labels) if "--labels" in sys.argv else images
    if spec.get("pairs") == "super_resolution":
        scale = spec["kwargs"]["scale"]
        elements = (tf.image.resize(images, (16 // scale, 16 // scale), "bicubic",
                                    antialias=True).numpy(), images)
    elif spec.get("pairs") == "unpaired":
        elements = (images, images[::-1, :, ::-1])
    data = tf.data.Dataset.from_tensor_slices(elements).batch(16, drop_remainder=True)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        gan = ganzoo.models.get(spec["family"])(**spec["kwargs"], seed=1)
        augment = None
        if "--augment" in sys.argv:
            # ADA from p = 0.2, adjusting after every discriminator update, so p moves.
            augment = ganzoo.augment.ADA(p=0.2, interval=1)
        gan.compile(augment=augment)
    history = gan.fit(data, epochs=1, steps_per_epoch=4, verbose=0)
    digest = hashlib.sha256()
    # Every weight, batch-norm moving statistics and EMA copies included (batch norm is
    # synchronised across workers), must be the same on every worker.
    for network in gan.saved_networks().values():
        for variable in network.weights:
            digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    result = {
        "replicas": strategy.num_replicas_in_sync,
        "losses": {name: values[-1] for name, values in history.history.items()},
        "weights_sha256": digest.hexdigest(),
    }
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1])
