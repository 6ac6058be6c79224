"""The mapping and synthesis networks of a style-based generator, as graphs of their own.

Beside the whole generator (`model.onnx`), an ONNX bundle of a family whose generator
splits into a mapping network, the truncation trick and a synthesis network
(stylegan_lite: `model.parts(generator)` gives the three) holds two more graphs, so that
`ganzoo.runtime` computes w, walks in w and mixes styles without TensorFlow:

- `mapping.onnx`: `latent` (B, latent_dim) and `truncation` (B, 1) -> `w` (B, style_dim),
  the mapping network followed by the truncation trick (w_avg + psi (w - w_avg); psi 1
  gives w itself, psi 0 the tracked mean w_avg);
- `synthesis.onnx`: `styles` (B, num_styles, style_dim), one w per layer, and the
  generator's `noise_<k>` inputs -> `images`, in the generator's output range.

The input names are the whole generator's (`latent`, `truncation`, `noise_<k>`), so one
set of seeded inputs feeds all three graphs. Each part is checked against Keras like the
generator (`onnx_export` converts, writes and measures them); this module says what the
parts are: their serving functions, input descriptions and parity inputs.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from ganzoo.export import _signature

MAPPING, SYNTHESIS = "mapping", "synthesis"
# The graph file of each part, beside model.onnx.
FILES = {MAPPING: "mapping.onnx", SYNTHESIS: "synthesis.onnx"}
# The role of the synthesis network's w input (one w per layer); a part's own role,
# never an input of the whole generator.
STYLES_ROLE = "styles"


@dataclasses.dataclass
class Part:
    """One part of the generator, ready to convert and check."""

    name: str  # "mapping" or "synthesis"
    model_file: str  # its graph's file in the bundle
    function: object  # a tf.function with an explicit input signature
    specs: list  # `_signature.InputSpec` of its inputs, in order
    outputs: list  # [{name, shape, dtype, ...}] of its one output
    feeds: list  # parity inputs, arrays in signature order
    reference: list  # Keras' outputs on them

    def entry(self):
        """Its entry in the `parts` field of `ganzoo.json`."""
        return {
            "model": self.model_file,
            "inputs": [spec.to_json() for spec in self.specs],
            "outputs": [dict(output) for output in self.outputs],
        }


def split_generator(model, prepared):
    """The `Part`s of a prepared generator (`_signature.prepare`): [] for a generator that
    does not split into mapping, truncation and synthesis (every family but
    stylegan_lite, and any Keras generator brought without its family).

    Parity inputs: the generator's own (seeded latents, psi 0.7, noise); the synthesis
    network gets, per row, the first half of the styles from that row's w and the rest
    from the next row's, so both halves of a mixed input are checked.
    """
    split = getattr(model, "parts", None)
    if not callable(split) or prepared.info.get("family") is None:
        return []
    try:
        mapping, truncation, synthesis = split(prepared.generator)
    except (ValueError, TypeError, AttributeError):
        return []
    roles = [spec.role for spec in prepared.specs]
    if roles.count("latent") != 1 or roles.count("truncation") != 1:
        return []
    _, feeds, _ = prepared.checks[0]
    by_role = {}
    for spec, array in zip(prepared.specs, feeds):
        by_role.setdefault(spec.role, []).append((spec, array))
    (latent_spec, latents), = by_role["latent"]
    (truncation_spec, psi), = by_role["truncation"]
    noise = by_role.get("noise", [])

    def map_to_w(latent, truncation_value):
        return {"w": truncation([mapping(latent, training=False), truncation_value])}

    mapping_specs = [latent_spec, truncation_spec]
    mapping_function = tf.function(map_to_w, input_signature=[
        spec.tensor_spec() for spec in mapping_specs])
    w = _numpy(truncation([mapping(latents, training=False), psi]))
    style_dim = int(w.shape[-1])
    num_styles = int(synthesis.inputs[0].shape[1])

    def synthesize(styles, *noise_maps):
        return {"images": synthesis([styles, *noise_maps], training=False)}

    styles_spec = _signature.InputSpec(STYLES_ROLE, (None, num_styles, style_dim), "float32",
                                       STYLES_ROLE)
    synthesis_specs = [styles_spec, *[spec for spec, _ in noise]]
    synthesis_function = tf.function(synthesize, input_signature=[
        spec.tensor_spec() for spec in synthesis_specs])
    early = (np.arange(num_styles) < num_styles // 2)[None, :, None]
    styles = np.where(early, w[:, None], np.roll(w, -1, axis=0)[:, None]).astype(np.float32)
    synthesis_feeds = [styles, *[array for _, array in noise]]
    images = _numpy(synthesis(synthesis_feeds, training=False))
    return [
        Part(MAPPING, FILES[MAPPING], mapping_function, mapping_specs,
             [{"name": "w", "shape": [None, style_dim], "dtype": "float32"}],
             [latents, psi], [w]),
        Part(SYNTHESIS, FILES[SYNTHESIS], synthesis_function, synthesis_specs,
             [dict(prepared.outputs[0])], synthesis_feeds, [images]),
    ]


def _numpy(tensor):
    return np.asarray(tf.convert_to_tensor(tensor).numpy())
