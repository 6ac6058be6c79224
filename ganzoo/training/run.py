"""Training runs: a run folder with a preset, sample grids, logs and checkpoints.

What `ganzoo train` does, reachable from Python with the same names:

```python
run = ganzoo.training.plan_run("dcgan", "digits", "runs/digits", steps=400)
result = run.train()                       # fit, checkpoints, grids, preset
result.preset                              # runs/digits/preset

run = ganzoo.training.plan_resume("runs/digits")   # after a crash or kill -9
run.train()
```

A run folder holds `run.json` (the settings), `preset/` (written when the run finishes),
`samples/` (a grid per epoch and `final.png`), `logs/` (TensorBoard), `history.csv` and
`backup/` (atomic checkpoints of the last two epochs, removed when the run finishes).

Nothing is lost:

- an existing folder is replaced only with `overwrite=True`, only when it is a ganzoo run
  folder (or empty) holding nothing but what a run wrote (`owned_run_files`), and only
  once the new run has started (model built, data loaded); until then the old one is
  untouched;
- a folder in use by another run is locked (`flock`, released even on kill -9);
- NaN or infinite losses or weights stop the run; the last good checkpoint is kept and the
  message says how to resume with a lower learning rate (`lr_factor`);
- checkpoints are written to a temporary file and renamed; a damaged one falls back to the
  one before;
- `plan_resume` restores the weights, optimizer state, noise stream and the position in the
  data, so with `deterministic=True` a run killed and resumed ends with the same weights
  as one never stopped;
- a run that fails before finishing its first epoch removes the folder it created.

Planning (`plan_run`, `plan_resume`) checks every argument and the folder without
importing TensorFlow; `TrainingRun.train` does the work.
"""

import dataclasses
import datetime
import inspect
import json
import math
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from ganzoo import _atomic, _imaging, _tasks, _validation
from ganzoo import data as data_lib
from ganzoo import precision as precision_lib
from ganzoo import presets, training
from ganzoo.metrics.evaluation import parse_metrics
from ganzoo.metrics.features import list_extractors
from ganzoo.sources import RUN_FILE, is_run_folder, parse_data_spec
from ganzoo.training import peers
from ganzoo.training._layout import list_checkpoints

LOCK_FILE = ".ganzoo-run.lock"
BACKUP_DIR = "backup"
PRESET_DIR = "preset"
RUN_FORMAT = "ganzoo-run"
# The batch size defaults to the family's `default_batch_size` (64 for most).
# The image size defaults to the family's `default_image_size` (32 for most).
DEFAULTS = {"seed": 0, "samples": 64,
            "lr_factor": 1.0, "deterministic": False, "augment": None,
            "eval_every": None, "eval_data": None, "eval_metrics": "fid", "eval_n": 500,
            "features": "digits", "health": True, "stop_on_collapse": False,
            "precision": "float32"}
# Settings that define a run: `resume` refuses to change them.
SETTINGS = ("family", "data", "data_b", "epochs", "steps", "batch_size", "image_size",
            "latent_dim", "model_options", "compile_options", "preset", "seed", "samples",
            "deterministic", "lr_factor", "augment", "eval_every", "eval_data", "eval_metrics", "eval_n",
            "features", "health", "stop_on_collapse", "precision")
# A CLI epoch is at least this many images: small data is repeated, so the per-epoch work
# (a sample grid, a checkpoint, the weight checks) stays a small part of the time however
# few images there are.
MIN_EPOCH_IMAGES = 2048
BEST_DIR = "best"
# Constructor arguments that have their own option, never a model option.
_OWN_OPTIONS = {"image_shape": "image_size", "latent_dim": "latent_dim", "seed": "seed"}
# `compile` arguments that have their own option, never a compile option.
_OWN_COMPILE_OPTIONS = {"augment": "augment"}


def _stderr_log(message):
    print(f"ganzoo: {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class RunResult:
    """What a finished run produced."""

    path: Path
    preset: Path
    samples: Path
    epochs: int
    steps_per_epoch: int
    history: dict
    is_chief: bool = True


# -- the folder ---------------------------------------------------------------------------


def read_settings(path):
    """The settings saved in a run folder's `run.json`."""
    run_file = Path(path) / RUN_FILE
    try:
        settings = json.loads(run_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path} is not a ganzoo run folder: it has no {RUN_FILE}") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot read {run_file}: {error}") from None
    if not isinstance(settings, dict) or "family" not in settings:
        raise ValueError(f"{run_file} is not a ganzoo run file (no 'family')")
    return settings


def _has_checkpoint(path):
    return bool(list_checkpoints(os.path.join(path, BACKUP_DIR)))


