"""Export generators to bundles: ONNX, SavedModel or a Triton repository plus `ganzoo.json`.

A bundle is a folder holding the model (`model.onnx` or `saved_model/`) and `ganzoo.json`
(inputs with their roles, outputs, family, parity measured against Keras ...); see
docs/export.md. Exports write to a temporary folder beside `out_dir` and rename it into
place, so a failed export leaves nothing behind.

`read_bundle` and `is_bundle` need neither TensorFlow nor NumPy; the exporters import
TensorFlow and tf2onnx on first use.
"""

from ganzoo._bundle import FORMAT_VERSION, is_bundle, read_bundle
from ganzoo.export import options as options_lib
from ganzoo.export import triton
from ganzoo.export.options import ExportOptions, TritonOptions

__all__ = [
    "to_onnx", "to_saved_model", "to_triton", "ExportOptions", "TritonOptions",
    "read_bundle", "is_bundle", "FORMAT_VERSION",
]

# The option keywords each exporter takes: SavedModel has no opset, fp16 or CPU graph; a
# Triton version is the portable graph alone.
_ONNX_ONLY = ("opset", "fp16", "optimize")
ONNX_KEYWORDS = options_lib.EXPORT_FIELDS
SAVED_MODEL_KEYWORDS = tuple(name for name in ONNX_KEYWORDS if name not in _ONNX_ONLY)
TRITON_KEYWORDS = options_lib.TRITON_FIELDS + tuple(
    name for name in ONNX_KEYWORDS if name != "optimize")


def to_onnx(model, out_dir, *, options=None, overwrite=False, **option_values):
    """Export a generator to an ONNX bundle and check it against Keras.

    The graph takes the generator's inputs under their role names (`latent`, `label`,
    `image`, `truncation`, `noise_<k>`, unless the generator's own name already says the
    role; NHWC images, dynamic batch axis) and returns `images`, NHWC, in the output range
    recorded in `ganzoo.json` and in the file's `metadata_props`. `parity_samples` seeded
    inputs run through Keras (`training=False`) and onnxruntime's CPU provider; a max abs
    difference above 1e-4 (1e-2 with `fp16`) raises and writes nothing. Inputs with
    dynamic height and width are checked at two sizes (see `parity_size`).

    Beside the portable `model.onnx` the bundle holds `model.cpu.onnx`, the same graph
    rewritten for onnxruntime's CPU provider (transposed convolutions as sub-pixel
    convolutions, onnxruntime's EXTENDED optimisations saved), which `ganzoo.runtime`
    runs on CPU. It passes the same parity check; if it cannot be built or does not
    pass, it is left out with a `RuntimeWarning` (and `ganzoo.json` does not name it);
    if it cannot be written, the export fails like any other write. fp16 bundles have
    none.

    A style-based generator (stylegan_lite) also gets its mapping network with the
    truncation trick (`mapping.onnx`: latent, truncation -> w) and its synthesis network
    (`synthesis.onnx`: styles, noise_<k> -> images), listed under `parts` in
    `ganzoo.json`, checked against Keras with the same tolerance, so that
    `ganzoo.runtime` maps to w, walks in w and mixes styles without TensorFlow (see
    `ganzoo.export.style_parts`). Other generators' bundles have no parts.

    The options below are keywords, made into one `ExportOptions` and checked before any
    work; or pass a ready `options=ExportOptions(...)` (not both in one call).

    Args:
        model: a ganzoo model (its `inference_generator(generator)` is exported: the
            EMA generator where the family keeps one) or any Keras generator.
        out_dir: str or path-like. The bundle folder to create.
        options: `ExportOptions`. All the options below at once. Defaults to None (the
            keywords, or their defaults).
        overwrite: bool. Replace an existing bundle (or empty folder) at `out_dir`; any
            other folder or file is refused. Defaults to False.
        opset: int. ONNX opset, 17 or newer. Defaults to 17.
        fp16: bool. Store weights and arithmetic in float16, inputs and outputs staying
            float32; needs the `onnxconverter-common` package. Defaults to False.
        input_signature: list of `tf.TensorSpec`. The generator's inputs, for models
            without `.inputs` (subclassed models), in the order of `call`'s arguments
            (`call(self, z, y)` is called positionally), or a dict `{key: TensorSpec}`
            for a generator called with a dict. Names give roles: `latent`, `label`,
            `image`, `noise*`, `truncation`. Defaults to the generator's own inputs.
        parity_samples: int. Seeded inputs in the parity check. Defaults to 8.
        seed: int. Seed of the parity inputs. Defaults to 0.
        optimize: bool. Add the CPU-optimised `model.cpu.onnx`. Defaults to True.
        output_range: (low, high). The values of the generator's output that map to
            pixels 0 and 255. Defaults to the range of a ganzoo family ([-1, 1]) or of
            the generator's final activation (tanh (-1, 1), sigmoid (0, 1)); any other
            ending is refused in one line asking for it. A declared range that
            contradicts the final activation (e.g. (0, 1) for a tanh), or that Keras'
            outputs on the parity inputs leave by more than 5% of its span, is refused
            in one line unless `force_output_range`.
        input_range: (low, high). The values an image input takes for pixels 0 and 255.
            Defaults to the output range.
        generator: str. Which of the model's generators (`model.generator_names()`,
            e.g. "a2b" or "b2a" for cyclegan). Defaults to the family's default one.
            Recorded in `ganzoo.json` as "generator".
        parity_size: int. Height and width for the parity check of inputs with dynamic
            height and width, checked at this size and twice it. Defaults to the smallest
            power of two up to 256 the generator accepts (recorded as the input's
            `size_multiple`), checked at max(that, 16) and twice that.
        force_output_range: bool. Keep the declared `output_range` even though it
            contradicts the final activation or the parity outputs leave it (the
            exported images are then clipped or washed out where they do). Needs
            `output_range`. Defaults to False.

    Returns:
        The bundle's metadata (the content of `ganzoo.json`) as a dict.

    Raises:
        FileExistsError: `out_dir` exists and `overwrite` is False, or it is not a ganzoo
            bundle (`ganzoo._atomic.NotReplaceableError`, also a ValueError).
        ValueError: bad arguments (an unknown keyword, options given both ways, a bad
            value: one line naming it), NaN or Inf generator weights (a diverged model), a
            declared output range refused as above, a generator that does not convert,
            or parity failed.
        OSError: a write failed (one line naming the file and the reason). Nothing is
            left behind and an existing bundle stays as it was.

    Examples:

    ```python
    gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1), latent_dim=64)
    metadata = ganzoo.export.to_onnx(gan, "run/onnx")
    images = ganzoo.runtime.load("run/onnx").sample(16, seed=0)
    ```
    """
    options, _ = options_lib.resolve("to_onnx", ONNX_KEYWORDS, option_values, options)
    # Lazy: the converter imports TensorFlow and tf2onnx; a Triton copy of a bundle does not.
    from ganzoo.export import onnx_export

    return onnx_export.to_onnx(model, out_dir, options, overwrite=overwrite)


