"""Run an exported ONNX bundle with onnxruntime: NumPy and onnxruntime only, no TensorFlow.

```python
gen = ganzoo.runtime.load("run/onnx")      # picks TensorRT, CUDA or CPU
gen.provider                               # "CPUExecutionProvider"
images = gen.sample(16, seed=0)            # uint8 (16, H, W, C)
```

A seed means the same latents everywhere: `sample(n, seed=s)` feeds
`ganzoo._sampling.latents(n, latent_dim, s)`, as the Keras models do, so a bundle and the
preset it came from draw the same pictures. docs/export.md describes the bundle format.
"""

import contextlib
import ctypes
import functools
import io
import math
import os
import struct

import numpy as np
import onnxruntime as ort

from ganzoo import _bundle, _imaging, _sampling

__all__ = ["load", "Generator", "PROVIDERS"]

# Short names accepted by `load(providers=...)`, in the order "auto" tries them.
PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
_PROVIDER_LIBRARIES = {
    "TensorrtExecutionProvider": "libonnxruntime_providers_tensorrt.so",
    "CUDAExecutionProvider": "libonnxruntime_providers_cuda.so",
}
# The CUDA provider loads cuDNN when it first needs it, so it is not among the
# provider library's DT_NEEDED entries; onnxruntime-gpu 1.31 wants cuDNN 9.
_LAZY_LIBRARIES = {"CUDAExecutionProvider": ("libcudnn.so.9",)}
_ORT_DEFAULT_LOG_SEVERITY = 2  # warning; onnxruntime has no getter for the current level
_QUIET = 4  # fatal only: provider probes must not print onnxruntime's error lines


