"""The two tasks on the shared trainer: noise to image, image to image.

`ganzoo.models.AdversarialModel` holds the step machinery (distribution, optimizers by
name, trackers, phases, EMA, presets); every family subclasses one of these two, as the
runtime's task objects and the CLI's commands split (`ganzoo._tasks`):

- `NoiseToImage` (gan, dcgan, cgan, wgan_gp, sagan, stylegan_lite): the generator draws
  images from latents, plus class labels for conditional families (`conditional`,
  `num_classes`) and whatever else the family feeds (stylegan_lite: truncation, noise).
  It trains on images or (images, labels) from `ganzoo.data.load`, with the standard step
  (one discriminator update, then one generator update) built from `generator_inputs` and
  `discriminator_inputs`, and samples through `sampling_inputs` / `sampling_batches`,
  `generate` and `sample`: the same seeded inputs as the runtime's `Sampler`.
- `ImageToImage` (cyclegan, srgan): the generator maps images to images; there is no
  `latent_dim`. The family loads its own kind of batches (`training_data`: unpaired
  domains, low/high-resolution pairs), reads one as `(inputs, targets)` with
  `unpack_pair`, writes its own `train_step`, previews a remembered training batch, and
  offers `translate` or `upscale`.

Calling the other task's method (`sample` on a cyclegan, `upscale` on a dcgan) raises
`ganzoo._tasks.WrongTask`: one line naming what the model does and what to call instead.
"""

import inspect
import re

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _imaging, _memory, _sampling, _tasks, _validation, _walks
from ganzoo import data as data_lib
from ganzoo.models.base import _LABEL_MARKER, AdversarialModel


def _wrong_task(model, name):
    """Raise `WrongTask` for a method of the other task; AttributeError for any other name."""
    if _tasks.task_of_method(name) is not None:
        raise _tasks.wrong_task(name, f"a {model.family} model", model.does, model.use)
    if name in _tasks.STYLE_METHODS:
        raise _tasks.WrongTask(_tasks.no_w_space(f"{name}()", f"a {model.family} model"))
    raise AttributeError(f"{type(model).__name__!r} object has no attribute {name!r}")


