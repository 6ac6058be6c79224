"""Projection: the latent whose image best matches a target picture.

The StyleGAN2 projector (Karras et al. 2020, https://arxiv.org/abs/1912.04958, Appendix D,
and the authors' `projector.py`), for every noise-to-image family:

- what is searched: w (one w for every layer, the paper's choice) or w+ (one w per layer)
  and the per-layer noise maps of a StyleGAN-lite generator; the latent z of the other
  families (dcgan, wgan_gp, sagan, gan), and of a StyleGAN-lite with `space="z"` (its noise
  then fixed to what `sample(seed=...)` draws); with the class label of a conditional one
  (cgan, conditional sagan), given or searched over every class (the best one kept);
- where the search starts: the mean w of 2,000 mapped latents (the authors use 10,000) in
  w / w+, z = 0 (the mean latent) in z; `starts=K` adds K - 1 starts at random latents
  (their w in w space) and keeps the best;
- Adam (betas 0.9, 0.999) with the authors' learning-rate ramp: 0.1 times a linear
  ramp-up over the first 5 % of the steps and a cosine ramp-down over the last 25 %;
- Gaussian noise added to the searched vector, of standard deviation
  w_std * 0.05 * max(0, 1 - t / 0.75)^2 (w_std the root of the mapped latents' total
  variance; sqrt(latent_dim) in z), which anneals the search out of poor basins;
- the noise maps: drawn from N(0, 1), penalised by the multi-scale autocorrelation
  regulariser (weight 1e5) so no image detail hides in them, and renormalised to zero mean
  and unit variance after every step.

The distance (`distance=`), offline by default (no LPIPS download):

- `"pixels"`: mean squared difference of the images in [-1, 1];
- `"digits"`: pixels plus an LPIPS-style distance over the digits classifier
  (`ganzoo.metrics.digits`, shipped with ganzoo): its `block1_conv2`, `block2_conv2` and
  `features` activations, each unit-normalised over channels, squared differences summed
  over channels and averaged over positions, then summed over the three layers (images
  turned grey and resized to 32x32 first);
- `"vgg"`: pixels plus the same LPIPS-style distance over VGG16's five `block*_conv*`
  layers before pooling (ImageNet weights, images resized to at least 64x64), without
  LPIPS' learned layer weights; only when Keras has VGG16's weights in its cache
  (`~/.keras/models`, `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`): offline this is
  one clear error;
- `"auto"` (the default): `vgg` for 3-channel images when its weights are cached, `digits`
  for 1-channel images, `pixels` otherwise. The result says which was used.

Targets are uint8 pictures (a PNG path, `(H, W[, C])` or `(N, H, W, C)`); `prepare_target`
resizes one of another size to the model's (bilinear, antialiased: Pillow) and converts
RGB to grey (ITU-R 601 luma) or grey to RGB, each with a notice. Several targets are
projected in one batch, each on its own (the loss is a sum of per-image losses, and Adam
is per coordinate).

```python
model = ganzoo.models.load("stylegan_lite-digits")
result = ganzoo.projection.project(model, "target.png", steps=300)
result.images, result.psnr, result.ssim, result.distance      # uint8, dB, SSIM, "digits"
ganzoo.projection.write(result, "projection/")                # latent.npz, PNGs, json
ganzoo.projection.render(model, "projection/latent.npz")      # the reconstruction again
```
"""

import dataclasses
import json
import math
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _atomic, _imaging, _keras_cache, _sampling, _tasks, _validation
from ganzoo import images as images_lib
from ganzoo.metrics import digits as digits_lib
from ganzoo.metrics import image_quality

