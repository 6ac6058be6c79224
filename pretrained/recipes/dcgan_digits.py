"""Recipe of the `dcgan-digits` preset: a small DCGAN on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/dcgan_digits.py [--out pretrained/dcgan-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with latent size 64 and widths 32
for 1,500 steps of batch 64, then writes the preset (weights, config, card, manifest) and
its sample grid. About 7 minutes on 2 CPU cores.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import ganzoo  # noqa: E402
from ganzoo import _imaging  # noqa: E402

STEPS = 1500
BATCH_SIZE = 64
SETTINGS = dict(image_shape=(32, 32, 1), latent_dim=64, generator_filters=32,
                discriminator_filters=32, seed=0)

CARD = """# dcgan-digits

A DCGAN (Radford et al. 2015) trained on scikit-learn's handwritten digits.

![samples](samples.png)

| | |
| --- | --- |
| family | `dcgan` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | 64, standard normal |
| widths | generator_filters=32, discriminator_filters=32 |
| data | `ganzoo.data.load("digits", image_size=32)`: the `train` split, 1,437 images of 8x8 digits upscaled to 32x32 (bilinear) |
| recipe | `pretrained/recipes/dcgan_digits.py`: {steps} steps of batch {batch_size}, Adam(2e-4, beta_1=0.5) for both networks, non-saturating loss, seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores |
| final losses | d_loss {d_loss:.3f}, g_loss {g_loss:.3f} (mean over the last epoch) |

## Measured

{measured}

## Limits

Trained for minutes on a CPU: digits are recognisable but blurry and some are
ambiguous. The images are 8x8 scans upscaled to 32x32, so samples are smooth; do not expect
detail beyond that.
"""


def measure(gan):
    """The card's table: the generator against the held-out digits, digits features."""
    command = ("ganzoo evaluate dcgan-digits --data digits --split test --features digits "
               "-n 1437")
    results = ganzoo.metrics.evaluate(gan, "digits", split="test", features="digits",
                                      n=1437, seed=0, progress=False)
    floor = ganzoo.metrics.evaluate("digits:train", "digits", split="test", features="digits",
                                    n=1437, seed=0, image_size=32, progress=False)
    rows = [
        "| | FID | KID | IS | precision | recall |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in (("this preset", results), ("real train vs test (the floor)", floor)):
        rows.append(
            f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['is']:.2f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} |"
        )
    return (
        "1,437 samples (seed 0) against the 360 images of the held-out `test` split, with\n"
        "the `digits` features (docs/metrics.md explains each number):\n\n"
        + "\n".join(rows) + f"\n\nReproduce: `{command}`.\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pretrained/dcgan-digits")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    steps_per_epoch = 1437 // BATCH_SIZE
    epochs = -(-STEPS // steps_per_epoch)
    data = ganzoo.data.load("digits", image_size=32, batch_size=BATCH_SIZE, seed=0, repeat=True)
    gan = ganzoo.models.DCGAN(**SETTINGS)
    gan.compile()
    start = time.time()
    history = gan.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
    minutes = (time.time() - start) / 60
    losses = {name: values[-1] for name, values in history.history.items()}

    measured = measure(gan)
    card = CARD.format(steps=epochs * steps_per_epoch, batch_size=BATCH_SIZE, minutes=minutes,
                       cores=os.cpu_count(), measured=measured, **losses)
    out = gan.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                             preset_name=Path(args.out).name, data="digits (train split)",
                             steps=epochs * steps_per_epoch, batch_size=BATCH_SIZE,
                             recipe="pretrained/recipes/dcgan_digits.py")
    grid = _imaging.grid(gan.sample(64, seed=0))
    _imaging.save_png(grid, Path(out) / "samples.png")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