# What a run writes in its folder, besides its two presets (`preset/`, `best/`): the
# patterns match "/"-separated paths relative to the run folder, one part per part.
_RUN_FILES = (
    (RUN_FILE,), (LOCK_FILE,), ("history.csv",),
    (BACKUP_DIR, re.compile(r"^epoch-\d{4,}\.(weights\.h5|json)$")),
    ("samples", re.compile(r"^(epoch_\d{4,}|final)\.png$")),
    ("logs", re.compile(r"^events\.out\.tfevents\.")),
    ("logs", re.compile(r"^\w+$"), re.compile(r"^events\.out\.tfevents\.")),
)


def owned_run_files(path):
    """A test of the "/"-separated paths in run folder `path`: True for what the run wrote.

    Those are `run.json`, the lock, `history.csv`, the checkpoints in `backup/`, the grids
    in `samples/`, TensorBoard's event files in `logs/` and the files of the presets
    `preset/` and `best/` (`ganzoo.presets.owned_files`). A run folder holding anything
    else (a picture saved into `samples/`, notes) is not replaced, even with `overwrite`.
    """
    path = Path(path)
    preset_files = {}

    def owns(relative):
        parts = relative.split("/")
        if parts[0] in (PRESET_DIR, BEST_DIR) and len(parts) > 1:
            if parts[0] not in preset_files:
                preset_files[parts[0]] = presets.owned_files(path / parts[0])
            return preset_files[parts[0]]("/".join(parts[1:]))
        return any(
            len(pattern) == len(parts) and all(
                part == expected if isinstance(expected, str) else bool(expected.match(part))
                for part, expected in zip(parts, pattern)
            )
            for pattern in _RUN_FILES
        )

    return owns


def _check_run_files(path):
    """Refuse, in one line, to replace run folder `path` if it holds files of the user's."""
    _atomic.check_owned(path, owned_run_files(path), "run folder", option="--overwrite",
                        instead="choose another --out")


def _never_trained(path):
    """A run folder whose run never finished an epoch nor saved a preset."""
    return (is_run_folder(path) and not _has_checkpoint(path)
            and not (Path(path) / PRESET_DIR).exists())


class RunLock:
    """An exclusive `flock` on a run folder's lock file, released on close or on death."""

    def __init__(self, folder):
        import fcntl

        self.path = os.path.join(folder, LOCK_FILE)
        with _atomic.writing(self.path):
            self._handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._handle.seek(0)
            owner = self._handle.read().strip() or "unknown"
            self._handle.close()
            raise ValueError(
                f"{folder} is in use by another ganzoo run (pid {owner}); wait for it to "
                "finish or choose another --out"
            ) from None
        try:
            with _atomic.writing(self.path):  # unbuffered: nothing left to fail on close
                os.ftruncate(self._handle.fileno(), 0)
                os.pwrite(self._handle.fileno(), str(os.getpid()).encode(), 0)
        except OSError:
            self._handle.close()
            raise

    def release(self):
        if self._handle is not None and not self._handle.closed:
            self._handle.close()


