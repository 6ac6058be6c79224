"""Quality after a fixed training budget, float32 against mixed_bfloat16, on this machine.

    .venv/bin/python benchmarks/precision_quality.py [--families dcgan,stylegan_lite]
        [--steps dcgan=1500,stylegan_lite=1000] [--precisions float32,mixed_bfloat16]

For each family, each precision trains the family's digits preset recipe
(`pretrained/recipes/<family>_digits.py`: its networks, batch and compile options, seed 0,
the digits `train` split at 32x32) for the same number of steps, in a child process that
builds the model under `ganzoo.precision.policy`. Each trained model is then measured
as the preset cards are (`_recipe.DIGITS_MEASURE`: 1,437 samples of seed 0 against the
360 `test` images, the `digits` features): FID, KID, precision and recall. The two
precisions of a family run one after the other in one run of this script; the table gives
each one's numbers, its training minutes and the bfloat16 run's FID and time relative to
float32's.

The budget is steps, not minutes: the question is whether 16-bit arithmetic costs quality
for the same training. One seed per run: FID differences of a few tenths between runs of
the same precision are noise (`--seed` to draw again).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RECIPES = Path(__file__).resolve().parent.parent / "pretrained" / "recipes"
FAMILIES = ("dcgan", "stylegan_lite")
PRECISIONS = ("float32", "mixed_bfloat16")
# The dcgan recipe's whole budget; a third of stylegan_lite's (its bfloat16 steps are
# slower on CPUs: see benchmarks/precision.py).
STEPS = {"dcgan": 1500, "stylegan_lite": 1000}


def child(family, precision, steps, seed):
    """Train the family's digits recipe under `precision` for `steps`, measure it; print
    one JSON line."""
    sys.path.insert(0, str(RECIPES))
    import importlib

    import keras

    import _recipe  # noqa: F401  (quiets TensorFlow's logging before Keras loads)
    import ganzoo

    recipe = importlib.import_module(f"{family}_digits")
    compile_options = {"r1_gamma": recipe.R1_GAMMA} if hasattr(recipe, "R1_GAMMA") else {}

    def build():
        with ganzoo.precision.policy(precision):
            return ganzoo.models.get(family)(**recipe.SETTINGS)

    model, trained = _recipe.train_digits(build, steps, recipe.BATCH_SIZE, **compile_options)
    assert model.precision == precision, model.precision
    keras.utils.set_random_seed(seed)
    results = _recipe.evaluate(model, "digits", **{**_recipe.DIGITS_MEASURE, "seed": seed})
    print(json.dumps({"family": family, "precision": precision, "steps": trained["steps"],
                      "minutes": trained["minutes"],
                      **{key: float(results[key]) for key in ("fid", "kid", "precision",
                                                              "recall")}}))


def run_child(family, precision, steps, seed):
    done = subprocess.run(
        [sys.executable, __file__, "--child", family, precision, str(steps), str(seed)],
        capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{family} under {precision} failed: {tail}")
    return json.loads(lines[-1])


def parse_steps(text):
    steps = dict(STEPS)
    for item in filter(None, (text or "").split(",")):
        family, _, count = item.partition("=")
        if family not in STEPS or not count.isdigit() or int(count) < 1:
            raise SystemExit(f"--steps takes FAMILY=N for {', '.join(STEPS)}. "
                             f"Received: {item!r}")
        steps[family] = int(count)
    return steps


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        family, precision, steps, seed = argv[1:5]
        child(family, precision, int(steps), int(seed))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of {', '.join(FAMILIES)}")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--steps", help="FAMILY=N,... (default: "
                        + ", ".join(f"{k}={v}" for k, v in STEPS.items()) + ")")
    parser.add_argument("--seed", type=int, default=0, help="seed of the measured samples")
    args = parser.parse_args(argv)
    families = [name for name in args.families.split(",") if name]
    unknown = [name for name in families if name not in FAMILIES]
    if unknown:
        parser.error(f"--families takes {', '.join(FAMILIES)}. Received: {unknown}")
    precisions = [name for name in args.precisions.split(",") if name]
    steps = parse_steps(args.steps)
    print("| family | precision | steps | minutes | FID | KID | precision | recall "
          "| FID vs float32 | time vs float32 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for family in families:
        base = None
        for precision in precisions:
            found = run_child(family, precision, steps[family], args.seed)
            base = base or found
            print(f"| {family} | {precision} | {found['steps']} | {found['minutes']:.1f} | "
                  f"{found['fid']:.2f} | {found['kid']:.4f} | {found['precision']:.3f} | "
                  f"{found['recall']:.3f} | {found['fid'] / base['fid']:.2f}x | "
                  f"{found['minutes'] / base['minutes']:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
