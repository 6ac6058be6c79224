"""What each CPU choice is worth, on the keras-io DCGAN generator of onnx_vs_keras.py.

Side by side in one process (interleaved rounds, two warm-up runs per shape, median):

- default:    `ganzoo.runtime` on the bundle's model.cpu.onnx (what users get);
- portable:   the plain tf2onnx graph model.onnx, same session settings;
- opset18:    model.cpu.onnx of a bundle exported with opset 18;
- no-spin:    default, with `session.intra_op.allow_spinning` = 0;
- no-arena:   default, without the CPU memory arena and memory patterns;
- 1-thread:   default, with one intra-op thread;
- ort-basic:  the ganzoo rewrites alone, onnxruntime at ORT_ENABLE_BASIC (no Conv +
              activation fusion, no NCHWc layout).

Run: `.venv/bin/python benchmarks/cpu_options.py [--batches 1,32] [--repeats 7]`.
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class SessionBackend:
    """A raw onnxruntime session on one file with chosen options."""

    def __init__(self, name, path, threads=None, spinning=True, arena=True,
                 level="ORT_ENABLE_ALL"):
        import onnxruntime as ort

        from ganzoo import runtime

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads or runtime.physical_cores()
        options.add_session_config_entry("session.intra_op.allow_spinning",
                                         "1" if spinning else "0")
        options.enable_cpu_mem_arena = arena
        options.enable_mem_pattern = arena
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        self.name = name
        self.detail = f"{os.path.basename(path)}, {options.intra_op_num_threads} thread(s)"
        self._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def prepare(self, feeds):
        return lambda: self._session.run(None, feeds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=40,
                        help="seconds of timed rounds per batch, at least")
    args = parser.parse_args(argv)
    batches = [int(batch) for batch in args.batches.split(",")]

    import onnx

    import ganzoo
    from ganzoo.export import bench, optimize
    from onnx_vs_keras import keras_io_generator, layer_flops

    generator = keras_io_generator()
    with tempfile.TemporaryDirectory(prefix="ganzoo-options-") as scratch:
        bundle, bundle18 = os.path.join(scratch, "b17"), os.path.join(scratch, "b18")
        metadata = ganzoo.export.to_onnx(generator, bundle)
        ganzoo.export.to_onnx(generator, bundle18, opset=18)
        rewritten, _ = optimize.optimize_for_cpu(onnx.load(os.path.join(bundle, "model.onnx")))
        basic = os.path.join(scratch, "rewritten.onnx")
        onnx.save(rewritten, basic)
        cpu = os.path.join(bundle, "model.cpu.onnx")
        backends = [
            bench.OnnxBackend(bundle, providers="cpu", name="default"),
            SessionBackend("portable", os.path.join(bundle, "model.onnx")),
            SessionBackend("opset18", os.path.join(bundle18, "model.cpu.onnx")),
            SessionBackend("no-spin", cpu, spinning=False),
            SessionBackend("no-arena", cpu, arena=False),
            SessionBackend("1-thread", cpu, threads=1),
            SessionBackend("ort-basic", basic, level="ORT_ENABLE_BASIC"),
        ]
        load_before = os.getloadavg()[0]
        report = bench.measure(backends, metadata["inputs"], batches, repeats=args.repeats,
                               min_time=args.min_time, flops_per_image=layer_flops(generator),
                               ceiling=True)
    print(bench.format_report(report, baseline="default"))
    print(f"load average (1 min) before / after timing: {load_before:.2f} / "
          f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
