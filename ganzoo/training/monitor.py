"""Callbacks that watch a GAN while it trains: its quality, and its health.

`EvaluateEvery` measures the generator every N steps or epochs with the metrics of
`ganzoo.metrics` (FID, KID, precision/recall, class accuracy) against reference features of
real images computed once, puts the figures in the epoch logs (so `CSVLogger`, TensorBoard
and `EarlyStopping` placed after it see them), and keeps the best measurement as a loadable
preset.

`HealthMonitor` looks every N steps for the three ways GAN training usually fails — a
discriminator that overpowers the generator, a generator that collapses onto a few images,
a loss that explodes — and says so in one `HealthWarning` line with the figures seen and
what to do.
"""

import collections
import math
import os
import sys
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _atomic, _imaging, _tasks, presets
from ganzoo.metrics._checks import positive_int
from ganzoo.metrics.distances import (frechet_distance_from_stats, kernel_inception_distance,
                                      precision_recall)
from ganzoo.metrics.evaluation import DATA_STREAM, SOURCE_STREAM, check_options, open_source
from ganzoo.metrics.features import FeatureExtractor, get_extractor
from ganzoo.metrics.streaming import FeatureStats


def _maps_images(model):
    """True for image-to-image models (cyclegan, srgan): nothing here measures them."""
    return getattr(model, "task", None) == _tasks.IMAGE_TO_IMAGE


class HealthWarning(UserWarning):
    """A training run shows a known failure: an overpowering discriminator, a collapsing
    generator or an exploding loss (`HealthMonitor`)."""


def _stderr_log(message):
    print(f"ganzoo: {message}", file=sys.stderr, flush=True)


class _StepCounter:
    """The global step of a `fit`: epoch * steps + batch + 1, right after a resume too
    (`initial_epoch`), since Keras numbers epochs from 0 whatever the initial epoch."""

    def __init__(self):
        self.epoch = 0
        self.counted = 0

    def begin_epoch(self, epoch, steps):
        self.epoch = epoch
        if steps:
            self.counted = epoch * steps

    def after_batch(self, batch, steps):
        self.counted = self.epoch * steps + batch + 1 if steps else self.counted + 1
        return self.counted


# -- EvaluateEvery ------------------------------------------------------------------------

# What each metric name of `EvaluateEvery` measures: the figures it gives.
_FIGURES = {"fid": ("fid",), "kid": ("kid",), "pr": ("precision", "recall"), "acc": ("acc",)}
# Figures where lower is better; the others are better higher.
_LOWER_IS_BETTER = ("fid", "kid")
# evaluate()'s defaults, so a figure here equals `ganzoo evaluate`'s for the same model.
_KID_SUBSETS, _KID_SUBSET_SIZE, _PR_K = 100, 1000, 3


