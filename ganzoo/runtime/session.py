"""A session over one bundle's graph: it owns onnxruntime (providers, feeds, I/O binding).

`Session` opens the graph on the first provider that works (`providers.py` says which
can), checks arrays against the bundle's input descriptions before they reach
onnxruntime, and runs them, binding inputs and outputs on a GPU provider so that each
crosses the bus once. It knows nothing of tasks: `tasks.py` builds sampling, translating
and upscaling on it.
"""

import os
import statistics
import time

import numpy as np
import onnxruntime as ort

from ganzoo import _imaging, _sampling, _validation
from ganzoo.runtime import providers as providers_lib

# Tuning: timed runs per candidate (after one warm-up), and how much faster than the
# default a candidate must be to be chosen (below that, timing noise decides).
TUNE_RUNS = 5
TUNE_MARGIN = 0.05
# Height and width of dynamic image inputs when tuning (what `ganzoo bench` times at).
TUNE_SPATIAL = 64


class Session:
    """An onnxruntime session for a bundle's graph, with its inputs described by role.

    Args:
        model_path: str. The portable graph (`model.onnx`).
        inputs: list of dicts. The bundle's input descriptions, in signature order.
        output_names: list of str. The outputs to fetch, in order.
        providers: "auto", a short provider name or a list (see `ganzoo.runtime.load`).
        threads: int or None. CPU threads for one run.
        cpu_path: str or None. A CPU-optimised graph to run on the CPU provider.
        num_classes: int or None. Label inputs are checked to lie in [0, num_classes).
        outputs: list of dicts or None. The bundle's output descriptions; with them the
            graph's outputs are checked too (dtype, rank, fixed sizes).
        image_shape: list or None. The bundle's `image_shape`; the graph's first output
            must have it where both give a size.
        tune: bool. On the CPU provider, time at load which graph (the CPU-optimised and
            the portable one) with which thread count (all physical cores, or one) runs
            a batch of one fastest here, and run batches of one on it (see `cpu_choice`).
            Defaults to False: every batch on the CPU-optimised graph with all cores.

    Attributes:
        provider: str. The execution provider in use.
        model_path: str. The graph it runs.
        io_device: "cuda" when inputs and outputs are bound on the GPU, else None.
        ort_session: `onnxruntime.InferenceSession`. For callers that bind memory on the
            device themselves (benchmarks/gpu.py).
        output_names: list of str. The outputs `run` fetches, in order.
        cpu_choice: dict or None. With `tune` on the CPU provider: `{"batch 1": ...,
            "other batches": ...}`, each "<graph file>, <N> thread(s)", and
            "timings_ms", each candidate's median time for a batch of one.
    """

    def __init__(self, model_path, inputs, output_names, *, providers="auto", threads=None,
                 cpu_path=None, num_classes=None, outputs=None, image_shape=None, tune=False):
        self.ort_session, self.model_path = _open(model_path, providers, threads, cpu_path)
        self._inputs = [dict(entry) for entry in inputs]
        self.output_names = list(output_names)
        self._num_classes = num_classes
        _check_graph_matches(self.model_path, self.ort_session, self._inputs, self.output_names,
                             outputs, image_shape)
        self.provider = self.ort_session.get_providers()[0]
        # Outputs land on the GPU and are copied back once, inputs are copied over once.
        self.io_device = "cuda" if self.provider in providers_lib.GPU_PROVIDERS else None
        # The session batches of one run on, when tuning found a faster one than the
        # default (None: the default runs everything).
        self._single = None
        self.cpu_choice = None
        if tune and self.provider == "CPUExecutionProvider":
            self._tune(model_path, threads)

    def feeds(self, arrays=(), named=None):
        """`{name: array}` for arrays in signature order and/or by name, checked and cast.

        Arrays are cast to the input's dtype when that loses no kind (int64 labels to
        int32, float64 latents to float32); anything else raises a one-line ValueError
        naming the input, the expected shape and what was received.
        """
        named = named or {}
        names = [entry["name"] for entry in self._inputs]
        if len(arrays) > len(names):
            raise ValueError(
                f"This bundle takes {len(names)} input(s) ({', '.join(names)}). "
                f"Received: {len(arrays)} positional arrays"
            )
        values = dict(zip(names, arrays))
        for name, value in named.items():
            if name not in names:
                raise ValueError(f"Unknown input {name!r}; this bundle takes {', '.join(names)}")
            if name in values:
                raise ValueError(f"Input {name!r} was given both by position and by name")
            values[name] = value
        feeds, batch = {}, None
        for entry in self._inputs:
            name = entry["name"]
            if name not in values:
                raise ValueError(
                    f"Missing input {name!r}: expected shape {format_shape(entry['shape'])} "
                    f"{entry['dtype']}"
                )
            array = _checked_array(entry, values[name], self._num_classes)
            if batch is not None and array.shape[0] != batch:
                raise ValueError(
                    f"Input {name!r} has batch size {array.shape[0]}; the other inputs have {batch}"
                )
            batch = array.shape[0]
            feeds[name] = array
        return feeds

    def run(self, feeds):
        """The graph's outputs (a list of arrays) for checked `feeds` (see `feeds`).

        onnxruntime's own failures (a size the graph cannot take) come back as one-line
        ValueErrors naming the input shapes, without onnxruntime's error log line.
        """
        options = ort.RunOptions()
        options.log_severity_level = 4  # the exception below says it in one line
        try:
            if self.io_device is None:
                session = self.ort_session
                if self._single is not None and _batch_of(feeds) == 1:
                    session = self._single
                return session.run(self.output_names, feeds, options)
            binding = self.ort_session.io_binding()
            for name, array in feeds.items():
                binding.bind_cpu_input(name, array)
            for name in self.output_names:
                binding.bind_output(name, self.io_device, 0)
            self.ort_session.run_with_iobinding(binding, options)
            return binding.copy_outputs_to_cpu()
        except Exception as error:  # onnxruntime raises its own exception types
            if isinstance(error, (MemoryError, KeyboardInterrupt)):
                raise
            shapes = ", ".join(f"{name} {tuple(array.shape)}" for name, array in feeds.items())
            raise ValueError(
                f"onnxruntime cannot run this bundle on {shapes}"
                f"{_accepted_sizes(self._inputs)}: {_first_line(error)}"
            ) from None


    def _tune(self, portable_path, threads):
        """Time the candidates for a batch of one and keep the fastest (see `tune`)."""
        default_threads = threads or providers_lib.physical_cores()
        paths = [self.model_path] + ([portable_path] if portable_path != self.model_path
                                     else [])
        counts = [default_threads] + ([1] if default_threads > 1 else [])
        candidates = {(self.model_path, default_threads): self.ort_session}
        for path in paths:
            for count in counts:
                if (path, count) not in candidates:
                    options = providers_lib.session_options(["CPUExecutionProvider"], count)
                    candidates[(path, count)] = ort.InferenceSession(
                        path, options, providers=["CPUExecutionProvider"])
        arrays = _sampling.draw_inputs(self._inputs, 1, seed=0, num_classes=self._num_classes
                                       or 1, spatial=_tuning_size(self._inputs))
        feeds = self.feeds(arrays)
        timings = {key: [] for key in candidates}
        for session in candidates.values():
            session.run(self.output_names, feeds)  # warm-up: first runs allocate
        for round_index in range(TUNE_RUNS):
            keys = list(candidates)
            shift = round_index % len(keys)
            for key in keys[shift:] + keys[:shift]:
                start = time.perf_counter()
                candidates[key].run(self.output_names, feeds)
                timings[key].append(time.perf_counter() - start)
        medians = {key: statistics.median(times) for key, times in timings.items()}
        default = (self.model_path, default_threads)
        best = choose(medians, default)

        def described(key):
            return f"{os.path.basename(key[0])}, {key[1]} thread{'s' * (key[1] > 1)}"

        if best != default:
            self._single = candidates[best]
        self.cpu_choice = {"batch 1": described(best), "other batches": described(default),
                           "timings_ms": {described(key): round(1000 * value, 3)
                                          for key, value in medians.items()}}


