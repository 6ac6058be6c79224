"""The `Augmentation` base class and the seeded, replica-split-invariant parameter draws."""

import numbers

import tensorflow as tf

# Named rather than "auto_select", so the stream cannot change with the device. An
# XLA-compiled step (Keras' jit_compile) draws another stream from the same seed; it is
# still the same on every replica, since all replicas run the same compiled step.
_ALGORITHM = "philox"


class Draws:
    """Per-image random parameters drawn for the global batch, sliced to this replica.

    Every draw is made for `total` rows from its own stateless seed (the call's seed
    folded with a fixed `key`), then rows `[offset, offset + batch)` are kept: a global
    row gets the same parameters however the batch is split over replicas, and one op's
    draws never depend on which other ops are enabled.
    """

    def __init__(self, seed, batch, offset=0, total=None):
        self.seed = seed
        self.batch = batch
        self.offset = tf.cast(offset, tf.int32)
        self.total = batch if total is None else tf.cast(total, tf.int32)

    def _seed(self, key):
        return tf.random.experimental.stateless_fold_in(self.seed, key, alg=_ALGORITHM)

    def _rows(self, values):
        return tf.slice(values, [self.offset] + [0] * (values.shape.rank - 1),
                        [self.batch] + [-1] * (values.shape.rank - 1))

    def uniform(self, key, minval=0.0, maxval=1.0, columns=None):
        """Floats in [minval, maxval): `(batch,)`, or `(batch, columns)`."""
        shape = [self.total] if columns is None else [self.total, columns]
        return self._rows(tf.random.stateless_uniform(
            shape, self._seed(key), minval=minval, maxval=maxval, alg=_ALGORITHM))

    def integers(self, key, minval, maxval):
        """int32 in [minval, maxval), `(batch,)`."""
        return self._rows(tf.random.stateless_uniform(
            [self.total], self._seed(key), minval=minval, maxval=maxval, dtype=tf.int32,
            alg=_ALGORITHM))

    def normal(self, key, columns=None):
        """Standard normal floats: `(batch,)`, or `(batch, columns)`."""
        shape = [self.total] if columns is None else [self.total, columns]
        return self._rows(tf.random.stateless_normal(shape, self._seed(key), alg=_ALGORITHM))


class Augmentation:
    """Base class of the differentiable augmentations a discriminator's inputs go through.

    Not a Keras layer: the `keras.Model` that holds one does not track it, so its
    variables (ADA's probability and statistics) are neither trained nor saved with the
    weights; runs checkpoint them through `get_state` / `set_state`.

    Call it on a replica's rows with a stateless seed that is identical on every replica;
    `offset` and `total` place those rows in the global batch, so each global row gets
    the same augmentation however the batch is split.
    """

    name = "augmentation"

    def __init__(self):
        self.built = False

    def build(self):
        """Create the variables (under the caller's distribution strategy). Idempotent."""
        self.built = True

    def __call__(self, images, seed, offset=0, total=None):
        """Augment `images`.

        Args:
            images: float `(B, H, W, C)`, C in {1, 3}, values in [-1, 1].
            seed: int tensor of shape `[2]`, the same on every replica.
            offset: scalar. Global index of `images[0]`. Defaults to 0.
            total: scalar. Global row count. Defaults to `B`.

        Returns:
            The augmented images, same shape and dtype; differentiable w.r.t. `images`.
        """
        if not self.built:
            self.build()
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(
                f"{type(self).__name__} takes images of shape (batch, height, width, channels) "
                f"with 1 or 3 channels. Received: shape={tuple(images.shape)}"
            )
        dtype = images.dtype
        seed = tf.convert_to_tensor(seed)
        if not seed.dtype.is_integer:
            raise ValueError(f"seed must be an int tensor of shape [2]. Received: dtype={seed.dtype.name}")
        draws = Draws(seed, tf.shape(images)[0], offset=offset, total=total)
        out = self.augment(tf.cast(images, tf.float32), draws)
        return tf.cast(out, dtype)

    def augment(self, images, draws):
        """Subclasses: augment float32 images with parameters from `draws`."""
        raise NotImplementedError

    def observe(self, real_logits):
        """The discriminator's logits on augmented reals, once per discriminator update."""

    def logs(self):
        """`{name: scalar float32 tensor}` to log each step."""
        return {}

    def get_state(self):
        """JSON-able values of every variable, for run checkpoints."""
        return {}

    def set_state(self, state):
        """Restore what `get_state` returned."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state. Received: state={state!r}")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """`value` as a float inside the given bounds, or one ValueError naming `name`."""
    bounds = (
        ("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}") + ", "
        + ("inf" if high is None else f"{high:g}") + (")" if high_open else "]")
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in {bounds}. Received: {name}={value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or value != value:
        raise ValueError(f"{name} must be a number in {bounds}. Received: {name}={value!r}")
    return value