def to_saved_model(model, out_dir, *, options=None, overwrite=False, **option_values):
    """Export a generator to a SavedModel bundle and check it against Keras.

    Writes `out_dir/saved_model/` with a `serving_default` signature that takes the
    generator's named inputs and returns `{"images": ...}`, and `out_dir/ganzoo.json`.
    The reloaded signature must reproduce Keras within 1e-4 on `parity_samples` seeded
    inputs, or the export raises and writes nothing.

    The options are keywords, or one `options=ExportOptions(...)`, as for `to_onnx`;
    `opset` and `fp16` do not apply to a SavedModel (refused when set in `options`),
    nor `optimize` (ignored there).

    Args:
        model: a ganzoo model (its `inference_generator(generator)` is exported) or
            any Keras generator.
        out_dir: str or path-like. The bundle folder to create.
        options: `ExportOptions`. All the options below at once. Defaults to None.
        overwrite: bool. Replace an existing bundle (or empty folder) at `out_dir`.
            Defaults to False.
        input_signature: list of `tf.TensorSpec`. As for `to_onnx`.
        parity_samples: int. Seeded inputs in the parity check. Defaults to 8.
        seed: int. Seed of the parity inputs. Defaults to 0.
        output_range: (low, high). As for `to_onnx`.
        input_range: (low, high). As for `to_onnx`.
        generator: str. As for `to_onnx`.
        parity_size: int. As for `to_onnx`.
        force_output_range: bool. As for `to_onnx`.

    Returns:
        The bundle's metadata (the content of `ganzoo.json`) as a dict.

    Examples:

    ```python
    ganzoo.export.to_saved_model(gan, "run/savedmodel")
    serve = tf.saved_model.load("run/savedmodel/saved_model").signatures["serving_default"]
    images = serve(latent=tf.random.normal((4, 64)))["images"]
    ```
    """
    options, _ = options_lib.resolve("to_saved_model", SAVED_MODEL_KEYWORDS, option_values,
                                     options)
    onnx_only = {name: getattr(options, name) for name in ("opset", "fp16")
                 if getattr(options, name) not in (None, False)}
    if onnx_only:
        raise ValueError(
            f"{' and '.join(onnx_only)} apply to ONNX exports (to_onnx, to_triton), not to "
            "a SavedModel. Received: "
            + ", ".join(f"options.{name}={value!r}" for name, value in onnx_only.items())
        )
    # Lazy: writing a SavedModel imports TensorFlow, which importing ganzoo.export must not.
    from ganzoo.export import saved_model

    return saved_model.to_saved_model(model, out_dir, options, overwrite=overwrite)


