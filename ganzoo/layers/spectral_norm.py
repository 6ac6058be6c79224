"""Spectral normalisation (Miyato et al. 2018, https://arxiv.org/abs/1802.05957).

`SpectralNormalization(layer)` wraps a `Dense`, a convolution (`Conv1D`, `Conv2D`,
`Conv3D`) or an `Embedding` and runs it with its kernel divided by the kernel's largest
singular value: W_SN = W / sigma(W). sigma is estimated by power iteration with a vector u
kept between calls, one iteration per training call as in the paper: the kernel, reshaped
to a matrix W of shape (fan_in, units), gives v = normalise(W u), u' = normalise(W^T v),
and sigma = ||W u'|| = v'^T W u' (v' = normalise(W u')). u' is a constant for the gradient
(Miyato et al., eq. 12: the gradient goes through sigma's dependence on W, u and v fixed).

Why not `keras.layers.SpectralNormalization` (Keras 3.15): in every training call it
overwrites the wrapped layer's trainable kernel with W / sigma instead of computing W_SN
from W. So (1) the gradient does not go through sigma, unlike the paper; (2) a forward pass
changes trainable weights outside the optimizer, so a discriminator called in the
generator's step (its weights meant to stay fixed) is rescaled, and Adam's moments refer
to a kernel that has since been rescaled; (3) inference uses the raw kernel, which the last
optimizer step left unnormalised; (4) its vector u has aggregation "none": under
`MirroredStrategy` each replica assigns its own copy in replica context, so the copies are
equal only as long as every replica happens to compute the same numbers.

Here the wrapped kernel is never assigned: only u changes, and only in training calls.
u is created with aggregation "only_first_replica": under a `tf.distribute` strategy
the first replica's new u is written to every replica's copy, so the copies stay identical
by construction (every replica computes the same u anyway, from the same kernel). At
inference (training=False) the stored u gives sigma without updating it, so a generator's
output does not depend on how often it was called.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganzoo")
class SpectralNormalization(keras.layers.Wrapper):
    """Runs `layer` with its kernel divided by the kernel's spectral norm.

    Args:
        layer: `keras.layers.Layer`. A `Dense`, `Conv1D`/`Conv2D`/`Conv3D` or `Embedding`
            (not built yet, or built).
        power_iterations: int. Power iterations per training call. Defaults to 1 as in
            the paper.
        epsilon: float. Guards the normalisations against division by zero. Defaults to
            1e-12.
        **kwargs: base layer arguments (`name`, ...).

    Examples:
    ```python
    conv = ganzoo.layers.SpectralNormalization(keras.layers.Conv2D(64, 3, padding="same"))
    features = conv(images, training=True)  # one power iteration, u updated
    conv.normalized_kernel()  # W / sigma(W) with the current estimate
    ```
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(layer, _SUPPORTED):
            raise ValueError(
                "SpectralNormalization wraps Dense, Conv1D, Conv2D, Conv3D or Embedding "
                f"layers. Received: layer={type(layer).__name__}"
            )
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) \
                or power_iterations < 1:
            raise ValueError(
                "power_iterations must be a positive integer. "
                f"Received: power_iterations={power_iterations!r}"
            )
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon!r}")
        self.power_iterations = power_iterations
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        super().build(input_shape)
        kernel = self._kernel_variable()
        self.vector_u = self.add_weight(
            shape=(kernel.shape[-1],),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            # Every replica computes the same u; the first replica's is kept everywhere.
            aggregation="only_first_replica",
            name="vector_u",
        )

    def _kernel_variable(self):
        if isinstance(self.layer, keras.layers.Embedding):
            return self.layer.embeddings
        return self.layer.kernel

    def _normalize(self, vector):
        return vector * ops.rsqrt(ops.maximum(ops.sum(ops.square(vector)), self.epsilon))

    def normalized_kernel(self, training=False):
        """W / sigma(W); in training, `power_iterations` iterations first update u."""
        kernel = self._kernel_variable()
        weights = ops.reshape(ops.cast(kernel, "float32"), (-1, kernel.shape[-1]))
        vector_u = ops.cast(self.vector_u, "float32")
        if training:
            frozen = ops.stop_gradient(weights)
            for _ in range(self.power_iterations):
                vector_v = self._normalize(ops.matmul(frozen, vector_u))
                vector_u = self._normalize(ops.matmul(ops.transpose(frozen), vector_v))
            vector_u = ops.stop_gradient(vector_u)
            self.vector_u.assign(vector_u)
        # sigma = v^T W u with v = W u / ||W u||, i.e. ||W u||; its gradient is v u^T.
        sigma = ops.sqrt(ops.maximum(ops.sum(ops.square(ops.matmul(weights, vector_u))),
                                     self.epsilon))
        return ops.reshape(weights / sigma, kernel.shape)

    def call(self, inputs, training=False):
        kernel = ops.cast(self.normalized_kernel(training=bool(training)),
                          self.layer.compute_dtype)
        layer = self.layer
        if isinstance(layer, keras.layers.Embedding):
            if inputs.dtype not in ("int32", "int64"):
                inputs = ops.cast(inputs, "int32")
            return ops.take(kernel, inputs, axis=0)
        inputs = ops.cast(inputs, layer.compute_dtype)
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
            bias_shape = (layer.units,)
        else:
            outputs = layer.convolution_op(inputs, kernel)
            bias_shape = ((1,) * (layer.rank + 1) + (layer.filters,)
                          if layer.data_format == "channels_last"
                          else (1, layer.filters) + (1,) * layer.rank)
        if layer.bias is not None:
            outputs = ops.add(outputs, ops.reshape(layer.bias, bias_shape))
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"power_iterations": self.power_iterations, "epsilon": self.epsilon})
        return config


_SUPPORTED = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Embedding,
)
