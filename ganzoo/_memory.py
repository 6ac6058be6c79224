"""How much memory is left, and refusing work that cannot fit (NumPy and the standard
library only, so the runtime can ask too)."""

import math
import os

from ganzoo._validation import check_count, check_shape

_GIB = 1024**3
_MIB = 1024**2


def available_memory():
    """Bytes this process can still allocate without swapping, or None if unknown.

    The kernel's `MemAvailable` (/proc/meminfo; `os.sysconf` where there is none), lowered
    to what the cgroup memory limit leaves when the process runs in a container.
    """
    free = _meminfo_available()
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            free = None
    limit = _cgroup_memory_left()
    if limit is not None:
        free = limit if free is None else min(free, limit)
    return free


def _meminfo_available():
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_memory_left():
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),  # cgroup v1
    ):
        try:
            with open(limit_file, encoding="ascii") as handle:
                limit = handle.read().strip()
            with open(usage_file, encoding="ascii") as handle:
                usage = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 2**60:
            return None  # no limit (v1 writes "no limit" as a huge number)
        return max(int(limit) - usage, 0)
    return None


def format_bytes(size):
    if size >= _GIB:
        return f"{size / _GIB:.1f} GiB"
    return f"{size / _MIB:.1f} MiB"


def check_fits_in_memory(n, image_shape, what="samples", bytes_per_value=1):
    """Refuse `n` images of `image_shape` that would not fit in free memory, before any work.

    A large `sample(n)` streams its inputs batch by batch, but its result is one array
    of n·H·W·C values: when that cannot fit, say so in one line instead of swapping the
    machine to a halt or dying of an out-of-memory kill half-way.

    Args:
        n: int. Number of images.
        image_shape: tuple of ints. (H, W, C) of one image.
        what: str. What the images are, for the message. Defaults to "samples".
        bytes_per_value: int. 1 for uint8 images, 4 for float32. Defaults to 1.

    Raises:
        ValueError: "n=100000000 samples of 32x32x1 need 95.4 GiB; about 20.1 GiB is
            free: sample fewer (or in several calls)".
    """
    n = check_count(n)
    image_shape = check_shape(image_shape, "image_shape")
    needed = n * math.prod(image_shape) * int(bytes_per_value)
    free = available_memory()
    if free is None or needed <= free:
        return
    size = "x".join(str(dim) for dim in image_shape)
    raise ValueError(
        f"n={n} {what} of {size} need {format_bytes(needed)}; about {format_bytes(free)} "
        "is free: sample fewer (or in several calls)"
    )
