"""Full-reference image quality: PSNR and SSIM of image pairs. NumPy/SciPy only.

Used for generators that have a target image (super-resolution, paired translation).
Images are uint8 (H, W), (H, W, C) or batches (N, H, W, C); a 3-D array is one HWC image (a
batch of grayscale images is (N, H, W, 1)). A batch gives the mean of the per-image values.

Both numbers depend on the data range, so it is never guessed: uint8 images are in
[0, 255]; any other dtype (float images, uint16) needs `max_value=` and must lie in
[0, max_value]. Float images in [-1, 1] (a generator's raw output) are refused: convert
them with `(x + 1) / 2` and `max_value=1`, or to uint8 first (what `sample()` returns).
"""

import numpy as np
from scipy import ndimage

# Wang et al. 2004: an 11x11 Gaussian window with sigma 1.5. gaussian_filter's window
# radius is int(truncate * sigma + 0.5) = 5, i.e. 11 taps.
_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5
_SSIM_RADIUS = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def psnr(a, b, max_value=None):
    """Peak signal-to-noise ratio in dB: 10·log10(max_value² / MSE), per image.

    Higher is better; identical images give `inf`. For a batch, the mean of the per-image
    values (the convention of super-resolution benchmarks).

    Args:
        a: uint8 images, (H, W), (H, W, C) or (N, H, W, C); other dtypes with `max_value`.
        b: images of the same shape as `a`.
        max_value: float. Largest possible pixel value; every pixel must lie in
            [0, max_value]. Defaults to 255 for uint8 images and must be given for others.

    Returns:
        float (may be `inf`).

    Raises:
        ValueError: images that are not uint8 without `max_value`, or pixels outside
            [0, max_value] (e.g. float images in [-1, 1]); the message names the dtype and
            the range found.

    Examples:
    >>> a = np.zeros((8, 8, 3), np.uint8)
    >>> round(psnr(a, a + 1), 2)
    48.13
    """
    a, b, max_value = _image_batches(a, b, min_size=1, max_value=max_value, metric="psnr")
    mse = ((a - b) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        per_image = 10.0 * np.log10(float(max_value) ** 2 / mse)
    return float(per_image.mean())


def ssim(a, b, max_value=None):
    """Structural similarity (SSIM) of Wang et al. 2004, per channel and averaged.

    Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From Error Visibility to
    Structural Similarity", IEEE TIP 2004. Local means, variances and the covariance come
    from an 11x11 Gaussian window (sigma 1.5, population statistics), K1=0.01, K2=0.03;
    the SSIM map is averaged over the pixels whose window lies inside the image (a 5-pixel
    border is left out), then over channels, then over the batch. This equals
    `skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=255, channel_axis=-1)`. Unlike Wang's MATLAB
    code, large images are not downsampled first. 1 means identical; higher is better.

    Args:
        a: uint8 images, (H, W), (H, W, C) or (N, H, W, C), with H, W >= 11; other
            dtypes with `max_value`.
        b: images of the same shape as `a`.
        max_value: float. The data range: every pixel must lie in [0, max_value].
            Defaults to 255 for uint8 images and must be given for others.

    Returns:
        float in [-1, 1].

    Raises:
        ValueError: as `psnr`.

    Examples:
    >>> a = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    >>> ssim(a, a)
    1.0
    """
    window = 2 * _SSIM_RADIUS + 1
    a, b, max_value = _image_batches(a, b, min_size=window, max_value=max_value, metric="ssim")
    c1 = (_SSIM_K1 * max_value) ** 2
    c2 = (_SSIM_K2 * max_value) ** 2

    def local_mean(x):
        # Smooth over H and W only; 'reflect' padding only touches the cropped border.
        return ndimage.gaussian_filter(
            x, sigma=(0, _SSIM_SIGMA, _SSIM_SIGMA, 0), truncate=_SSIM_TRUNCATE, mode="reflect"
        )

    mean_a = local_mean(a)
    mean_b = local_mean(b)
    var_a = local_mean(a * a) - mean_a * mean_a
    var_b = local_mean(b * b) - mean_b * mean_b
    cov_ab = local_mean(a * b) - mean_a * mean_b
    ssim_map = ((2 * mean_a * mean_b + c1) * (2 * cov_ab + c2)) / (
        (mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2)
    )
    r = _SSIM_RADIUS
    per_channel = ssim_map[:, r:-r, r:-r, :].mean(axis=(1, 2))
    return float(per_channel.mean(axis=1).mean())


def _image_batches(a, b, min_size, max_value, metric):
    """Both inputs as float64 (N, H, W, C) batches of one shape, and the checked max_value."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(
            f"Expected two images (or batches) of the same shape. "
            f"Received: shape={a.shape} and shape={b.shape}"
        )
    if a.ndim not in (2, 3, 4):
        raise ValueError(
            "Expected images of shape (H, W), (H, W, C) or (N, H, W, C). "
            f"Received: shape={a.shape}"
        )
    for array in (a, b):
        if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
            raise ValueError(f"Expected numeric images. Received: dtype={array.dtype}")
    dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if a.ndim == 3:
        a, b = a[None], b[None]
    if 0 in a.shape or a.shape[1] < min_size or a.shape[2] < min_size:
        raise ValueError(
            f"Expected images of at least {min_size}x{min_size} pixels. "
            f"Received: shape={a.shape}"
        )
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"Expected finite pixel values. Received: shape={a.shape}")
    return a, b, _checked_max_value(a, b, max_value, dtype, metric)


def _checked_max_value(a, b, max_value, dtype, metric):
    """The data range: 255 for uint8, else `max_value`, which must hold every pixel."""
    low = min(float(a.min()), float(b.min()))
    high = max(float(a.max()), float(b.max()))
    found = f"Received: dtype={dtype}, values in [{low:.6g}, {high:.6g}]"
    if max_value is None:
        if dtype == np.uint8:
            return 255.0
        raise ValueError(
            f"{metric}() takes uint8 images, or other images in [0, max_value] with "
            f"max_value= given (e.g. max_value=1 for floats in [0, 1]). {found}"
        )
    if (
        isinstance(max_value, (bool, np.bool_))
        or not isinstance(max_value, (int, float, np.integer, np.floating))
        or not np.isfinite(max_value)
        or max_value <= 0
    ):
        raise ValueError(
            f"`max_value` must be a positive number. Received: max_value={max_value!r}"
        )
    if low < 0 or high > max_value:
        raise ValueError(
            f"{metric}() needs every pixel in [0, max_value] = [0, {max_value:g}]; "
            f"rescale the images (floats in [-1, 1]: (x + 1) / 2 with max_value=1). {found}"
        )
    return float(max_value)
