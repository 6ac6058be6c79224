"""Seeded generator inputs shared by Keras models, presets, bundles and the runtime.

NumPy and the standard library only: `ganzoo.runtime` imports this module and must never
pull in TensorFlow. A seed means the same inputs everywhere, so a picture sampled from a
preset and one sampled from its exported bundle with the same seed are the same picture.

Every input is drawn by one NumPy generator per role, row after row, so drawing `n` rows in
batches (`latent_batches`, `label_batches`, `noise_batches`) gives exactly the rows that
one call for all `n` gives (`latents`, `labels_for`, `noise`): a large `sample(n)` streams
its inputs one batch at a time and still draws the pictures of a small one.

Streams, for seed `s`: latents `default_rng(s)`, labels `default_rng(s + 1)`, the k-th noise
input `default_rng(s + 2 + k)`, images `default_rng(s + 3)`; `None` draws fresh entropy.

`draw_inputs` draws every input of a generator by its role from these streams: the
runtime's `sample`, export's parity check and `ganzoo.export.bench` all call it, so one
seed gives the same inputs in all three.
"""

import math

import numpy as np

from ganzoo._validation import check_count, check_seed, check_shape


# --- seeded streams --------------------------------------------------------------------


def _batch_sizes(n, batch_size):
    for start in range(0, n, batch_size):
        yield min(batch_size, n - start)


def _normal_rows(rng, n, row_shape, batch_size):
    for size in _batch_sizes(n, batch_size):
        yield rng.standard_normal((size,) + row_shape, dtype=np.float32)


def latent_batches(n, latent_dim, seed=None, batch_size=64):
    """The rows of `latents(n, latent_dim, seed)`, `batch_size` at a time.

    Only one batch is in memory at once; concatenated, the batches equal
    `latents(n, latent_dim, seed)` exactly.

    Args:
        n: int. Number of latent vectors.
        latent_dim: int. Size of each vector.
        seed: int or None. Same seed, same latents.
        batch_size: int. Rows per batch (the last one may be shorter). Defaults to 64.

    Returns:
        An iterator of float32 arrays of shape `(rows, latent_dim)`.
    """
    n = check_count(n)
    latent_dim = check_count(latent_dim, "latent_dim")
    batch_size = check_count(batch_size, "batch_size")
    rng = np.random.default_rng(check_seed(seed))
    return _normal_rows(rng, n, (latent_dim,), batch_size)


def latents(n, latent_dim, seed=None):
    """Standard-normal latents of shape `(n, latent_dim)`, float32.

    Args:
        n: int. Number of latent vectors.
        latent_dim: int. Size of each vector.
        seed: int or None. The same seed always gives the same latents.
    """
    n = check_count(n)
    return next(latent_batches(n, latent_dim, seed, batch_size=n))


def check_latents(latents, latent_dim=None, n=None):
    """Given latents as a float32 array `(rows, latent_dim)`, checked: one line for a
    wrong rank, size, dtype or count, or NaN / Inf values.

    Args:
        latents: array-like of shape `(rows, latent_dim)`, floats.
        latent_dim: int or None. The size each row must have (None: any).
        n: int or None. The rows there must be (None: any, at least one).
    """
    try:
        array = np.asarray(latents)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "fiu" or array.dtype.kind == "b":
        raise ValueError(
            f"latents must be a float array of shape (n, latent_dim). Received: "
            f"{type(latents).__name__}" + ("" if array is None else f" of {array.dtype}"))
    if array.dtype.kind != "f":
        raise ValueError(
            f"latents must be floats (standard-normal draws); received {array.dtype} "
            "values: pass them as float32")
    want = f"(n, {latent_dim})" if latent_dim else "(n, latent_dim)"
    if array.ndim != 2 or array.shape[0] < 1 or (latent_dim and array.shape[1] != latent_dim):
        raise ValueError(f"latents must have shape {want}. Received: shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise ValueError(
            f"latents has {array.shape[0]} rows but n={n} images were asked for: give one "
            "of them, or both agreeing")
    if not np.all(np.isfinite(array)):
        raise ValueError("latents holds NaN or Inf values; expected finite numbers")
    return np.ascontiguousarray(array, dtype=np.float32)


def given_latent_batches(latents, batch_size):
    """The rows of checked `latents`, `batch_size` at a time (as `latent_batches` yields
    drawn ones)."""
    batch_size = check_count(batch_size, "batch_size")
    return (latents[start : start + batch_size] for start in range(0, len(latents), batch_size))