DISTANCES = ("auto", "pixels", "digits", "vgg")
SPACES = ("z", "w", "w+")
# The authors' projector (projector.py): its defaults.
INITIAL_LEARNING_RATE = 0.1
LR_RAMPUP = 0.05
LR_RAMPDOWN = 0.25
INITIAL_NOISE_FACTOR = 0.05
NOISE_RAMP_LENGTH = 0.75
NOISE_REGULARIZATION = 1e5
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
# Mapped latents whose mean and spread give the start and the noise scale in w.
W_SAMPLES = 2000
# Weight of the feature term of "digits" and "vgg" (the pixels' is 1).
FEATURE_WEIGHT = 1.0
VGG16_WEIGHTS = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3",
                "block5_conv3")
DIGITS_LAYERS = ("block1_conv2", "block2_conv2", "features")

# What `write` puts in its folder; `projection.json` marks the folder as a projection's.
LATENT_FILE = "latent.npz"
RECONSTRUCTION_FILE = "reconstruction.png"
SIDE_BY_SIDE_FILE = "side_by_side.png"
SUMMARY_FILE = "projection.json"
OUTPUT_FILES = (LATENT_FILE, RECONSTRUCTION_FILE, SIDE_BY_SIDE_FILE, SUMMARY_FILE)
SUMMARY_FORMAT = "ganzoo-projection"


class ProjectionNotice(UserWarning):
    """A target changed to fit the model (resized, channels converted)."""


@dataclasses.dataclass
class Projection:
    """What `project` found for each target.

    Attributes:
        family: str. The model's family.
        space: "z", "w" or "w+". What was searched.
        distance: "pixels", "digits" or "vgg". The distance that was minimised.
        steps: int. Optimisation steps.
        targets: uint8 `(N, H, W, C)`. The targets as the model saw them (resized,
            converted).
        images: uint8 `(N, H, W, C)`. The reconstructions.
        psnr: float64 `(N,)`. PSNR of each reconstruction against its target, dB.
        ssim: float64 `(N,)`. SSIM of each.
        final_distance: float32 `(N,)`. The distance of each reconstruction.
        latents: float32 `(N, latent_dim)` or None. The z found (space "z").
        styles: float32 `(N, style_dim)` (w), `(N, num_styles, style_dim)` (w+) or None.
        noise: list of float32 `(N, r, r, 1)` or None. The noise maps (StyleGAN-lite; in
            space "z" those `sample(N, seed=seed)` draws).
        labels: int32 `(N,)` or None. The class of each (conditional models).
        seed: int. Seed of the search (and of the noise in space "z").
    """

    family: str
    space: str
    distance: str
    steps: int
    targets: np.ndarray
    images: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray
    final_distance: np.ndarray
    latents: np.ndarray = None
    styles: np.ndarray = None
    noise: list = None
    labels: np.ndarray = None
    seed: int = 0

    def arrays(self):
        """The arrays of `latent.npz`: `latent` (z, what `ganzoo sample --latents` reads)
        and `label` for conditional models; `w` or `w_plus` and `noise_<k>` for a
        StyleGAN-lite projected in w / w+ (with `space="z"` its `latent` and the seed's
        noise)."""
        arrays = {}
        if self.latents is not None:
            arrays["latent"] = np.asarray(self.latents, np.float32)
        if self.styles is not None:
            key = "w_plus" if self.space == "w+" else "w"
            arrays[key] = np.asarray(self.styles, np.float32)
        for index, values in enumerate(self.noise or []):
            arrays[f"noise_{index}"] = np.asarray(values, np.float32)
        if self.labels is not None:
            arrays["label"] = np.asarray(self.labels, np.int32)
        return arrays

    def side_by_side(self):
        """One uint8 picture: each target beside its reconstruction, a pair per row."""
        pairs = np.stack([self.targets, self.images], axis=1).reshape(
            (-1,) + self.targets.shape[1:])
        return _imaging.grid(pairs, columns=2)

    def summary(self):
        """The facts `projection.json` holds."""
        return {
            "format": SUMMARY_FORMAT,
            "family": self.family,
            "space": self.space,
            "distance": self.distance,
            "steps": int(self.steps),
            "seed": int(self.seed),
            "psnr": [round(float(v), 3) for v in self.psnr],
            "ssim": [round(float(v), 4) for v in self.ssim],
            "mean_psnr": round(float(np.mean(self.psnr)), 3),
            "mean_ssim": round(float(np.mean(self.ssim)), 4),
            "final_distance": [round(float(v), 6) for v in self.final_distance],
            "labels": None if self.labels is None else [int(v) for v in self.labels],
        }


