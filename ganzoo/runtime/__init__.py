"""Run an exported ONNX bundle with onnxruntime: NumPy and onnxruntime only, no TensorFlow.

```python
gen = ganzoo.runtime.load("run/onnx")      # picks TensorRT, CUDA or CPU
gen.provider                               # "CPUExecutionProvider"
images = gen.sample(16, seed=0)            # uint8 (16, H, W, C)
```

A seed means the same inputs everywhere: `sample(n, seed=s)` feeds
`ganzoo._sampling.draw_inputs(inputs, n, s)` (latents `ganzoo._sampling.latents(n,
latent_dim, s)`, as the Keras models draw them), so a bundle and the preset it came from
draw the same pictures. docs/export.md describes the bundle format.

The package, by responsibility: `providers` (which execution providers can run here: driver,
library and core probing), `session` (one onnxruntime session: feeds, I/O binding, runs),
`tasks` (a `Sampler`, `Translator` or `SuperResolver` over a session, chosen by `load`).
"""

import os

from ganzoo import _bundle
from ganzoo.runtime import tasks
from ganzoo.runtime.providers import PROVIDERS, gpu_problem, physical_cores, provider_problem
from ganzoo.runtime.session import Session
from ganzoo.runtime.tasks import (
    Generator, ImageToImage, Sampler, StyleSampler, SuperResolver, Translator, WrongTask,
)

__all__ = [
    "load",
    "Generator",
    "Sampler",
    "StyleSampler",
    "ImageToImage",
    "Translator",
    "SuperResolver",
    "WrongTask",
    "Session",
    "PROVIDERS",
    "gpu_problem",
    "provider_problem",
    "physical_cores",
]


def load(bundle, providers="auto", threads=None, optimized=True, tune=False):
    """Load an ONNX bundle for inference.

    Args:
        bundle: str or path-like. A bundle folder written by `ganzoo.export.to_onnx`.
        providers: "auto", "tensorrt", "cuda", "cpu", or a list of onnxruntime provider
            names in order of preference. "auto" takes the first of TensorRT, CUDA and
            CPU that can actually be created here. A single named provider must work or
            `load` raises; in a list, providers that cannot be created are skipped.
            Defaults to "auto".
        threads: int. CPU threads for one run. Defaults to the number of physical cores
            available to this process.
        optimized: bool. On the CPU provider, run the bundle's CPU-optimised graph
            (`model.cpu.onnx`) when it has one; the portable `model.onnx` otherwise, or
            if the optimised graph does not load with this onnxruntime. Defaults to True.
        tune: bool. On the CPU provider, time at load (a few runs of a batch of one on
            each candidate: the CPU-optimised and the portable graph, each with all
            physical cores and with one thread) and run batches of one on the fastest
            here; larger batches keep the CPU-optimised graph on all cores. Costs a few
            runs and sessions at load, for the latency of single images (an app drawing
            one picture at a time). `.cpu_choice` says what was chosen and the timings.
            Defaults to False.

    Returns:
        The bundle's task object, chosen from its input roles: a `Sampler` (`.sample`)
        for a bundle that draws its inputs from a seed (a `StyleSampler` for a
        style-based generator, stylegan_lite: also `.map_to_w`, `.synthesize`,
        `.walk(space="w")` and `.mix`, on the mapping and synthesis graphs the bundle
        lists under `parts`, opened when first used), a `Translator` (`.translate`) or
        a `SuperResolver` (`.upscale`, srgan) for one with an image input. Each is a
        `Generator`: `.provider` says which provider runs the bundle, `.model_file`
        which graph, `.run(...)` runs it on arrays.

    Before anything runs, every file the bundle's `ganzoo.json` lists is checked against
    its sha256 and size, every path it names must lie inside the bundle, and the graph's
    inputs and outputs (names, dtypes, ranks, fixed sizes, the image shape) must be those
    `ganzoo.json` describes. Every fact stored both in `ganzoo.json` and in the graph's own
    `metadata_props` (family, the inputs' names, shapes, dtypes, roles and ranges, the
    outputs' ranges and layout, latent_dim, num_classes, image_shape ...) must agree: the
    checksums cannot cover `ganzoo.json`, so an edited one is refused here. The graphs of
    `parts` must be among the listed files (their checksums checked with the others);
    each is checked against its entry and its own `metadata_props` when it is opened. A
    bundle from a ganzoo that wrote no checksums loads with a `RuntimeWarning` saying to
    re-export it; a fact its graph does not record is not cross-checked.

    Raises:
        ValueError: `bundle` is not an ONNX bundle, an unknown provider name, or the
            bundle fails a check above (one line naming the file, or the field that
            `ganzoo.json` and the graph disagree on with both values).
        RuntimeError: an explicitly requested provider cannot be created here.
    """
    if not isinstance(tune, bool):
        raise ValueError(f"tune must be True or False. Received: tune={tune!r}")
    path = os.fspath(bundle)
    if os.path.isfile(path) and os.path.basename(path) in (_bundle.METADATA_FILE, "model.onnx"):
        path = os.path.dirname(path) or "."
    metadata = _bundle.read_bundle(path)
    model_path = _bundle.model_path(path, metadata)
    if metadata["format"] not in _bundle.ONNX_FORMATS:
        raise ValueError(
            f"{path} is a {metadata['format']} bundle; ganzoo.runtime runs ONNX bundles. "
            f"Load it with tf.saved_model.load({model_path!r}) or export with --format onnx"
        )
    if not os.path.isfile(model_path):
        raise ValueError(f"{path} is not a complete bundle: {model_path} is missing")
    cpu_path = _bundle.variant_path(path, metadata, "cpu")
    _bundle.verify_files(path, metadata)
    parts = _part_entries(path, metadata)
    if not optimized or (cpu_path is not None and not os.path.isfile(cpu_path)):
        cpu_path = None
    session = Session(
        model_path, metadata["inputs"], [entry["name"] for entry in metadata["outputs"]],
        providers=providers, threads=threads, cpu_path=cpu_path,
        num_classes=metadata.get("num_classes"), outputs=metadata["outputs"],
        image_shape=metadata.get("image_shape"), tune=tune and optimized,
    )
    _bundle.check_stored_twice(
        path, metadata, session.ort_session.get_modelmeta().custom_metadata_map,
        os.path.relpath(session.model_path, path).replace(os.sep, "/"),
    )

    def open_part(name):
        # Opened when first used: sampling never pays for the parts.
        return _open_part(path, metadata, parts, name, providers, threads)

    return tasks.for_bundle(path, metadata, session, open_part if parts else None)


