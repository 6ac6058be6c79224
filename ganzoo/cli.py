"""The `ganzoo` command: list, train, sample and export GANs.

Errors print one line to stderr and exit with status 2; `--debug` shows tracebacks and
TensorFlow's own logs.
"""

import contextlib
import json
import os
import sys
import warnings

import click
import numpy as np

from ganzoo import _atomic, _imaging, _sampling, _walks
from ganzoo import export as export_lib
from ganzoo import images as images_lib
from ganzoo import presets, sources
from ganzoo._version import __version__
from ganzoo.export import bench as bench_lib
from ganzoo.metrics import evaluation
from ganzoo.training import peers
from ganzoo.training import run as run_lib

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A problem with what the user asked for: one line, exit status 2."""

    exit_code = EXIT_USAGE

    def show(self, file=None):
        click.echo(f"ganzoo: error: {self.format_message()}", err=True)


def _state(ctx):
    return ctx.find_root().obj


def _info(message):
    click.echo(f"ganzoo: {message}", err=True)


@contextlib.contextmanager
def _stderr_silenced(active):
    """Hide what C++ libraries write to fd 2 (TensorFlow's start-up notices)."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _load_tensorflow(debug):
    """Import TensorFlow quietly unless debugging; returns the module."""
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore")
    with _stderr_silenced(not debug):
        import tensorflow as tf

        tf.config.list_physical_devices()
    if not debug:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
        tf.get_logger().setLevel("ERROR")
    return tf


def _run_guarded(function, debug):
    """Turn expected failures into one-line errors (exit 2) unless debugging."""
    try:
        return function()
    except click.ClickException:
        raise
    except (ValueError, OSError, RuntimeError, MemoryError) as error:
        if debug:
            raise
        raise UserError(_one_line(error)) from None
    except Exception as error:
        # TensorFlow's own errors (tf.errors.OpError) are none of the above.
        if debug or not _is_tensorflow_error(error):
            raise
        raise UserError(_tensorflow_line(error)) from None
    except KeyboardInterrupt:
        if debug:
            raise
        raise UserError("interrupted") from None


def _is_tensorflow_error(error):
    return any(cls.__name__ == "OpError" and cls.__module__.startswith("tensorflow")
               for cls in type(error).__mro__)


def _tensorflow_line(error):
    """One line for a TensorFlow error: what ran out or failed, and what to reduce."""
    text = (getattr(error, "message", None) or str(error)).strip()
    first = text.splitlines()[0] if text else ""
    if type(error).__name__ == "ResourceExhaustedError":
        return (f"out of memory ({first[:160]}): use smaller widths (--model-option "
                "*_filters=...), a smaller --batch-size or --image-size")
    return f"TensorFlow {type(error).__name__}: {first[:300]} (--debug shows the traceback)"


def _one_line(error):
    """The first line of an error's message, with the file and reason of OS errors."""
    if isinstance(error, MemoryError):
        return "out of memory: ask for less (fewer samples, a smaller batch or image size)"
    if isinstance(error, OSError) and error.strerror:
        if error.filename:
            return f"{error.strerror}: {error.filename}"
        return error.strerror
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and TensorFlow logs.")
@click.version_option(package_name="ganzoo", message="ganzoo %(version)s")
@click.pass_context
def main(ctx, debug):
    """ganzoo: train, sample, export and run GANs."""
    ctx.obj = {"debug": debug}


# -- list -----------------------------------------------------------------------------


@main.command("list")
@click.pass_context
def list_command(ctx):
    """List presets and model families."""
    debug = _state(ctx)["debug"]

    def run():
        click.echo("Presets:")
        names = presets.list_presets()
        for name in names:
            config = presets.read_config(name)
            shape = "x".join(str(v) for v in config["image_shape"])
            click.echo(f"  {name:<24} {config['family']:<14} {shape}")
        if not names:
            click.echo("  (none found)")
        _load_tensorflow(debug)
        # Lazy: ganzoo.models imports TensorFlow, which only the commands that need it start.
        from ganzoo import models

        click.echo("Families:")
        for name in models.names():
            family = models.get(name)
            click.echo(f"  {name:<24} {family.__name__:<14} {family.task}")

    _run_guarded(run, debug)


# -- train ----------------------------------------------------------------------------


@main.command()
@click.argument("family")
@click.option("--data", "data_source", help="Dataset: bundled name, TFDS name or folder.")
@click.option("--data-b", "data_b", help="Second, unpaired dataset (cyclegan: the B images).")
@click.option("--scale", type=click.Choice(["2", "4"]),
              help="Upscaling factor (srgan; a model option).")
@click.option("--epochs", type=click.IntRange(min=1), help="Number of epochs.")
@click.option("--steps", type=click.IntRange(min=1), help="Number of training steps.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (default 64).")
@click.option("--image-size", type=click.IntRange(min=1),
              help="Image size (default 32; srgan: the high-resolution patch).")
@click.option("--latent-dim", type=click.IntRange(min=1), help="Latent size.")
@click.option("--model-option", "model_options", multiple=True, metavar="KEY=VALUE",
              help="Family constructor argument, e.g. generator_filters=32 (repeatable).")
@click.option("--compile-option", "compile_options", multiple=True, metavar="KEY=VALUE",
              help="compile() argument: loss, r1_gamma, gp_weight, cycle_weight, "
                   "g_optimizer=rmsprop, ... (repeatable; values read as JSON).")
@click.option("--preset", help="Start from this preset's weights (fine-tuning).")
@click.option("--distribute", type=click.Choice(["auto", "none", "mirrored", "multiworker"]),
              default="auto", show_default=True)
@click.option("--peer-timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds to wait for the other workers (multiworker; default 300).")
@click.option("--out", "run_dir", type=click.Path(file_okay=False), help="Run folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run folder.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of data and noise (default 0).")
@click.option("--samples", type=click.IntRange(min=1), help="Samples per grid (default 64).")
@click.option("--deterministic", is_flag=True,
              help="TensorFlow op determinism: repeatable runs, exact resume (slower).")
@click.option("--lr-factor", type=click.FloatRange(min=0, min_open=True),
              help="Multiply the learning rates (with --resume: the restored ones).")
@click.option("--augment", metavar="none|diffaugment|ada|POLICY",
              help="Differentiable augmentation of what the discriminator sees, for small "
                   "data: diffaugment, ada, or a DiffAugment policy such as "
                   "color,translation (default none).")
@click.option("--eval-every", type=click.IntRange(min=1), metavar="N",
              help="Measure quality every N steps; keep the best model in RUN/best/.")
@click.option("--eval-data", metavar="DATA",
              help="Reference images of --eval-every (NAME:SPLIT picks a split; default "
                   "the training data's test split, else the training data).")
@click.option("--eval-metrics", metavar="LIST",
              help="Some of fid,kid,pr,acc (default fid); the first picks best/.")
@click.option("--eval-n", type=click.IntRange(min=2), metavar="N",
              help="Images per evaluation (default 500).")
@click.option("--features", help="Feature extractor of --eval-every (default digits).")
@click.option("--stop-on-collapse", is_flag=True,
              help="End the run cleanly when the samples collapse (best/ is kept).")
@click.option("--precision", type=click.Choice(["float32", "mixed_float16", "mixed_bfloat16"]),
              help="Dtype policy of the networks (default float32); mixed_float16 adds "
                   "dynamic loss scaling. Presets are saved in float32.")
@click.option("--no-health", is_flag=True,
              help="Do not watch for collapse, an overpowering discriminator or exploding "
                   "losses.")
@click.pass_context
def train(ctx, family, data_source, data_b, scale, epochs, steps, batch_size, image_size, latent_dim,
          model_options, compile_options, preset, distribute, peer_timeout, run_dir, resume, overwrite, seed,
          samples, deterministic, lr_factor, augment, eval_every, eval_data, eval_metrics,
          eval_n, features, stop_on_collapse, precision, no_health):
    """Train FAMILY on --data and save a preset, sample grids and logs in --out.

    Python: `ganzoo.training.plan_run(FAMILY, DATA, OUT, ...).train()`, or
    `ganzoo.training.plan_resume(OUT).train()` for --resume.
    """
    debug = _state(ctx)["debug"]
    options = _parse_options(model_options, "--model-option")
    if scale is not None:
        if "scale" in options:
            raise UserError("Give the scale once: --scale or --model-option scale=..., not both")
        options["scale"] = int(scale)
    settings = {
        "family": family, "data": data_source, "data_b": data_b, "epochs": epochs,
        "steps": steps, "batch_size": batch_size, "image_size": image_size,
        "latent_dim": latent_dim, "model_options": options or None,
        "compile_options": _parse_options(compile_options, "--compile-option") or None,
        "preset": preset,
        "seed": seed, "samples": samples, "deterministic": deterministic,
        "augment": augment, "eval_every": eval_every, "eval_data": eval_data,
        "eval_metrics": eval_metrics, "eval_n": eval_n, "features": features,
        "stop_on_collapse": stop_on_collapse, "health": False if no_health else None,
        "precision": precision,
    }

    def run():
        common = {"distribute": distribute, "log": _info}
        if resume:
            if overwrite:
                raise ValueError("Give either --resume or --overwrite, not both")
            planned = run_lib.plan_resume(run_dir, lr_factor=lr_factor, **common, **settings)
        else:
            planned = run_lib.plan_run(out=run_dir, overwrite=overwrite, lr_factor=lr_factor,
                                       **common, **settings)
        if distribute == "multiworker":
            # TensorFlow's wait for the other workers cannot be interrupted from inside.
            peers.supervised(lambda: None, timeout=peer_timeout or peers.DEFAULT_TIMEOUT,
                             log=_info)
        _load_tensorflow(debug)
        try:
            result = planned.train()
        except KeyboardInterrupt:
            if debug:
                raise
            raise UserError(_interrupted(planned, family)) from None
        if not result.is_chief:
            click.echo(f"worker finished; the chief writes {result.path}")
            return
        click.echo(f"preset: {result.preset}")
        click.echo(f"samples: {result.samples}")
        click.echo(f"tensorboard: tensorboard --logdir {result.path / 'logs'}")

    _run_guarded(run, debug)


def _interrupted(planned, family):
    """What Ctrl-C during `train` kept, and the command that continues it."""
    kept = run_lib.list_checkpoints(planned.path / run_lib.BACKUP_DIR)
    if not kept:
        return ("interrupted before the first epoch ended: nothing was kept; run the same "
                "command again to start over")
    return (f"interrupted after epoch {kept[0]}: continue with "
            f"ganzoo train {family} --out {planned.path} --resume")


def _parse_options(pairs, flag):
    """KEY=VALUE strings of `flag` to a dict; values are read as JSON when they parse as
    JSON; a key given twice is refused."""
    parsed = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{flag} must be KEY=VALUE. Received: {pair!r}")
        if key.strip() in parsed:
            raise UserError(f"{flag} {key.strip()} is given twice")
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw
    return parsed


# -- noise to image: sample -----------------------------------------------------------


@main.command()
@click.argument("source")
@click.option("-n", "count", type=click.IntRange(min=1),
              help="Number of samples (default 64, or the rows of --latents).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--label", type=int, help="Class to sample (conditional generators).")
@click.option("--truncation", type=float, help="Truncation psi (StyleGAN-lite).")
@click.option("--latents", "latents_path", type=click.Path(exists=True, dir_okay=False),
              help="Render the latents of this .npz (its 'latent' array, and 'label' for "
                   "conditional generators) instead of the seed's.")
@click.option("--save-latents", "save_latents", type=click.Path(dir_okay=False),
              help="Also write the latents (and labels) drawn to this .npz.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
@click.pass_context
def sample(ctx, source, count, seed, label, truncation, latents_path, save_latents, out_path,
           overwrite):
    """Write a grid of samples from a preset, run folder or export bundle.

    Python: `ganzoo.models.load(SOURCE).sample(N, seed=SEED, labels=K, latents=Z)`
    for a preset or run folder, `.load_runtime().sample(N, seed=SEED, labels=K,
    truncation=T, latents=Z)` for a bundle (uint8 NHWC images); `draw_latents(N, SEED)`
    on either gives the latents a seed draws.
    """
    debug = _state(ctx)["debug"]

    def run():
        for path, suffix in ((out_path, ".png"), (save_latents, ".npz")):
            if path is None:
                continue
            if os.path.exists(path) and not overwrite:
                raise FileExistsError(f"{path} already exists; pass --overwrite to replace it")
            if not path.lower().endswith(suffix):
                raise ValueError(f"{'--out' if suffix == '.png' else '--save-latents'} must "
                                 f"be a {suffix} file. Received: {path}")
        given = _read_latents(latents_path, label) if latents_path else {}
        generator, origin = _generator_for(source, debug)
        labels = given.get("labels", label)
        latents = given.get("latents")
        n = count if latents is not None else count or 64  # --latents: its rows
        if latents is None and save_latents:
            latents = generator.draw_latents(n, seed)
        images = generator.sample(n, seed=seed, labels=labels, truncation=truncation,
                                  latents=latents)
        _imaging.save_png(_imaging.grid(images), out_path)
        if save_latents:
            _write_latents(save_latents, latents, _drawn_labels(generator, len(images), labels,
                                                                seed))
        click.echo(f"wrote {len(images)} samples from {origin} to {out_path}"
                   + (f" and their latents to {save_latents}" if save_latents else ""))

    _run_guarded(run, debug)


def _generator_for(source, debug):
    """(what renders SOURCE's images, where they come from): the runtime task object of a
    bundle (no TensorFlow), or the Keras model of a preset or run folder."""
    found = sources.resolve(source)
    if found.kind == sources.BUNDLE:
        generator = found.load_runtime()
        return generator, f"bundle {source} ({generator.provider})"
    _load_tensorflow(debug)
    # Lazy: ganzoo.models imports TensorFlow, which only the commands that need it start.
    from ganzoo import models

    return models.load(found), f"preset {source}"


def _read_latents(path, label):
    """`{"latents": ..., "labels": ...}` of a .npz written by --save-latents (or by hand:
    a 'latent' array, and 'label' for conditional generators); --label overrides its
    labels."""
    try:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"--latents {path} is not a .npz file of arrays ({error})") from None
    if "latent" not in arrays:
        raise ValueError(f"--latents {path} holds no 'latent' array (it has "
                         f"{', '.join(sorted(arrays)) or 'none'})")
    given = {"latents": arrays["latent"]}
    if label is None and "label" in arrays:
        given["labels"] = arrays["label"]
    return given


def _drawn_labels(generator, n, labels, seed):
    """The labels `sample` used for `n` images: given ones, or the seed's (conditional
    generators); None for unconditional ones."""
    num_classes = getattr(generator, "num_classes", None)
    if not num_classes:
        return None
    return _sampling.labels_for(n, num_classes, labels, seed)


def _write_latents(path, latents, labels):
    """The latents (and labels) as a .npz `--latents` reads, written atomically."""
    arrays = {"latent": np.asarray(latents, np.float32)}
    if labels is not None:
        arrays["label"] = np.asarray(labels, np.int32)

    def write(tmp_path):
        with open(tmp_path, "wb") as handle:
            np.savez(handle, **arrays)

    _atomic.replace_file(path, write, suffix=".npz")


@main.command()
@click.argument("source")
@click.option("--seeds", required=True, metavar="S0,S1,...",
              help="The seeds whose latents the walk visits, in order (two or more).")
@click.option("--frames", type=int, default=48, show_default=True,
              help="Frames in all, the first at the first seed, the last at the last.")
@click.option("--method", type=click.Choice(["slerp", "lerp"]),
              help="Path between two seeds' latents (default: slerp in z, lerp in w).")
@click.option("--space", type=click.Choice(["z", "w"]), default="z", show_default=True,
              help="Walk between the seeds' latents z, or between their w (style-based "
                   "generators: StyleGAN-lite).")
@click.option("--label", type=int, help="The class of the whole walk (conditional).")
@click.option("--truncation", type=float, help="Truncation psi (StyleGAN-lite).")
@click.option("--fps", type=click.IntRange(min=1), default=24, show_default=True,
              help="Frames per second of a .gif or .mp4.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="walk.gif (looping), walk.mp4 (needs imageio-ffmpeg) or strip.png.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_context
def interpolate(ctx, source, seeds, frames, method, space, label, truncation, fps, out_path,
                overwrite):
    """Write a latent walk of SOURCE through the latents of --seeds (or their w).

    Python: `ganzoo.models.load(SOURCE).walk(seeds, frames, method=..., space=...)` or
    `.load_runtime().walk(...)` for a bundle: uint8 frames, a batch at a time
    (`space="w"`: stylegan_lite models and bundles).
    """
    debug = _state(ctx)["debug"]

    def run():
        kind = os.path.splitext(out_path)[1].lower()
        if kind not in _WALK_WRITERS:
            raise ValueError(f"--out must be a .gif, .mp4 or .png file. Received: {out_path}")
        if os.path.exists(out_path) and not overwrite:
            raise FileExistsError(f"{out_path} already exists; pass --overwrite to replace it")
        if kind == ".mp4":
            _video_writer()  # refuse before any work when imageio-ffmpeg is missing
        walk_seeds = _parse_seeds(seeds)
        walk_seeds, _, walk_method = _walks.check_walk(walk_seeds, frames, method, space)
        options = {"labels": label}
        if truncation is not None:
            options["truncation"] = truncation
        generator, origin = _generator_for(source, debug)
        if space == "w":
            _check_w_space(generator, origin, "--space w")
            options["space"] = "w"
        # An image-to-image model or bundle has no walk: WrongTask's one line.
        batches = generator.walk(walk_seeds, frames, method=walk_method, **options)
        _WALK_WRITERS[kind](out_path, batches, fps)
        click.echo(f"wrote a {frames}-frame {walk_method} walk in {space} through seeds "
                   f"{','.join(map(str, walk_seeds))} to {out_path}")

    _run_guarded(run, debug)


def _parse_seeds(text, option="--seeds"):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{option} must be integers separated by commas. Received: {text!r}"
                         ) from None


def _check_w_space(generator, origin, what):
    """Refuse in one line a generator without a w space (all but stylegan_lite's models
    and bundles, which `map_to_w`)."""
    if not hasattr(generator, "map_to_w"):  # WrongTask, an AttributeError, on a bundle
        family = getattr(generator, "family", None) or "generator"
        raise ValueError(f"{what} is for style-based generators (stylegan_lite), whose "
                         f"mapping network gives a w space; {origin} is a {family} "
                         "generator without one")


@main.command()
@click.argument("source")
@click.option("--rows", required=True, metavar="S0,S1,...",
              help="Seeds of the rows: they give the coarse styles (two or more).")
@click.option("--cols", "columns", required=True, metavar="S0,S1,...",
              help="Seeds of the columns: they give the other styles (two or more).")
@click.option("--cutoff", type=int, metavar="K",
              help="Styles 0 to K-1 come from the rows, the others from the columns "
                   "(default 4: the 4x4 and 8x8 layers, the paper's coarse styles).")
@click.option("--truncation", type=float, help="Truncation psi of every picture.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_context
def mix(ctx, source, rows, columns, cutoff, truncation, out_path, overwrite):
    """Write the style-mixing figure of a StyleGAN-lite SOURCE (Karras et al. 2019, fig. 3).

    The top row holds the --cols seeds' samples, the left column the --rows seeds'; each
    cell takes its coarse styles (before --cutoff) from its row and the others from its
    column, with its row's noise. A preset, run folder or bundle gives the same pixels
    (within a level).

    Python: `mix = ganzoo.models.load(SOURCE).mix(rows, columns, cutoff=K,
    truncation=T)` (or `.load_runtime().mix(...)` for a bundle), then
    `ganzoo.images.save_png(ganzoo.images.mixing_grid(mix), OUT)`.
    """
    debug = _state(ctx)["debug"]

    def run():
        if not out_path.lower().endswith(".png"):
            raise ValueError(f"--out must be a .png file. Received: {out_path}")
        if os.path.exists(out_path) and not overwrite:
            raise FileExistsError(f"{out_path} already exists; pass --overwrite to replace it")
        row_seeds, column_seeds = _walks.check_mix_seeds(
            _parse_seeds(rows, "--rows"), _parse_seeds(columns, "--cols"))
        generator, origin = _generator_for(source, debug)
        _check_w_space(generator, origin, "ganzoo mix")
        figure = generator.mix(row_seeds, column_seeds, cutoff=cutoff, truncation=truncation)
        _imaging.save_png(images_lib.mixing_grid(figure), out_path)
        count = generator.num_styles
        taken = min(_walks.COARSE_STYLES, count) if cutoff is None else cutoff
        click.echo(f"wrote a {len(row_seeds)}x{len(column_seeds)} style-mixing figure from "
                   f"{origin} to {out_path} (the rows give the first {taken} of {count} "
                   "styles, the columns the others)")

    _run_guarded(run, debug)


@main.command()
@click.argument("source")
@click.argument("target_path", metavar="TARGET.png")
@click.option("--steps", default="300", show_default=True, metavar="N",
              help="Optimisation steps.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write: latent.npz, reconstruction.png, side_by_side.png, "
                   "projection.json.")
@click.option("--label", type=int,
              help="Class of the target (conditional generators; default: every class "
                   "searched, the best kept).")
@click.option("--space", metavar="z|w|w+",
              help="What is searched: z, or w / w+ with the noise maps (stylegan_lite; its "
                   "default w). Default z for the other families.")
@click.option("--distance", default="auto", show_default=True,
              metavar="auto|pixels|digits|vgg",
              help="pixels; pixels plus the digits classifier's features; pixels plus "
                   "VGG16 features (weights in the Keras cache); auto picks vgg for RGB "
                   "when cached, digits for grey images, else pixels.")
@click.option("--starts", default="1", show_default=True, metavar="K",
              help="Starting points per target (the mean, then random ones); best kept.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the search (and of stylegan_lite's noise with --space z).")
@click.option("--overwrite", is_flag=True, help="Replace an existing projection folder.")
@click.pass_context
def project(ctx, source, target_path, steps, out_dir, label, space, distance, starts, seed,
            overwrite):
    """Find the latent whose image best matches TARGET.png (the StyleGAN2 projector).

    SOURCE is a preset or run folder (gradients need the Keras model). A target of another
    size is resized, RGB turned grey (or grey RGB) for the model, each with a notice.
    latent.npz holds the latent z ('latent', and 'label': `ganzoo sample SOURCE --latents
    DIR/latent.npz` redraws the reconstruction) or, for stylegan_lite in w / w+, 'w' or
    'w_plus' and the noise maps.

    Python: `ganzoo.projection.project(ganzoo.models.load(SOURCE), TARGET, steps=N)`,
    then `ganzoo.projection.write(result, DIR)`.
    """
    debug = _state(ctx)["debug"]

    def run():
        step_count = _parse_count(steps, "--steps")
        start_count = _parse_count(starts, "--starts")
        if os.path.exists(out_dir) and not overwrite:
            raise FileExistsError(f"{out_dir} already exists; pass --overwrite to replace it")
        if not os.path.isfile(target_path):
            raise FileNotFoundError(f"The projection target {target_path} does not exist")
        found = sources.resolve(source)
        if found.kind == sources.BUNDLE:
            raise ValueError(
                f"ganzoo project follows gradients through the Keras generator; {source} is "
                "an export bundle: give the preset or run folder it was exported from")
        _load_tensorflow(debug)
        # Lazy: ganzoo.models and ganzoo.projection import TensorFlow (started when needed).
        from ganzoo import models, projection

        model = models.load(found)
        projection.check_model(model)
        chosen_space = projection.check_space(model, space)
        targets, notices = projection.prepare_target(target_path, model.image_shape)
        for notice in notices:
            _info(notice)
        every = max(1, step_count // 10)

        def progress(step, total, mean_distance):
            if step % every == 0 or step == total:
                _info(f"step {step}/{total}: distance {mean_distance:.5f}")

        result = projection.project(model, targets, step_count, labels=label,
                                    space=chosen_space, distance=distance,
                                    starts=start_count, seed=seed, progress=progress)
        projection.write(result, out_dir, overwrite=overwrite)
        facts = (f"{result.space} space, {result.distance} distance, {result.steps} steps"
                 + ("" if result.labels is None else f", label {int(result.labels[0])}"))
        click.echo(f"wrote the projection of {target_path} into {found.kind} {source} to "
                   f"{out_dir}: PSNR {result.psnr.mean():.2f} dB, SSIM "
                   f"{result.ssim.mean():.3f} ({facts})")
        if result.latents is not None:
            redraw = f"ganzoo sample {source} --latents {os.path.join(out_dir, 'latent.npz')}"
            if result.noise:
                redraw += f" --seed {result.seed}"
            click.echo(f"redraw it: {redraw} -n 1 --out reconstruction.png")
        else:
            click.echo("latent.npz holds w and the noise maps (ganzoo sample --latents takes "
                       "z: use --space z for one it reads); redraw it in Python with "
                       "ganzoo.projection.render(model, 'latent.npz')")

    _run_guarded(run, debug)


def _parse_count(text, option):
    """A positive int from an option's text, or one line naming the option."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = None
    if value is None or value < 1:
        raise ValueError(f"{option} must be a positive integer. Received: {text!r}")
    return value


def _frames_of(batches):
    for batch in batches:
        yield from batch


def _write_strip(path, batches, fps):
    """All frames side by side in one PNG."""
    _imaging.save_png(np.concatenate(list(_frames_of(batches)), axis=1), path)


def _write_gif(path, batches, fps):
    """A looping GIF, frames streamed to Pillow."""
    from PIL import Image  # Lazy: Pillow loads only for a GIF.

    def picture(frame):
        return Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame)

    frames = (picture(frame) for frame in _frames_of(batches))
    first = next(frames)

    def write(tmp_path):
        first.save(tmp_path, format="GIF", save_all=True, append_images=frames, loop=0,
                   duration=max(1, round(1000 / fps)))

    _atomic.replace_file(path, write, suffix=".gif")


def _video_writer():
    try:
        import imageio.v2 as imageio  # Lazy: the optional video extra.
        import imageio_ffmpeg  # noqa: F401  (Lazy: ships the ffmpeg binary)
    except ImportError:
        raise ValueError("--out .mp4 needs imageio and imageio-ffmpeg (pip install "
                         "'ganzoo[video]'); .gif and .png need nothing more") from None
    return imageio


def _write_mp4(path, batches, fps):
    """An H.264 MP4, frames streamed to ffmpeg (sides padded to even sizes)."""
    imageio = _video_writer()

    def write(tmp_path):
        with imageio.get_writer(tmp_path, format="FFMPEG", fps=fps, codec="libx264",
                                macro_block_size=2, pixelformat="yuv420p") as writer:
            for frame in _frames_of(batches):
                frame = np.repeat(frame, 3, axis=-1) if frame.shape[-1] == 1 else frame
                height, width = frame.shape[:2]
                writer.append_data(np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)),
                                          mode="edge"))

    _atomic.replace_file(path, write, suffix=".mp4")


_WALK_WRITERS = {".png": _write_strip, ".gif": _write_gif, ".mp4": _write_mp4}


# -- image to image: translate and upscale --------------------------------------------


def _image_to_image(ctx, verb, source, in_path, out_path, overwrite, **options):
    """Read IN_PATH, run SOURCE's image-to-image generator on it, write OUT_PATH."""
    debug = _state(ctx)["debug"]

    def run():
        if os.path.exists(out_path) and not overwrite:
            raise FileExistsError(f"{out_path} already exists; pass --overwrite to replace it")
        if not out_path.lower().endswith(".png"):
            raise ValueError(f"The output must be a .png file. Received: {out_path}")
        found = sources.resolve(source)
        if found.kind == sources.BUNDLE:
            task = found.load_runtime()
            _check_bundle_direction(found, options.get("direction"))
            # The other task's bundle, or the other image-to-image verb: WrongTask's one line.
            method = getattr(task, verb)
            image_input = next(entry for entry in task.inputs if entry["role"] == "image")
            channels = (image_input.get("shape") or [None])[-1]
            image = _imaging.load_image(in_path, channels=channels)
            result = method(image)
            origin = f"bundle {source} ({task.provider})"
        else:
            _load_tensorflow(debug)
            # Lazy: ganzoo.models imports TensorFlow, which only the commands that need it start.
            from ganzoo import models

            model = models.load(found)
            # The other task's model, or the other image-to-image verb: WrongTask's one line.
            method = getattr(model, verb)
            image = _imaging.load_image(in_path, channels=model.image_shape[-1])
            result = method(image, **options)
            origin = f"{found.kind} {source}"
        _imaging.save_png(result, out_path)
        height, width = result.shape[:2]
        click.echo(f"wrote {width}x{height} image from {origin} to {out_path}")

    _run_guarded(run, debug)


def _check_bundle_direction(found, direction):
    """A bundle holds one generator: refuse a --direction it was not exported for."""
    exported = found.metadata.get("generator")
    if direction is None or exported in (None, "generator", direction):
        return
    raise ValueError(
        f"{found.source} holds the {exported} generator; export the {direction} one with "
        f"`ganzoo export ... --generator {direction}`"
    )


@main.command()
@click.argument("source")
@click.argument("in_path", metavar="IN.png", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_path", metavar="OUT.png", type=click.Path(dir_okay=False))
@click.option("--direction", type=click.Choice(["a2b", "b2a"]), default=None,
              help="Which generator (default a2b; a bundle holds the one it was exported "
                   "with).")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_context
def translate(ctx, source, in_path, out_path, direction, overwrite):
    """Translate IN.png with SOURCE's image-to-image generator (cyclegan).

    Python: `ganzoo.models.load(SOURCE).translate(image, direction=...)`
    or `.load_runtime().translate(image)` for a bundle (uint8 HWC in and out).
    """
    options = {"direction": direction} if direction else {}
    _image_to_image(ctx, "translate", source, in_path, out_path, overwrite, **options)


@main.command()
@click.argument("source")
@click.argument("in_path", metavar="IN.png", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_path", metavar="OUT.png", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_context
def upscale(ctx, source, in_path, out_path, overwrite):
    """Super-resolve IN.png with SOURCE's generator (srgan), tile by tile.

    Python: `ganzoo.models.load(SOURCE).upscale(image)` or
    `.load_runtime().upscale(image)` for a bundle (uint8 HWC in and out).
    """
    _image_to_image(ctx, "upscale", source, in_path, out_path, overwrite)


# -- export ---------------------------------------------------------------------------


@main.command()
@click.argument("source")
@click.option("--format", "export_format",
              type=click.Choice(["onnx", "savedmodel", "triton"]),
              default="onnx", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--fp16", is_flag=True, help="Half-precision weights (ONNX).")
@click.option("--opset", type=click.IntRange(min=17), help="ONNX opset (default 17).")
@click.option("--max-batch-size", type=click.IntRange(min=1),
              help="Largest batch Triton forms (--format triton; default 64).")
@click.option("--model-name", help="Triton model name (--format triton; default the family).")
@click.option("--version", "model_version", type=click.IntRange(min=1),
              help="Triton model version (--format triton; default the next free one).")
@click.option("--instance-kind", type=click.Choice(["auto", "gpu", "cpu"]),
              help="Where Triton runs the model (--format triton; default auto: the "
                   "server's GPUs if it has any, else its CPU).")
@click.option("--instances", type=click.IntRange(min=1),
              help="Model instances (--format triton; default 1).")
@click.option("--warmup", is_flag=True,
              help="Triton warms each instance up with a batch of zeros (--format triton).")
@click.option("--overwrite", is_flag=True,
              help="Replace an existing bundle folder (--format triton: the same model "
                   "version only).")
@click.option("--generator", "generator_name", metavar="NAME",
              help="Which of the model's generators (e.g. a2b or b2a for cyclegan; "
                   "default the family's default, its EMA generator where it keeps one).")
@click.option("--output-range", metavar="LO,HI",
              help="Values of the generator's output that map to pixels 0 and 255 "
                   "(default: the family's range, or tanh -1,1 / sigmoid 0,1).")
@click.option("--force-output-range", is_flag=True,
              help="Keep --output-range even where it contradicts the final activation "
                   "or the parity outputs leave it (the images are then clipped).")
@click.option("--parity-size", type=click.IntRange(min=1),
              help="Height and width of the parity check for generators with dynamic "
                   "size (default: the smallest power of two the generator takes).")
@click.pass_context
def export(ctx, source, export_format, out_dir, fp16, opset, max_batch_size, overwrite,
           generator_name, output_range, force_output_range, parity_size, **triton_options):
    """Export the generator of a preset or run folder as a verified bundle.

    With --format triton, SOURCE may also be an ONNX bundle (copied, no TensorFlow), and
    --out an existing Triton repository: the model or version is added beside the others.
    A declared --output-range that contradicts the generator's final activation, or that
    its outputs on the parity inputs leave, is refused unless --force-output-range.

    Python: `ganzoo.export.to_onnx(model, OUT, opset=N, fp16=..., overwrite=...)` (or
    `to_saved_model`, `to_triton(model, OUT, max_batch_size=B, model_name=..., version=N,
    instance_kind=..., instances=N, warmup=...)`; or the options as one value,
    `options=ganzoo.export.ExportOptions(...)`) with `model = ganzoo.models.load(SOURCE)`.
    """
    debug = _state(ctx)["debug"]

    def run():
        triton = export_format == "triton"
        given = [
            "--version" if key == "model_version" else f"--{key.replace('_', '-')}"
            for key, value in [("max_batch_size", max_batch_size), *triton_options.items()]
            if value
        ]
        if not triton and given:
            raise ValueError(f"{', '.join(given)} applies to --format triton only")
        accept = sources.MODEL_KINDS + ((sources.BUNDLE,) if triton else ())
        found = sources.resolve(source, accept=accept)
        if os.path.exists(out_dir) and not overwrite and not triton:
            raise FileExistsError(f"{out_dir} already exists; pass --overwrite to replace it")
        if export_format == "savedmodel" and (fp16 or opset):
            raise ValueError("--fp16 and --opset apply to --format onnx and triton only")
        # Every option is checked once, here, before anything is loaded.
        serving = None
        if triton:
            given_serving = {
                "model_name": triton_options["model_name"],
                "version": triton_options["model_version"],
                "instance_kind": triton_options["instance_kind"],
                "instances": triton_options["instances"],
                "warmup": triton_options["warmup"],
                "max_batch_size": max_batch_size,
            }
            serving = export_lib.TritonOptions(
                **{key: value for key, value in given_serving.items() if value is not None})
        graph = {"generator": generator_name, "parity_size": parity_size,
                 "output_range": _parse_range(output_range, "--output-range"),
                 "force_output_range": force_output_range}
        if triton and found.kind == sources.BUNDLE:
            # to_triton refuses graph options for a bundle (its graph is copied as it is).
            metadata = export_lib.to_triton(found.path, out_dir, overwrite=overwrite,
                                            triton_options=serving, **graph)
            _echo_triton(metadata, out_dir)
            return
        if export_format != "savedmodel":
            graph.update(opset=opset, fp16=fp16)
        options = export_lib.ExportOptions(**graph)
        _load_tensorflow(debug)

        # Lazy: ganzoo.models imports TensorFlow, which only the commands that need it start.
        from ganzoo import models

        model = models.load(found)  # its preset_path: export copies the card.md
        if export_format == "onnx":
            metadata = export_lib.to_onnx(model, out_dir, options=options, overwrite=overwrite)
        elif triton:
            metadata = export_lib.to_triton(model, out_dir, options=options,
                                            triton_options=serving, overwrite=overwrite)
            _echo_triton(metadata, out_dir)
            return
        else:
            metadata = export_lib.to_saved_model(model, out_dir, options=options,
                                                 overwrite=overwrite)
        parity = metadata["parity"]["max_abs_diff"]
        click.echo(f"exported {model.family} generator to {out_dir} "
                   f"({export_format}, parity max abs diff {parity:.2e})")

    _run_guarded(run, debug)


def _parse_range(text, option):
    """`(low, high)` from "LO,HI" ("-1,1", "0,1"), None for None; one line otherwise."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"{option} takes LO,HI, e.g. {option} 0,1. Received: {text!r}") from None
    return (low, high)


def _echo_triton(metadata, out_dir):
    triton = metadata["triton"]
    parity = (metadata.get("parity") or {}).get("max_abs_diff")
    measured = "" if parity is None else f", parity max abs diff {parity:.2e}"
    click.echo(f"added model {triton['model_name']!r} version {triton['version']} to the "
               f"Triton repository {out_dir} ({triton['instance_group']['kind']}{measured})")


# -- evaluate -------------------------------------------------------------------------


@main.command()
@click.argument("source")
@click.option("--data", "data_source",
              help="Real images: bundled name, TFDS name or folder (NAME:SPLIT picks a split).")
@click.option("--split", "data_split", default="train", show_default=True,
              help="Split of --data when it has no :SPLIT suffix.")
@click.option("--metrics", "metric_names", default="fid,kid,is,pr", show_default=True,
              help="Comma-separated: fid, kid, is, pr (precision/recall), acc (conditional), "
                   "ppl (perceptual path length in w, stylegan_lite; needs no --data), "
                   "psnr, ssim (super-resolution).")
@click.option("--inputs", "inputs_source",
              help="Images a translating SOURCE (cyclegan) translates, measured against "
                   "--data (NAME:SPLIT picks a split).")
@click.option("--features", default="inception_v3", show_default=True,
              help="Feature extractor: inception_v3 or digits.")
@click.option("-n", "count", type=int, default=10_000, show_default=True,
              help="Images drawn from SOURCE.")
@click.option("--n-data", type=int, help="Real images used (default: as many as -n, or all).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--image-size", type=int,
              help="Size datasets are loaded at (default: the generator's).")
@click.option("--inception-weights", metavar="PATH",
              help="InceptionV3 .h5 weights (default: the Keras cache; never downloads).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Also write the results to this JSON file ('-': JSON alone on standard "
                   "output, the table on standard error).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --json file.")
@click.pass_context
def evaluate(ctx, source, data_source, data_split, metric_names, inputs_source, features,
             count, n_data, batch_size, seed, image_size, inception_weights, json_path,
             overwrite):
    """Measure SOURCE against --data: FID, KID, IS, precision/recall.

    SOURCE is a preset name, a preset, run or bundle folder, or a dataset (NAME[:SPLIT])
    for real-vs-real numbers. A super-resolution SOURCE (srgan) is measured with
    --metrics psnr,ssim on --data's images downscaled and upscaled again, beside bicubic
    upscaling; a translating SOURCE (cyclegan) with the feature metrics on its
    translations of --inputs.

    Python: `ganzoo.metrics.evaluate(SOURCE, DATA, metrics="fid,kid", features=...,
    n=N, ...)` returns the results dict; `ganzoo.metrics.evaluation.format_results(...)`
    prints this table.
    """
    debug = _state(ctx)["debug"]

    def run():
        to_stdout = json_path == "-"
        if json_path and not to_stdout:
            if os.path.exists(json_path) and not overwrite:
                raise FileExistsError(
                    f"{json_path} already exists; pass --overwrite to replace it")

            _atomic.check_can_write(json_path)
        metrics = evaluation.check_options(metric_names, features, count, batch_size, seed,
                                           n_data, inception_weights)
        if not data_source and metrics != ("ppl",):
            raise ValueError("evaluate needs --data SOURCE (the real images, e.g. --data digits)")
        _load_tensorflow(debug)
        results = evaluation.evaluate(
            source, data_source, metrics=metrics, features=features, n=count,
            batch_size=batch_size, seed=seed, inception_weights=inception_weights,
            progress=True, split=data_split, n_data=n_data, image_size=image_size,
            inputs=inputs_source,
        )

        click.echo(evaluation.format_results(results), err=to_stdout)
        if to_stdout:
            click.echo(json.dumps(dict(results, ganzoo_version=__version__), indent=2))
        elif json_path:
            _atomic.write_json(json_path, dict(results, ganzoo_version=__version__))
            click.echo(f"wrote {json_path}")

    _run_guarded(run, debug)


# -- bench ----------------------------------------------------------------------------


def _parse_list(text, option, convert=str):
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UserError(f"{option} needs a comma-separated list. Received: {text!r}")
    try:
        return [convert(item) for item in items]
    except ValueError:
        raise UserError(f"{option} takes a comma-separated list. Received: {text!r}") from None


@main.command()
@click.argument("source")
@click.option("--backend", "backend_list", metavar="LIST",
              help="Comma-separated backends: keras, savedmodel, onnx "
                   "(default: all three for a preset, the bundle's own for a bundle).")
@click.option("--batch", "batch_list", default="1,32", show_default=True, metavar="LIST",
              help="Comma-separated batch sizes.")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True,
              help="Timed rounds per batch size (the median is reported).")
@click.option("--warmup", type=click.IntRange(min=1), default=2, show_default=True,
              help="Untimed runs of each backend at each batch size.")
@click.option("--provider", type=click.Choice(["auto", "tensorrt", "cuda", "cpu"]),
              default="auto", show_default=True, help="onnxruntime provider (onnx backend).")
@click.option("--threads", type=click.IntRange(min=1),
              help="onnxruntime CPU threads (default: physical cores).")
@click.option("--tune", is_flag=True,
              help="Load the onnx backend with ganzoo.runtime.load(..., tune=True): on CPU, "
                   "batches of one run on the graph and thread count timed fastest at "
                   "load; the table says which.")
@click.pass_context
def bench(ctx, source, backend_list, batch_list, repeats, warmup, provider, threads, tune):
    """Measure latency and images/s of SOURCE's backends side by side.

    SOURCE is a preset name or a preset/run folder (its generator is exported to a
    temporary folder for the savedmodel and onnx backends) or an export bundle (which
    runs on its own backend only).

    Python: `report = ganzoo.export.bench.run(SOURCE, backends=[...], batches=[1, 32],
    repeats=5, warmup=2, providers="auto", threads=None, tune=False)`, then
    `print(ganzoo.export.bench.format_report(report))`.
    """
    debug = _state(ctx)["debug"]
    batches = _parse_list(batch_list, "--batch", int)
    if any(batch < 1 for batch in batches):
        raise UserError(f"--batch sizes must be positive. Received: {batch_list!r}")
    backends = _parse_list(backend_list, "--backend") if backend_list else None
    unknown = [name for name in backends or () if name not in ("keras", "savedmodel", "onnx")]
    if unknown:
        raise UserError(f"Unknown --backend {unknown[0]!r}; choose from keras, savedmodel, onnx")

    def run():
        found = sources.resolve(source)
        if found.kind != sources.BUNDLE or found.metadata["format"] == "savedmodel":
            _load_tensorflow(debug)
        report = bench_lib.run(found, backends, batches, repeats=repeats, warmup=warmup,
                               providers=provider, threads=threads, tune=tune, log=_info)
        click.echo(bench_lib.format_report(report))

    _run_guarded(run, debug)


if __name__ == "__main__":
    main()
