"""StyleGAN-lite: StyleGAN2 (Karras et al. 2020, https://arxiv.org/abs/1912.04958) for
small images (16 to 128 pixels) and widths that train on a CPU.

"Lite" is about sizes, not ideas; the mechanisms are the papers':

- mapping network z -> w: z normalised (pixel norm), `mapping_layers` equalised-lr dense
  layers with leaky ReLU and a learning-rate multiplier of 0.01;
- synthesis network: a learned constant 4x4 input; at each resolution two 3x3 StyleGAN2
  modulated/demodulated convolutions (one at 4x4), each followed by per-pixel noise with a
  learned strength (one scalar per layer as in StyleGAN2; `noise_strength="channel"`
  gives StyleGAN's one per channel, what presets saved before the option hold), a bias
  and leaky ReLU; bilinear 2x upsampling between
  resolutions; toRGB layers (1x1 modulated convolutions, no demodulation) at every
  resolution whose outputs are upsampled and summed (the "skip" generator). With
  `style="adain"` the convolutions are plain equalised-lr ones followed by StyleGAN's
  AdaIN instead (the 2019 generator's style operation, toRGB then unmodulated);
- every conv and toRGB layer takes its own w (`num_styles` of them), so two latents can
  be mixed at a crossover layer;
- truncation trick: w' = w_avg + psi (w - w_avg), with `w_avg` tracked during training as
  a moving average (beta 0.995) of the global batch's mean w;
- discriminator: the StyleGAN2 residual network (fromRGB 1x1; per resolution two 3x3
  convolutions and 2x2 average pooling, a pooled 1x1 shortcut, the sum scaled by
  1/sqrt(2)), then minibatch standard deviation (groups of 4 consecutive images), a 3x3
  convolution, a dense layer and the logit; equalised learning rate everywhere;
- training: the non-saturating logistic loss; style-mixing regularisation (each
  generated image mixes two latents at a random crossover layer with probability 0.9);
  lazy regularisation as the authors' code does it, each a separate optimizer step after
  the main one of its network: R1 on real images every `r1_interval` (16) steps, weighted
  gamma/2 times the interval, and path-length regularisation every `pl_interval` (4)
  steps on half the batch (`pl_batch_shrink` 2), weighted `pl_weight` (2) times the
  interval, the target length a moving average (`pl_decay` 0.01) of the global batch's
  mean length; each optimizer's rate and betas adjusted by c = interval / (interval + 1)
  for the extra steps (`AdversarialModel.lazy_intervals`); an exponential moving average
  of the generator whose decay comes from a half-life in images (0.5 ** (global batch /
  half-life)); the EMA generator is the one users sample, export and load.

Randomness: the per-layer noise is an *input* of the generator (`noise_<k>`, (B, r, r, 1)
for the k-th convolution), so the exported graph has no random ops. Training draws noise,
second latents and crossover layers from stateless seeds (`noise_seed()`, different per
replica and step); sampling draws every input by role with `ganzoo._sampling.draw_inputs`,
the function the runtime uses, so a seed gives the same images in Keras and in a bundle.

Progressive growing (Karras et al. 2018), optional (`progressive=True`): a non-trainable
level of detail `lod` held by a "lod" layer of the synthesis network and of the
discriminator, set by the `ganzoo.training.ProgressiveGrowing` callback from the images
seen. The networks keep their full-size graphs (as in the authors' TensorFlow code): the
generator's skip sum is cut at the current resolution, the newest toRGB faded in by
1 - frac(lod), and upsampled to the final size; the discriminator sees real and fake
images with the detail above the current resolution averaged away, blended the same way.

Not included: the blur (FIR) filters of the up- and down-sampling (bilinear upsampling
and average pooling instead).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _sampling, _validation, _walks
from ganzoo import losses as losses_lib
from ganzoo import precision as precision_lib
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
    ProgressiveBlend,
    ProgressiveImages,
    Truncation,
)
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage

STYLES = ("modulated", "adain")
# "layer": one noise strength per layer (StyleGAN2); "channel": one per channel (StyleGAN).
NOISE_STRENGTHS = ("layer", "channel")
# StyleGAN2-ADA's clip of float16 activations (`conv_clamp`).
FLOAT16_CONV_CLAMP = 256.0
# Moving-average factor of the tracked mean w (StyleGAN's w_avg_beta).
W_AVG_BETA = 0.995


def channels_at(resolution, channel_base, channel_max):
    """Width at a resolution: min(channel_base / resolution, channel_max), at least 1."""
    return max(1, min(channel_base // resolution, channel_max))


def num_styles(size):
    """w vectors the synthesis network takes for `size`x`size` images: 2 log2(size) - 2."""
    return 2 * int(math.log2(size)) - 2


def noise_shapes(size):
    """`(r, r, 1)` of every noise input in order: one per convolution."""
    shapes = [(4, 4, 1)]
    resolution = 4
    while resolution < size:
        resolution *= 2
        shapes += [(resolution, resolution, 1)] * 2
    return shapes


# -- networks ----------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="ganzoo")
class TakeStyle(keras.layers.Layer):
    """styles (B, num_styles, D) -> the `index`-th w (B, D)."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, styles):
        return styles[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def build_mapping_network(latent_dim, style_dim, mapping_layers, lr_multiplier=0.01,
                          name="mapping"):
    """latent (B, latent_dim) -> w (B, style_dim)."""
    latent = keras.Input((latent_dim,), name="latent")
    x = PixelNormalization(name="normalize_latent")(latent)
    for index in range(mapping_layers):
        x = EqualizedDense(style_dim, lr_multiplier=lr_multiplier, activation="lrelu",
                           name=f"mapping_dense{index}")(x)
    return keras.Model(latent, x, name=name)


def _styled_layer(x, w, noise, width, kernel_size, style, name, noise_strength="layer",
                  conv_clamp=None):
    """conv (modulated, or plain + AdaIN) -> noise -> bias -> leaky ReLU (-> clamp)."""
    if style == "modulated":
        styles = EqualizedDense(x.shape[-1], bias_init=1.0, name=f"{name}_affine")(w)
        x = ModulatedConv2D(width, kernel_size, name=f"{name}_conv")([x, styles])
    else:
        x = EqualizedConv2D(width, kernel_size, use_bias=False, name=f"{name}_conv")(x)
    x = NoiseInjection(per_channel=noise_strength == "channel", name=f"{name}_noise")(
        [x, noise])
    x = BiasActivation("lrelu", clamp=conv_clamp, name=f"{name}_act")(x)
    if style == "adain":
        scale = EqualizedDense(width, bias_init=1.0, name=f"{name}_style_scale")(w)
        offset = EqualizedDense(width, name=f"{name}_style_offset")(w)
        x = AdaptiveInstanceNormalization(name=f"{name}_adain")([x, scale, offset])
    return x


def _to_rgb(x, w, channels, style, name, conv_clamp=None):
    if style == "modulated":
        styles = EqualizedDense(x.shape[-1], bias_init=1.0, name=f"{name}_affine")(w)
        x = ModulatedConv2D(channels, 1, demodulate=False, name=f"{name}_conv")([x, styles])
    else:
        x = EqualizedConv2D(channels, 1, use_bias=False, name=f"{name}_conv")(x)
    return BiasActivation("linear", clamp=conv_clamp, name=f"{name}_bias")(x)


def build_synthesis_network(image_shape, style_dim, channel_base, channel_max,
                            style="modulated", progressive=False, noise_strength="layer",
                            conv_clamp=None, name="synthesis"):
    """[styles (B, num_styles, style_dim), noise_0, ..., noise_k] -> images (B, H, W, C).

    Style index of each layer as in StyleGAN2: the 4x4 conv takes w_0 and its toRGB w_1;
    at each further resolution the two convs take w_{2i-1}, w_{2i} and toRGB w_{2i+1}.
    The output is linear (no tanh), as in the paper; images lie roughly in [-1, 1].
    With `progressive`, the skip sum goes through a `ProgressiveImages` layer ("lod")
    that cuts it at the current level of detail (the graph is the same at lod 0).
    `conv_clamp` clips every layer's activations and every toRGB output to
    [-conv_clamp, conv_clamp] (StyleGAN2-ADA, for float16).
    """
    size, _, channels = image_shape
    count = num_styles(size)
    styles = keras.Input((count, style_dim), name="styles")
    noises = [keras.Input(shape, name=f"noise_{index}")
              for index, shape in enumerate(noise_shapes(size))]

    taken = {}

    def w(index):
        if index not in taken:
            taken[index] = TakeStyle(index, name=f"w{index}")(styles)
        return taken[index]

    x = LearnedConstant(channels_at(4, channel_base, channel_max), name="constant")(styles)
    x = _styled_layer(x, w(0), noises[0], channels_at(4, channel_base, channel_max), 3,
                      style, "b4_conv", noise_strength, conv_clamp)
    image = _to_rgb(x, w(1), channels, style, "b4_torgb", conv_clamp)
    levels = [image]
    resolution, layer = 4, 1
    while resolution < size:
        resolution *= 2
        width = channels_at(resolution, channel_base, channel_max)
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"b{resolution}_up")(x)
        x = _styled_layer(x, w(layer), noises[layer], width, 3, style, f"b{resolution}_conv0",
                          noise_strength, conv_clamp)
        x = _styled_layer(x, w(layer + 1), noises[layer + 1], width, 3, style,
                          f"b{resolution}_conv1", noise_strength, conv_clamp)
        image = keras.layers.UpSampling2D(2, interpolation="bilinear",
                                          name=f"b{resolution}_rgb_up")(image)
        rgb = _to_rgb(x, w(layer + 2), channels, style, f"b{resolution}_torgb", conv_clamp)
        levels += [image, rgb]
        image = keras.layers.Add(name=f"b{resolution}_rgb")([image, rgb])
        layer += 2
    if progressive:
        image = ProgressiveImages(int(math.log2(size)) - 2, name="lod")(levels)
    image = keras.layers.Activation("linear", dtype="float32", name="images")(image)
    return keras.Model([styles, *noises], image, name=name)