def _part_entries(path, metadata):
    """The `parts` of a bundle's `ganzoo.json` (`{}` when it has none), checked like its
    model: each an entry with `model`, `inputs` and `outputs`, its file inside the bundle
    and among the files `ganzoo.json` lists (when it lists them; `verify_files` checked
    their checksums).

    Raises:
        ValueError: one line naming the field.
    """
    parts = metadata.get("parts")
    if parts is None:
        return {}
    listed = metadata.get(_bundle.FILES_FIELD)
    if not isinstance(parts, dict):
        raise ValueError(f"{path}: ganzoo.json field parts must map each part to its graph; "
                         "re-export the bundle")
    for name, entry in parts.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("model"), str)
                and all(isinstance(entry.get(kind), list) and entry[kind]
                        and all(isinstance(item, dict) and {"name", "shape", "dtype"} <= set(item)
                                for item in entry[kind])
                        for kind in ("inputs", "outputs"))):
            raise ValueError(f"{path}: ganzoo.json field parts.{name} needs model, inputs and "
                             "outputs; re-export the bundle")
        _bundle.inside(path, entry["model"], f"parts.{name}.model")
        if isinstance(listed, dict) and entry["model"] not in listed:
            raise ValueError(f"{path}: ganzoo.json lists no checksum for {entry['model']} "
                             f"(field parts.{name}.model); re-export the bundle")
    return parts


def _open_part(path, metadata, parts, name, providers, threads):
    """A `Session` on the graph of part `name` (mapping, synthesis), its inputs and
    outputs checked against its entry and the facts its file records against
    `ganzoo.json` (`_bundle.check_stored_twice`), as `load` checks the generator."""
    entry = parts[name]
    part_path = _bundle.inside(path, entry["model"], f"parts.{name}.model")
    if not os.path.isfile(part_path):
        raise ValueError(f"{path} is not a complete bundle: {part_path} is missing")
    session = Session(part_path, entry["inputs"], [item["name"] for item in entry["outputs"]],
                      providers=providers, threads=threads, outputs=entry["outputs"])
    _bundle.check_stored_twice(
        path, {"family": metadata.get("family"), "parts": {name: entry}},
        session.ort_session.get_modelmeta().custom_metadata_map, entry["model"])
    return session
