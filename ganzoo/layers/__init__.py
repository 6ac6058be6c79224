"""Building blocks shared by the ganzoo families."""

from ganzoo.layers.attention import SelfAttention
from ganzoo.layers.maxout import Maxout
from ganzoo.layers.spectral_norm import SpectralNormalization

__all__ = ["Maxout", "SelfAttention", "SpectralNormalization"]