def build_stylegan_generator(image_shape, latent_dim, style_dim, mapping_layers,
                             channel_base, channel_max, style="modulated",
                             mapping_lr_multiplier=0.01, progressive=False,
                             noise_strength="layer", conv_clamp=None, name="generator"):
    """[latent, truncation (B, 1), noise_0, ..., noise_k] -> images (B, H, W, C).

    The mapping and synthesis networks are the layers "mapping" and "synthesis" of the
    returned model; between them the "truncation" layer (which holds w_avg) and the
    broadcast of w to every style input.
    """
    size = image_shape[0]
    mapping = build_mapping_network(latent_dim, style_dim, mapping_layers,
                                    mapping_lr_multiplier)
    synthesis = build_synthesis_network(image_shape, style_dim, channel_base, channel_max,
                                        style, progressive, noise_strength, conv_clamp)
    latent = keras.Input((latent_dim,), name="latent")
    truncation = keras.Input((1,), name="truncation")
    noises = [keras.Input(shape, name=f"noise_{index}")
              for index, shape in enumerate(noise_shapes(size))]
    w = mapping(latent)
    w = Truncation(name="truncation_trick")([w, truncation])
    styles = keras.layers.RepeatVector(num_styles(size), name="broadcast_w")(w)
    images = synthesis([styles, *noises])
    return keras.Model([latent, truncation, *noises], images, name=name)