class EvaluateEvery(keras.callbacks.Callback):
    """Measure the generator's quality while it trains, and keep the best checkpoint.

    Every `every_n_steps` global steps, or at the end of every `every_n_epochs` epochs
    (every epoch by default), `n` images are sampled from the model with a fixed seed, turned
    into features by one extractor (built once), and compared with the features of the real
    images of `data` (computed once, at first use) with `ganzoo.metrics`' functions. The
    images, seeds and labels are those of `ganzoo.metrics.evaluate(model, data, features=...,
    n=n, seed=seed, split=split, batch_size=batch_size)`, so a figure here is the figure
    `ganzoo evaluate` gives for the same weights (the best checkpoint, say).

    Where the figures go:

    - the epoch `logs`, at every epoch end, under `eval_fid`, `eval_kid`, `eval_precision`,
      `eval_recall`, `eval_acc` (the latest measured values): callbacks placed *after* this
      one (`CSVLogger`, `keras.callbacks.TensorBoard`, `EarlyStopping`) and `fit`'s history
      see them. `CSVLogger` fixes its columns at the first epoch, which is why `at_start`
      measures before training: the keys are then there from the first epoch on;
    - TensorBoard scalars at the measured global step, in `log_dir/eval` (with `log_dir`);
    - `self.history`: one dict per measurement, `{"step", "seconds", <figure>: value}`;
    - one `log` line per measurement, with the seconds it took. `self.reference_seconds`
      (the reference features) and `self.seconds_spent` (everything this callback did,
      reference included) tell what the measuring cost.

    With `best_dir`, every measurement that improves the `monitor` figure saves the model
    there as a preset (`model.save_to_preset`: `ganzoo.load_generator(best_dir)` and
    `Family.from_preset(best_dir)` load it). Its card and its config.json (`training`:
    `best_step`, `best_metric`, `best_mode`, `best_value`, `best_figures`) record the step
    and the figures; when a run is resumed, the figure of an existing `best_dir` is the best
    so far, and only a better one replaces it.

    Args:
        data: the real images: any `ganzoo.data.load` source (a bundled name, a TFDS name, a
            folder, arrays; a string may end in `:SPLIT`), or a `tf.data.Dataset` of images
            in [-1, 1] (or `(images, labels)` batches), of which the first `n` are used.
        every_n_steps: int or None. Measure every this many global steps.
        every_n_epochs: int or None. Measure at the end of every this many epochs. Give at
            most one of the two; neither means every epoch.
        metrics: str or sequence. Some of "fid", "kid" (its mean), "pr" (precision and
            recall), "acc" (class accuracy of a conditional model; needs a classifier
            extractor over its classes, as "digits"). Defaults to "fid".
        n: int >= 2. Generated images per measurement, and real images for the reference
            (or all of `data` when it has fewer). Defaults to 500.
        features: "digits", "inception_v3" (its weights must be in the Keras cache) or a
            built `ganzoo.metrics.FeatureExtractor`. Defaults to "digits".
        split: str. Split of `data` when it names none. Defaults to "test".
        image_size: int, (height, width) or None. Size the real images are loaded at; None:
            the model's image size. Defaults to None.
        monitor: str or None. The figure `best_dir` keeps the best of: "fid", "kid",
            "precision", "recall" or "acc", among those measured. None: the first metric's
            first figure ("precision" for "pr"). Defaults to None.
        mode: "auto", "min" or "max". Whether a lower or a higher `monitor` is better;
            "auto": lower for fid and kid, higher for the others. Defaults to "auto".
        best_dir: str, path or None. Folder of the best checkpoint (a preset); must be absent,
            empty or a preset. Defaults to None (none kept).
        log_dir: str, path or None. TensorBoard folder; the scalars go to `log_dir/eval`.
            Defaults to None.
        seed: int >= 0. Seed of the samples (and of the real subset, KID's subsets).
            Defaults to 0.
        at_start: bool. Also measure when training begins (at the initial global step).
            Defaults to True.
        batch_size: int. Images per batch, sampling and feature extraction. Defaults to 64.
        log: callable or None. Called with each one-line message; None prints it on stderr
            after "ganzoo: ". Defaults to None.
        write: bool. False on workers other than the chief of a multi-worker run: they
            measure (so every worker's logs agree) but write no file. Defaults to True.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=64)
    gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1), latent_dim=64)
    gan.compile()
    quality = ganzoo.training.EvaluateEvery("digits", every_n_epochs=5, metrics="fid,kid",
                                            best_dir="run/best", log_dir="run/logs")
    gan.fit(data, epochs=50, callbacks=[quality, keras.callbacks.CSVLogger("run/h.csv")])
    best = ganzoo.load_generator("run/best")
    ```
    """

    def __init__(self, data, *, every_n_steps=None, every_n_epochs=None, metrics="fid", n=500,
                 features="digits", split="test", image_size=None, monitor=None, mode="auto",
                 best_dir=None, log_dir=None, seed=0, at_start=True, batch_size=64, log=None,
                 write=True):
        super().__init__()
        if every_n_steps is not None and every_n_epochs is not None:
            raise ValueError(
                "Give every_n_steps or every_n_epochs, not both. Received: "
                f"every_n_steps={every_n_steps!r}, every_n_epochs={every_n_epochs!r}")
        if every_n_steps is not None:
            positive_int(every_n_steps, "every_n_steps")
        elif every_n_epochs is None:
            every_n_epochs = 1
        if every_n_epochs is not None:
            positive_int(every_n_epochs, "every_n_epochs")
        self.metrics = check_options(metrics, features, n, batch_size, seed)
        unsupported = [name for name in self.metrics if name not in _FIGURES]
        if unsupported:
            raise ValueError(
                f"EvaluateEvery measures {', '.join(_FIGURES)}. Received: "
                f"metrics={metrics!r}")
        self.figure_names = tuple(
            figure for name in self.metrics for figure in _FIGURES[name])
        self.monitor = self.figure_names[0] if monitor is None else monitor
        if self.monitor not in self.figure_names:
            raise ValueError(
                f"monitor must be one of the measured figures {', '.join(self.figure_names)}. "
                f"Received: monitor={monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        if mode == "auto":
            mode = "min" if self.monitor in _LOWER_IS_BETTER else "max"
        self.mode = mode
        if not callable(log) and log is not None:
            raise ValueError(f"log must be callable or None. Received: log={log!r}")
        if isinstance(data, tf.data.Dataset):
            self.data_description = "a tf.data.Dataset"
        elif isinstance(data, (str, os.PathLike)):
            self.data_description = os.fspath(data)
        else:
            self.data_description = f"{type(data).__name__} images"
        self.data = data
        self.every_n_steps = every_n_steps
        self.every_n_epochs = every_n_epochs
        self.n = int(n)
        self.features = features
        self.split = split
        self.image_size = image_size
        self.best_dir = None if best_dir is None else Path(os.fspath(best_dir)).expanduser()
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.seed = int(seed)
        self.at_start = bool(at_start)
        self.batch_size = int(batch_size)
        self.log = log or _stderr_log
        self.write = bool(write)

        self.history = []
        self.latest = {}
        self.best = None  # {"step", "value", "figures"} of the best measurement so far
        self.reference_seconds = None
        self.seconds_spent = 0.0
        self.reference = None  # {"count", "stats", "features"} of the real images
        self.extractor = None
        self._steps = _StepCounter()
        self._writer = None
        self._begun = False
        self._next_step = None
        self._last_step = None

    # -- Keras hooks ------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._check_model()
        if self.extractor is None:
            self.extractor = (self.features if isinstance(self.features, FeatureExtractor)
                              else get_extractor(self.features, batch_size=self.batch_size))
        self._check_extractor()
        if self.best_dir is not None and self.write:
            _atomic.check_replaceable(self.best_dir, presets.is_preset, presets.PRESET,
                                      owns=presets.owned_files)
            self._read_best()
        self._begun = False

    def on_epoch_begin(self, epoch, logs=None):
        self._steps.begin_epoch(epoch, self._steps_per_epoch())
        if not self._begun:
            self._begun = True
            if self.every_n_steps is not None:
                self._next_step = self._following(self._steps.counted)
            if self.at_start:
                self.measure(self._steps.counted)

    def on_train_batch_end(self, batch, logs=None):
        step = self._steps.after_batch(batch, self._steps_per_epoch())
        # `>=`, not `==`: with steps_per_execution > 1 Keras reports every few steps.
        if self.every_n_steps is not None and step >= self._next_step:
            self._next_step = self._following(step)
            self.measure(step)

    def _following(self, step):
        return (step // self.every_n_steps + 1) * self.every_n_steps

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs is not None and (epoch + 1) % self.every_n_epochs == 0:
            self.measure(self._steps.counted)
        if logs is not None:
            logs.update({f"eval_{name}": value for name, value in self.latest.items()})

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- measuring --------------------------------------------------------------------

    def measure(self, step):
        """Measure the model now, as global step `step`; returns `{figure: value}`.

        Records the figures (history, logs, TensorBoard, log line) and saves the best
        checkpoint when they improve `monitor`. A step already measured is not measured
        again.
        """
        if step == self._last_step:
            return dict(self.latest)
        reference = self._reference()
        started = time.perf_counter()
        figures = self._figures(reference)
        seconds = time.perf_counter() - started
        self._last_step = step
        self.latest = figures
        self.history.append({"step": int(step), "seconds": seconds, **figures})
        saved = self._keep_if_best(step, figures)
        self._write_scalars(step, figures)
        self.seconds_spent += time.perf_counter() - started
        shown = ", ".join(f"{name} {_format(value)}" for name, value in figures.items())
        self.log(f"eval at step {step}: {shown} ({seconds:.1f} s{saved})")
        return dict(figures)

    def _reference(self):
        """Features of the real images: computed once, at first use."""
        if self.reference is not None:
            return self.reference
        started = time.perf_counter()
        stats, rows = FeatureStats(), []
        for images in self._real_batches():
            features = self.extractor(images)
            stats.update(features)
            rows.append(np.asarray(features, np.float32))
        features = np.concatenate(rows) if rows else np.zeros((0, 1), np.float32)
        if len(features) < 2:
            raise ValueError(
                f"{self.data_description} yields fewer than 2 images for the reference. "
                f"Received: {len(features)}")
        self.reference = {"count": len(features), "stats": stats, "features": features}
        self.reference_seconds = time.perf_counter() - started
        self.seconds_spent += self.reference_seconds
        self.log(f"eval reference: {len(features)} real images of {self._data_name()}, "
                 f"{self.extractor.name} features ({self.reference_seconds:.1f} s)")
        return self.reference

    def _real_batches(self):
        """uint8 batches of at most `n` real images, at the model's size."""
        size = self._size()
        if isinstance(self.data, tf.data.Dataset):
            yield from _dataset_images(self.data, self.n, size, self.data_description)
            return
        stream = open_source(self.data, default_split=self.split, stream=DATA_STREAM)
        self.data_description = stream.description
        count = stream.count(self.n, size)
        for images, _ in stream.batches(count, self.batch_size, self.seed, size):
            yield images

    def _figures(self, reference):
        stream = open_source(self.model, stream=SOURCE_STREAM)
        stats, rows, correct = FeatureStats(), [], 0
        wants_probabilities = "acc" in self.metrics
        for images, labels in stream.batches(self.n, self.batch_size, self.seed, self._size()):
            if wants_probabilities:
                features, probabilities = self.extractor.features_and_probabilities(images)
                correct += int(np.sum(np.asarray(probabilities).argmax(axis=1) == labels))
            else:
                features = self.extractor(images)
            stats.update(features)
            rows.append(np.asarray(features, np.float32))
        generated = np.concatenate(rows)
        real_stats, real = reference["stats"], reference["features"]
        figures = {}
        if "fid" in self.metrics:
            figures["fid"] = frechet_distance_from_stats(
                real_stats.mean, real_stats.covariance, stats.mean, stats.covariance)
        if "kid" in self.metrics:
            figures["kid"] = kernel_inception_distance(
                real, generated, subsets=_KID_SUBSETS, subset_size=_KID_SUBSET_SIZE,
                seed=self.seed)[0]
        if "pr" in self.metrics:
            figures["precision"], figures["recall"] = precision_recall(real, generated, k=_PR_K)
        if "acc" in self.metrics:
            figures["acc"] = correct / len(generated)
        return {name: float(value) for name, value in figures.items()}

    # -- the best checkpoint ----------------------------------------------------------

    def _improves(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best["value"] if self.mode == "min" else value > self.best["value"]

    def _keep_if_best(self, step, figures):
        """Save the model to `best_dir` when `figures` improve the monitored one; returns
        what the log line says about it."""
        value = figures[self.monitor]
        if not self._improves(value):
            return ""
        if self.best_dir is None or not self.write:
            self.best = {"step": int(step), "value": value, "figures": dict(figures)}
            return ""
        try:
            self.model.save_to_preset(
                self.best_dir, overwrite=True, card=self._card(step, figures),
                best_step=int(step), best_metric=self.monitor, best_mode=self.mode,
                best_value=value, best_figures=dict(figures), eval_data=self._data_name(),
                eval_n=self.n, eval_features=self.extractor.name, eval_seed=self.seed,
            )
        except (OSError, ValueError) as error:
            # The run's own checkpoints matter more than this copy: say so and go on.
            return f"; best so far, but not saved: {error}"
        self.best = {"step": int(step), "value": value, "figures": dict(figures)}
        return f"; best {self.monitor} so far, saved to {self.best_dir}"

    def _read_best(self):
        """Take the figure of an existing best checkpoint as the best so far (a resumed
        run); a checkpoint chosen by another figure is replaced at the first measurement."""
        if self.best is not None or not presets.is_preset(self.best_dir):
            return
        try:
            training = presets.read_config(self.best_dir).get("training") or {}
        except ValueError as error:
            self.log(f"cannot read {self.best_dir} ({error}); it will be replaced")
            return
        value = training.get("best_value")
        same = (training.get("best_metric"), training.get("best_mode")) == (self.monitor,
                                                                              self.mode)
        if not same or isinstance(value, bool) or not isinstance(value, (int, float)):
            self.log(f"{self.best_dir} was not kept for {self.monitor} ({self.mode}): it "
                     "will be replaced at the first measurement")
            return
        self.best = {"step": training.get("best_step"), "value": float(value),
                     "figures": dict(training.get("best_figures") or {})}
        self.log(f"best so far: {self.monitor} {_format(float(value))} at step "
                 f"{training.get('best_step')} ({self.best_dir})")

    def _card(self, step, figures):
        model = self.model
        better = "lower" if self.mode == "min" else "higher"
        reference = self.reference or {}
        lines = [
            f"# Best checkpoint: step {step}",
            "",
            f"Family: `{model.family}`. Image shape: {tuple(model.image_shape)}.",
            "",
            f"Kept by `ganzoo.training.EvaluateEvery` during training: of the measurements "
            f"so far, the one with the best {self.monitor} ({better} is better).",
            "",
            f"- step: {step}",
            f"- {self.monitor}: {_format(figures[self.monitor])}",
            f"- measured on: {self.n} samples (seed {self.seed}) against "
            f"{reference.get('count', '?')} real images of {self._data_name()}, "
            f"{self.extractor.name} features",
            "",
            "## Measured",
            "",
            "| metric | value |",
            "| --- | --- |",
        ]
        lines += [f"| {name} | {_format(value)} |" for name, value in figures.items()]
        return "\n".join(lines) + "\n"

    # -- helpers ----------------------------------------------------------------------

    def _write_scalars(self, step, figures):
        if self.log_dir is None or not self.write:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "eval"))
        with self._writer.as_default():
            for name, value in figures.items():
                tf.summary.scalar(f"eval_{name}", value, step=int(step))
        self._writer.flush()

    def _check_model(self):
        model = self.model
        if _maps_images(model) or not callable(getattr(model, "sample", None)):
            raise ValueError(
                f"EvaluateEvery measures generators of images from noise; "
                f"{getattr(model, 'family', type(model).__name__)} makes images from images: "
                "measure it with `ganzoo evaluate` (psnr, ssim or --inputs)")
        if "acc" in self.metrics and not getattr(model, "num_classes", None):
            raise ValueError(
                f"Class accuracy (acc) needs a conditional model; this "
                f"{getattr(model, 'family', 'model')} has no classes")

    def _check_extractor(self):
        if "acc" not in self.metrics:
            return
        if self.extractor.num_classes != self.model.num_classes:
            raise ValueError(
                f"Class accuracy needs a classifier over the model's {self.model.num_classes} "
                f"classes; the {self.extractor.name!r} extractor has "
                f"{self.extractor.num_classes}")

    def _steps_per_epoch(self):
        return (self.params or {}).get("steps")

    def _size(self):
        if self.image_size is None:
            return tuple(int(v) for v in self.model.image_shape[:2])
        if isinstance(self.image_size, (int, np.integer)):
            return (int(self.image_size), int(self.image_size))
        return tuple(int(v) for v in self.image_size)

    def _data_name(self):
        return self.data_description


def _dataset_images(dataset, n, size, description):
    """The first `n` images of a `tf.data.Dataset` of [-1, 1] images as uint8 batches."""
    taken = 0
    for batch in dataset:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        images = np.asarray(keras.ops.convert_to_numpy(images), np.float32)
        if images.ndim == 3:
            images = images[np.newaxis]
        if tuple(images.shape[1:3]) != tuple(size):
            raise ValueError(
                f"{description} gives images of {images.shape[1]}x{images.shape[2]}; the "
                f"model makes {size[0]}x{size[1]}: load the data at that size")
        images = images[: n - taken]
        taken += len(images)
        yield _imaging.to_uint8(images)
        if taken >= n:
            return


def _format(value):
    if value is None or not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.4f}"