def to_triton(model, out_dir, *, options=None, triton_options=None, overwrite=False,
              **option_values):
    """Add a generator to a Triton Inference Server model repository.

    Writes `out_dir/<model_name>/<version>/model.onnx` (the graph `to_onnx` writes,
    checked against Keras the same way, or the graph of an ONNX bundle, copied) with its
    own `ganzoo.json`, and `out_dir/<model_name>/config.pbtxt` (onnxruntime backend,
    `max_batch_size`, dynamic batching, the instance group, optional warm-up, every
    version served). A repository holds many models and versions: exporting into an
    existing one adds a model or a version and never removes another. The repository's
    `out_dir/ganzoo.json` lists them and describes the version just written (format
    "triton"), so `ganzoo.runtime.load(out_dir)` runs that one and
    `ganzoo.runtime.load(out_dir/<model_name>/<version>)` any other.

    The serving options are keywords made into one `TritonOptions`, the conversion options
    keywords made into one `ExportOptions` (`optimize` does not apply: a version holds the
    portable graph only); or pass ready values as `triton_options=` and `options=` (each
    one way or the other, not both).

    Args:
        model: a ganzoo model (its `inference_generator(generator)` is exported), any
            Keras generator, or the path of an ONNX bundle (or of a Triton repository or
            version ganzoo wrote), whose verified graph is copied without TensorFlow.
        out_dir: str or path-like. The model repository folder, new or existing.
        options: `ExportOptions`. The conversion options below at once. Defaults to None.
        triton_options: `TritonOptions`. The serving options `model_name` ...
            `max_queue_delay_us` at once. Defaults to None.
        model_name: str. Name Triton serves the model under. Defaults to the family
            name, or "generator".
        version: int. The model version to write. Defaults to the next free one (1 in a
            new model).
        instance_kind: "auto", "gpu" or "cpu". Where Triton runs the instances: "auto"
            (Triton's KIND_AUTO) on the server's GPUs when it has any, else on its CPU.
            Defaults to "auto".
        instances: int. Model instances (per GPU for "gpu"). Defaults to 1.
        warmup: bool or int. Have Triton run a batch of zeros (of this size; True: 1)
            through each instance before it reports the model ready. Defaults to False.
        max_batch_size: int. Largest batch Triton forms. Defaults to 64.
        max_queue_delay_us: int. How long dynamic batching waits to fill a batch, in
            microseconds. Defaults to 100.
        fp16: bool. float16 weights and arithmetic, float32 inputs and outputs.
            Defaults to False.
        opset: int. ONNX opset. Defaults to 17.
        overwrite: bool. Replace the same model version if it exists; nothing else is
            ever replaced. Defaults to False.
        input_signature: list of `tf.TensorSpec`. As for `to_onnx`.
        parity_samples: int. Seeded inputs in the parity check. Defaults to 8.
        seed: int. Seed of the parity inputs. Defaults to 0.
        output_range: (low, high). As for `to_onnx`.
        input_range: (low, high). As for `to_onnx`.
        generator: str. As for `to_onnx`.
        parity_size: int. As for `to_onnx`.
        force_output_range: bool. As for `to_onnx`.

    Returns:
        The repository's metadata (the content of `ganzoo.json`) as a dict.

    Examples:

    ```python
    ganzoo.export.to_triton(gan, "models", max_batch_size=256, instance_kind="gpu")
    ganzoo.export.to_triton("run/onnx", "models", model_name="faces")  # an ONNX bundle
    # tritonserver --model-repository=$PWD/models
    ```
    """
    options, serving = options_lib.resolve("to_triton", TRITON_KEYWORDS, option_values,
                                           options, triton_options)
    return triton.to_triton(model, out_dir, options, serving, overwrite=overwrite)
