"""How fast an SRResNet-MSE learns to beat bicubic upscaling on photographs from elsewhere.

    .venv/bin/python benchmarks/srgan_trials.py [--steps 2000] [--skip bicubic|bilinear]
        [--learning-rate 5e-4] [--schedule step|cosine] [--batch-size 16] [--blocks 8]
        [--filters 64] [--every 500] [--cache ~/.cache/ganzoo/srgan-x4-photos]

The trials that chose the `srgan-x4-photos` recipe's settings (docs/srgan.md): the
recipe's pre-training phase (the generator alone on the pixel MSE, 48x48 crops of its
train pictures, Adam beta_1 0.9, seed 0) for `--steps` steps, printing every `--every`
steps the PSNR gain over bicubic upscaling on the 96x96 tiles of the held-out Lomiri
wallpapers (`ganzoo.metrics.evaluate`, as the card measures) and the minutes so far.
`--schedule step` drops the learning rate tenfold at the recipe's share of the steps
(G_DECAY); `cosine` decays it to 2% along a half cosine. Needs the recipe's prepared
pictures: run `pretrained/recipes/srgan_x4_photos.py --prepare-only` first. Trials are
compared at equal steps when they ran side by side, at equal minutes when each ran alone.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "pretrained" / "recipes"))

import _recipe  # noqa: E402  first: it quiets TensorFlow's C++ logging
import keras  # noqa: E402
import srgan_x4_photos as recipe  # noqa: E402

import ganzoo  # noqa: E402

EPOCH = 50  # steps between learning-rate updates


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--skip", choices=("bicubic", "bilinear"), default="bicubic")
    parser.add_argument("--learning-rate", type=float, default=recipe.G_LEARNING_RATE)
    parser.add_argument("--schedule", choices=("step", "cosine"), default="step")
    parser.add_argument("--batch-size", type=int, default=recipe.BATCH_SIZE)
    parser.add_argument("--filters", type=int, default=recipe.SETTINGS["filters"])
    parser.add_argument("--blocks", type=int, default=recipe.SETTINGS["blocks"])
    parser.add_argument("--every", type=int, default=500,
                        help="steps between measurements (a multiple of 50)")
    parser.add_argument("--cache", type=Path, default=recipe.default_cache())
    args = parser.parse_args(argv)
    if args.steps < EPOCH or args.steps % EPOCH or args.every % EPOCH or args.every < EPOCH:
        parser.error(f"--steps and --every must be positive multiples of {EPOCH}")
    for folder in ("train", "held-out"):
        if not (args.cache / folder).is_dir():
            parser.error(f"{args.cache / folder} is missing: run "
                         "pretrained/recipes/srgan_x4_photos.py --prepare-only first")
    return args


def main(argv=None):
    args = parse(argv)
    keras.utils.set_random_seed(0)
    data = ganzoo.data.load_super_resolution(
        args.cache / "train", scale=4, patch_size=recipe.PATCH, batch_size=args.batch_size,
        seed=0, repeat=True)
    model = ganzoo.models.SRGAN(**{
        **recipe.SETTINGS, "filters": args.filters, "blocks": args.blocks,
        "upsampled_skip": args.skip, "pretrain_steps": args.steps + 1})
    model.compile(g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.9))

    def rate(epoch, base):
        share = epoch * EPOCH / args.steps
        if args.schedule == "step":
            return base * (0.1 if share >= recipe.G_DECAY else 1.0)
        return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * share)))

    class Measure(keras.callbacks.Callback):
        start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            step = (epoch + 1) * EPOCH
            if step % args.every and step != args.steps:
                return
            result = _recipe.evaluate(model, str(args.cache / "held-out"), metrics=("psnr",),
                                      image_size=96)
            print(json.dumps({"step": step, "minutes": round((time.time() - self.start) / 60, 2),
                              "gain_db": round(result["psnr"] - result["psnr_bicubic"], 3),
                              "content_loss": round(float(logs["content_loss"]), 5)}),
                  flush=True)

    print(json.dumps({key: str(value) for key, value in vars(args).items()}), flush=True)
    model.fit(data, epochs=args.steps // EPOCH, steps_per_epoch=EPOCH, verbose=0,
              callbacks=[ganzoo.training.LearningRateScheduler(rate, optimizers=("g_optimizer",)),
                         Measure()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
