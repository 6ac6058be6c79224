"""Every registered family's default generator: ONNX bundle vs tf.function on this CPU.

For each name in `ganzoo.models.names()`, builds the family with its default arguments
(random weights: speed does not depend on them), exports it with `ganzoo.export.to_onnx`,
and times the Keras generator under `tf.function` against the bundle run by
`ganzoo.runtime`, side by side at batch 1 and 32 (two warm-up runs per shape, median of
interleaved rounds). Prints each family's table, then a summary of the speed-ups. Run with
`make bench` or `.venv/bin/python benchmarks/families.py [--families dcgan,gan]`.
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma-separated names (default: all registered)")
    parser.add_argument("--batches", default="1,32", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per batch")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per shape")
    parser.add_argument("--min-time", type=float, default=10,
                        help="seconds of timed rounds per batch, at least")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import keras

    import ganzoo
    from ganzoo.export import bench

    names = args.families.split(",") if args.families else ganzoo.models.names()
    summary = []
    for name in names:
        keras.utils.set_random_seed(0)
        model = ganzoo.models.get(name)()
        with tempfile.TemporaryDirectory(prefix=f"ganzoo-bench-{name}-") as scratch:
            bundle = os.path.join(scratch, "onnx")
            metadata = ganzoo.export.to_onnx(model, bundle)
            flops = bench.onnx_flops(os.path.join(bundle, "model.onnx"))
            backends = [
                bench.KerasBackend(model.generator, metadata["inputs"]),
                bench.OnnxBackend(bundle, providers="cpu"),
            ]
            report = bench.measure(backends, metadata["inputs"], batches,
                                   repeats=args.repeats, min_time=args.min_time,
                                   warmup=args.warmup,
                                   num_classes=metadata.get("num_classes"),
                                   flops_per_image=flops)
        rewrites = metadata.get("variants", {}).get("cpu", {}).get("rewrites") or {}
        print(f"\n== {name}: {model.generator.count_params():,} generator parameters, "
              f"image {tuple(model.image_shape)}, {flops / 1e9:.3f} GFLOP per image, "
              f"CPU rewrites {rewrites or 'none'}")
        print(bench.format_report(report))
        summary.append((name, [report.speedup("onnx", batch) for batch in batches]))

    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print("speed-up of the ONNX bundle over tf.function")
    print(f"{'family':<16}" + "".join(f"{'batch ' + str(batch):>10}" for batch in batches))
    for name, speedups in summary:
        print(f"{name:<16}" + "".join(f"{speedup:>9.2f}x" for speedup in speedups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
