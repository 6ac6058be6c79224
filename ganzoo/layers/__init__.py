"""Building blocks shared by the ganzoo families."""

from ganzoo.layers.attention import SelfAttention
from ganzoo.layers.conditioning import (
    ClassProjection,
    FeatureWiseAffine,
    conditional_batch_norm,
    label_input,
    projection_logit,
)
from ganzoo.layers.maxout import Maxout
from ganzoo.layers.normalization import InstanceNormalization
from ganzoo.layers.padding import ReflectionPadding2D
from ganzoo.layers.pixel_shuffle import PixelShuffle, subpixel_upsampling
from ganzoo.layers.pooling import GlobalSumPooling2D
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

__all__ = ["InstanceNormalization", "Maxout", "ReflectionPadding2D", "SelfAttention", "SpectralNormalization", "AdaptiveInstanceNormalization", "BiasActivation", "EqualizedConv2D", "EqualizedDense", "LearnedConstant", "MinibatchStdDev", "ModulatedConv2D", "NoiseInjection", "PixelNormalization", "Truncation", "PixelShuffle", "subpixel_upsampling", "ClassProjection", "FeatureWiseAffine", "GlobalSumPooling2D", "conditional_batch_norm", "label_input", "projection_logit"]
