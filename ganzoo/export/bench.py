"""Latency of one generator on several backends, measured side by side in one process.

Backends: `keras` (the generator called under `tf.function`, `training=False`),
`savedmodel` (the exported `serving_default` signature) and `onnx` (an ONNX bundle through
`ganzoo.runtime`). Every backend gets the same inputs; each is warmed up at each batch size
(onnxruntime's first runs at a new shape are much slower) and then timed in rounds, one
run of every backend per round, so that a change in machine load hits all backends alike.
The median over rounds is reported. A run can be slowed by the one before it: onnxruntime,
BLAS and TensorFlow worker threads keep spinning for a while after their work and take the
cores from the next backend (2x at batch 1 was seen on a 2-core machine). So each timed run
starts after a short pause, and the order within a round rotates from round to round.
Optionally a 2048x2048 float32 NumPy matmul joins the rounds as the machine's practical
FLOP/s ceiling.

What `ganzoo bench SOURCE` does, from Python:

```python
report = ganzoo.export.bench.run("dcgan-digits", batches=[1, 32], repeats=5)
print(ganzoo.export.bench.format_report(report))
```

Only the `keras` and `savedmodel` backends import TensorFlow, when they are built.
"""

import dataclasses
import math
import os
import statistics
import tempfile
import time

import numpy as np

from ganzoo import _bundle, _memory, _sampling
from ganzoo import export as export_lib
from ganzoo import sources

BACKENDS = ("keras", "savedmodel", "onnx")
MATMUL_SIZE = 2048
# Size given to dynamic spatial axes of image and noise inputs.
DEFAULT_SPATIAL_SIZE = 64


@dataclasses.dataclass
class Measurement:
    """Timings of one backend at one batch size."""

    backend: str
    batch: int
    seconds: list
    detail: str = ""
    flops_per_image: float = None

    @property
    def median_s(self):
        return statistics.median(self.seconds)

    @property
    def latency_ms(self):
        return 1e3 * self.median_s

    @property
    def images_per_s(self):
        return self.batch / self.median_s

    @property
    def gflops(self):
        """Sustained GFLOP/s, or None without a FLOP count."""
        if not self.flops_per_image:
            return None
        return self.flops_per_image * self.batch / self.median_s / 1e9


@dataclasses.dataclass
class Report:
    """Everything one `measure` call timed."""

    results: list
    matmul_gflops: dict  # batch -> GFLOP/s of the matmul timed in that batch's rounds

    def get(self, backend, batch):
        return next(
            (r for r in self.results if r.backend == backend and r.batch == batch), None
        )

    def speedup(self, backend, batch, baseline="keras"):
        """How many times faster `backend` ran than `baseline`, or None."""
        base, this = self.get(baseline, batch), self.get(backend, batch)
        if base is None or this is None:
            return None
        return base.median_s / this.median_s


def input_arrays(inputs, batch, *, num_classes=None, seed=0, spatial=DEFAULT_SPATIAL_SIZE):
    """Seeded NumPy inputs `{name: array}` for entries of `ganzoo.json`'s `inputs` at `batch`.

    `ganzoo._sampling.draw_inputs`, as the runtime and export parity draw them; labels are
    all zeros when `num_classes` is None, a truncation input gets 1.
    """
    arrays = _sampling.draw_inputs(inputs, batch, seed, num_classes=num_classes or 1,
                                   spatial=spatial)
    return {entry["name"]: array for entry, array in zip(inputs, arrays)}


class KerasBackend:
    """The Keras generator called under `tf.function` with a dynamic batch axis."""

    name = "keras"

    def __init__(self, generator, inputs):
        import tensorflow as tf

        # Lazy: _signature imports TensorFlow; benchmarking a bundle runs without it.
        from ganzoo.export import _signature

        self._tf = tf
        self._names = [entry["name"] for entry in inputs]
        signature = [
            tf.TensorSpec([None] + list(entry["shape"][1:]), entry["dtype"], name=entry["name"])
            for entry in inputs
        ]

        def serve(*tensors):
            outputs = _signature.call_generator(generator, tensors)
            return list(_signature.as_output_dict(outputs).values())[0]

        self._function = tf.function(serve, input_signature=signature)
        self.detail = "tf.function, " + ("GPU" if tf.config.list_logical_devices("GPU") else "CPU")

    def prepare(self, feeds):
        tensors = [self._tf.constant(feeds[name]) for name in self._names]
        return lambda: self._function(*tensors).numpy()