# -- HealthMonitor ------------------------------------------------------------------------

# Where a discriminator is confident, by loss: `(centre, margin)` of its output. A real image
# counts as confidently told apart when its output exceeds centre + margin, a generated one
# when it is below centre - margin. Sigmoid losses: probability 0.95 (logit log 19); hinge:
# its margin 1, beyond which the discriminator's loss is zero; least squares (targets 1 and
# 0): within 0.1 of the target.
_CONFIDENCE = {
    "non_saturating": (0.0, math.log(19.0)),
    "minimax": (0.0, math.log(19.0)),
    "hinge": (0.0, 1.0),
    "lsgan": (0.5, 0.4),
}
# The fraction of both real and generated images told apart with confidence above which
# the discriminator overpowers the generator; and ADA's r_t above which it overfits.
_OVERPOWER_ACCURACY = 0.95
_RT_LIMIT = 0.9
# Log keys of ADA's overfitting heuristic r_t = E[sign(D(real))] (logged when ADA is on).
_RT_KEYS = ("r_t",)
# Samples are compared as images area-resized to this size, flattened: a feature map that
# needs no weights and sees layout and strokes, not texture.
_SPREAD_SIZE = 16
# Spread below which the samples are, to the eye, one image (about one 8-bit grey level of
# RMS difference on the [-1, 1] scale).
_IDENTICAL_SPREAD = 0.01
# Without real images, the spread a generator must have reached once to count as warmed up.
_DIVERSE_SPREAD = 0.05
# Losses: the running median is over this many recent checks, and a loss is compared with
# at least this magnitude (GAN losses are of order 1; tiny medians would make ordinary
# swings look like explosions).
_LOSS_WINDOW = 20
_LOSS_FLOOR = 1.0

