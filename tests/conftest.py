"""Test set-up: quiet TensorFlow and two logical CPU devices for distribution tests.

The logical devices must be configured before TensorFlow initialises its devices, so
this runs at import time, before any test touches TensorFlow.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


def _configure_devices():
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:
        pass  # devices already initialised by an earlier import


_configure_devices()


@pytest.fixture(scope="session")
def two_cpu_strategy():
    """One MirroredStrategy over two logical CPUs for the whole session.

    Several strategies in one process would share collective-op instance keys; reducing
    through one device avoids collectives on CPU altogether.
    """
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice()
    )
