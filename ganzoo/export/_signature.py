"""What an exported generator takes and returns: named inputs with roles, seeded inputs.

The exported signature comes from `generator.inputs` (names, shapes with the batch axis
dynamic, dtypes) or from a user's `input_signature`. Each input gets a role that tells
`ganzoo.runtime` how to feed it: latent, label, image, noise or truncation, and a stable
name: an input whose own name does not say its role (Keras' automatic `keras_tensor_13`,
`input_layer`, ...) is exported under its role's name (`latent`, `label`, `image`,
`truncation`, `noise_<k>`), so the same generator exports the same names in any process.

It also tells how to call the generator (one tensor, a list, positional arguments or a
dict), the value range of its outputs (from the final tanh / sigmoid, a ganzoo family's
documented range, or the user's `output_range`), and, for inputs with dynamic height and
width, the sizes the parity check uses.
"""

import dataclasses
import inspect
import re

import numpy as np
import tensorflow as tf

from ganzoo import _sampling
from ganzoo._finite import check_finite

# Roles a generator may take only once; any number of noise inputs is fine.
_SINGLE_ROLES = ("latent", "label", "image", "truncation")
# Smallest size used for dynamic spatial axes when parity inputs are drawn.
_PARITY_SPATIAL_SIZE = 16
# Dynamic spatial axes are probed with the powers of two up to this size.
MAX_PROBED_SIZE = 256
PARITY_TRUNCATION = 0.7
# The value range of every ganzoo family's images (and image inputs).
FAMILY_RANGE = (-1.0, 1.0)
# Final activations whose range is known, by TensorFlow op type.
_ACTIVATION_RANGES = {"Tanh": (-1.0, 1.0), "Sigmoid": (0.0, 1.0)}
# How far beyond a declared output_range, as a fraction of its span, the parity outputs
# may reach before the export refuses the range (about 13 of 255 levels would be clipped).
OUTPUT_RANGE_TOLERANCE = 0.05
# Ops that move or copy values without changing them: the range of their first input.
_RANGE_PRESERVING_OPS = frozenset({
    "Identity", "Reshape", "Transpose", "DepthToSpace", "SpaceToDepth", "Squeeze",
    "ExpandDims", "StridedSlice", "Slice", "ResizeNearestNeighbor", "Tile", "MirrorPad",
    "Cast", "EnsureShape", "StopGradient",
})
# Names Keras, TensorFlow and this module give inputs nobody named.
_AUTOMATIC_NAME = re.compile(
    r"^(keras_tensor|input_layer|input|inputs|args|arg|x)(_\d+)?(:\d+)?$", re.IGNORECASE
)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One named input of an exported generator."""

    name: str  # the exported name (ONNX input, SavedModel keyword, Triton input)
    shape: tuple  # batch axis first, None for dynamic axes
    dtype: str  # NumPy dtype name: "float32", "int32", ...
    role: str
    key: str = None  # the generator's own name for it (a dict input's key)
    range: tuple = None  # (low, high) of an image input's values
    size_multiple: int = None  # dynamic height/width must be multiples of this
    min_size: int = None  # ... and at least this

    def tensor_spec(self):
        return tf.TensorSpec(self.shape, tf.as_dtype(self.dtype), name=self.name)

    def to_json(self):
        entry = {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "role": self.role,
        }
        if self.role == "image":
            entry["range"] = list(self.range or FAMILY_RANGE)
        if self.size_multiple is not None:
            entry["size_multiple"] = int(self.size_multiple)
        if self.min_size is not None and self.min_size > (self.size_multiple or 1):
            entry["min_size"] = int(self.min_size)
        return entry


def resolve_generator(model, name=None):
    """The generator to export and what the family says about it.

    A ganzoo family exports `model.inference_generator(name)` (its EMA generator when it
    keeps one); a family without it, its `.generator`; anything else is the generator.
    `name` is a str or None (`ExportOptions.generator`, checked). Returns `(generator,
    info)`, `info` holding family, preset, latent_dim, num_classes, image_shape (None
    where the model does not say) and generator (the exported name).
    """
    source = model
    if callable(getattr(model, "inference_generator", None)):
        names = tuple(model.generator_names()) if hasattr(model, "generator_names") else ()
        if name is not None and names and name not in names:
            raise ValueError(
                f"{getattr(model, 'family', None) or type(model).__name__} has no generator "
                f"{name!r}; it has {', '.join(names)}. Received: generator={name!r}"
            )
        generator = model.inference_generator(name)
        name = name or (names[0] if names else "generator")
    elif getattr(model, "generator", None) is not None:
        generator = model.generator
        if name not in (None, "generator"):
            raise ValueError(
                f"{type(model).__name__} has one generator, 'generator'. "
                f"Received: generator={name!r}"
            )
        name = "generator"
    else:
        generator, source = model, None
        if name not in (None, "generator"):
            raise ValueError(
                f"A Keras generator is exported whole; generator= names one of a ganzoo "
                f"model's generators. Received: generator={name!r}"
            )
        name = None
    if not callable(generator):
        raise ValueError(
            "Expected a ganzoo model (with a .generator) or a Keras generator. "
            f"Received: {type(model).__name__}"
        )

    def attribute(key):
        return getattr(source, key, None) if source is not None else None

    info = {
        "family": attribute("family"),
        "preset": attribute("preset_name"),
        "latent_dim": attribute("latent_dim"),
        "num_classes": attribute("num_classes"),
        "image_shape": attribute("image_shape"),
        "generator": name,
        "card": _card_path(source),
    }
    if source is None:
        info["num_classes"] = _embedding_classes(generator)
    return generator, info


def _card_path(source):
    """The `card.md` of the preset or run folder the model was loaded from, if any."""
    import os

    for attribute in ("preset_path", "preset_dir", "source_dir"):
        folder = getattr(source, attribute, None) if source is not None else None
        if isinstance(folder, (str, os.PathLike)):
            card = os.path.join(os.fspath(folder), "card.md")
            if os.path.isfile(card):
                return card
    return None


def input_specs(generator, input_signature=None, input_range=None):
    """The generator's inputs as `InputSpec`s, in call order, batch axis dynamic.

    Inputs whose own name gives no role are renamed after their role (`latent`, `label`,
    `image`, `truncation`, `noise_<k>`); `key` keeps the generator's name for a dict input.
    Image inputs take `input_range` (a checked (low, high), `ExportOptions.input_range`;
    None leaves it to `prepare`, which gives them the output range).
    """
    if input_signature is not None:
        raw = _from_signature(input_signature)
    else:
        raw = _from_keras_inputs(generator)
    roles = _assign_roles(raw)
    names = _stable_names(raw, roles)
    image_range = tuple(input_range) if input_range is not None else None
    if image_range is not None and "image" not in roles:
        raise ValueError(
            "input_range applies to generators with an image input; this one takes "
            f"{', '.join(roles)}. Received: input_range={input_range!r}"
        )
    return [
        InputSpec(name, shape, dtype, role, key=key,
                  range=image_range if role == "image" else None)
        for name, (key, shape, dtype), role in zip(names, raw, roles)
    ]


def _stable_names(raw, roles):
    """Exported names: the generator's own where it says the role, else the role's."""
    names, noise_index, taken = [], 0, set()
    for (key, _, _), role in zip(raw, roles):
        own = _own_name(key)
        if role == "noise":
            default = f"noise_{noise_index}"
            noise_index += 1
        else:
            default = role
        names.append(own if _role_from_name(own) == role and not _AUTOMATIC_NAME.match(own)
                     else None)
        taken.add(names[-1])
        names[-1] = names[-1] or ("\0" + default)
    result = []
    for name in names:
        if name.startswith("\0"):
            name = base = name[1:]
            suffix = 1
            while name in taken:
                name, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(name)
        result.append(name)
    return result


def calling_convention(generator, specs):
    """How the generator takes its inputs: "single", "list", "positional" or "dict".

    A functional model built on a dict of inputs takes a dict (keyed by `spec.key`); a
    subclassed model whose `call` names one argument per input (`call(self, z, y)`)
    takes them positionally; any other model a list (one tensor when it has one input).
    Raises ValueError in one line when the inputs cannot be matched to `call`.
    """
    if isinstance(getattr(generator, "_inputs_struct", None), dict) or any(
        spec.key is not None and spec.key.startswith("\0dict:") for spec in specs
    ):
        return "dict"
    if len(specs) == 1:
        return "single"
    try:
        has_inputs = bool(generator.inputs)
    except (AttributeError, ValueError):
        has_inputs = False
    if has_inputs:
        return "list"
    call = getattr(generator, "call", None) or generator
    try:
        parameters = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return "list"
    positional = [
        p for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.name not in ("self", "training", "mask")
    ]
    variadic = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    required = [p for p in positional if p.default is p.empty]
    if len(positional) == 1 and not variadic:
        return "list"
    if len(required) <= len(specs) and (variadic or len(specs) <= len(positional)):
        return "positional"
    arguments = ", ".join(p.name for p in positional)
    raise ValueError(
        f"{type(generator).__name__}.call({arguments}) takes {len(required)} input(s) but "
        f"input_signature describes {len(specs)}: pass one tf.TensorSpec per argument of "
        "call(), in order, or a dict {name: tf.TensorSpec} for a generator called with a dict"
    )


def call_generator(generator, inputs, specs=None):
    """Call the generator in inference mode on inputs in signature order.

    `specs` (the `InputSpec`s of `inputs`) pick the calling convention; without them the
    generator gets one tensor, or a list of them.
    """
    convention = (
        calling_convention(generator, specs) if specs is not None
        else ("single" if len(inputs) == 1 else "list")
    )
    if convention == "dict":
        keyed = {_dict_key(spec): tensor for spec, tensor in zip(specs, inputs)}
        return generator(keyed, training=False)
    if convention == "positional":
        return generator(*inputs, training=False)
    if convention == "single":
        return generator(inputs[0], training=False)
    return generator(list(inputs), training=False)


def _dict_key(spec):
    return _own_name(spec.key or spec.name)


def prepare(model, options):
    """What every export format needs before converting: a `Prepared` generator.

    `options` is a checked `ExportOptions`. Resolves the generator (`options.generator`
    names one of a family's), its inputs with their stable names and ranges, the serving
    function, the outputs with their range, the parity sizes for dynamic height/width,
    and the seeded inputs with Keras' outputs at each size. A declared `output_range`
    that contradicts the final activation (`output_specs`) or that Keras' outputs leave
    (`check_outputs_in_range`) is refused unless `force_output_range`.
    """
    network, info = resolve_generator(model, options.generator)
    check_finite(network)
    specs = input_specs(network, options.input_signature, options.input_range)
    function = serving_function(network, specs)
    outputs = output_specs(function, options.output_range, info["family"],
                           options.force_output_range)
    specs = [
        dataclasses.replace(spec, range=spec.range or tuple(outputs[0]["range"]))
        if spec.role == "image" else spec
        for spec in specs
    ]
    sizes, accepted = parity_sizes(network, specs, info["num_classes"], options.parity_size)
    if accepted is not None:
        specs = [
            dataclasses.replace(spec, **accepted)
            if spec.role == "image" and None in spec.shape[1:] else spec
            for spec in specs
        ]
    checks = []
    for size in sizes:
        feeds = seeded_inputs(
            specs, options.parity_samples, options.seed, info["num_classes"], spatial=size
        )
        checks.append((size, feeds, keras_outputs(network, feeds, specs)))
    if options.output_range is not None and not options.force_output_range:
        check_outputs_in_range(outputs, [reference for _, _, reference in checks])
    return Prepared(network, info, specs, function, outputs, checks, options)


def check_outputs_in_range(outputs, references):
    """Refuse a declared output range that Keras' outputs on the parity inputs leave.

    Outputs may reach `OUTPUT_RANGE_TOLERANCE` of the range's span beyond it (a linear
    output overshoots a little); further, the exported images would be clipped.

    Args:
        outputs: list of dicts. The outputs with their declared `range`.
        references: list of lists of arrays. Keras' outputs at each parity size.

    Raises:
        ValueError: one line naming the declared range, the range the outputs took, and
            `force_output_range`.
    """
    for index, entry in enumerate(outputs):
        arrays = [np.asarray(outs[index]) for outs in references]
        seen_low = min(float(np.min(array)) for array in arrays)
        seen_high = max(float(np.max(array)) for array in arrays)
        low, high = entry["range"]
        slack = OUTPUT_RANGE_TOLERANCE * (high - low)
        if seen_low < low - slack or seen_high > high + slack:
            raise ValueError(
                f"output_range={_pair((low, high))} does not hold the generator's output "
                f"{entry['name']!r}: on the parity inputs it takes values in "
                f"[{seen_low:.3g}, {seen_high:.3g}], more than "
                f"{OUTPUT_RANGE_TOLERANCE:.0%} of the range beyond it, so the exported "
                "images would be clipped. Pass the range the generator's outputs take; to "
                "keep this one anyway pass force_output_range=True (--force-output-range)"
            )


def _pair(value_range):
    return f"({value_range[0]:g}, {value_range[1]:g})"


@dataclasses.dataclass
class Prepared:
    """A generator ready to convert: see `prepare`."""

    generator: object
    info: dict
    specs: list
    function: object
    outputs: list
    checks: list  # (size or None, feeds, Keras outputs) per parity size
    options: object  # the `ExportOptions` it was prepared with

    def parity_entry(self, diffs, tolerance, backend):
        """The `parity` field of `ganzoo.json`."""
        entry = {
            "max_abs_diff": max(diffs.values()) if isinstance(diffs, dict) else diffs,
            "samples": self.options.parity_samples,
            "seed": self.options.seed,
            "tolerance": tolerance,
            "backend": backend,
        }
        sizes = [size for size, _, _ in self.checks if size is not None]
        if sizes:
            entry["sizes"] = [[size, size] for size in sizes]
        if isinstance(diffs, dict):
            entry["models"] = diffs
        return entry


def keras_outputs(generator, feeds, specs=None):
    """The generator's outputs for `feeds` (arrays in signature order), as NumPy arrays."""
    outputs = as_output_dict(call_generator(generator, feeds, specs))
    return [tf.convert_to_tensor(output).numpy() for output in outputs.values()]


