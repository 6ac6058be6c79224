"""One small object per task over a bundle's session: sample, translate, upscale.

`ganzoo.runtime.load` picks the task from the bundle's input roles: a bundle with an
`image` input maps images (a `SuperResolver` with `upscale` for the srgan family, a
`Translator` with `translate` otherwise); any other bundle draws its inputs from a seed (a
`Sampler` with `sample`): the two tasks of `ganzoo._tasks`, `task` "image_to_image" and
"noise_to_image", as on the Keras models. All of them are `Generator`s: `.provider`, `.run(...)`,
`.inputs`, `.outputs`, `.family`, `.latent_dim`, `.num_classes`, `.image_shape`. Calling
another task's method (`upscale` on a sampler) raises one line naming what the bundle does
and the method to use.
"""

import os

import numpy as np

from ganzoo import _imaging, _memory, _sampling, _tasks, _tiling, _validation, _walks
from ganzoo.runtime.session import format_shape

# Raised by a task's method on a bundle of the other task (`upscale` on a sampler).
WrongTask = _tasks.WrongTask


class Generator:
    """An exported generator running on onnxruntime; the task objects share this surface.

    Attributes:
        provider: str. The execution provider in use, e.g. "CUDAExecutionProvider".
        model_file: str. The graph it runs, relative to the bundle: "model.onnx", or
            "model.cpu.onnx" (the CPU-optimised graph) on the CPU provider.
        metadata: dict. The bundle's `ganzoo.json`.
        session: `ganzoo.runtime.session.Session`. The onnxruntime session it runs on.
        inputs: list of dicts. name, shape (None for dynamic axes), dtype and role of each
            input, in signature order.
        outputs: list of dicts. name, shape, dtype, range and layout of each output.
    """

    task = None  # "noise_to_image" or "image_to_image" (ganzoo._tasks) on the task objects
    does = "runs a generator"  # what the bundle does, for the wrong-task message
    use = "run(*arrays, **named)"  # how to ask it to

    def __init__(self, path, metadata, session):
        self.path = path
        self.metadata = metadata
        self.session = session
        self._inputs = [dict(entry) for entry in metadata["inputs"]]
        self._outputs = [dict(entry) for entry in metadata["outputs"]]
        self.provider = session.provider
        self.model_file = os.path.relpath(session.model_path, path).replace(os.sep, "/")

    @property
    def inputs(self):
        return [dict(entry) for entry in self._inputs]

    @property
    def outputs(self):
        return [dict(entry) for entry in self._outputs]

    @property
    def family(self):
        return self.metadata.get("family")

    @property
    def latent_dim(self):
        return self.metadata.get("latent_dim")

    @property
    def num_classes(self):
        return self.metadata.get("num_classes")

    @property
    def image_shape(self):
        shape = self.metadata.get("image_shape")
        return None if shape is None else tuple(shape)

    def __repr__(self):
        inputs = ", ".join(
            f"{entry['name']}{format_shape(entry['shape'])}" for entry in self._inputs
        )
        return (
            f"<ganzoo.runtime.{type(self).__name__} family={self.family} "
            f"provider={self.provider} inputs=[{inputs}]>"
        )

    def __getattr__(self, name):
        # Only reached for attributes the object does not have: another task's method.
        if _tasks.task_of_method(name) is not None:
            raise _tasks.wrong_task(
                name, f"this bundle ({self.metadata.get('family') or 'generator'})",
                self.does, self.use)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def run(self, *arrays, **named):
        """Run the graph on arrays given in signature order and/or by input name.

        Returns the output array, or a tuple of arrays when the bundle has several outputs.
        Arrays are cast to the input's dtype when that loses no kind (int64 labels to
        int32, float64 latents to float32); uint8 images for a float `image` input are
        scaled to its recorded `range` (0 -> low, 255 -> high); anything else (integer or
        bool latents, a size the bundle does not take) raises a one-line ValueError
        naming the input, what it expects and what was received.
        """
        outputs = self.session.run(self.session.feeds(arrays, named))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _generate(self, batches, n, image_shape=None):
        """Run every batch of feeds and gather the uint8 images into one (n, ...) array.

        The result is allocated once, after checking that it fits in free memory: before
        the first batch when `image_shape` (H, W, C) is known, else after it.
        """
        if image_shape is not None:
            _memory.check_fits_in_memory(n, image_shape)
        value_range = tuple(self._outputs[0].get("range", (-1.0, 1.0)))
        images, start = None, 0
        for feeds in batches:
            batch = _imaging.to_uint8(self.session.run(feeds)[0], value_range)
            if images is None:
                if image_shape is None:
                    _memory.check_fits_in_memory(n, batch.shape[1:])
                images = np.empty((n,) + batch.shape[1:], dtype=np.uint8)
            images[start : start + len(batch)] = batch
            start += len(batch)
        return images


