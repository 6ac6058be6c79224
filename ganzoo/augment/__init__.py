"""Differentiable augmentations of everything a GAN's discriminator sees.

A family's train step augments real and generated images (independent draws) before the
discriminator, and the generator is trained through the augmentation:

- `DiffAugment`: Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
  Training" (colour, translation, cutout);
- `ADA`: Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data"
  (the "bgc" pipeline with an adaptive probability `p`).

`get(spec)` turns a name, a DiffAugment policy or an instance into an augmentation (or
None); `names()` lists the names for help texts. The ops themselves, pure functions with
explicit parameters, are in `ganzoo.augment.ops`.
"""

from ganzoo.augment import ops
from ganzoo.augment.ada import ADA
from ganzoo.augment.base import Augmentation
from ganzoo.augment.diffaugment import POLICY_OPS, DiffAugment

__all__ = ["ADA", "Augmentation", "DiffAugment", "get", "names", "ops"]

_NAMED = {"diffaugment": DiffAugment, "ada": ADA}


def names():
    """Every name `get` accepts alone: "none", "diffaugment", "ada" and the DiffAugment
    op names (which combine, comma-separated, into a policy)."""
    return ("none", *_NAMED, *POLICY_OPS)


def get(spec):
    """An augmentation from `spec`, or None.

    Args:
        spec: None or "none" (no augmentation); "diffaugment" or "ada" (the paper
            defaults); a comma-separated DiffAugment policy such as "color,translation";
            or an `Augmentation`, returned as it is.

    Returns:
        An `Augmentation`, or None.
    """
    if spec is None or isinstance(spec, Augmentation):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "none":
            return None
        if key in _NAMED:
            return _NAMED[key]()
        words = [word.strip() for word in key.split(",")]
        if key and all(word in POLICY_OPS for word in words):
            return DiffAugment(policy=",".join(words))
    raise ValueError(
        f"Unknown augmentation {spec!r}: expected one of {', '.join(names()[:3])}, or a "
        f"comma-separated DiffAugment policy of {', '.join(POLICY_OPS)}"
    )