class SavedModelBackend:
    """The `serving_default` signature of an exported SavedModel."""

    name = "savedmodel"

    def __init__(self, saved_model_dir):
        import tensorflow as tf

        # Lazy: loading a SavedModel imports TensorFlow, needed by this backend only.
        from ganzoo.export import saved_model as saved_model_lib

        self._tf = tf
        self._signature = tf.saved_model.load(saved_model_dir).signatures[
            saved_model_lib.SIGNATURE_KEY
        ]
        self.detail = "serving_default"

    def prepare(self, feeds):
        tensors = {name: self._tf.constant(array) for name, array in feeds.items()}
        return lambda: self._signature(**tensors)["images"].numpy()


class OnnxBackend:
    """An ONNX bundle run by `ganzoo.runtime` (numpy in, numpy out)."""

    name = "onnx"

    def __init__(self, bundle, providers="auto", threads=None, optimized=True, name="onnx",
                 tune=False):
        # Lazy: onnxruntime loads for the onnx backend only.
        from ganzoo import runtime

        self.name = name
        self.generator = runtime.load(bundle, providers=providers, threads=threads,
                                      optimized=optimized, tune=tune)
        self.detail = f"{self.generator.provider}, {self.generator.model_file}"
        choice = self.generator.cpu_choice
        if choice:
            self.detail += (f"; tuned: batch 1 on {choice['batch 1']}, other batches on "
                            f"{choice['other batches']}")

    def prepare(self, feeds):
        return lambda: self.generator.run(**feeds)


class MatmulCeiling:
    """A 2048x2048 float32 NumPy matmul: the practical FLOP/s ceiling of this machine."""

    name = "matmul"
    flops = 2.0 * MATMUL_SIZE**3

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self._a = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)
        self._b = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)

    def run(self):
        return self._a @ self._b