def _discriminator_block(x, width_in, width_out, name, conv_clamp=None):
    """Residual down-block: two 3x3 convs and pooling; pooled 1x1 shortcut; / sqrt(2)."""
    shortcut = keras.layers.AveragePooling2D(2, name=f"{name}_skip_pool")(x)
    shortcut = EqualizedConv2D(width_out, 1, use_bias=False, name=f"{name}_skip")(shortcut)
    x = EqualizedConv2D(width_in, 3, activation="lrelu", clamp=conv_clamp,
                        name=f"{name}_conv0")(x)
    x = EqualizedConv2D(width_out, 3, activation="lrelu", clamp=conv_clamp,
                        name=f"{name}_conv1")(x)
    x = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    x = keras.layers.Add(name=f"{name}_sum")([x, shortcut])
    return keras.layers.Rescaling(1.0 / math.sqrt(2.0), name=f"{name}_out")(x)


def build_stylegan_discriminator(image_shape, channel_base, channel_max,
                                 mbstd_group_size=4, progressive=False, conv_clamp=None,
                                 name="discriminator"):
    """images (B, H, W, C) -> one logit per image (B, 1).

    With `progressive`, the images first go through a `ProgressiveBlend` layer ("lod")
    that keeps only the detail of the current level (the identity at lod 0).
    `conv_clamp` clips the activations of fromRGB and of every 3x3 convolution.
    """
    size = image_shape[0]
    images = keras.Input(image_shape, name="images")
    x = images
    if progressive:
        x = ProgressiveBlend(int(math.log2(size)) - 2, name="lod")(x)
    x = EqualizedConv2D(channels_at(size, channel_base, channel_max), 1, activation="lrelu",
                        clamp=conv_clamp, name="from_rgb")(x)
    resolution = size
    while resolution > 4:
        x = _discriminator_block(x, channels_at(resolution, channel_base, channel_max),
                                 channels_at(resolution // 2, channel_base, channel_max),
                                 f"d{resolution}", conv_clamp)
        resolution //= 2
    width = channels_at(4, channel_base, channel_max)
    x = MinibatchStdDev(mbstd_group_size, 1, name="minibatch_stddev")(x)
    x = EqualizedConv2D(width, 3, activation="lrelu", clamp=conv_clamp, name="d4_conv")(x)
    x = keras.layers.Flatten(name="d4_flatten")(x)
    x = EqualizedDense(width, activation="lrelu", name="d4_dense")(x)
    logits = EqualizedDense(1, name="logit")(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(images, logits, name=name)


# -- the family --------------------------------------------------------------------------


def _is_number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float))


