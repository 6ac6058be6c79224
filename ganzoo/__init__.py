"""ganzoo: a GAN model zoo for Keras 3 with export tooling.

Importing `ganzoo` is light: sub-packages that need TensorFlow (`models`, `data`,
`training`, `export`, `metrics`) load on first use.
"""

import importlib

from ganzoo import sources
from ganzoo._version import __version__

_SUBMODULES = ("models", "layers", "losses", "data", "training", "metrics", "presets",
               "export", "runtime", "sources", "precision", "projection")

__all__ = list(_SUBMODULES) + ["list_presets", "load_generator", "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"ganzoo.{name}")
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")


def list_presets():
    """Names of the presets shipped under `pretrained/` and registered by users."""
    return sources.list_presets()


def load_generator(name_or_path, generator=None):
    """Load a preset's generator as a plain Keras model (weights verified first).

    `generator` names one for families with several (cyclegan: "a2b", "b2a"); the default
    is the EMA generator where a family keeps one.
    """
    # Lazy: ganzoo.models imports TensorFlow, and importing ganzoo stays light.
    from ganzoo import models

    return models.load_generator(name_or_path, generator=generator)
