"""ONNX export through `tf2onnx.convert.from_function` on an explicit signature.

`tf2onnx.convert.from_keras` is unreliable on Keras 3 (docs/export.md, "How the model is
converted"); converting a `tf.function` that calls `generator(inputs, training=False)` is
not, and lets us name the output `images` and keep the batch axis dynamic.
"""

import contextlib
import json
import logging
import os
import warnings

import onnx

from ganzoo import _atomic, _bundle, _version
from ganzoo.export import _signature
from ganzoo.export import bundle as bundle_lib
from ganzoo.export import optimize as optimize_lib
from ganzoo.export import options as options_lib
from ganzoo.export import style_parts

# onnxruntime-optimised graph for the CPU provider, beside the portable model.onnx.
CPU_MODEL_FILE = "model.cpu.onnx"


def to_onnx(model, out_dir, options, overwrite=False):
    """Export a generator to an ONNX bundle; see `ganzoo.export.to_onnx`.

    `options` is a checked `ExportOptions`.
    """
    bundle_lib.check_target(out_dir, overwrite)
    exported = convert_checked(model, options)
    parts = convert_parts(model, exported)
    with bundle_lib.staged_folder(out_dir, overwrite) as staging:
        metadata = exported.write(staging, _bundle.MODEL_FILES["onnx"],
                                  optimize=options.optimize)
        write_parts(parts, staging, metadata)
        metadata = bundle_lib.build_metadata(fmt="onnx", **metadata)
        bundle_lib.write_metadata(staging, metadata)
    return metadata


def convert_checked(model, options):
    """Convert a generator to ONNX; returns an `ExportedGraph` ready to write and check.

    `options` is a checked `ExportOptions`; what depends on the installed converters
    (the newest opset tf2onnx writes, onnxconverter-common for fp16) is checked first.
    """
    opset = check_opset_supported(options.onnx_opset)
    float16 = _float16_converter() if options.fp16 else None
    prepared = _signature.prepare(model, options)
    _, feeds, reference = prepared.checks[0]
    onnx_model = _convert_with_retries(prepared.function, prepared.specs, opset, feeds,
                                       reference)
    if float16 is not None:
        onnx_model = to_float16(float16, onnx_model)
    return ExportedGraph(onnx_model, prepared)


def convert_parts(model, exported):
    """The mapping and synthesis networks of a style-based generator, converted like the
    generator (opset, fp16): `[(style_parts.Part, ModelProto)]`, empty for a generator
    that does not split into them (`style_parts.split_generator`)."""
    converted = []
    for part in style_parts.split_generator(model, exported.prepared):
        onnx_model = _convert_with_retries(part.function, part.specs, exported.opset,
                                           part.feeds, part.reference)
        if exported.fp16:
            onnx_model = to_float16(_float16_converter(), onnx_model)
        converted.append((part, onnx_model))
    return converted


def write_parts(converted, folder, written):
    """Write each converted part under `folder`, check it against Keras and record it.

    `written` is what `ExportedGraph.write` returned (the keyword arguments of
    `bundle.build_metadata`), updated in place: `extra["parts"]` gets each part's entry
    (model file, inputs, outputs) and `parity` its difference (`models`) and the largest
    of all (`max_abs_diff`). The tolerance is the generator's. Raises ValueError when a
    part is further from Keras than that, OSError (one line) when a write fails.
    """
    if not converted:
        return written
    parity = written["parity"]
    tolerance = parity["tolerance"]
    entries = {}
    for part, onnx_model in converted:
        entry = part.entry()
        stamp_part_metadata(onnx_model, part.name, entry, written["info"]["family"])
        path = os.path.join(folder, part.model_file)
        with _atomic.writing(path):
            onnx.save(onnx_model, path)
        diff = bundle_lib.max_abs_diff(part.reference, run_onnx(path, part.specs, part.feeds))
        bundle_lib.check_parity(diff, tolerance, f"The ONNX {part.name} network")
        parity["models"][part.model_file] = diff
        entries[part.name] = entry
    parity["max_abs_diff"] = max(parity["models"].values())
    written["extra"]["parts"] = entries
    return written