# -- schedules of the authors' projector ----------------------------------------------------


def learning_rate(t, initial=INITIAL_LEARNING_RATE, rampup=LR_RAMPUP, rampdown=LR_RAMPDOWN):
    """The learning rate at progress `t` in [0, 1]: `initial` times a linear ramp-up over
    the first `rampup` of the run and a cosine ramp-down over the last `rampdown`."""
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp *= min(1.0, t / rampup)
    return initial * ramp


def latent_noise_scale(t, spread, factor=INITIAL_NOISE_FACTOR, ramp=NOISE_RAMP_LENGTH):
    """Standard deviation of the noise added to the searched vector at progress `t`:
    spread * factor * max(0, 1 - t / ramp)^2."""
    return spread * factor * max(0.0, 1.0 - t / ramp) ** 2


def noise_regularization(noise_maps):
    """The authors' noise regulariser, per image `(B,)`: for each map and each of its
    halvings (2x2 average pooling) down to 8x8, the squared mean of the map times itself
    rolled by one pixel, along the width and along the height."""
    total = 0.0
    for noise in noise_maps:
        while True:
            total += tf.square(tf.reduce_mean(noise * tf.roll(noise, 1, axis=2), axis=[1, 2, 3]))
            total += tf.square(tf.reduce_mean(noise * tf.roll(noise, 1, axis=1), axis=[1, 2, 3]))
            if noise.shape[1] <= 8:
                break
            noise = tf.nn.avg_pool2d(noise, 2, 2, "VALID")
    return total


def normalize_noise(noise):
    """Each image's noise map with zero mean and unit variance."""
    noise = noise - tf.reduce_mean(noise, axis=[1, 2, 3], keepdims=True)
    return noise * tf.math.rsqrt(tf.reduce_mean(tf.square(noise), axis=[1, 2, 3],
                                                keepdims=True))


# -- targets ---------------------------------------------------------------------------------


def prepare_target(target, image_shape):
    """(uint8 `(N, H, W, C)` targets for a model of `image_shape`, notices).

    `target`: a path to an image file, or uint8 `(H, W)`, `(H, W, C)` or `(N, H, W, C)`
    with 1 or 3 channels (4: the alpha channel is dropped). Another size is resized
    (bilinear, antialiased), RGB turned grey or grey RGB, each with a notice (a string).
    """
    height, width, channels = (int(v) for v in image_shape)
    notices = []
    if isinstance(target, (str, os.PathLike)):
        what = os.fspath(target)
        if not os.path.isfile(what):
            raise FileNotFoundError(f"The projection target {what} does not exist")
        batch = _imaging.load_image(what)[None]
    else:
        what = "the target"
        array = np.asarray(target)
        if array.dtype == np.uint8 and array.ndim in (3, 4) and array.shape[-1] == 4:
            array = array[..., :3]
            notices.append(f"{what} has an alpha channel; it was dropped")
        batch, _ = _imaging.as_uint8_batch(array, "project")
    if batch.shape[-1] == 4:
        batch = batch[..., :3]
        notices.append(f"{what} has an alpha channel; it was dropped")
    if batch.shape[-1] not in (1, 3):
        raise ValueError(f"{what} has {batch.shape[-1]} channels; project takes 1 (grey) or "
                         "3 (RGB)")
    if batch.shape[-1] != channels:
        notices.append(f"{what} is {'RGB' if batch.shape[-1] == 3 else 'grey'}; it was turned "
                       f"{'grey' if channels == 1 else 'RGB'} for the model's {channels}-channel "
                       "images")
        batch = _imaging.convert_channels(batch, channels)
    if batch.shape[1:3] != (height, width):
        notices.append(f"{what} is {batch.shape[2]}x{batch.shape[1]}; it was resized to the "
                       f"model's {width}x{height}")
        batch = _resize(batch, (height, width))
    return batch, notices


