"""Projection of pictures into the digits presets (`ganzoo.projection`), measured.

    .venv/bin/python benchmarks/projection.py [--steps 300] [--samples 8] [--real 50]
        [--presets dcgan-digits,...] [--distance auto] [--starts 1]

Two measurements, each printed as a table (docs/apps.md holds the figures):

1. Own samples, the latent known: for each noise-to-image digits preset, `--samples`
   samples (`sample(8, seed=1000)`; conditional presets one sample of each class 0..7)
   projected with their class given, in each preset's default space (z; w for
   stylegan_lite); the PSNR and SSIM of the reconstructions against the samples.
2. Held-out real digits: the first `--real` images of the `test` split of the bundled digits
   (as `ganzoo.data.load("digits", image_size=32, split="test", labels=True, seed=0)`
   gives them; never seen in training) projected into cgan-digits (class searched over
   all ten, not given) and stylegan_lite-digits; the share of reconstructions that the
   digits classifier labels as the target's class, beside the classifier's accuracy on
   the targets themselves, and the PSNR.

Every target of a preset is projected in one batch (each on its own: see the module
docstring of `ganzoo.projection`).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

OWN_PRESETS = ("dcgan-digits", "cgan-digits", "wgan_gp-digits", "sagan-digits",
               "stylegan_lite-digits")
REAL_PRESETS = ("cgan-digits", "stylegan_lite-digits")


def _real_digits(count):
    import numpy as np

    from ganzoo import data, images

    dataset = data.load("digits", image_size=32, batch_size=count, split="test",
                        labels=True, seed=0)
    batch_images, batch_labels = next(iter(dataset))
    return images.to_uint8(batch_images.numpy()), np.asarray(batch_labels.numpy(), np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--real", type=int, default=50)
    parser.add_argument("--presets", default=",".join(OWN_PRESETS))
    parser.add_argument("--real-presets", default=",".join(REAL_PRESETS))
    parser.add_argument("--distance", default="auto")
    parser.add_argument("--starts", type=int, default=1)
    parser.add_argument("--skip-own", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    from ganzoo import models, projection
    from ganzoo.metrics.digits import DigitsExtractor

    if not args.skip_own:
        print(f"own samples, {args.samples} per preset, {args.steps} steps, "
              f"distance {args.distance}, starts {args.starts}")
        print("| preset | space | distance | PSNR dB (mean) | PSNR min | SSIM | seconds |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name in args.presets.split(","):
            model = models.load(name)
            options = {}
            if getattr(model, "conditional", False):
                options["labels"] = np.arange(args.samples) % model.num_classes
            targets = model.sample(args.samples, seed=1000, **options)
            start = time.perf_counter()
            result = projection.project(model, targets, steps=args.steps,
                                        distance=args.distance, starts=args.starts, **options)
            seconds = time.perf_counter() - start
            print(f"| {name} | {result.space} | {result.distance} | {result.psnr.mean():.1f} | "
                  f"{result.psnr.min():.1f} | {result.ssim.mean():.3f} | {seconds:.0f} |",
                  flush=True)

    if not args.skip_real:
        targets, classes = _real_digits(args.real)
        judge = DigitsExtractor()
        on_targets = float(np.mean(judge.probabilities(targets).argmax(1) == classes))
        print(f"\nheld-out real digits: {args.real} of the test split, {args.steps} steps, "
              f"distance {args.distance}, starts {args.starts}; the classifier labels "
              f"{on_targets:.0%} of the targets themselves right")
        print("| preset | space | class | reconstructions labelled as the target's class "
              "| PSNR dB | SSIM | seconds |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name in args.real_presets.split(","):
            model = models.load(name)
            start = time.perf_counter()
            result = projection.project(model, targets, steps=args.steps,
                                        distance=args.distance, starts=args.starts)
            seconds = time.perf_counter() - start
            labelled = judge.probabilities(result.images).argmax(1)
            share = float(np.mean(labelled == classes))
            chosen = "-" if result.labels is None else (
                f"searched ({np.mean(result.labels == classes):.0%} picked right)")
            print(f"| {name} | {result.space} | {chosen} | {share:.0%} | "
                  f"{result.psnr.mean():.1f} | {result.ssim.mean():.3f} | {seconds:.0f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