def stamp_part_metadata(onnx_model, name, entry, family):
    """Describe a part's graph in its own `metadata_props`, as `stamp_metadata` does the
    generator's: `ganzoo.family` and `ganzoo.parts` (`{name: entry}`, JSON, the entry
    `ganzoo.json` holds under `parts`), which `ganzoo.runtime` cross-checks
    (`_bundle.check_stored_twice`) before it runs the part."""
    del onnx_model.metadata_props[:]
    for key, value in (("family", family), ("parts", {name: entry})):
        prop = onnx_model.metadata_props.add()
        prop.key = _bundle.ONNX_METADATA_PREFIX + key
        prop.value = value if isinstance(value, str) else json.dumps(value)
    description = {"family": family, "inputs": entry["inputs"], "outputs": entry["outputs"],
                   "ganzoo_version": _version.__version__}
    onnx_model.doc_string = summary(description, who=f"ganzoo {family} {name} network")
    onnx_model.model_version = _bundle.FORMAT_VERSION


def to_float16(float16, onnx_model):
    """`onnx_model` with float16 weights and arithmetic, float32 inputs and outputs.

    Nodes on index paths (what feeds a Gather's indices, comparisons and casts computed
    from integer inputs: an Embedding's lookup and its bounds checks) stay as they are,
    through the converter's node block list: converted, their comparisons and casts mix
    float16 and float32 and the graph no longer loads.
    """
    blocked = index_path_nodes(onnx_model)
    with warnings.catch_warnings():
        # The converter warns for every weight too small for float16; the parity
        # check measures what matters.
        warnings.simplefilter("ignore")
        return float16.convert_float_to_float16(
            onnx_model, keep_io_types=True, node_block_list=sorted(blocked)
        )


# Ops whose output is an index or a boolean however their inputs are typed.
_INDEX_OPS = frozenset({
    "Gather", "GatherND", "GatherElements", "Equal", "Less", "LessOrEqual", "Greater",
    "GreaterOrEqual", "Not", "And", "Or", "Xor", "Where", "Cast", "Shape", "Size",
    "Range", "NonZero", "ArgMax", "ArgMin", "Min", "Max", "Add", "Sub", "Mul", "Clip",
    "Unsqueeze", "Squeeze", "Reshape", "Concat", "Identity", "Expand", "Floor", "Ceil",
    "Abs", "Neg", "Mod", "Div", "Slice", "Tile", "ConstantOfShape", "ReduceMin", "ReduceMax",
})


def index_path_nodes(onnx_model):
    """Names of the nodes computing indices from the graph's integer inputs.

    Walks forward from every integer graph input through index-like ops (casts,
    comparisons, arithmetic, reshapes) and stops at the data output of a Gather (the
    embedding rows are weights, which float16 may hold).
    """
    graph = onnx_model.graph
    integer_types = {onnx.TensorProto.INT32, onnx.TensorProto.INT64, onnx.TensorProto.INT8,
                     onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.BOOL}
    tainted = {
        value.name for value in graph.input
        if value.type.tensor_type.elem_type in integer_types
    }
    blocked = set()
    changed = True
    while changed:
        changed = False
        for node in graph.node:
            if node.name in blocked or node.op_type not in _INDEX_OPS:
                continue
            inputs = list(node.input)
            if node.op_type in ("Gather", "GatherND", "GatherElements"):
                on_path = len(inputs) > 1 and inputs[1] in tainted
            else:
                on_path = any(name in tainted for name in inputs)
            if not on_path:
                continue
            blocked.add(node.name)
            changed = True
            if node.op_type not in ("Gather", "GatherND", "GatherElements"):
                tainted.update(node.output)
    return blocked