def _resize(batch, size):
    from PIL import Image  # Lazy: Pillow loads only to resize a target.

    height, width = size
    resized = []
    for image in batch:
        picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        array = np.asarray(picture.resize((width, height), Image.BILINEAR, reducing_gap=None))
        resized.append(array.reshape(height, width, image.shape[-1]))
    return np.stack(resized)


# -- distances ---------------------------------------------------------------------------


def vgg16_weights_path():
    """Where Keras caches VGG16's ImageNet weights (without the top)."""
    return os.path.join(_keras_cache.keras_models_dir(), VGG16_WEIGHTS)


def choose_distance(distance, channels):
    """The distance `"auto"` stands for on images of `channels` channels (else `distance`,
    checked; "vgg" without cached weights is one line)."""
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(DISTANCES)}. "
                         f"Received: distance={distance!r}")
    if distance == "auto":
        if channels == 3 and os.path.isfile(vgg16_weights_path()):
            return "vgg"
        return "digits" if channels == 1 else "pixels"
    if distance == "vgg" and not os.path.isfile(vgg16_weights_path()):
        raise ValueError(
            f"distance 'vgg' needs VGG16's ImageNet weights in the Keras cache "
            f"({vgg16_weights_path()}), and there are none: use 'digits' or 'pixels' offline, "
            "or run keras.applications.VGG16(include_top=False) once online")
    return distance


def _lpips_style(features, target_features):
    """Sum over layers of the mean over positions of the squared difference of
    channel-normalised activations (LPIPS without its learned weights), per image."""
    total = 0.0
    for ours, theirs in zip(features, target_features):
        ours = ours * tf.math.rsqrt(tf.reduce_sum(tf.square(ours), -1, keepdims=True) + 1e-10)
        theirs = theirs * tf.math.rsqrt(
            tf.reduce_sum(tf.square(theirs), -1, keepdims=True) + 1e-10)
        squared = tf.reduce_sum(tf.square(ours - theirs), axis=-1)
        total += tf.reduce_mean(tf.reshape(squared, [tf.shape(squared)[0], -1]), axis=1)
    return total


def _grey(images):
    if images.shape[-1] == 3:
        return tf.tensordot(images, tf.constant(_imaging.LUMA_WEIGHTS, tf.float32),
                            axes=[[3], [0]])[..., None]
    return images


def _digits_features():
    """images in [-1, 1] -> the digits classifier's activations of `DIGITS_LAYERS`."""
    classifier, _, _ = digits_lib.load_classifier()
    network = keras.Model(classifier.input,
                          [classifier.get_layer(name).output for name in DIGITS_LAYERS])
    size = tuple(int(v) for v in classifier.input_shape[1:3])

    def features(images):
        grey = _grey(images)
        if tuple(grey.shape[1:3]) != size:
            grey = tf.image.resize(grey, size, method="bilinear", antialias=True)
        return network(grey, training=False)

    return features


def _vgg_features():
    """images in [-1, 1] -> VGG16's activations of `VGG16_LAYERS` (caffe preprocessing)."""
    network = keras.applications.VGG16(include_top=False, weights=vgg16_weights_path())
    network = keras.Model(network.input,
                          [network.get_layer(name).output for name in VGG16_LAYERS])
    mean = tf.constant([103.939, 116.779, 123.68], tf.float32)

    def features(images):
        if images.shape[-1] == 1:
            images = tf.repeat(images, 3, axis=-1)
        size = max(64, int(images.shape[1]), int(images.shape[2]))
        if tuple(images.shape[1:3]) != (size, size):
            images = tf.image.resize(images, (size, size), method="bilinear")
        pixels = (images + 1.0) * 127.5
        return network(pixels[..., ::-1] - mean, training=False)

    return features