def output_names(count):
    """Names of the exported outputs: `images`, then `images_1`, ... if there are more."""
    return ["images"] + [f"images_{index}" for index in range(1, count)]


def as_output_dict(outputs):
    """Generator outputs (a tensor or a list of them) keyed by their exported names."""
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return dict(zip(output_names(len(outputs)), outputs))


def serving_function(generator, specs):
    """A `tf.function` with an explicit signature that runs the generator for inference."""
    calling_convention(generator, specs)  # refuse an unmatched call() before tracing

    def serve(*inputs):
        return as_output_dict(call_generator(generator, inputs, specs))

    return tf.function(serve, input_signature=[spec.tensor_spec() for spec in specs])


def output_specs(function, output_range=None, family=None, force_output_range=False):
    """`[{name, shape, dtype, range, layout}]` of a serving function's outputs.

    The range is `output_range` when given (a pair `ExportOptions` checked), a ganzoo
    family's documented range, or the one the graph's final activation implies (tanh
    (-1, 1), sigmoid (0, 1)); anything else is refused in one line asking for
    `output_range`. A declared `output_range` other than the final activation's is
    refused too, unless `force_output_range`.

    Raises:
        ValueError: one line, as above.
    """
    concrete = function.get_concrete_function()
    declared = tuple(output_range) if output_range is not None else None
    entries = []
    for name, tensor in concrete.structured_outputs.items():
        value_range = declared or (FAMILY_RANGE if family else None)
        activation_range, found = _activation_range(tensor)
        contradicted = declared and activation_range and declared != activation_range
        if contradicted and not force_output_range:
            raise ValueError(
                f"output_range={_pair(declared)} contradicts the generator's final "
                f"{found.lower()} activation, whose outputs lie in {_pair(activation_range)}, "
                "so the exported pixels would be wrong (clipped or washed out). Pass "
                f"output_range={_pair(activation_range)} or leave it out; to keep "
                f"{_pair(declared)} anyway pass force_output_range=True (--force-output-range)"
            )
        if value_range is None:
            value_range = activation_range
            if value_range is None:
                raise ValueError(
                    f"Cannot tell the value range of the generator's output {name!r}: it "
                    f"ends in a {found} op, not tanh or sigmoid. Pass output_range=(low, "
                    "high), the values that map to pixels 0 and 255 (e.g. output_range="
                    "(-1, 1); the CLI: --output-range -1,1)"
                )
        entries.append(
            {
                "name": name,
                "shape": list(tensor.shape.as_list()),
                "dtype": tensor.dtype.name,
                "range": list(value_range),
                "layout": "NHWC",
            }
        )
    return entries


