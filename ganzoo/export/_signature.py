"""What an exported generator takes and returns: named inputs with roles, seeded inputs.

The exported signature comes from `generator.inputs` (names, shapes with the batch axis
dynamic, dtypes) or from a user's `input_signature`. Each input gets a role that tells
`ganzoo.runtime` how to feed it: latent, label, image, noise or truncation.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from ganzoo import _sampling

# Prefixes of input names that give a role outright ("latent", "latent_z", "noise_8x8").
_ROLE_PREFIXES = (
    ("latent", "latent"),
    ("label", "label"),
    ("class", "label"),
    ("noise", "noise"),
    ("image", "image"),
    ("truncation", "truncation"),
)
_ROLE_NAMES = {"z": "latent", "y": "label", "psi": "truncation"}
# Roles a generator may take only once; any number of noise inputs is fine.
_SINGLE_ROLES = ("latent", "label", "image", "truncation")
# Size used for dynamic spatial axes when parity inputs are drawn.
_PARITY_SPATIAL_SIZE = 16
PARITY_TRUNCATION = 0.7


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One named input of an exported generator."""

    name: str
    shape: tuple  # batch axis first, None for dynamic axes
    dtype: str  # NumPy dtype name: "float32", "int32", ...
    role: str

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
            entry["range"] = [-1.0, 1.0]
        return entry


def resolve_generator(model):
    """The generator to export and what the family says about it.

    Returns `(generator, info)`, `info` holding family, preset, latent_dim, num_classes
    and image_shape (None where the model does not say).
    """
    generator = getattr(model, "generator", None)
    source = model
    if generator is None:
        generator, source = model, None
    if not callable(generator):
        raise ValueError(
            "Expected a ganzoo model (with a .generator) or a Keras generator. "
            f"Received: {type(model).__name__}"
        )

    def attribute(name):
        return getattr(source, name, None) if source is not None else None

    info = {
        "family": attribute("family"),
        "preset": attribute("preset_name"),
        "latent_dim": attribute("latent_dim"),
        "num_classes": attribute("num_classes"),
        "image_shape": attribute("image_shape"),
    }
    if source is None:
        info["num_classes"] = _embedding_classes(generator)
    return generator, info


def input_specs(generator, input_signature=None):
    """The generator's inputs as `InputSpec`s, in call order, batch axis dynamic."""
    if input_signature is not None:
        raw = _from_signature(input_signature)
    else:
        raw = _from_keras_inputs(generator)
    roles = _assign_roles(raw)
    return [InputSpec(name, shape, dtype, role) for (name, shape, dtype), role in zip(raw, roles)]


def call_generator(generator, inputs):
    """Call the generator in inference mode on inputs in signature order."""
    if len(inputs) == 1:
        outputs = generator(inputs[0], training=False)
    else:
        outputs = generator(list(inputs), training=False)
    return outputs


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

    def serve(*inputs):
        return as_output_dict(call_generator(generator, inputs))

    return tf.function(serve, input_signature=[spec.tensor_spec() for spec in specs])


def output_specs(function):
    """`[{name, shape, dtype}]` of a serving function's outputs, from its concrete graph."""
    concrete = function.get_concrete_function()
    entries = []
    for name, tensor in concrete.structured_outputs.items():
        entries.append(
            {
                "name": name,
                "shape": list(tensor.shape.as_list()),
                "dtype": tensor.dtype.name,
                "range": [-1.0, 1.0],
                "layout": "NHWC",
            }
        )
    return entries


def seeded_inputs(specs, n, seed, num_classes=None):
    """Deterministic inputs for a parity check, as NumPy arrays in signature order.

    `ganzoo._sampling.draw_inputs`, as the runtime and bench draw them: dynamic axes get
    16, labels are all zeros when the class count is unknown, and a truncation input gets
    `PARITY_TRUNCATION`.
    """
    truncation = PARITY_TRUNCATION if any(spec.role == "truncation" for spec in specs) else None
    return _sampling.draw_inputs(
        specs, n, seed, truncation=truncation, num_classes=num_classes or 1,
        spatial=_PARITY_SPATIAL_SIZE,
    )


def _from_signature(input_signature):
    if isinstance(input_signature, tf.TensorSpec):
        input_signature = [input_signature]
    raw = []
    for index, spec in enumerate(input_signature):
        if not isinstance(spec, tf.TensorSpec):
            raise ValueError(
                "input_signature must be a list of tf.TensorSpec. "
                f"Received: {type(spec).__name__} at position {index}"
            )
        if spec.shape.rank is None or spec.shape.rank < 1:
            raise ValueError(
                "Each input_signature spec needs a known rank with a batch axis first. "
                f"Received: {spec}"
            )
        name = spec.name or f"input_{index}"
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
    raw = []
    for index, tensor in enumerate(tensors):
        name = getattr(tensor, "name", None) or f"input_{index}"
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
                f"Cannot tell the role of generator input {name!r} (shape {shape}, "
                f"{dtype}). Name inputs 'latent', 'label', 'image', 'noise*' or "
                "'truncation' (keras.Input(..., name='latent'))"
            )
        roles[index] = guess
    for role in _SINGLE_ROLES:
        if roles.count(role) > 1:
            names = [raw[index][0] for index, each in enumerate(roles) if each == role]
            raise ValueError(
                f"A generator may take one {role} input. Received: {role} inputs {names}"
            )
    for (name, shape, dtype), role in zip(raw, roles):
        integer = np.issubdtype(np.dtype(dtype), np.integer)
        if (role == "label") != integer:
            raise ValueError(
                f"Generator input {name!r} has role {role} but dtype {dtype}; "
                "labels are integers and every other input is floating point"
            )
    return roles


def _role_from_name(name):
    lowered = name.lower()
    if lowered in _ROLE_NAMES:
        return _ROLE_NAMES[lowered]
    for prefix, role in _ROLE_PREFIXES:
        if lowered.startswith(prefix):
            return role
    return None


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
