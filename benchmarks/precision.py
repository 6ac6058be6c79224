"""Training speed and peak memory of every family under each precision, on this machine.

    .venv/bin/python benchmarks/precision.py [--families dcgan,stylegan_lite] [--steps 10]

For each family and each of float32, mixed_bfloat16 and mixed_float16, a child process
builds the model under `ganzoo.precision.policy`, compiles it with its defaults (float16:
loss-scaled optimizers) and times `--steps` training steps of `fit` after `--warmup`
untimed ones, on random images of the family's size; the parent reads the child's peak
resident memory. The three precisions of a family run one after the other, in one run of
this script, so the ratios compare like with like. Prints a table per family with steps/s
and peak memory, and each mixed precision's speed and memory relative to float32.

On a CPU, mixed precision is not expected to be faster: TensorFlow's CPU kernels for
bfloat16 need the AVX-512 BF16 or AMX instructions to be quick, and float16 is emulated.
The script reports what it sees; the GPU figures (where 16-bit math is the point) come
from `benchmarks/gpu.py`, which times the networks in Keras on JAX (no TensorFlow there).
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# Each family at the size and widths of its shipped preset's recipe (or the CLI default).
SETTINGS = {
    "gan": dict(image_shape=(32, 32, 1), latent_dim=64),
    "dcgan": dict(image_shape=(32, 32, 1), latent_dim=64),
    "cgan": dict(image_shape=(32, 32, 1), latent_dim=64, num_classes=10),
    "wgan_gp": dict(image_shape=(32, 32, 1), latent_dim=64),
    "sagan": dict(image_shape=(32, 32, 1), latent_dim=64),
    "stylegan_lite": dict(image_shape=(32, 32, 1), latent_dim=64, style_dim=64,
                          mapping_layers=4, channel_base=512, channel_max=32),
    "cyclegan": dict(image_shape=(32, 32, 3)),
    "srgan": dict(image_shape=(48, 48, 3), scale=4, filters=32, blocks=4, disc_filters=16,
                  pretrain_steps=0),
}
BATCH = {"wgan_gp": 30, "cyclegan": 4, "srgan": 16}


def child(family, precision, steps, warmup):
    """Build, compile and time `fit`; print one JSON line."""
    import numpy as np
    import tensorflow as tf

    import ganzoo

    settings = dict(SETTINGS[family])
    batch = BATCH.get(family, 32)
    rng = np.random.default_rng(0)
    with ganzoo.precision.policy(precision):
        model = ganzoo.models.get(family)(**settings, seed=0)
    model.compile()
    shape = model.image_shape
    if family == "cyclegan":
        data = (rng.uniform(-1, 1, (batch, *shape)), rng.uniform(-1, 1, (batch, *shape)))
    elif family == "srgan":
        low = (shape[0] // 4, shape[1] // 4, shape[2])
        data = (rng.uniform(-1, 1, (batch, *low)), rng.uniform(-1, 1, (batch, *shape)))
    elif family == "cgan":
        data = (rng.uniform(-1, 1, (batch, *shape)), rng.integers(0, 10, batch))
    else:
        data = rng.uniform(-1, 1, (batch, *shape))
    data = tf.nest.map_structure(lambda array: tf.constant(array.astype(
        "int32" if array.dtype.kind == "i" else "float32")), data)
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    model.fit(dataset, steps_per_epoch=warmup, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"steps_per_second": steps / seconds, "batch": batch}))


def measure(family, precision, steps, warmup):
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", family, precision, str(steps), str(warmup)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    error = process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        return {"error": (error.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        family, precision, steps, warmup = argv[1], argv[2], int(argv[3]), int(argv[4])
        return child(family, precision, steps, warmup)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma-separated (default: all eight)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps (tracing)")
    args = parser.parse_args(argv)
    families = args.families.split(",") if args.families else list(SETTINGS)
    print("| family | batch | precision | steps/s | peak MiB | speed vs float32 | "
          "memory vs float32 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for family in families:
        base = None
        for precision in PRECISIONS:
            found = measure(family, precision, args.steps, args.warmup)
            if "error" in found:
                print(f"| {family} | | {precision} | failed: {found['error']} | | | |")
                continue
            base = base or (found if precision == "float32" else None)
            speed = memory = ""
            if base and precision != "float32":
                speed = f"{found['steps_per_second'] / base['steps_per_second']:.2f}x"
                memory = f"{found['peak_mib'] / base['peak_mib']:.2f}x"
            print(f"| {family} | {found['batch']} | {precision} | "
                  f"{found['steps_per_second']:.2f} | {found['peak_mib']:.0f} | {speed} | "
                  f"{memory} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
