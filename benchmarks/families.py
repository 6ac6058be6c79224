"""Every family's shipped generator: ONNX bundle vs tf.function on this CPU, at batch 1 and 32.

For each family, its shipped preset (`dcgan-digits`, `cgan-digits`, `wgan_gp-digits`,
`sagan-digits`, `stylegan_lite-digits` sampling; `cyclegan-grass2gravel` translating at its
training size; `srgan-x4-photos` upscaling a 128x128 picture to 512x512, at batch 4 at most (32 of
them do not fit in 24 GiB under tf.function); `gan`, which ships
no preset, at its CLI defaults with seeded random weights: speed does not depend on the
weights) is exported with `ganzoo.export.to_onnx` and its Keras generator under
`tf.function` is timed against the bundle run by `ganzoo.runtime` loaded with
`tune=True` (batches of one on the graph and thread count it timed fastest at load;
`--untuned` for the plain load), side by side in one process
(two warm-up runs per shape, median of interleaved rounds, a 2048x2048 NumPy matmul in
every round as the machine's practical FLOP/s ceiling).

Prints each family's table, then a summary: the bundle's speed-up over tf.function and its
share of the matmul's FLOP/s at each batch, with the CPU (`lscpu` model name and the vector
extensions onnxruntime and oneDNN use). `--defaults` times every family's default
constructor instead of the presets (random weights). Run with `make bench` or
`.venv/bin/python benchmarks/families.py [--families dcgan,srgan] [--min-time 10]`.
"""

import argparse
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# family: (shipped preset or None, spatial size of the inputs it is timed at)
SHIPPED = {
    "gan": (None, None),
    "dcgan": ("dcgan-digits", None),
    "cgan": ("cgan-digits", None),
    "wgan_gp": ("wgan_gp-digits", None),
    "sagan": ("sagan-digits", None),
    "stylegan_lite": ("stylegan_lite-digits", None),
    "cyclegan": ("cyclegan-grass2gravel", "image"),
    "srgan": ("srgan-x4-photos", 128),
}
# Batch sizes above this are timed at it instead: 32 upscales of a 128x128 picture to
# 512x512 do not fit in 24 GiB under tf.function (its process was killed for memory).
MAX_BATCH = {"srgan": 4}
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_description():
    """The CPU as `lscpu` names it, with the vector extensions that matter here."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown CPU (no lscpu)"
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    model = fields.get("Model name", "?").strip()
    flags = set(fields.get("Flags", "").split())
    cores = os.cpu_count()
    return f"{model}, {cores} logical CPUs, flags: {' '.join(f for f in FLAGS if f in flags)}"


def build(name, defaults):
    """(model, what it is) for family `name`."""
    import keras

    import ganzoo

    preset = None if defaults else SHIPPED[name][0]
    if preset is None:
        keras.utils.set_random_seed(0)
        return ganzoo.models.get(name)(), f"{name} defaults, random weights"
    return ganzoo.models.load(preset), f"preset {preset}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma-separated names (default: all registered)")
    parser.add_argument("--defaults", action="store_true",
                        help="each family's default constructor instead of its preset")
    parser.add_argument("--untuned", action="store_true",
                        help="load bundles without tune=True (every batch on model.cpu.onnx)")
    parser.add_argument("--batches", default="1,32", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per batch")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per shape")
    parser.add_argument("--min-time", type=float, default=10,
                        help="seconds of timed rounds per batch, at least")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import ganzoo
    from ganzoo.export import bench

    names = args.families.split(",") if args.families else ganzoo.models.names()
    unknown = [name for name in names if name not in SHIPPED]
    if unknown:
        parser.error(f"--families takes {', '.join(SHIPPED)}. Received: {unknown}")
    print(f"CPU: {cpu_description()}")
    summary = []
    for name in names:
        model, what = build(name, args.defaults)
        spatial = SHIPPED[name][1]
        if spatial == "image":
            spatial = model.image_shape[0]
        spatial = spatial or bench.DEFAULT_SPATIAL_SIZE
        with tempfile.TemporaryDirectory(prefix=f"ganzoo-bench-{name}-") as scratch:
            bundle = os.path.join(scratch, "onnx")
            metadata = ganzoo.export.to_onnx(model, bundle)
            flops = bench.onnx_flops(os.path.join(bundle, "model.onnx"), spatial=spatial)
            onnx = bench.OnnxBackend(bundle, providers="cpu", tune=not args.untuned)
            backends = [bench.KerasBackend(model.inference_generator(), metadata["inputs"]),
                        onnx]
            family_batches = sorted({min(batch, MAX_BATCH.get(name, batch))
                                     for batch in batches})
            report = bench.measure(backends, metadata["inputs"], family_batches,
                                   repeats=args.repeats, min_time=args.min_time,
                                   warmup=args.warmup, spatial=spatial,
                                   num_classes=metadata.get("num_classes"),
                                   flops_per_image=flops, ceiling=True)
            chosen = onnx.generator.cpu_choice
        rewrites = metadata.get("variants", {}).get("cpu", {}).get("rewrites") or {}
        print(f"\n== {name} ({what}): {model.inference_generator().count_params():,} "
              f"generator parameters, {flops / 1e9:.3f} GFLOP per image at input size "
              f"{spatial if metadata['inputs'][0].get('role') == 'image' else 'fixed'}, "
              f"CPU rewrites {rewrites or 'none'}"
              + (f"; tuned at load: batch 1 on {chosen['batch 1']} "
                 f"(candidates, ms: {chosen['timings_ms']})" if chosen else ""))
        print(bench.format_report(report))
        summary.append((name, what, [
            (report.speedup("onnx", batch), report.get("onnx", batch).gflops
             / report.matmul_gflops[batch], batch)
            for batch in (min(batch, MAX_BATCH.get(name, batch)) for batch in batches)]))

    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print("ONNX bundle vs tf.function (speed-up; share of the matmul's FLOP/s)\n")
    print("| family | generator | " + " | ".join(f"batch {batch}" for batch in batches) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in batches) + " |")
    for name, what, cells in summary:
        print(f"| {name} | {what} | " + " | ".join(
            f"{speedup:.2f}x; {100 * share:.0f}%" + (f" (batch {used})" if used != batch else "")
            for (speedup, share, used), batch in zip(cells, batches)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
