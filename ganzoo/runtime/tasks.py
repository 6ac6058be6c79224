"""One small object per task over a bundle's session: sample, translate, upscale.

`ganzoo.runtime.load` picks the task from the bundle's input roles: a bundle with an
`image` input maps images (a `SuperResolver` with `upscale` for the srgan family, a
`Translator` with `translate` otherwise); any other bundle draws its inputs from a seed (a
`Sampler` with `sample`; a `StyleSampler`, which also maps latents to w, walks in w and
mixes styles, for a style-based generator: stylegan_lite): the two tasks of
`ganzoo._tasks`, `task` "image_to_image" and "noise_to_image", as on the Keras models. All
of them are `Generator`s: `.provider`, `.run(...)`, `.inputs`, `.outputs`, `.family`,
`.latent_dim`, `.num_classes`, `.image_shape`. Calling another task's method (`upscale` on
a sampler) raises one line naming what the bundle does and the method to use; so does a
method of style-based generators (`mix`, `map_to_w`, `synthesize`) on any other bundle.
"""

import os

import numpy as np

from ganzoo import _imaging, _memory, _sampling, _tasks, _tiling, _validation, _walks
from ganzoo.runtime.session import format_shape

# Raised by a task's method on a bundle of the other task (`upscale` on a sampler).
WrongTask = _tasks.WrongTask
# Methods of style-based generators only (`StyleSampler`): a w space to work in.
STYLE_METHODS = _tasks.STYLE_METHODS
# The families whose bundles are `StyleSampler`s, with or without their parts' graphs.
STYLE_FAMILIES = ("stylegan_lite",)