def load(bundle, providers="auto", threads=None, optimized=True):
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

    Returns:
        A `Generator`; its `.provider` says which provider runs the bundle and
        `.model_file` which graph.

    Raises:
        ValueError: `bundle` is not an ONNX bundle, or an unknown provider name.
        RuntimeError: an explicitly requested provider cannot be created here.
    """
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
    cpu_path = _bundle.variant_path(path, metadata, "cpu") if optimized else None
    if cpu_path is not None and not os.path.isfile(cpu_path):
        cpu_path = None
    session, used_path = _create_session(model_path, providers, threads, cpu_path)
    generator = Generator(path, metadata, session)
    generator.model_file = os.path.relpath(used_path, path).replace(os.sep, "/")
    return generator


class Generator:
    """An exported generator running on onnxruntime.

    Attributes:
        provider: str. The execution provider in use, e.g. "CUDAExecutionProvider".
        model_file: str. The graph it runs, relative to the bundle: "model.onnx", or
            "model.cpu.onnx" (the CPU-optimised graph) on the CPU provider.
        metadata: dict. The bundle's `ganzoo.json`.
        inputs: list of dicts. name, shape (None for dynamic axes), dtype and role of each
            input, in signature order.
        outputs: list of dicts. name, shape, dtype, range and layout of each output.
    """

    def __init__(self, path, metadata, session):
        self.path = path
        self.metadata = metadata
        self._session = session
        self._inputs = [dict(entry) for entry in metadata["inputs"]]
        self._outputs = [dict(entry) for entry in metadata["outputs"]]
        self._output_names = [entry["name"] for entry in self._outputs]
        _check_session_matches(path, session, self._inputs, self._output_names)
        self.provider = session.get_providers()[0]
        self.model_file = metadata.get("model") or _bundle.MODEL_FILES.get(metadata["format"])
        # Outputs land on the GPU and are copied back once, inputs are copied over once.
        self._io_device = "cuda" if self.provider in _GPU_PROVIDERS else None

    @property
    def inputs(self):
        return [dict(entry) for entry in self._inputs]

    @property
    def outputs(self):
        return [dict(entry) for entry in self._outputs]

    @property
    def family(self):
        return self.metadata.get("family")

    @property
    def latent_dim(self):
        return self.metadata.get("latent_dim")

    @property
    def num_classes(self):
        return self.metadata.get("num_classes")

    @property
    def image_shape(self):
        shape = self.metadata.get("image_shape")
        return None if shape is None else tuple(shape)

    def __repr__(self):
        inputs = ", ".join(
            f"{entry['name']}{_format_shape(entry['shape'])}" for entry in self._inputs
        )
        return (
            f"<ganzoo.runtime.Generator family={self.family} provider={self.provider} "
            f"inputs=[{inputs}]>"
        )

    def run(self, *arrays, **named):
        """Run the graph on arrays given in signature order and/or by input name.

        Returns the output array, or a tuple of arrays when the bundle has several outputs.
        Arrays are cast to the input's dtype when that loses no kind (int64 labels to
        int32, float64 latents to float32); anything else raises a one-line ValueError
        naming the input, the expected shape and what was received.
        """
        feeds = self._feeds(arrays, named)
        outputs = self._run_session(feeds)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def sample(self, n, seed=None, labels=None, truncation=None, batch_size=64):
        """Generate `n` images as uint8 NHWC.

        Args:
            n: int. Number of images.
            seed: int or None. Same seed, same latents (`ganzoo._sampling.latents`), so the
                same pictures as the Keras model sampled with that seed.
            labels: int or sequence of `n` ints. Classes of a conditional generator.
                Defaults to seeded random classes.
            truncation: float. Truncation psi of a bundle with a `truncation` input
                (stylegan_lite). Defaults to 1 (no truncation).
            batch_size: int. Images per run of the graph. Defaults to 64.

        Inputs are drawn one batch at a time (`ganzoo._sampling.latent_batches`: the same
        rows as drawing all `n` at once), so memory holds one batch of inputs beside the
        uint8 result. A result that cannot fit in free memory is refused in one line
        before anything is drawn.

        Raises:
            ValueError: `n`, `seed`, `batch_size`, `labels` or `truncation` is not what is
                described above, or the `n` images would not fit in memory.
        """
        n = _sampling.check_count(n)
        seed = _sampling.check_seed(seed)
        batch_size = _sampling.check_count(batch_size, "batch_size")
        image_input = self._input_with_role("image")
        if image_input is not None:
            raise ValueError(
                f"This bundle maps images (input {image_input['name']!r}); "
                "use upscale() or translate() instead of sample()"
            )
        batches = self._drawn_batches(n, seed, labels, truncation, batch_size)
        return self._generate(batches, n, self._output_image_shape())

    def upscale(self, image):
        """Super-resolve one uint8 HWC image (or an NHWC batch) with an srgan bundle."""
        return self._image_to_image(image, "upscale")

    def translate(self, image):
        """Translate one uint8 HWC image (or an NHWC batch) with a cyclegan bundle."""
        return self._image_to_image(image, "translate")

    def _image_to_image(self, image, verb):
        spec = self._input_with_role("image")
        if spec is None:
            names = ", ".join(entry["name"] for entry in self._inputs)
            raise ValueError(
                f"{verb}() needs a bundle with an image input; this one "
                f"({self.family or 'generator'}) takes {names}"
            )
        array = np.asarray(image)
        if array.dtype != np.uint8:
            raise ValueError(
                f"{verb}() expects a uint8 image of shape (H, W, C). "
                f"Received: dtype={array.dtype}, shape={array.shape}"
            )
        single = array.ndim in (2, 3)
        if array.ndim == 2:
            array = array[..., None]
        if single:
            array = array[None]
        if array.ndim != 4:
            raise ValueError(
                f"{verb}() expects a uint8 image of shape (H, W, C). Received: shape={array.shape}"
            )
        value_range = tuple(spec.get("range", (-1.0, 1.0)))
        images = _imaging.from_uint8(array, value_range)
        n = images.shape[0]
        if n == 0:
            raise ValueError(f"{verb}() got an empty batch. Received: shape={array.shape}")
        batches = self._drawn_batches(n, 0, None, None, batch_size=n, given={spec["name"]: images})
        output = self._generate(batches, n)
        return output[0] if single else output

    def _input_with_role(self, role):
        return next((entry for entry in self._inputs if entry["role"] == role), None)

    def _output_image_shape(self):
        """(H, W, C) of one output image when the bundle fixes it, else None."""
        shape = self.image_shape
        if shape is None:
            declared = self._outputs[0].get("shape") or []
            shape = tuple(declared[1:]) if len(declared) > 1 else None
        if not shape or any(not isinstance(dim, int) or dim < 1 for dim in shape):
            return None
        return tuple(shape)

    def _generate(self, batches, n, image_shape=None):
        """Run every batch of feeds and gather the uint8 images into one (n, ...) array.

        The result is allocated once, after checking that it fits in free memory: before
        the first batch when `image_shape` (H, W, C) is known, else after it.
        """
        if image_shape is not None:
            _sampling.check_fits_in_memory(n, image_shape)
        images, start = None, 0
        for feeds in batches:
            batch = self._to_uint8(self._run_session(feeds)[0])
            if images is None:
                if image_shape is None:
                    _sampling.check_fits_in_memory(n, batch.shape[1:])
                images = np.empty((n,) + batch.shape[1:], dtype=np.uint8)
            images[start : start + len(batch)] = batch
            start += len(batch)
        return images

    def _drawn_batches(self, n, seed, labels, truncation, batch_size, given=None):
        """Feeds for every input, `batch_size` rows at a time, drawn from `seed`.

        docs/export.md describes the streams; each yields the rows one draw of all `n` would
        give, so the batch size never changes the pictures. Arguments are checked here,
        before the first batch is drawn.
        """
        given = dict(given or {})
        roles = {entry["role"] for entry in self._inputs}
        if labels is not None and "label" not in roles:
            raise ValueError(
                "This bundle is not conditional (it has no label input). "
                f"Received: labels={labels!r}"
            )
        if truncation is not None:
            if (
                isinstance(truncation, (bool, np.bool_))
                or not isinstance(truncation, (int, float, np.integer, np.floating))
                or not math.isfinite(truncation)
            ):
                raise ValueError(
                    f"truncation must be a finite number. Received: truncation={truncation!r}"
                )
            if "truncation" not in roles and float(truncation) != 1.0:
                raise ValueError(
                    "This bundle has no truncation input; truncation works with generators "
                    f"exported with one (stylegan_lite). Received: truncation={truncation!r}"
                )
        names, streams = [], []
        noise_index = 0
        for entry in self._inputs:
            name, role = entry["name"], entry["role"]
            if name in given:
                stream = _row_slices(given[name], n, batch_size)
            else:
                dims = _fixed_dims(entry, role)
                if role == "latent":
                    stream = _sampling.latent_batches(n, math.prod(dims), seed, batch_size)
                elif role == "label":
                    stream = self._label_batches(n, labels, seed, batch_size)
                elif role == "noise":
                    stream = _sampling.noise_batches(n, dims, seed, noise_index, batch_size)
                    noise_index += 1
                elif role == "truncation":
                    value = 1.0 if truncation is None else float(truncation)
                    stream = _constant_rows(value, dims, n, batch_size)
                else:
                    raise ValueError(f"Input {name!r} ({role}) must be given")
                stream = _reshaped_rows(stream, dims)
            names.append(name)
            streams.append(stream)
        return (self._feeds((), dict(zip(names, rows))) for rows in zip(*streams))

    def _label_batches(self, n, labels, seed, batch_size):
        if self.num_classes:
            return _sampling.label_batches(n, self.num_classes, labels, seed, batch_size)
        return _row_slices(self._labels(n, labels, seed), n, batch_size)

    def _labels(self, n, labels, seed):
        if labels is None:
            raise ValueError(
                "This bundle does not record num_classes, so labels cannot be drawn; "
                "pass labels="
            )
        labels = np.asarray(labels).reshape(-1)
        if labels.size == 1:
            labels = np.full((n,), labels[0])
        if labels.shape != (n,):
            raise ValueError(f"Expected one label or {n} labels. Received: {labels.size} labels")
        return labels

    def _feeds(self, arrays, named):
        names = [entry["name"] for entry in self._inputs]
        if len(arrays) > len(names):
            raise ValueError(
                f"This bundle takes {len(names)} input(s) ({', '.join(names)}). "
                f"Received: {len(arrays)} positional arrays"
            )
        values = dict(zip(names, arrays))
        for name, value in named.items():
            if name not in names:
                raise ValueError(
                    f"Unknown input {name!r}; this bundle takes {', '.join(names)}"
                )
            if name in values:
                raise ValueError(f"Input {name!r} was given both by position and by name")
            values[name] = value
        feeds = {}
        batch = None
        for entry in self._inputs:
            name = entry["name"]
            if name not in values:
                raise ValueError(
                    f"Missing input {name!r}: expected shape {_format_shape(entry['shape'])} "
                    f"{entry['dtype']}"
                )
            array = _checked_array(entry, values[name], self.num_classes)
            if batch is not None and array.shape[0] != batch:
                raise ValueError(
                    f"Input {name!r} has batch size {array.shape[0]}; "
                    f"the other inputs have {batch}"
                )
            batch = array.shape[0]
            feeds[name] = array
        return feeds

    def _run_session(self, feeds):
        if self._io_device is None:
            return self._session.run(self._output_names, feeds)
        binding = self._session.io_binding()
        for name, array in feeds.items():
            binding.bind_cpu_input(name, array)
        for name in self._output_names:
            binding.bind_output(name, self._io_device, 0)
        self._session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()

    def _to_uint8(self, images):
        value_range = tuple(self._outputs[0].get("range", (-1.0, 1.0)))
        return _imaging.to_uint8(images, value_range)


def _row_slices(array, n, batch_size):
    for start in range(0, n, batch_size):
        yield array[start : start + batch_size]


def _constant_rows(value, dims, n, batch_size):
    for start in range(0, n, batch_size):
        yield np.full((min(batch_size, n - start),) + dims, value, dtype=np.float32)


def _reshaped_rows(stream, dims):
    for rows in stream:
        yield rows.reshape((len(rows),) + dims)


def _checked_array(entry, value, num_classes):
    name, expected = entry["name"], entry["shape"]
    target = np.dtype(entry["dtype"])
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Input {name!r} is not an array: {error}") from None
    received = f"Received: shape={tuple(array.shape)} {array.dtype}"
    wanted = f"Input {name!r} expects shape {_format_shape(expected)} {target}"
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, target, casting="same_kind"):
        raise ValueError(f"{wanted}; {array.dtype} cannot be cast to {target}. {received}")
    if array.ndim != len(expected) or any(
        want is not None and want != got for want, got in zip(expected, array.shape)
    ):
        raise ValueError(f"{wanted}. {received}")
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


def _fixed_dims(entry, role):
    dims = tuple(entry["shape"][1:])
    if any(dim is None for dim in dims):
        raise ValueError(
            f"Input {entry['name']!r} ({role}) has dynamic axes {_format_shape(entry['shape'])}; "
            "pass it to run() yourself"
        )
    return dims


def _format_shape(shape):
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


def _check_session_matches(path, session, inputs, output_names):
    graph_inputs = {value.name for value in session.get_inputs()}
    graph_outputs = {value.name for value in session.get_outputs()}
    described = {entry["name"] for entry in inputs}
    if graph_inputs != described or not set(output_names) <= graph_outputs:
        raise ValueError(
            f"{path}: ganzoo.json does not describe model.onnx (graph inputs "
            f"{sorted(graph_inputs)}, outputs {sorted(graph_outputs)})"
        )


# --- execution providers ---------------------------------------------------------------


def _create_session(model_path, providers, threads, cpu_path=None):
    """`(session, path of the graph it runs)` on the first provider that works."""
    requested, strict = _requested_providers(providers)
    usable, problems = [], {}
    for provider in requested:
        name = provider[0] if isinstance(provider, tuple) else provider
        problem = provider_problem(name)
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
        options = _session_options(names, threads)
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
            with _quiet_onnxruntime(any(name in _GPU_PROVIDERS for name in names)):
                session = ort.InferenceSession(path, options, providers=chain)
        except Exception as error:  # onnxruntime raises its own exception types
            last_error = error
            if strict and names[0] in _GPU_PROVIDERS:
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
        with _quiet_onnxruntime(True):
            return ort.InferenceSession(cpu_path, options, providers=chain)
    except Exception:  # onnxruntime raises its own exception types
        return None


def _first_line(error):
    lines = str(error).strip().splitlines() if error is not None else []
    return lines[0] if lines else type(error).__name__


def _requested_providers(providers):
    """Provider chain to try and whether every provider in it must work."""
    if isinstance(providers, str):
        key = providers.lower()
        if key == "auto":
            available = ort.get_available_providers()
            chain = [name for name in PROVIDERS.values() if name in available]
            return chain or ["CPUExecutionProvider"], False
        if key in PROVIDERS:
            return [PROVIDERS[key]], True
        if providers in ort.get_all_providers():
            return [providers], True
        raise ValueError(
            "providers must be 'auto', 'tensorrt', 'cuda', 'cpu' or a list of onnxruntime "
            f"provider names. Received: providers={providers!r}"
        )
    try:
        entries = list(providers)
    except TypeError:
        raise ValueError(
            f"providers must be a string or a list. Received: {providers!r}"
        ) from None
    if not entries:
        raise ValueError("providers must not be empty")
    chain = []
    known = ort.get_all_providers()
    for entry in entries:
        name = entry[0] if isinstance(entry, tuple) else entry
        name = PROVIDERS.get(str(name).lower(), name)
        if name not in known:
            raise ValueError(
                f"Unknown onnxruntime provider {name!r}; expected one of {', '.join(known)}"
            )
        chain.append((name, entry[1]) if isinstance(entry, tuple) else name)
    return chain, False


def _session_options(provider_names, threads):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer. Received: threads={threads!r}")
        options.intra_op_num_threads = threads
    elif all(name == "CPUExecutionProvider" for name in provider_names):
        options.intra_op_num_threads = physical_cores()
    return options


@contextlib.contextmanager
def _quiet_onnxruntime(enabled):
    """Silence onnxruntime's default logger while a GPU provider may fail to start."""
    if not enabled:
        yield
        return
    ort.set_default_logger_severity(_QUIET)
    try:
        yield
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_LOG_SEVERITY)


