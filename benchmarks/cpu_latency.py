"""Where batch 1 loses on this CPU: the CPU graph's rewrites and onnxruntime's settings, one
at a time, against tf.function, on the keras-io DCGAN generator of onnx_vs_keras.py.

Side by side in one process (interleaved rounds, `ganzoo.export.bench.measure`, medians),
at each batch size:

- keras:          the Keras generator under `tf.function` (the baseline);
- default:        what `ganzoo.runtime.load` runs on CPU (the bundle's model.cpu.onnx);
- no-<rewrite>:   model.cpu.onnx rebuilt without that rewrite (`fold_channel_affine`,
                  `lower_conv_transpose`, `split_narrow_conv`), the others kept;
- no-rewrites:    the plain tf2onnx graph after onnxruntime's EXTENDED optimisations;
- <N>-thread(s):  model.cpu.onnx with N intra-op threads;
- no-spin:        model.cpu.onnx without intra-op spinning;
- extended:       model.cpu.onnx at ORT_ENABLE_EXTENDED (no NCHWc layout at load);
- dynamic-block:  model.cpu.onnx with `session.dynamic_block_base` 4 (work handed to the
                  threads in shrinking blocks);
- denormal-zero:  model.cpu.onnx with `session.set_denormal_as_zero`;
- a 2048x2048 float32 NumPy matmul in every round: the machine's practical FLOP/s.

With --profile DIR, onnxruntime's profiler also runs the default graph at each batch
size (after a warm-up) and the per-operator totals are printed, largest first.

Run: `.venv/bin/python benchmarks/cpu_latency.py [--batches 1,32] [--repeats 7]
[--min-time 30] [--profile /tmp/ort-profile]`
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from collections import defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class SessionBackend:
    """A raw onnxruntime CPU session on one file with chosen options."""

    def __init__(self, name, path, threads=None, spinning=True, level="ORT_ENABLE_ALL",
                 config=None):
        import onnxruntime as ort

        from ganzoo import runtime

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads or runtime.physical_cores()
        options.add_session_config_entry("session.intra_op.allow_spinning",
                                         "1" if spinning else "0")
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        for key, value in (config or {}).items():
            options.add_session_config_entry(key, value)
        self.name = name
        self.detail = (f"{os.path.basename(path)}, {options.intra_op_num_threads} thread(s)"
                       f"{'' if spinning else ', no spinning'}, {level}"
                       + "".join(f", {key}={value}" for key, value in (config or {}).items()))
        self._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def prepare(self, feeds):
        return lambda: self._session.run(None, feeds)


def profile(path, feeds, folder, runs=20, warmup=3):
    """Per-operator-type totals (microseconds per run) of onnxruntime's profiler over
    `runs` runs after `warmup` untimed ones."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(folder, "ort")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    for _ in range(warmup + runs):
        session.run(None, feeds)
    with open(session.end_profiling()) as handle:
        events = json.load(handle)
    starts = sorted(event["ts"] for event in events if event.get("name") == "model_run")
    first = starts[warmup]
    totals = defaultdict(float)
    for event in events:
        if (event.get("cat") == "Node" and event["name"].endswith("_kernel_time")
                and event["ts"] >= first):
            totals[event["args"]["op_name"]] += event["dur"]
    return {op: micros / runs for op, micros in sorted(totals.items(), key=lambda kv: -kv[1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=30,
                        help="seconds of timed rounds per batch, at least")
    parser.add_argument("--profile", help="also profile the default graph into this folder")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import onnx
    import onnxruntime as ort

    import ganzoo
    from ganzoo import runtime
    from ganzoo.export import bench, optimize
    from ganzoo.export.onnx_export import save_cpu_optimized
    from onnx_vs_keras import keras_io_generator, layer_flops

    generator = keras_io_generator()
    with tempfile.TemporaryDirectory(prefix="ganzoo-latency-") as scratch:
        bundle = os.path.join(scratch, "bundle")
        metadata = ganzoo.export.to_onnx(generator, bundle)
        plain = onnx.load(os.path.join(bundle, "model.onnx"))
        cpu = os.path.join(bundle, "model.cpu.onnx")
        variants = {}
        for left_out in (*optimize.REWRITES, "rewrites"):
            kept = () if left_out == "rewrites" else [
                name for name in optimize.REWRITES if name != left_out]
            rewritten, _ = optimize.optimize_for_cpu(plain, rewrites=kept)
            variants[f"no-{left_out}"] = os.path.join(scratch, f"no-{left_out}.onnx")
            save_cpu_optimized(rewritten, variants[f"no-{left_out}"])
        cores = runtime.physical_cores()
        backends = [bench.KerasBackend(generator, metadata["inputs"]),
                    bench.OnnxBackend(bundle, providers="cpu", name="default")]
        backends += [SessionBackend(name, path) for name, path in variants.items()]
        backends += [SessionBackend(f"{threads}-thread{'s' * (threads > 1)}", cpu,
                                    threads=threads)
                     for threads in sorted({1, cores, 2 * cores} - {cores})]
        backends += [SessionBackend("no-spin", cpu, spinning=False),
                     SessionBackend("extended", cpu, level="ORT_ENABLE_EXTENDED"),
                     SessionBackend("dynamic-block", cpu,
                                    config={"session.dynamic_block_base": "4"}),
                     SessionBackend("denormal-zero", cpu,
                                    config={"session.set_denormal_as_zero": "1"})]
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
              f"logical CPUs, {cores} physical; onnxruntime {ort.__version__}")
        print(f"CPU rewrites of the default graph: {metadata['variants']['cpu']['rewrites']}")
        load_before = os.getloadavg()[0]
        report = bench.measure(backends, metadata["inputs"], batches, repeats=args.repeats,
                               min_time=args.min_time, flops_per_image=layer_flops(generator),
                               ceiling=True)
        load_after = os.getloadavg()[0]
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)
            for batch in batches:
                feeds = bench.input_arrays(metadata["inputs"], batch)
                print(f"\nonnxruntime profile of model.cpu.onnx at batch {batch} "
                      "(microseconds per run, by operator):")
                for op, micros in profile(cpu, feeds, args.profile).items():
                    print(f"  {op:<28} {micros:10.0f}")
    print()
    print(bench.format_report(report))
    print(f"load average (1 min) before / after timing: {load_before:.2f} / {load_after:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
