"""Evaluate throughput (images/s) of the two feature extractors, side by side.

    .venv/bin/python benchmarks/evaluate_throughput.py [--n-digits 2048] [--n-inception 256]

For each extractor it measures

- the extractor alone: features and probabilities of N uint8 32x32 grey images
  (`extractor.features_and_probabilities`), after one warm-up batch;
- `ganzoo.metrics.evaluate` end to end: N images from a 32x32 DCGAN (the `make demo`
  architecture, untrained: the numbers do not matter here, the time does) against as many
  real `digits` images (at most the 1,437 of the train split); images/s counts both sides.
  Once with FID only (sampling, data loading and features dominate) and once with fid, kid,
  is, pr (KID's 100 subsets and precision/recall add a fixed cost that does not grow with
  the extractor).

InceptionV3 runs with `weights="random"`: this machine has no ImageNet weights (no internet),
and the time of a forward pass does not depend on the weights' values.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import ganzoo  # noqa: E402
from ganzoo import metrics  # noqa: E402

BATCH_SIZE = 64


def extractor_rate(extractor, n):
    images = np.random.default_rng(0).integers(0, 256, (n, 32, 32, 1), dtype=np.uint8)
    extractor.features_and_probabilities(images[:BATCH_SIZE])  # trace the graph
    started = time.perf_counter()
    extractor.features_and_probabilities(images)
    return n / (time.perf_counter() - started)


def evaluate_rate(extractor, generator, n, metric_names):
    started = time.perf_counter()
    results = metrics.evaluate(generator, "digits", features=extractor, n=n,
                               batch_size=BATCH_SIZE, metrics=metric_names, progress=False)
    seconds = time.perf_counter() - started
    return (results["n"] + results["n_data"]) / seconds, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-digits", type=int, default=2048)
    parser.add_argument("--n-inception", type=int, default=256)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    generator = ganzoo.models.DCGAN(image_shape=(32, 32, 1), latent_dim=64,
                                    generator_filters=32, discriminator_filters=32, seed=0)
    rows = []
    for name, weights, n in (
        ("digits", None, args.n_digits),
        ("inception_v3", metrics.RANDOM_WEIGHTS, args.n_inception),
    ):
        extractor = metrics.get_extractor(name, weights=weights, batch_size=BATCH_SIZE)
        alone = extractor_rate(extractor, n)
        fid_only, _ = evaluate_rate(extractor, generator, n, "fid")
        all_four, results = evaluate_rate(extractor, generator, n, "fid,kid,is,pr")
        rows.append((name, extractor.feature_dim, n, results["n_data"], alone, fid_only,
                     all_four))

    print(f"evaluate throughput on {os.cpu_count()} CPU cores, batch {BATCH_SIZE}, "
          f"32x32 grey images (inception_v3 with random weights), images/s")
    print(f"{'extractor':<14}{'D':>6}{'N gen':>7}{'N real':>8}"
          f"{'extractor alone':>17}{'evaluate fid':>14}{'evaluate fid,kid,is,pr':>24}")
    for name, dim, n, n_real, alone, fid_only, all_four in rows:
        print(f"{name:<14}{dim:>6}{n:>7}{n_real:>8}{alone:>17.1f}{fid_only:>14.1f}"
              f"{all_four:>24.1f}")
    digits_row, inception_row = rows
    print(f"digits / inception_v3, evaluate fid: {digits_row[5] / inception_row[5]:.0f}x")


if __name__ == "__main__":
    main()
