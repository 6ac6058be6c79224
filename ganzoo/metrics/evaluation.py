"""Streaming evaluation: FID, KID, IS, precision/recall and class accuracy of a source.

`evaluate(source, data, ...)` draws images from `source` (a generator, a preset, a run
folder, an export bundle, or a dataset for real-vs-real numbers) and from `data` (the real
images) batch by batch, turns each batch into features with one feature extractor, and keeps
only what the metrics need: a `FeatureStats` per side for FID, a `FeatureReservoir` per side
for KID and precision/recall, per-split probability sums for the Inception Score and a
count of correct classes for class accuracy. Memory does not grow with the number of images
(beyond the reservoir's capacity). TensorFlow is imported when an extractor or a Keras
source is loaded, not when this module is. What a SOURCE string is (preset, run, bundle or
dataset) is decided by `ganzoo.sources.resolve`, as for every command.

Seeds: batch `i` of a generator is drawn with the seed `batch_seed(seed, i)`, the same way
for a Keras model, a preset and an ONNX bundle (`ganzoo._sampling.latents`), so all three
give the same images and the same numbers for one seed.
"""

import os
import sys
import time

import numpy as np
from scipy import special

from ganzoo import _imaging, _sampling
from ganzoo import data as data_lib
from ganzoo import sources
from ganzoo.data import super_resolution
from ganzoo.data.super_resolution import bicubic_downscale
from ganzoo.data.super_resolution import bicubic_upscale as upscale
from ganzoo.metrics import _checks, image_quality, path_length
from ganzoo.metrics.distances import (frechet_distance_from_stats, kernel_inception_distance,
                                      precision_recall)
from ganzoo.metrics.features import (FeatureExtractor, _resolve_inception_weights, get_extractor,
                                     list_extractors)
from ganzoo.metrics.streaming import DEFAULT_RESERVOIR_CAPACITY, FeatureReservoir, FeatureStats
from ganzoo.sources import parse_data_spec  # noqa: F401  (kept public here)

# Metric names `evaluate` accepts; "pr" gives precision and recall, "acc" class accuracy,
# "ppl" perceptual path length (a generator with a w space; needs no data).
METRICS = ("fid", "kid", "is", "pr", "acc", "ppl")
DEFAULT_METRICS = ("fid", "kid", "is", "pr")
# Known metrics that need paired images (an input and its target); no source here has them.
PAIRED_METRICS = ("psnr", "ssim")
DEFAULT_N = 10_000
SOURCE_STREAM, DATA_STREAM = 0, 1


def batch_seed(seed, index, stream=SOURCE_STREAM):
    """The sampling seed of batch `index` of a generator stream (0: source, 1: data)."""
    return int(np.random.SeedSequence([int(seed), int(stream), int(index)]).generate_state(1)[0])