class NoiseToImage(AdversarialModel):
    """Families whose generator draws images from seeded latents (and labels, ...).

    Args:
        image_shape: tuple. `(height, width, channels)` of the images, 1 or 3 channels.
        latent_dim: int. Size of the generator's latent input.
        seed: int or None. Seed of the training noise; None draws a fresh one.
        name: str or None. Name of the model; defaults to the family name.
    """

    task = _tasks.NOISE_TO_IMAGE
    does = "generates images from a seed"
    use = "sample(n, seed=...) or `ganzoo sample SOURCE`"
    # Conditional families set this: runs load (images, labels) batches for them and pass
    # `num_classes` (and the data's class names) to the constructor.
    conditional = False
    # Discriminator updates per generator update of the standard step (cgan's
    # `compile(d_steps=...)`); each takes an equal share of the batch.
    d_steps = 1

    def __init__(self, image_shape, latent_dim=128, seed=None, name=None, **kwargs):
        super().__init__(image_shape=image_shape, seed=seed, name=name, **kwargs)
        self.latent_dim = _validation.check_count(latent_dim, "latent_dim")

    def __getattr__(self, name):
        # Only reached for attributes the model does not have: another task's method.
        _wrong_task(self, name)

    def get_config(self):
        config = super().get_config()
        return {"image_shape": config.pop("image_shape"), "latent_dim": self.latent_dim,
                **config}

    # -- data -------------------------------------------------------------------------

    @classmethod
    def describe_training_data(cls, data, *, image_size=None, split="train"):
        """What a run needs to know of its data before building the model: a dict with
        `num_examples` (per epoch), `channels` and `class_names` (`ganzoo.data.describe`)."""
        return data_lib.describe(data, split)

    def training_data(self, data, *, image_size, batch_size, seed=None, repeat=False,
                      split="train"):
        """The `tf.data.Dataset` a run trains on (`ganzoo train` calls this): images, and
        labels for conditional models, from `ganzoo.data.load`."""
        return data_lib.load(data, image_size=image_size, batch_size=batch_size, seed=seed,
                             repeat=repeat, split=split,
                             labels=bool(getattr(self, "conditional", False)))

    def fit(self, x=None, *args, **kwargs):
        labels = args[0] if args else kwargs.get("y")
        if isinstance(labels, np.ndarray) and labels.dtype.kind in "USO":
            # Keras' data adapters refuse these with "Invalid dtype: str32".
            raise ValueError(
                f"{self.family} takes integer class labels; the data gives strings "
                f"({labels.dtype}): map them to class indices 0..K-1")
        try:
            return super().fit(x, *args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            # A batch of unknown size that did not split into d_steps chunks.
            found = re.search(
                r"[A-Za-z0-9_]+ splits each batch into d_steps=.*?multiple of \d+", str(error))
            if found is None:
                raise
            raise ValueError(found.group(0)) from None

    def preview(self, n, seed=0):
        """uint8 samples for the grids runs write while training."""
        return self.sample(n, seed=seed)

    # -- pieces of the step ---------------------------------------------------------

    @classmethod
    def unpack_batch(cls, data):
        """(images, labels or None) from a batch of images or (images, labels); the images
        as float32 in [-1, 1] (`model_images`)."""
        if isinstance(data, (tuple, list)):
            images = data[0]
            labels = data[1] if len(data) > 1 else None
        else:
            images, labels = data, None
        return cls.model_images(images), labels

    def class_labels(self, labels):
        """A batch of training labels as int32 class indices `(B,)`, checked: strings and
        one-hot rows are refused when the step is traced; labels that are not whole
        numbers in [0, num_classes) stop `fit` in one line before the step changes
        anything (floats like 1.0 are taken; 1.5 is not)."""
        what = f"{self.family} with num_classes={self.num_classes}"
        labels = tf.convert_to_tensor(labels)
        if labels.dtype == tf.string:
            raise ValueError(
                f"{what} takes integer class labels 0..{self.num_classes - 1}; the data gives "
                "strings: map them to class indices (ganzoo.data.load gives a folder's "
                "class sub-folders indices)")
        if labels.shape.rank is not None and labels.shape.rank > 1 and any(
                dim not in (1, None) for dim in labels.shape[1:]):
            raise ValueError(
                f"{what} takes class indices of shape (batch,); the data gives labels of "
                f"shape {tuple(labels.shape)} (one-hot?): pass np.argmax(labels, axis=-1)")
        if not (labels.dtype.is_integer or labels.dtype.is_floating):
            raise ValueError(f"{what} takes integer class labels; the data gives "
                             f"{labels.dtype.name}")
        labels = tf.reshape(labels, [-1])
        whole = tf.cast(tf.round(tf.cast(labels, tf.float64)), labels.dtype)
        valid = tf.reduce_all(tf.equal(labels, whole)) if labels.dtype.is_floating \
            else tf.constant(True)
        in_range = tf.logical_and(tf.reduce_all(labels >= 0),
                                  tf.reduce_all(labels < self.num_classes))
        check = tf.debugging.Assert(
            tf.logical_and(valid, in_range),
            [_LABEL_MARKER, tf.reduce_min(labels), tf.reduce_max(labels),
             tf.constant(int(self.num_classes))], summarize=3)
        with tf.control_dependencies([check]):
            return tf.cast(labels, tf.int32)

    def sample_latents(self, batch_size):
        """Standard-normal latents `(batch_size, latent_dim)` for this replica and step."""
        return tf.random.stateless_normal(
            [batch_size, self.latent_dim], seed=self.noise_seed()
        )

    def generator_inputs(self, batch_size, labels=None):
        """The generator's inputs for one training batch (latents; families add more)."""
        return self.sample_latents(batch_size)

    def discriminator_inputs(self, images, labels):
        """What the discriminator is called on: the images (conditional families add labels)."""
        return images

    # -- the standard step: one discriminator update, then one generator update ------

    def fake_labels(self, batch_size, labels):
        """The labels a step makes its fakes for: the real batch's (None when unconditional).
        Conditional families may draw them instead (`ClassConditional`)."""
        return labels

    def discriminator_chunks(self, real_images, labels):
        """`(images, labels)` of each discriminator update of a step: the whole batch when
        `d_steps` is 1; else `d_steps` equal chunks (chunk k: rows k, k + d_steps, ...),
        each a discriminator update, the generator's update then on the size of one."""
        if self.d_steps == 1:
            return [(real_images, labels)]
        batch = real_images.shape[0]
        message = (
            f"{self.family} splits each batch into d_steps={self.d_steps} equal chunks, one "
            f"per discriminator step; a batch of {'the data' if batch is None else batch}"
            f"{' per replica' if self.num_replicas() > 1 else ''} does not split evenly: "
            f"use a batch size that is a multiple of {self.d_steps * self.num_replicas()}")
        if batch is not None and batch % self.d_steps:
            raise ValueError(message)
        if batch is None:
            tf.debugging.assert_equal(tf.shape(real_images)[0] % self.d_steps, 0,
                                      message=message)
        return [(real_images[k::self.d_steps],
                 None if labels is None else labels[k::self.d_steps])
                for k in range(self.d_steps)]

    def discriminator_step(self, real_images, labels):
        """One discriminator update on real images (and their labels) against fresh fakes;
        returns its loss."""
        batch_size = tf.shape(real_images)[0]
        fake_labels = self.fake_labels(batch_size, labels)
        with tf.GradientTape() as d_tape:
            fake_images = self.generator(
                self.generator_inputs(batch_size, fake_labels), training=True
            )
            real_logits = self.discriminator(
                self.discriminator_inputs(self.augment_images(real_images), labels),
                training=True
            )
            fake_logits = self.discriminator(
                self.discriminator_inputs(self.augment_images(fake_images), fake_labels),
                training=True
            )
            d_loss = self.average_loss(self.d_loss_fn(real_logits, fake_logits))
            d_total = d_loss + self.network_losses(self.discriminator)
            d_scaled = self.d_optimizer.scale_loss(d_total)
        self.apply_gradients(self.d_optimizer, d_tape, d_scaled, self.discriminator_variables())
        self.observe_real_logits(real_logits)
        return d_loss

    def train_step(self, data):
        real_images, labels = self.unpack_batch(data)
        self.check_batch(real_images)
        chunks = self.discriminator_chunks(real_images, labels)
        d_losses = [self.discriminator_step(chunk, chunk_labels) for chunk, chunk_labels in chunks]
        d_loss = d_losses[0] if len(d_losses) == 1 else tf.add_n(d_losses) / len(d_losses)

        # The generator's update: as many fakes as one discriminator update saw.
        last_images, last_labels = chunks[-1]
        batch_size = tf.shape(last_images)[0]
        fake_labels = self.fake_labels(batch_size, last_labels)
        with tf.GradientTape() as g_tape:
            fake_images = self.generator(
                self.generator_inputs(batch_size, fake_labels), training=True
            )
            fake_logits = self.discriminator(
                self.discriminator_inputs(self.augment_images(fake_images), fake_labels),
                training=True
            )
            g_loss = self.average_loss(self.g_loss_fn(fake_logits))
            g_total = g_loss + self.network_losses(self.generator)
            g_scaled = self.g_optimizer.scale_loss(g_total)
        self.apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator_variables())
        if self.ema_decay is not None:
            self.update_ema()

        return self.record(d_loss=d_loss, g_loss=g_loss)

    def test_step(self, data):
        real_images, labels = self.unpack_batch(data)
        self.check_batch(real_images)
        batch_size = tf.shape(real_images)[0]
        fake_images = self.generator(self.generator_inputs(batch_size, labels), training=False)
        real_logits = self.discriminator(
            self.discriminator_inputs(real_images, labels), training=False
        )
        fake_logits = self.discriminator(
            self.discriminator_inputs(fake_images, labels), training=False
        )
        return self.record(
            d_loss=self.average_loss(self.d_loss_fn(real_logits, fake_logits)),
            g_loss=self.average_loss(self.g_loss_fn(fake_logits)),
        )

    # -- sampling -------------------------------------------------------------------

    def input_descriptions(self, generator=None):
        """`[{name, shape, dtype, role}]` of the generator's inputs (the inference
        generator's by default), roles from the names (`ganzoo._sampling.role_from_name`),
        as a bundle's ganzoo.json lists them."""
        generator = generator or self.inference_generator()
        return [{"name": tensor.name, "shape": (None, *tensor.shape[1:]),
                 "dtype": "int32" if _sampling.role_from_name(tensor.name) == "label"
                 else "float32", "role": _sampling.role_from_name(tensor.name)}
                for tensor in generator.inputs]

    def walk(self, seeds, frames, method="slerp", labels=None, batch_size=16, **options):
        """uint8 frames `(k, H, W, C)`, `batch_size` at a time, of a latent walk through
        the latents of `seeds` (`ganzoo._walks`): `frames` frames in all, the first
        `sample(1, seed=seeds[0])`, the last `seeds[-1]`'s (for a conditional model, with
        `labels=K` the class of the whole walk; else the first seed's class). `method`:
        "slerp" (great circles, for Gaussian latents) or "lerp". `options`: the family's
        (stylegan_lite: `truncation`). Noise inputs follow the path as the latents do."""
        if options.get("space", "z") != "z":
            raise ValueError(_tasks.no_w_space(f"walk(space={options['space']!r})",
                                               f"a {self.family} model"))
        options.pop("space", None)
        generator = self.inference_generator()
        options = self._sampling_options(options)
        truncation = options.pop("truncation", None)
        self._refuse_options(options)
        batches = _walks.input_batches(
            self.input_descriptions(generator), seeds, frames, method, labels=labels,
            num_classes=self.num_classes if getattr(self, "conditional", False) else None,
            truncation=truncation, batch_size=batch_size)
        for feeds in batches:
            images = generator(feeds if len(feeds) > 1 else feeds[0], training=False)
            yield _imaging.to_uint8(keras.ops.convert_to_numpy(images))

    def draw_latents(self, n, seed=None):
        """The `(n, latent_dim)` float32 latents `sample(n, seed=seed)` draws (the runtime
        draws the same): keep them, edit them, give them back with `latents=`."""
        return _sampling.latents(n, self.latent_dim, seed)

    def latent_rows(self, n, seed, batch_size, latents=None):
        """Latents for `n` images, `batch_size` rows at a time: the given `latents`
        (checked) or the seed's."""
        if latents is not None:
            return _sampling.given_latent_batches(
                _sampling.check_latents(latents, self.latent_dim, n), batch_size)
        return _sampling.latent_batches(n, self.latent_dim, seed, batch_size)

    def sampling_inputs(self, n, seed=None, labels=None, latents=None, **options):
        """NumPy inputs for `n` seeded samples: the same latents as the runtime's, or the
        given `latents`.

        `options` are family sampling options (stylegan_lite: truncation, style_mix);
        the base takes none.
        """
        self._refuse_options(options)
        if labels is not None:
            raise ValueError(f"{self.family} is unconditional; it takes no labels")
        return next(self.latent_rows(n, seed, _validation.check_count(n), latents))

    def sampling_batches(self, n, seed=None, labels=None, batch_size=256, latents=None,
                         **options):
        """The inputs of `sampling_inputs(n, seed, labels, latents, **options)`,
        `batch_size` rows at a time.

        Families with other inputs than latents override this together with
        `sampling_inputs`; the default slices `sampling_inputs`.
        """
        if type(self).sampling_inputs is NoiseToImage.sampling_inputs:
            self._refuse_options(options)
            if labels is not None:
                raise ValueError(f"{self.family} is unconditional; it takes no labels")
            yield from self.latent_rows(n, seed, batch_size, latents)
            return
        inputs = self.sampling_inputs(n, seed=seed, labels=labels, latents=latents, **options)
        for start in range(0, n, batch_size):
            yield tf.nest.map_structure(lambda x: x[start : start + batch_size], inputs)

    def _refuse_options(self, options):
        if options:
            raise ValueError(
                f"{self.family} takes no sampling option {', '.join(sorted(options))}"
            )

    def _sampling_options(self, options):
        """The options that were given (None means not given), checked against what this
        family's `sampling_inputs` / `sampling_batches` accept."""
        options = {key: value for key, value in options.items() if value is not None}
        if not options:
            return options
        accepted = set()
        for method in (self.sampling_inputs, self.sampling_batches):
            parameters = inspect.signature(method).parameters.values()
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
                if getattr(type(self), method.__name__) is not getattr(
                        NoiseToImage, method.__name__):
                    return options
            accepted |= {p.name for p in parameters}
        self._refuse_options({key: value for key, value in options.items()
                              if key not in accepted})
        return options

    def generate(self, n=None, seed=None, labels=None, batch_size=256, latents=None,
                 **options):
        """Float images in [-1, 1], `(n, H, W, C)`, for seeded latents, or for the given
        `latents` (`(n, latent_dim)` floats, e.g. from `draw_latents`; `n` may then be
        left out). Labels and other inputs still come from `seed` unless given.

        The images come from `inference_generator()` (the EMA generator when the family
        keeps one). Inputs are drawn a batch at a time; a result that cannot fit in memory
        is refused before any work. `options` are the family's sampling options
        (stylegan_lite: `truncation`, `style_mix`).
        """
        if latents is not None:
            latents = _sampling.check_latents(
                latents, self.latent_dim, None if n is None else _validation.check_count(n))
            n = len(latents)
            options["latents"] = latents
        if n is None:
            raise ValueError("generate needs n (the number of images) or latents=")
        n = _validation.check_count(n)
        seed = _validation.check_seed(seed)
        batch_size = _validation.check_count(batch_size, "batch_size")
        options = self._sampling_options(options)
        _memory.check_fits_in_memory(n, self.image_shape, bytes_per_value=4)
        generator = self.inference_generator()
        images = np.empty((n, *self.image_shape), np.float32)
        start = 0
        for chunk in self.sampling_batches(n, seed=seed, labels=labels,
                                           batch_size=batch_size, **options):
            out = keras.ops.convert_to_numpy(generator(chunk, training=False))
            images[start : start + len(out)] = out
            start += len(out)
        return images

    def sample(self, n=None, seed=None, labels=None, **options):
        """uint8 NHWC images for seeded latents, or given `latents=` (what `ganzoo sample`
        writes)."""
        return _imaging.to_uint8(self.generate(n, seed=seed, labels=labels, **options))


