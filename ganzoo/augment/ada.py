"""ADA: Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data"
(https://arxiv.org/abs/2006.06676), the "bgc" pipeline with its adaptive probability."""

import math

import keras
import tensorflow as tf

from ganzoo.augment import ops
from ganzoo import _validation
from ganzoo.augment.base import Augmentation, check_number

# Op groups of the paper's pipeline: pixel blitting, general geometric, colour.
OP_GROUPS = "bgc"

# What each variable starts at; `get_state` / `set_state` use these names.
_STATE = {
    "p": None,             # the augmentation probability (the constructor's p)
    "sign_sum": 0.0,       # sum of sign(real logits) since the last adjustment
    "logit_count": 0.0,    # how many logits that sum covers
    "image_count": 0.0,    # how many real images (global rows) D saw since then
    "observed": 0.0,       # observe() calls since then
    "r_t": 0.0,            # the overfitting heuristic at the last adjustment
}

_LN2 = math.log(2.0)


class ADA(Augmentation):
    """Adaptive discriminator augmentation (Karras et al. 2020), the "bgc" pipeline.

    Each op is applied to each image independently with probability `p` (a rotation
    twice, before and after the anisotropic scaling, each with `p_rot = 1 - sqrt(1 - p)`
    so that some rotation happens with probability `p`), with the paper's parameters:

    - `b`, pixel blitting: x-flip; rotation by a multiple of 90 degrees; integer
      translation by `round(U[-0.125, 0.125) * size)` pixels;
    - `g`, general geometric: isotropic scaling `2^N(0, 0.2)` (lognormal, std 0.2 ln 2);
      rotation `U[-pi, pi)`; anisotropic scaling `2^N(0, 0.2)`; fractional translation
      `N(0, 0.125) * size`;
    - `c`, colour: brightness `+N(0, 0.2)`; contrast `2^N(0, 0.5)`; luma flip; hue
      rotation `U[-pi, pi)` about the luma axis `(1, 1, 1)/sqrt(3)`; saturation
      `2^N(0, 1)`. Hue and saturation leave one-channel images alone; their colour
      matrix is averaged over the colour rows, as in the reference code.

    The geometric ops are composed into one 3x3 matrix per image and applied with a
    single bilinear resample with reflection (`ops.warp`); the paper's anti-aliasing
    (2x upsampling and downsampling with a sym6 wavelet filter around the resample) is
    left out, which is cheaper and slightly blurrier/aliased on rotations and scalings.
    The colour ops are composed into one 4x4 matrix on (r, g, b, 1). With `p = 0` both
    matrices are exact identities and the images come back unchanged.

    `p` adapts: `observe(real_logits)` accumulates `sum(sign(logits))` and the logit
    count (summed over replicas); every `interval` calls, `r_t = sum / count` and
    `p <- clip(p + sign(r_t - target) * images / ramp_images, 0, 1)`, where `images` is
    the number of real images the discriminator saw since the last adjustment.

    `ramp_images` defaults to 20,000, not the paper's 500,000: the paper lets `p` cross
    [0, 1] in 500k images, about 2-10% of its 5-25M-image runs; a ~20-minute CPU run here
    sees a few thousand steps of batch 64, ~200k images, so 20k images keeps `p` able to
    cross [0, 1] within ~10% of the run (~310 steps of batch 64, +-0.0128 per adjustment
    every 4 steps), fast enough to react to overfitting, slow enough not to jitter.

    Paper: https://arxiv.org/abs/2006.06676 (code: NVlabs/stylegan2-ada-pytorch).

    Args:
        target: float. Target value of `r_t = E[sign(D(real))]`, in [-1, 1]. Defaults
            to 0.6.
        ramp_images: float. Images over which `p` may move from 0 to 1; positive.
            Defaults to 20000.
        interval: int. `observe` calls between adjustments. Defaults to 4.
        p: float. Initial probability, in [0, 1]. Defaults to 0.
        adjust: bool. False keeps `p` fixed. Defaults to True.
        ops: str. Op groups, a non-empty combination of "b", "g", "c". Defaults to "bgc".

    Examples:

    >>> import numpy as np, ganzoo.augment as A
    >>> aug = A.ADA(p=0.5, adjust=False)
    >>> aug(np.zeros((4, 32, 32, 3), "float32"), seed=[1, 2]).shape
    TensorShape([4, 32, 32, 3])
    """

    name = "ada"

    def __init__(self, target=0.6, ramp_images=20_000, interval=4, p=0.0, adjust=True,
                 ops="bgc"):
        super().__init__()
        self.target = check_number(target, "target", -1.0, 1.0)
        self.ramp_images = check_number(ramp_images, "ramp_images", 0.0, low_open=True)
        if isinstance(ramp_images, int):
            self.ramp_images = ramp_images  # keep 20000, not 20000.0, in configs
        self.interval = _validation.check_count(interval, "interval")
        self.initial_p = check_number(p, "p", 0.0, 1.0)
        if not isinstance(adjust, bool):
            raise ValueError(f"adjust must be True or False. Received: adjust={adjust!r}")
        self.adjust = adjust
        if (not isinstance(ops, str) or not ops or len(set(ops)) != len(ops)
                or any(group not in OP_GROUPS for group in ops)):
            raise ValueError(
                'ops must be a non-empty combination of "b" (blit), "g" (geometric) and '
                f'"c" (colour), such as "bgc" or "bg". Received: ops={ops!r}'
            )
        self.ops = "".join(group for group in OP_GROUPS if group in ops)
        self._variables = None
        self._pending_state = None

    # -- variables -----------------------------------------------------------------

    def build(self):
        if self.built:
            return
        initial = dict(_STATE, p=self.initial_p)
        if self._pending_state is not None:
            initial.update(self._pending_state)
        self._variables = {
            key: keras.Variable(
                float(value), dtype="float32", trainable=False,
                aggregation="only_first_replica", name=f"ada_{key}",
            )
            for key, value in initial.items()
        }
        self._pending_state = None
        self.built = True

    @property
    def p(self):
        """The augmentation probability, a `keras.Variable` (built on first use)."""
        if not self.built:
            self.build()
        return self._variables["p"]

    def _read(self, key):
        if not self.built:
            self.build()
        return tf.convert_to_tensor(self._variables[key].value, tf.float32)

    # -- augmentation ----------------------------------------------------------------

    def augment(self, images, draws):
        height, width, channels = images.shape[1], images.shape[2], images.shape[-1]
        if height is None or width is None:
            height, width = tf.shape(images)[1], tf.shape(images)[2]
        geometric = self.geometric_matrices(draws, height, width)
        if geometric is not None:
            images = ops.warp(images, geometric)
        color = self.color_matrices(draws, channels)
        if color is not None:
            images = ops.color_transform(images, color)
        return images

    def _chooser(self, draws, probability=None):
        """`maybe(key, values, neutral)`: `values` for the images that draw the op (a
        uniform from `key + 1` below the probability), `neutral` for the others."""
        default = self._read("p") if probability is None else probability

        def maybe(key, values, neutral, probability=default):
            picked = draws.uniform(key + 1) < probability
            if values.shape.rank == 2:
                picked = picked[:, tf.newaxis]
            return tf.where(picked, values, tf.cast(neutral, values.dtype) * tf.ones_like(values))

        return maybe

    def geometric_matrices(self, draws, height, width):
        """`(B, 3, 3)` sampling matrices (output pixel -> input pixel, centred
        coordinates) of the "b" and "g" ops, or None when `ops` has neither."""
        if "b" not in self.ops and "g" not in self.ops:
            return None
        p = self._read("p")
        maybe = self._chooser(draws, p)
        height = tf.cast(height, tf.float32)
        width = tf.cast(width, tf.float32)
        # Each op composes the inverse of its transformation on the right.
        g_inv = tf.eye(3, batch_shape=[draws.batch])
        if "b" in self.ops:
            flip = maybe(10, tf.floor(draws.uniform(10) * 2.0), 0.0)
            g_inv = g_inv @ ops.scale2d(1.0 - 2.0 * flip, 1.0)
            quarters = maybe(12, tf.floor(draws.uniform(12) * 4.0), 0.0)
            g_inv = g_inv @ ops.rotate90_2d(quarters)
            shift = maybe(14, draws.uniform(14, -1.0, 1.0, columns=2) * 0.125, 0.0)
            g_inv = g_inv @ ops.translate2d(
                -tf.round(shift[:, 0] * width), -tf.round(shift[:, 1] * height))
        if "g" in self.ops:
            scale = maybe(20, tf.exp(draws.normal(20) * 0.2 * _LN2), 1.0)
            g_inv = g_inv @ ops.scale2d(1.0 / scale, 1.0 / scale)
            # Rotation before and after the anisotropic scaling, each with p_rot, so that
            # P(any rotation) = p.
            p_rot = 1.0 - tf.sqrt(tf.clip_by_value(1.0 - p, 0.0, 1.0))
            theta = maybe(22, draws.uniform(22, -math.pi, math.pi), 0.0, p_rot)
            g_inv = g_inv @ ops.rotate2d(theta)
            aniso = maybe(24, tf.exp(draws.normal(24) * 0.2 * _LN2), 1.0)
            g_inv = g_inv @ ops.scale2d(1.0 / aniso, aniso)
            theta = maybe(26, draws.uniform(26, -math.pi, math.pi), 0.0, p_rot)
            g_inv = g_inv @ ops.rotate2d(theta)
            shift = maybe(28, draws.normal(28, columns=2) * 0.125, 0.0)
            g_inv = g_inv @ ops.translate2d(-shift[:, 0] * width, -shift[:, 1] * height)
        return g_inv

    def color_matrices(self, draws, channels):
        """`(B, 4, 4)` colour matrices on (r, g, b, 1) of the "c" ops, or None when
        `ops` has no "c". Hue and saturation only for 3 channels."""
        if "c" not in self.ops:
            return None
        maybe = self._chooser(draws)
        # Each op composes its transformation on the left.
        color = tf.eye(4, batch_shape=[draws.batch])
        brightness = maybe(30, draws.normal(30) * 0.2, 0.0)
        color = ops.translate3d(brightness, brightness, brightness) @ color
        contrast = maybe(32, tf.exp(draws.normal(32) * 0.5 * _LN2), 1.0)
        color = ops.scale3d(contrast, contrast, contrast) @ color
        flip = maybe(34, tf.floor(draws.uniform(34) * 2.0), 0.0)
        color = ops.luma_flip3d(flip) @ color
        if channels > 1:
            hue = maybe(36, draws.uniform(36, -math.pi, math.pi), 0.0)
            color = ops.rotate3d(hue) @ color
            saturation = maybe(38, tf.exp(draws.normal(38) * 1.0 * _LN2), 1.0)
            color = ops.saturate3d(saturation) @ color
        return color

    # -- adaptation ------------------------------------------------------------------

    def observe(self, real_logits):
        """Accumulate `sign(real_logits)`; every `interval` calls, adjust `p`.

        Runs in replica context (inside `strategy.run` / a Keras train step) or without a
        strategy; under several replicas the statistics are all-reduced first, so every
        replica computes the same update and `p` stays equal everywhere.
        """
        if not self.built:
            self.build()
        logits = tf.cast(tf.convert_to_tensor(real_logits), tf.float32)
        stats = tf.stack([
            tf.reduce_sum(tf.sign(logits)),
            tf.cast(tf.size(logits), tf.float32),
            tf.cast(tf.shape(logits)[0], tf.float32),
        ])
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            stats = context.all_reduce(tf.distribute.ReduceOp.SUM, stats)
        sign_sum = self._read("sign_sum") + stats[0]
        logit_count = self._read("logit_count") + stats[1]
        image_count = self._read("image_count") + stats[2]
        observed = self._read("observed") + 1.0
        p = self._read("p")

        due = observed >= float(self.interval)
        r_t = sign_sum / tf.maximum(logit_count, 1.0)
        if self.adjust:
            step = tf.sign(r_t - self.target) * image_count / self.ramp_images
            adjusted_p = tf.clip_by_value(p + step, 0.0, 1.0)
        else:
            adjusted_p = p
        # Selected with `where`, not `tf.cond`: replica-context assignments of mirrored
        # variables cannot sit in a control-flow branch.
        zero = tf.zeros([])
        updates = {
            "p": tf.where(due, adjusted_p, p),
            "r_t": tf.where(due, r_t, self._read("r_t")),
            "sign_sum": tf.where(due, zero, sign_sum),
            "logit_count": tf.where(due, zero, logit_count),
            "image_count": tf.where(due, zero, image_count),
            "observed": tf.where(due, zero, observed),
        }
        for key, value in updates.items():
            self._variables[key].assign(value)

    def logs(self):
        return {"aug_p": self._read("p"), "r_t": self._read("r_t")}

    # -- state and config ------------------------------------------------------------

    def get_state(self):
        if not self.built:
            state = dict(_STATE, p=self.initial_p)
            state.update(self._pending_state or {})
            return {key: float(value) for key, value in state.items()}
        return {
            key: float(keras.ops.convert_to_numpy(variable.value))
            for key, variable in self._variables.items()
        }

    def set_state(self, state):
        if not isinstance(state, dict) or set(state) != set(_STATE):
            raise ValueError(
                f"ADA state must be a dict with keys {sorted(_STATE)}. Received: state={state!r}"
            )
        values = {key: check_number(value, f"state[{key!r}]") for key, value in state.items()}
        check_number(values["p"], "state['p']", 0.0, 1.0)
        if not self.built:
            self._pending_state = values
            return
        for key, value in values.items():
            self._variables[key].assign(value)

    def get_config(self):
        return {
            "target": self.target,
            "ramp_images": self.ramp_images,
            "interval": self.interval,
            "p": self.initial_p,
            "adjust": self.adjust,
            "ops": self.ops,
        }
