"""Latent walks and style mixing: the generator inputs of frames on a path through the
latents of some seeds (or through their w, for style-based generators), and of the
pictures of a style-mixing figure.

NumPy only (the runtime walks and mixes bundles with it). A walk through seeds s_0, ...,
s_k visits each seed's latent (`ganzoo._sampling.latents(1, latent_dim, s)`) in order,
`frames` frames in all, so the first frame is `sample(1, seed=s_0)` and the last `sample(1,
seed=s_k)`; between two seeds the latents follow a great circle (`slerp`, the right path
for Gaussian latents: their norms stay typical) or a straight line (`lerp`). Frames are
made a batch at a time, so a long walk never holds all its latents.

A walk in w (`space="w"`, style-based generators) maps each seed's latent to its w first,
after the truncation trick, and follows the path between those w's (`lerp` by default:
StyleGAN's choice, w is not Gaussian); every layer of the synthesis network takes the
frame's w. A style-mixing figure (Karras et al. 2019, figure 3) takes, in each cell, the
styles before `cutoff` (the coarse ones) from a row's w and the others from a column's.

The Keras models and the runtime differ only in how they map latents to w and run the
synthesis network (`to_w`, `render`); the inputs themselves come from here, so a seed
gives the same frames and figures from a preset and from its bundle.
"""

import collections

import numpy as np

from ganzoo import _imaging, _sampling
from ganzoo._validation import check_count, check_seed, is_integer

METHODS = ("slerp", "lerp")
SPACES = ("z", "w")
# The path between two seeds when none is asked for: great circles for Gaussian z,
# straight lines in w (StyleGAN's choice, also for its perceptual path length).
DEFAULT_METHODS = {"z": "slerp", "w": "lerp"}
# Styles a mixing figure's rows give by default: those of the 4x4 and 8x8 layers (w_0 to
# w_3), the paper's "coarse styles".
COARSE_STYLES = 4


class StyleMix(collections.namedtuple("StyleMix", ["rows", "columns", "mixed"])):
    """The pictures of a style-mixing figure, uint8 NHWC.

    Attributes:
        rows: `(R, H, W, C)`. The row sources: `sample(1, seed=row)` for each row seed.
        columns: `(K, H, W, C)`. The column sources: `sample(1, seed=column)`.
        mixed: `(R, K, H, W, C)`. Cell (i, j): the styles before the cutoff from row i's
            w, the others from column j's, row i's noise; that is
            `sample(1, seed=rows[i], style_mix=(columns[j], cutoff))`.

    `ganzoo.images.mixing_grid(mix)` lays them out as the paper does.
    """

    __slots__ = ()


def check_space(space):
    """`space` ("z" or "w"), checked: one line otherwise."""
    if space not in SPACES:
        raise ValueError(f"space must be 'z' or 'w'. Received: space={space!r}")
    return space


def check_seeds(seeds, what="seeds", need="A walk needs two seeds or more to walk between"):
    """`seeds` as a list of two or more ints; one line otherwise (`need` says why)."""
    try:
        seeds = [check_seed(seed) for seed in seeds]
    except TypeError:
        raise ValueError(f"{what} must be a list of seeds. Received: {what}={seeds!r}") from None
    if len(seeds) < 2 or any(seed is None for seed in seeds):
        raise ValueError(f"{need}. Received: {what}={seeds!r}")
    return seeds


def check_walk(seeds, frames, method, space="z"):
    """(seeds as a list of ints, frames, method), checked: one line for fewer than two
    seeds, fewer frames than seeds, or an unknown method. `method` None is the space's
    default (`DEFAULT_METHODS`)."""
    seeds = check_seeds(seeds)
    frames = check_count(frames, "frames")
    if frames < len(seeds):
        raise ValueError(
            f"frames must be at least the number of seeds ({len(seeds)}), one frame per "
            f"seed. Received: frames={frames}")
    if method is None:
        method = DEFAULT_METHODS[check_space(space)]
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


def _anchors(inputs, seeds, *, labels=None, truncation=None, num_classes=None):
    """Each input's rows for `seeds`, one per seed, as `sample(1, seed=...)` draws it
    (`ganzoo._sampling.draw_inputs`), in signature order."""
    drawn = [_sampling.draw_inputs(inputs, 1, seed, truncation=truncation,
                                   num_classes=num_classes,
                                   labels=None if labels is None else [labels])
             for seed in seeds]
    return [np.concatenate([rows[index] for rows in drawn]) for index in range(len(inputs))]


def _along(values, segment, t, mix):
    """`values` (one row per seed) at the frames `(segment, t)`: exactly the seed's row at
    t = 0 and t = 1, on the path `mix` between."""
    a, b = values[segment], values[segment + 1]
    flat = mix(a.reshape(len(a), -1), b.reshape(len(b), -1), t).astype(values.dtype)
    shape = (-1,) + (1,) * (a.ndim - 1)
    return np.where((t == 0.0).reshape(shape), a,
                    np.where((t == 1.0).reshape(shape), b, flat.reshape(a.shape)))


