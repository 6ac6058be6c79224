"""Execution providers: which of TensorRT, CUDA and CPU can run here, and how to ask.

onnxruntime-gpu lists its GPU providers whatever the machine and falls back to CPU after
printing an error when their libraries do not load; this module checks first (the NVIDIA
driver, a visible GPU, every library the provider links against, read from its ELF
header) so that `ganzoo.runtime.load` can choose quietly and say what it chose. It also
counts the physical cores this process may use (affinity, cgroup quota, SMT).
"""

import contextlib
import ctypes
import functools
import io
import os
import struct

import onnxruntime as ort

# Short names accepted by `load(providers=...)`, in the order "auto" tries them.
PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
_PROVIDER_LIBRARIES = {
    "TensorrtExecutionProvider": "libonnxruntime_providers_tensorrt.so",
    "CUDAExecutionProvider": "libonnxruntime_providers_cuda.so",
}
# The CUDA provider loads cuDNN when it first needs it, so it is not among the
# provider library's DT_NEEDED entries; onnxruntime-gpu 1.31 wants cuDNN 9.
_LAZY_LIBRARIES = {"CUDAExecutionProvider": ("libcudnn.so.9",)}
_ORT_DEFAULT_LOG_SEVERITY = 2  # warning; onnxruntime has no getter for the current level
_QUIET = 4  # fatal only: provider probes must not print onnxruntime's error lines


def requested_providers(providers):
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


def session_options(provider_names, threads):
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
def quiet_onnxruntime(enabled):
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
    if provider in GPU_PROVIDERS:
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