class ExportedGraph:
    """A converted generator with the Keras outputs it must reproduce."""

    def __init__(self, onnx_model, prepared):
        self.onnx_model = onnx_model
        self.prepared = prepared
        self.options = prepared.options
        self.info = prepared.info
        self.specs = prepared.specs
        self.outputs = prepared.outputs
        self.checks = prepared.checks
        _, self.feeds, self.reference = prepared.checks[0]
        self.opset = self.options.onnx_opset
        self.fp16 = bool(self.options.fp16)
        self.tolerance = bundle_lib.TOLERANCE_FP16 if self.fp16 else bundle_lib.TOLERANCE_FP32

    def write(self, folder, model_file, *, optimize=True):
        """Write the graph (and its CPU variant) under `folder` and check both.

        `model_file` is relative to `folder`. Returns the keyword arguments of
        `bundle.build_metadata` except `fmt`. Raises ValueError when the graph is further
        from Keras than the tolerance, and OSError (one line naming the file) when a
        write fails. A CPU variant that cannot be built or misses the bar is left out
        with a warning; one that cannot be written fails the export.
        """
        model_path = os.path.join(folder, model_file)
        stamp_metadata(self.onnx_model, bundle_lib.describe(self.info, self.specs, self.outputs))
        with _atomic.writing(model_path):
            os.makedirs(os.path.dirname(model_path), exist_ok=True)
            onnx.save(self.onnx_model, model_path)
        diff = self._parity(model_path)
        bundle_lib.check_parity(diff, self.tolerance, "The ONNX export")
        diffs = {model_file: diff}
        extra = {"converter": f"tf2onnx {_tf2onnx().__version__}"}
        if optimize and not self.fp16:
            variant = self._write_cpu_variant(folder, model_file)
            if variant is not None:
                extra["variants"] = {"cpu": variant["entry"]}
                diffs[variant["entry"]["model"]] = variant["diff"]
        bundle_lib.copy_card(self.info, folder)
        return {
            "info": self.info,
            "specs": self.specs,
            "outputs": self.outputs,
            "fp16": self.fp16,
            "opset": self.opset,
            "parity": self.prepared.parity_entry(diffs, self.tolerance, "onnxruntime-cpu"),
            "extra": extra,
        }

    def _parity(self, model_path):
        """Largest difference from Keras over every parity size."""
        return max(
            bundle_lib.max_abs_diff(reference, run_onnx(model_path, self.specs, feeds))
            for _, feeds, reference in self.checks
        )

    def _write_cpu_variant(self, folder, model_file):
        """Write `model.cpu.onnx` beside `model_file`; None (and a warning) if it does not apply.

        A rewrite or optimisation that fails, or a result that misses the parity bar, is
        not the user's problem: the bundle goes without the variant (the runtime then runs
        `model.onnx` on CPU too). A failed write is: it raises OSError.
        """
        import onnxruntime as ort

        cpu_file = os.path.join(os.path.dirname(model_file), CPU_MODEL_FILE)
        cpu_path = os.path.join(folder, cpu_file)
        try:
            rewritten, applied = optimize_lib.optimize_for_cpu(self.onnx_model)
            save_cpu_optimized(rewritten, cpu_path)
            diff = self._parity(cpu_path)
            bundle_lib.check_parity(diff, self.tolerance, "The CPU-optimised ONNX graph")
        except ValueError as error:
            if os.path.exists(cpu_path):
                os.remove(cpu_path)
            warnings.warn(
                f"Left the CPU-optimised graph out of the bundle: {_first_line(error)}",
                RuntimeWarning, stacklevel=3,
            )
            return None
        entry = {
            "model": cpu_file.replace(os.sep, "/"),
            "providers": ["CPUExecutionProvider"],
            "rewrites": {name: count for name, count in applied.items() if count},
            "graph_optimization": f"onnxruntime {ort.__version__} ORT_ENABLE_EXTENDED",
        }
        return {"entry": entry, "diff": diff}


def stamp_metadata(onnx_model, description):
    """Write the bundle's description into the ONNX file itself, for clients without ganzoo.

    `metadata_props` get `ganzoo.<field>` for each field of `description` (strings as
    they are, everything else as JSON), `doc_string` a one-line summary, `model_version`
    the bundle format version; `producer_name` stays the converter's. `ganzoo.runtime.load`
    refuses a bundle whose `ganzoo.json` disagrees with them
    (`ganzoo._bundle.check_stored_twice`).
    """
    del onnx_model.metadata_props[:]
    for key, value in description.items():
        entry = onnx_model.metadata_props.add()
        entry.key = _bundle.ONNX_METADATA_PREFIX + key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx_model.doc_string = summary(description)
    onnx_model.model_version = _bundle.FORMAT_VERSION


def summary(description, who=None):
    """One line: what the generator (or `who`) is, what it takes and what it returns."""
    def shape(entry):
        dims = ["N" if dim is None and index == 0 else "?" if dim is None else str(dim)
                for index, dim in enumerate(entry["shape"])]
        return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")

    family = description.get("family") or "Keras"
    who = who or f"ganzoo {family} generator"
    if description.get("preset"):
        who += f" (preset {description['preset']})"
    inputs = ", ".join(
        f"{entry['name']} {shape(entry)} {entry['dtype']} [{entry['role']}"
        + (f" in [{entry['range'][0]:g}, {entry['range'][1]:g}]" if "range" in entry else "")
        + "]"
        for entry in description["inputs"]
    )
    outputs = ", ".join(
        f"{entry['name']} {shape(entry)} {entry['dtype']}"
        + (f" {entry.get('layout', 'NHWC')} in [{entry['range'][0]:g}, {entry['range'][1]:g}]"
           if "range" in entry else "")
        for entry in description["outputs"]
    )
    return f"{who}: {inputs} -> {outputs}. Written by ganzoo {description['ganzoo_version']}."


