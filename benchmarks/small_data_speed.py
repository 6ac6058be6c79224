"""Speed of a small-data run: epochs of one pass over 120 images against ganzoo's epochs of
at least `MIN_EPOCH_IMAGES` images, side by side, and a run on the full digits split.

    .venv/bin/python benchmarks/small_data_speed.py [--steps 150] [--out runs/small-data-speed]

Each run fine-tunes the shipped `stylegan_lite-digits` with `ganzoo.training.plan_run`
(what `ganzoo train --preset stylegan_lite-digits --steps 150 --batch-size 64` does), the
same code in all three; only the epoch policy or the data differ:

- "one pass": 120 images are one step of 64, so every step is an epoch with its sample
  grid, TensorBoard images, checkpoint and weight checks (ganzoo's policy before epochs had
  a floor; emulated by setting the floor to 0);
- "epoch floor": ganzoo's policy, epochs of at least `MIN_EPOCH_IMAGES` images;
- "full split": the 1,437 digits of the `train` split, the speed of a large-data run.

Prints seconds per step of each (wall time of `train()`, start-up included, divided by the
steps) and their ratios. Figures measured here are in docs/small-data.md.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--out", default="runs/small-data-speed")
    args = parser.parse_args(argv)

    import numpy as np
    from PIL import Image

    from ganzoo import training
    from ganzoo.data.bundled import digits_arrays
    from ganzoo.training import run as run_lib

    out = Path(args.out)
    folder = out / f"digits-{args.images}"
    folder.mkdir(parents=True, exist_ok=True)
    images, _ = digits_arrays("train")
    for index in np.random.default_rng(0).permutation(len(images))[:args.images]:
        Image.fromarray(images[index].reshape(8, 8)).save(folder / f"{index:04d}.png")

    floor = run_lib.MIN_EPOCH_IMAGES
    results = {}
    for name, data, epoch_floor in (("one pass", folder, 0), ("epoch floor", folder, floor),
                                    ("full split", "digits", floor)):
        run_lib.MIN_EPOCH_IMAGES = epoch_floor
        lines = []
        run = training.plan_run("stylegan_lite", data, out / name.replace(" ", "-"),
                                steps=args.steps, batch_size=64, preset="stylegan_lite-digits",
                                seed=0, overwrite=True, log=lines.append)
        start = time.perf_counter()
        result = run.train(verbose=0)
        seconds = time.perf_counter() - start
        results[name] = seconds / (result.epochs * result.steps_per_epoch)
        print(f"{name:12s} {result.epochs:4d} epoch(s) x {result.steps_per_epoch:3d} steps: "
              f"{seconds:6.1f} s, {results[name]:.3f} s/step", flush=True)
    run_lib.MIN_EPOCH_IMAGES = floor
    print(f"one pass / epoch floor: {results['one pass'] / results['epoch floor']:.2f}x "
          "slower per step")
    print(f"epoch floor / full split: {results['epoch floor'] / results['full split']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