def distance_function(distance, targets):
    """`f(images) -> (B,)`: the distance of float images in [-1, 1] to `targets` (same
    shape), for `distance` "pixels", "digits" or "vgg"."""
    targets = tf.constant(targets, tf.float32)

    def pixels(images):
        return tf.reduce_mean(tf.square(images - targets), axis=[1, 2, 3])

    if distance == "pixels":
        return pixels
    features = _digits_features() if distance == "digits" else _vgg_features()
    target_features = [tf.constant(f) for f in features(targets)]

    def combined(images):
        return pixels(images) + FEATURE_WEIGHT * _lpips_style(features(images),
                                                              target_features)

    return combined


# -- the search --------------------------------------------------------------------------


def _is_style_based(model):
    return getattr(model, "family", None) == "stylegan_lite"


def check_model(model):
    """Refuse in one line what has no Keras generator to differentiate: a bundle, an
    image-to-image model."""
    if not isinstance(model, keras.Model) or not hasattr(type(model), "inference_generator"):
        family = getattr(model, "family", None)
        raise ValueError(
            "Projection follows gradients through the Keras generator; "
            f"{'a ' + family + ' export bundle' if family else repr(type(model).__name__)} "
            "has none: project with the preset or run folder it was exported from")
    if getattr(model, "task", None) != _tasks.NOISE_TO_IMAGE:
        raise ValueError(
            f"project() is for generators that draw images from latents; a {model.family} "
            f"model {model.does}: use {model.use}")


def check_space(model, space):
    """`space` for `model` (None: "w" for StyleGAN-lite, "z" otherwise), checked."""
    if space is None:
        return "w" if _is_style_based(model) else "z"
    if space not in SPACES:
        raise ValueError(f"space must be one of {', '.join(SPACES)}. Received: space={space!r}")
    if space != "z" and not _is_style_based(model):
        raise ValueError(_tasks.no_w_space(f"space={space!r}", f"a {model.family} model"))
    return space


def _candidate_labels(model, labels, n):
    """(labels of every candidate row of each target `(n, K)`, or None)."""
    if not getattr(model, "conditional", False):
        if labels is not None:
            raise ValueError(f"{model.family} is unconditional; it takes no labels")
        return None
    if labels is None:
        return np.tile(np.arange(model.num_classes, dtype=np.int32), (n, 1))
    return _sampling.labels_for(n, model.num_classes, labels)[:, None]


