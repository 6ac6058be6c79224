"""ONNX bundles on a GPU with onnxruntime-gpu: CUDA and TensorRT latencies, fp32 and fp16.

Needs NumPy and onnxruntime-gpu only (no TensorFlow): export the bundles on any machine
(`ganzoo export ... --format onnx [--fp16]`), copy them to the GPU machine and run

    python benchmarks/gpu.py BUNDLE [BUNDLE ...] [--batches 1,32,256] [--repeats 20]

For every bundle, provider (TensorRT, CUDA; those that cannot be created are reported and
skipped) and batch size it prints the median latency of `ganzoo.runtime`'s `run` (host
arrays in and out, I/O binding: one copy each way) and of a run on inputs and outputs
already on the GPU (`device`), after warm-up runs; TensorRT builds its engines during the
warm-up. With --rewritten it also times each fp32 bundle's graph after ganzoo's CPU
rewrites (`ganzoo.export.optimize.optimize_for_cpu`; needs the onnx package), to see what
they do on a GPU. docs/benchmarks.md holds the numbers measured for this project.
"""

import argparse
import json
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _gpu_name():
    try:
        return subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown GPU"


def _time(run, repeats, warmup):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _device_run(generator, feeds):
    """A run on inputs already on the GPU with the output left there."""
    import onnxruntime as ort

    session = generator.session.ort_session
    binding = session.io_binding()
    for name, array in feeds.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array, "cuda", 0))
    for name in generator.session.output_names:
        binding.bind_output(name, "cuda", 0)

    def run():
        session.run_with_iobinding(binding)

    return run


def _rewritten_copies(bundles, scratch):
    """Copies of the fp32 bundles whose model.onnx holds the CPU-rewritten graph."""
    import onnx

    from ganzoo import export
    from ganzoo.export import bundle as bundle_lib
    from ganzoo.export import optimize

    copies = []
    for bundle in bundles:
        metadata = export.read_bundle(bundle)
        if metadata["fp16"] or metadata["format"] != "onnx":
            continue
        name = os.path.basename(os.path.normpath(bundle)) + "-rewritten"
        copy = os.path.join(scratch, name)
        os.makedirs(copy)
        model_file = os.path.join(bundle, metadata.get("model") or "model.onnx")
        rewritten, _ = optimize.optimize_for_cpu(onnx.load(model_file))
        onnx.save(rewritten, os.path.join(copy, "model.onnx"))
        metadata.pop("variants", None)
        bundle_lib.write_metadata(copy, metadata)
        copies.append(copy)
    return copies


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+")
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--providers", default="tensorrt,cuda")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--rewritten", action="store_true",
                        help="also time the fp32 bundles' graphs after the CPU rewrites")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]
    scratch = tempfile.mkdtemp(prefix="ganzoo-gpu-")
    try:
        bundles = list(args.bundles)
        if args.rewritten:
            bundles += _rewritten_copies(bundles, scratch)
        return _measure(args, bundles, batches)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(args, bundles, batches):
    import onnxruntime as ort

    from ganzoo import export, runtime
    from ganzoo.export import bench

    print(f"GPU: {_gpu_name()}; onnxruntime {ort.__version__}, "
          f"providers in this build: {ort.get_available_providers()}")
    results = []
    for provider in args.providers.split(","):
        full_name = runtime.PROVIDERS[provider]
        problem = runtime.provider_problem(full_name)
        if problem:
            print(f"{full_name}: cannot be used here: {problem}")
            continue
        for bundle in bundles:
            metadata = export.read_bundle(bundle)
            try:
                generator = runtime.load(bundle, providers=provider)
            except RuntimeError as error:
                print(f"{full_name} on {bundle}: {error}")
                continue
            precision = "fp16" if metadata["fp16"] else "fp32"
            label = f"{os.path.basename(os.path.normpath(bundle))} ({precision})"
            for batch in batches:
                feeds = bench.input_arrays(metadata["inputs"], batch,
                                           num_classes=metadata.get("num_classes"))
                host = _time(lambda: generator.run(**feeds), args.repeats, args.warmup)
                device = _time(_device_run(generator, feeds), args.repeats, args.warmup)
                row = {"bundle": label, "provider": generator.provider, "batch": batch,
                       "host_ms": 1e3 * host, "device_ms": 1e3 * device,
                       "images_per_s": batch / device}
                results.append(row)
                print(f"{label:<28} {generator.provider:<26} batch {batch:>4}: "
                      f"{row['host_ms']:9.3f} ms host arrays, {row['device_ms']:9.3f} ms on "
                      f"device, {row['images_per_s']:10.0f} images/s", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"gpu": _gpu_name(), "onnxruntime": ort.__version__,
                       "results": results}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