def noise_batches(n, shape, seed=None, index=0, batch_size=64):
    """Standard-normal float32 noise for the `index`-th noise input, `batch_size` rows at a time.

    Args:
        n: int. Number of rows.
        shape: tuple of ints. Shape of one row, e.g. (H, W, 1).
        seed: int or None. Row `i` is the same for one seed whatever the batch size.
        index: int. Which noise input (its stream is `default_rng(seed + 2 + index)`).
        batch_size: int. Rows per batch. Defaults to 64.

    Returns:
        An iterator of float32 arrays of shape `(rows,) + shape`.
    """
    n = check_count(n)
    shape = check_shape(shape, "shape")
    batch_size = check_count(batch_size, "batch_size")
    seed = check_seed(seed)
    index = check_seed(index, "index")
    rng = np.random.default_rng(None if seed is None else seed + 2 + index)
    return _normal_rows(rng, n, shape, batch_size)


def noise(n, shape, seed=None, index=0):
    """Standard-normal noise of shape `(n,) + shape` for the `index`-th noise input."""
    n = check_count(n)
    return next(noise_batches(n, shape, seed, index, batch_size=n))


def _checked_labels(n, num_classes, labels):
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError) as error:
        raise ValueError(f"labels must be integers. Received: labels={labels!r}") from error
    if array.dtype.kind not in "iu" or array.ndim > 1:
        raise ValueError(
            f"labels must be one integer or a 1-D sequence of integers. Received: "
            f"labels with dtype={array.dtype}, shape={array.shape}"
        )
    array = array.astype(np.int64).reshape(-1)
    if array.size == 1:
        array = np.full((n,), int(array[0]), dtype=np.int64)
    if array.shape != (n,):
        raise ValueError(f"Expected one label or {n} labels. Received: {array.size} labels")
    if num_classes is not None and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"Labels must lie in [0, {num_classes - 1}]. "
            f"Received: labels in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.int32)


def label_batches(n, num_classes, labels=None, seed=None, batch_size=64):
    """The labels of `labels_for(n, num_classes, labels, seed)`, `batch_size` at a time.

    Given labels are checked once, then sliced; drawn ones are drawn batch by batch from
    one generator, so the batches equal `labels_for(...)` exactly.

    Returns:
        An iterator of int32 arrays of shape `(rows,)`.
    """
    n = check_count(n)
    num_classes = check_count(num_classes, "num_classes")
    batch_size = check_count(batch_size, "batch_size")
    seed = check_seed(seed)
    if labels is not None:
        given = _checked_labels(n, num_classes, labels)
        return (
            given[start : start + size]
            for start, size in zip(range(0, n, batch_size), _batch_sizes(n, batch_size))
        )
    rng = np.random.default_rng(None if seed is None else seed + 1)
    return (
        rng.integers(0, num_classes, size=size).astype(np.int32)
        for size in _batch_sizes(n, batch_size)
    )


def labels_for(n, num_classes, labels=None, seed=None):
    """Integer class labels of shape `(n,)`: the given ones, or seeded uniform ones.

    Args:
        n: int. Number of labels.
        num_classes: int. Labels lie in [0, num_classes).
        labels: int, sequence of `n` ints, or None (draw them from the seed).
        seed: int or None. Drawn labels come from `default_rng(seed + 1)`.
    """
    n = check_count(n)
    return next(label_batches(n, num_classes, labels, seed, batch_size=n))


# --- every input of a generator, by role -------------------------------------------------

_DRAWN_ROLES = ("latent", "label", "image", "noise", "truncation")
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


def role_from_name(name):
    """The role an input's name gives ("latent_z" -> "latent", "noise_8x8" -> "noise",
    "psi" -> "truncation"), or None: the one rule export and the families follow.
    """
    lowered = name.lower()
    if lowered in _ROLE_NAMES:
        return _ROLE_NAMES[lowered]
    for prefix, role in _ROLE_PREFIXES:
        if lowered.startswith(prefix):
            return role
    return None