def provider_problem(provider):
    """Why onnxruntime `provider` cannot be created on this machine, or None if it can."""
    if provider in _GPU_PROVIDERS:
        return gpu_problem(provider)
    if provider not in ort.get_available_providers():
        return f"this onnxruntime build has no {provider}"
    return None


@functools.lru_cache(maxsize=None)
def gpu_problem(provider):
    """Why `provider` cannot be created on this machine, or None if it can.

    onnxruntime-gpu lists its GPU providers as available whatever the machine, then prints
    an error and falls back to CPU when their libraries do not load. This checks first:
    the provider in this onnxruntime build, the NVIDIA driver and a visible GPU, and every
    library the provider links against (after `onnxruntime.preload_dlls`, which finds the
    CUDA and cuDNN pip packages).
    """
    if provider not in ort.get_available_providers():
        return f"this onnxruntime build has no {provider} (install onnxruntime-gpu)"
    driver_problem = _driver_problem()
    if driver_problem:
        return driver_problem
    _preload_cuda_libraries()
    library = os.path.join(os.path.dirname(ort.__file__), "capi", _PROVIDER_LIBRARIES[provider])
    if not os.path.isfile(library):
        return f"onnxruntime has no {os.path.basename(library)}"
    needed = _needed_libraries(library) or []
    needed += _LAZY_LIBRARIES.get(provider, ())
    missing = [soname for soname in needed if not _loads(soname)]
    if missing:
        wanted = "CUDA and cuDNN libraries (pip install 'onnxruntime-gpu[cuda,cudnn]')"
        if provider == "TensorrtExecutionProvider":
            wanted = (
                "TensorRT, CUDA and cuDNN libraries "
                "(pip install tensorrt-cu13 'onnxruntime-gpu[cuda,cudnn]')"
            )
        return (
            f"missing {', '.join(missing)}; install the {wanted} that onnxruntime-gpu "
            f"{ort.__version__} needs, or add their folder to LD_LIBRARY_PATH"
        )
    return None