_OVERPOWER_REMEDY = ("--augment ada (or model.compile(augment='ada')), or a lower "
                     "discriminator learning rate")
# With ADA on (it logs r_t), more augmentation is what it already does.
_OVERPOWER_REMEDY_WITH_ADA = ("a lower discriminator learning rate, or more training data: "
                              "ADA is on and does not hold the discriminator back")
_COLLAPSE_REMEDY = ("--resume from best/ (or the last checkpoint) with --lr-factor 0.5, "
                    "or --augment ada")
_EXPLODE_REMEDY = "a lower learning rate (--lr-factor 0.5) and --resume"


class HealthMonitor(keras.callbacks.Callback):
    """Warn, in one line, when GAN training goes wrong, and say what to do.

    Every `every_n_steps` global steps (and at the first step of each `fit`) it runs a few
    forward passes — the generator on `n` fixed latents, the discriminator on those samples
    and on a fixed batch of real images — and looks for three failures. Each is warned once
    per occurrence (again only after it has cleared), with `warnings.warn(message,
    HealthWarning)`, kept in `self.events` (dicts: `step`, `kind`, `message`, `figures`)
    and passed to `record(event)`:

    - "overpowered": the discriminator tells real from generated images apart with
      confidence — more than 95% of the real batch and of the samples beyond its decision
      margin (probability 0.95 for sigmoid losses, the hinge margin 1, within 0.1 of the
      least-squares targets) — for `patience` checks in a row; or ADA's overfitting
      heuristic `r_t` in the logs stays above 0.9 for `patience` checks. Confidence, not
      the sign of the output: a healthy DCGAN on the digits, whose batch-normalised
      discriminator sees real and generated batches apart as in training, classifies both
      batches correctly at most checks (measured: `dcgan-digits` fine-tuning), while its
      outputs stay moderate (median probability 0.9). The discriminator runs as in training
      (`training=True`, separate real and generated batches) and its non-trainable state
      (batch-norm statistics, spectral-norm vectors, dropout seeds) is restored afterwards,
      so training is unchanged. Like the collapse comparisons, it waits for the end of an
      untrained generator's warm-up (see below): a fresh DCGAN's discriminator wins with
      confidence for its first 50-100 steps, and that is normal. The accuracy check is
      skipped for Wasserstein critics (`loss_name == "wasserstein"`: their scores are
      unbounded and have no decision margin), without `real_images`, and for conditional
      models when `real_images` carries no labels; r_t is read whenever the logs hold it.
    - "collapse": the spread of the `n` samples — the mean pairwise distance of the images
      area-resized to 16x16 and flattened, divided by the square root of their size (an RMS
      per-pixel difference on the [-1, 1] scale; no weights needed) — falls below
      `collapse_ratio` times the largest of its best spread so far and the real images'
      spread, or below 0.01 (every sample the same image). An untrained generator makes
      near-constant images (a fresh DCGAN's spread is 0.4% of the digits'), so for a model
      trained from scratch these comparisons start once its spread has reached
      `collapse_ratio` times the real spread (0.05 without real images) or after
      `warmup_steps`; for a model that has trained before (loaded from a preset, a resumed
      run, optimizers that have stepped) they start at the first check. With
      `stop_on_collapse`, training then stops (`model.stop_training`), cleanly.
    - "exploding_loss": a logged loss (`model.loss_names`) exceeds `explode_factor` times
      the median magnitude of its last 20 checks (at least 1), after 3 checks of warm-up,
      or is not finite. The Wasserstein generator loss is left out: a critic's offset is
      free, so that loss drifts without meaning anything.

    Families that make images from images (cyclegan, srgan) are only checked for exploding
    losses. A check that fails on a model is switched off with a `RuntimeWarning` and noted
    in `self.skipped`, never stopping training.

    Args:
        real_images: array, `(images, labels)` or None. A fixed batch of real images, uint8
            or float in [-1, 1], `(N, H, W, C)` at the model's size; the first `n` are used.
            Conditional models need the labels for the accuracy check. Defaults to None.
        every_n_steps: int. Check every this many global steps. Defaults to 50.
        patience: int. Checks in a row the discriminator must overpower before the warning.
            Defaults to 3.
        stop_on_collapse: bool. Stop training after warning of a collapse. Defaults to False.
        n: int >= 2. Samples per check. Defaults to 64.
        seed: int >= 0. Seed of the samples (the same ones at every check). Defaults to 0.
        collapse_ratio: float in (0, 1). A spread below this fraction of the reference is a
            collapse. Defaults to 0.25 (healthy digits generators stay above 0.9).
        explode_factor: float > 1. A loss above this many times its running median
            magnitude explodes. Defaults to 10 (DCGAN losses on digits stay within 3x).
        warmup_steps: int >= 0. Global steps after which an untrained generator is held to
            the collapse comparisons even if it has not yet shown diversity. Defaults to 500
            (a DCGAN on the digits reaches it after about 100).
        record: callable or None. Called with each event dict. Defaults to None.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=64)
    health = ganzoo.training.HealthMonitor(next(iter(data)), stop_on_collapse=True)
    gan.fit(data, epochs=20, callbacks=[health])
    health.events  # [] for a healthy run
    ```
    """

    def __init__(self, real_images=None, *, every_n_steps=50, patience=3,
                 stop_on_collapse=False, n=64, seed=0, collapse_ratio=0.25,
                 explode_factor=10.0, warmup_steps=500, record=None):
        super().__init__()
        self.every_n_steps = positive_int(every_n_steps, "every_n_steps")
        self.patience = positive_int(patience, "patience")
        self.n = positive_int(n, "n", minimum=2)
        self.seed = positive_int(seed, "seed", minimum=0)
        self.warmup_steps = positive_int(warmup_steps, "warmup_steps", minimum=0)
        if not _is_number(collapse_ratio) or not 0 < collapse_ratio < 1:
            raise ValueError("collapse_ratio must lie in (0, 1). Received: "
                             f"collapse_ratio={collapse_ratio!r}")
        if not _is_number(explode_factor) or not explode_factor > 1:
            raise ValueError("explode_factor must be a number > 1. Received: "
                             f"explode_factor={explode_factor!r}")
        if record is not None and not callable(record):
            raise ValueError(f"record must be callable or None. Received: record={record!r}")
        self.stop_on_collapse = bool(stop_on_collapse)
        self.collapse_ratio = float(collapse_ratio)
        self.explode_factor = float(explode_factor)
        self.record = record
        self.real_images, self.real_labels = _real_batch(real_images, self.n)

        self.events = []
        self.skipped = {}
        self.spreads = []  # (step, spread) of every check
        self.real_spread = None
        self.best_spread = None
        self._steps = _StepCounter()
        self._next_check = None
        self._overpowered_streak = []
        self._overpowered = False
        self._collapsed = False
        self._warmed_up = False
        self._trained_before = False
        self._ada_on = False
        self._best_before = None
        self._losses = collections.defaultdict(lambda: collections.deque(maxlen=_LOSS_WINDOW))
        self._exploded = set()

    # -- Keras hooks ------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._next_check = None
        self._trained_before = _has_trained(self.model)
        self._plan_checks()

    def on_epoch_begin(self, epoch, logs=None):
        self._steps.begin_epoch(epoch, (self.params or {}).get("steps"))
        if epoch > 0 and self._next_check is None:
            self._trained_before = True  # a resumed run (initial_epoch > 0)

    def on_train_batch_end(self, batch, logs=None):
        step = self._steps.after_batch(batch, (self.params or {}).get("steps"))
        if self._next_check is not None and step < self._next_check:
            return
        self._next_check = (step // self.every_n_steps + 1) * self.every_n_steps
        self.check(step, logs or {})

    # -- checks -----------------------------------------------------------------------

    def check(self, step, logs):
        """Run every applicable check now, as global step `step` with the logs `logs`."""
        logs = {name: _as_float(value) for name, value in (logs or {}).items()}
        samples = None
        if self._needs_samples():
            samples = self._run("samples", self._samples)
            if samples is None:  # both checks need them
                self.skipped.setdefault("collapse", self.skipped["samples"])
                self.skipped.setdefault("accuracy", self.skipped["samples"])
        value = None
        if samples is not None and "collapse" not in self.skipped:
            value = self._run("collapse", lambda: spread(samples))
        self._warm_up(step, value)
        if value is not None:
            self._judge_collapse(step, value)
        overpowered = []
        if samples is not None and "accuracy" not in self.skipped:
            accuracy = self._run("accuracy", lambda: self._accuracy(samples))
            if accuracy is not None:
                overpowered.append(("accuracy", accuracy))
        rt = next((logs[key] for key in _RT_KEYS if logs.get(key) is not None), None)
        if rt is not None:
            overpowered.append(("r_t", rt))
        self._ada_on = rt is not None
        self._judge_overpowered(step, overpowered if self._warmed_up else [])
        self._run("loss", lambda: self._judge_losses(step, logs))

    def _warm_up(self, step, value):
        """Record the spread; decide whether the generator is past its warm-up."""
        if value is not None:
            self.spreads.append((int(step), value))
            self._best_before = self.best_spread
            self.best_spread = value if self.best_spread is None else max(self.best_spread,
                                                                          value)
        if self._warmed_up:
            return
        diverse = (self.collapse_ratio * self.real_spread if self.real_spread is not None
                   else _DIVERSE_SPREAD)
        self._warmed_up = (self._trained_before or step >= self.warmup_steps
                           or (self.best_spread is not None and self.best_spread >= diverse))

    def _plan_checks(self):
        model = self.model
        if _maps_images(model) or not callable(getattr(model, "generate", None)):
            reason = f"{getattr(model, 'family', 'this model')} makes images from images"
            self.skipped.setdefault("collapse", reason)
            self.skipped.setdefault("accuracy", reason)
            return
        loss_name = getattr(model, "loss_name", None)
        if loss_name == "wasserstein":
            self.skipped.setdefault(
                "accuracy", "a Wasserstein critic's scores are unbounded: no decision margin")
        elif loss_name not in _CONFIDENCE:
            self.skipped.setdefault("accuracy", f"no decision margin known for loss "
                                                f"{loss_name!r}")
        elif self.real_images is None:
            self.skipped.setdefault("accuracy", "no real_images given")
        elif self._is_conditional() and self.real_labels is None:
            self.skipped.setdefault("accuracy", "a conditional model, and real_images has "
                                                "no labels")
        elif tuple(self.real_images.shape[1:]) != tuple(model.image_shape):
            self.skipped.setdefault(
                "accuracy", f"real_images are {self.real_images.shape[1:]}, the model's "
                            f"images {tuple(model.image_shape)}")
        if (self.real_images is not None and self.real_spread is None
                and self.real_images.shape[-1] == model.image_shape[-1]):
            self.real_spread = spread(self.real_images)

    def _needs_samples(self):
        return "collapse" not in self.skipped or "accuracy" not in self.skipped

    def _is_conditional(self):
        return bool(getattr(self.model, "num_classes", None))

    def _sample_labels(self):
        if not self._is_conditional():
            return None
        return (np.arange(self.n) % self.model.num_classes).astype(np.int32)

    def _samples(self):
        return self.model.generate(self.n, seed=self.seed, labels=self._sample_labels())

    def _accuracy(self, samples):
        """Fractions of the real batch and of the samples the discriminator tells apart
        with confidence, run as in training; its non-trainable state is put back."""
        model = self.model
        discriminator = model.discriminator
        centre, margin = _CONFIDENCE[model.loss_name]
        state = [(v, keras.ops.convert_to_numpy(v)) for v in discriminator.non_trainable_variables]
        try:
            real = model.discriminator_inputs(self.real_images, self.real_labels)
            fake = model.discriminator_inputs(samples, self._sample_labels())
            real_scores = keras.ops.convert_to_numpy(discriminator(real, training=True))
            fake_scores = keras.ops.convert_to_numpy(discriminator(fake, training=True))
        finally:
            for variable, value in state:
                variable.assign(value)
        real_scores = np.asarray(real_scores, np.float64).reshape(len(self.real_images), -1)
        fake_scores = np.asarray(fake_scores, np.float64).reshape(len(samples), -1)
        # Patch discriminators give a map per image: an image is told apart when its mean is.
        real_accuracy = float(np.mean(real_scores.mean(axis=1) > centre + margin))
        fake_accuracy = float(np.mean(fake_scores.mean(axis=1) < centre - margin))
        return real_accuracy, fake_accuracy

    def _judge_overpowered(self, step, signs):
        seen = {}
        for kind, value in signs:
            if kind == "accuracy" and min(value) > _OVERPOWER_ACCURACY:
                seen = {"real_accuracy": value[0], "fake_accuracy": value[1]}
            elif kind == "r_t" and value > _RT_LIMIT:
                seen.setdefault("r_t", value)
        if not seen:
            self._overpowered_streak = []
            self._overpowered = False
            return
        self._overpowered_streak.append(seen)
        if self._overpowered or len(self._overpowered_streak) < self.patience:
            return
        self._overpowered = True
        recent = self._overpowered_streak[-self.patience:]
        if "real_accuracy" in seen:
            real = ", ".join(f"{figures.get('real_accuracy', float('nan')):.0%}"
                             for figures in recent)
            fake = ", ".join(f"{figures.get('fake_accuracy', float('nan')):.0%}"
                             for figures in recent)
            what = (f"the discriminator tells real from generated images apart with "
                    f"confidence at {self.patience} checks in a row (real: {real}; "
                    f"generated: {fake})")
        else:
            values = ", ".join(f"{figures.get('r_t', float('nan')):.2f}" for figures in recent)
            what = (f"ADA's overfitting heuristic r_t stayed above {_RT_LIMIT} for "
                    f"{self.patience} checks in a row ({values})")
        remedy = _OVERPOWER_REMEDY_WITH_ADA if self._ada_on else _OVERPOWER_REMEDY
        self._event(step, "overpowered",
                    f"step {step}: the discriminator overpowers the generator: {what}. "
                    f"Try {remedy}.",
                    dict(seen, checks=self.patience))

    def _judge_collapse(self, step, value):
        best_before = self._best_before
        if not self._warmed_up:
            return
        reference = max(self.real_spread or 0.0, best_before or 0.0)
        threshold = max(self.collapse_ratio * reference, _IDENTICAL_SPREAD)
        if value >= threshold:
            self._collapsed = False
            return
        if self._collapsed:
            return
        self._collapsed = True
        against = []
        if self.real_spread is not None:
            against.append(f"real images {self.real_spread:.3f}")
        if best_before is not None:
            against.append(f"best so far {best_before:.3f}")
        against = f" (against {', '.join(against)})" if against else ""
        stopping = "; training stops (stop_on_collapse)" if self.stop_on_collapse else ""
        self._event(step, "collapse",
                    f"step {step}: the generator is collapsing: its {self.n} samples differ "
                    f"by {value:.4f}{against}, below {threshold:.4f}{stopping}. "
                    f"Try {_COLLAPSE_REMEDY}.",
                    {"spread": value, "real_spread": self.real_spread,
                     "best_spread": best_before, "threshold": threshold})
        if self.stop_on_collapse:
            self.model.stop_training = True

    def _judge_losses(self, step, logs):
        names = list(getattr(self.model, "loss_names", ()) or ())
        if getattr(self.model, "loss_name", None) == "wasserstein" and "g_loss" in names:
            names.remove("g_loss")
        for name in names:
            value = logs.get(name)
            if value is None:
                continue
            history = self._losses[name]
            median = float(np.median(np.abs(history))) if history else None
            if not math.isfinite(value):
                exploded, limit = True, float("inf")
            elif len(history) >= 3:
                limit = self.explode_factor * max(median, _LOSS_FLOOR)
                exploded = abs(value) > limit
            else:
                exploded, limit = False, None
            if math.isfinite(value):
                history.append(value)
            if not exploded:
                self._exploded.discard(name)
                continue
            if name in self._exploded:
                continue
            self._exploded.add(name)
            typical = f"its running median magnitude {median:.3g}" if median is not None \
                else "no earlier value"
            self._event(step, "exploding_loss",
                        f"step {step}: {name} explodes: {value:.4g}, against {typical} "
                        f"(limit {limit:.4g}). Try {_EXPLODE_REMEDY}.",
                        {"loss": name, "value": value, "median": median, "limit": limit})

    # -- plumbing ---------------------------------------------------------------------

    def _run(self, check, function):
        """`function()`, or None after switching `check` off when it fails on this model."""
        try:
            return function()
        except Exception as error:  # a health check must never stop training
            reason = f"{type(error).__name__}: {_first_line(error)}"
            self.skipped[check] = reason
            warnings.warn(f"ganzoo HealthMonitor: the {check} check failed and is off for "
                          f"this run: {reason}", RuntimeWarning, stacklevel=2)
            return None

    def _event(self, step, kind, message, figures):
        event = {"step": int(step), "kind": kind, "message": message,
                 "figures": {key: _plain(value) for key, value in figures.items()}}
        self.events.append(event)
        warnings.warn(message, HealthWarning, stacklevel=3)
        if self.record is not None:
            try:
                self.record(event)
            except Exception as error:  # keeping the record must not stop training either
                warnings.warn(f"ganzoo HealthMonitor: record({kind!r} event) failed: "
                              f"{type(error).__name__}: {_first_line(error)}", RuntimeWarning,
                              stacklevel=3)


def spread(images):
    """How different images are: the mean pairwise distance of the images area-resized to
    16x16 (when larger) and flattened, over the square root of their size (an RMS per-value
    difference). Float images in [-1, 1]; 0 when all are equal, about 0.58 for the digits.
    """
    images = np.asarray(images, np.float32)
    if images.shape[1] > _SPREAD_SIZE or images.shape[2] > _SPREAD_SIZE:
        size = (min(images.shape[1], _SPREAD_SIZE), min(images.shape[2], _SPREAD_SIZE))
        images = tf.image.resize(images, size, method="area").numpy()
    rows = images.reshape(len(images), -1).astype(np.float64)
    squares = np.sum(rows**2, axis=1)
    distances = np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2 * rows @ rows.T, 0))
    count = len(rows)
    return float(distances.sum() / (count * (count - 1)) / math.sqrt(rows.shape[1]))


