"""The harness every recipe in this folder uses: its arguments, training in epochs against
the clock, measuring with `ganzoo.metrics.evaluate` (what `ganzoo evaluate` runs) and
writing the preset with its card. A recipe script holds only what is its own: the model's
settings, its data, what it is measured against and its card text.

A recipe is run as a script (`.venv/bin/python pretrained/recipes/<name>.py`), so this
module is imported as `_recipe` from the recipe's own folder; import it before Keras (it
quiets TensorFlow's C++ logging). The shape of a recipe's `main`:

    args = _recipe.parse_args(__doc__, "dcgan-digits", STEPS, argv)
    keras.utils.set_random_seed(0)
    model = ...                                   # the recipe's model, compiled
    trained = _recipe.fit(model, data, args.steps, steps_per_epoch)
    results = _recipe.evaluate(model, "digits", split="test", ...)
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, measured=...)
    _recipe.save(model, args, card, trained, pictures={...}, data=..., steps=..., ...)

The second half of the module holds what only the digits recipes share: their data, the
card's measurement against the held-out `test` split, and `train_digits` / `save_digits`.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import ganzoo  # noqa: E402
from ganzoo import images, presets  # noqa: E402

# -- any recipe -----------------------------------------------------------------------


def parse_args(doc, preset, steps, argv=None, extra=None, out=None):
    """The recipe's arguments: `--out` (default `out`, or pretrained/PRESET), `--overwrite`
    and `--steps` (default STEPS; fewer to try a recipe quickly).

    Args:
        doc: the recipe's docstring; its first line describes the recipe.
        preset: the preset's name, for the default `--out`.
        steps: the steps the recipe trains by default.
        extra: None or a function that adds the recipe's own arguments to the parser.
    """
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    out = out or f"pretrained/{preset}"
    parser.add_argument("--out", default=out, help=f"the folder to write (default {out})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace what an earlier run wrote there")
    parser.add_argument("--steps", type=int, default=steps,
                        help=f"steps to train (default {steps}; a handful to try it quickly)")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)


def timed(train, steps):
    """Call `train()` against the clock; returns what it returned and the facts a card
    gives: {"steps": steps, "minutes", "cores", "losses": {}}."""
    start = time.time()
    result = train()
    return result, {"steps": steps, "minutes": (time.time() - start) / 60,
                    "cores": os.cpu_count(), "losses": {}}


def fit(model, data, steps, steps_per_epoch, callbacks=()):
    """`model.fit` for about `steps` steps in epochs of `steps_per_epoch` (one epoch of
    `steps` when that is fewer).

    Args:
        callbacks: Keras callbacks, or a function of the number of epochs that returns
            them (a schedule over the epochs); called just before training.

    Returns:
        {"steps": the steps taken, "epochs", "steps_per_epoch", "minutes", "cores",
        "losses": each loss's value in the last epoch}.
    """
    steps_per_epoch = min(steps_per_epoch, steps)
    epochs = -(-steps // steps_per_epoch)
    if callable(callbacks):
        callbacks = callbacks(epochs)
    history, trained = timed(
        lambda: model.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2,
                          callbacks=list(callbacks)),
        epochs * steps_per_epoch)
    trained.update(epochs=epochs, steps_per_epoch=steps_per_epoch,
                   losses={name: values[-1] for name, values in history.history.items()})
    return trained


def evaluate(source, data, **options):
    """`ganzoo.metrics.evaluate(source, data, **options)` without the progress bar."""
    return ganzoo.metrics.evaluate(source, data, progress=False, **options)


def evaluate_command(preset, data, split=None, features=None, n=None, metrics=None,
                     image_size=None, seed=0):
    """The `ganzoo evaluate` command line that measures `preset` as
    `evaluate(preset, data, split=..., ...)` does."""
    words = ["ganzoo evaluate", str(preset), "--data", data]
    if isinstance(metrics, (tuple, list)):
        metrics = ",".join(metrics)
    for flag, value in (("--split", split), ("--features", features), ("-n", n),
                        ("--metrics", metrics), ("--image-size", image_size)):
        if value is not None:
            words += [flag, str(value)]
    if seed:
        words += ["--seed", str(seed)]
    return " ".join(words)


def table(header, rows):
    """A Markdown table: the `header` cells, a rule, then `rows` (lines, or lists of
    cells)."""
    def line(cells):
        return "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells) + "|"

    return "\n".join([line(header), line(["---"] * len(header)),
                      *(r if isinstance(r, str) else line(r) for r in rows)])


def card(template, trained, **facts):
    """`template` (the recipe's card) filled with the training facts (steps, minutes,
    cores, each final loss by name) and `facts`; a template uses those it names."""
    return template.format(**{"steps": trained["steps"], "minutes": trained["minutes"],
                              "cores": trained["cores"], **trained["losses"], **facts})


def save(model, args, card, trained=None, pictures=None, manifest=None, **training):
    """Write the preset folder `args.out` (config, weights, card, sha256.txt), replacing a
    preset there only with `args.overwrite`; then its pictures. Returns the folder.

    Args:
        trained: `fit`'s facts, for the closing line; or None.
        pictures: {file name: uint8 image, or a function that writes that path}, written
            into the folder in order after the preset.
        manifest: None keeps the preset's sha256.txt (config and weights); a list of file
            names lists those instead; "all" lists every file of the folder.
        **training: the facts config.json records under "training" (data, steps,
            batch_size, recipe, ...), in this order.
    """
    out = model.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                               preset_name=Path(args.out).name, **training)
    for name, picture in (pictures or {}).items():
        if callable(picture):
            picture(Path(out) / name)
        else:
            images.save_png(picture, Path(out) / name)
    if manifest == "all":
        manifest = sorted(path.name for path in Path(out).iterdir()
                          if path.is_file() and path.name != presets.MANIFEST_FILE)
    if manifest is not None:
        presets.write_manifest(out, manifest)
    took = f" in {trained['minutes']:.1f} minutes of training" if trained else ""
    print(f"wrote {out}{took}", flush=True)
    return out


def samples(model, n=64):
    """For `save`'s pictures: a function that writes a grid of `n` samples of seed 0 (a
    preset's samples.png)."""
    return lambda path: images.save_png(images.grid(model.sample(n, seed=0)), path)


# -- the digits recipes -----------------------------------------------------------------
# They train on the digits `train` split (1,437 images) at 32x32 and are measured against
# the 360 images of `test`, with the `digits` features.

DIGITS_TRAIN = 1437
DIGITS_SIZE = 32
# What config.json records as a digits preset's training data.
DIGITS_DATA = "digits (train split)"
# What the card's numbers are measured with: 1,437 samples (seed 0) against `test`.
DIGITS_MEASURE = dict(split="test", features="digits", n=DIGITS_TRAIN, seed=0)
DIGITS_INTRO = (
    "1,437 samples (seed 0) against the 360 images of the held-out `test` split, with\n"
    "the `digits` features (docs/metrics.md explains each number):\n\n"
)
DIGITS_HEADER = ["", "FID", "KID", "IS", "precision", "recall"]
FLOOR = "real train vs test (the floor)"


def train_digits(build, steps, batch_size, labels=False, callbacks=(), **compile_options):
    """Seed 0; the shuffled, repeated digits `train` split at 32x32 in batches of
    `batch_size`; `build()`, the recipe's model, compiled with `compile_options` and
    trained (`fit`) for about `steps` steps in epochs of one pass. Returns (model, `fit`'s
    facts)."""
    import keras

    keras.utils.set_random_seed(0)
    data = ganzoo.data.load("digits", image_size=DIGITS_SIZE, batch_size=batch_size, seed=0,
                            repeat=True, labels=labels)
    model = build()
    model.compile(**compile_options)
    return model, fit(model, data, steps, DIGITS_TRAIN // batch_size, callbacks)


def evaluate_digits(model, metrics=None):
    """(the model's numbers, the real train split's numbers: the floor), measured as
    DIGITS_MEASURE says."""
    options = {"metrics": tuple(metrics)} if metrics else {}
    results = evaluate(model, "digits", **DIGITS_MEASURE, **options)
    floor = evaluate("digits:train", "digits", **DIGITS_MEASURE, image_size=DIGITS_SIZE)
    return results, floor


def digits_command(preset, metrics=None):
    """The `ganzoo evaluate` line that reproduces `evaluate_digits` for pretrained/PRESET."""
    return evaluate_command(f"pretrained/{preset}", "digits", **DIGITS_MEASURE,
                            metrics=metrics)


def digits_row(name, r):
    """One table row: FID, KID, IS, precision, recall."""
    return (f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['is']:.2f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} |")


def measure_digits(model, preset, comparisons=(), intro=DIGITS_INTRO):
    """The card's "Measured" text and the model's numbers.

    Args:
        comparisons: (name, results) rows to show between the model and the floor.
        intro: the text above the table.
    """
    results, floor = evaluate_digits(model)
    rows = [digits_row("this preset", results),
            *(digits_row(name, r) for name, r in comparisons), digits_row(FLOOR, floor)]
    text = (intro + table(DIGITS_HEADER, rows)
            + f"\n\nReproduce: `{digits_command(preset)}`.\n")
    return text, results


def save_digits(model, args, card, recipe, trained, batch_size, grid=None):
    """Write the digits preset and its samples.png (`grid`, or 64 samples of seed 0)."""
    return save(model, args, card, trained,
                pictures={presets.SAMPLES_FILE: samples(model) if grid is None else grid},
                data=DIGITS_DATA, steps=trained["steps"], batch_size=batch_size,
                recipe=recipe)
