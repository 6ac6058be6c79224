"""What class-conditional families share besides layers: label checks and seeded sampling.

`ClassConditional` is mixed into a family before `NoiseToImage`
(`class ConditionalGAN(ClassConditional, NoiseToImage)`). It gives the networks
`[latents, labels]` and `[images, labels]` in training, refusing data without labels in
one line, and draws seeded `[latents, labels]` for sampling, labels from the seed's
label stream unless given (`ganzoo._sampling`). A family whose conditioning is optional
(SAGAN with `num_classes`) sets `self.conditional` per instance; while it is False the
methods behave as `NoiseToImage`'s. The networks' conditioning layers are in
`ganzoo.layers.conditioning`.
"""

import tensorflow as tf

from ganzoo import _sampling, _validation


class ClassConditional:
    """Training and sampling inputs of families conditioned on class labels.

    Needs `self.conditional`, `self.num_classes` and `self.latent_dim`. Families set
    `no_labels_message`, the one line that refuses data without labels; `{num_classes}`
    in it is filled in.
    """

    no_labels_message = (
        "{family} trains on (images, labels) batches; the data has no labels: load it with "
        "ganzoo.data.load(..., labels=True)"
    )

    def _training_labels(self, labels):
        """The batch's labels as checked int32 class indices (`class_labels`); data
        without labels is one clear error."""
        if labels is None:
            raise ValueError(self.no_labels_message.format(
                family=self.family, num_classes=self.num_classes))
        return self.class_labels(labels)

    # Where the labels of a step's fakes come from: "data", the real batch's labels, or
    # "uniform", drawn uniformly over the classes (the projection discriminator paper's
    # sampling of y for G(z, y)); a family sets it (cgan: `compile(fake_labels=...)`).
    fake_label_source = "data"

    def fake_labels(self, batch_size, labels):
        """The labels a step makes its fakes for (see `fake_label_source`).

        Uniform labels are drawn for the global batch from one seed, the same on every
        replica, and each replica takes its rows, so a step on N replicas draws the same
        labels as one device for the same global batch.
        """
        if not self.conditional or self.fake_label_source == "data":
            return labels
        self._training_labels(labels)  # data without labels is still one clear error
        seed = tf.cast(self.noise_seeds.next(), tf.int64)
        context = tf.distribute.get_replica_context()
        replica_id = 0 if context is None else context.replica_id_in_sync_group
        offset = tf.cast(replica_id, tf.int32) * batch_size
        drawn = tf.random.stateless_uniform(
            [batch_size * self.num_replicas()], seed, minval=0, maxval=self.num_classes,
            dtype=tf.int32)
        return drawn[offset : offset + batch_size]

    def generator_inputs(self, batch_size, labels=None):
        """[latents, labels]: fresh latents for the real batch's labels."""
        if not self.conditional:
            return super().generator_inputs(batch_size, labels)
        return [self.sample_latents(batch_size), self._training_labels(labels)]

    def discriminator_inputs(self, images, labels):
        """[images, labels]."""
        if not self.conditional:
            return super().discriminator_inputs(images, labels)
        return [images, self._training_labels(labels)]

    def sampling_inputs(self, n, seed=None, labels=None, latents=None):
        """[latents, labels] for `n` seeded samples, as the runtime draws them (the given
        `latents` instead of the seed's, when given).

        `labels`: one int (every image of that class), `n` ints, or None (seeded uniform
        classes, from the seed's label stream).
        """
        if not self.conditional:
            return super().sampling_inputs(n, seed=seed, labels=labels, latents=latents)
        n = _validation.check_count(n)
        return [
            next(self.latent_rows(n, seed, n, latents)),
            _sampling.labels_for(n, self.num_classes, labels, seed),
        ]

    def sampling_batches(self, n, seed=None, labels=None, batch_size=256, latents=None):
        """The inputs of `sampling_inputs(n, seed, labels, latents)`, `batch_size` rows at a
        time."""
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{self.family} is unconditional; it takes no labels")
            yield from self.latent_rows(n, seed, batch_size, latents)
            return
        rows = self.latent_rows(n, seed, batch_size, latents)
        classes = _sampling.label_batches(n, self.num_classes, labels, seed, batch_size)
        for latent_rows, label_rows in zip(rows, classes):
            yield [latent_rows, label_rows]
