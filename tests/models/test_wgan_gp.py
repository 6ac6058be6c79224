"""WGAN-GP (ganzoo.models.WGANGP): the shared family checks and the paper's own points.

Hand computations: for a linear critic f(x) = w.x + b the gradient at every interpolate is
w, so the logged penalty is lambda * (||w|| - 1)^2 whatever the interpolation weights; with
both learning rates 0 the logged losses are plain means of w.x + b over the chunks each
critic step takes.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import models

import family_helpers
from cli_helpers import assert_error_line, ganzoo as ganzoo_command, ganzoo_cli_inprocess

# Tiny constructor arguments for the shared family checks (tests/models/test_models.py's
# TINY table). n_critic=2 keeps the step small and splits a batch of 8 on two replicas.
TINY_WGAN_GP = dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                    discriminator_filters=8, n_critic=2)


def tiny(**overrides):
    return models.WGANGP(**{**TINY_WGAN_GP, "seed": 1, **overrides})


def random_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def _replica_id():
    context = tf.distribute.get_replica_context()
    return 0 if context is None else int(tf.get_static_value(context.replica_id_in_sync_group))


class FedInterpolationWGANGP(models.WGANGP):
    """Interpolation weights fed per replica: the k-th penalty of a step takes fixed global
    weights, rows `[replica_id * b, (replica_id + 1) * b)` for a per-replica chunk of b, so
    N replicas mix each real/fake pair with the weight one device uses for it."""

    def interpolation_weights(self, batch_size):
        replica_id = _replica_id()
        calls = self.__dict__.setdefault("_fed_interpolation_calls", {})
        call = calls.get(replica_id, 0)
        calls[replica_id] = call + 1
        # Row j of the global chunk gets weight j of this call's fixed sequence.
        weights = tf.constant(np.random.default_rng(100 + call).uniform(size=(256, 1, 1, 1)),
                              tf.float32)
        start = replica_id * batch_size
        return weights[start : start + batch_size]


# -- shapes, gradients, config, presets ----------------------------------------------------


def test_generator_makes_images_and_the_critic_unbounded_scores():
    gan = tiny()
    images = gan.generator(np.zeros((3, 8), "float32"))
    assert images.shape == (3, 16, 16, 1) and np.all(np.abs(images) <= 1.0)
    assert [layer.name for layer in gan.generator.inputs] == ["latent"]
    scores = gan.discriminator(images)
    assert scores.shape == (3, 1) and np.isfinite(scores).all()
    assert models.WGANGP(image_shape=(32, 32, 3), latent_dim=4, generator_filters=4,
                         discriminator_filters=4).generator.output_shape == (None, 32, 32, 3)


def test_critic_has_no_batch_norm_and_no_sigmoid():
    critic = tiny().discriminator
    kinds = {type(layer).__name__ for layer in critic.layers}
    assert "BatchNormalization" not in kinds
    assert "GroupNormalization" in kinds  # layer norm: statistics per example
    assert critic.layers[-1].get_config()["activation"] == "linear"
    # Scores are not squashed into (0, 1).
    big = critic.layers[-1]
    big.kernel.assign(np.full(big.kernel.shape, 50.0, "float32"))
    scores = critic(random_images(4)).numpy()
    assert np.abs(scores).max() > 1.0
    assert "GroupNormalization" not in {
        type(layer).__name__ for layer in tiny(layer_norm=False).discriminator.layers}


def test_a_train_step_updates_every_weight_with_n_critic_critic_steps():
    gan = tiny()  # n_critic=2
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    variables = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    before = {v.path: v.numpy().copy() for v in variables}
    # Eager steps: `fit` runs the same step (the direction and distribution checks below
    # go through `fit`).
    for batch in np.split(random_images(8), 2):
        logs = gan.train_step(tf.constant(batch))
    assert set(logs) == {"d_loss", "g_loss", "gp"}
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert [v.path for v in variables if np.array_equal(before[v.path], v.numpy())] == []
    # Two train steps: the critic's optimizer stepped n_critic times in each.
    assert int(gan.d_optimizer.iterations) == 2 * 2
    assert int(gan.g_optimizer.iterations) == 2


def test_config_round_trip_and_bad_arguments():
    gan = tiny(layer_norm=False)
    clone = models.WGANGP.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert gan.get_config()["n_critic"] == 2 and gan.get_config()["layer_norm"] is False
    for kwargs, message in [
        (dict(n_critic=0), "n_critic"), (dict(n_critic=2.5), "n_critic"),
        (dict(image_shape=(24, 24, 1)), "power-of-two"),
        (dict(layer_norm="yes"), "layer_norm must be True or False"),
    ]:
        with pytest.raises(ValueError, match=message):
            tiny(**kwargs)


def test_preset_round_trip_reproduces_both_networks(tmp_path):
    gan = tiny()
    gan.compile()
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    loaded = models.WGANGP.from_preset(path)
    assert loaded.get_config() == gan.get_config()
    latents = ganzoo._sampling.latents(4, 8, seed=0)
    np.testing.assert_allclose(loaded.generator(latents), gan.generator(latents), atol=1e-6)
    np.testing.assert_allclose(loaded.discriminator(random_images(2)),
                               gan.discriminator(random_images(2)), atol=1e-6)
    np.testing.assert_allclose(ganzoo.load_generator(path)(latents), gan.generator(latents),
                               atol=1e-6)


def test_test_step_reports_the_three_losses_without_training():
    gan = tiny()
    gan.compile()
    weights = [v.numpy().copy() for v in gan.generator.weights + gan.discriminator.weights]
    logs = gan.test_step(tf.constant(random_images(4)))
    assert set(logs) == {"d_loss", "g_loss", "gp"}
    assert all(np.isfinite(float(value)) for value in logs.values()) and float(logs["gp"]) > 0
    assert all(np.array_equal(a, v.numpy())
               for a, v in zip(weights, gan.generator.weights + gan.discriminator.weights))


# -- the paper's defaults ------------------------------------------------------------------


def test_compile_defaults_are_the_papers():
    gan = tiny()
    gan.compile()
    assert gan.loss_name == "wasserstein" and gan.gp_weight == 10.0
    assert models.WGANGP(image_shape=(16, 16, 1), generator_filters=4,
                         discriminator_filters=4).n_critic == 5
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(1e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    gan.compile(gp_weight=3)
    assert gan.gp_weight == 3.0
    with pytest.raises(ValueError, match="gp_weight must be a non-negative number"):
        gan.compile(gp_weight=-1.0)
    with pytest.raises(ValueError, match="Unknown compile options"):
        gan.compile(lambda_gp=10.0)


# -- the step, by hand ---------------------------------------------------------------------


def _linear_critic_model(n_critic, gp_weight=10.0, norm=2.5, seed=0):
    """A fed-latents WGAN-GP whose critic is f(x) = w.x + b with ||w|| = `norm`, both
    learning rates 0 (so neither network changes during the step)."""

    class LinearCritic(FedInterpolationWGANGP):
        def build_discriminator(self):
            images = keras.Input(self.image_shape, name="images")
            x = keras.layers.Flatten(name="flatten")(images)
            scores = keras.layers.Dense(1, name="score")(x)
            return keras.Model(images, scores, name="discriminator")

    gan = family_helpers.fed_latents(LinearCritic)(**{**TINY_WGAN_GP, "n_critic": n_critic},
                                                   seed=1)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((16 * 16, 1)).astype("float32")
    w *= norm / np.linalg.norm(w)
    b = np.float32(0.3)
    gan.discriminator.get_layer("score").set_weights([w, np.array([b])])
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), gp_weight=gp_weight)
    return gan, w, b


@pytest.mark.parametrize("gp_weight,norm", [(10.0, 2.5), (10.0, 0.4), (3.0, 1.7)])
def test_logged_gp_of_a_linear_critic_is_lambda_times_norm_minus_one_squared(gp_weight, norm):
    gan, w, _ = _linear_critic_model(n_critic=3, gp_weight=gp_weight, norm=norm)
    gan.latent_feed = family_helpers.latent_feed(4, 2, 8)
    logs = gan.train_step(tf.constant(random_images(6)))
    expected = gp_weight * (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(float(logs["gp"]), expected, rtol=1e-5)


def test_logged_losses_are_the_means_over_each_critic_steps_own_images():
    n_critic, chunk = 3, 2
    gan, w, b = _linear_critic_model(n_critic=n_critic)
    gan.latent_feed = family_helpers.latent_feed(n_critic + 1, chunk, 8, seed=5)
    images = random_images(n_critic * chunk, seed=3)
    logs = gan.train_step(tf.constant(images))

    def score(x):
        return x.reshape(len(x), -1) @ w[:, 0] + b

    def fake(k):  # batch-norm statistics of the batch: training=True as in the step
        return gan.generator(gan.latent_feed[k], training=True).numpy()

    # Critic step k: the real rows k, k + n_critic, ... and the k-th latent batch.
    d_losses = [score(fake(k)).mean() - score(images[k::n_critic]).mean()
                for k in range(n_critic)]
    np.testing.assert_allclose(float(logs["d_loss"]), np.mean(d_losses), rtol=1e-4)
    np.testing.assert_allclose(float(logs["g_loss"]), -score(fake(n_critic)).mean(), rtol=1e-4)


def test_each_critic_step_takes_its_own_chunk_of_the_batch():
    seen = []

    class Recording(models.WGANGP):
        def critic_step(self, real_images, labels=None):
            seen.append(real_images.numpy())
            return super().critic_step(real_images, labels)

    gan = Recording(**{**TINY_WGAN_GP, "n_critic": 4}, seed=1)
    gan.compile()
    images = random_images(12)
    gan.train_step(tf.constant(images))
    assert len(seen) == 4
    for k, chunk in enumerate(seen):
        np.testing.assert_array_equal(chunk, images[k::4])
    # Together the chunks are the batch, each image once.
    assert sorted(map(bytes, np.concatenate(seen))) == sorted(map(bytes, images))


def test_a_batch_that_does_not_split_into_n_critic_chunks_is_one_clear_error():
    gan = tiny(n_critic=5)
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(random_images(8)).batch(8, drop_remainder=True)
    with pytest.raises(ValueError, match=r"n_critic=5 equal chunks.*a batch of 8 does not "
                                         r"split evenly: use a batch size that is a "
                                         r"multiple of 5"):
        gan.fit(data, epochs=1, verbose=0)


@pytest.mark.slow
def test_an_uneven_batch_known_only_when_the_step_runs_is_the_same_error():
    gan = tiny(n_critic=3)
    gan.compile()
    # Batches of 6, then 4: the batch size is unknown when the step is traced.
    data = tf.data.Dataset.from_tensor_slices(random_images(10)).batch(6)
    with pytest.raises(ValueError, match=r"n_critic=3 equal chunks.*a batch of the data does "
                                         r"not split evenly.*drop_remainder=True"):
        gan.fit(data, epochs=1, verbose=0)


# -- the shared family checks --------------------------------------------------------------


def test_critic_learns_real_above_fake_and_generator_raises_fake_scores():
    family_helpers.check_direction(FedInterpolationWGANGP, {**TINY_WGAN_GP, "seed": 1})


def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    report = family_helpers.check_equal_weights_under_distribution(
        FedInterpolationWGANGP, {**TINY_WGAN_GP, "seed": 1}, two_cpu_strategy,
        learning_rate=0.1,
    )
    assert set(report["single_logs"]) == {"d_loss", "g_loss", "gp"}


# -- end to end ----------------------------------------------------------------------------

TINY_TRAIN_WGAN_GP = ["--data", "digits", "--image-size", "16", "--batch-size", "32",
                      "--latent-dim", "8", "--model-option", "generator_filters=8",
                      "--model-option", "discriminator_filters=8",
                      "--model-option", "n_critic=2", "--samples", "16"]


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


def test_cli_refuses_a_batch_size_that_does_not_split_into_critic_steps(tmp_path):
    result = ganzoo_cli_inprocess(
        ["train", "wgan_gp", *TINY_TRAIN_WGAN_GP[:4], "--batch-size", "32", "--steps", "1",
         "--model-option", "generator_filters=4", "--model-option", "discriminator_filters=4",
         "--out", tmp_path / "run"])
    assert_error_line(result, "n_critic=5 equal chunks")


def test_preset_sample_export_and_bundle_sample_agree_in_process(tmp_path):
    preset = tiny().save_to_preset(tmp_path / "preset", data="digits")
    for args in (["sample", preset, "-n", "9", "--seed", "3", "--out", tmp_path / "keras.png"],
                 ["export", preset, "--format", "onnx", "--out", tmp_path / "bundle"],
                 ["sample", tmp_path / "bundle", "-n", "9", "--seed", "3",
                  "--out", tmp_path / "onnx.png"]):
        result = ganzoo_cli_inprocess(args)
        assert result.exit_code == 0, result.output
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["family"] == "wgan_gp"
    assert [(i["name"], i["role"]) for i in metadata["inputs"]] == [("latent", "latent")]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    keras_grid, onnx_grid = read_png(tmp_path / "keras.png"), read_png(tmp_path / "onnx.png")
    assert keras_grid.shape == onnx_grid.shape
    assert np.abs(keras_grid - onnx_grid).max() <= 1


@pytest.mark.slow
def test_train_sample_export_and_sample_the_bundle(tmp_path):
    run = tmp_path / "run"
    ganzoo_command("train", "wgan_gp", *TINY_TRAIN_WGAN_GP, "--steps", "6", "--out", run)
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "wgan_gp" and config["config"]["n_critic"] == 2
    history = (run / "history.csv").read_text().splitlines()
    assert {"d_loss", "g_loss", "gp"} <= set(history[0].split(","))

    ganzoo_command("sample", run, "-n", "16", "--seed", "3", "--out", tmp_path / "keras.png")
    result = ganzoo_command("export", run, "--format", "onnx", "--out", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["family"] == "wgan_gp"
    assert metadata["parity"]["max_abs_diff"] <= 1e-4, result.stdout
    ganzoo_command("sample", tmp_path / "bundle", "-n", "16", "--seed", "3",
                   "--out", tmp_path / "onnx.png")
    keras_grid, onnx_grid = read_png(tmp_path / "keras.png"), read_png(tmp_path / "onnx.png")
    assert keras_grid.shape == onnx_grid.shape
    assert np.abs(keras_grid - onnx_grid).max() <= 1
    assert keras_grid.std() > 0
