"""What the digits recipes share: their arguments, the data, training against the clock,
the card's measurement against the held-out split, and writing the preset.

A recipe is run as a script (`.venv/bin/python pretrained/recipes/<name>.py`), so this
module is imported as `_digits` from the recipe's own folder.
"""

import argparse
import os
import time
from pathlib import Path

import ganzoo
from ganzoo import images

# The digits `train` split: 1,437 images, measured against the 360 of `test`.
TRAIN_IMAGES = 1437
IMAGE_SIZE = 32


def parse_args(description, preset, steps, argv=None):
    """`--out` (default pretrained/PRESET), `--overwrite` and `--steps` (default STEPS;
    fewer to try a recipe quickly)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=f"pretrained/{preset}")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--steps", type=int, default=steps)
    return parser.parse_args(argv)


def data(batch_size, labels=False):
    """The shuffled, repeated digits `train` split at 32x32, batches of `batch_size`."""
    return ganzoo.data.load("digits", image_size=IMAGE_SIZE, batch_size=batch_size, seed=0,
                            repeat=True, labels=labels)


def fit(model, data, steps, batch_size, callbacks=()):
    """Train about `steps` steps in epochs of one pass; returns the steps taken, the
    minutes it took and the last epoch's losses."""
    steps_per_epoch = min(TRAIN_IMAGES // batch_size, steps)
    epochs = -(-steps // steps_per_epoch)
    start = time.time()
    history = model.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2,
                        callbacks=list(callbacks))
    return {
        "steps": epochs * steps_per_epoch,
        "minutes": (time.time() - start) / 60,
        "cores": os.cpu_count(),
        "losses": {name: values[-1] for name, values in history.history.items()},
    }


def evaluate(model, metrics=None):
    """(the model's numbers, the real train split's numbers: the floor) on 1,437
    samples (seed 0) against the held-out `test` split, with the `digits` features."""
    options = {"metrics": tuple(metrics)} if metrics else {}
    results = ganzoo.metrics.evaluate(model, "digits", split="test", features="digits",
                                      n=TRAIN_IMAGES, seed=0, progress=False, **options)
    floor = ganzoo.metrics.evaluate("digits:train", "digits", split="test", features="digits",
                                    n=TRAIN_IMAGES, seed=0, image_size=IMAGE_SIZE,
                                    progress=False)
    return results, floor


def row(name, r):
    """One table row: FID, KID, IS, precision, recall."""
    return (f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['is']:.2f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} |")


def measure(model, preset, comparisons=()):
    """The card's "Measured" text and the model's numbers.

    Args:
        comparisons: (name, results) rows to show between the model and the floor.
    """
    command = (f"ganzoo evaluate pretrained/{preset} --data digits --split test "
               f"--features digits -n {TRAIN_IMAGES}")
    results, floor = evaluate(model)
    rows = ["| | FID | KID | IS | precision | recall |", "| --- | --- | --- | --- | --- | --- |",
            row("this preset", results), *(row(name, r) for name, r in comparisons),
            row("real train vs test (the floor)", floor)]
    text = (
        "1,437 samples (seed 0) against the 360 images of the held-out `test` split, with\n"
        "the `digits` features (docs/metrics.md explains each number):\n\n"
        + "\n".join(rows) + f"\n\nReproduce: `{command}`.\n"
    )
    return text, results


def save(model, args, card, recipe, trained, batch_size, grid=None):
    """Write the preset folder (config, weights, card, manifest) and its samples.png
    (`grid`, or 64 samples of seed 0); returns the folder."""
    out = model.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                               preset_name=Path(args.out).name, data="digits (train split)",
                               steps=trained["steps"], batch_size=batch_size, recipe=recipe)
    if grid is None:
        grid = images.grid(model.sample(64, seed=0))
    images.save_png(grid, Path(out) / "samples.png")
    print(f"wrote {out} in {trained['minutes']:.1f} minutes of training", flush=True)
    return out
