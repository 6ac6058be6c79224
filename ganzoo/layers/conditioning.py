"""Class conditioning: conditional batch norm and the projection discriminator's term.

- Conditional batch norm (de Vries et al. 2017, Dumoulin et al. 2017; the generators of
  Miyato & Koyama 2018 and SAGAN): batch norm without a learned scale and offset of its
  own, then each channel scaled by `gamma[y]` and shifted by `beta[y]`, rows of two
  embeddings of the class y (scales start at 1, offsets at 0):
  `conditional_batch_norm` builds it; `FeatureWiseAffine` is its last step,
  `x * gamma + beta` with one (gamma, beta) pair per example.
- The projection discriminator (Miyato & Koyama 2018, cGANs with Projection
  Discriminator, https://arxiv.org/abs/1802.05637): `D(x, y) = psi(phi(x)) + <V[y],
  phi(x)>`, V a learned embedding of the classes. `ClassProjection` computes the inner
  product `<V[y], phi(x)>` of embedded labels and features; `projection_logit` builds the
  embedding lookup, the term and the sum.

The learned tables stay ordinary Keras `Embedding` (and `BatchNormalization`) layers of
the functional networks, created by the builders here: weights files address a network's
variables by its layers' classes and order, so the presets saved before these builders
existed load unchanged. The layers defined here hold no weights.
"""

import keras
from keras import ops


def label_input(name="label"):
    """Integer class labels, one per example: a `(B,)` int32 `keras.Input`."""
    return keras.Input((), dtype="int32", name=name)


@keras.saving.register_keras_serializable(package="ganzoo")
class FeatureWiseAffine(keras.layers.Layer):
    """`x * gamma + beta`, one scale and offset per example and channel.

    Called on `[x, gamma, beta]`: `x` of shape (B, ..., C), `gamma` and `beta` of shape
    (B, C) (e.g. rows of class embeddings), broadcast over the axes between the batch
    and the channels. The affine step of conditional batch norm (and of FiLM).

    Examples:
    ```python
    y = ganzoo.layers.FeatureWiseAffine()([features, scales, offsets])  # features' shape
    ```
    """

    def call(self, inputs):
        x, gamma, beta = inputs
        # (B, C) -> (B, 1, ..., 1, C): the shape a Reshape((1, 1, C)) gives NHWC maps.
        kept = (ops.shape(gamma)[0],) + (1,) * (len(x.shape) - 2) + (gamma.shape[-1],)
        x = ops.multiply(x, ops.reshape(gamma, kept))
        return ops.add(x, ops.reshape(beta, kept))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def conditional_batch_norm(x, label, num_classes, name, *, norm_name=None, gamma_name=None,
                           beta_name=None, output_name=None):
    """Class-conditional batch norm: `BN(x) * gamma[label] + beta[label]`, per channel.

    The batch norm is synchronised across replicas (statistics of the global batch, so a
    step on N replicas equals a step on one device and the moving statistics stay the
    same everywhere) and has no scale or offset of its own; `gamma` (ones at first) and
    `beta` (zeros at first) are `Embedding(num_classes, channels)` tables.

    Args:
        x: Keras tensor (B, ..., C).
        label: Keras tensor (B,) of int class indices.
        num_classes: int. Rows of the two tables.
        name: str. Prefix of the layer names.
        norm_name, gamma_name, beta_name, output_name: str or None. Names of the batch
            norm, the scale and offset embeddings and the affine step; default to
            `{name}_bn`, `{name}_gamma`, `{name}_beta` and `{name}_shift`.

    Returns:
        Keras tensor of `x`'s shape.
    """
    channels = x.shape[-1]
    x = keras.layers.BatchNormalization(
        synchronized=True, center=False, scale=False, name=norm_name or f"{name}_bn"
    )(x)
    gamma = keras.layers.Embedding(num_classes, channels, embeddings_initializer="ones",
                                   name=gamma_name or f"{name}_gamma")(label)
    beta = keras.layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                                  name=beta_name or f"{name}_beta")(label)
    return FeatureWiseAffine(name=output_name or f"{name}_shift")([x, gamma, beta])


@keras.saving.register_keras_serializable(package="ganzoo")
class ClassProjection(keras.layers.Layer):
    """`<V[y], phi(x)>` of the projection discriminator: (B, D), (B, D) -> (B, 1).

    Called on `[class_embedding, features]`, the embedded labels and the features, both
    (B, D); returns their inner product per example, `sum(V[y] * phi(x))`, as a column.

    Examples:
    ```python
    term = ganzoo.layers.ClassProjection()([embedding(labels), features])  # (B, 1)
    ```
    """

    def call(self, inputs):
        class_embedding, features = inputs
        # One (1, D) x (D, 1) product per example (what keras.layers.Dot(axes=1) does).
        product = ops.matmul(ops.expand_dims(class_embedding, 1), ops.expand_dims(features, 2))
        return ops.squeeze(product, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)


def projection_logit(logit, features, label, embedding, *, name="projection",
                     output_name="logit", dtype=None):
    """`logit + <embedding(label), features>` (Miyato & Koyama 2018, eq. 3).

    Args:
        logit: Keras tensor (B, 1). The unconditional logit psi(phi(x)).
        features: Keras tensor (B, D). phi(x).
        label: Keras tensor (B,) of int class indices.
        embedding: layer mapping `label` to (B, D): an `Embedding(num_classes, D)`, bare
            or wrapped (e.g. in `SpectralNormalization`).
        name: str. Name of the `ClassProjection` layer. Defaults to "projection".
        output_name: str. Name of the sum. Defaults to "logit".
        dtype: dtype policy of the projection and the sum (e.g. "float32" to compute the
            logit in float32 under mixed precision). Defaults to the global policy.

    Returns:
        Keras tensor (B, 1).
    """
    projection = ClassProjection(dtype=dtype, name=name)([embedding(label), features])
    return keras.layers.Add(dtype=dtype, name=output_name)([logit, projection])