def parse_metrics(metrics):
    """A tuple of metric names from "fid,kid" or a sequence; one ValueError for bad names."""
    if metrics is None:
        return DEFAULT_METRICS
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    names = []
    for name in metrics:
        name = str(name).strip().lower()
        if not name:
            continue
        if name not in METRICS and name not in PAIRED_METRICS:
            raise ValueError(
                f"Unknown metric {name!r}. Expected some of "
                f"{', '.join(METRICS + PAIRED_METRICS)}. "
                f"Received: metrics={metrics!r}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f"No metric requested. Received: metrics={metrics!r}")
    return tuple(names)


def evaluate(
    source,
    data,
    metrics=DEFAULT_METRICS,
    features="inception_v3",
    n=DEFAULT_N,
    batch_size=64,
    seed=0,
    inception_weights=None,
    progress=True,
    *,
    split="train",
    n_data=None,
    image_size=None,
    reservoir_capacity=DEFAULT_RESERVOIR_CAPACITY,
    kid_subsets=100,
    kid_subset_size=1000,
    k=3,
    is_splits=10,
    inputs=None,
):
    """Measure `source` against the real images of `data`, streaming batch by batch.

    Args:
        source: what to measure. A ganzoo family model, a plain Keras generator (one latent
            input, output in [-1, 1]), an object with `.sample(n, seed=..., labels=...)`
            returning uint8 NHWC images (a `ganzoo.runtime` generator, for instance), a
            preset name, a preset or run folder, an export bundle folder, or a dataset (any
            `ganzoo.data.load` source; a string may end in `:SPLIT`, e.g. "digits:test";
            default split "train") for real-vs-real numbers.
        data: the real images: any `ganzoo.data.load` source, with `split` (or a `:SPLIT`
            suffix, which wins). A generator is accepted too (generator-vs-generator).
        metrics: str or sequence. Some of "fid", "kid", "is", "pr" (precision and recall),
            "acc" (class accuracy of a conditional source), "ppl" (perceptual path length
            of a stylegan_lite model in w, `ganzoo.metrics.path_length`; `data` may be
            None when it is the only metric). Defaults to fid, kid, is, pr.
            "psnr" and "ssim" need paired images and are refused for these sources.
        features: "inception_v3", "digits", or a built `FeatureExtractor`.
            Defaults to "inception_v3".
        n: int >= 2. Images drawn from `source` (at most the size of a dataset source).
            Defaults to 10,000.
        batch_size: int. Images per batch. Defaults to 64.
        seed: int >= 0. Seeds the latents (`batch_seed`), the reservoirs and KID's subsets.
            Defaults to 0.
        inception_weights: None, "imagenet", "random" or a path; for features="inception_v3"
            (see `get_extractor`). Defaults to None (the Keras cache only, never a download).
        progress: bool. Show progress on stderr. Defaults to True.
        split: str. Split of `data` when it has no `:SPLIT` suffix. Defaults to "train".
        n_data: int or None. Real images used: None means as many as `n`, or all of `data`
            if it has fewer. Defaults to None.
        image_size: int, (height, width) or None. Size datasets are loaded at; None: the
            generator's image size when one side is a generator, else the native size.
            Defaults to None.
        reservoir_capacity: int. Most feature rows kept per side for KID and
            precision/recall. Defaults to 10,000.
        kid_subsets, kid_subset_size: KID's subsets (`kernel_inception_distance`).
        k: int. Neighbourhood size of precision/recall. Defaults to 3.
        is_splits: int. Inception Score splits (at most `n`). Defaults to 10.
        inputs: a dataset (as `data`) or None. For a translating source (cyclegan): the
            images it translates, whose translations are measured against `data`
            (`--inputs textures/grass --data textures/gravel`). Required for those, refused
            for others.

    Image-to-image sources: a super-resolution source (srgan) is measured with "psnr" and
    "ssim" on `data`'s images as targets: each is downscaled by the source's scale
    (bicubic with antialiasing, as `ganzoo.data.load_super_resolution` does), upscaled by
    the source, and compared with the original; the same for plain bicubic upscaling
    ("psnr_bicubic", "ssim_bicubic"), the baseline it must beat. The targets of a folder
    or NumPy images are their non-overlapping `image_size` tiles at full resolution,
    never resized, as `photos` is tiled (`ganzoo.data.super_resolution.picture_tiles`;
    without image_size the whole pictures when they share one size, else 96x96 tiles).
    Flat targets (every pixel of a channel alike: sky, blank margins) are left out and
    counted in "flat_left_out": any upscaler that keeps a constant gives them back
    exactly, an infinite PSNR that would make the mean infinite. A translating source takes the feature metrics (fid, kid, is, pr) on its
    translations of `inputs`.

    Returns:
        A dict: "source", "data", "features", "feature_weights", "feature_dim", "n",
        "n_data", "seed", and per metric "fid"; "kid", "kid_std"; "is", "is_std";
        "precision", "recall"; "class_accuracy"; "ppl" (floats).

    Examples:
    >>> results = evaluate("runs/dcgan-400", "digits", features="digits", n=1000)  # doctest: +SKIP
    >>> results["fid"]  # doctest: +SKIP
    """
    metrics = check_options(metrics, features, n, batch_size, seed, n_data, inception_weights)
    if "ppl" in metrics:
        others = tuple(name for name in metrics if name != "ppl")
        model, description = _w_space_model(source)
        extractor = _build_extractor(features, inception_weights, batch_size)
        results = {"source": description, "data": None, "n": n, "n_data": 0, "seed": seed,
                   "features": extractor.name, "feature_weights": extractor.weights,
                   "feature_dim": extractor.feature_dim,
                   **path_length.perceptual_path_length(model, extractor, n=n, seed=seed,
                                                        batch_size=batch_size)}
        if not others:
            return results
        return {**evaluate(model, data, others, extractor, n, batch_size, seed,
                           progress=progress, split=split, n_data=n_data,
                           image_size=image_size, reservoir_capacity=reservoir_capacity,
                           kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, k=k,
                           is_splits=is_splits, inputs=inputs),
                **{key: value for key, value in results.items() if key.startswith("ppl")},
                "source": description}
    if data is None:
        raise ValueError(f"{', '.join(metrics)} compare with real images: give data= "
                         "(--data SOURCE)")

    source_stream = open_source(source, default_split="train", stream=SOURCE_STREAM)
    if getattr(source_stream, "task", None) == "upscale":
        return _evaluate_super_resolution(source_stream, data, metrics, n=n,
                                          batch_size=batch_size, seed=seed, split=split,
                                          image_size=image_size, progress=progress)
    if getattr(source_stream, "task", None) == "translate":
        if inputs is None:
            raise ValueError(
                f"{source_stream.description} translates images: give the images to "
                "translate with inputs= (--inputs SOURCE), and the target domain as data"
            )
        source_stream.feed(open_source(inputs, default_split=split, stream=SOURCE_STREAM))
    elif inputs is not None:
        raise ValueError(
            f"inputs= (--inputs) is for sources that translate images; "
            f"{source_stream.description} does not"
        )
    data_stream = open_source(data, default_split=split, stream=DATA_STREAM)
    _check_metrics_fit(metrics, source_stream)
    size = _normalize_size(image_size) or source_stream.image_size or data_stream.image_size
    source_count = source_stream.count(n, size)
    data_count = data_stream.count(n_data or n, size)
    for count, stream in ((source_count, source_stream), (data_count, data_stream)):
        if count < 2:
            raise ValueError(f"{stream.description} yields fewer than 2 images. Received: {count}")

    extractor = _build_extractor(features, inception_weights, batch_size)
    needs_probabilities = "is" in metrics or "acc" in metrics
    if needs_probabilities and extractor.num_classes is None:
        raise ValueError(
            f"The Inception Score and class accuracy need class probabilities, which the "
            f"{extractor.name!r} extractor does not give. Received: weights={extractor.weights}"
        )
    if "acc" in metrics and extractor.num_classes != source_stream.num_classes:
        raise ValueError(
            f"Class accuracy needs a classifier over the source's {source_stream.num_classes} "
            f"classes; the {extractor.name!r} extractor has {extractor.num_classes}"
        )
    if "is" in metrics:
        is_splits = min(_checks.positive_int(is_splits, "is_splits"), source_count)

    keep_features = "kid" in metrics or "pr" in metrics
    source_side = _Accumulator(
        fid="fid" in metrics, reservoir=keep_features, capacity=reservoir_capacity,
        seed=seed, inception_splits=is_splits if "is" in metrics else None,
        total=source_count, accuracy="acc" in metrics,
    )
    data_side = _Accumulator(
        fid="fid" in metrics, reservoir=keep_features, capacity=reservoir_capacity,
        seed=seed + 1, inception_splits=None, total=data_count, accuracy=False,
    )
    for stream, count, side in (
        (source_stream, source_count, source_side),
        (data_stream, data_count, data_side),
    ):
        bar = _Progress(f"{stream.role}: {stream.description}", count, enabled=progress)
        for images, labels in stream.batches(count, batch_size, seed, size):
            with_probabilities = side.wants_probabilities
            if with_probabilities:
                batch_features, batch_probs = extractor.features_and_probabilities(images)
            else:
                batch_features, batch_probs = extractor(images), None
            side.update(batch_features, batch_probs, labels)
            bar.update(len(images))
        bar.close()

    results = {
        "source": source_stream.description,
        "data": data_stream.description,
        "features": extractor.name,
        "feature_weights": extractor.weights,
        "feature_dim": extractor.feature_dim,
        "n": source_side.count,
        "n_data": data_side.count,
        "seed": seed,
    }
    if "fid" in metrics:
        real, fake = data_side.stats, source_side.stats
        results["fid"] = frechet_distance_from_stats(
            real.mean, real.covariance, fake.mean, fake.covariance
        )
    if "kid" in metrics:
        mean, std = kernel_inception_distance(
            data_side.reservoir.features, source_side.reservoir.features,
            subsets=kid_subsets, subset_size=kid_subset_size, seed=seed,
        )
        results["kid"], results["kid_std"] = mean, std
    if "is" in metrics:
        results["is"], results["is_std"] = source_side.inception.score()
    if "pr" in metrics:
        results["precision"], results["recall"] = precision_recall(
            data_side.reservoir.features, source_side.reservoir.features, k=k
        )
    if "acc" in metrics:
        results["class_accuracy"] = source_side.correct / source_side.count
    return results


def format_results(results):
    """The results of `evaluate` as a small text table."""
    rows = [("source", f"{results['source']} ({results['n']} images)")]
    if results.get("data") is not None:
        rows.append(("data", f"{results['data']} ({results['n_data']} images)"))
    if "features" in results:
        rows.append(("features", f"{results['features']} ({results['feature_dim']}-d, "
                                 f"weights {results['feature_weights']})"))
    if "scale" in results:
        rows.append(("scale", f"x{results['scale']} (low-res: bicubic, antialiased)"))
    if results.get("flat_left_out"):
        rows.append(("left out", f"{results['flat_left_out']} flat targets (one value per "
                                 "channel: any upscaler gives them back exactly)"))
    rows.append(("seed", str(results["seed"])))
    table = [f"{key:<10} {value}" for key, value in rows]
    table += ["", f"{'metric':<16} value"]
    if "fid" in results:
        table.append(f"{'FID':<16} {results['fid']:.4f}")
    if "kid" in results:
        table.append(f"{'KID':<16} {results['kid']:.6f} ± {results['kid_std']:.6f}")
    if "is" in results:
        table.append(f"{'IS':<16} {results['is']:.4f} ± {results['is_std']:.4f}")
    if "precision" in results:
        table.append(f"{'precision':<16} {results['precision']:.4f}")
        table.append(f"{'recall':<16} {results['recall']:.4f}")
    if "class_accuracy" in results:
        table.append(f"{'class accuracy':<16} {results['class_accuracy']:.4f}")
    if "ppl" in results:
        table.append(f"{'PPL':<16} {results['ppl']:.4f}  ({results['ppl_space']} space, "
                     f"{results['ppl_sampling']} points, {results['ppl_n']} pairs)")
    for name in PAIRED_METRICS:
        if name in results:
            table.append(f"{name.upper():<16} {results[name]:.4f}  (bicubic "
                         f"{results[name + '_bicubic']:.4f})")
    return "\n".join(table)


# -- sources ----------------------------------------------------------------------------


def _w_space_model(source):
    """(Keras model, description) of a source PPL can measure: a stylegan_lite model,
    preset or run folder."""
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        found = sources.resolve(text)
        if found.kind == sources.BUNDLE:
            raise ValueError(
                "Perceptual path length is measured on the Keras model (a preset or run "
                f"folder), not on an exported bundle. Received: {text}")
        # Lazy: ganzoo.models imports TensorFlow; the other metrics read bundles without it.
        from ganzoo import models

        model = models.load(found)
        return model, f"{text} ({model.family} preset)"
    return source, getattr(source, "family", None) or type(source).__name__


class _GeneratorStream:
    """Images from a sampler `(n, seed, labels) -> uint8 NHWC`, one seed per batch."""

    kind = "generator"

    def __init__(self, sampler, description, num_classes, image_shape, stream):
        self._sampler = sampler
        self.description = description
        self.num_classes = num_classes
        self.image_size = tuple(image_shape[:2]) if image_shape else None
        self.stream = stream
        self.role = "source" if stream == SOURCE_STREAM else "data"

    def count(self, n, image_size):
        return n

    def batches(self, total, batch_size, seed, image_size):
        for index, start in enumerate(range(0, total, batch_size)):
            size = min(batch_size, total - start)
            labels = None
            if self.num_classes:
                # Every class equally often, in order: deterministic and balanced.
                labels = (np.arange(start, start + size) % self.num_classes).astype(np.int32)
            images = np.asarray(self._sampler(size, batch_seed(seed, index, self.stream), labels))
            if images.dtype != np.uint8 or images.ndim != 4 or len(images) != size:
                raise ValueError(
                    f"{self.description} must give {size} uint8 NHWC images per batch. "
                    f"Received: shape={images.shape}, dtype={images.dtype}"
                )
            yield images, labels


class _DatasetStream:
    """Images of a `ganzoo.data.load` source, in order (a seeded shuffle for a subset)."""

    kind = "dataset"
    num_classes = None
    image_size = None

    def __init__(self, source, split, stream):
        self.source = source
        self.split = split
        self.stream = stream
        self.role = "source" if stream == SOURCE_STREAM else "data"
        if isinstance(source, (str, os.PathLike)):
            name = os.fspath(source)
        else:
            name = f"{type(source).__name__} arrays"
        self.description = f"{name}:{split}"

    def count(self, n, image_size):
        available = data_lib.describe(self.source, split=self.split)["num_examples"]
        if available is None:
            raise data_lib.tfds_source.not_available_offline_error(self.source)
        self._available = available
        return min(n, available)

    def batches(self, total, batch_size, seed, image_size):
        subset = total < self._available
        dataset = data_lib.load(
            self.source, image_size=image_size, batch_size=1, split=self.split,
            shuffle=subset, seed=seed if subset else None, cache=False,
        )
        dataset = dataset.unbatch().take(total).batch(batch_size)
        for images in dataset:
            yield _imaging.to_uint8(images.numpy()), None


class _TileStream:
    """The targets of super-resolution in a folder or NumPy images: their non-overlapping
    tiles at full resolution (`ganzoo.data.super_resolution.picture_tiles`; `photos` is
    tiled so by its loader), never resized; a seeded subset of them for fewer."""

    kind = "dataset"

    def __init__(self, dataset_stream):
        self.source = dataset_stream.source
        self.split = dataset_stream.split
        self.description = dataset_stream.description

    def count(self, n, image_size):
        self._tiles = super_resolution.picture_tiles(self.source, image_size,
                                                     split=self.split)
        return min(n, len(self._tiles))

    def batches(self, total, batch_size, seed, image_size):
        tiles = self._tiles
        if total < len(tiles):
            chosen = np.random.default_rng(seed).choice(len(tiles), total, replace=False)
            tiles = tiles[np.sort(chosen)]
        for start in range(0, total, batch_size):
            yield tiles[start:start + batch_size], None


def open_source(source, default_split="train", stream=SOURCE_STREAM):
    """A stream of uint8 images for anything `evaluate` accepts as a source or data."""
    if hasattr(source, "sample") and callable(source.sample):
        return _sampling_object_stream(source, stream)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        # The data side is a dataset first: its loader says what is wrong with it.
        found = sources.resolve(text, allow_data=True, split=default_split,
                                check_data=stream == SOURCE_STREAM)
        if found.kind == sources.BUNDLE:
            generator = found.load_runtime()
            task = _image_to_image_task(generator)
            if task:
                return _MappedStream(generator, task, f"{text} (bundle, {generator.provider})",
                                     stream)
            return _GeneratorStream(
                lambda count, seed, labels: generator.sample(count, seed=seed, labels=labels),
                f"{text} (bundle, {generator.provider})", generator.num_classes,
                generator.image_shape, stream,
            )
        if found.kind == sources.DATA:
            return _DatasetStream(found.data, found.split, stream)
        # Lazy: ganzoo.models imports TensorFlow; datasets and bundles are read without it.
        from ganzoo import models

        model = models.load(found)
        return _model_stream(model, f"{text} ({model.family} preset)", stream)
    task = _image_to_image_task(source)
    if task:
        return _MappedStream(source, task, getattr(source, "family", None) or
                             type(source).__name__, stream)
    if _is_keras_model(source):
        return _keras_generator_stream(source, stream)
    if isinstance(source, (np.ndarray, tuple, list)):
        return _DatasetStream(source, default_split, stream)
    raise ValueError(
        "Expected a source: a ganzoo model, a Keras generator, an object with .sample(), a "
        "preset name, a preset/run/bundle folder or a dataset. "
        f"Received: {type(source).__name__}"
    )


def _sampling_object_stream(source, stream):
    if hasattr(source, "generator") and hasattr(source, "family"):
        return _model_stream(source, f"{source.family} model", stream)
    return _GeneratorStream(
        lambda count, seed, labels: source.sample(count, seed=seed, labels=labels),
        getattr(source, "description", type(source).__name__),
        getattr(source, "num_classes", None), getattr(source, "image_shape", None), stream,
    )


def _image_to_image_task(source):
    """"upscale" or "translate" for image-to-image sources (models or bundles), else None."""
    for task in ("upscale", "translate"):
        if callable(getattr(source, task, None)):
            return task
    return None


class _MappedStream:
    """Images made by an image-to-image source from another stream's images.

    A translating source is `feed`-ed the stream of the images it translates; a
    super-resolution source is measured by `_evaluate_super_resolution` instead.
    """

    kind = "generator"
    num_classes = None

    def __init__(self, source, task, description, stream):
        self.source = source
        self.task = task
        self.description = description
        self.stream = stream
        self.role = "source" if stream == SOURCE_STREAM else "data"
        self.image_size = None
        self.inputs = None

    def feed(self, inputs):
        self.inputs = inputs
        self.description = f"{self.description} on {inputs.description}"
        self.image_size = inputs.image_size

    def count(self, n, image_size):
        return self.inputs.count(n, image_size)

    def batches(self, total, batch_size, seed, image_size):
        for images, labels in self.inputs.batches(total, batch_size, seed, image_size):
            yield np.asarray(getattr(self.source, self.task)(images)), labels

    def map(self, images):
        return np.asarray(getattr(self.source, self.task)(images))


def _model_stream(model, description, stream):
    task = _image_to_image_task(model)
    if task:
        return _MappedStream(model, task, description, stream)
    return _GeneratorStream(
        lambda count, seed, labels: model.sample(count, seed=seed, labels=labels),
        description, getattr(model, "num_classes", None), model.image_shape, stream,
    )


def _is_keras_model(source):
    if "keras" not in sys.modules:
        return False
    import keras

    return isinstance(source, keras.Model)


def _keras_generator_stream(generator, stream):
    import keras

    if len(generator.inputs) != 1 or len(generator.input_shape) != 2:
        raise ValueError(
            "A plain Keras generator must take one latent input of shape (None, latent_dim); "
            "wrap others in an object with .sample(n, seed, labels) or export them. "
            f"Received: input_shape={generator.input_shape}"
        )
    latent_dim = generator.input_shape[-1]

    def sample(count, seed, labels):
        latents = _sampling.latents(count, latent_dim, seed)
        images = keras.ops.convert_to_numpy(generator(latents, training=False))
        return _imaging.to_uint8(images)

    return _GeneratorStream(
        sample, f"Keras generator {generator.name!r}", None, generator.output_shape[1:], stream
    )


# -- super-resolution -------------------------------------------------------------------


def source_scale(source):
    """The upscaling factor of a super-resolution model or bundle."""
    scale = getattr(source, "scale", None)
    if scale is None:
        metadata = getattr(source, "metadata", None) or {}
        scale = metadata.get("scale")
    if scale is None:
        image_in = next((entry for entry in getattr(source, "inputs", [])
                         if isinstance(entry, dict) and entry.get("role") == "image"), None)
        declared_out = (getattr(source, "outputs", None) or [{}])[0].get("shape")
        if image_in and declared_out and image_in["shape"][1] and declared_out[1]:
            scale = declared_out[1] // image_in["shape"][1]
    if not scale:
        raise ValueError(f"Cannot tell the upscaling factor of {source!r}")
    return int(scale)


def downscale(images, scale):
    """uint8 NHWC images made `scale` times smaller as super-resolution models train on
    them (`ganzoo.data.super_resolution.bicubic_downscale`: bicubic with antialiasing,
    8-bit levels)."""
    height, width = images.shape[1:3]
    if height % scale or width % scale:
        raise ValueError(
            f"Images of {height}x{width} do not divide by the scale {scale}: load the data "
            f"with an image size that is a multiple of {scale}"
        )
    small = bicubic_downscale(_imaging.from_uint8(images), scale)
    return _imaging.to_uint8(np.asarray(small))


def bicubic_upscale(images, scale):
    """uint8 NHWC images made `scale` times larger by bicubic interpolation (the
    baseline; `ganzoo.data.super_resolution.bicubic_upscale`)."""
    return upscale(images, scale)


def _evaluate_super_resolution(source_stream, data, metrics, *, n, batch_size, seed, split,
                               image_size, progress):
    """PSNR and SSIM of a super-resolution source, and of bicubic upscaling, on `data`'s
    images as targets (see `evaluate`)."""
    unpaired = [name for name in metrics if name not in PAIRED_METRICS]
    if unpaired:
        raise ValueError(
            f"{source_stream.description} upscales images: it is measured with psnr and ssim "
            f"against the originals (--metrics psnr,ssim). Received: {', '.join(unpaired)}"
        )
    scale = source_scale(source_stream.source)
    data_stream = open_source(data, default_split=split, stream=DATA_STREAM)
    if data_stream.kind != "dataset":
        raise ValueError(f"Super-resolution is measured on a dataset of originals. "
                         f"Received: {data_stream.description}")
    if super_resolution.is_folder_or_arrays(data_stream.source):
        data_stream = _TileStream(data_stream)
    size = _normalize_size(image_size)
    count = data_stream.count(n, size)
    sums = {name: 0.0 for name in metrics}
    sums.update({f"{name}_bicubic": 0.0 for name in metrics})
    bar = _Progress(f"targets: {data_stream.description}", count, enabled=progress)
    measured = 0
    for targets, _ in data_stream.batches(count, batch_size, seed, size):
        bar.update(len(targets))
        targets = targets[~_flat(targets)]
        if not len(targets):
            continue
        measured += len(targets)
        small = downscale(targets, scale)
        made = {"": source_stream.map(small), "_bicubic": bicubic_upscale(small, scale)}
        for suffix, images in made.items():
            if images.shape != targets.shape:
                raise ValueError(
                    f"{source_stream.description} made images of shape {images.shape[1:]} "
                    f"from {small.shape[1:]}; expected {targets.shape[1:]}"
                )
            for name in metrics:
                measure = getattr(image_quality, name)
                values = [measure(a, b) for a, b in zip(images, targets)]
                sums[name + suffix] += float(np.sum(values))
    bar.close()
    if not measured:
        raise ValueError(f"every one of the {count} targets of {data_stream.description} is "
                         "flat (one value per channel): there is nothing to upscale")
    results = {"source": source_stream.description, "data": data_stream.description,
               "n": measured, "n_data": measured, "flat_left_out": count - measured,
               "seed": seed, "scale": scale}
    results.update({name: total / measured for name, total in sums.items()})
    return results


def _flat(images):
    """Which of the NHWC `images` hold one value per channel."""
    return np.all(images == images[:, :1, :1, :], axis=(1, 2, 3))


# -- checks -----------------------------------------------------------------------------


def check_options(metrics, features, n, batch_size, seed, n_data=None, inception_weights=None,
                  k=3):
    """Check `evaluate`'s cheap arguments before anything heavy; returns the metric names.

    Raises one ValueError (FileNotFoundError for missing Inception weights) per mistake.
    """
    metrics = parse_metrics(metrics)
    _checks.positive_int(n, "n", minimum=2)
    _checks.positive_int(batch_size, "batch_size")
    _checks.positive_int(seed, "seed", minimum=0)
    if n_data is not None:
        _checks.positive_int(n_data, "n_data", minimum=2)
    if "pr" in metrics:
        for count, name in ((n, "-n"), (n_data, "--n-data")):
            if count is not None and count <= k:
                raise ValueError(
                    f"precision and recall compare each image with its {k} nearest "
                    f"neighbours: {name} must be above {k}. Received: {name} {count}")
    _check_features_argument(features, inception_weights)
    if all(name in PAIRED_METRICS for name in metrics):
        return metrics  # pixel metrics: no features are extracted
    if features == "inception_v3":
        _resolve_inception_weights(inception_weights)  # a missing file fails here, quickly
    return metrics


def _check_features_argument(features, inception_weights):
    if isinstance(features, FeatureExtractor):
        if inception_weights is not None:
            raise ValueError("inception_weights applies when features is a name, not an extractor")
        return
    if features not in list_extractors():
        raise ValueError(
            f"Unknown feature extractor. Expected one of {list_extractors()}. "
            f"Received: features={features!r}"
        )
    if inception_weights is not None and features != "inception_v3":
        raise ValueError(
            "--inception-weights applies to --features inception_v3 only. "
            f"Received: features={features!r}"
        )


def _check_metrics_fit(metrics, stream):
    paired = [name for name in metrics if name in PAIRED_METRICS]
    if paired and getattr(stream, "task", None) == "translate":
        raise ValueError(
            f"{' and '.join(paired)} need each image's target; {stream.description} "
            "translates between unpaired domains, so use fid, kid, is, pr"
        )
    if paired:
        what = "a dataset" if stream.kind == "dataset" else (
            "a conditional generator" if stream.num_classes else "an unconditional generator"
        )
        verb = "compare" if len(paired) > 1 else "compares"
        raise ValueError(
            f"{' and '.join(paired)} {verb} a generated image with its target (super-"
            f"resolution, paired translation); {stream.description} is {what}, so use "
            f"fid, kid, is, pr"
        )
    if "acc" in metrics and not stream.num_classes:
        raise ValueError(
            f"Class accuracy (acc) needs a conditional generator; {stream.description} has no "
            "classes"
        )


def _build_extractor(features, inception_weights, batch_size):
    if isinstance(features, FeatureExtractor):
        return features
    weights = inception_weights if features == "inception_v3" else None
    return get_extractor(features, weights=weights, batch_size=batch_size)


def _normalize_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        return (int(image_size), int(image_size))
    return tuple(int(v) for v in image_size)


# -- accumulators -----------------------------------------------------------------------


class _Accumulator:
    """What one side keeps: FID stats, a reservoir, IS split sums, correct-class counts."""

    def __init__(self, fid, reservoir, capacity, seed, inception_splits, total, accuracy):
        self.stats = FeatureStats() if fid else None
        self.reservoir = FeatureReservoir(capacity=capacity, seed=seed) if reservoir else None
        self.inception = _InceptionSplits(total, inception_splits) if inception_splits else None
        self.accuracy = accuracy
        self.count = 0
        self.correct = 0

    @property
    def wants_probabilities(self):
        return self.inception is not None or self.accuracy

    def update(self, features, probs, labels):
        if self.stats is not None:
            self.stats.update(features)
        if self.reservoir is not None:
            self.reservoir.update(features)
        if self.inception is not None:
            self.inception.update(probs)
        if self.accuracy:
            self.correct += int(np.sum(probs.argmax(axis=1) == labels))
        self.count += len(features)


class _InceptionSplits:
    """Inception Score over a stream, split as `inception_score(probs, splits)` splits.

    Per split it keeps the row count, the summed probabilities and the summed negative
    entropy sum_y p log p, since mean KL(p(y|x) || p(y)) = mean negentropy - sum_y p(y)
    log p(y) with p(y) the split's mean row. O(splits x C) memory.
    """

    def __init__(self, total, splits):
        sizes = [len(part) for part in np.array_split(np.arange(total), splits)]
        self.ends = np.cumsum(sizes)
        self.counts = np.zeros(splits, dtype=np.int64)
        self.sums = None
        self.negentropy = np.zeros(splits)
        self.position = 0

    def update(self, probs):
        probs = np.asarray(probs, dtype=np.float64)
        if self.sums is None:
            self.sums = np.zeros((len(self.ends), probs.shape[1]))
        start = 0
        while start < len(probs):
            split = int(np.searchsorted(self.ends, self.position, side="right"))
            take = min(len(probs) - start, int(self.ends[split]) - self.position)
            part = probs[start : start + take]
            self.counts[split] += len(part)
            self.sums[split] += part.sum(axis=0)
            self.negentropy[split] += special.xlogy(part, part).sum()
            start += take
            self.position += take

    def score(self):
        marginals = self.sums / self.counts[:, None]
        kl = self.negentropy / self.counts - special.xlogy(marginals, marginals).sum(axis=1)
        scores = np.exp(kl)
        return float(scores.mean()), float(scores.std())


class _Progress:
    """A one-line progress report on stderr (redrawn in place on a terminal)."""

    def __init__(self, label, total, enabled=True):
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self.started = time.perf_counter()
        self.tty = enabled and sys.stderr.isatty()
        self._last_draw = 0.0

    def update(self, count):
        self.done += count
        now = time.perf_counter()
        if self.tty and (now - self._last_draw > 0.2 or self.done >= self.total):
            self._last_draw = now
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            sys.stderr.write(
                f"\r{self.label} [{'=' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} ({self._rate(now):.0f} images/s)"
            )
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        now = time.perf_counter()
        line = (f"{self.label}: {self.done} images in {now - self.started:.1f} s "
                f"({self._rate(now):.0f} images/s)")
        sys.stderr.write(("\r\033[K" if self.tty else "") + line + "\n")
        sys.stderr.flush()

    def _rate(self, now):
        return self.done / max(now - self.started, 1e-9)