def _tuning_size(inputs):
    """TUNE_SPATIAL, or the nearest size above it that every image input accepts."""
    multiple = max((entry.get("size_multiple") or 1) for entry in inputs)
    smallest = max((entry.get("min_size") or 1) for entry in inputs)
    return -(-max(TUNE_SPATIAL, smallest) // multiple) * multiple


def choose(medians, default, margin=TUNE_MARGIN):
    """The key of `medians` (seconds by candidate) with the smallest time, or `default`
    unless that one is faster than it by more than `margin` (a share of its time)."""
    best = min(medians, key=medians.get)
    return best if medians[best] < (1.0 - margin) * medians[default] else default


def _batch_of(feeds):
    return next(iter(feeds.values())).shape[0] if feeds else None


def _accepted_sizes(inputs):
    """"; image sizes must be multiples of 64" for the inputs that record it, else ""."""
    for entry in inputs:
        if (entry.get("size_multiple") or 1) > 1 or (entry.get("min_size") or 1) > 1:
            return (f"; {entry['name']!r} takes heights and widths that are multiples of "
                    f"{entry.get('size_multiple') or 1}{_at_least(entry.get('min_size') or 1)}")
    return ""


def format_shape(shape):
    """`(None, 16)` for the shape [None, 16]; `(3,)` for [3]."""
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


def _checked_array(entry, value, num_classes):
    name, expected = entry["name"], entry["shape"]
    target = np.dtype(entry["dtype"])
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Input {name!r} is not an array: {error}") from None
    received = f"Received: shape={tuple(array.shape)} {array.dtype}"
    wanted = f"Input {name!r} expects shape {format_shape(expected)} {target}"
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, target, casting="same_kind"):
        raise ValueError(f"{wanted}; {array.dtype} cannot be cast to {target}. {received}")
    if target.kind == "f" and array.dtype.kind in "biu":
        array = _float_from_integers(entry, array, f"{wanted}. {received}")
    if array.ndim != len(expected) or any(
        want is not None and want != got for want, got in zip(expected, array.shape)
    ):
        raise ValueError(f"{wanted}. {received}")
    _check_spatial_size(entry, array)
    if array.shape[0] == 0:
        raise ValueError(f"{wanted}; the batch is empty. {received}")
    if entry["role"] == "label" and num_classes:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"Input {name!r} takes labels in [0, {num_classes - 1}]. "
                f"Received: labels in [{low}, {high}]"
            )
    return np.ascontiguousarray(array, dtype=target)


