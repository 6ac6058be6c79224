"""Keras 3 on JAX vs onnxruntime-gpu (CUDA), the keras-io generator on one GPU, side by side.

TensorFlow cannot run on the project's GPU machine (docs/benchmarks.md, "GPU"), so this
compares the exported bundles with the nearest thing available there: the same Keras
generator (`keras_io_generator()` of benchmarks/onnx_vs_keras.py, weights loaded from the
.weights.h5 file saved next to the export) run by Keras 3 with the JAX backend. Needs
keras, jax with CUDA, NumPy and onnxruntime-gpu; no TensorFlow. Export on any machine with
ganzoo:

    from onnx_vs_keras import keras_io_generator
    generator = keras_io_generator()
    generator.save_weights("gpu/kerasio.weights.h5")
    ganzoo.export.to_onnx(generator, "gpu/kerasio-fp32", optimize=False)
    ganzoo.export.to_onnx(generator, "gpu/kerasio-fp16", optimize=False, fp16=True)

then on the GPU machine

    python benchmarks/gpu_keras_vs_onnx.py gpu/kerasio.weights.h5 gpu/kerasio-fp32 \
        gpu/kerasio-fp16 [--batches 1,32,256] [--repeats 50] [--warmup 10]

Contestants, all in one process, timed one call each in turn (interleaved) per batch:

- jax fp32:        `jax.jit` of `model.stateless_call(..., training=False)` (XLA's default
                   precision: TF32 convolutions on Hopper);
- jax fp32 highest: the same under `jax.default_matmul_precision("highest")` (true fp32);
- jax mixed_fp16:  the generator rebuilt under the `mixed_float16` dtype policy, same weights;
- keras predict_on_batch: Keras's own jitted predict function (host arrays only);
- ort fp32 / ort fp16: the bundles through `ganzoo.runtime` on the CUDA provider.

*host*: NumPy latents in, NumPy images out (one copy each way). *device*: input already on
the GPU, output left there (JAX: `block_until_ready()`; onnxruntime: I/O binding of CUDA
OrtValues). Medians after warm-up. Outputs are checked against onnxruntime's CPU provider
on the fp32 bundle.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # leave room for onnxruntime
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def _gpu_name():
    try:
        return subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown GPU"


def _jax_contestants(weights, policy=None):
    import jax
    import keras

    from onnx_vs_keras import keras_io_generator

    if policy:
        keras.config.set_dtype_policy(policy)
    try:
        model = keras_io_generator()
    finally:
        keras.config.set_dtype_policy("float32")
    model.load_weights(weights)
    # Copies: Keras's own predict_on_batch donates the variables' buffers to its jitted step.
    trainable = [jax.numpy.array(v.value, copy=True) for v in model.trainable_variables]
    non_trainable = [jax.numpy.array(v.value, copy=True) for v in model.non_trainable_variables]

    def forward(trainable, non_trainable, latent):
        outputs, _ = model.stateless_call(trainable, non_trainable, latent, training=False)
        return outputs

    return model, jax.jit(forward), trainable, non_trainable


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("fp32_bundle")
    parser.add_argument("fp16_bundle")
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np
    import onnxruntime as ort

    from ganzoo import runtime

    print(f"GPU: {_gpu_name()}")
    print(f"keras {keras.__version__} (backend {keras.backend.backend()}), jax {jax.__version__} "
          f"on {jax.devices()}, onnxruntime {ort.__version__} {ort.get_available_providers()}")

    model, jitted, trainable, non_trainable = _jax_contestants(args.weights)
    _, jitted16, trainable16, non_trainable16 = _jax_contestants(args.weights, "mixed_float16")

    def highest(trainable, non_trainable, latent):
        with jax.default_matmul_precision("highest"):
            return jitted_highest(trainable, non_trainable, latent)

    jitted_highest = jax.jit(lambda t, n, x: model.stateless_call(t, n, x, training=False)[0])

    ort32 = runtime.load(args.fp32_bundle, providers="cuda")
    ort16 = runtime.load(args.fp16_bundle, providers="cuda")
    cpu = runtime.load(args.fp32_bundle, providers="cpu", optimized=False)
    print(f"onnxruntime providers: {ort32.provider}, {ort16.provider}; reference {cpu.provider}")

    def ort_device(generator, latent):
        session = generator.session.ort_session
        binding = session.io_binding()
        binding.bind_ortvalue_input("latent", ort.OrtValue.ortvalue_from_numpy(latent, "cuda", 0))
        for name in generator.session.output_names:
            binding.bind_output(name, "cuda", 0)

        def run():
            session.run_with_iobinding(binding)
            binding.synchronize_outputs()

        return run

    rng = np.random.default_rng(0)
    rows = []
    for batch in batches:
        latent = rng.standard_normal((batch, 128)).astype(np.float32)
        on_gpu = jax.device_put(jnp.asarray(latent))
        jax_fns = {
            "jax fp32": (jitted, trainable, non_trainable),
            "jax fp32 highest": (None, trainable, non_trainable),
            "jax mixed_fp16": (jitted16, trainable16, non_trainable16),
        }
        contestants = {}  # name -> (host run, device run or None, output for the check)
        for name, (fn, t, n) in jax_fns.items():
            call = (lambda x, t=t, n=n: highest(t, n, x)) if fn is None else (
                lambda x, fn=fn, t=t, n=n: fn(t, n, x))
            contestants[name] = (
                lambda call=call: np.asarray(call(latent)),
                lambda call=call: call(on_gpu).block_until_ready(),
                lambda call=call: np.asarray(call(latent), dtype=np.float32),
            )
        contestants["keras predict_on_batch"] = (
            lambda: model.predict_on_batch(latent), None, lambda: model.predict_on_batch(latent))
        for name, generator in (("ort fp32", ort32), ("ort fp16", ort16)):
            contestants[name] = (
                lambda g=generator: g.run(latent=latent),
                ort_device(generator, latent),
                lambda g=generator: np.asarray(g.run(latent=latent), dtype=np.float32),
            )

        reference = cpu.run(latent=latent)
        diffs = {name: float(np.max(np.abs(entry[2]() - reference)))
                 for name, entry in contestants.items()}

        runs = []  # (name, kind, fn)
        for name, (host, device, _) in contestants.items():
            runs.append((name, "host", host))
            if device is not None:
                runs.append((name, "device", device))
        for _, _, fn in runs:
            for _ in range(args.warmup):
                fn()
        times = {(name, kind): [] for name, kind, _ in runs}
        for repeat in range(args.repeats):
            shift = repeat % len(runs)
            for name, kind, fn in runs[shift:] + runs[:shift]:
                start = time.perf_counter()
                fn()
                times[(name, kind)].append(time.perf_counter() - start)
        for name in contestants:
            host = statistics.median(times[(name, "host")]) * 1e3
            device = times.get((name, "device"))
            device = statistics.median(device) * 1e3 if device else None
            rows.append((name, batch, host, device, diffs[name]))

    print()
    print(f"Medians of {args.repeats} interleaved runs after {args.warmup} warm-up runs each; "
          "max |diff| against onnxruntime CPU on the fp32 bundle.")
    print()
    print("| runner | batch | host | device | images/s (device) | max abs diff vs CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, batch, host, device, diff in rows:
        device_text = f"{device:.3f} ms" if device is not None else "n/a"
        rate = f"{batch / device * 1e3:,.0f}" if device is not None else "n/a"
        print(f"| {name} | {batch} | {host:.3f} ms | {device_text} | {rate} | {diff:.1e} |")

    # JAX vs onnxruntime directly, on the same latents.
    print()
    latent = np.random.default_rng(1).standard_normal((32, 128)).astype(np.float32)
    jax32 = np.asarray(jitted(trainable, non_trainable, latent))
    jaxhi = np.asarray(highest(trainable, non_trainable, latent))
    jax16 = np.asarray(jitted16(trainable16, non_trainable16, latent), dtype=np.float32)
    o32 = ort32.run(latent=latent)
    o16 = np.asarray(ort16.run(latent=latent), dtype=np.float32)
    checks = [
        ("jax fp32 vs ort fp32 (CUDA)", float(np.max(np.abs(jax32 - o32))), 1e-3),
        ("jax fp32 highest vs ort fp32 (CUDA)", float(np.max(np.abs(jaxhi - o32))), 1e-3),
        ("jax mixed_fp16 vs ort fp16 (CUDA)", float(np.max(np.abs(jax16 - o16))), 2e-2),
    ]
    failed = False
    for label, diff, bound in checks:
        ok = diff <= bound
        failed |= not ok
        print(f"{label}: max abs diff {diff:.2e} (bound {bound:g}): {'ok' if ok else 'FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
