"""ONNX bundle vs the same Keras generator under tf.function, on this machine's CPU.

The generator has the keras-io DCGAN widths at 64x64 (Dense to 8x8x128, Conv2DTranspose
128 -> 256 -> 512 with kernel 4 and stride 2 and LeakyReLU(0.2), a 5x5 Conv2D to RGB with
a sigmoid): about 4.9 GFLOP per image. Side by side in one process, in interleaved rounds
(`ganzoo.export.bench.measure`), at batch 1 and 32 after two warm-up runs per shape:

- keras:     the generator under `tf.function` (`training=False`);
- onnx:      the bundle from `ganzoo.export.to_onnx` run by `ganzoo.runtime`, which picks
             its CPU-optimised graph `model.cpu.onnx`;
- portable:  the same bundle's plain tf2onnx graph `model.onnx` (`optimized=False`), for
             reference (skip with --no-portable);
- a 2048x2048 float32 NumPy matmul in every round: the machine's practical FLOP/s.

It prints the speed-ups over tf.function and the share of the matmul FLOP/s reached, and
whether the targets of issue 4 hold (ONNX >= 2.5x tf.function at both batch sizes, >= 75%
of the matmul FLOP/s at batch 32). Run with `make bench` or
`.venv/bin/python benchmarks/onnx_vs_keras.py`.
"""

import argparse
import os
import platform
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGET_SPEEDUP = 2.5
TARGET_CEILING_SHARE = 0.75


def keras_io_generator(latent_dim=128, seed=0):
    """The keras-io DCGAN generator (examples/generative/dcgan_overriding_train_step.py)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    latent = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(8 * 8 * 128, name="project")(latent)
    x = layers.Reshape((8, 8, 128), name="reshape")(x)
    for index, width in enumerate((128, 256, 512), start=1):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", name=f"up{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"up{index}_lrelu")(x)
    images = layers.Conv2D(3, 5, padding="same", activation="sigmoid", name="to_image")(x)
    return keras.Model(latent, images, name="keras_io_dcgan_generator")


def layer_flops(generator):
    """FLOPs per image (2 x multiply-adds) from the Keras layers' shapes."""
    total = 0
    for layer in generator.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            total += 2 * layer.input.shape[-1] * layer.units
        elif kind == "Conv2D":
            height, width, channels = layer.output.shape[1:]
            kh, kw = layer.kernel_size
            total += 2 * height * width * channels * kh * kw * layer.input.shape[-1]
        elif kind == "Conv2DTranspose":
            height, width, channels = layer.input.shape[1:]
            kh, kw = layer.kernel_size
            total += 2 * height * width * channels * kh * kw * layer.filters
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,32", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per batch")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per shape")
    parser.add_argument("--min-time", type=float, default=40,
                        help="seconds of timed rounds per batch, at least")
    parser.add_argument("--threads", type=int, help="onnxruntime threads (default: cores)")
    parser.add_argument("--opset", type=int, help="ONNX opset of the export (default 17)")
    parser.add_argument("--no-portable", action="store_true",
                        help="leave out the plain tf2onnx graph")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    import ganzoo
    from ganzoo.export import bench

    generator = keras_io_generator()
    flops = layer_flops(generator)
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as scratch:
        bundle = os.path.join(scratch, "onnx")
        metadata = ganzoo.export.to_onnx(generator, bundle, opset=args.opset)
        graph_flops = bench.onnx_flops(os.path.join(bundle, "model.onnx"))
        print(f"generator: keras-io DCGAN widths, 64x64x3, latent 128, "
              f"{generator.count_params():,} parameters")
        print(f"FLOPs per image: {flops / 1e9:.3f} G from the Keras layers, "
              f"{graph_flops / 1e9:.3f} G counted in the ONNX graph")
        print(f"export parity (max abs diff vs Keras): {metadata['parity']['models']}")
        print(f"CPU rewrites: {metadata.get('variants', {}).get('cpu', {}).get('rewrites')}")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
              f"logical CPUs; tensorflow {tf.__version__}, onnxruntime {ort.__version__}, "
              f"numpy {np.__version__}")

        backends = [
            bench.KerasBackend(generator, metadata["inputs"]),
            bench.OnnxBackend(bundle, providers="cpu", threads=args.threads),
        ]
        if not args.no_portable:
            backends.append(bench.OnnxBackend(bundle, providers="cpu", threads=args.threads,
                                              optimized=False, name="portable"))
        load_before = os.getloadavg()[0]
        report = bench.measure(backends, metadata["inputs"], batches, repeats=args.repeats,
                               min_time=args.min_time, warmup=args.warmup,
                               flops_per_image=flops, ceiling=True)
        load_after = os.getloadavg()[0]
    print()
    print(bench.format_report(report))
    print(f"load average (1 min) before / after timing: {load_before:.2f} / {load_after:.2f} "
          f"(this benchmark alone keeps it near 2; more means other processes share the CPUs)")
    print()
    ok = True
    for batch in batches:
        speedup = report.speedup("onnx", batch)
        line = f"batch {batch:>3}: onnx is {speedup:.2f}x tf.function"
        ok &= speedup >= TARGET_SPEEDUP
        if "portable" in [backend.name for backend in backends]:
            line += f" (plain tf2onnx graph: {report.speedup('portable', batch):.2f}x)"
        share = report.get("onnx", batch).gflops / report.matmul_gflops[batch]
        line += f"; {100 * share:.0f}% of the matmul's {report.matmul_gflops[batch]:.0f} GFLOP/s"
        if batch == 32:
            ok &= share >= TARGET_CEILING_SHARE
        print(line)
    print(f"targets (>= {TARGET_SPEEDUP}x at every batch, >= "
          f"{100 * TARGET_CEILING_SHARE:.0f}% of the matmul at batch 32): "
          f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