def _activation_range(tensor):
    """`(range or None, op type found)` for the op that finally produces `tensor`."""
    op = tensor.op
    for _ in range(64):
        if op.type in _ACTIVATION_RANGES:
            return _ACTIVATION_RANGES[op.type], op.type
        if op.type not in _RANGE_PRESERVING_OPS or not op.inputs:
            break
        op = op.inputs[0].op
    return None, op.type


def parity_sizes(generator, specs, num_classes=None, parity_size=None):
    """The sizes of dynamic height/width the parity check runs at, and what they must be.

    Returns `(sizes, accepted)`: `[None]` and None when no input has dynamic spatial
    axes. Otherwise `accepted` is `probe_sizes(...)`, `{"size_multiple": m, "min_size":
    p}`, and the check runs at max(p, 16) and twice that; with `parity_size` (a
    positive int, `ExportOptions.parity_size`) at the user's size and twice it
    (`accepted` is then None: unknown).
    """
    dynamic = any(
        dim is None for spec in specs for dim in spec.shape[1:]
    )
    if not dynamic:
        if parity_size is not None:
            raise ValueError(
                "parity_size applies to generators with dynamic height and width. "
                f"Received: parity_size={parity_size!r}"
            )
        return [None], None
    if parity_size is not None:
        return [parity_size, 2 * parity_size], None
    accepted = probe_sizes(generator, specs, num_classes)
    size = max(accepted["min_size"], _PARITY_SPATIAL_SIZE)
    return [size, 2 * size], accepted