def save_cpu_optimized(onnx_model, path):
    """Save `onnx_model` after onnxruntime's EXTENDED graph optimisations for CPU.

    EXTENDED fuses Conv + activation (com.microsoft FusedConv) and folds constants but
    does not change the memory layout, so the file runs on any CPU; the blocked NCHWc
    layout (ORT_ENABLE_ALL) depends on the vector width of the machine that loads it, so
    it is applied at load time, where onnxruntime does it by default.

    Raises ValueError when onnxruntime cannot optimise the graph, and OSError (one line
    naming `path` and the reason) when it optimises it but cannot write the file:
    onnxruntime reports both alike ("Protobuf serialization failed" on a full disk), so a
    failure is tried again in memory to tell them apart.
    """
    import onnxruntime as ort

    serialized = onnx_model.SerializeToString()
    options = _cpu_session_options(ort)
    options.optimized_model_filepath = os.fspath(path)
    try:
        ort.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        try:
            ort.InferenceSession(
                serialized, _cpu_session_options(ort), providers=["CPUExecutionProvider"]
            )
        except Exception:
            raise ValueError(
                f"onnxruntime could not optimise the graph: {_first_line(error)}"
            ) from None
        raise _write_failure(path, serialized, error) from None
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise _write_failure(path, serialized, None)


def _cpu_session_options(ort):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    return options


def _write_failure(path, serialized, error):
    """The one-line OSError for a file onnxruntime failed to write at `path`.

    onnxruntime does not say why; writing the same bytes with Python I/O does
    ("No space left on device", "permission denied").
    """
    try:
        with open(path, "wb") as handle:
            handle.write(serialized)
    except OSError as os_error:
        return _atomic.write_error(os_error, path)
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)
    reason = _first_line(error) if error is not None else "no file was written"
    return _atomic.write_error(OSError(f"onnxruntime could not write it ({reason})"), path)


def run_onnx(model, specs, feeds):
    """Outputs of an ONNX file (path) or `ModelProto` on onnxruntime's CPU provider."""
    import onnxruntime as ort

    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise ValueError(
            f"The exported ONNX graph does not load in onnxruntime: {_first_line(error)}"
        ) from None
    return session.run(None, {spec.name: array for spec, array in zip(specs, feeds)})


CONVERSION_ATTEMPTS = 3


def _convert_with_retries(function, specs, opset, feeds, reference):
    """Convert, retrying when the graph's outputs come out with the wrong shape.

    tf2onnx 1.17 was seen to emit, now and then (about 1 conversion in 25 here, for
    generators with dynamic height and width traced while TensorFlow has several logical
    devices), a graph whose final Reshape adds a leading axis. The conversion is not
    deterministic, so another attempt gives a correct graph; the parity check that follows
    still measures whatever is written.
    """
    for attempt in range(CONVERSION_ATTEMPTS):
        onnx_model = _convert(function, specs, opset)
        actual = run_onnx(onnx_model, specs, feeds)
        if [a.shape for a in actual] == [r.shape for r in reference]:
            return onnx_model
    return onnx_model  # the parity check reports the mismatch


def _convert(function, specs, opset):
    tf2onnx = _tf2onnx()
    tensor_specs = [spec.tensor_spec() for spec in specs]
    with _quiet_tf2onnx():
        try:
            onnx_model, _ = tf2onnx.convert.from_function(
                function, input_signature=tensor_specs, opset=opset
            )
        except Exception as error:  # tf2onnx raises many exception types
            raise ValueError(
                f"Could not convert the generator to ONNX: {_first_line(error)}"
            ) from error
    _name_batch_axes(onnx_model)
    return onnx_model


def _name_batch_axes(onnx_model):
    """Call every dynamic leading axis `batch` (tf2onnx names them `unk__N`)."""
    for value in list(onnx_model.graph.input) + list(onnx_model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"


def check_opset_supported(opset):
    """`opset` if the installed tf2onnx writes it; `ExportOptions` checked the rest."""
    from tf2onnx import constants

    newest = max(constants.OPSET_TO_IR_VERSION)
    if not options_lib.MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must lie in [{options_lib.MIN_OPSET}, {newest}] (tf2onnx {_tf2onnx().__version__}). "
            f"Received: opset={opset}"
        )
    return opset


def _float16_converter():
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise ValueError(
            "fp16 export needs the onnxconverter-common package "
            "(pip install onnxconverter-common); export without fp16 or install it"
        ) from None
    return float16


def _tf2onnx():
    import tf2onnx

    return tf2onnx


@contextlib.contextmanager
def _quiet_tf2onnx():
    """tf2onnx logs every conversion step at INFO; keep only its warnings."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
