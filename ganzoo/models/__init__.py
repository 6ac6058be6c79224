"""The ganzoo model families and their registry.

`ganzoo.models.get(name)` returns a family class, `ganzoo.models.names()` lists them.
"""

from ganzoo.models.base import AdversarialModel, register_family, registered_families
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


__all__ = ["AdversarialModel", "ConditionalGAN", "CycleGAN", "DCGAN", "VanillaGAN", "get", "names", "register_family", "SAGAN", "SRGAN", "StyleGANLite", "WGANGP"]