def input_batches(inputs, seeds, frames, method="slerp", *, labels=None, truncation=None,
                  num_classes=None, batch_size=16):
    """Every input of a generator for the walk's frames, `batch_size` frames at a time.

    Each seed's inputs are drawn as `sample(1, seed=...)` draws them
    (`ganzoo._sampling.draw_inputs`); latents and noise maps follow the path between
    consecutive seeds (`method`), so each seed's frame is its sample exactly; labels and
    truncation stay what the first seed has (or `labels`, one class for the whole walk).

    Args:
        inputs: the generator's input descriptions (as `draw_inputs` takes them).
        seeds, frames, method: the walk (`check_walk`; method None: slerp).
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
    stacked = _anchors(inputs, seeds, labels=labels, truncation=truncation,
                       num_classes=num_classes)
    roles = [_sampling.role_of(entry) for entry in inputs]
    return _walk_batches(roles, stacked, seeds, frames, method, batch_size)


def _walk_batches(roles, stacked, seeds, frames, method, batch_size):
    segment, t = positions(seeds, frames)
    mix = slerp if method == "slerp" else lerp
    for start in range(0, frames, batch_size):
        rows = slice(start, start + batch_size)
        here, at = segment[rows], t[rows]
        batch = []
        for role, values in zip(roles, stacked):
            if role in ("latent", "noise"):
                batch.append(_along(values, here, at, mix))
            else:  # labels, truncation, images: the first seed's for every frame
                batch.append(np.repeat(values[:1], len(here), axis=0))
        yield batch


# --- style-based generators: w -------------------------------------------------------


def _style_anchors(inputs, seeds, to_w, truncation):
    """(w of each seed after truncation `(seeds, D)`, [each noise input's rows])."""
    roles = [_sampling.role_of(entry) for entry in inputs]
    if "latent" not in roles:
        raise ValueError("A style-based generator takes a latent input; these inputs have "
                         f"none: {[entry['name'] for entry in inputs]}")
    stacked = _anchors(inputs, seeds, truncation=truncation)
    latents = stacked[roles.index("latent")]
    psi = (stacked[roles.index("truncation")] if "truncation" in roles
           else np.ones((len(seeds), 1), np.float32))
    w = np.asarray(to_w(latents, psi), np.float32)
    noise = [values for role, values in zip(roles, stacked) if role == "noise"]
    return w, noise


def truncation_column(truncation, n):
    """psi as the `(n, 1)` float32 column a truncation input takes (None: 1), checked as
    `draw_inputs` checks it."""
    entry = {"name": "truncation", "shape": (None, 1), "dtype": "float32",
             "role": "truncation"}
    return _sampling.draw_inputs([entry], n, 0, truncation=truncation)[0]


def check_styles(styles, num_styles, style_dim):
    """Styles as float32 `(n, num_styles, style_dim)`: one w per synthesis layer, or one
    w `(n, style_dim)` given to every layer; one line for any other shape or NaN / Inf."""
    try:
        array = np.asarray(styles)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind != "f":
        raise ValueError(
            f"styles must be a float array of shape (n, {num_styles}, {style_dim}) or w of "
            f"shape (n, {style_dim}). Received: {type(styles).__name__}"
            + ("" if array is None else f" of {array.dtype}"))
    if array.ndim == 2 and array.shape[1:] == (style_dim,) and len(array):
        array = np.repeat(array[:, None], num_styles, axis=1)
    if array.ndim != 3 or array.shape[1:] != (num_styles, style_dim) or not len(array):
        raise ValueError(
            f"styles must have shape (n, {num_styles}, {style_dim}) (one w per layer) or "
            f"(n, {style_dim}) (one w for all). Received: shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("styles holds NaN or Inf values; expected finite numbers")
    return np.ascontiguousarray(array, dtype=np.float32)


def map_to_w(latents, truncation, *, to_w, latent_dim):
    """`to_w` of checked `latents` `(n, latent_dim)` and psi `truncation` (None: 1), as
    float32 `(n, style_dim)`."""
    latents = _sampling.check_latents(latents, latent_dim)
    return np.asarray(to_w(latents, truncation_column(truncation, len(latents))), np.float32)


def synthesize(inputs, styles, seed=None, *, render, num_styles, style_dim,
               value_range=(-1.0, 1.0)):
    """uint8 images `render` makes of checked `styles` (`check_styles`) and the noise
    `sample(n, seed=seed)` draws (`inputs`: the whole generator's input descriptions)."""
    styles = check_styles(styles, num_styles, style_dim)
    roles = [_sampling.role_of(entry) for entry in inputs]
    drawn = _sampling.draw_inputs(inputs, len(styles), seed)
    noise = [values for role, values in zip(roles, drawn) if role == "noise"]
    return _imaging.to_uint8(render([styles, *noise]), value_range)


def walk_in_w(inputs, seeds, frames, method=None, *, to_w, render, num_styles,
              truncation=None, batch_size=16, value_range=(-1.0, 1.0)):
    """uint8 frames of a walk through the w's of `seeds`, `batch_size` at a time.

    Each seed's w is `to_w(latents, psi)` of its drawn latent and truncation, so a seed's
    frame is `sample(1, seed=..., truncation=...)`; between seeds w follows `method`
    (None: lerp) and the noise maps the same path, as in a walk in z.

    Args:
        inputs: the whole generator's input descriptions (latent, truncation, noise_<k>).
        seeds, frames, method: the walk (`check_walk` in w).
        to_w: callable `(latents (n, latent_dim), psi (n, 1)) -> w (n, style_dim)`.
        render: callable `([styles (n, num_styles, style_dim), noise_0, ...]) -> float
            images`: the synthesis network.
        num_styles: int. The synthesis network's w inputs.
        truncation: float or None. psi (None: 1).
        value_range: (low, high). The floats of `render`'s images that map to 0 and 255.

    Returns:
        An iterator of uint8 `(k, H, W, C)` batches; the arguments are checked at once.
    """
    seeds, frames, method = check_walk(seeds, frames, method, space="w")
    batch_size = check_count(batch_size, "batch_size")
    num_styles = check_count(num_styles, "num_styles")
    w, noise = _style_anchors(inputs, seeds, to_w, truncation)

    def frames_of():
        segment, t = positions(seeds, frames)
        mix = slerp if method == "slerp" else lerp
        for start in range(0, frames, batch_size):
            here, at = segment[start : start + batch_size], t[start : start + batch_size]
            styles = np.repeat(_along(w, here, at, mix)[:, None], num_styles, axis=1)
            images = render([styles, *[_along(values, here, at, mix) for values in noise]])
            yield _imaging.to_uint8(images, value_range)

    return frames_of()


def check_mix_seeds(rows, columns):
    """(rows, columns) as lists of two seeds or more each; one line otherwise."""
    need = ("A style-mixing figure needs two {} seeds or more (one picture of two seeds: "
            "sample(1, seed=a, style_mix=(b, cutoff)))")
    return (check_seeds(rows, "rows", need.format("row")),
            check_seeds(columns, "columns", need.format("column")))


def check_mix(rows, columns, cutoff, num_styles):
    """(rows, columns, cutoff), checked: two seeds or more each, cutoff in [0, num_styles]
    (None: `COARSE_STYLES`); one line otherwise."""
    rows, columns = check_mix_seeds(rows, columns)
    if cutoff is None:
        cutoff = min(COARSE_STYLES, num_styles)
    if not is_integer(cutoff) or not 0 <= cutoff <= num_styles:
        raise ValueError(
            f"cutoff must lie in [0, {num_styles}], the styles of this generator (the rows "
            f"give styles 0 to cutoff - 1, the columns the others). Received: cutoff={cutoff!r}")
    return rows, columns, int(cutoff)


def style_mix(inputs, rows, columns, cutoff=None, *, to_w, render, num_styles,
              truncation=None, batch_size=16, value_range=(-1.0, 1.0)):
    """The pictures of a style-mixing figure (`StyleMix`).

    The column sources, the row sources and the mixes are rendered `batch_size` at a time;
    every picture takes its noise from its row seed (a column source from its own), so
    each source is `sample(1, seed=...)` and cell (i, j) is `sample(1, seed=rows[i],
    style_mix=(columns[j], cutoff))`, truncation included.

    Args:
        inputs, to_w, render, num_styles, truncation, batch_size, value_range: as for
            `walk_in_w`.
        rows, columns: lists of two seeds or more. Rows give the coarse styles.
        cutoff: int or None. Styles 0 to cutoff - 1 come from the rows, the others from
            the columns; 0 to num_styles. Defaults to `COARSE_STYLES` (4x4 and 8x8).
    """
    rows, columns, cutoff = check_mix(rows, columns, cutoff, num_styles)
    batch_size = check_count(batch_size, "batch_size")
    w, noise = _style_anchors(inputs, rows + columns, to_w, truncation)
    count_rows, count_columns = len(rows), len(columns)
    # Each picture as (seed giving the early styles, the late ones, the noise), by index
    # into rows + columns: column sources, row sources, then the cells row by row.
    pictures = np.array(
        [(count_rows + j,) * 3 for j in range(count_columns)]
        + [(i,) * 3 for i in range(count_rows)]
        + [(i, count_rows + j, i) for i in range(count_rows) for j in range(count_columns)])
    early = (np.arange(num_styles) < cutoff)[None, :, None]
    images = []
    for start in range(0, len(pictures), batch_size):
        first, second, noise_of = pictures[start : start + batch_size].T
        styles = np.where(early, w[first][:, None], w[second][:, None])
        floats = render([np.ascontiguousarray(styles, np.float32),
                         *[values[noise_of] for values in noise]])
        images.append(_imaging.to_uint8(floats, value_range))
    images = np.concatenate(images)
    return StyleMix(
        rows=images[count_columns : count_columns + count_rows],
        columns=images[:count_columns],
        mixed=images[count_columns + count_rows :].reshape(
            (count_rows, count_columns) + images.shape[1:]),
    )