def _check_writable(path):
    """One clear line when a run folder cannot be created or written."""
    probe = Path(path)
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ValueError(f"Cannot create the run folder {path}: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"Cannot write to {probe}: permission denied (choose another --out)")


# -- planning (no TensorFlow) -------------------------------------------------------------


def _compile(model, settings):
    """`model.compile` with the run's augmentation and --compile-option values; an option
    the family does not take (or a bad value) is one line naming the family."""
    options = settings.get("compile_options") or {}
    try:
        model.compile(augment=settings.get("augment"), **options)
    except (TypeError, ValueError) as error:
        if not options:
            raise
        raise ValueError(
            f"Bad --compile-option for {settings['family']} "
            f"({', '.join(f'{key}={value!r}' for key, value in options.items())}): "
            f"{str(error).splitlines()[0]}") from None


def _growing(model, images, progressive_growing):
    """`[progressive_growing]` spread over the run's `images` for a model built with
    `progressive=True` (`--model-option progressive=true`), else `[]`."""
    if not getattr(model, "progressive", False):
        return []
    growing = progressive_growing.spread_over(images, model.image_shape[0])
    return [] if growing is None else [growing]


def _data_options(family_class, settings):
    """`{"data_b": ...}` for a family trained on two datasets (its `training_data` takes
    `data_b`: cyclegan), `{}` without --data-b; --data-b for any other family is one line."""
    data_b = settings.get("data_b")
    if data_b is None:
        return {}
    if "data_b" not in inspect.signature(family_class.training_data).parameters:
        # Lazy: ganzoo.models imports TensorFlow; only a run that trains reaches here.
        from ganzoo import models

        takers = [name for name in models.names()
                  if "data_b" in inspect.signature(models.get(name).training_data).parameters]
        raise ValueError(f"{settings['family']} trains on one dataset; --data-b is for "
                         f"{', '.join(takers)}")
    return {"data_b": data_b}


def plan_run(family, data, out=None, *, data_b=None, epochs=None, steps=None,
             batch_size=None, image_size=None, latent_dim=None, model_options=None,
             compile_options=None, preset=None, seed=None,
             samples=None, deterministic=False, lr_factor=None, augment=None, eval_every=None,
             eval_data=None, eval_metrics=None, eval_n=None, features=None, health=True,
             stop_on_collapse=False, precision=None, distribute="auto", overwrite=False,
             log=None):
    """Check the settings and the run folder of a new run; nothing is written yet.

    Args:
        family: str. Registered family name (`ganzoo.models.names()`).
        data: str or path. Training data, as `ganzoo.data.load` takes it (cyclegan: the
            A images).
        out: str, path or None. Run folder; `runs/FAMILY-YYYYmmdd-HHMMSS` when None.
        data_b: str, path or None. The B images of families trained on two unpaired
            datasets (cyclegan).
        epochs: int or None. Epochs (one pass over the data each); 1 when neither this
            nor `steps` is given.
        steps: int or None. Training steps, split into epochs of about one pass.
        batch_size: int or None. Defaults to the family's `default_batch_size` (64; 160 for
            wgan_gp, whose batch holds its 5 critic steps).
        image_size: int or None. Defaults to the family's `default_image_size` (32 for
            most; the high-resolution patch for srgan), or the preset's size.
        latent_dim: int or None. Defaults to the family's.
        model_options: dict or None. Further constructor arguments of the family.
        compile_options: dict or None. Arguments of the family's `compile`: the loss
            (`loss="hinge"`), its weights (`r1_gamma`, `gp_weight`, `cycle_weight`, ...)
            and optimizers by name (`g_optimizer="rmsprop"`, or a Keras optimizer config
            such as `{"class_name": "Adam", "config": {"learning_rate": 1e-4}}`).
            Recorded in run.json and used again by `plan_resume`; an option the family
            does not take stops the run in one line before any training.
        preset: str or None. Start from this preset's weights (fine-tuning).
        seed: int or None. Seed of the data order, initial weights and noise. Defaults to 0.
        samples: int or None. Samples per grid. Defaults to 64.
        deterministic: bool. Enable TensorFlow's op determinism, so a run repeats (and a
            resumed run equals an uninterrupted one) exactly. Slower. Defaults to False.
        lr_factor: float or None. Multiplies the learning rates of the family's
            optimizers. Defaults to 1.
        augment: str or None. `compile(augment=...)`: "none", "diffaugment", "ada" or a
            DiffAugment policy ("color,translation"). Defaults to None (none).
        eval_every: int or None. Measure quality every this many steps
            (`ganzoo.training.EvaluateEvery`), log it and keep the best model in
            `RUN/best/`. Defaults to None (never).
        eval_data: str or None. Reference images ("NAME:SPLIT" picks a split). Defaults
            to the training data's "test" split where it has one, else the training data.
        eval_metrics: str or None. Some of fid, kid, pr, acc; the first picks `best/`.
            Defaults to "fid".
        eval_n: int or None. Images per evaluation. Defaults to 500.
        features: str or None. Feature extractor of the evaluation. Defaults to "digits".
        health: bool. Watch for an overpowering discriminator, collapse and exploding
            losses (`ganzoo.training.HealthMonitor`); warnings go to the log and run.json.
            Defaults to True.
        stop_on_collapse: bool. End the run cleanly when the samples collapse (the preset
            and `best/` are kept). Defaults to False.
        precision: str or None. "float32", "mixed_float16" or "mixed_bfloat16": the
            dtype policy the model is built with (`ganzoo.precision`); recorded, and kept
            by `plan_resume`. Defaults to float32.
        distribute: str. `ganzoo.training.strategy` kind. Defaults to "auto".
        overwrite: bool. Replace an existing run folder. Defaults to False.
        log: callable or None. Receives progress lines (default: standard error).

    Returns:
        A `TrainingRun`; call `.train()`.
    """
    settings = {
        "family": family, "data": data, "data_b": data_b, "epochs": epochs, "steps": steps,
        "batch_size": batch_size, "image_size": image_size, "latent_dim": latent_dim,
        "model_options": dict(model_options) if model_options else None,
        "compile_options": dict(compile_options) if compile_options else None,
        "preset": preset,
        "seed": seed, "samples": samples, "deterministic": bool(deterministic),
        "lr_factor": lr_factor, "augment": augment, "eval_every": eval_every,
        "eval_data": eval_data, "eval_metrics": eval_metrics, "eval_n": eval_n,
        "features": features, "health": True if health is None else bool(health), "stop_on_collapse": bool(stop_on_collapse),
        "precision": precision,
    }
    _check_positive(settings, ("epochs", "steps", "batch_size", "image_size", "latent_dim",
                               "samples", "eval_every", "eval_n"))
    _check_monitoring(settings)
    _validation.check_seed(settings["seed"])
    _check_lr_factor(lr_factor)
    if precision is not None:
        precision_lib.check(precision)
    if epochs and steps:
        raise ValueError("Give either epochs (--epochs) or steps (--steps), not both")
    if data is None or data == "":
        raise ValueError("train needs data (--data SOURCE: a bundled dataset, TFDS name or folder)")
    if not isinstance(data, (str, os.PathLike)):
        raise ValueError(
            "A run records its data by name: give a bundled dataset, TFDS name or folder "
            f"(use model.fit directly for arrays). Received: data of type {type(data).__name__}"
        )
    settings["data"] = os.fspath(data)
    if data_b is not None:
        if not isinstance(data_b, (str, os.PathLike)) or data_b == "":
            raise ValueError(
                f"data_b (--data-b) must name a dataset or folder. Received: {data_b!r}")
        settings["data_b"] = os.fspath(data_b)
        if _same_source(settings["data"], settings["data_b"]):
            raise ValueError(
                f"--data and --data-b name the same images ({settings['data']}): "
                f"{family} would learn to leave them as they are; give two different domains")
    for key, own in _OWN_OPTIONS.items():
        if key in (settings["model_options"] or {}):
            raise ValueError(
                f"Set {key} with --{own.replace('_', '-')}, not --model-option "
                f"(it would conflict with it). Received: model option {key}="
                f"{settings['model_options'][key]!r}"
            )
    for key, own in _OWN_COMPILE_OPTIONS.items():
        if key in (settings["compile_options"] or {}):
            raise ValueError(
                f"Set {key} with --{own.replace('_', '-')}, not --compile-option. "
                f"Received: compile option {key}={settings['compile_options'][key]!r}"
            )
    if preset:
        _merge_preset(settings)
    if not epochs and not steps:
        settings["epochs"] = 1
    for key, default in DEFAULTS.items():
        if settings[key] is None:
            settings[key] = default
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{family}-{stamp}"
    path = Path(os.fspath(out)).expanduser()
    replace = False
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is a file, not a run folder")
    if path.is_dir() and any(name != LOCK_FILE for name in os.listdir(path)):
        if not is_run_folder(path):
            raise ValueError(
                f"{path} is not empty and is not a ganzoo run folder (no {RUN_FILE}): "
                "refusing to replace it; choose another --out"
            )
        if not _never_trained(path) and not overwrite:
            raise FileExistsError(
                f"{path} already exists; pass --resume to continue it or --overwrite to "
                "replace it"
            )
        _check_run_files(path)
        replace = True
    _check_writable(path)
    return TrainingRun(path, settings, resuming=False, replace=replace,
                       distribute=distribute, log=log)


def _merge_preset(settings):
    """Take the preset's image size; refuse what would change its architecture."""
    config = presets.read_config(settings["preset"])
    if config["family"] != settings["family"]:
        raise ValueError(
            f"Preset {settings['preset']!r} is a {config['family']!r} model, "
            f"not {settings['family']!r}"
        )
    size = config["image_shape"][0]
    if settings["image_size"] is not None and settings["image_size"] != size:
        raise ValueError(
            f"Preset {settings['preset']!r} makes {size}x{size} images; it cannot train at "
            f"--image-size {settings['image_size']}"
        )
    settings["image_size"] = size
    if settings["latent_dim"] is not None and settings["latent_dim"] != config["latent_dim"]:
        raise ValueError(
            f"Preset {settings['preset']!r} has latent size {config['latent_dim']}; "
            f"--latent-dim {settings['latent_dim']} would change its architecture"
        )
    if settings["model_options"]:
        raise ValueError(
            f"--model-option cannot change the architecture of preset {settings['preset']!r}"
            f". Received: {sorted(settings['model_options'])}"
        )


def _same_source(a, b):
    """True when two data sources name the same images (the same name, or one folder)."""
    if a == b:
        return True
    try:
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def _check_monitoring(settings):
    """Augmentation and evaluation settings, checked without TensorFlow."""
    augment = settings["augment"]
    if augment is not None and not isinstance(augment, str):
        raise ValueError(
            "A run records its augmentation by name: give none, diffaugment, ada or a "
            f"DiffAugment policy. Received: augment of type {type(augment).__name__}")
    if augment is not None and augment.strip().lower() == "none":
        settings["augment"] = None
    given = [f"--{key.replace('_', '-')}" for key in ("eval_data", "eval_metrics", "eval_n",
                                                      "features")
             if settings[key] is not None]
    if given and not settings["eval_every"]:
        raise ValueError(f"{', '.join(given)} set(s) up evaluation while training: add "
                         "--eval-every N (steps)")
    if settings["eval_metrics"] is not None:
        metrics = parse_metrics(settings["eval_metrics"])
        unknown = [name for name in metrics if name not in ("fid", "kid", "pr", "acc")]
        if unknown:
            raise ValueError(f"--eval-metrics takes some of fid, kid, pr, acc while training. "
                             f"Received: {settings['eval_metrics']!r}")
        settings["eval_metrics"] = ",".join(metrics)
    if settings["features"] is not None:
        if settings["features"] not in list_extractors():
            raise ValueError(f"Unknown --features {settings['features']!r}; expected one of "
                             f"{', '.join(list_extractors())}")
    if settings["eval_data"] is not None and (not isinstance(settings["eval_data"], (str, os.PathLike))
                                              or settings["eval_data"] == ""):
        raise ValueError(f"eval_data (--eval-data) must name a dataset or folder. Received: "
                         f"{settings['eval_data']!r}")
    if settings["eval_data"] is not None:
        settings["eval_data"] = os.fspath(settings["eval_data"])


def _check_positive(settings, keys):
    for key in keys:
        if settings[key] is not None:
            _validation.check_count(settings[key], key)


def _check_lr_factor(factor):
    if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float))
                               or not math.isfinite(factor) or factor <= 0):
        raise ValueError(f"lr_factor must be a positive number. Received: lr_factor={factor!r}")