def project(model, target, steps=300, *, labels=None, space=None, distance="auto", starts=1,
            seed=0, initial_learning_rate=INITIAL_LEARNING_RATE,
            noise_regularization_weight=NOISE_REGULARIZATION, progress=None):
    """Find the latent (w / w+ and noise, or z, and the label) whose image best matches
    `target`, as the StyleGAN2 projector does (see the module docstring).

    Args:
        model: a noise-to-image ganzoo model (`ganzoo.models.load(...)`); its inference
            generator (the EMA one where kept) is the one searched.
        target: a path to an image, or uint8 `(H, W[, C])` / `(N, H, W, C)` pictures;
            converted by `prepare_target` (each change a `ProjectionNotice` warning).
        steps: int. Optimisation steps. Defaults to 300.
        labels: None, an int or `(N,)` ints. The class of conditional models; None
            searches every class and keeps the best. Unconditional models take none.
        space: None, "z", "w" or "w+". What is searched; None: "w" for StyleGAN-lite,
            "z" otherwise.
        distance: "auto", "pixels", "digits" or "vgg". Defaults to "auto".
        starts: int. Starting points per target (and class): the mean, then random
            latents; the best is kept. Defaults to 1.
        seed: int. Seed of the noise maps, the annealing noise and the random starts (and,
            in space "z", of the fixed noise of a StyleGAN-lite). Defaults to 0.
        initial_learning_rate: float. Peak Adam rate. Defaults to 0.1.
        noise_regularization_weight: float. Defaults to 1e5.
        progress: callable `(step, steps, mean distance)` or None, called every step.

    Returns:
        A `Projection`.
    """
    check_model(model)
    steps = _validation.check_count(steps, "steps")
    starts = _validation.check_count(starts, "starts")
    seed = _validation.check_seed(seed)
    if seed is None:
        seed = 0
    space = check_space(model, space)
    targets, notices = prepare_target(target, model.image_shape)
    for notice in notices:
        warnings.warn(notice, ProjectionNotice, stacklevel=2)
    distance = choose_distance(distance, model.image_shape[-1])
    n = len(targets)
    candidate_labels = _candidate_labels(model, labels, n)
    classes = 1 if candidate_labels is None else candidate_labels.shape[1]
    per_target = classes * starts
    # Rows: target-major, then class, then start.
    rows = n * per_target
    target_rows = np.repeat(_imaging.from_uint8(targets), per_target, axis=0)
    label_rows = None if candidate_labels is None else np.repeat(
        candidate_labels.reshape(-1), starts).astype(np.int32)
    search = _Search(model, space, rows, n, per_target, starts, seed)
    measure = distance_function(distance, target_rows)
    final = search.run(measure, steps, initial_learning_rate, noise_regularization_weight,
                       label_rows, progress)
    best = final.reshape(n, per_target).argmin(axis=1) + np.arange(n) * per_target
    images = _imaging.to_uint8(search.render(best, label_rows))
    found = search.found(best)
    return Projection(
        family=model.family, space=space, distance=distance, steps=steps, targets=targets,
        images=images,
        psnr=np.array([image_quality.psnr(a, b) for a, b in zip(targets, images)]),
        ssim=np.array([image_quality.ssim(a, b) for a, b in zip(targets, images)]),
        final_distance=final[best].astype(np.float32),
        labels=None if label_rows is None else label_rows[best], seed=seed, **found)


