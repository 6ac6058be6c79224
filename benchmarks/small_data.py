"""Small data: a DCGAN trained from scratch on 10% of the digits, without augmentation,
with DiffAugment and with ADA, side by side; and ADA's p on the full training split.

    .venv/bin/python benchmarks/small_data.py [--steps 1600] [--out runs/small-data]

What it does, the path a user takes:

1. writes a fixed subset of the digits `train` split (144 of 1,437 images, seed 0) as a
   folder of PNG files;
2. trains `ganzoo train dcgan` on that folder (`ganzoo.training.plan_run`) once per arm
   (`--augment none`, `diffaugment`, `ada`): same steps, same seed, quality measured while
   training (`--eval-every`, FID and precision/recall on the `digits` features against
   the 360 held-out `test` digits), the best model kept in `RUN/best/`;
3. trains the ADA arm once more on the whole `train` split, to show that p rises on small
   data and stays low when there is enough of it;
4. measures every final preset and every `best/` with `ganzoo.metrics.evaluate` (1,437
   samples against the `test` split, `digits` features), prints a table and the ratios
   to the unaugmented run, writes `results.json`, and draws the FID curves and p in
   `small-data.png` (docs/img/small-data.png in the docs).

Figures measured here are in docs/small-data.md.
"""

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ARMS = ("none", "diffaugment", "ada")
BATCH_SIZE = 64
IMAGE_SIZE = 32
MODEL = dict(generator_filters=32, discriminator_filters=32)
LATENT_DIM = 64
TEST_IMAGES = 360
TRAIN_IMAGES = 1437


def write_subset(folder, count, seed=0):
    """`count` digits of the `train` split, chosen with `seed`, as PNG files in `folder`."""
    import numpy as np
    from PIL import Image

    from ganzoo.data.bundled import digits_arrays

    images, _ = digits_arrays("train")
    folder.mkdir(parents=True, exist_ok=True)
    for index in np.random.default_rng(seed).permutation(len(images))[:count]:
        Image.fromarray(images[index].reshape(images.shape[1:3])).save(
            folder / f"digit-{index:04d}.png")
    return folder


def train_arm(name, data, out, args):
    """One run of `ganzoo train dcgan` with `--augment name`; returns its wall time."""
    from ganzoo import training

    run = training.plan_run(
        "dcgan", data, out, steps=args.steps, batch_size=BATCH_SIZE, image_size=IMAGE_SIZE,
        latent_dim=LATENT_DIM, model_options=MODEL, seed=0, augment=name,
        eval_every=args.eval_every, eval_data="digits:test", eval_metrics="fid,pr",
        eval_n=TEST_IMAGES, features="digits", overwrite=True, log=lambda line: print(
            f"  [{out.name}] {line}", flush=True))
    start = time.time()
    run.train(verbose=0)
    return time.time() - start