def plan_resume(out, *, distribute="auto", lr_factor=None, log=None, **given):
    """Plan to continue the run in `out` from its newest good checkpoint.

    Args:
        out: str or path. The run folder.
        distribute: str. May differ from the original run's.
        lr_factor: float or None. Multiplies the restored learning rates (e.g. 0.5 after
            the run diverged).
        log: as in `plan_run`.
        **given: settings given again (as `plan_run` takes them); each must equal the
            run's own, since a resumed run continues with its settings.
    """
    if not out:
        raise ValueError("resume needs the run folder (--out RUN_DIR)")
    path = Path(os.fspath(out)).expanduser()
    if not (path / RUN_FILE).is_file():
        raise ValueError(f"Cannot resume: {path} has no {RUN_FILE} (not a ganzoo run folder)")
    saved = read_settings(path)
    for key, default in DEFAULTS.items():
        saved.setdefault(key, default)
    for key, value in given.items():
        if key not in SETTINGS:
            raise ValueError(f"Unknown run setting {key!r}")
        if value is not None and value is not False and value != saved.get(key):
            raise ValueError(
                f"--resume continues {path} with its own settings; "
                f"{key}={value!r} differs from the run's {saved.get(key)!r}"
            )
    _check_lr_factor(lr_factor)
    if (path / PRESET_DIR).exists() and not _has_checkpoint(path):
        raise ValueError(f"Cannot resume: {path} has finished (its preset is written)")
    _check_writable(path)
    run = TrainingRun(path, saved, resuming=True, replace=False, distribute=distribute,
                      log=log)
    run.lr_change = lr_factor
    return run


