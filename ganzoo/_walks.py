"""Latent walks: the latents of frames on a path through the latents of some seeds.

NumPy only (the runtime walks bundles with it). A walk through seeds s_0, ..., s_k visits
each seed's latent (`ganzoo._sampling.latents(1, latent_dim, s)`) in order, `frames`
frames in all, so the first frame is `sample(1, seed=s_0)` and the last `sample(1,
seed=s_k)`; between two seeds the latents follow a great circle (`slerp`, the right path
for Gaussian latents: their norms stay typical) or a straight line (`lerp`). Frames are
made a batch at a time, so a long walk never holds all its latents.
"""

import numpy as np

from ganzoo import _sampling
from ganzoo._validation import check_count, check_seed

METHODS = ("slerp", "lerp")


def check_walk(seeds, frames, method):
    """(seeds as a list of ints, frames, method), checked: one line for fewer than two
    seeds, fewer frames than seeds, or an unknown method."""
    try:
        seeds = [check_seed(seed) for seed in seeds]
    except TypeError:
        raise ValueError(f"seeds must be a list of seeds. Received: seeds={seeds!r}") from None
    if len(seeds) < 2 or any(seed is None for seed in seeds):
        raise ValueError(
            f"A walk needs two seeds or more to walk between. Received: seeds={seeds!r}")
    frames = check_count(frames, "frames")
    if frames < len(seeds):
        raise ValueError(
            f"frames must be at least the number of seeds ({len(seeds)}), one frame per "
            f"seed. Received: frames={frames}")
    if method not in METHODS:
        raise ValueError(f"method must be 'slerp' or 'lerp'. Received: method={method!r}")
    return seeds, frames, method


def slerp(a, b, t):
    """Spherical interpolation of rows `a` to `b` at fractions `t` (shape (rows,));
    straight lines where the two are (anti)parallel."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    unit_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    cosine = np.clip(np.sum(unit_a * unit_b, axis=-1, keepdims=True), -1.0, 1.0)
    omega = np.arccos(cosine)
    sine = np.sin(omega)
    straight = sine < 1e-6
    safe = np.where(straight, 1.0, sine)
    curved = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / safe
    return np.where(straight, (1.0 - t) * a + t * b, curved)


def lerp(a, b, t):
    """Straight-line interpolation of rows `a` to `b` at fractions `t` (shape (rows,))."""
    t = np.asarray(t, np.float64)[:, None]
    return (1.0 - t) * np.asarray(a, np.float64) + t * np.asarray(b, np.float64)


def positions(seeds, frames):
    """For each frame, `(segment, t)`: between seeds `segment` and `segment + 1`, at
    fraction t; frame 0 is seed 0 (t=0), the last frame the last seed (t=1)."""
    spans = len(seeds) - 1
    where = np.linspace(0.0, spans, frames)
    segment = np.minimum(np.floor(where).astype(int), spans - 1)
    return segment, where - segment


def input_batches(inputs, seeds, frames, method="slerp", *, labels=None, truncation=None,
                  num_classes=None, batch_size=16):
    """Every input of a generator for the walk's frames, `batch_size` frames at a time.

    Each seed's inputs are drawn as `sample(1, seed=...)` draws them
    (`ganzoo._sampling.draw_inputs`); latents and noise maps follow the path between
    consecutive seeds (`method`), so each seed's frame is its sample exactly; labels and
    truncation stay what the first seed has (or `labels`, one class for the whole walk).

    Args:
        inputs: the generator's input descriptions (as `draw_inputs` takes them).
        seeds, frames, method: the walk (`check_walk`).
        labels: int or None. The class of a conditional generator's walk; None: the
            first seed's drawn class.
        truncation, num_classes: as for `draw_inputs`.

    Returns:
        An iterator of lists of arrays in signature order.
    """
    seeds, frames, method = check_walk(seeds, frames, method)
    batch_size = check_count(batch_size, "batch_size")
    if labels is not None and not isinstance(labels, (int, np.integer)):
        raise ValueError(f"A walk takes one class (an int). Received: labels={labels!r}")
    anchors = []
    for seed in seeds:
        drawn = _sampling.draw_inputs(inputs, 1, seed, truncation=truncation,
                                      num_classes=num_classes,
                                      labels=None if labels is None else [labels])
        anchors.append(drawn)
    roles = [_sampling.role_of(entry) for entry in inputs]
    segment, t = positions(seeds, frames)
    mix = slerp if method == "slerp" else lerp
    stacked = [np.concatenate([anchor[index] for anchor in anchors])
               for index in range(len(roles))]
    for start in range(0, frames, batch_size):
        rows = slice(start, start + batch_size)
        here, at = segment[rows], t[rows]
        batch = []
        for role, values in zip(roles, stacked):
            if role in ("latent", "noise"):
                a, b = values[here], values[here + 1]
                flat = mix(a.reshape(len(a), -1), b.reshape(len(b), -1), at).astype(values.dtype)
                mixed = flat.reshape(a.shape)
                ends = (at == 0.0).reshape((-1,) + (1,) * (a.ndim - 1))
                last = (at == 1.0).reshape((-1,) + (1,) * (a.ndim - 1))
                batch.append(np.where(ends, a, np.where(last, b, mixed)))
            else:  # labels, truncation, images: the first seed's for every frame
                batch.append(np.repeat(values[:1], len(here), axis=0))
        yield batch