def _driver_problem():
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no NVIDIA driver (libcuda.so.1 not found)"
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return "the NVIDIA driver sees no GPU"
    return None


def _preload_cuda_libraries():
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    with contextlib.redirect_stdout(io.StringIO()):
        with contextlib.suppress(Exception):
            preload(cuda=True, cudnn=True, msvc=False)


def _loads(soname):
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _needed_libraries(path):
    """The DT_NEEDED entries of a 64-bit ELF shared library, or None if unreadable."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(64)
            if header[:4] != b"\x7fELF" or header[4] != 2:
                return None
            endian = "<" if header[5] == 1 else ">"
            (section_offset,) = struct.unpack_from(endian + "Q", header, 0x28)
            entry_size, count = struct.unpack_from(endian + "HH", header, 0x3A)
            handle.seek(section_offset)
            table = handle.read(entry_size * count)
            sections = [
                struct.unpack_from(endian + "IIQQQQIIQQ", table, index * entry_size)
                for index in range(count)
            ]
            for _, kind, _, _, offset, size, link, _, _, _ in sections:
                if kind != 6:  # SHT_DYNAMIC
                    continue
                handle.seek(offset)
                dynamic = handle.read(size)
                handle.seek(sections[link][4])
                strings = handle.read(sections[link][5])
                needed = []
                for position in range(0, len(dynamic) - 15, 16):
                    tag, value = struct.unpack_from(endian + "qQ", dynamic, position)
                    if tag == 0:
                        break
                    if tag == 1:  # DT_NEEDED
                        needed.append(strings[value : strings.index(b"\0", value)].decode())
                return needed
    except (OSError, struct.error, ValueError, IndexError):
        return None
    return None


def physical_cores():
    """Physical cores this process may use: affinity, cgroup quota and SMT considered."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    cores = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            package = core = None
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    package = value.strip()
                elif key == "core id":
                    core = value.strip()
                elif not key and core is not None:
                    cores.add((package, core))
                    package = core = None
            if core is not None:
                cores.add((package, core))
    except OSError:
        pass
    count = min(usable, len(cores)) if cores else usable
    quota = _cgroup_cpu_quota()
    if quota is not None:
        count = min(count, quota)
    return max(1, count)


def _cgroup_cpu_quota():
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            limit, period = handle.read().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    return max(1, int(int(limit) // int(period)))