@register_family("stylegan_lite")
class StyleGANLite(NoiseToImage):
    """StyleGAN2 for small images (Karras et al. 2020), trained with `fit`.

    Sampling takes the truncation psi and style mixing:
    `sample(n, seed=, truncation=0.7, style_mix=(seed_b, crossover_layer))` (images whose
    first `crossover_layer` styles come from the latents of `seed` and the others from
    those of `seed_b`). The generator users sample, export and load is the EMA generator;
    its inputs are `latent`, `truncation` (B, 1) and one `noise_<k>` (B, r, r, 1) per
    convolution.

    Args:
        image_shape: tuple. `(size, size, channels)`: a square power of two from 16 to
            128, 1 or 3 channels. Defaults to `(64, 64, 3)`.
        latent_dim: int. Size of z. Defaults to 512 as in the paper.
        style_dim: int. Size of w. Defaults to 512 as in the paper.
        mapping_layers: int. Dense layers of the mapping network, 1 to 8. Defaults to 8.
        channel_base: int. Width at resolution r is min(channel_base / r, channel_max),
            for both networks. Defaults to 16384 (StyleGAN2 at small resolutions).
        channel_max: int. Widest layer. Defaults to 512.
        style: str. "modulated" (StyleGAN2's modulated/demodulated convolutions, the
            default) or "adain" (StyleGAN's AdaIN).
        mbstd_group_size: int. Images per minibatch-stddev group. Defaults to 4.
        noise_strength: str. "layer" (one learned noise strength per layer, StyleGAN2,
            the default) or "channel" (one per channel, StyleGAN; configs saved before the
            option existed load with it).
        conv_clamp: number or None. Clip the activations of every synthesis layer and
            toRGB and of the discriminator's convolutions to [-conv_clamp, conv_clamp],
            as StyleGAN2-ADA does wherever it runs in float16. None (the default): 256
            (the authors' value) when the model is built under `mixed_float16`, no clip
            otherwise; 0: never. The config records the clip in force.
        ema_half_life_images: int or None. Half-life of the generator's moving average,
            in training images: the decay per step is 0.5 ** (global batch / half-life).
            Defaults to 10,000 (the paper); None keeps no EMA generator (then `.generator`
            is sampled).
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    `compile` options (beside the optimizers): `r1_gamma` (R1 weight gamma, default 10 as
    in the paper for FFHQ; small images train well from 0.1 to 10), `r1_interval` (lazy R1
    every that many steps, default 16; 0 turns R1 off), `pl_weight` (path-length weight,
    default 2; 0 turns it off), `pl_interval` (default 4), `pl_decay` (default 0.01),
    `pl_batch_shrink` (default 2), `style_mixing` (probability, default 0.9). Default
    optimizers: Adam(0.002, betas (0, 0.99), eps 1e-8), each network's rate and betas
    adjusted for its lazy regularisation steps as in the paper (c = 16 / 17 for the
    discriminator, 4 / 5 for the generator). The logs add `r1_penalty` and `pl_penalty`
    (means over the steps that took them) and `pl_mean`.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=32)
    gan = ganzoo.models.StyleGANLite(image_shape=(32, 32, 1), latent_dim=64, style_dim=64,
                                     mapping_layers=4, channel_base=512, channel_max=64)
    gan.compile(r1_gamma=1.0)
    gan.fit(data, epochs=5)
    images = gan.sample(16, seed=0, truncation=0.7)  # uint8 (16, 32, 32, 1)
    mixed = gan.sample(16, seed=0, style_mix=(1, 4))  # coarse styles of seed 0
    ```
    """

    def __init__(self, image_shape=(64, 64, 3), latent_dim=512, style_dim=512,
                 mapping_layers=8, channel_base=16384, channel_max=512, style="modulated",
                 mbstd_group_size=4, ema_half_life_images=10_000, progressive=False,
                 noise_strength="layer", conv_clamp=None, seed=None, name=None, **kwargs):
        # Set by `from_config` for configs without `noise_strength` (presets saved before
        # it and the training state existed): their weights hold neither `pl_mean` nor
        # `lazy_steps`, so the model keeps those out of its weights.
        format1 = bool(kwargs.pop("_format1", False))
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        size, width, _ = self.image_shape
        if size != width or size < 16 or size > 128 or size & (size - 1):
            raise ValueError(
                "StyleGANLite images must be square with a power-of-two size from 16 to 128. "
                f"Received: image_shape={self.image_shape}"
            )
        self.style_dim = _validation.check_count(style_dim, "style_dim")
        self.mapping_layers = _validation.check_count(mapping_layers, "mapping_layers")
        if self.mapping_layers > 8:
            raise ValueError(f"mapping_layers must be 1 to 8. Received: "
                             f"mapping_layers={mapping_layers!r}")
        self.channel_base = _validation.check_count(channel_base, "channel_base")
        self.channel_max = _validation.check_count(channel_max, "channel_max")
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}. Received: style={style!r}")
        self.style = style
        self.mbstd_group_size = _validation.check_count(mbstd_group_size, "mbstd_group_size")
        if ema_half_life_images is not None:
            if not _is_number(ema_half_life_images) or ema_half_life_images <= 0:
                raise ValueError(
                    "ema_half_life_images must be a positive number or None. "
                    f"Received: ema_half_life_images={ema_half_life_images!r}"
                )
        self.ema_half_life_images = ema_half_life_images
        if not isinstance(progressive, bool):
            raise ValueError(f"progressive must be True or False. Received: "
                             f"progressive={progressive!r}")
        self.progressive = progressive
        if noise_strength not in NOISE_STRENGTHS:
            raise ValueError(f"noise_strength must be one of {NOISE_STRENGTHS}. Received: "
                             f"noise_strength={noise_strength!r}")
        self.noise_strength = noise_strength
        if conv_clamp is not None and (not _is_number(conv_clamp) or conv_clamp < 0):
            raise ValueError("conv_clamp must be a non-negative number or None. Received: "
                             f"conv_clamp={conv_clamp!r}")
        self.conv_clamp = conv_clamp
        if conv_clamp is None and precision_lib.current() == "mixed_float16":
            conv_clamp = FLOAT16_CONV_CLAMP
        # The clip the layers apply (None: none).
        self.__dict__["_clamp"] = float(conv_clamp) if conv_clamp else None
        self.__dict__["_format1"] = format1
        pl_mean = keras.Variable(0.0, trainable=False, name="pl_mean",
                                 aggregation="only_first_replica")
        if format1:
            self.__dict__["pl_mean"] = pl_mean
            self.__dict__["lazy_steps"] = keras.Variable(
                0, dtype="int64", trainable=False, name="lazy_steps",
                aggregation="only_first_replica")
        else:
            # The moving average of path lengths: saved in checkpoints and presets.
            self.pl_mean = pl_mean
        # Images per step the EMA decay is computed for: the global batch, known when the
        # step is traced (`default_batch_size` until then).
        self.__dict__["_ema_images_per_step"] = self.default_batch_size
        self.r1_gamma, self.r1_interval, self.style_mixing = 10.0, 16, 0.9
        self.pl_weight, self.pl_interval, self.pl_decay, self.pl_batch_shrink = 2.0, 4, 0.01, 2

    @property
    def ema_decay(self):
        """0.5 ** (images per step / half-life), or None without an EMA generator."""
        if self.__dict__.get("ema_half_life_images") is None:
            return None
        images = self.__dict__.get("_ema_images_per_step", self.default_batch_size)
        return 0.5 ** (images / self.ema_half_life_images)

    # -- networks -------------------------------------------------------------------------

    @property
    def num_styles(self):
        return num_styles(self.image_shape[0])

    def build_generator(self):
        return build_stylegan_generator(
            self.image_shape, self.latent_dim, self.style_dim, self.mapping_layers,
            self.channel_base, self.channel_max, self.style,
            progressive=self.__dict__.get("progressive", False),
            noise_strength=self.__dict__.get("noise_strength", "layer"),
            conv_clamp=self.__dict__.get("_clamp"))

    def build_discriminator(self):
        return build_stylegan_discriminator(self.image_shape, self.channel_base,
                                            self.channel_max, self.mbstd_group_size,
                                            progressive=self.__dict__.get("progressive", False),
                                            conv_clamp=self.__dict__.get("_clamp"))

    # -- progressive growing ----------------------------------------------------------------

    @property
    def max_lod(self):
        """The level of detail of 4x4 images: log2(size) - 2."""
        return int(math.log2(self.image_shape[0])) - 2

    def _lod_layers(self):
        if not self.progressive:
            raise ValueError(
                "Only a model built with progressive=True has a level of detail. Received: "
                "progressive=False")
        networks = [self.parts(self.generator)[2], self.discriminator]
        if self.ema_decay is not None:
            networks.append(self.parts(self.generator_ema)[2])
        return [network.get_layer("lod") for network in networks]

    @property
    def lod(self):
        """The current level of detail (0: the final resolution; k: 2^k times smaller)."""
        return float(keras.ops.convert_to_numpy(self._lod_layers()[0].lod))

    def set_lod(self, lod):
        """Set the level of detail of the generators and the discriminator."""
        if not _is_number(lod) or not 0 <= lod <= self.max_lod:
            raise ValueError(f"lod must be a number in [0, {self.max_lod}] for "
                             f"{self.image_shape[0]}x{self.image_shape[0]} images. "
                             f"Received: lod={lod!r}")
        for layer in self._lod_layers():
            layer.lod.assign(float(lod))

    def images_seen(self):
        """Training images the discriminator has seen (a weight of its "lod" layer, so
        checkpoints and presets carry it)."""
        counter = self.discriminator.get_layer("lod").images_seen if self.progressive else None
        if counter is None:
            raise ValueError("Only a model built with progressive=True counts the images it "
                             "has seen. Received: progressive=False")
        return int(keras.ops.convert_to_numpy(counter))

    @staticmethod
    def parts(generator):
        """(mapping, truncation layer, synthesis) of a StyleGAN-lite generator."""
        return (generator.get_layer("mapping"), generator.get_layer("truncation_trick"),
                generator.get_layer("synthesis"))

    # -- compile --------------------------------------------------------------------------

    loss_names = ("d_loss", "g_loss", "r1_penalty", "pl_penalty")

    def default_optimizers(self):
        """Adam(0.002, betas (0, 0.99), eps 1e-8), each network's rate times c and betas
        to the power c, c = interval / (interval + 1) of its lazy regularisation (R1 for
        the discriminator, path length for the generator; c = 1 when it is off): the
        regularisation steps are extra optimizer steps, as in the authors' code."""
        intervals = self.lazy_intervals()

        def adam(interval, name):
            c = interval / (interval + 1) if interval else 1.0
            return keras.optimizers.Adam(0.002 * c, beta_1=0.0, beta_2=0.99**c, epsilon=1e-8,
                                         name=name)

        return adam(intervals["pl"], "g_adam"), adam(intervals["r1"], "d_adam")

    def configure_losses(self, r1_gamma=10.0, r1_interval=16, style_mixing=0.9,
                         pl_weight=2.0, pl_interval=4, pl_decay=0.01, pl_batch_shrink=2,
                         **loss_options):
        """`r1_gamma`: R1 weight; `r1_interval`: lazy R1 period in steps (0: no R1);
        `style_mixing`: probability that a generated training image mixes two latents;
        `pl_weight`, `pl_interval` (0: none), `pl_decay`, `pl_batch_shrink`: path-length
        regularisation."""
        super().configure_losses(**loss_options)
        for name, value in (("r1_gamma", r1_gamma), ("pl_weight", pl_weight)):
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number. Received: "
                                 f"{name}={value!r}")
        for name, value, least in (("r1_interval", r1_interval, 0),
                                   ("pl_interval", pl_interval, 0),
                                   ("pl_batch_shrink", pl_batch_shrink, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                kind = "non-negative" if least == 0 else "positive"
                raise ValueError(f"{name} must be a {kind} integer. Received: "
                                 f"{name}={value!r}")
        for name, value, kind in (("style_mixing", style_mixing, "a probability"),
                                  ("pl_decay", pl_decay, "a number")):
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be {kind} in [0, 1]. Received: "
                                 f"{name}={value!r}")
        self.r1_gamma, self.r1_interval = float(r1_gamma), r1_interval
        self.style_mixing = float(style_mixing)
        self.pl_weight, self.pl_interval = float(pl_weight), pl_interval
        self.pl_decay, self.pl_batch_shrink = float(pl_decay), pl_batch_shrink

    def lazy_intervals(self):
        """R1 ("r1") every `r1_interval` steps and path length ("pl") every `pl_interval`,
        each off (0) when its weight is 0."""
        return {"r1": self.r1_interval if self.r1_gamma else 0,
                "pl": self.pl_interval if self.pl_weight else 0}

    def counts_lazy_steps(self):
        return not self.__dict__.get("_format1", False)

    def training_state(self):
        return {**super().training_state(), "lazy_steps": self.lazy_steps,
                "pl_mean": self.pl_mean}

    # -- random draws of a training step (tests feed them per replica) --------------------

    def sample_noise(self, batch_size):
        """Standard-normal noise maps for every noise input, for this replica and step."""
        return [tf.random.stateless_normal([batch_size, *shape], seed=self.noise_seed())
                for shape in noise_shapes(self.image_shape[0])]

    def sample_crossovers(self, batch_size):
        """Per image, the first style index taken from the second latent: uniform in
        [1, num_styles) with probability `style_mixing`, else num_styles (no mixing)."""
        seed = self.noise_seed()
        mixed = tf.random.stateless_uniform([batch_size], seed=seed) < self.style_mixing
        layers = tf.random.stateless_uniform([batch_size], seed=seed + 1, minval=1,
                                             maxval=self.num_styles, dtype=tf.int32)
        return tf.where(mixed, layers, self.num_styles)

    def generator_inputs(self, batch_size, labels=None):
        """The full generator's inputs for a batch: latents, psi = 1, drawn noise."""
        return [self.sample_latents(batch_size), tf.ones([batch_size, 1]),
                *self.sample_noise(batch_size)]

    # -- the step ---------------------------------------------------------------------------

    def sample_path_noise(self, shape):
        """The random image y of the path-length step, N(0, 1) / sqrt(H W), for this
        replica and step."""
        scale = 1.0 / math.sqrt(self.image_shape[0] * self.image_shape[1])
        return tf.random.stateless_normal(shape, seed=self.noise_seed()) * scale

    def _training_styles(self, batch_size):
        """Per-layer styles (B, num_styles, D), mixed from two latents at the drawn
        crossovers; also the first latents' w."""
        mapping, _, _ = self.parts(self.generator)
        w = mapping(self.sample_latents(batch_size), training=True)
        styles = tf.repeat(w[:, None], self.num_styles, axis=1)
        if self.style_mixing > 0:
            w_mix = mapping(self.sample_latents(batch_size), training=True)
            crossovers = self.sample_crossovers(batch_size)
            first = tf.range(self.num_styles)[None, :] < crossovers[:, None]
            styles = tf.where(first[:, :, None], styles, w_mix[:, None])
        return styles, w

    def _generate_for_training(self, batch_size):
        """Images from mixed styles and drawn noise; also the first latents' w."""
        styles, w = self._training_styles(batch_size)
        synthesis = self.parts(self.generator)[2]
        return synthesis([styles, *self.sample_noise(batch_size)], training=True), w

    def path_lengths(self, styles, noise):
        """|J_w^T y| per image (B,): the gradient of sum(g(w) * y) with respect to the
        styles, y the path noise, its squared norm summed over w's dimensions and averaged
        over the styles, then the square root (the authors' code)."""
        synthesis = self.parts(self.generator)[2]
        with tf.GradientTape() as tape:
            tape.watch(styles)
            images = synthesis([styles, *noise], training=True)
            projected = tf.reduce_sum(images * self.sample_path_noise(tf.shape(images)))
        # In float32 under mixed precision, as the regularisers are kept.
        gradients = tf.cast(tape.gradient(projected, styles), tf.float32)
        return tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(gradients), axis=2), axis=1))

    def _global_mean(self, values):
        """The mean of `values` over the global batch (all replicas)."""
        total = tf.stack([tf.reduce_sum(values), tf.cast(tf.shape(values)[0], tf.float32)])
        context = tf.distribute.get_replica_context()
        if context is not None and self.num_replicas() > 1:
            total = context.all_reduce(tf.distribute.ReduceOp.SUM, total)
        return total[0] / total[1]

    def _r1_step(self, real_images):
        """The lazy R1 step: one discriminator update on gamma / 2 * interval * mean
        ||grad D(x)||^2 over the (augmented) real images; returns the mean penalty."""
        weight = 0.5 * self.r1_gamma * self.r1_interval
        with tf.GradientTape() as tape:
            penalty = self.average_loss(losses_lib.r1_penalty(
                self.discriminator, self.augment_images(real_images)))
            scaled = self.d_optimizer.scale_loss(weight * penalty)
        self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator_variables(),
                             only_connected=True)
        return penalty

    def _path_length_step(self, batch_size):
        """The lazy path-length step on batch / `pl_batch_shrink` images: one generator
        update on pl_weight * interval * mean (|J_w^T y| - a)^2, the target a moved by
        `pl_decay` towards the global batch's mean length (and stored); returns the mean
        penalty."""
        batch = tf.maximum(batch_size // self.pl_batch_shrink, 1)
        with tf.GradientTape() as tape:
            styles, _ = self._training_styles(batch)
            lengths = self.path_lengths(styles, self.sample_noise(batch))
            target = self.pl_mean + self.pl_decay * (self._global_mean(lengths) - self.pl_mean)
            penalty = self.average_loss(tf.square(lengths - target))
            scaled = self.g_optimizer.scale_loss(self.pl_weight * self.pl_interval * penalty)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables(),
                             only_connected=True)
        self.pl_mean.assign(tf.stop_gradient(target))
        return penalty

    def _track_w_avg(self, w):
        """Move w_avg (generator's truncation layer) towards the global batch's mean w."""
        global_batch = tf.cast(tf.shape(w)[0] * self.num_replicas(), tf.float32)
        total = tf.reduce_sum(tf.cast(w, tf.float32), axis=0)
        context = tf.distribute.get_replica_context()
        if context is not None and self.num_replicas() > 1:
            total = context.all_reduce(tf.distribute.ReduceOp.SUM, total)
        _, truncation, _ = self.parts(self.generator)
        truncation.track(total / global_batch, W_AVG_BETA)

    def train_step(self, data):
        real_images, _ = self.unpack_batch(data)
        self.check_batch(real_images)
        batch_size = tf.shape(real_images)[0]
        if real_images.shape[0] is not None:
            self.__dict__["_ema_images_per_step"] = real_images.shape[0] * self.num_replicas()

        with tf.GradientTape() as d_tape:
            fake_images, _ = self._generate_for_training(batch_size)
            # With compile(augment=...) the discriminator sees augmented images (and R1
            # is taken on augmented reals).
            real_logits = self.discriminator(self.augment_images(real_images), training=True)
            fake_logits = self.discriminator(self.augment_images(fake_images), training=True)
            d_loss = self.average_loss(self.d_loss_fn(real_logits, fake_logits))
            d_total = d_loss + self.network_losses(self.discriminator)
            d_scaled = self.d_optimizer.scale_loss(d_total)
        self.apply_gradients(self.d_optimizer, d_tape, d_scaled, self.discriminator_variables())
        self.observe_real_logits(real_logits)
        due = self.due_regularizers()
        penalties = {}
        if "r1" in due:
            penalties["r1_penalty"] = self._r1_step(real_images)
        if self.progressive:
            self.discriminator.get_layer("lod").images_seen.assign_add(
                tf.cast(batch_size * self.num_replicas(), tf.int64))

        with tf.GradientTape() as g_tape:
            fake_images, w = self._generate_for_training(batch_size)
            fake_logits = self.discriminator(self.augment_images(fake_images), training=True)
            g_loss = self.average_loss(self.g_loss_fn(fake_logits))
            g_total = g_loss + self.network_losses(self.generator)
            g_scaled = self.g_optimizer.scale_loss(g_total)
        self.apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator_variables())
        if "pl" in due:
            penalties["pl_penalty"] = self._path_length_step(batch_size)
        self._track_w_avg(w)
        if self.ema_decay is not None:
            global_batch = tf.cast(batch_size * self.num_replicas(), tf.float32)
            self.update_ema(0.5 ** (global_batch / float(self.ema_half_life_images)))
        return self.record(d_loss=d_loss, g_loss=g_loss, **penalties)

    # -- sampling ------------------------------------------------------------------------

    def _check_style_mix(self, style_mix):
        if style_mix is None:
            return None
        try:
            seed_b, layer = style_mix
        except (TypeError, ValueError):
            raise ValueError(
                "style_mix must be (seed_b, crossover_layer). Received: "
                f"style_mix={style_mix!r}") from None
        seed_b = _validation.check_seed(seed_b, "style_mix seed")
        if seed_b is None:
            raise ValueError("style_mix needs a seed for its second latents. Received: "
                             f"style_mix={style_mix!r}")
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) \
                or not 0 <= layer <= self.num_styles:
            raise ValueError(
                f"The crossover layer must lie in [0, {self.num_styles}] (styles of this "
                f"generator). Received: crossover_layer={layer!r}")
        return seed_b, int(layer)

    def sampling_inputs(self, n, seed=None, labels=None, truncation=None, style_mix=None,
                        latents=None):
        """[latent, truncation, noise_0, ...] for `n` seeded samples, drawn as the runtime
        draws them (`ganzoo._sampling.draw_inputs`).

        `style_mix` is applied by `generate` (it needs the networks); here it is checked.
        """
        if labels is not None:
            raise ValueError(f"{self.family} is unconditional; it takes no labels")
        self._check_style_mix(style_mix)
        return _sampling.draw_inputs(
            self.input_descriptions(self.inference_generator()), n, seed,
            truncation=truncation, latents=latents)

    def sampling_batches(self, n, seed=None, labels=None, batch_size=256, truncation=None,
                         style_mix=None, latents=None):
        if labels is not None:
            raise ValueError(f"{self.family} is unconditional; it takes no labels")
        self._check_style_mix(style_mix)
        yield from _sampling.draw_inputs(
            self.input_descriptions(self.inference_generator()), n, seed,
            truncation=truncation, batch_size=batch_size, latents=latents)

    def generate(self, n=None, seed=None, labels=None, batch_size=256, truncation=None,
                 style_mix=None, **options):
        """Float images for seeded inputs (or given `latents=`, see
        `NoiseToImage.generate`); `style_mix=(seed_b, crossover_layer)` takes the styles
        from `crossover_layer` on from the latents of `seed_b` (same noise)."""
        style_mix = self._check_style_mix(style_mix)
        if style_mix is None:
            return super().generate(n, seed=seed, labels=labels, batch_size=batch_size,
                                    truncation=truncation, **options)
        latents = options.pop("latents", None)
        self._refuse_options(options)
        if seed is None:
            raise ValueError("style_mix needs seed= for the first latents. Received: seed=None")
        seed_b, layer = style_mix
        if latents is not None:
            latents = _sampling.check_latents(latents, self.latent_dim, n)
            n = len(latents)
        inputs = self.sampling_inputs(n, seed=seed, truncation=truncation, latents=latents)
        other = _sampling.latents(_validation.check_count(n), self.latent_dim, seed_b)
        return self.mix_styles(inputs[0], other, layer, inputs[1], inputs[2:])

    def mix_styles(self, latents_a, latents_b, crossover_layer, truncation, noise):
        """Images whose styles before `crossover_layer` come from `latents_a` (after
        truncation) and the others from `latents_b`; float, (n, H, W, C)."""
        mapping, truncation_layer, synthesis = self.parts(self.inference_generator())
        w_a = truncation_layer([mapping(latents_a, training=False), truncation])
        w_b = truncation_layer([mapping(latents_b, training=False), truncation])
        first = (np.arange(self.num_styles) < crossover_layer)[None, :, None]
        styles = keras.ops.where(first, w_a[:, None], w_b[:, None])
        noise = [keras.ops.convert_to_tensor(array) for array in noise]
        return keras.ops.convert_to_numpy(synthesis([styles, *noise], training=False))

    def map_to_w(self, latents, truncation=None):
        """The w of `latents` after the truncation trick, w_avg + psi (w - w_avg), as the
        inference generator (the EMA one) computes it: float32 `(n, style_dim)`.

        `latents` is `(n, latent_dim)` floats (`draw_latents(n, seed)` gives a seed's);
        `truncation` psi, None for 1 (w itself); psi 0 gives the tracked mean w_avg. A
        bundle's `map_to_w` gives the same (TF-free, `mapping.onnx`).
        """
        return _walks.map_to_w(latents, truncation, to_w=self._to_w,
                               latent_dim=self.latent_dim)

    def synthesize(self, styles, seed=None):
        """uint8 images of the synthesis network for `styles`: `(n, num_styles,
        style_dim)`, one w per layer, or w `(n, style_dim)` for every layer. The noise is
        what `sample(n, seed=seed)` draws, so `synthesize(map_to_w(z, psi), seed=s)` is
        `sample(latents=z, seed=s, truncation=psi)`."""
        return _walks.synthesize(self._style_inputs(), styles, seed, render=self._render,
                                 num_styles=self.num_styles, style_dim=self.style_dim)

    def walk(self, seeds, frames, method=None, labels=None, batch_size=16, space="z",
             **options):
        """uint8 frames of a walk through the latents of `seeds` (`space="z"`, see
        `NoiseToImage.walk`; method None: slerp) or through their w (`space="w"`: each
        seed's w after truncation, lerp by default as in StyleGAN, every layer taking the
        frame's w; noise follows the same path). Either way the frame of a seed is
        `sample(1, seed=..., truncation=...)`. `options`: `truncation`."""
        if _walks.check_space(space) == "z":
            return super().walk(seeds, frames, method=method, labels=labels,
                                batch_size=batch_size, **options)
        if labels is not None:
            raise ValueError(f"{self.family} is unconditional; it takes no labels")
        options = {key: value for key, value in options.items() if value is not None}
        truncation = options.pop("truncation", None)
        self._refuse_options(options)
        return _walks.walk_in_w(self._style_inputs(), seeds, frames, method,
                                to_w=self._to_w, render=self._render,
                                num_styles=self.num_styles, truncation=truncation,
                                batch_size=batch_size)

    def mix(self, rows, columns, cutoff=None, truncation=None, batch_size=16):
        """The pictures of a style-mixing figure (Karras et al. 2019, figure 3): a
        `ganzoo._walks.StyleMix` of uint8 `rows` (the row seeds' samples), `columns` and
        `mixed` `(R, K, H, W, C)`, cell (i, j) taking styles 0 to `cutoff` - 1 (the
        coarse ones; default 4: the 4x4 and 8x8 layers) from row i's w and the others
        from column j's, with row i's noise: `sample(1, seed=rows[i],
        style_mix=(columns[j], cutoff), truncation=truncation)`.
        `ganzoo.images.mixing_grid(mix)` lays it out."""
        return _walks.style_mix(self._style_inputs(), rows, columns, cutoff,
                                to_w=self._to_w, render=self._render,
                                num_styles=self.num_styles, truncation=truncation,
                                batch_size=batch_size)

    def _style_inputs(self):
        return self.input_descriptions(self.inference_generator())

    def _to_w(self, latents, psi):
        mapping, truncation_layer, _ = self.parts(self.inference_generator())
        return keras.ops.convert_to_numpy(
            truncation_layer([mapping(latents, training=False), psi]))

    def _render(self, inputs):
        _, _, synthesis = self.parts(self.inference_generator())
        return keras.ops.convert_to_numpy(synthesis(list(inputs), training=False))

    def get_config(self):
        config = super().get_config()
        config.update({
            "style_dim": self.style_dim,
            "mapping_layers": self.mapping_layers,
            "channel_base": self.channel_base,
            "channel_max": self.channel_max,
            "style": self.style,
            "mbstd_group_size": self.mbstd_group_size,
            "ema_half_life_images": self.ema_half_life_images,
        })
        if self.progressive:  # absent otherwise: configs without growing stay as they were
            config["progressive"] = True
        if not self.__dict__.get("_format1", False):
            config["noise_strength"] = self.noise_strength
        # Absent when nothing was asked and nothing clips: such configs stay as they were.
        clamp = self.__dict__.get("_clamp")
        if clamp is not None or self.conv_clamp is not None:
            config["conv_clamp"] = clamp if clamp is not None else self.conv_clamp
        return config

    @classmethod
    def from_config(cls, config):
        # Configs written before `noise_strength` existed: per-channel noise strengths and
        # no training state (`pl_mean`, `lazy_steps`) in their weights.
        if "noise_strength" not in config:
            return cls(**config, noise_strength="channel", _format1=True)
        return cls(**config)