def curves(run_folder, eval_every):
    """(steps, FIDs, recalls, ps) read back from the run's history.csv."""
    steps, fids, recalls, ps = [], [], [], []
    with open(run_folder / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    settings = json.loads((run_folder / "run.json").read_text())
    from ganzoo.training.run import schedule
    from ganzoo import data as data_lib

    _, per_epoch = schedule(settings, data_lib.describe(settings["data"]))
    for row in rows:
        step = (int(row["epoch"]) + 1) * per_epoch
        ps.append((step, float(row["aug_p"])) if "aug_p" in row else (step, 0.0))
        if step % eval_every == 0:
            steps.append(step)
            fids.append(float(row["eval_fid"]))
            recalls.append(float(row["eval_recall"]))
    return steps, fids, recalls, ps


def measure(source):
    """FID, precision and recall of 1,437 samples against the `test` digits."""
    import ganzoo

    results = ganzoo.metrics.evaluate(str(source), "digits", split="test", features="digits",
                                      metrics=("fid", "pr"), n=TRAIN_IMAGES, seed=0,
                                      progress=False)
    return {key: float(results[key]) for key in ("fid", "precision", "recall")}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, entry in results["arms"].items():
        left.plot(entry["curve"]["steps"], entry["curve"]["fid"], marker="o", label=name)
    left.set_yscale("log")
    left.set_xlabel("step")
    left.set_ylabel("FID (digits features, 360 test digits)")
    left.set_title(f"{results['images']} training images")
    left.legend()
    for label, entry in (("ADA, 144 images", results["arms"].get("ada")),
                         ("ADA, 1,437 images", results.get("ada_full"))):
        if entry:
            steps, values = zip(*entry["curve"]["p"])
            right.plot(steps, values, label=label)
    right.set_xlabel("step")
    right.set_ylabel("ADA p")
    right.set_ylim(0, 1)
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def fine_tune_faces(args):
    """Fine-tune the shipped `dcgan-digits` on the 100 bundled faces, with and without
    `--augment ada`: FIDs and grids side by side (`faces.json`, `faces.png`)."""
    import numpy as np

    from ganzoo import images, training

    out = Path(args.out) / "faces"
    results = {}
    grids = []
    for name in ("none", "ada"):
        folder = out / name
        run = training.plan_run(
            "dcgan", "faces", folder, steps=args.faces_steps, batch_size=32,
            preset="dcgan-digits", seed=0, augment=name, eval_every=args.faces_eval_every,
            eval_data="faces", eval_metrics="fid,pr", eval_n=100, features="digits",
            overwrite=True, log=lambda line, tag=name: print(f"  [faces {tag}] {line}",
                                                              flush=True))
        start = time.time()
        run.train(verbose=0)
        steps, fids, recalls, ps = curves(folder, args.faces_eval_every)
        import ganzoo

        final = ganzoo.metrics.evaluate(str(folder / "preset"), "faces", features="digits",
                                        metrics=("fid", "pr"), n=100, seed=0, progress=False)
        results[name] = {"seconds": round(time.time() - start, 1),
                         "final": {k: float(final[k]) for k in ("fid", "precision", "recall")},
                         "curve": {"steps": steps, "fid": fids, "recall": recalls, "p": ps}}
        model = ganzoo.models.DCGAN.from_preset(folder / "preset")
        grids.append(images.grid(model.sample(36, seed=0)))
        print(json.dumps({name: results[name]["final"]}), flush=True)
    gap = np.full((grids[0].shape[0], 8, grids[0].shape[2]), 255, np.uint8)
    images.save_png(np.concatenate([grids[0], gap, grids[1]], axis=1), out / "faces.png")
    (out / "faces.json").write_text(json.dumps(results, indent=1))
    print("| fine-tune on 100 faces | final FID | precision | recall | minutes |")
    print("| --- | --- | --- | --- | --- |")
    for name, entry in results.items():
        final = entry["final"]
        print(f"| --augment {name} | {final['fid']:.2f} | {final['precision']:.3f} | "
              f"{final['recall']:.3f} | {entry['seconds'] / 60:.1f} |")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--eval-every", type=int, default=160,
                        help="steps between evaluations (a multiple of 32, the epoch)")
    parser.add_argument("--images", type=int, default=144, help="size of the small set")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--no-full", action="store_true", help="skip ADA on the full split")
    parser.add_argument("--out", default="runs/small-data")
    parser.add_argument("--part", choices=("digits", "faces", "all"), default="all",
                        help="the from-scratch digits runs, the faces fine-tune, or both")
    parser.add_argument("--faces-steps", type=int, default=640)
    parser.add_argument("--faces-eval-every", type=int, default=128)
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw small-data.png from an earlier run's results.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.plot_only:
        plot(json.loads((out / "results.json").read_text()), out / "small-data.png")
        return 0
    if args.part in ("faces", "all"):
        fine_tune_faces(args)
        if args.part == "faces":
            return 0
    subset = write_subset(out / f"digits-{args.images}", args.images)
    results = {"images": args.images, "steps": args.steps, "batch_size": BATCH_SIZE,
               "model": {**MODEL, "latent_dim": LATENT_DIM}, "arms": {}}
    runs = [(name, subset, out / name) for name in args.arms.split(",")]
    if not args.no_full:
        runs.append(("ada_full", "digits", out / "ada-full"))
    for name, data, folder in runs:
        print(f"training {name} on {data} for {args.steps} steps", flush=True)
        seconds = train_arm("ada" if name == "ada_full" else name, data, folder, args)
        steps, fids, recalls, ps = curves(folder, args.eval_every)
        entry = {"seconds": round(seconds, 1), "final": measure(folder / "preset"),
                 "curve": {"steps": steps, "fid": fids, "recall": recalls, "p": ps}}
        if (folder / "best").exists():
            entry["best"] = measure(folder / "best")
        if name == "ada_full":
            results["ada_full"] = entry
        else:
            results["arms"][name] = entry
        print(json.dumps({name: {k: entry[k] for k in ("seconds", "final")}}), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "small-data.png")

    print(f"\n{args.images} images, {args.steps} steps of batch {BATCH_SIZE}, seed 0; "
          f"1,437 samples vs the {TEST_IMAGES} test digits, digits features")
    print("| arm | final FID | final recall | best FID | best recall | FID / none | minutes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    base = results["arms"].get("none", {}).get("final", {}).get("fid")
    for name, entry in [*results["arms"].items(), ("ada, full split", results.get("ada_full"))]:
        if not entry:
            continue
        best = entry.get("best", entry["final"])
        ratio = f"{entry['final']['fid'] / base:.2f}" if base else "-"
        print(f"| {name} | {entry['final']['fid']:.2f} | {entry['final']['recall']:.3f} | "
              f"{best['fid']:.2f} | {best['recall']:.3f} | {ratio} | "
              f"{entry['seconds'] / 60:.1f} |")
    for label, entry in (("144 images", results["arms"].get("ada")),
                         ("full split", results.get("ada_full"))):
        if entry:
            values = [p for _, p in entry["curve"]["p"]]
            print(f"ADA p on {label}: final {values[-1]:.3f}, max {max(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