class Sampler(Generator):
    """A generator that draws its inputs from a seed: `sample(n, seed=...)` (the
    noise-to-image task)."""

    task = _tasks.NOISE_TO_IMAGE

    does = "generates images from a seed"
    use = "sample(n, seed=...)"

    def sample(self, n=None, seed=None, labels=None, truncation=None, batch_size=64,
               latents=None):
        """Generate `n` images as uint8 NHWC.

        Args:
            n: int. Number of images; may be left out when `latents` are given.
            seed: int or None. Same seed, same inputs (`ganzoo._sampling.draw_inputs`), so
                the same pictures as the Keras model sampled with that seed.
            labels: int or sequence of `n` ints. Classes of a conditional generator.
                Defaults to seeded random classes.
            truncation: float. Truncation psi of a bundle with a `truncation` input
                (stylegan_lite). Defaults to 1 (no truncation).
            batch_size: int. Images per run of the graph. Defaults to 64.
            latents: float array `(n, latent_dim)` or None. Render these latents instead
                of the seed's (from `draw_latents`, a Keras model's `draw_latents`, or
                `ganzoo sample --save-latents`); the same latents give the same pictures
                as the Keras model (within a level). Other inputs still come from `seed`.

        Inputs are drawn one batch at a time (the same rows as drawing all `n` at once),
        so memory holds one batch of inputs beside the uint8 result. A result that cannot
        fit in free memory is refused in one line before anything is drawn.

        Raises:
            ValueError: `n`, `seed`, `batch_size`, `labels`, `truncation` or `latents` is
                not what is described above, or the `n` images would not fit in memory.
        """
        if latents is not None:
            latents = _sampling.check_latents(latents, self.latent_dim,
                                              None if n is None else _validation.check_count(n))
            n = len(latents)
        if n is None:
            raise ValueError("sample needs n (the number of images) or latents=")
        batches = self._feed_batches(n, seed, labels, truncation, batch_size, latents)
        return self._generate(batches, n, self._output_image_shape())

    def walk(self, seeds, frames, method="slerp", labels=None, truncation=None,
             batch_size=16):
        """uint8 frames `(k, H, W, C)`, `batch_size` at a time, of a latent walk through
        the latents of `seeds`: the same frames as the Keras model's `walk` (within a
        level); see `ganzoo._walks.input_batches`."""
        names = [entry["name"] for entry in self._inputs]
        value_range = tuple(self._outputs[0].get("range", (-1.0, 1.0)))
        batches = _walks.input_batches(self._inputs, seeds, frames, method, labels=labels,
                                       truncation=truncation, num_classes=self.num_classes,
                                       batch_size=batch_size)
        for arrays in batches:
            feeds = self.session.feeds(named=dict(zip(names, arrays)))
            yield _imaging.to_uint8(self.session.run(feeds)[0], value_range)

    def draw_latents(self, n, seed=None):
        """The `(n, latent_dim)` float32 latents `sample(n, seed=seed)` draws."""
        if not self.latent_dim:
            raise ValueError("This bundle records no latent size; it has no latent input")
        return _sampling.latents(n, self.latent_dim, seed)

    def inputs_for(self, n, seed=None, labels=None, truncation=None):
        """The checked feeds `sample(n, seed, labels, truncation)` runs, as `{name: array}`."""
        n = _validation.check_count(n)
        return next(self._feed_batches(n, seed, labels, truncation, batch_size=n))

    def _feed_batches(self, n, seed, labels, truncation, batch_size, latents=None):
        names = [entry["name"] for entry in self._inputs]
        batches = _sampling.draw_inputs(
            self._inputs, n, seed, labels=labels, truncation=truncation,
            num_classes=self.num_classes, batch_size=batch_size, latents=latents,
        )
        return (self.session.feeds(named=dict(zip(names, arrays))) for arrays in batches)

    def _output_image_shape(self):
        """(H, W, C) of one output image when the bundle fixes it, else None."""
        shape = self.image_shape
        if shape is None:
            declared = self._outputs[0].get("shape") or []
            shape = tuple(declared[1:]) if len(declared) > 1 else None
        if not shape or any(not isinstance(dim, int) or dim < 1 for dim in shape):
            return None
        return tuple(shape)


