"""Recipe of the `dcgan-faces-ada` preset: `dcgan-digits` fine-tuned on the 100 bundled
faces with ADA, the small-data path a user takes.

    .venv/bin/python pretrained/recipes/dcgan_faces_ada.py [--out pretrained/dcgan-faces-ada]

Runs `ganzoo train dcgan --preset dcgan-digits --data faces --augment ada --steps 640
--batch-size 32` (through `ganzoo.training.plan_run`, in a temporary run folder), the same
fine-tune without augmentation for the card's comparison, then measures both final models
and the starting preset with `ganzoo.metrics.evaluate` (what `ganzoo evaluate` runs) and
writes the preset. About 3 minutes on 2 CPU cores.
"""

import csv
import sys
import tempfile
from pathlib import Path

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
from ganzoo import presets, training

STEPS = 640
BATCH_SIZE = 32
FACES = 100
# What the card's numbers are measured with: FACES samples (seed 0) against the faces.
MEASURE = dict(features="digits", n=FACES, seed=0, metrics=("fid", "kid", "pr"))

CARD = """# dcgan-faces-ada

`dcgan-digits` fine-tuned on 100 face photographs with adaptive discriminator augmentation
(ADA, Karras et al. 2020): how ganzoo turns a zoo model to a user's few images.

![samples](samples.png)

| | |
| --- | --- |
| family | `dcgan` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | 64, standard normal |
| started from | the shipped `dcgan-digits` |
| data | `faces`: scikit-image's LFW subset, the 100 face crops (25x25 grey), resized to 32x32 |
| recipe | `pretrained/recipes/dcgan_faces_ada.py`: `ganzoo train dcgan --preset dcgan-digits --data faces --augment ada --steps {steps} --batch-size {batch_size}`, seed 0 (Adam(2e-4, 0.5), non-saturating loss; ADA target 0.6, p adjusted every 4 steps, 20,000-image ramp) |
| ADA's p at the end | {p:.3f} (r_t {r_t:.2f}) |
| training time | {minutes:.1f} minutes on {cores} CPU cores |

## Measured

{n} samples (seed 0) against the {n} faces themselves (there is no held-out face), with the
`digits` features, the only feature extractor that ships with ganzoo (docs/metrics.md): it
was trained on digits, so these figures say how far the samples' statistics are from the
faces' in that space, not how realistic a face looks. Look at the samples too.

| | FID | KID | precision | recall |
| --- | --- | --- | --- | --- |
{rows}

Reproduce: `{command}`.

## Limits

Trained for {steps} steps on 100 images: the samples are rough 32x32 grey faces, many
blurred, and close to the training faces. On this small set and budget the unaugmented
fine-tune scores slightly better in the digits features (table above); ADA's samples are
smoother. See docs/small-data.md for the side-by-side measurements.
"""


def fine_tune(folder, augment, steps):
    """`ganzoo train dcgan --preset dcgan-digits --data faces ...` in `folder`; returns
    (its result, `_recipe.timed`'s facts)."""
    run = training.plan_run("dcgan", "faces", folder, steps=steps, batch_size=BATCH_SIZE,
                            preset="dcgan-digits", seed=0, augment=augment,
                            log=lambda line: print(f"[{augment}] {line}", flush=True))
    return _recipe.timed(lambda: run.train(verbose=0), steps)


def row(name, source):
    r = _recipe.evaluate(source, "faces", **MEASURE)
    return (f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['precision']:.2f} | "
            f"{r['recall']:.2f} |")


def main(argv=None):
    args = _recipe.parse_args(__doc__, "dcgan-faces-ada", STEPS, argv)
    with tempfile.TemporaryDirectory(prefix="dcgan-faces-") as scratch:
        result, trained = fine_tune(Path(scratch) / "ada", "ada", args.steps)
        with open(result.path / "history.csv", newline="") as handle:
            last = list(csv.DictReader(handle))[-1]
        plain, _ = fine_tune(Path(scratch) / "none", None, args.steps)
        model = ganzoo.models.DCGAN.from_preset(result.preset)
        rows = [row("this preset (ADA)", model),
                row("the same fine-tune without augmentation",
                    ganzoo.models.DCGAN.from_preset(plain.preset)),
                row("`dcgan-digits`, before fine-tuning", "dcgan-digits")]
    card = _recipe.card(
        CARD, trained, batch_size=BATCH_SIZE, p=float(last["aug_p"]), r_t=float(last["r_t"]),
        n=FACES, rows="\n".join(rows),
        command=_recipe.evaluate_command("pretrained/dcgan-faces-ada", "faces", **MEASURE))
    _recipe.save(model, args, card, trained,
                 pictures={presets.SAMPLES_FILE: _recipe.samples(model)},
                 data="faces (100 images)", steps=args.steps, batch_size=BATCH_SIZE,
                 augment="ada", started_from="dcgan-digits",
                 recipe="pretrained/recipes/dcgan_faces_ada.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