class ImageToImage(AdversarialModel):
    """Families whose generator maps images to images (cyclegan, srgan): no latents.

    A family provides `training_data` (and `describe_training_data`) for its kind of
    batches, `unpack_pair(data) -> (inputs, targets)` (the generator maps `inputs`; the
    discriminator judges `targets` against what it makes), its `train_step`, `preview(n)`
    from the remembered training batch, and `translate` or `upscale`; and sets `does` /
    `use` for the wrong-task message.

    Args:
        image_shape: tuple. `(height, width, channels)` of the (target) images.
        seed: int or None. Seed of the training noise; None draws a fresh one.
        name: str or None. Name of the model; defaults to the family name.
        latent_dim: None. Accepted, and must be None, so that configs of either task load
            alike; an image-to-image generator has no latent input.
    """

    task = _tasks.IMAGE_TO_IMAGE
    does = "maps images to images"
    use = "the family's translate or upscale"

    def __init__(self, image_shape, seed=None, name=None, latent_dim=None, **kwargs):
        if latent_dim is not None:
            raise ValueError(
                f"{self.family} generators are fed images, not latents: leave latent_dim "
                f"unset. Received: latent_dim={latent_dim!r}"
            )
        super().__init__(image_shape=image_shape, seed=seed, name=name, **kwargs)
        self.latent_dim = None
        self.preview_batch = None

    def __getattr__(self, name):
        # Only reached for attributes the model does not have: another task's method.
        _wrong_task(self, name)

    @classmethod
    def describe_training_data(cls, data, *, image_size=None, split="train"):
        """What a run needs to know of its data before building the model (see
        `NoiseToImage.describe_training_data`)."""
        raise NotImplementedError(f"{cls.__name__} must describe its training data")

    def training_data(self, data, *, image_size, batch_size, seed=None, repeat=False,
                      split="train"):
        """The `tf.data.Dataset` of `(inputs, targets)`-like batches a run trains on."""
        raise NotImplementedError(f"{type(self).__name__} must load its training data")

    def unpack_pair(self, data):
        """`(inputs, targets)` float32 batches of one training batch, checked."""
        raise NotImplementedError(f"{type(self).__name__} must implement unpack_pair")

    def remember_preview(self, batch):
        """Keep a NumPy copy of one training batch for `preview` (image-to-image grids)."""
        self.preview_batch = tf.nest.map_structure(
            lambda x: np.asarray(keras.ops.convert_to_numpy(x)), batch)

    def preview(self, n, seed=0):
        """uint8 side-by-side pictures of the remembered training batch for the grids
        runs write while training."""
        raise NotImplementedError(f"{type(self).__name__} must implement preview")
