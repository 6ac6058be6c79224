"""Checks every ganzoo family passes, shared by the family tests.

Each takes a family class and tiny, deterministic constructor arguments (no dropout);
tests/models/test_models.py runs them over every registered family:

- `check_direction`: the discriminator learns to score real images above generated ones,
  and the generator learns to raise the discriminator's score of its images;
- `check_equal_weights_under_distribution`: one `fit` step with `keras.optimizers.SGD` on
  several replicas leaves the same weights (trainable and moving statistics) as one step on
  one device for the same global batch and the same latents, the moving statistics are
  identical on every replica, and the logged losses are the single-device ones.

Both feed the latents themselves through `fed_latents`, a subclass of the family whose
`sample_latents` slices fixed global latent batches by replica id, so that a run on
several replicas sees exactly the latents one device sees. A family that draws further
noise in its step (interpolation weights, per-layer noise) feeds it the same way in its
own test subclass, passed here as `family_cls`.
"""

import keras
import numpy as np
import tensorflow as tf

# One step on several replicas must leave each network's weights within this fraction of
# the step size (the largest change one device's step makes to that network's trainable
# weights; to its moving statistics, for those) of one device's result.
RELATIVE_TOLERANCE = 1e-5


def digits(n, image_shape, seed=0):
    """`n` scikit-learn digits in [-1, 1], resized (and tiled to 3 channels) to `image_shape`."""
    from sklearn.datasets import load_digits

    images = load_digits().images.astype("float32")
    order = np.random.default_rng(seed).permutation(len(images))[:n]
    images = images[order, :, :, None] / 8.0 - 1.0
    images = tf.image.resize(images, image_shape[:2]).numpy()
    return np.repeat(images, image_shape[2], axis=-1) if image_shape[2] > 1 else images


def _replica_id():
    context = tf.distribute.get_replica_context()
    if context is None:
        return 0
    return int(tf.get_static_value(context.replica_id_in_sync_group))


def fed_latents(family_cls):
    """A subclass of `family_cls` whose latents are fixed global batches, sliced per replica.

    Set `model.latent_feed` to a list of arrays `(global_batch, latent_dim)`. The k-th call
    of `sample_latents` in a traced step takes `latent_feed[k % len(latent_feed)]`, rows
    `[replica_id * b, (replica_id + 1) * b)` for a per-replica batch of b: replica 0 gets
    the first rows, as it gets the first images of a global batch. On one device it is the
    whole array.
    """

    class FedLatents(family_cls):
        latent_feed = None

        def sample_latents(self, batch_size):
            replica_id = _replica_id()
            # Calls are counted per replica: MirroredStrategy traces each replica's step
            # in its own thread.
            calls = self.__dict__.setdefault("_fed_latent_calls", {})
            call = calls.get(replica_id, 0)
            calls[replica_id] = call + 1
            latents = tf.constant(self.latent_feed[call % len(self.latent_feed)], tf.float32)
            start = replica_id * batch_size
            return latents[start : start + batch_size]

    FedLatents.__name__ = f"FedLatents{family_cls.__name__}"
    return FedLatents


def latent_feed(count, global_batch, latent_dim, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((global_batch, latent_dim)).astype("float32")
            for _ in range(count)]


def build_fed(family_cls, kwargs, global_batch, strategy=None, feed_seed=0):
    """A fed-latents model of the family built under `strategy` (or the default one)."""
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = fed_latents(family_cls)(**kwargs)
    if model.latent_dim is not None:
        model.latent_feed = latent_feed(2, global_batch, model.latent_dim, seed=feed_seed)
    return model


def _networks(model):
    """Every network the model saves (extra networks and the EMA generator too)."""
    return list(model.saved_networks().values())


def _network_weights(model):
    """{"<network attribute>/<path>": variable} over every network's weights, moving
    statistics and EMA copies too."""
    return {f"{name}/{variable.path}": variable
            for name, network in model.saved_networks().items()
            for variable in network.weights}


def _values(model):
    return {path: v.numpy().copy() for path, v in _network_weights(model).items()}


def _logs(logs):
    return {name: float(np.asarray(value).reshape(-1)[0]) for name, value in logs.items()}


def _augment(augment):
    """A fresh augmentation for each model: `augment` is a spec or a factory."""
    return augment() if callable(augment) else augment