# -- the run ------------------------------------------------------------------------------


class TrainingRun:
    """A planned run: `train()` builds the model and data, then fits and saves.

    Made by `plan_run` or `plan_resume`.
    """

    def __init__(self, path, settings, resuming, replace, distribute, log):
        self.path = Path(path)
        self.settings = settings
        self.resuming = resuming
        self.replace = replace
        self.distribute = distribute
        self.log = log or _stderr_log
        self.lr_change = None
        self._locks = []
        self._created = False

    # The steps of `train`, each small enough to read on its own.

    def train(self, callbacks=(), verbose="auto"):
        """Run to the end; returns a `RunResult`.

        Args:
            callbacks: extra `keras.callbacks.Callback`s, after ganzoo's own.
            verbose: "auto", 0, 1 or 2, as in `fit` ("auto": a progress bar on a terminal,
                one line per epoch otherwise).
        """
        import tensorflow as tf

        task = peers.task_of() if self.distribute == "multiworker" else None
        is_chief = task is None or task[2]
        strategy = training.strategy(self.distribute)
        if self.settings["deterministic"]:
            tf.config.experimental.enable_op_determinism()
        model, dataset, epochs, steps_per_epoch = self._build(strategy)
        folder = self._open_folder(is_chief)
        try:
            return self._fit_and_finish(folder, model, dataset, epochs, steps_per_epoch,
                                        strategy, callbacks, verbose, is_chief)
        finally:
            self._release()
            if not is_chief:
                shutil.rmtree(folder, ignore_errors=True)

    def _build(self, strategy):
        """The compiled model and the training data, before any file is touched."""
        import keras

        # Lazy: ganzoo.models imports TensorFlow; planning a run checks everything without it.
        from ganzoo import models

        settings = self.settings
        family_class = models.get(settings["family"])
        if settings.get("batch_size") is None:
            settings["batch_size"] = family_class.default_batch_size
        if settings.get("image_size") is None:
            settings["image_size"] = family_class.default_image_size
        data_options = _data_options(family_class, settings)
        description = family_class.describe_training_data(
            settings["data"], image_size=settings["image_size"], **data_options)
        image_shape = (settings["image_size"], settings["image_size"], description["channels"])
        keras.utils.set_random_seed(settings["seed"])
        precision = settings.get("precision") or precision_lib.DEFAULT
        precision_lib.check_devices(precision)
        with strategy.scope(), precision_lib.policy(precision):
            if settings["preset"]:
                model = family_class.from_preset(settings["preset"])
                if tuple(model.image_shape) != image_shape:
                    raise ValueError(
                        f"Preset {settings['preset']!r} makes {model.image_shape[2]}-channel "
                        f"{model.image_shape[0]}x{model.image_shape[1]} images; "
                        f"{settings['data']} gives {description['channels']}-channel ones"
                    )
                model.noise_seeds.state.assign([settings["seed"], 0])
            else:
                kwargs = {"image_shape": image_shape, "seed": settings["seed"]}
                if settings["latent_dim"]:
                    kwargs["latent_dim"] = settings["latent_dim"]
                if getattr(family_class, "conditional", False):
                    kwargs["num_classes"] = _num_classes(settings, description)
                kwargs.update(settings["model_options"] or {})
                try:
                    model = family_class(**kwargs)
                except TypeError as error:
                    raise ValueError(
                        f"Bad --model-option for {settings['family']}: {error}") from None
                except ValueError as error:
                    # Keras refuses unknown constructor keywords with a ValueError.
                    if "Unrecognized keyword arguments" not in str(error):
                        raise
                    raise ValueError(
                        f"Bad --model-option for {settings['family']}: {error}") from None
            # A family conditional by class, or an instance made conditional by its
            # arguments (sagan with num_classes), trains on (images, labels).
            conditional = bool(getattr(model, "conditional", False))
            if conditional:
                _check_classes(settings, description, model.num_classes)
            if conditional and description.get("class_names"):
                model.class_names = list(description["class_names"])
            _compile(model, settings)
            _scale_learning_rates(model, settings["lr_factor"])
        epochs, steps_per_epoch = schedule(settings, description)
        dataset = model.training_data(
            settings["data"], image_size=settings["image_size"],
            batch_size=settings["batch_size"], seed=settings["seed"], repeat=True,
            **data_options,
        )
        if model.task == _tasks.IMAGE_TO_IMAGE:
            model.remember_preview(next(iter(dataset)))
        return model, dataset, epochs, steps_per_epoch

    def _open_folder(self, is_chief):
        """Lock the run folder (creating or replacing it); returns the folder to write.

        Workers other than the chief write to a temporary folder of their own.
        """
        if not is_chief:
            folder = Path(tempfile.mkdtemp(prefix="ganzoo-worker-run-"))
            self._locks.append(RunLock(folder))
            return folder
        path = self.path
        try:
            if self.replace and path.exists():
                self._locks.append(RunLock(path))
                _check_run_files(path)
                staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
                self._locks.append(RunLock(staging))
                retired = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
                os.rmdir(retired)
                os.rename(path, retired)
                os.rename(staging, path)
                shutil.rmtree(retired, ignore_errors=True)
                self._created = True
                self.log(f"replaced the earlier run in {path}")
            else:
                self._created = not path.exists()
                path.mkdir(parents=True, exist_ok=True)
                self._locks.append(RunLock(path))
                if not self.resuming and is_run_folder(path):
                    raise FileExistsError(
                        f"{path} already exists; pass --resume to continue it or "
                        "--overwrite to replace it"
                    )
            if not self.resuming:
                _atomic.write_json(path / RUN_FILE, dict(self.settings, format=RUN_FORMAT,
                                                   distribute=self.distribute))
        except BaseException:
            self._release()
            if self._created:  # nothing of value in it yet (run.json could not be written)
                shutil.rmtree(path, ignore_errors=True)
            raise
        return path

    def _fit_and_finish(self, folder, model, dataset, epochs, steps_per_epoch, strategy,
                        extra_callbacks, verbose, is_chief):
        import keras

        # Lazy: callbacks and checkpoints import TensorFlow, which planning must not start.
        from ganzoo.training import callbacks as callbacks_lib
        from ganzoo.training import checkpoints

        settings = self.settings
        backup = folder / BACKUP_DIR
        initial_epoch = 0
        if self.resuming:
            state = checkpoints.restore_latest(model, backup, log=self.log)
            if state is None:
                self.log(f"nothing to resume in {folder} (no epoch finished): starting it again")
            else:
                initial_epoch = int(state["epoch"])
                self.log(f"resuming {folder} after epoch {initial_epoch} of {epochs}")
            if self.lr_change:
                _scale_learning_rates(model, self.lr_change)
                self.settings["lr_factor"] = settings["lr_factor"] * self.lr_change
                _atomic.write_json(folder / RUN_FILE, dict(self.settings, format=RUN_FORMAT,
                                                     distribute=self.distribute))
        if initial_epoch:
            # Continue the data stream where the checkpoint left it.
            dataset = dataset.skip(initial_epoch * steps_per_epoch)
        callbacks = [
            checkpoints.NonFiniteGuard(lambda: _resume_advice(folder)),
            # Schedules first, so that what they log (learning rates, lod) reaches the
            # TensorBoard and CSV loggers: the family's paper schedule, where it has one
            # (cyclegan: LinearDecay, srgan: StepDecay), and progressive growing.
            *(model.default_callbacks(epochs) if hasattr(model, "default_callbacks") else ()),
            *_growing(model, epochs * steps_per_epoch * settings["batch_size"],
                      callbacks_lib.ProgressiveGrowing),
            *self._monitoring_callbacks(model, folder, is_chief),
            callbacks_lib.SampleGrid(folder / "samples", n=settings["samples"], seed=0),
            keras.callbacks.TensorBoard(str(folder / "logs"), write_graph=False),
            callbacks_lib.TensorBoardImages(str(folder / "logs"),
                                            n=min(settings["samples"], 16)),
            keras.callbacks.CSVLogger(str(folder / "history.csv"), append=True),
            checkpoints.RunCheckpoint(backup, steps_per_epoch),
            *extra_callbacks,
        ]
        self.log(
            f"training {settings['family']} on {settings['data']} {tuple(model.image_shape)} "
            f"for {epochs} epoch(s) x {steps_per_epoch} steps, batch {settings['batch_size']}, "
            f"{strategy.num_replicas_in_sync} replica(s)"
        )
        if verbose == "auto":
            verbose = 1 if sys.stderr.isatty() else 2
        try:
            history = model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch,
                                steps_per_epoch=steps_per_epoch, callbacks=callbacks,
                                shuffle=False, verbose=verbose)
        except BaseException as error:
            self._after_failure(folder)
            raise _explained(error, settings, folder) from None
        logged = dict(getattr(history, "history", None) or {})
        ran = len(next(iter(logged.values()))) if logged else epochs - initial_epoch
        epochs_done = initial_epoch + ran
        stopped = epochs_done < epochs
        if stopped:
            kept = [f"the checkpoints before it in {backup}"]
            if (folder / BEST_DIR).exists():
                kept.insert(0, f"the best model so far in {folder / BEST_DIR}")
            self.log(f"stopped after epoch {epochs_done} of {epochs}: the samples collapsed "
                     f"(--stop-on-collapse); kept {' and '.join(kept)}")
        model.save_to_preset(
            folder / PRESET_DIR, overwrite=True, preset_name=self.path.name,
            data=settings["data"], epochs=epochs_done, steps_per_epoch=steps_per_epoch,
            batch_size=settings["batch_size"], seed=settings["seed"],
            started_from=settings["preset"], replicas=strategy.num_replicas_in_sync,
        )
        final_grid = folder / "samples" / "final.png"
        _imaging.save_png(_imaging.grid(model.preview(settings["samples"], seed=0)), final_grid)
        if not stopped:
            shutil.rmtree(backup, ignore_errors=True)
        return RunResult(path=self.path, preset=self.path / PRESET_DIR,
                         samples=self.path / "samples" / "final.png", epochs=epochs,
                         steps_per_epoch=steps_per_epoch,
                         history=dict(getattr(history, "history", {}) or {}),
                         is_chief=is_chief)

    def _monitoring_callbacks(self, model, folder, is_chief):
        """EvaluateEvery (with --eval-every) and HealthMonitor (unless health=False),
        placed before the loggers so that history.csv and TensorBoard get their figures."""
        import numpy as np

        # Lazy: the monitor imports TensorFlow, which planning must not start.
        from ganzoo.training import monitor

        settings = self.settings
        found = []
        if settings.get("eval_every"):
            data, split = _evaluation_data(settings)
            found.append(monitor.EvaluateEvery(
                data, split=split, every_n_steps=settings["eval_every"],
                metrics=settings.get("eval_metrics") or DEFAULTS["eval_metrics"],
                n=settings.get("eval_n") or DEFAULTS["eval_n"],
                features=settings.get("features") or DEFAULTS["features"],
                image_size=settings["image_size"], best_dir=folder / BEST_DIR,
                log_dir=str(folder / "logs"), seed=settings["seed"], write=is_chief,
                log=self.log if is_chief else (lambda line: None)))
        if settings.get("health", True) and model.task == _tasks.NOISE_TO_IMAGE:
            # (images, labels) for conditional models: the accuracy check needs both. From
            # a pipeline of its own: a second iterator over the training dataset would
            # change the order a resumed run reads it in.
            batch = next(iter(model.training_data(
                settings["data"], image_size=settings["image_size"],
                batch_size=settings["batch_size"], seed=settings["seed"] + 1)))
            real = (tuple(np.asarray(part) for part in batch)
                    if isinstance(batch, (tuple, list)) else np.asarray(batch))
            found.append(monitor.HealthMonitor(
                real, stop_on_collapse=settings.get("stop_on_collapse", False),
                record=lambda event: self._record_health(folder, event, is_chief)))
        return found

    def _record_health(self, folder, event, is_chief):
        """Show a health warning in the log and keep it in run.json."""
        self.log(f"warning: {event['message']}")
        if not is_chief:
            return
        self.settings.setdefault("health_events", []).append(
            {key: event[key] for key in ("step", "kind", "message") if key in event})
        _atomic.write_json(folder / RUN_FILE, dict(self.settings, format=RUN_FORMAT,
                                                   distribute=self.distribute))

    def _after_failure(self, folder):
        """Remove a folder this run created when nothing in it can be resumed."""
        if self._created and not _has_checkpoint(folder) and not (folder / PRESET_DIR).exists():
            self._release()
            shutil.rmtree(folder, ignore_errors=True)
            self.log(f"removed {folder}: the run failed before its first epoch ended")

    def _release(self):
        for lock in self._locks:
            lock.release()
        self._locks = []


