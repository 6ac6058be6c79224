"""The ganzoo model families and their registry.

`ganzoo.models.get(name)` returns a family class, `ganzoo.models.names()` lists them;
`ganzoo.models.load(preset)` rebuilds whatever family a preset holds. Every family is a
`NoiseToImage` (sample from a seed) or an `ImageToImage` (translate, upscale) model, both on
the shared trainer `AdversarialModel`.
"""

from ganzoo.models.base import (AdversarialModel, load_preset, register_family,
                                registered_families)
from ganzoo.models.tasks import ImageToImage, NoiseToImage
from ganzoo.models.dcgan import DCGAN
from ganzoo.models.gan import VanillaGAN
from ganzoo.models.sagan import SAGAN
from ganzoo.models.cgan import ConditionalGAN
from ganzoo.models.cyclegan import CycleGAN
from ganzoo.models.srgan import SRGAN
from ganzoo.models.wgan_gp import WGANGP
from ganzoo.models.stylegan_lite import StyleGANLite

# Importing a family's module registers it (`@register_family`): the registry is built
# from the classes themselves, never from a list kept beside them.
_REGISTRY = registered_families()


def names():
    """Registered family names, sorted."""
    return sorted(_REGISTRY)


def get(name):
    """The family class registered under `name` (e.g. "dcgan")."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model family {name!r}; expected one of {names()}")
    return _REGISTRY[name]


def load(name_or_path, load_weights=True):
    """The family model a preset (name, folder or finished run folder) holds.

    Weights are verified against the preset's checksums, then loaded; see
    `ganzoo.models.base.load_preset`.
    """
    return load_preset(name_or_path, load_weights=load_weights)


def load_generator(name_or_path, generator=None):
    """The preset's generator: a plain Keras model, weights verified and loaded.

    Args:
        name_or_path: a preset name or folder.
        generator: str or None. Which generator, for families with several (cyclegan:
            "a2b" or "b2a"); None: the default (the EMA generator where a family keeps
            one).
    """
    return load(name_or_path).inference_generator(generator)


__all__ = [
    "AdversarialModel", "NoiseToImage", "ImageToImage", "ConditionalGAN", "CycleGAN", "DCGAN",
    "VanillaGAN", "get", "load", "load_generator", "names", "register_family", "SAGAN", "SRGAN",
    "StyleGANLite", "WGANGP",
]