class _Search:
    """The variables of one projection batch and how they make images."""

    def __init__(self, model, space, rows, n, per_target, starts, seed):
        self.model, self.space, self.rows = model, space, rows
        self.generator = model.inference_generator()
        self.inputs = model.input_descriptions(self.generator)
        rng = np.random.default_rng(seed)
        self.seed_stream = rng.integers(0, 2**31 - 1, size=2)
        start_latents = np.zeros((rows, model.latent_dim), np.float32)
        random_rows = np.arange(rows) % starts != 0
        start_latents[random_rows] = rng.standard_normal(
            (int(random_rows.sum()), model.latent_dim)).astype(np.float32)
        self.noise = []
        self.fixed_noise = []
        if space == "z":
            self.spread = math.sqrt(model.latent_dim)
            self.vector = tf.Variable(start_latents, name="latent")
            if _is_style_based(model):
                # The noise `sample(n, seed=seed)` draws, each target's row for its candidates.
                drawn = _sampling.draw_inputs(self.inputs, n, seed)
                roles = [_sampling.role_of(entry) for entry in self.inputs]
                self.fixed_noise = [np.repeat(values, per_target, axis=0)
                                    for role, values in zip(roles, drawn) if role == "noise"]
        else:
            mapping, _, self.synthesis = model.parts(self.generator)
            mapped = keras.ops.convert_to_numpy(mapping(
                _sampling.latents(W_SAMPLES, model.latent_dim, seed), training=False))
            w_avg = mapped.mean(axis=0)
            self.spread = float(np.sqrt(np.sum((mapped - w_avg) ** 2) / len(mapped)))
            start = np.where(random_rows[:, None], keras.ops.convert_to_numpy(
                mapping(start_latents, training=False)), w_avg[None]).astype(np.float32)
            if space == "w+":
                start = np.repeat(start[:, None], model.num_styles, axis=1)
            self.vector = tf.Variable(start, name="w")
            shapes = [entry["shape"][1:] for entry in self.inputs
                      if _sampling.role_of(entry) == "noise"]
            self.noise = [tf.Variable(rng.standard_normal((rows, *shape)).astype(np.float32),
                                      name=f"noise_{index}")
                          for index, shape in enumerate(shapes)]

    @property
    def variables(self):
        return [self.vector, *self.noise]

    def images(self, vector, labels):
        """Float images of the searched `vector` (and the noise variables)."""
        if self.space == "z":
            feeds = []
            noise = iter(self.fixed_noise)
            for entry in self.inputs:
                role = _sampling.role_of(entry)
                if role == "latent":
                    feeds.append(vector)
                elif role == "label":
                    feeds.append(labels)
                elif role == "truncation":
                    feeds.append(tf.ones([tf.shape(vector)[0], 1], tf.float32))
                elif role == "noise":
                    feeds.append(tf.constant(next(noise)))
                else:
                    raise ValueError(f"project() cannot feed the generator input "
                                     f"{entry['name']!r} (role {role})")
            return self.generator(feeds if len(feeds) > 1 else feeds[0], training=False)
        styles = vector if self.space == "w+" else tf.repeat(
            vector[:, None], self.model.num_styles, axis=1)
        return self.synthesis([styles, *self.noise], training=False)

    def run(self, measure, steps, initial_lr, noise_weight, labels, progress):
        """Optimise; returns the final distance of every row (no annealing noise)."""
        label_tensor = None if labels is None else tf.constant(labels)
        moments = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v)))
                   for v in self.variables]
        beta_1, beta_2 = ADAM_BETAS
        seeds = tf.constant(self.seed_stream, tf.int64)

        @tf.function(reduce_retracing=True)
        def step(index, lr, noise_scale):
            with tf.GradientTape() as tape:
                jitter = tf.random.stateless_normal(
                    tf.shape(self.vector), seed=tf.stack([seeds[0], seeds[1] + index]))
                images = self.images(self.vector + jitter * noise_scale, label_tensor)
                distances = measure(images)
                loss = tf.reduce_sum(distances)
                if self.noise:
                    loss += noise_weight * tf.reduce_sum(noise_regularization(self.noise))
            gradients = tape.gradient(loss, self.variables)
            count = tf.cast(index + 1, tf.float32)
            for variable, gradient, (m, v) in zip(self.variables, gradients, moments):
                m.assign(beta_1 * m + (1 - beta_1) * gradient)
                v.assign(beta_2 * v + (1 - beta_2) * tf.square(gradient))
                m_hat = m / (1 - beta_1 ** count)
                v_hat = v / (1 - beta_2 ** count)
                variable.assign_sub(lr * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON))
            for noise in self.noise:
                noise.assign(normalize_noise(noise))
            return distances

        for index in range(steps):
            t = index / steps
            distances = step(tf.constant(index, tf.int64),
                             tf.constant(learning_rate(t, initial_lr), tf.float32),
                             tf.constant(latent_noise_scale(t, self.spread), tf.float32))
            if progress is not None:
                progress(index + 1, steps, float(tf.reduce_mean(distances)))
        return keras.ops.convert_to_numpy(measure(self.images(self.vector, label_tensor)))

    def render(self, rows, labels):
        vector = tf.gather(self.vector, rows)
        if self.space == "z":
            saved = self.fixed_noise
            self.fixed_noise = [values[rows] for values in saved]
            try:
                return keras.ops.convert_to_numpy(self.images(
                    vector, None if labels is None else tf.constant(labels[rows])))
            finally:
                self.fixed_noise = saved
        noise = [tf.gather(values, rows) for values in self.noise]
        styles = vector if self.space == "w+" else tf.repeat(
            vector[:, None], self.model.num_styles, axis=1)
        return keras.ops.convert_to_numpy(self.synthesis([styles, *noise], training=False))

    def found(self, rows):
        vector = keras.ops.convert_to_numpy(self.vector)[rows]
        if self.space == "z":
            noise = [values[rows] for values in self.fixed_noise] or None
            return {"latents": vector, "noise": noise}
        return {"styles": vector,
                "noise": [keras.ops.convert_to_numpy(values)[rows] for values in self.noise]}