def probe_sizes(generator, specs, num_classes=None):
    """What heights and widths the Keras generator takes: `{"size_multiple", "min_size"}`.

    `min_size` is the smallest power of two up to `MAX_PROBED_SIZE` it accepts (a call
    that raises is refused). The multiple starts there and halves while three times the
    half is accepted too and scales the output like `min_size` does (a 6-level U-Net:
    64 and 64; a CycleGAN generator, whose residual blocks need 2x2 features: 4 and 8).
    """
    def output_size(size):
        try:
            feeds = seeded_inputs(specs, 1, 0, num_classes, spatial=size)
            outputs = call_generator(generator, [tf.constant(array) for array in feeds], specs)
        except Exception:  # Keras and TensorFlow raise many types for a bad size
            return None
        first = list(as_output_dict(outputs).values())[0]
        return tuple(first.shape[1:3]) if len(first.shape) == 4 else ()

    size = 1
    while size <= MAX_PROBED_SIZE and output_size(size) is None:
        size *= 2
    if size > MAX_PROBED_SIZE:
        raise ValueError(
            f"The generator accepts no height and width among 1, 2, 4, ..., {MAX_PROBED_SIZE} "
            "for its dynamic axes; pass parity_size= (a size it accepts)"
        )
    reference = output_size(size)
    multiple = size
    while multiple > 1:
        candidate = 3 * (multiple // 2)
        got = output_size(candidate)
        if got is None or (reference and any(
            out * size != ref * candidate for out, ref in zip(got, reference)
        )):
            break
        multiple //= 2
    return {"size_multiple": multiple, "min_size": size}


def seeded_inputs(specs, n, seed, num_classes=None, spatial=None):
    """Deterministic inputs for a parity check, as NumPy arrays in signature order.

    `ganzoo._sampling.draw_inputs`, as the runtime and bench draw them: dynamic axes get
    `spatial` (16 by default), labels are all zeros when the class count is unknown, and a
    truncation input gets `PARITY_TRUNCATION`. Image inputs are drawn in their range.
    """
    truncation = PARITY_TRUNCATION if any(spec.role == "truncation" for spec in specs) else None
    arrays = _sampling.draw_inputs(
        specs, n, seed, truncation=truncation, num_classes=num_classes or 1,
        spatial=spatial or _PARITY_SPATIAL_SIZE,
    )
    for index, spec in enumerate(specs):
        if spec.role == "image" and spec.range and tuple(spec.range) != (-1.0, 1.0):
            low, high = spec.range
            arrays[index] = (arrays[index] * ((high - low) / 2) + (high + low) / 2).astype(
                arrays[index].dtype)
    return arrays


def _from_signature(input_signature):
    keyed = isinstance(input_signature, dict)
    if isinstance(input_signature, tf.TensorSpec):
        input_signature = [input_signature]
    items = list(input_signature.items()) if keyed else list(enumerate(input_signature))
    raw = []
    for index, spec in items:
        if not isinstance(spec, tf.TensorSpec):
            raise ValueError(
                "input_signature must be a list (or dict) of tf.TensorSpec. "
                f"Received: {type(spec).__name__} at {index!r}"
            )
        if spec.shape.rank is None or spec.shape.rank < 1:
            raise ValueError(
                "Each input_signature spec needs a known rank with a batch axis first. "
                f"Received: {spec}"
            )
        name = f"\0dict:{index}" if keyed else (spec.name or f"input_{index}")
        raw.append((name, (None,) + tuple(spec.shape.as_list()[1:]), spec.dtype.name))
    return raw


def _from_keras_inputs(generator):
    try:
        tensors = list(generator.inputs or [])
    except (AttributeError, ValueError):
        tensors = []
    if not tensors:
        raise ValueError(
            f"Cannot tell the inputs of {type(generator).__name__}: it has no `.inputs`. "
            "Pass input_signature=[tf.TensorSpec((None, latent_dim), tf.float32, "
            "name='latent')]"
        )
    struct = getattr(generator, "_inputs_struct", None)
    if isinstance(struct, dict):  # a functional model built on a dict of inputs
        tensors = [(f"\0dict:{key}", tensor) for key, tensor in struct.items()]
    else:
        tensors = [
            (getattr(tensor, "name", None) or f"input_{index}", tensor)
            for index, tensor in enumerate(tensors)
        ]
    raw = []
    for name, tensor in tensors:
        shape = (None,) + tuple(tensor.shape[1:])
        raw.append((name, shape, tf.as_dtype(tensor.dtype).name))
    names = [name for name, _, _ in raw]
    if len(set(names)) != len(names):
        raise ValueError(f"Generator input names must be unique. Received: {names}")
    return raw


def _assign_roles(raw):
    roles = [_role_from_name(name) for name, _, _ in raw]
    unnamed = [index for index, role in enumerate(roles) if role is None]
    for index in unnamed:
        name, shape, dtype = raw[index]
        guess = _role_from_shape(shape, dtype)
        if guess is None or guess in roles:
            raise ValueError(
                f"Cannot tell the role of generator input {_own_name(name)!r} (shape {shape}, "
                f"{dtype}). Name inputs 'latent', 'label', 'image', 'noise*' or "
                "'truncation' (keras.Input(..., name='latent'))"
            )
        roles[index] = guess
    for role in _SINGLE_ROLES:
        if roles.count(role) > 1:
            names = [_own_name(raw[index][0]) for index, each in enumerate(roles) if each == role]
            raise ValueError(
                f"A generator may take one {role} input. Received: {role} inputs {names}"
            )
    for (name, shape, dtype), role in zip(raw, roles):
        integer = np.issubdtype(np.dtype(dtype), np.integer)
        if (role == "label") != integer:
            raise ValueError(
                f"Generator input {_own_name(name)!r} has role {role} but dtype {dtype}; "
                "labels are integers and every other input is floating point"
            )
    return roles


def _own_name(key):
    """The generator's own name of an input: a dict key, or a tensor name without `:0`."""
    if key.startswith("\0dict:"):
        return key[len("\0dict:"):]
    return key.split(":")[0]


def _role_from_name(name):
    return _sampling.role_from_name(_own_name(name))


def _role_from_shape(shape, dtype):
    if np.issubdtype(np.dtype(dtype), np.integer):
        return "label"
    if len(shape) == 2:
        return "latent"
    if len(shape) == 4:
        return "image"
    return None


def _embedding_classes(generator):
    """Classes of a user's conditional generator: its one Embedding's `input_dim`."""
    layers = getattr(generator, "layers", None) or []
    embeddings = [layer for layer in layers if type(layer).__name__ == "Embedding"]
    if len(embeddings) == 1:
        return int(embeddings[0].input_dim)
    return None