def _resume_advice(folder):
    """What to do after a divergence, given the checkpoints kept so far."""
    kept = list_checkpoints(folder / BACKUP_DIR)
    if not kept:
        return ("No epoch had finished, so nothing was kept: start again with a lower "
                "learning rate (--lr-factor 0.5)")
    return (f"The last good checkpoint (after epoch {kept[0]}) is kept in "
            f"{folder / BACKUP_DIR}: continue with a lower learning rate: "
            f"ganzoo train --out {folder} --resume --lr-factor 0.5")


def _explained(error, settings, folder):
    """The error to show for a failure inside `fit`: one clear line where we know why."""
    import tensorflow as tf

    if isinstance(error, tf.errors.ResourceExhaustedError) or isinstance(error, MemoryError):
        return ValueError(
            f"out of memory training at image size {settings['image_size']} with batch "
            f"{settings['batch_size']}: use a smaller --batch-size or --image-size"
        )
    return error


def _evaluation_data(settings):
    """(source, split) of the reference images of --eval-every: --eval-data (NAME:SPLIT
    picks a split), else the training data's "test" split where it has one."""
    if settings.get("eval_data"):
        return parse_data_spec(settings["eval_data"], "train")
    try:
        data_lib.describe(settings["data"], "test")
    except ValueError:
        return settings["data"], "train"
    return settings["data"], "test"