# onnxruntime's element type names, as NumPy dtype names in ganzoo.json.
_ORT_DTYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32",
    "tensor(int64)": "int64", "tensor(uint8)": "uint8", "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32", "tensor(uint64)": "uint64", "tensor(bool)": "bool",
}


def _float_from_integers(entry, array, described):
    """A float input given integers: uint8 images scaled by the input's range, else refused.

    0-255 fed as floats to a generator expecting [-1, 1] gives garbage without a word, so
    a uint8 image becomes `from_uint8(array, range)` (0 -> low, 255 -> high) and any
    other integer or bool array is refused (`ganzoo._validation.check_float_values`).
    """
    if entry.get("role") == "image" and array.dtype == np.uint8:
        value_range = entry.get("range")
        if not value_range:
            raise ValueError(
                f"Input {entry['name']!r} takes float images and this bundle records no "
                f"range to scale uint8 pixels to; pass float32 images. {described}"
            )
        return _imaging.from_uint8(array, tuple(value_range))
    _validation.check_float_values(array, entry["name"], entry.get("role"))
    return array


def _check_spatial_size(entry, array):
    """Refuse image sizes the bundle does not accept (`size_multiple` in ganzoo.json)."""
    multiple, smallest = entry.get("size_multiple") or 1, entry.get("min_size") or 1
    if (multiple == 1 and smallest == 1) or array.ndim != 4:
        return
    dynamic = [axis for axis in (1, 2) if entry["shape"][axis] is None]
    if any(array.shape[axis] % multiple or array.shape[axis] < smallest for axis in dynamic):
        raise ValueError(
            f"Input {entry['name']!r} takes heights and widths that are multiples of "
            f"{multiple}{_at_least(smallest)}. Received: shape={tuple(array.shape)}"
        )


def _at_least(smallest):
    return f", at least {smallest}" if smallest > 1 else ""


