"""One worker of the multi-worker test: trains a tiny DCGAN under TF_CONFIG and reports.

Run by tests/training/test_training.py as two local processes on loopback ports.
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


def main(result_path):
    strategy = ganzoo.training.strategy("multiworker")
    images = load_digits().images[:256, :, :, None].astype("float32") / 8.0 - 1.0
    images = tf.image.resize(images, (16, 16)).numpy()
    labels = load_digits().target[:256].astype("int32")
    elements = (images, labels) if "--labels" in sys.argv else images
    data = tf.data.Dataset.from_tensor_slices(elements).batch(32, drop_remainder=True)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        gan = ganzoo.models.DCGAN(image_shape=(16, 16, 1), latent_dim=8,
                                  generator_filters=8, discriminator_filters=8, seed=1)
        gan.compile()
    history = gan.fit(data, epochs=1, verbose=0)
    digest = hashlib.sha256()
    # Every weight, batch-norm moving statistics included (batch norm is synchronised
    # across workers), must be the same on every worker.
    for variable in gan.generator.weights + gan.discriminator.weights:
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