def one_step_report(family_cls, kwargs, strategy, learning_rate=1.0, global_batch=8,
                    seed=0, make_batch=None, augment=None):
    """One SGD step on one device and one `fit` step on `strategy`, same weights and data.

    The global batch is `global_batch` digits (or `make_batch(digits)`: paired batches
    such as (low-res, high-res)); both runs take the same fed latents. The
    learning rate is large so that the step dwarfs float32 rounding of the weights.
    `augment` (a spec or a factory of `ganzoo.augment` objects) goes to both `compile`s.
    Returns
    a dict with, per weight path: `difference` (max |w_replicas - w_one_device|), `step`
    (max |w_one_device - w_before|), `trainable`, `replica_spread` (max difference between
    the replicas' copies); the logs of both runs (`single_logs`, `replica_logs`); and the
    augmentation states after the step (`augment_states`: one device, replicas).
    """
    images = digits(global_batch, kwargs["image_shape"], seed=seed)
    keras.utils.set_random_seed(seed)
    single = build_fed(family_cls, kwargs, global_batch, feed_seed=seed)
    before = _values(single)
    replicated = build_fed(family_cls, kwargs, global_batch, strategy=strategy,
                           feed_seed=seed)
    for path, variable in _network_weights(replicated).items():
        variable.assign(before[path])

    # The one-device reference runs the step eagerly: the same code, without tracing.
    single.compile(augment=_augment(augment),
                   **{name: keras.optimizers.SGD(learning_rate)
                      for name in single.optimizer_names})
    batch = make_batch(images) if make_batch else tf.constant(images)
    single_logs = _logs(single.train_step(batch))

    with strategy.scope():
        optimizers = {name: keras.optimizers.SGD(learning_rate)
                      for name in replicated.optimizer_names}
    replicated.compile(augment=_augment(augment), **optimizers)
    if make_batch:
        data = tf.data.Dataset.from_tensors(make_batch(images))
    else:
        data = tf.data.Dataset.from_tensor_slices(images).batch(global_batch)
    history = replicated.fit(data, epochs=1, verbose=0)
    replica_logs = {name: values[-1] for name, values in history.history.items()}

    after = _values(single)
    trainable = {id(v) for network in _networks(single) for v in network.trainable_variables}
    weights = {}
    for (path, variable), single_variable in zip(
            _network_weights(replicated).items(), _network_weights(single).values()):
        copies = [np.asarray(c) for c in strategy.experimental_local_results(variable.value)]
        weights[path] = dict(
            difference=float(np.max(np.abs(copies[0] - after[path]))),
            step=float(np.max(np.abs(after[path] - before[path]))),
            trainable=id(single_variable) in trainable,
            replica_spread=max(float(np.max(np.abs(c - copies[0]))) for c in copies),
        )
    augment_states = [None if m.augmentation is None else m.augmentation.get_state()
                      for m in (single, replicated)]
    return dict(weights=weights, single_logs=single_logs, replica_logs=replica_logs,
                replicas=strategy.num_replicas_in_sync, augment_states=augment_states)


def step_ratios(report):
    """{(network, "trainable" | "statistics"): max difference / max step} over a group.

    A group is one network's trainable weights (the SGD step) or its other weights (batch
    norm moving statistics, whose step is the momentum update).
    """
    groups = {}
    for path, entry in report["weights"].items():
        key = (path.split("/")[0], "trainable" if entry["trainable"] else "statistics")
        difference, step = groups.get(key, (0.0, 0.0))
        groups[key] = (max(difference, entry["difference"]), max(step, entry["step"]))
    return {key: difference / step for key, (difference, step) in groups.items()}


def check_equal_weights_under_distribution(family_cls, kwargs, strategy, **options):
    """One SGD step on `strategy`'s replicas equals one step on one device.

    For each network, trainable weights and moving statistics apart: max |w_replicas -
    w_one_device| <= RELATIVE_TOLERANCE * max |w_one_device - w_before|. Every weight moves,
    every replica holds the same copy, and the logged losses are the one-device ones.
    """
    report = one_step_report(family_cls, kwargs, strategy, **options)
    assert report["replicas"] > 1
    weights = report["weights"]
    unmoved = [path for path, entry in weights.items() if entry["step"] == 0]
    assert not unmoved, f"one SGD step left these weights unchanged: {unmoved}"
    diverged = {path: e["replica_spread"] for path, e in weights.items() if e["replica_spread"]}
    assert not diverged, f"replicas hold different copies of: {diverged}"
    for group, ratio in step_ratios(report).items():
        worst = max((p for p in weights if p.startswith(group[0] + "/")
                     and weights[p]["trainable"] == (group[1] == "trainable")),
                    key=lambda p: weights[p]["difference"])
        assert ratio <= RELATIVE_TOLERANCE, (
            f"{' '.join(group)}: {report['replicas']} replicas differ from one device by "
            f"{ratio:.3g} of the step size (tolerance {RELATIVE_TOLERANCE}); worst: {worst}"
        )
    for name, value in report["single_logs"].items():
        np.testing.assert_allclose(report["replica_logs"][name], value, rtol=1e-5,
                                   err_msg=f"logged {name} under {report['replicas']} replicas")
    return report