def draw_inputs(inputs, n, seed=None, *, labels=None, truncation=None, num_classes=None,
                spatial=None, batch_size=None, latents=None):
    """Seeded arrays for every input of a generator, drawn by role, in signature order.

    Args:
        inputs: list of input descriptions: dicts as in a bundle's `ganzoo.json` "inputs"
            (name, shape with None for dynamic axes, dtype, role), or objects with
            `.name`, `.shape`, `.dtype` and `.role`. The batch axis comes first.
        n: int. Rows to draw.
        seed: int or None. Latents come from `latent_batches`, labels from
            `label_batches`, the k-th noise input (k counts the noise inputs in order)
            from `noise_batches(index=k)`, images uniform in [-1, 1] from
            `default_rng(seed + 3)`. None draws fresh entropy.
        labels: int, sequence of `n` ints, or None (draw them from the seed).
        truncation: float or None. Value of a `truncation` input; None gives 1.0.
        num_classes: int or None. Drawn labels lie in [0, num_classes); needed to draw
            labels, and given labels are checked against it.
        spatial: int or None. Size given to dynamic axes after the batch axis. Defaults to
            None: an input with such axes cannot be drawn.
        batch_size: int or None. None returns the whole draw; an int yields it
            `batch_size` rows at a time, each batch equal to those rows of the whole draw.
        latents: array `(n, latent_dim)` or None. Given latents for the `latent` input
            instead of drawn ones (`check_latents`); `n` may then be None. The other
            inputs are still drawn from `seed`.

    Returns:
        A list of arrays (each cast to its input's dtype), or with `batch_size` an
        iterator of such lists.

    Raises:
        ValueError: an argument is not what is described above, labels for inputs
            without a label input, a truncation other than 1 without a truncation input,
            an input with a role that cannot be drawn or with dynamic axes and no `spatial`.
    """
    entries = [_described(entry) for entry in inputs]
    if latents is not None:
        latent_entries = [entry for entry in entries if entry[3] == "latent"]
        if not latent_entries:
            raise ValueError("The generator has no latent input; latents= is for generators "
                             "fed latents")
        _, shape, _, _ = latent_entries[0]
        latents = check_latents(latents, math.prod(int(d) for d in shape[1:]),
                                None if n is None else check_count(n))
        n = len(latents)
    n = check_count(n)
    seed = check_seed(seed)
    size = n if batch_size is None else check_count(batch_size, "batch_size")
    if not entries:
        raise ValueError(f"There are no inputs to draw. Received: inputs={inputs!r}")
    roles = {role for _, _, _, role in entries}
    if labels is not None and "label" not in roles:
        raise ValueError(
            f"The generator is not conditional (it has no label input). Received: labels={labels!r}"
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
                "The generator has no truncation input; truncation works with generators "
                f"that take one (stylegan_lite). Received: truncation={truncation!r}"
            )
    streams, noise_index = [], 0
    for name, shape, dtype, role in entries:
        dims = _drawn_dims(name, shape, role, spatial)
        if role == "latent" and latents is not None:
            rows = given_latent_batches(latents, size)
        elif role == "latent":
            rows = latent_batches(n, math.prod(dims), seed, size)
        elif role == "label":
            rows = _label_rows(n, num_classes, labels, seed, size)
        elif role == "image":
            rows = _uniform_rows(np.random.default_rng(None if seed is None else seed + 3),
                                 n, dims, size)
        elif role == "noise":
            rows = noise_batches(n, dims, seed, noise_index, size)
            noise_index += 1
        else:  # truncation
            value = 1.0 if truncation is None else float(truncation)
            rows = _constant_rows(value, n, dims, size)
        streams.append(_as_rows(rows, dims, dtype))
    batches = (list(arrays) for arrays in zip(*streams))
    return next(batches) if batch_size is None else batches


def _described(entry):
    """`(name, shape, dtype, role)` of a `ganzoo.json` input dict or an object like one."""
    if isinstance(entry, dict):
        fields = [entry.get(key) for key in ("name", "shape", "dtype", "role")]
    else:
        fields = [getattr(entry, key, None) for key in ("name", "shape", "dtype", "role")]
    name, shape, dtype, role = fields
    if isinstance(role, str) and role.startswith("noise_"):
        role = "noise"
    try:  # np.dtype(None) would be float64
        shape, dtype = tuple(shape), None if dtype is None else np.dtype(dtype)
    except TypeError:
        shape = None
    if name is None or not shape or dtype is None or role not in _DRAWN_ROLES:
        raise ValueError(
            "Each input needs a name, a shape with the batch axis first, a dtype and a role "
            f"({', '.join(_DRAWN_ROLES)}). Received: {entry!r}"
        )
    return name, shape, dtype, role


def _drawn_dims(name, shape, role, spatial):
    if spatial is not None:
        spatial = check_count(spatial, "spatial")
        return tuple(spatial if dim is None else int(dim) for dim in shape[1:])
    if any(dim is None for dim in shape[1:]):
        described = "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"
        raise ValueError(
            f"Input {name!r} ({role}) has dynamic axes {described}, so it cannot be drawn; "
            "pass it to run() yourself"
        )
    return tuple(int(dim) for dim in shape[1:])


def _label_rows(n, num_classes, labels, seed, batch_size):
    if num_classes:
        return label_batches(n, num_classes, labels, seed, batch_size)
    if labels is None:
        raise ValueError(
            "Labels cannot be drawn without the number of classes (the generator does not "
            "record num_classes); pass labels="
        )
    given = _checked_labels(n, None, labels)
    return (given[start : start + batch_size] for start in range(0, n, batch_size))


def _uniform_rows(rng, n, dims, batch_size):
    for size in _batch_sizes(n, batch_size):
        yield rng.uniform(-1.0, 1.0, (size,) + dims)


def _constant_rows(value, n, dims, batch_size):
    for size in _batch_sizes(n, batch_size):
        yield np.full((size,) + dims, value)


def _as_rows(rows, dims, dtype):
    for array in rows:
        yield np.ascontiguousarray(np.reshape(array, (len(array),) + dims), dtype=dtype)


def role_of(entry):
    """The drawn role of an input description: "latent", "label", "image", "noise" (any
    `noise_<k>`) or "truncation"."""
    return _described(entry)[3]