def _real_batch(real_images, n):
    """(images as float32 in [-1, 1], labels or None) from what `HealthMonitor` accepts."""
    if real_images is None:
        return None, None
    labels = None
    if isinstance(real_images, (tuple, list)):
        if len(real_images) != 2:
            raise ValueError("real_images must be images or (images, labels). Received: a "
                             f"{type(real_images).__name__} of {len(real_images)} items")
        real_images, labels = real_images
    images = np.asarray(keras.ops.convert_to_numpy(real_images))
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) < 2:
        raise ValueError("real_images must be at least 2 images (N, H, W, 1 or 3). "
                         f"Received: shape={images.shape}")
    if images.dtype == np.uint8:
        images = _imaging.from_uint8(images)
    else:
        images = images.astype(np.float32)
        if not np.all(np.isfinite(images)) or images.min() < -1.001 or images.max() > 1.001:
            raise ValueError("Float real_images must lie in [-1, 1] (as ganzoo.data gives "
                             "them); pass uint8 for 0..255. Received: values in "
                             f"[{images.min():.3g}, {images.max():.3g}]")
    images = images[:n]
    if labels is not None:
        labels = np.asarray(keras.ops.convert_to_numpy(labels)).reshape(-1)[:n]
        labels = labels.astype(np.int32)
        if len(labels) != len(images):
            raise ValueError(f"real_images has {len(images)} images and {len(labels)} labels")
    return images, labels


def _has_trained(model):
    """Whether the model's weights come from training: a preset, or stepped optimizers."""
    if getattr(model, "preset_path", None) is not None:
        return True
    optimizers = model.optimizers() if callable(getattr(model, "optimizers", None)) else {}
    for optimizer in optimizers.values():
        if optimizer is not None and int(keras.ops.convert_to_numpy(optimizer.iterations)) > 0:
            return True
    return False


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool) and math.isfinite(value)


def _as_float(value):
    try:
        return float(np.asarray(keras.ops.convert_to_numpy(value)).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