def _mean_logits(model, data):
    """(mean real logit, mean fake logit) as the training step sees them (training=True)."""
    if model.task == "image_to_image":
        # The generator maps the inputs; the discriminator judges the targets against it.
        inputs, targets = model.unpack_pair(data)
        real_logits = model.discriminator(targets, training=True)
        fake_logits = model.discriminator(model.generator(inputs, training=True),
                                          training=True)
        return float(tf.reduce_mean(real_logits)), float(tf.reduce_mean(fake_logits))
    real_images, labels = model.unpack_batch(data)
    batch_size = tf.shape(real_images)[0]
    fake_images = model.generator(model.generator_inputs(batch_size, labels), training=True)
    real_logits = model.discriminator(model.discriminator_inputs(real_images, labels),
                                      training=True)
    fake_logits = model.discriminator(model.discriminator_inputs(fake_images, labels),
                                      training=True)
    return float(tf.reduce_mean(real_logits)), float(tf.reduce_mean(fake_logits))


def _trainable_values(network):
    return [v.numpy().copy() for v in network.trainable_variables]


def direction_report(family_cls, kwargs, steps=5, batch_size=16, learning_rate=1e-3,
                     seed=0):
    """Mean logits around a few `fit` steps of each network while the other is fixed.

    One fixed batch of digits and one fixed latent batch make the run deterministic. Both
    optimizers are Adam(`learning_rate`); a network is fixed by setting its optimizer's
    learning rate to 0. First the discriminator trains `steps` steps with the generator
    fixed, then the generator trains `steps` steps with the discriminator fixed.
    Returns {"discriminator": ((real, fake) before, (real, fake) after), "generator": ...}
    of mean logits as the training step sees them (training=True), and "fixed_moved":
    the fixed network's trainable weights changed (they must not).
    """
    images = tf.constant(digits(batch_size, kwargs["image_shape"], seed=seed))
    keras.utils.set_random_seed(seed)
    model = fed_latents(family_cls)(**kwargs)
    if model.latent_dim is not None:
        model.latent_feed = latent_feed(1, batch_size, model.latent_dim, seed=seed)
    model.compile(g_optimizer=keras.optimizers.Adam(learning_rate),
                  d_optimizer=keras.optimizers.Adam(learning_rate))
    data = tf.data.Dataset.from_tensors(images).repeat(steps)
    phases = (("discriminator", model.generator, model.g_optimizer, model.d_optimizer),
              ("generator", model.discriminator, model.d_optimizer, model.g_optimizer))
    report = {"fixed_moved": []}
    for trained, fixed_network, fixed_optimizer, trained_optimizer in phases:
        fixed_optimizer.learning_rate = 0.0
        trained_optimizer.learning_rate = learning_rate
        fixed_before = _trainable_values(fixed_network)
        before = _mean_logits(model, images)
        # `fit` traces the step once and reuses it for the second phase.
        model.fit(data, epochs=1, verbose=0)
        report[trained] = (before, _mean_logits(model, images))
        if any(not np.array_equal(a, b)
               for a, b in zip(fixed_before, _trainable_values(fixed_network))):
            report["fixed_moved"].append(fixed_network.name)
    return report


def check_direction(family_cls, kwargs, **options):
    """Discriminator steps separate real from fake; generator steps raise the fake logits."""
    report = direction_report(family_cls, kwargs, **options)
    assert not report["fixed_moved"], f"fixed networks moved: {report['fixed_moved']}"
    (real_before, fake_before), (real_after, fake_after) = report["discriminator"]
    margin_before, margin_after = real_before - fake_before, real_after - fake_after
    assert margin_after > 0 and margin_after > margin_before, (
        "discriminator steps with the generator fixed must put the mean real logit above "
        f"the mean fake logit and widen the margin. Received: margin {margin_before:.4g} "
        f"-> {margin_after:.4g}"
    )
    (_, fake_before), (_, fake_after) = report["generator"]
    assert fake_after > fake_before, (
        "generator steps with the discriminator fixed must raise the mean fake logit. "
        f"Received: {fake_before:.4g} -> {fake_after:.4g}"
    )
    return report
