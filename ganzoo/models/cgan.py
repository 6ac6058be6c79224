"""Class-conditional GAN with a projection discriminator.

The discriminator is the projection discriminator of Miyato & Koyama 2018 (cGANs with
Projection Discriminator, https://arxiv.org/abs/1802.05637): features phi(x) of the image,
a linear score psi and a learned embedding V of the classes give

    D(x, y) = psi(phi(x)) + <V[y], phi(x)>,

so the label enters as an inner product with the image features instead of being
concatenated to the input or a hidden layer (Mirza & Osindero 2014), which the paper shows
conditions far better. The generator is conditioned twice: a learned embedding of the
class is joined to the latent (Mirza & Osindero 2014), and every batch norm is
class-conditional, as the paper's generator's are (de Vries et al. 2017, Dumoulin et al.
2017): it normalises without a learned scale and offset of its own, then scales and shifts
each channel by `gamma[y]` and `beta[y]`, rows of two embeddings of the class (scales start
at 1, offsets at 0). The joined embedding lets the generator follow the class from the
first steps, while the batch-norm scales, which Adam moves by about the learning rate per
step, are still near their start. On the digits (32x32, batch 64) class accuracy passed
0.98 within 440 steps with both; with conditional batch norm alone (and the non-saturating
loss) it was 0.41 after 880 steps and 0.97 after 1,320.

The discriminator is the paper's (`discriminator_type="sn_resnet"`, the default):
SN-GAN's ResNet of spectrally normalised convolutions with ReLU and no batch norm, global
sum pooling to phi(x), a spectrally normalised psi and class embedding V
(`ganzoo.models._sn_resnet`, shared with SAGAN), trained with the hinge loss and
Adam(2e-4, beta_1=0, beta_2=0.9). `compile(d_steps=k)` gives k discriminator updates per
generator update (the paper's n_dis = 5; each takes 1/k of the batch), and the labels of
the fakes are drawn uniformly over the classes (`compile(fake_labels="uniform")`, the
default), not copied from the real batch (`fake_labels="data"`).

The generator keeps DCGAN's backbone (Radford et al. 2015; `ganzoo.models.dcgan`; the
paper's is a ResNet with conditional batch norm): it projects the latent to 4x4 and
doubles the resolution with strided transposed convolutions (ReLU, tanh output), weights
from N(0, 0.02).

`discriminator_type="dcgan"` is the discriminator of ganzoo's first cgan (format 1 presets
without the option load with it): phi is DCGAN's discriminator without its last layer
(strided convolutions, LeakyReLU 0.2, batch norm after all but the first), flattened, not
spectrally normalised, with DCGAN's Adam(2e-4, beta_1=0.5) and the real batch's labels
for the fakes.

Batch norm is synchronised across replicas (statistics of the global batch), so that a
step on several devices equals a step on one device and every replica keeps the same
moving statistics; the class-conditional scale and offset act per example.

Conditional batch norm and the projection term are built by `ganzoo.layers.conditioning`
(shared with SAGAN's conditional models), the label checks and seeded labels of training
and sampling come from `ganzoo.models._conditional.ClassConditional`.
"""

import keras

from ganzoo import _validation
from ganzoo.layers.conditioning import conditional_batch_norm, label_input, projection_logit
from ganzoo.models._conditional import ClassConditional
from ganzoo.models._sn_resnet import build_sn_resnet_discriminator
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage
from ganzoo.models.dcgan import _init, _num_stages, dcgan_features


# The discriminators a cgan can have: the paper's, and ganzoo's first.
DISCRIMINATOR_TYPES = ("sn_resnet", "dcgan")


def build_cgan_generator(image_shape, latent_dim, num_classes, filters, name="generator"):
    """[latent (B, latent_dim), label (B,) int] -> images (B, H, W, C) in [-1, 1]."""
    stages = _num_stages(image_shape)
    width = filters * 2 ** (stages - 1)
    latent = keras.Input((latent_dim,), name="latent")
    label = label_input()
    # The class as a learned vector of the latent's size, joined to the latent.
    class_code = keras.layers.Embedding(
        num_classes, latent_dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=0.05),
        name="label_embedding",
    )(label)
    x = keras.layers.Concatenate(name="latent_and_label")([latent, class_code])
    x = keras.layers.Dense(4 * 4 * width, use_bias=False, kernel_initializer=_init(),
                           name="project")(x)
    x = keras.layers.Reshape((4, 4, width), name="reshape")(x)
    x = conditional_batch_norm(x, label, num_classes, "project")
    x = keras.layers.ReLU(name="project_relu")(x)
    for stage in range(1, stages):
        width //= 2
        x = keras.layers.Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=_init(), name=f"up{stage}_deconv",
        )(x)
        x = conditional_batch_norm(x, label, num_classes, f"up{stage}")
        x = keras.layers.ReLU(name=f"up{stage}_relu")(x)
    x = keras.layers.Conv2DTranspose(
        image_shape[2], 4, strides=2, padding="same", kernel_initializer=_init(),
        name="to_image",
    )(x)
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([latent, label], images, name=name)


def build_projection_discriminator(image_shape, num_classes, filters, name="discriminator"):
    """[image (B, H, W, C), label (B,) int] -> one logit per image (B, 1).

    `psi(phi(x)) + <embed(y), phi(x)>` (Miyato & Koyama 2018, eq. 3), phi the flattened
    features of DCGAN's strided convolutions: `discriminator_type="dcgan"`, ganzoo's first
    cgan discriminator (the paper's is `build_sn_resnet_discriminator`).
    """
    image = keras.Input(image_shape, name="image")
    label = label_input()
    features = dcgan_features(image, image_shape, filters, flatten_name="features")
    unconditional = keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32",
                                       name="psi")(features)
    class_embedding = keras.layers.Embedding(
        num_classes, features.shape[-1], embeddings_initializer=_init(), name="embed"
    )
    logits = projection_logit(unconditional, features, label, class_embedding,
                              output_name="logit", dtype="float32")
    return keras.Model([image, label], logits, name=name)


