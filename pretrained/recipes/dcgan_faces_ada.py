"""Recipe of the `dcgan-faces-ada` preset: `dcgan-digits` fine-tuned on the 100 bundled
faces with ADA, the small-data path a user takes.

    .venv/bin/python pretrained/recipes/dcgan_faces_ada.py [--out pretrained/dcgan-faces-ada]

Runs `ganzoo train dcgan --preset dcgan-digits --data faces --augment ada --steps 640
--batch-size 32` (through `ganzoo.training.plan_run`, in a temporary run folder), the same
fine-tune without augmentation for the card's comparison, then measures both final models
and the starting preset with `ganzoo.metrics.evaluate` (what `ganzoo evaluate` runs) and
writes the preset. About 3 minutes on 2 CPU cores.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import ganzoo  # noqa: E402
from ganzoo import images, training  # noqa: E402

STEPS = 640
BATCH_SIZE = 32
FACES = 100

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

Reproduce: `ganzoo evaluate pretrained/dcgan-faces-ada --data faces --features digits -n {n} --metrics fid,kid,pr`.

## Limits

Trained for {steps} steps on 100 images: the samples are rough 32x32 grey faces, many
blurred, and close to the training faces. On this small set and budget the unaugmented
fine-tune scores slightly better in the digits features (table above); ADA's samples are
smoother. See docs/small-data.md for the side-by-side measurements.
"""


def fine_tune(folder, augment, steps):
    run = training.plan_run("dcgan", "faces", folder, steps=steps, batch_size=BATCH_SIZE,
                            preset="dcgan-digits", seed=0, augment=augment,
                            log=lambda line: print(f"[{augment}] {line}", flush=True))
    start = time.time()
    result = run.train(verbose=0)
    return result, (time.time() - start) / 60


def measure(source):
    results = ganzoo.metrics.evaluate(source, "faces", features="digits", n=FACES, seed=0,
                                      metrics=("fid", "kid", "pr"), progress=False)
    return results


def row(name, r):
    return (f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['precision']:.2f} | "
            f"{r['recall']:.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pretrained/dcgan-faces-ada")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--steps", type=int, default=STEPS, help="fewer to try it quickly")
    args = parser.parse_args(argv)
    import csv

    with tempfile.TemporaryDirectory(prefix="dcgan-faces-") as scratch:
        result, minutes = fine_tune(Path(scratch) / "ada", "ada", args.steps)
        with open(result.path / "history.csv", newline="") as handle:
            last = list(csv.DictReader(handle))[-1]
        plain, _ = fine_tune(Path(scratch) / "none", None, args.steps)
        model = ganzoo.models.DCGAN.from_preset(result.preset)
        rows = [row("this preset (ADA)", measure(model)),
                row("the same fine-tune without augmentation",
                    measure(ganzoo.models.DCGAN.from_preset(plain.preset))),
                row("`dcgan-digits`, before fine-tuning", measure("dcgan-digits"))]
    card = CARD.format(steps=args.steps, batch_size=BATCH_SIZE, p=float(last["aug_p"]),
                       r_t=float(last["r_t"]), minutes=minutes, cores=os.cpu_count(), n=FACES,
                       rows="\n".join(rows))
    out = model.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                               preset_name=Path(args.out).name, data="faces (100 images)",
                               steps=args.steps, batch_size=BATCH_SIZE, augment="ada",
                               started_from="dcgan-digits",
                               recipe="pretrained/recipes/dcgan_faces_ada.py")
    images.save_png(images.grid(model.sample(64, seed=0)), Path(out) / "samples.png")
    print(f"wrote {out} ({minutes:.1f} minutes of ADA fine-tuning)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