# -- results on disk ------------------------------------------------------------------------


def read_latents(path):
    """The arrays of a `latent.npz` written by `write`, checked."""
    try:
        with np.load(os.fspath(path)) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a .npz file of arrays ({error})") from None


def render(model, found):
    """uint8 images of a projection (`Projection` or a `latent.npz` path / arrays): what
    `project` reconstructed, with its labels and noise maps."""
    arrays = found.arrays() if isinstance(found, Projection) else (
        read_latents(found) if isinstance(found, (str, os.PathLike)) else dict(found))
    noise = [arrays[f"noise_{index}"] for index in range(len(
        [key for key in arrays if key.startswith("noise_")]))]
    labels = arrays.get("label")
    if "w" in arrays or "w_plus" in arrays:
        if not _is_style_based(model):
            raise ValueError(_tasks.no_w_space("A projection in w", f"a {model.family} model"))
        styles = arrays["w_plus"] if "w_plus" in arrays else np.repeat(
            arrays["w"][:, None], model.num_styles, axis=1)
        _, _, synthesis = model.parts(model.inference_generator())
        images = synthesis([np.asarray(styles, np.float32),
                            *[np.asarray(values, np.float32) for values in noise]],
                           training=False)
        return _imaging.to_uint8(keras.ops.convert_to_numpy(images))
    if "latent" not in arrays:
        raise ValueError("A projection's latent.npz holds 'latent' (z) or 'w' / 'w_plus'; "
                         f"this one has {', '.join(sorted(arrays)) or 'nothing'}")
    latents = _sampling.check_latents(arrays["latent"], model.latent_dim)
    if noise:
        # A StyleGAN-lite searched in z: its noise was the seed's, given here as it was.
        generator = model.inference_generator()
        feeds = [latents, np.ones((len(latents), 1), np.float32), *noise]
        return _imaging.to_uint8(keras.ops.convert_to_numpy(generator(feeds, training=False)))
    return model.sample(latents=latents, labels=labels)


def _is_projection_folder(path):
    try:
        with open(os.path.join(path, SUMMARY_FILE), encoding="utf-8") as handle:
            return json.load(handle).get("format") == SUMMARY_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def write(projection, out_dir, overwrite=False):
    """Write `latent.npz`, `reconstruction.png`, `side_by_side.png` (target | reconstruction)
    and `projection.json` to the folder `out_dir`, atomically; an existing folder is
    replaced only with `overwrite` and only if it is a projection's. Returns its path."""
    with _atomic.staged_folder(out_dir, overwrite=overwrite, is_ours=_is_projection_folder,
                               what="projection folder",
                               owns=lambda path: lambda name: name in OUTPUT_FILES) as staging:
        with open(os.path.join(staging, LATENT_FILE), "wb") as handle:
            np.savez(handle, **projection.arrays())
        reconstruction = projection.images[0] if len(projection.images) == 1 else \
            images_lib.grid(projection.images)
        _imaging.save_png(reconstruction, os.path.join(staging, RECONSTRUCTION_FILE))
        _imaging.save_png(projection.side_by_side(), os.path.join(staging, SIDE_BY_SIDE_FILE))
        with open(os.path.join(staging, SUMMARY_FILE), "w", encoding="utf-8") as handle:
            json.dump(projection.summary(), handle, indent=2)
            handle.write("\n")
    return os.path.abspath(os.fspath(out_dir))