def _check_graph_matches(model_path, session, inputs, output_names, outputs=None,
                         image_shape=None):
    """Refuse a graph whose inputs or outputs are not those ganzoo.json describes.

    Names must match; dtypes, ranks and every size both sides fix must agree, and the first
    output's size must be `image_shape`. A graph swapped in from another generator fails
    here even in a bundle without checksums.
    """
    graph_inputs = {value.name: value for value in session.get_inputs()}
    graph_outputs = {value.name: value for value in session.get_outputs()}
    described = {entry["name"] for entry in inputs}
    if set(graph_inputs) != described or not set(output_names) <= set(graph_outputs):
        raise ValueError(
            f"{model_path} is not the graph ganzoo.json describes: graph inputs "
            f"{sorted(graph_inputs)}, outputs {sorted(graph_outputs)}; ganzoo.json expects "
            f"inputs {sorted(described)}, outputs {sorted(output_names)}"
        )
    described_outputs = list(outputs or [])
    if described_outputs and image_shape is not None:
        first = dict(described_outputs[0])
        first["shape"] = [first["shape"][0], *image_shape]
        described_outputs[0] = first
    for kind, entries, graph in (("input", inputs, graph_inputs),
                                 ("output", described_outputs, graph_outputs)):
        for entry in entries:
            value = graph.get(entry["name"])
            if value is None:
                continue
            dtype = _ORT_DTYPES.get(value.type, value.type)
            shape = [dim if isinstance(dim, int) else None for dim in value.shape]
            expected = list(entry["shape"])
            if dtype != entry["dtype"] or len(shape) != len(expected) or any(
                want is not None and got is not None and want != got
                for want, got in zip(expected, shape)
            ):
                raise ValueError(
                    f"{model_path} is not the graph ganzoo.json describes: its {kind} "
                    f"{entry['name']!r} is {format_shape(shape)} {dtype}, ganzoo.json expects "
                    f"{format_shape(expected)} {entry['dtype']}"
                )


def _open(model_path, providers, threads, cpu_path=None):
    """`(session, path of the graph it runs)` on the first provider that works."""
    requested, strict = providers_lib.requested_providers(providers)
    usable, problems = [], {}
    for provider in requested:
        name = provider[0] if isinstance(provider, tuple) else provider
        problem = providers_lib.provider_problem(name)
        if problem is None:
            usable.append(provider)
        else:
            problems[name] = problem
    if strict and problems:
        name, problem = next(iter(problems.items()))
        raise RuntimeError(f"Cannot use {name}: {problem}")
    if not usable:
        detail = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise RuntimeError(f"None of the requested providers can be created here ({detail})")

    last_error = None
    for attempt in (usable[index:] for index in range(len(usable))):
        names = [p[0] if isinstance(p, tuple) else p for p in attempt]
        options = providers_lib.session_options(names, threads)
        chain = list(attempt)
        cpu = "CPUExecutionProvider"
        if names[-1] != cpu and cpu in ort.get_available_providers():
            chain.append(cpu)  # for nodes a GPU provider does not run
        path = model_path
        if cpu_path is not None and names[0] == cpu:
            session = _cpu_variant_session(cpu_path, options, chain)
            if session is not None:
                return session, cpu_path
        try:
            on_gpu = any(name in providers_lib.GPU_PROVIDERS for name in names)
            with providers_lib.quiet_onnxruntime(on_gpu):
                session = ort.InferenceSession(path, options, providers=chain)
        except Exception as error:  # onnxruntime raises its own exception types
            last_error = error
            if strict and names[0] in providers_lib.GPU_PROVIDERS:
                raise RuntimeError(f"Cannot use {names[0]}: {_first_line(error)}") from None
            if strict or names[0] == "CPUExecutionProvider":
                break
            continue
        chosen = session.get_providers()[0]
        if chosen == names[0]:
            return session, path
        if strict:
            raise RuntimeError(f"Cannot use {names[0]}: onnxruntime fell back to {chosen}")
        last_error = RuntimeError(f"{names[0]} fell back to {chosen}")
    raise ValueError(f"Cannot load {model_path} with onnxruntime: {_first_line(last_error)}")


def _cpu_variant_session(cpu_path, options, chain):
    """A session on the CPU-optimised graph, or None if this onnxruntime cannot load it.

    The graph holds onnxruntime's own fused operators (com.microsoft FusedConv); an
    onnxruntime that does not know them gets the portable graph instead, silently.
    """
    try:
        with providers_lib.quiet_onnxruntime(True):
            return ort.InferenceSession(cpu_path, options, providers=chain)
    except Exception:  # onnxruntime raises its own exception types
        return None


def _first_line(error):
    lines = str(error).strip().splitlines() if error is not None else []
    return lines[0] if lines else type(error).__name__

