"""DiffAugment: Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training" (https://arxiv.org/abs/2006.10738)."""

import math


from ganzoo.augment import ops
from ganzoo.augment.base import Augmentation, check_number

# Policy words, in the order the paper lists them.
POLICY_OPS = ("color", "translation", "cutout")


def parse_policy(policy):
    """A policy string ("color,translation") or sequence as a tuple of op names."""
    if isinstance(policy, str):
        words = [word.strip().lower() for word in policy.split(",")] if policy.strip() else []
    elif isinstance(policy, (list, tuple)) and all(isinstance(w, str) for w in policy):
        words = [word.strip().lower() for word in policy]
    else:
        raise ValueError(
            f"policy must be a comma-separated string of {', '.join(POLICY_OPS)}. "
            f"Received: policy={policy!r}"
        )
    unknown = [word for word in words if word not in POLICY_OPS]
    if unknown:
        raise ValueError(
            f"Unknown DiffAugment op {unknown[0]!r} in policy={policy!r}; valid ops: "
            f"{', '.join(POLICY_OPS)}"
        )
    return tuple(words)


def _fraction(size, ratio):
    """`floor(size * ratio)`, the official code's integer `size * 1 // 8` for 1/8."""
    return int(math.floor(size * ratio + 1e-6))


class DiffAugment(Augmentation):
    """DiffAugment (Zhao et al. 2020), the official TensorFlow code's ops and parameters.

    Each policy word applies, to every image independently:

    - `color`: brightness `x + U[-0.5, 0.5)`, then saturation `(x - m) U[0, 2) + m`
      around each pixel's channel mean `m`, then contrast `(x - m) U[0.5, 1.5) + m`
      around the image mean;
    - `translation`: a shift by integers in `[-floor(ratio H), floor(ratio H)]` rows and
      likewise columns, zeros entering;
    - `cutout`: zeroes a `floor(ratio H) x floor(ratio W)` rectangle at a uniformly drawn
      centre (row in `[0, H]` for an even side, `[0, H - 1]` for an odd one), clipped at
      the borders.

    Paper: https://arxiv.org/abs/2006.10738 (code: mit-han-lab/data-efficient-gans).

    Args:
        policy: str. Comma-separated ops applied in order, from `color`, `translation`,
            `cutout`; "" applies none. Defaults to "color,translation,cutout".
        translation_ratio: float. Largest shift as a fraction of the side, in [0, 1).
            Defaults to 0.125.
        cutout_ratio: float. Cutout side as a fraction of the image side, in [0, 1].
            Defaults to 0.5.

    Examples:

    >>> import numpy as np, ganzoo.augment as A
    >>> aug = A.DiffAugment("color,translation")
    >>> aug(np.zeros((4, 32, 32, 3), "float32"), seed=[1, 2]).shape
    TensorShape([4, 32, 32, 3])
    """

    name = "diffaugment"

    def __init__(self, policy="color,translation,cutout", translation_ratio=0.125,
                 cutout_ratio=0.5):
        super().__init__()
        self.ops = parse_policy(policy)
        self.policy = ",".join(self.ops)
        self.translation_ratio = check_number(
            translation_ratio, "translation_ratio", 0.0, 1.0, high_open=True)
        self.cutout_ratio = check_number(cutout_ratio, "cutout_ratio", 0.0, 1.0)

    def augment(self, images, draws):
        for position, op in enumerate(self.ops):
            # Keys by position: a policy repeating an op draws afresh each time.
            key = 16 * position
            images = getattr(self, f"_{op}")(images, draws, key)
        return images

    @staticmethod
    def _color(images, draws, key):
        images = ops.brightness(images, draws.uniform(key, -0.5, 0.5))
        images = ops.saturation(images, draws.uniform(key + 1, 0.0, 2.0))
        return ops.contrast(images, draws.uniform(key + 2, 0.5, 1.5))

    def _translation(self, images, draws, key):
        height, width = _spatial_size(images)
        shift_y = _fraction(height, self.translation_ratio)
        shift_x = _fraction(width, self.translation_ratio)
        dx = draws.integers(key, -shift_x, shift_x + 1)
        dy = draws.integers(key + 1, -shift_y, shift_y + 1)
        return ops.translate(images, dx, dy)

    def _cutout(self, images, draws, key):
        height, width = _spatial_size(images)
        cut_h = _fraction(height, self.cutout_ratio)
        cut_w = _fraction(width, self.cutout_ratio)
        if cut_h == 0 or cut_w == 0:
            return images
        cy = draws.integers(key, 0, height + (1 - cut_h % 2))
        cx = draws.integers(key + 1, 0, width + (1 - cut_w % 2))
        return ops.cutout(images, cx, cy, (cut_h, cut_w))

    def get_config(self):
        return {
            "policy": self.policy,
            "translation_ratio": self.translation_ratio,
            "cutout_ratio": self.cutout_ratio,
        }


def _spatial_size(images):
    height, width = images.shape[1], images.shape[2]
    if height is None or width is None:
        raise ValueError(
            "DiffAugment needs images of a known height and width. "
            f"Received: shape={tuple(images.shape)}"
        )
    return int(height), int(width)
