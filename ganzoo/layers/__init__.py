"""Building blocks shared by the ganzoo families."""

from ganzoo.layers.attention import SelfAttention
from ganzoo.layers.maxout import Maxout
from ganzoo.layers.normalization import InstanceNormalization, ReflectionPadding2D
from ganzoo.layers.pixel_shuffle import PixelShuffle, subpixel_upsampling
from ganzoo.layers.spectral_norm import SpectralNormalization
from ganzoo.layers.style import (
    AdaptiveInstanceNormalization,
    BiasActivation,
    EqualizedConv2D,
    EqualizedDense,
    LearnedConstant,
    MinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    PixelNormalization,
    Truncation,
)

__all__ = ["InstanceNormalization", "Maxout", "ReflectionPadding2D", "SelfAttention", "SpectralNormalization", "AdaptiveInstanceNormalization", "BiasActivation", "EqualizedConv2D", "EqualizedDense", "LearnedConstant", "MinibatchStdDev", "ModulatedConv2D", "NoiseInjection", "PixelNormalization", "Truncation", "PixelShuffle", "subpixel_upsampling"]