def measure(backends, inputs, batches, *, repeats=5, warmup=2, min_time=0.0, pause=0.25,
            num_classes=None, flops_per_image=None, ceiling=False,
            spatial=DEFAULT_SPATIAL_SIZE, seed=0):
    """Time every backend at every batch size, side by side.

    Args:
        backends: list of backend objects (`KerasBackend`, `SavedModelBackend`,
            `OnnxBackend` or anything with `name`, `detail` and `prepare(feeds)`).
        inputs: list of dicts. The generator's inputs as in `ganzoo.json`.
        batches: list of int. Batch sizes.
        repeats: int. Timed rounds per batch size, at least. Defaults to 5.
        warmup: int. Untimed runs of each backend at each batch size. Defaults to 2.
        min_time: float. Keep adding rounds until this many seconds (pauses included)
            have passed, so that fast (small) batches get more rounds. Defaults to 0.
        pause: float. Seconds of sleep before each timed run, so that the worker threads
            of the run before are idle again (OpenBLAS threads spin for about 0.2 s after
            a matmul and doubled onnxruntime's batch-1 latency). Defaults to 0.25.
        num_classes: int. Classes for label inputs. Defaults to None (labels 0).
        flops_per_image: float. FLOPs of one image, to report GFLOP/s. Defaults to None.
        ceiling: bool. Also time a 2048x2048 NumPy matmul in every round.
        spatial: int. Size of dynamic spatial axes.
        seed: int. Seed of the inputs.

    Returns:
        A `Report`.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"Need repeats >= 1 and warmup >= 0. Received: {repeats}, {warmup}")
    matmul = MatmulCeiling(seed) if ceiling else None
    results, matmul_gflops = [], {}
    for batch in batches:
        feeds = input_arrays(inputs, batch, num_classes=num_classes, seed=seed, spatial=spatial)
        runs = [(backend, backend.prepare(feeds)) for backend in backends]
        for _, run in runs:
            for _ in range(warmup):
                run()
        if matmul is not None:
            for _ in range(max(warmup, 1)):
                matmul.run()
        times = {backend.name: [] for backend, _ in runs}
        timed = [(times[backend.name], run) for backend, run in runs]
        matmul_times = []
        if matmul is not None:
            timed.append((matmul_times, matmul.run))
        started = time.perf_counter()
        rounds = 0
        while rounds < repeats or time.perf_counter() - started < min_time:
            # Rotate who goes first, and let the threads of the run before stop spinning.
            shift = rounds % len(timed)
            for record, run in timed[shift:] + timed[:shift]:
                if pause:
                    time.sleep(pause)
                start = time.perf_counter()
                run()
                record.append(time.perf_counter() - start)
            rounds += 1
        for backend, _ in runs:
            results.append(Measurement(backend.name, batch, times[backend.name],
                                       getattr(backend, "detail", ""), flops_per_image))
        if matmul_times:
            matmul_gflops[batch] = matmul.flops / statistics.median(matmul_times) / 1e9
    return Report(results, matmul_gflops)


def format_report(report, baseline="keras"):
    """A plain-text table: latency, images/s, GFLOP/s and speed-up over `baseline`."""
    with_flops = any(result.gflops for result in report.results)
    header = f"{'backend':<12} {'batch':>5} {'rounds':>6} {'latency ms':>11} {'images/s':>10}"
    if with_flops:
        header += f" {'GFLOP/s':>8}"
    header += f" {'vs ' + baseline:>10}  runs on"
    lines = [header]
    for result in report.results:
        line = (
            f"{result.backend:<12} {result.batch:>5} {len(result.seconds):>6} "
            f"{result.latency_ms:>11.2f} "
            f"{result.images_per_s:>10.1f}"
        )
        if with_flops:
            line += f" {result.gflops:>8.1f}" if result.gflops else f" {'':>8}"
        speedup = report.speedup(result.backend, result.batch, baseline)
        line += f" {speedup:>9.2f}x" if speedup is not None else f" {'-':>10}"
        lines.append(f"{line}  {result.detail}")
    for batch, gflops in report.matmul_gflops.items():
        lines.append(
            f"numpy {MATMUL_SIZE}x{MATMUL_SIZE} float32 matmul in the batch-{batch} rounds: "
            f"{gflops:.1f} GFLOP/s"
        )
    return "\n".join(lines)


# -- a SOURCE's backends ------------------------------------------------------------------


def run(source, backends=None, batches=(1, 32), *, repeats=5, warmup=2, providers="auto",
        threads=None, tune=False, log=None, **measure_options):
    """Time SOURCE's generator on its backends side by side: what `ganzoo bench` does.

    Args:
        source: a SOURCE (`ganzoo.sources.resolve`): a preset name, preset or run folder
            (its generator is exported to a temporary folder for the savedmodel and onnx
            backends, removed afterwards) or an export bundle (which runs on its own
            backend only), or a resolved `ganzoo.sources.Source`.
        backends: list of str or None. Some of "keras", "savedmodel", "onnx". Defaults to
            all three for a preset, the bundle's own for a bundle.
        batches: list of int. Batch sizes. Defaults to (1, 32).
        repeats, warmup: as in `measure`. Default to 5 and 2.
        providers: onnxruntime providers of the onnx backend (`ganzoo.runtime.load`).
            Defaults to "auto".
        threads: int or None. onnxruntime CPU threads. Defaults to the physical cores.
        tune: bool. Load the onnx backend with `ganzoo.runtime.load(..., tune=True)`: on
            CPU, batches of one run on the graph and thread count timed fastest at load
            (its detail says which). Defaults to False.
        log: callable or None. Called with one line saying what is measured, before the
            measuring starts. Defaults to None (silent).
        **measure_options: further arguments of `measure` (`pause`, `min_time`, `seed` ...).

    Returns:
        A `Report` (print it with `format_report`).

    Raises:
        ValueError: `source` is no SOURCE, an unknown backend or batch size, or a backend
            that a bundle cannot run on.
    """
    batches = _check_batches(batches)
    found = source if isinstance(source, sources.Source) else sources.resolve(source)
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as scratch:
        chosen = runners_for(found, backends, providers=providers, threads=threads,
                             tune=tune, scratch_dir=scratch)
        check_memory(chosen, max(batches), spatial=measure_options.get(
            "spatial", DEFAULT_SPATIAL_SIZE))
        if log is not None:
            log(f"benchmarking {chosen.description}: batch {', '.join(map(str, batches))}, "
                f"{warmup} warm-up run(s), median of {repeats}")
        return measure(chosen.runners, chosen.inputs, batches, repeats=repeats,
                       warmup=warmup, num_classes=chosen.num_classes, **measure_options)


@dataclasses.dataclass
class Runners:
    """The backends built for one SOURCE, with what `measure` needs to feed them."""

    runners: list
    inputs: list  # the generator's inputs, as in `ganzoo.json`
    num_classes: int
    description: str  # "dcgan preset NAME", "dcgan bundle PATH"
    graph: str = None  # an ONNX file of the generator, when one is at hand


def check_memory(runners, batch, spatial=DEFAULT_SPATIAL_SIZE):
    """Refuse, before any work, a batch that may not fit in free memory.

    The need is every tensor of the ONNX graph at `batch` (`activation_values`, an upper
    bound) when a graph is at hand, else the generator's inputs (a lower bound). A batch
    far too large would otherwise end in an allocator's error text or an out-of-memory
    kill half-way through.

    Raises:
        ValueError: "batch 200000 of dcgan bundle B may need up to 48.8 GiB (every tensor
            of its graph); about 20.1 GiB is free: use a smaller --batch".
    """
    free = _memory.available_memory()
    if free is None:
        return
    if runners.graph is not None:
        per_image, what = activation_values(runners.graph, spatial), "every tensor of its graph"
    else:
        per_image = sum(
            math.prod(dim if isinstance(dim, int) else spatial for dim in entry["shape"][1:])
            for entry in runners.inputs
        )
        what = "its inputs"
    needed = 4 * per_image * batch
    if needed > free:
        raise ValueError(
            f"batch {batch} of {runners.description} may need up to "
            f"{_memory.format_bytes(needed)} ({what}); about "
            f"{_memory.format_bytes(free)} is free: use a smaller --batch"
        )


def runners_for(source, backends=None, *, providers="auto", threads=None, tune=False,
                scratch_dir):
    """Build the backends of a SOURCE; temporary exports go to `scratch_dir`.

    Args:
        source: a SOURCE string or path, or a `ganzoo.sources.Source`.
        backends: list of str or None. As in `run`.
        providers, threads, tune: of the onnx backend, as in `run`.
        scratch_dir: str or path-like. An existing folder for the savedmodel and onnx
            exports of a preset; it must outlive the runners.

    Returns:
        A `Runners`.
    """
    found = source if isinstance(source, sources.Source) else sources.resolve(source)
    backends = _check_backends(backends)
    onnx_options = {"providers": providers, "threads": threads, "tune": tune}
    if found.kind == sources.BUNDLE:
        return _bundle_runners(found, backends, onnx_options)
    # Lazy: a preset's backends import TensorFlow; a bundle's ran without it above.
    from ganzoo import models
    from ganzoo.export import _signature

    model = models.load(found)
    generator, _ = _signature.resolve_generator(model)  # the EMA generator where kept
    inputs = [spec.to_json() for spec in _signature.input_specs(generator)]
    runners, graph = [], None
    for name in backends or BACKENDS:
        if name == "keras":
            runners.append(KerasBackend(generator, inputs))
        elif name == "savedmodel":
            folder = os.path.join(scratch_dir, "savedmodel")
            metadata = export_lib.to_saved_model(model, folder)
            runners.append(SavedModelBackend(_bundle.model_path(folder, metadata)))
        else:
            folder = os.path.join(scratch_dir, "onnx")
            graph = _bundle.model_path(folder, export_lib.to_onnx(model, folder))
            runners.append(OnnxBackend(folder, **onnx_options))
    return Runners(runners, inputs, model.num_classes, f"{model.family} preset {found.source}",
                   graph)


def _bundle_runners(found, backends, onnx_options):
    """A bundle runs on its own backend only."""
    metadata = found.metadata
    own = "savedmodel" if metadata["format"] == "savedmodel" else "onnx"
    if backends and backends != [own]:
        raise ValueError(
            f"{found.source} is a {metadata['format']} bundle, which runs on {own} only; "
            "give a preset or run folder to compare backends"
        )
    if own == "savedmodel":
        runner = SavedModelBackend(_bundle.model_path(found.path, metadata))
    else:
        runner = OnnxBackend(found.path, **onnx_options)
    description = f"{metadata.get('family') or 'generator'} bundle {found.source}"
    graph = _bundle.model_path(found.path, metadata) if own == "onnx" else None
    return Runners([runner], metadata["inputs"], metadata.get("num_classes"), description,
                   graph)


def _check_backends(backends):
    if backends is None:
        return None
    if isinstance(backends, str):
        backends = [backends]
    backends = list(backends)
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown or not backends:
        raise ValueError(
            f"Unknown backend {unknown[0] if unknown else None!r}; choose from "
            f"{', '.join(BACKENDS)}. Received: backends={backends!r}"
        )
    return backends


def _check_batches(batches):
    batches = [batches] if isinstance(batches, int) else list(batches)
    if not batches or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1
                          for b in batches):
        raise ValueError(f"Batch sizes must be positive integers. Received: batches={batches!r}")
    return batches


def onnx_flops(model_path, batch=1, spatial=DEFAULT_SPATIAL_SIZE):
    """FLOPs (2 x multiply-adds) of one run of an ONNX graph at `batch`.

    Counts Conv, ConvTranspose, MatMul and Gemm from shapes found by ONNX shape
    inference, with the dynamic axes of the inputs fixed to `batch` and `spatial`.
    Element-wise operators are left out: they are a rounding error in a generator.
    """
    model, shapes, _ = _inferred_shapes(model_path, batch, spatial)
    total = 0
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            # Conv: every output value takes (in/group)*kh*kw multiply-adds; ConvTranspose:
            # every input value feeds (out/group)*kh*kw. Weights' dims 1.. say exactly that.
            weights = shapes.get(node.input[1])
            counted = shapes.get(node.output[0] if node.op_type == "Conv" else node.input[0])
            if weights is not None and counted is not None:
                total += 2 * math.prod(counted) * math.prod(weights[1:])
        elif node.op_type in ("MatMul", "Gemm"):
            left, right = shapes.get(node.input[0]), shapes.get(node.input[1])
            if left is not None and right is not None:
                columns = right[0] if _attribute(node, "transB") else right[-1]
                total += 2 * math.prod(left) * columns
    return float(total)


def activation_values(model_path, spatial=DEFAULT_SPATIAL_SIZE):
    """Values per image of every tensor an ONNX graph computes, weights left out.

    From ONNX shape inference at batch 1: what a run holds if no tensor's memory is
    reused, an upper bound of its need per image (4 bytes a value) that `check_memory`
    scales by the batch. onnxruntime reuses memory, so its peak is lower (about 0.4 of
    this for the dcgan-digits generator), but never above.
    """
    model, shapes, weights = _inferred_shapes(model_path, 1, spatial)
    names = {name for node in model.graph.node for name in list(node.input) + list(node.output)
             if name and name not in weights and name in shapes}
    return sum(math.prod(shapes[name]) for name in names)


def _inferred_shapes(model_path, batch, spatial):
    """(model, {tensor name: shape}, names of weights) with dynamic axes set and inferred."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = onnx.load(model_path)
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        for index, dim in enumerate(dims):
            if not dim.HasField("dim_value"):
                dim.dim_value = batch if index == 0 else spatial
    model = shape_inference.infer_shapes(model)
    shapes = {}
    for value in list(model.graph.value_info) + list(model.graph.input) + list(
        model.graph.output
    ):
        dims = value.type.tensor_type.shape.dim
        if all(dim.HasField("dim_value") for dim in dims):
            shapes[value.name] = [dim.dim_value for dim in dims]
    weights = set()
    for init in model.graph.initializer:
        shapes[init.name] = list(numpy_helper.to_array(init).shape)
        weights.add(init.name)
    return model, shapes, weights


def _attribute(node, name):
    for attribute in node.attribute:
        if attribute.name == name:
            return attribute.i
    return 0