def _check_classes(settings, description, num_classes):
    """A conditional model must have as many classes as the data: one line otherwise."""
    count = description.get("num_classes")
    if not count or num_classes is None or int(num_classes) == int(count):
        return
    names = description.get("class_names") or []
    shown = f" ({', '.join(map(str, names[:10]))}{', ...' if len(names) > 10 else ''})" \
        if names else ""
    if settings.get("preset"):
        raise ValueError(
            f"Preset {settings['preset']!r} has {num_classes} classes; {settings['data']} has "
            f"{count}{shown}: a conditional preset fine-tunes on data with the same classes")
    raise ValueError(
        f"num_classes={num_classes} does not match the {count} classes of "
        f"{settings['data']}{shown}: leave num_classes out, it is taken from the data")


def _num_classes(settings, description):
    """The class count a conditional family is built with: the data's."""
    count = description.get("num_classes")
    if not count:
        raise ValueError(
            f"{settings['family']} is conditional and needs labelled data; "
            f"{settings['data']} has no labels (use a folder with one sub-folder per class)"
        )
    return int(count)


def _scale_learning_rates(model, factor):
    if factor in (None, 1, 1.0):
        return
    import keras

    for optimizer in model.optimizers().values():
        current = optimizer.learning_rate
        if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError("lr_factor cannot rescale a learning-rate schedule")
        optimizer.learning_rate = float(keras.ops.convert_to_numpy(current)) * factor