@register_family("cgan")
class ConditionalGAN(ClassConditional, NoiseToImage):
    """Class-conditional GAN: conditional generator, projection discriminator.

    The discriminator scores `psi(phi(x)) + <embed(y), phi(x)>` (Miyato & Koyama 2018);
    the generator joins an embedding of the class to the latent and its batch norms scale
    and shift by class. Both networks take the label as
    an int input named `label`. Training data are `(images, labels)` batches
    (`ganzoo.data.load(..., labels=True)`); fakes are made for labels drawn uniformly over
    the classes (`compile(fake_labels="data")`: the real batch's).

    Args:
        num_classes: int. Number of classes; labels lie in `[0, num_classes)`. Required
            (`ganzoo train` takes it from the data).
        image_shape: tuple. `(size, size, channels)`: a square power of two from 16 up,
            1 or 3 channels. Defaults to `(32, 32, 3)` (the paper's CIFAR-10 size).
        latent_dim: int. Latent size. Defaults to 128 as in the paper.
        generator_filters: int. Width of the generator's last hidden layer (doubling
            towards the 4x4 input). Defaults to 64.
        discriminator_filters: int. Width of the discriminator's first layer (doubling
            with each downsampling). Defaults to 64.
        discriminator_type: str. `"sn_resnet"` (the paper's spectrally normalised ResNet
            with global sum pooling) or `"dcgan"` (ganzoo's first cgan discriminator:
            DCGAN's batch-normalised convolutions, flattened). Defaults to "sn_resnet";
            configs saved without it (format 1 presets) load as "dcgan".
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=64, labels=True)
    gan = ganzoo.models.ConditionalGAN(num_classes=10, image_shape=(32, 32, 1),
                                       latent_dim=64)
    gan.compile()                          # hinge loss, Adam(2e-4, betas (0, 0.9))
    gan.fit(data, epochs=5)
    threes = gan.sample(16, seed=0, labels=3)           # uint8 (16, 32, 32, 1)
    mixed = gan.sample(3, seed=0, labels=[0, 1, 2])     # one label per image
    ```
    """

    conditional = True
    default_loss = "hinge"

    def __init__(self, num_classes=None, image_shape=(32, 32, 3), latent_dim=128,
                 generator_filters=64, discriminator_filters=64,
                 discriminator_type="sn_resnet", seed=None, name=None, **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        height, width, _ = self.image_shape
        if height != width or height < 16 or height & (height - 1):
            raise ValueError(
                "ConditionalGAN images must be square with a power-of-two size from 16 up. "
                f"Received: image_shape={self.image_shape}"
            )
        if num_classes is None:
            raise ValueError(
                "ConditionalGAN needs num_classes, the number of classes of the data. "
                "Received: num_classes=None"
            )
        self.num_classes = _validation.check_count(num_classes, "num_classes")
        self.generator_filters = _validation.check_count(generator_filters, "generator_filters")
        self.discriminator_filters = _validation.check_count(
            discriminator_filters, "discriminator_filters"
        )
        if discriminator_type not in DISCRIMINATOR_TYPES:
            raise ValueError(
                f"discriminator_type must be one of {', '.join(DISCRIMINATOR_TYPES)}. "
                f"Received: discriminator_type={discriminator_type!r}")
        self.discriminator_type = discriminator_type
        self.fake_label_source = "uniform" if discriminator_type == "sn_resnet" else "data"

    def build_generator(self):
        return build_cgan_generator(self.image_shape, self.latent_dim, self.num_classes,
                                    self.generator_filters)

    def build_discriminator(self):
        if self.discriminator_type == "dcgan":
            return build_projection_discriminator(self.image_shape, self.num_classes,
                                                  self.discriminator_filters)
        return build_sn_resnet_discriminator(self.image_shape, self.discriminator_filters,
                                             num_classes=self.num_classes)

    def default_optimizers(self):
        """Adam(2e-4, beta_1=0, beta_2=0.9) for both networks (Miyato & Koyama 2018);
        DCGAN's Adam(2e-4, beta_1=0.5) with the "dcgan" discriminator."""
        if self.discriminator_type == "dcgan":
            return super().default_optimizers()
        return (keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9, name="g_adam"),
                keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9, name="d_adam"))

    def configure_losses(self, d_steps=1, fake_labels=None, **loss_options):
        """`d_steps`: discriminator updates per generator update, each on 1/d_steps of the
        batch (the paper: 5). `fake_labels`: "uniform" (labels of the fakes drawn over the
        classes; the default with the "sn_resnet" discriminator) or "data" (the real
        batch's; the default with "dcgan")."""
        super().configure_losses(**loss_options)
        self.d_steps = _validation.check_count(d_steps, "d_steps")
        if fake_labels is None:
            fake_labels = "uniform" if self.discriminator_type == "sn_resnet" else "data"
        if fake_labels not in ("uniform", "data"):
            raise ValueError(
                f"fake_labels must be 'uniform' or 'data'. Received: fake_labels={fake_labels!r}")
        self.fake_label_source = fake_labels

    # What the networks eat in training and sampling (labels checked, seeded labels
    # drawn): `ClassConditional`.

    # -- config -------------------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "generator_filters": self.generator_filters,
                "discriminator_filters": self.discriminator_filters,
                "discriminator_type": self.discriminator_type,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Configs written before the paper's discriminator existed describe the first one.
        return cls(**{"discriminator_type": "dcgan", **config})