class ImageToImage(Generator):
    """A generator with an `image` input: uint8 images in, uint8 images out (the
    image-to-image task: `Translator`, `SuperResolver`)."""

    task = _tasks.IMAGE_TO_IMAGE

    def _map(self, image, verb):
        spec = next(entry for entry in self._inputs if entry["role"] == "image")
        array, single = _imaging.as_uint8_batch(image, verb)
        n = array.shape[0]
        array = _imaging.convert_channels(array, spec["shape"][-1])
        named = {spec["name"]: _imaging.from_uint8(array, tuple(spec.get("range", (-1.0, 1.0))))}
        others = [entry for entry in self._inputs if entry is not spec]
        if others:  # noise or labels beside the image: drawn from seed 0
            drawn = _sampling.draw_inputs(others, n, 0, num_classes=self.num_classes)
            named.update(zip([entry["name"] for entry in others], drawn))
        output = self._generate([self.session.feeds(named=named)], n)
        return output[0] if single else output


class Translator(ImageToImage):
    """An image-to-image generator (cyclegan): `translate(image)`."""

    does = "translates images"
    use = "translate(image)"

    def translate(self, image):
        """Translate one uint8 HWC image (or an NHWC batch); returns uint8 like it.

        A grayscale image given to an RGB generator is converted to RGB (and RGB to
        grayscale for a grayscale one, with ITU-R 601 luma weights). A height or width
        the generator cannot take (not a multiple of the bundle's `size_multiple`, or
        below its `min_size`) is reflection-padded at the bottom and right and the result
        cropped back to the input's size.
        """
        spec = next(entry for entry in self._inputs if entry["role"] == "image")
        batch, single = _imaging.as_uint8_batch(image, "translate")
        padded, (height, width) = _imaging.pad_to_multiple(batch, spec.get("size_multiple") or 1,
                                                  spec.get("min_size"))
        output = self._map(padded, "translate")
        # Crop what the padding added, at the generator's scale (1 for a CycleGAN).
        scale_h = output.shape[1] / padded.shape[1]
        scale_w = output.shape[2] / padded.shape[2]
        output = output[:, :int(round(height * scale_h)), :int(round(width * scale_w))]
        return output[0] if single else output


class SuperResolver(ImageToImage):
    """A super-resolution generator (srgan): `upscale(image)`."""

    does = "upscales images"
    use = "upscale(image)"

    def upscale(self, image, tile_size=None, overlap=None):
        """Super-resolve one uint8 HWC image (or an NHWC batch); returns uint8 like it.

        Tiles of `tile_size` input pixels overlapping by `overlap` are run one at a time
        and blended (`ganzoo._tiling.tiled_map`, as `SRGAN.upscale` does), so memory holds
        one tile's activations and the result whatever the image size; an image no larger
        than a tile runs whole. Defaults: 128 and 32.
        """
        tile_size, overlap = _tiling.check_tiling(tile_size, overlap)
        spec = next(entry for entry in self._inputs if entry["role"] == "image")
        batch, single = _imaging.as_uint8_batch(image, "upscale")
        batch = _imaging.convert_channels(batch, (spec.get("shape") or [None])[-1])
        input_range = tuple(spec.get("range", (-1.0, 1.0)))
        output_range = tuple(self._outputs[0].get("range", (-1.0, 1.0)))
        scale = int(self.metadata.get("scale") or 0) or None

        def run(tile):
            return self.session.run(self.session.feeds(named={spec["name"]: tile}))[0]

        results = []
        for picture in batch:
            floats = _imaging.from_uint8(picture, input_range)
            factor = scale or run(floats[None, :8, :8]).shape[1] // min(8, floats.shape[0])
            results.append(_imaging.to_uint8(
                _tiling.tiled_map(run, floats, factor, tile_size, overlap), output_range))
        return results[0] if single else np.stack(results)


def for_bundle(path, metadata, session):
    """The task object for a bundle, chosen from its input roles (and family for images)."""
    roles = {entry["role"] for entry in metadata["inputs"]}
    if "image" not in roles:
        return Sampler(path, metadata, session)
    if metadata.get("family") == "srgan":
        return SuperResolver(path, metadata, session)
    return Translator(path, metadata, session)
