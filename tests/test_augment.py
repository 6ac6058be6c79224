"""ganzoo.augment: each op against a hand computation, the classes' draws, ADA's p, and
distribution (two logical CPUs, configured in conftest.py)."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

import ganzoo.augment as A
from ganzoo.augment import ops
from ganzoo.augment.base import Draws

RNG = np.random.RandomState(0)


def images(batch=4, height=8, width=8, channels=3, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, height, width, channels)).astype(
        "float32")


def numpy_of(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def shift_zero_fill(image, dx, dy):
    """numpy: content moved right by dx, down by dy, zeros entering."""
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            if 0 <= y - dy < height and 0 <= x - dx < width:
                out[y, x] = image[y - dy, x - dx]
    return out


# -- DiffAugment's ops ---------------------------------------------------------------


@pytest.mark.parametrize("dx, dy", [(0, 0), (2, 0), (0, -3), (-1, 2), (3, 3), (9, 0)])
def test_translate_moves_pixels_by_the_shift_with_zeros_entering(dx, dy):
    x = images(batch=2, height=6, width=7)
    out = numpy_of(ops.translate(x, [dx, 0], [dy, 0]))
    np.testing.assert_array_equal(out[0], shift_zero_fill(x[0], dx, dy))
    np.testing.assert_array_equal(out[1], x[1])


@pytest.mark.parametrize("cx, cy, size", [
    (4, 4, 4), (0, 0, 4), (7, 1, 3), (8, 8, 4), (2, 5, (3, 2)),
])
def test_cutout_zeroes_exactly_the_square_clipped_at_the_border(cx, cy, size):
    x = images(batch=1, height=8, width=8, channels=1) + 3.0  # no zeros of its own
    height, width = size if isinstance(size, tuple) else (size, size)
    expected = x.copy()
    top, left = cy - height // 2, cx - width // 2
    expected[0, max(top, 0):max(top + height, 0), max(left, 0):max(left + width, 0)] = 0.0
    np.testing.assert_array_equal(numpy_of(ops.cutout(x, [cx], [cy], size)), expected)


def test_brightness_saturation_contrast_match_numpy():
    x = images(batch=3)
    m = np.array([0.3, -0.2, 0.0], "float32")
    np.testing.assert_allclose(numpy_of(ops.brightness(x, m)), x + m[:, None, None, None],
                               atol=1e-6)
    s = np.array([0.0, 1.5, 1.0], "float32")
    pixel_mean = x.mean(axis=3, keepdims=True)
    np.testing.assert_allclose(numpy_of(ops.saturation(x, s)),
                               (x - pixel_mean) * s[:, None, None, None] + pixel_mean, atol=1e-6)
    c = np.array([0.5, 1.25, 1.0], "float32")
    image_mean = x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(numpy_of(ops.contrast(x, c)),
                               (x - image_mean) * c[:, None, None, None] + image_mean, atol=1e-6)


# -- geometric ops -------------------------------------------------------------------


def test_warp_x_flip_equals_np_flip():
    x = images(batch=2, height=5, width=6)
    out = numpy_of(ops.warp(x, ops.scale2d([-1.0, 1.0], 1.0)))
    np.testing.assert_array_equal(out[0], np.flip(x[0], axis=1))
    np.testing.assert_array_equal(out[1], x[1])


@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_warp_rot90_equals_np_rot90(quarters):
    x = images(batch=1, height=6, width=6)
    out = numpy_of(ops.warp(x, ops.rotate90_2d([quarters])))
    np.testing.assert_array_equal(out[0], np.rot90(x[0], k=quarters, axes=(0, 1)))


@pytest.mark.parametrize("dx, dy", [(2, 0), (0, -3), (-4, 5), (1, 1)])
def test_warp_integer_translation_is_the_numpy_shift_with_reflection(dx, dy):
    x = images(batch=1, height=7, width=6)
    # Content moves by (dx, dy): each output pixel samples input (x - dx, y - dy).
    out = numpy_of(ops.warp(x, ops.translate2d([-dx], [-dy])))
    pad = 6
    padded = np.pad(x[0], ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    expected = padded[pad - dy:pad - dy + 7, pad - dx:pad - dx + 6]
    np.testing.assert_array_equal(out[0], expected)


def test_warp_identity_scale_one_rotation_zero_are_exact():
    x = images(batch=2, height=5, width=7)
    for matrices in (tf.eye(3, batch_shape=[2]), ops.scale2d([1.0, 1.0], [1.0, 1.0]),
                     ops.rotate2d([0.0, 0.0]), ops.translate2d([0.0, 0.0], 0.0)):
        np.testing.assert_array_equal(numpy_of(ops.warp(x, matrices)), x)


def test_warp_half_pixel_translation_is_bilinear_and_reflects_at_the_border():
    x = images(batch=1, height=4, width=5, channels=1)
    # Output (x, y) samples input (x + 0.5, y): the mean of columns x and x + 1, and at
    # the last column, column 4 and its reflection, column 3.
    out = numpy_of(ops.warp(x, ops.translate2d([0.5], [0.0])))[0, :, :, 0]
    image = x[0, :, :, 0]
    right = np.concatenate([image[:, 1:], image[:, 3:4]], axis=1)
    np.testing.assert_allclose(out, (image + right) / 2, atol=1e-6)
    # A quarter pixel down: 3/4 of row y plus 1/4 of row y + 1.
    out = numpy_of(ops.warp(x, ops.translate2d([0.0], [0.25])))[0, :, :, 0]
    below = np.concatenate([image[1:], image[2:3]], axis=0)
    np.testing.assert_allclose(out, 0.75 * image + 0.25 * below, atol=1e-6)


def test_warp_rotation_about_the_centre_matches_hand_sampling():
    x = images(batch=1, height=5, width=5, channels=1)
    theta = 0.3
    out = numpy_of(ops.warp(x, ops.rotate2d([theta])))[0, :, :, 0]
    image = x[0, :, :, 0]
    # Output centre pixel samples the centre; (x=3, y=2), 1 right of it, samples
    # (2 + cos, 2 + sin) bilinearly.
    assert out[2, 2] == pytest.approx(image[2, 2], abs=1e-6)
    sx, sy = 2 + math.cos(theta), 2 + math.sin(theta)
    x0, y0 = int(sx), int(sy)
    wx, wy = sx - x0, sy - y0
    hand = ((1 - wy) * ((1 - wx) * image[y0, x0] + wx * image[y0, x0 + 1])
            + wy * ((1 - wx) * image[y0 + 1, x0] + wx * image[y0 + 1, x0 + 1]))
    assert out[2, 3] == pytest.approx(hand, abs=1e-5)


def test_warp_gradient_is_the_exact_adjoint_of_the_resampling():
    # warp is linear in the images: its gradient must be the transposed operator.
    # (TensorFlow's gradient of ImageProjectiveTransformV3 is not, with reflection.)
    height, width = 5, 4
    matrices = ops.rotate2d([0.7]) @ ops.scale2d([1.3], [0.8]) @ ops.translate2d([0.6], [-1.2])
    basis = np.eye(height * width, dtype="float32").reshape(-1, height, width, 1)
    columns = numpy_of(ops.warp(basis, tf.tile(matrices, [len(basis), 1, 1])))
    operator = columns.reshape(len(basis), -1).T  # out = operator @ in
    x = tf.constant(images(batch=1, height=height, width=width, channels=1))
    weights = tf.constant(images(batch=1, height=height, width=width, channels=1, seed=1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(ops.warp(x, matrices) * weights)
    gradient = numpy_of(tape.gradient(loss, x)).reshape(-1)
    np.testing.assert_allclose(gradient, operator.T @ numpy_of(weights).reshape(-1), atol=1e-5)


# -- colour matrices -----------------------------------------------------------------


def apply_color(matrix, pixels):
    """Hand computation: 4x4 matrix on (r, g, b, 1) rows."""
    homogeneous = np.concatenate([pixels, np.ones((len(pixels), 1))], axis=1)
    return (homogeneous @ np.asarray(matrix).T)[:, :3]


def color_of(matrices, x):
    return numpy_of(ops.color_transform(x, matrices))


def test_colour_brightness_adds_and_contrast_scales():
    x = images(batch=2)
    out = color_of(ops.translate3d([0.25, 0.0], [0.25, 0.0], [0.25, 0.0]), x)
    np.testing.assert_allclose(out[0], x[0] + 0.25, atol=1e-6)
    np.testing.assert_array_equal(out[1], x[1])
    out = color_of(ops.scale3d([2.0, 1.0], [2.0, 1.0], [2.0, 1.0]), x)
    np.testing.assert_allclose(out[0], 2.0 * x[0], atol=1e-6)
    np.testing.assert_array_equal(out[1], x[1])


def test_colour_luma_flip_negates_grey_and_keeps_chroma():
    flip = numpy_of(ops.luma_flip3d([1.0]))[0]
    pixels = np.array([[0.3, 0.3, 0.3], [1.0, -1.0, 0.0], [0.5, 0.2, -0.7]])
    out = apply_color(flip, pixels)
    np.testing.assert_allclose(out[0], -pixels[0], atol=1e-6)    # luma inverted
    np.testing.assert_allclose(out[1], pixels[1], atol=1e-6)     # zero-luma colour kept
    luma = pixels[2].mean()
    np.testing.assert_allclose(out[2], pixels[2] - 2 * luma, atol=1e-6)
    np.testing.assert_array_equal(numpy_of(ops.luma_flip3d([0.0]))[0], np.eye(4))


def test_colour_hue_rotation_keeps_grey_permutes_at_a_third_and_is_identity_at_two_pi():
    pixels = np.array([[0.4, 0.4, 0.4], [0.9, -0.1, 0.3]])
    third = numpy_of(ops.rotate3d([2 * math.pi / 3]))[0]
    out = apply_color(third, pixels)
    np.testing.assert_allclose(out[0], pixels[0], atol=1e-6)
    # A third of a turn about (1, 1, 1) maps red to green, green to blue, blue to red.
    np.testing.assert_allclose(out[1], pixels[1][[2, 0, 1]], atol=1e-6)
    np.testing.assert_allclose(numpy_of(ops.rotate3d([2 * math.pi]))[0], np.eye(4), atol=1e-6)
    np.testing.assert_array_equal(numpy_of(ops.rotate3d([0.0]))[0], np.eye(4))


def test_colour_saturation_zero_greys_and_one_is_exact_identity():
    x = images(batch=1)
    grey = color_of(ops.saturate3d([0.0]), x)
    np.testing.assert_allclose(grey, np.repeat(x.mean(axis=3, keepdims=True), 3, axis=3),
                               atol=1e-6)
    np.testing.assert_array_equal(color_of(ops.saturate3d([1.0]), x), x)
    doubled = color_of(ops.saturate3d([2.0]), x)
    mean = x.mean(axis=3, keepdims=True)
    np.testing.assert_allclose(doubled, mean + 2 * (x - mean), atol=1e-6)


def test_colour_transform_of_one_channel_averages_the_colour_rows():
    x = images(batch=3, channels=1)
    matrices = tf.stack([
        ops.translate3d([0.2], [0.2], [0.2])[0] @ ops.scale3d([1.5], [1.5], [1.5])[0],
        ops.luma_flip3d([1.0])[0],
        tf.constant([[1.0, 2.0, 0.0, 0.3], [0.0, 1.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, -0.3], [0.0, 0.0, 0.0, 1.0]]),
    ])
    out = color_of(matrices, x)
    np.testing.assert_allclose(out[0], 1.5 * x[0] + 0.2, atol=1e-6)
    np.testing.assert_allclose(out[1], -x[1], atol=1e-6)
    # rows sum to 3, 1, 0 -> gain 4/3; offsets 0.3, 0, -0.3 -> 0.
    np.testing.assert_allclose(out[2], 4.0 / 3.0 * x[2], atol=1e-6)


# -- the classes: identity, gradients, draws -----------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("group", ["bgc", "b", "g", "c"])
def test_ada_with_p_zero_is_exactly_the_identity(group, channels):
    x = images(batch=5, channels=channels)
    out = numpy_of(A.ADA(p=0.0, ops=group)(x, seed=[3, 4]))
    np.testing.assert_array_equal(out, x)


def test_diffaugment_with_an_empty_policy_is_exactly_the_identity():
    x = images()
    np.testing.assert_array_equal(numpy_of(A.DiffAugment(policy="")(x, seed=[1, 2])), x)


AUGMENTATIONS = {
    "color": lambda: A.DiffAugment("color"),
    "translation": lambda: A.DiffAugment("translation"),
    "cutout": lambda: A.DiffAugment("cutout"),
    "ada-b": lambda: A.ADA(p=1.0, ops="b", adjust=False),
    "ada-g": lambda: A.ADA(p=1.0, ops="g", adjust=False),
    "ada-c": lambda: A.ADA(p=1.0, ops="c", adjust=False),
}


@pytest.mark.parametrize("which", sorted(AUGMENTATIONS))
def test_gradients_reach_the_input_through_every_op(which):
    x = tf.constant(images(batch=3))
    weights = tf.constant(images(batch=3, seed=5))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = AUGMENTATIONS[which]()(x, seed=[7, 8])
        loss = tf.reduce_sum(out * weights)
    gradient = numpy_of(tape.gradient(loss, x))
    assert np.all(np.isfinite(gradient))
    for row in gradient:  # every image's gradient, not just the batch's
        assert np.abs(row).sum() > 0.0


@pytest.mark.parametrize("which", sorted(AUGMENTATIONS))
def test_a_row_gets_the_same_augmentation_however_the_batch_is_split(which):
    aug = AUGMENTATIONS[which]()
    x = images(batch=6, channels=3)
    seed = tf.constant([11, 12], tf.int64)
    whole = numpy_of(aug(x, seed))
    for start, stop in [(0, 2), (2, 5), (5, 6)]:
        part = numpy_of(aug(x[start:stop], seed, offset=start, total=len(x)))
        np.testing.assert_array_equal(part, whole[start:stop])


@pytest.mark.parametrize("which", sorted(AUGMENTATIONS))
def test_draws_are_independent_per_seed_and_per_image_and_repeatable(which):
    aug = AUGMENTATIONS[which]()
    x = np.repeat(images(batch=1, height=16, width=16), 6, axis=0)
    first = numpy_of(aug(x, [1, 2]))
    np.testing.assert_array_equal(numpy_of(aug(x, [1, 2])), first)
    other = numpy_of(aug(x, [1, 3]))
    assert not np.array_equal(first, other)
    # The same image in six rows gets at least three different augmentations.
    assert len({row.tobytes() for row in first}) >= 3


def test_diffaugment_translation_draws_every_shift_up_to_an_eighth():
    x = np.zeros((400, 32, 32, 1), "float32")
    x[:, 16, 16, 0] = 1.0
    out = numpy_of(A.DiffAugment("translation")(x, seed=[5, 6]))[..., 0]
    rows, cols = [], []
    for image in out:
        (y,), (x_,) = np.nonzero(image)
        rows.append(y - 16)
        cols.append(x_ - 16)
    assert set(rows) == set(range(-4, 5)) and set(cols) == set(range(-4, 5))


def test_diffaugment_cutout_holes_are_half_size_squares_clipped_at_the_borders():
    x = np.ones((400, 32, 32, 1), "float32")
    out = numpy_of(A.DiffAugment("cutout")(x, seed=[5, 6]))[..., 0]
    tops = set()
    for image in out:
        hole_rows = np.nonzero((image == 0).any(axis=1))[0]
        hole_cols = np.nonzero((image == 0).any(axis=0))[0]
        # A full rectangle; sides 16 unless cut by a border.
        assert (image == 0).sum() == len(hole_rows) * len(hole_cols)
        for extent in (hole_rows, hole_cols):
            assert len(extent) == 16 or extent[0] == 0 or extent[-1] == 31
            assert len(extent) >= 8
        tops.add(hole_rows[-1] - 15 if hole_rows[0] == 0 else hole_rows[0])
    assert min(tops) == -8 and max(tops) == 24  # centres span [0, 32]


def test_diffaugment_color_of_a_constant_image_is_a_brightness_in_half_a_unit():
    x = np.full((500, 4, 4, 3), 0.2, "float32")
    out = numpy_of(A.DiffAugment("color")(x, seed=[5, 6]))
    shifts = out[:, 0, 0, 0] - 0.2
    np.testing.assert_allclose(out, np.broadcast_to(out[:, :1, :1, :1], out.shape), atol=1e-6)
    assert shifts.min() >= -0.5 - 1e-6 and shifts.max() < 0.5 + 1e-6
    assert shifts.max() - shifts.min() > 0.95


def test_ada_applies_each_op_with_probability_p():
    # With p = 0.5 the chance that no op changes an image: "g" draws scale, rotation
    # (twice, each with p_rot = 1 - sqrt(1 - p)), anisotropy and fractional translation,
    # so (1 - p)^4; "c" on RGB draws brightness, contrast, luma flip (effective p / 2),
    # hue and saturation, so (1 - p)^4 (1 - p / 2).
    p, n = 0.5, 4000
    aug = A.ADA(p=p, adjust=False, ops="gc")
    draws = Draws(tf.constant([9, 10]), n)
    eye3 = numpy_of(aug.geometric_matrices(draws, 8, 8)) == np.eye(3)
    eye4 = numpy_of(aug.color_matrices(draws, 3)) == np.eye(4)
    assert eye3.all(axis=(1, 2)).mean() == pytest.approx((1 - p) ** 4, abs=0.02)
    assert eye4.all(axis=(1, 2)).mean() == pytest.approx((1 - p) ** 4 * (1 - p / 2), abs=0.02)
    # "b": x-flip (effective p / 2), rot90 (3p / 4), integer translation (of 8 pixels by
    # round(U[-1, 1)), zero with probability 1/2 per axis).
    blit = A.ADA(p=p, adjust=False, ops="b")
    eye3 = numpy_of(blit.geometric_matrices(draws, 8, 8)) == np.eye(3)
    expected = (1 - p / 2) * (1 - 3 * p / 4) * (1 - 3 * p / 4)
    assert eye3.all(axis=(1, 2)).mean() == pytest.approx(expected, abs=0.02)


# -- ADA's adaptive p ----------------------------------------------------------------


def test_ada_p_rises_by_images_over_ramp_after_interval_positive_observes():
    ada = A.ADA(p=0.25, interval=3, ramp_images=1000)
    logits = np.ones((8, 2, 2, 1), "float32")  # PatchGAN-shaped: 8 images, 32 logits
    for _ in range(2):
        ada.observe(logits)
    assert ada.get_state()["p"] == 0.25  # not yet: interval is 3
    ada.observe(logits)
    assert ada.get_state()["p"] == pytest.approx(0.25 + 3 * 8 / 1000, abs=1e-7)
    logs = ada.logs()
    assert float(logs["aug_p"]) == pytest.approx(0.274, abs=1e-7)
    assert float(logs["r_t"]) == 1.0
    state = ada.get_state()
    assert state["sign_sum"] == state["logit_count"] == state["image_count"] == 0.0


def test_ada_p_falls_with_negative_logits_and_clips_at_zero_and_one():
    ada = A.ADA(p=0.02, interval=2, ramp_images=100)
    logits = -np.ones((4, 1), "float32")
    ada.observe(logits)
    ada.observe(logits)
    assert ada.get_state()["p"] == pytest.approx(0.02 - 8 / 100, abs=1e-7) or \
        ada.get_state()["p"] == 0.0
    assert ada.get_state()["p"] == 0.0
    assert float(ada.logs()["r_t"]) == -1.0
    high = A.ADA(p=0.99, interval=1, ramp_images=100)
    high.observe(np.ones((4, 1), "float32"))
    assert high.get_state()["p"] == 1.0


def test_ada_r_t_is_the_mean_sign_compared_with_the_target():
    # 6 positive, 4 negative logits: r_t = 0.2 < 0.6, p falls by 10 / 100.
    ada = A.ADA(p=0.5, interval=1, ramp_images=100)
    ada.observe(np.array([3.0, 2, 1, 0.5, 0.1, 7, -1, -2, -3, -0.1], "float32"))
    assert ada.get_state()["r_t"] == pytest.approx(0.2)
    assert ada.get_state()["p"] == pytest.approx(0.4, abs=1e-7)


def test_ada_with_adjust_false_keeps_p():
    ada = A.ADA(p=0.3, interval=1, adjust=False)
    for _ in range(3):
        ada.observe(np.ones((4, 1), "float32"))
    assert ada.get_state()["p"] == pytest.approx(0.3)
    assert float(ada.logs()["r_t"]) == 1.0


def test_ada_observe_and_call_inside_tf_function():
    ada = A.ADA(p=0.0, interval=2, ramp_images=16)
    ada.build()

    @tf.function
    def step(x, seed):
        out = ada(x, seed)
        ada.observe(tf.ones([tf.shape(x)[0], 1]))
        return out

    x = images(batch=4)
    np.testing.assert_array_equal(numpy_of(step(x, tf.constant([1, 2]))), x)
    step(x, tf.constant([1, 3]))
    assert ada.get_state()["p"] == pytest.approx(0.5)
    assert not np.array_equal(numpy_of(step(x, tf.constant([1, 4]))), x)


def test_ada_state_round_trips_through_json():
    ada = A.ADA(p=0.1, interval=3, ramp_images=50)
    for sign in (1, 1, 1, -1):
        ada.observe(sign * np.ones((4, 1), "float32"))
    state = json.loads(json.dumps(ada.get_state()))
    assert state["observed"] == 1.0 and state["p"] == pytest.approx(0.1 + 12 / 50)
    restored = A.ADA(p=0.1, interval=3, ramp_images=50)
    restored.set_state(state)  # before build: applied when it builds
    assert restored.get_state() == state
    restored.build()
    assert restored.get_state() == state
    built = A.ADA()
    built.build()
    built.set_state(state)
    assert built.get_state() == state
    # Both go on identically.
    for aug in (ada, restored):
        aug.observe(-np.ones((4, 1), "float32"))
        aug.observe(-np.ones((4, 1), "float32"))
    assert restored.get_state() == ada.get_state()


def test_get_config_round_trips():
    for aug in (A.DiffAugment("translation,cutout", 0.25, 0.3),
                A.ADA(target=0.5, ramp_images=1000, interval=2, p=0.1, adjust=False, ops="bg")):
        config = json.loads(json.dumps(aug.get_config()))
        assert type(aug).from_config(config).get_config() == config
    assert A.ADA().get_config() == {"target": 0.6, "ramp_images": 20000, "interval": 4,
                                    "p": 0.0, "adjust": True, "ops": "bgc"}
    assert A.DiffAugment().get_config() == {
        "policy": "color,translation,cutout", "translation_ratio": 0.125, "cutout_ratio": 0.5}
    assert A.DiffAugment().get_state() == {} and A.DiffAugment().logs() == {}


# -- distribution --------------------------------------------------------------------


def test_ada_p_under_mirrored_strategy_equals_one_device_on_the_whole_batch(
        two_cpu_strategy):
    strategy = two_cpu_strategy
    with strategy.scope():
        ada = A.ADA(p=0.5, interval=2, ramp_images=100)
        ada.build()
    single = A.ADA(p=0.5, interval=2, ramp_images=100)

    @tf.function
    def step(per_replica_logits):
        def observe(logits):
            ada.observe(logits)
            return ada.logs()["aug_p"]

        return strategy.run(observe, args=(per_replica_logits,))

    # Replica 0 alone would raise p; the global batch lowers it (and the other way).
    batches = [
        ([3.0, 1.0, 2.0, 0.5], [-1.0, -2.0, -3.0, 1.0]),
        ([1.0, 2.0, 3.0, 4.0], [-1.0, -1.0, -1.0, -1.0]),
        ([-1.0, 1.0, -1.0, -1.0], [1.0, 1.0, 1.0, 1.0]),
        ([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]),
    ]
    trajectory = []
    for pair in batches:
        per_replica = strategy.experimental_distribute_values_from_function(
            lambda context, pair=pair: tf.reshape(
                tf.constant(pair[context.replica_id_in_sync_group]), [4, 1]))
        replica_p = [float(v) for v in strategy.experimental_local_results(step(per_replica))]
        single.observe(np.reshape(pair, [8, 1]).astype("float32"))
        assert replica_p[0] == replica_p[1] == pytest.approx(single.get_state()["p"], abs=1e-7)
        trajectory.append(replica_p[0])
    assert trajectory == pytest.approx([0.5, 0.34, 0.34, 0.5], abs=1e-6)
    assert ada.get_state() == pytest.approx(single.get_state())


def test_augmentation_under_mirrored_strategy_matches_one_device(two_cpu_strategy):
    strategy = two_cpu_strategy
    with strategy.scope():
        ada = A.ADA(p=0.6, adjust=False)
        ada.build()
    x = images(batch=6)
    seed = tf.constant([21, 22], tf.int64)

    @tf.function
    def augment(per_replica_images):
        def run(rows):
            context = tf.distribute.get_replica_context()
            offset = context.replica_id_in_sync_group * tf.shape(rows)[0]
            return ada(rows, seed, offset=offset, total=len(x))

        return strategy.run(run, args=(per_replica_images,))

    per_replica = strategy.experimental_distribute_values_from_function(
        lambda context: x[3 * context.replica_id_in_sync_group:][:3])
    parts = strategy.experimental_local_results(augment(per_replica))
    single = A.ADA(p=0.6, adjust=False)
    np.testing.assert_allclose(np.concatenate([numpy_of(p) for p in parts]),
                               numpy_of(single(x, seed)), atol=1e-6)


# -- get, names and bad arguments ----------------------------------------------------


def test_get_resolves_names_policies_and_instances():
    assert A.get(None) is None and A.get("none") is None
    assert isinstance(A.get("diffaugment"), A.DiffAugment)
    assert A.get("diffaugment").policy == "color,translation,cutout"
    assert isinstance(A.get("ada"), A.ADA)
    policy = A.get("color,translation")
    assert isinstance(policy, A.DiffAugment) and policy.policy == "color,translation"
    assert A.get("cutout").policy == "cutout"
    instance = A.ADA(p=0.2)
    assert A.get(instance) is instance
    assert A.names() == ("none", "diffaugment", "ada", "color", "translation", "cutout")


@pytest.mark.parametrize("spec", ["rotation", "color,flip", "", 3, ["ada"]])
def test_get_refuses_anything_else_naming_value_and_choices(spec):
    with pytest.raises(ValueError) as error:
        A.get(spec)
    message = str(error.value)
    assert "\n" not in message and repr(spec) in message
    assert "diffaugment" in message and "ada" in message and "translation" in message


@pytest.mark.parametrize("make, words", [
    (lambda: A.DiffAugment(policy="color,zoom"), ["'zoom'", "color, translation, cutout"]),
    (lambda: A.DiffAugment(translation_ratio=1.5), ["translation_ratio", "1.5"]),
    (lambda: A.DiffAugment(cutout_ratio="half"), ["cutout_ratio", "'half'"]),
    (lambda: A.ADA(target=2.0), ["target", "2.0"]),
    (lambda: A.ADA(ramp_images=0), ["ramp_images", "0"]),
    (lambda: A.ADA(interval=0), ["interval", "0"]),
    (lambda: A.ADA(interval=2.5), ["interval", "2.5"]),
    (lambda: A.ADA(p=-0.1), ["p must", "-0.1"]),
    (lambda: A.ADA(adjust="yes"), ["adjust", "'yes'"]),
    (lambda: A.ADA(ops="bgx"), ["ops", "'bgx'"]),
    (lambda: A.ADA(ops=""), ["ops", "''"]),
    (lambda: A.ADA().set_state({"p": 0.5}), ["state", "keys"]),
    (lambda: A.ADA()(np.zeros((2, 4, 4, 2), "float32"), [1, 2]), ["channels", "(2, 4, 4, 2)"]),
])
def test_bad_arguments_raise_one_line_naming_them(make, words):
    with pytest.raises(ValueError) as error:
        make()
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_keras_model_holding_an_augmentation_does_not_track_it():
    import keras

    class Holder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)
            self.augment = A.ADA(p=0.3)
            self.augment.build()

    model = Holder()
    model.dense.build((None, 3))
    assert isinstance(model.augment, A.ADA)
    assert len(model.weights) == 2  # the Dense kernel and bias, no ADA variable
    assert not model.augment.p.trainable
    assert model.augment.p.aggregation == "only_first_replica"


def test_augmentations_compile_with_xla():
    # Keras may jit-compile a train step: every op must have an XLA kernel.
    ada = A.ADA(p=0.5, interval=1, ramp_images=100)
    diff = A.DiffAugment()
    ada.build()

    @tf.function(jit_compile=True)
    def step(x, seed):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = ada(diff(x, seed), seed)
            loss = tf.reduce_sum(out)
        ada.observe(tf.ones([tf.shape(x)[0], 1]))
        return out, tape.gradient(loss, x)

    out, gradient = step(tf.constant(images(batch=4)), tf.constant([1, 2]))
    assert out.shape == (4, 8, 8, 3) and np.all(np.isfinite(numpy_of(out)))
    assert np.all(np.isfinite(numpy_of(gradient))) and np.abs(numpy_of(gradient)).sum() > 0
    assert ada.get_state()["p"] == pytest.approx(0.5 + 4 / 100)
