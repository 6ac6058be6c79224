"""Perceptual path length (PPL; Karras et al. 2019, as StyleGAN2 reports it).

For `n` pairs of latents z0, z1 (standard normal, seeded) mapped to w0, w1, the
generator draws the images at w(t) and w(t + epsilon) on the segment between them, the
same noise for both; the distance is the squared difference of their features divided by
epsilon^2. PPL is the mean distance after dropping the lowest and highest 1 % (the
authors' filter). Settings as the paper's code: epsilon 1e-4, w space with linear
interpolation ("w"), or z space with spherical interpolation ("z"); `sampling="end"`
takes t = 0 (StyleGAN2's reported "PPL, end"), `"full"` draws t uniformly in [0, 1).
No truncation.

The paper measures the feature distance with LPIPS (VGG16 features learned to match human
judgement). Offline there is no LPIPS: ganzoo uses the squared Euclidean distance of a
feature extractor's features on float images, so numbers compare between models measured
the same way, not with the paper's. With the `digits` extractor these are the features of
the digits classifier (`ganzoo.metrics.digits`) that FID uses.
"""

import numpy as np

from ganzoo.metrics import _checks

SPACES = ("w", "z")
SAMPLINGS = ("end", "full")
DEFAULT_EPSILON = 1e-4


def lerp(a, b, t):
    return a + (b - a) * t[:, None]


def slerp(a, b, t):
    """Spherical interpolation between the directions of a and b (the paper's code
    normalises both, interpolates on the unit sphere and returns unit vectors)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    d = np.clip(np.sum(a * b, axis=1, keepdims=True), -1.0, 1.0)
    p = t[:, None] * np.arccos(d)
    c = b - d * a
    c = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    out = a * np.cos(p) + c * np.sin(p)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def filtered_mean(distances):
    """The mean of `distances` within their 1st and 99th percentiles (inclusive)."""
    distances = np.asarray(distances, np.float64)
    low = np.percentile(distances, 1, method="lower")
    high = np.percentile(distances, 99, method="higher")
    return float(np.mean(distances[(distances >= low) & (distances <= high)]))


def distances(render, features, start, end, t, epsilon=DEFAULT_EPSILON, interpolate=lerp):
    """Scaled feature distances of the pairs: |f(render(x(t))) - f(render(x(t + eps)))|^2
    / eps^2, x the interpolation between the rows of `start` and `end`.

    Args:
        render: function (points (B, D), pair indices (B,)) -> float images; it gets the
            indices so both images of a pair can take the same noise.
        features: function float images -> features (B, F).
    """
    index = np.arange(len(start))
    first = features(render(interpolate(start, end, t), index))
    second = features(render(interpolate(start, end, t + epsilon), index))
    return np.sum(np.square(np.asarray(first, np.float64) - np.asarray(second, np.float64)),
                  axis=1) / epsilon**2


def _check_model(model):
    if not (hasattr(model, "parts") and hasattr(model, "num_styles")):
        family = getattr(model, "family", type(model).__name__)
        raise ValueError(
            "Perceptual path length needs a generator with a w space (stylegan_lite: a "
            f"preset, run folder or model). Received: {family}")


def _float_features(extractor):
    measure = getattr(extractor, "float_features", None)
    if measure is None:
        raise ValueError(
            "Perceptual path length needs features of float images, which the "
            f"{extractor.name!r} extractor does not give; use features='digits'")
    return measure


def perceptual_path_length(model, extractor, n=10_000, seed=0, space="w", sampling="end",
                           epsilon=DEFAULT_EPSILON, batch_size=64):
    """PPL of a StyleGAN-lite model's sampled (EMA) generator.

    Args:
        model: a `StyleGANLite`.
        extractor: a feature extractor with `float_features` (the `digits` one).
        n: int >= 2. Pairs of latents. Defaults to 10,000.
        seed: int >= 0. Seeds the latents, t and the noise. Defaults to 0.
        space: "w" (linear interpolation of w, the default) or "z" (spherical of z).
        sampling: "end" (t = 0, the default) or "full" (t uniform in [0, 1)).
        epsilon: float > 0. The step along the path. Defaults to 1e-4.
        batch_size: int. Pairs per batch. Defaults to 64.

    Returns:
        A dict: "ppl", "ppl_space", "ppl_sampling", "ppl_epsilon", "ppl_n".
    """
    # Lazy: Keras loads TensorFlow, which importing ganzoo.metrics must not.
    import keras

    _check_model(model)
    n = _checks.positive_int(n, "n")
    if n < 2:
        raise ValueError(f"Perceptual path length needs n >= 2 pairs. Received: n={n}")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}. Received: space={space!r}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}. Received: sampling={sampling!r}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise ValueError(f"epsilon must be a positive number. Received: epsilon={epsilon!r}")
    measure = _float_features(extractor)
    mapping, _, synthesis = model.parts(model.inference_generator())
    noise_shapes = [tuple(tensor.shape[1:]) for tensor in synthesis.inputs[1:]]
    rng = np.random.default_rng(seed)
    found = []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        z = rng.standard_normal((2, count, model.latent_dim)).astype(np.float32)
        t = rng.uniform(0.0, 1.0, count) if sampling == "full" else np.zeros(count)
        noise = [rng.standard_normal((count, *shape)).astype(np.float32)
                 for shape in noise_shapes]

        def synthesize(w, index, noise=noise):
            styles = np.repeat(np.asarray(w, np.float32)[:, None], model.num_styles, axis=1)
            images = synthesis([styles, *[array[index] for array in noise]], training=False)
            return keras.ops.convert_to_numpy(images)

        if space == "w":
            ends = [keras.ops.convert_to_numpy(mapping(side, training=False)) for side in z]
            render, interpolate = synthesize, lerp
        else:
            ends = list(z)

            def render(points, index):
                # slerp gives unit vectors; the mapping's pixel norm makes the scale moot.
                w = mapping(np.asarray(points, np.float32), training=False)
                return synthesize(keras.ops.convert_to_numpy(w), index)

            interpolate = slerp
        found.append(distances(render, measure, ends[0].astype(np.float64),
                               ends[1].astype(np.float64), t, epsilon, interpolate))
    return {"ppl": filtered_mean(np.concatenate(found)), "ppl_space": space,
            "ppl_sampling": sampling, "ppl_epsilon": float(epsilon), "ppl_n": n}