def schedule(settings, description):
    """(epochs, steps_per_epoch) a run with `settings` trains for, given the data's size.

    `description` is `ganzoo.data.describe(settings["data"])`; an epoch is at least
    `MIN_EPOCH_IMAGES` images, small data repeated.
    """
    num_examples = description["num_examples"]
    if num_examples is None:
        raise ValueError(
            f"{settings['data']} does not say how many images it has; prepare it first "
            "(it may not be downloaded)"
        )
    per_pass = num_examples // settings["batch_size"]
    if per_pass < 1:
        raise ValueError(
            f"--batch-size {settings['batch_size']} is larger than the {num_examples} "
            f"images of {settings['data']}"
        )
    # Small data is repeated within an epoch (the data stream repeats forever).
    per_pass = max(per_pass, math.ceil(MIN_EPOCH_IMAGES / settings["batch_size"]))
    if settings["steps"]:
        return split_steps(settings["steps"], per_pass)
    return settings["epochs"], per_pass


def split_steps(steps, per_pass):
    """(epochs, steps_per_epoch) close to one pass over the data per epoch.

    Prefers an exact split of `steps`; when none is near, rounds the total up by less
    than one step per epoch.
    """
    fewest = math.ceil(steps / per_pass)
    for epochs in range(fewest, 2 * fewest + 1):
        if steps % epochs == 0:
            return epochs, steps // epochs
    return fewest, math.ceil(steps / fewest)