class Generator:
    """An exported generator running on onnxruntime; the task objects share this surface.

    Attributes:
        provider: str. The execution provider in use, e.g. "CUDAExecutionProvider".
        model_file: str. The graph it runs, relative to the bundle: "model.onnx", or
            "model.cpu.onnx" (the CPU-optimised graph) on the CPU provider.
        cpu_choice: dict or None. With `load(..., tune=True)` on the CPU provider, which
            graph and thread count run batches of one and the others, and each
            candidate's time for a batch of one (`ganzoo.runtime.session.Session`).
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
        self.cpu_choice = session.cpu_choice

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
        if name in STYLE_METHODS:
            raise WrongTask(no_w_space(f"{name}()", self.metadata.get("family")))
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

    def walk(self, seeds, frames, method=None, labels=None, truncation=None,
             batch_size=16, space="z"):
        """uint8 frames `(k, H, W, C)`, `batch_size` at a time, of a latent walk through
        the latents of `seeds` (method None: slerp): the same frames as the Keras model's
        `walk` (within a level); see `ganzoo._walks.input_batches`. `space="w"` (a walk
        through the seeds' w) is for style-based generators (`StyleSampler`)."""
        if _walks.check_space(space) == "w":
            raise ValueError(no_w_space("walk(space='w')", self.family)
                             + ": walk in z (space='z')")
        names = [entry["name"] for entry in self._inputs]
        value_range = tuple(self._outputs[0].get("range", (-1.0, 1.0)))
        batches = _walks.input_batches(self._inputs, seeds, frames, method, labels=labels,
                                       truncation=truncation, num_classes=self.num_classes,
                                       batch_size=batch_size)

        def frames_of():
            for arrays in batches:
                feeds = self.session.feeds(named=dict(zip(names, arrays)))
                yield _imaging.to_uint8(self.session.run(feeds)[0], value_range)

        return frames_of()

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


def no_w_space(what, family):
    """The one line for `what` (a method, an option) asked of a bundle without w."""
    return _tasks.no_w_space(what, f"this bundle ({family or 'generator'})")


class StyleSampler(Sampler):
    """A style-based generator's bundle (stylegan_lite): a `Sampler` that also works in w.

    Beside the whole generator (`model.onnx`) its bundle holds the mapping network with
    the truncation trick (`mapping.onnx`) and the synthesis network (`synthesis.onnx`),
    listed under `parts` in `ganzoo.json` and opened when first used, so truncation,
    walks in w and style mixing run here without TensorFlow: `map_to_w`, `synthesize`,
    `walk(space="w")` and `mix` give what the Keras model's methods of the same names
    give (within a level). A stylegan_lite bundle exported before the parts existed
    samples and walks in z as before; the methods in w then say in one line to re-export it.
    """

    def __init__(self, path, metadata, session, open_part=None):
        super().__init__(path, metadata, session)
        self._open_part = open_part
        self._parts = {}

    def _part(self, name):
        if name not in self._parts:
            if self._open_part is None or name not in (self.metadata.get("parts") or {}):
                raise ValueError(
                    f"{self.path} holds the whole generator only (exported by an older ganzoo, "
                    "or not as an ONNX bundle), not its mapping and synthesis networks, which "
                    "style mixing and walks in w need: re-export it with `ganzoo export SOURCE "
                    "--format onnx`")
            self._parts[name] = self._open_part(name)
        return self._parts[name]

    @property
    def num_styles(self):
        """The synthesis network's w inputs (2 log2(size) - 2), or None without parts."""
        return self._styles_shape()[0]

    @property
    def style_dim(self):
        """Size of w, or None without parts."""
        return self._styles_shape()[1]

    def _styles_shape(self):
        entry = (self.metadata.get("parts") or {}).get("synthesis") or {}
        for item in entry.get("inputs") or []:
            if item.get("role") == "styles":
                return tuple(int(dim) for dim in item["shape"][1:])
        return None, None

    def _to_w(self, latents, psi):
        session = self._part("mapping")
        inputs = self.metadata["parts"]["mapping"]["inputs"]
        names = {entry["role"]: entry["name"] for entry in inputs}
        feeds = session.feeds(named={names["latent"]: latents, names["truncation"]: psi})
        return session.run(feeds)[0]

    def _render(self, inputs):
        session = self._part("synthesis")
        names = [entry["name"] for entry in self.metadata["parts"]["synthesis"]["inputs"]]
        return session.run(session.feeds(named=dict(zip(names, inputs))))[0]

    def _styled(self):
        """Keywords of the `ganzoo._walks` functions in w for this bundle (opening the
        parts, or saying to re-export)."""
        self._part("mapping")
        self._part("synthesis")
        output = self.metadata["parts"]["synthesis"]["outputs"][0]
        return {"to_w": self._to_w, "render": self._render, "num_styles": self.num_styles,
                "value_range": tuple(output.get("range", (-1.0, 1.0)))}

    def map_to_w(self, latents, truncation=None):
        """The w of `latents` `(n, latent_dim)` after the truncation trick, w_avg + psi
        (w - w_avg), float32 `(n, style_dim)`: psi None is 1 (w itself), 0 gives the
        tracked mean w_avg. As the Keras model's `map_to_w`."""
        self._part("mapping")
        return _walks.map_to_w(latents, truncation, to_w=self._to_w, latent_dim=self.latent_dim)

    def synthesize(self, styles, seed=None):
        """uint8 images of the synthesis network for `styles` `(n, num_styles,
        style_dim)` (one w per layer) or w `(n, style_dim)` (every layer), with the noise
        `sample(n, seed=seed)` draws: `synthesize(map_to_w(z, psi), seed=s)` is
        `sample(latents=z, seed=s, truncation=psi)`."""
        styled = self._styled()
        return _walks.synthesize(self._inputs, styles, seed, render=styled["render"],
                                 num_styles=styled["num_styles"], style_dim=self.style_dim,
                                 value_range=styled["value_range"])

    def walk(self, seeds, frames, method=None, labels=None, truncation=None,
             batch_size=16, space="z"):
        """uint8 frames `(k, H, W, C)`, `batch_size` at a time, of a walk through the
        latents of `seeds` (`space="z"`, method None: slerp) or through their w
        (`space="w"`, method None: lerp; every layer takes the frame's w, noise follows
        the same path): the frames of the Keras model's `walk` (within a level)."""
        if _walks.check_space(space) == "z":
            return super().walk(seeds, frames, method, labels=labels, truncation=truncation,
                                batch_size=batch_size)
        if labels is not None:
            raise ValueError(f"{self.family} is unconditional; it takes no labels")
        return _walks.walk_in_w(self._inputs, seeds, frames, method, truncation=truncation,
                                batch_size=batch_size, **self._styled())

    def mix(self, rows, columns, cutoff=None, truncation=None, batch_size=16):
        """The pictures of a style-mixing figure, `ganzoo._walks.StyleMix(rows, columns,
        mixed)`: cell (i, j) takes styles 0 to `cutoff` - 1 (default 4: the 4x4 and 8x8
        layers) from row i's w and the others from column j's, with row i's noise; as the
        Keras model's `mix` (within a level). `ganzoo.images.mixing_grid(mix)` lays it
        out."""
        return _walks.style_mix(self._inputs, rows, columns, cutoff, truncation=truncation,
                                batch_size=batch_size, **self._styled())


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


def for_bundle(path, metadata, session, open_part=None):
    """The task object for a bundle, chosen from its input roles and family.

    `open_part(name)` opens the session of a part of the generator (`parts` in
    `ganzoo.json`: a style-based generator's mapping and synthesis networks); None when
    the bundle has none.
    """
    roles = {entry["role"] for entry in metadata["inputs"]}
    if "image" not in roles:
        if open_part is not None or metadata.get("family") in STYLE_FAMILIES:
            return StyleSampler(path, metadata, session, open_part)
        return Sampler(path, metadata, session)
    if metadata.get("family") == "srgan":
        return SuperResolver(path, metadata, session)
    return Translator(path, metadata, session)
