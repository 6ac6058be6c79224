"""Mixed precision (ganzoo.precision): every family trains under mixed_float16 and
mixed_bfloat16 with float32 variables and finite losses, float16 steps are loss-scaled
and an overflowing one is skipped, presets come out float32 and load into any policy, and
runs record their precision."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo import models, precision
from ganzoo.training import run as run_lib

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess

RNG = np.random.default_rng(0)


def images(n, shape):
    return RNG.uniform(-1, 1, (n, *shape)).astype("float32")


# family: (tiny constructor arguments, one training batch)
FAMILIES = {
    "gan": (dict(image_shape=(16, 16, 1), latent_dim=8, generator_units=(32,),
                 discriminator_units=(16,), maxout_pieces=2), lambda: images(4, (16, 16, 1))),
    "dcgan": (dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                   discriminator_filters=8), lambda: images(4, (16, 16, 1))),
    "cgan": (dict(num_classes=3, image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                  discriminator_filters=4),
             lambda: (images(4, (16, 16, 1)), np.array([0, 1, 2, 0], "int32"))),
    "wgan_gp": (dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                     discriminator_filters=8, n_critic=2), lambda: images(4, (16, 16, 1))),
    "sagan": (dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                   discriminator_filters=4, attention_resolution=8, attention_gamma_init=0.5),
              lambda: images(4, (16, 16, 1))),
    "stylegan_lite": (dict(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                           mapping_layers=2, channel_base=64, channel_max=8),
                      lambda: images(4, (16, 16, 1))),
    "cyclegan": (dict(image_shape=(16, 16, 1), filters=4, disc_filters=4, disc_layers=2,
                      blocks=1, pool_size=0),
                 lambda: (images(2, (16, 16, 1)), images(2, (16, 16, 1)))),
    "srgan": (dict(image_shape=(16, 16, 3), scale=4, filters=4, blocks=1, disc_filters=4,
                   pretrain_steps=0),
              lambda: (images(2, (4, 4, 3)), images(2, (16, 16, 3)))),
}


def build(family, policy):
    with precision.policy(policy):
        return models.get(family)(**FAMILIES[family][0], seed=1)


def test_every_family_is_covered():
    assert sorted(FAMILIES) == sorted(models.names())


def test_bad_precisions_and_devices_are_one_line():
    for bad in ("float16", "bfloat16", None):
        with pytest.raises(ValueError, match="precision must be one of float32, "
                                             "mixed_float16, mixed_bfloat16"):
            precision.check(bad)
    turing = [("Tesla T4", (7, 5))]
    with pytest.raises(ValueError, match=r"mixed_bfloat16 needs a GPU of compute capability "
                                         r"8.0 or more; Tesla T4 has 7.5"):
        precision.check_devices("mixed_bfloat16", gpus=turing)
    precision.check_devices("mixed_float16", gpus=turing)
    with pytest.raises(ValueError, match="mixed_float16 needs a GPU of compute capability 5.3"):
        precision.check_devices("mixed_float16", gpus=[("GTX 750", (5, 0))])
    precision.check_devices("mixed_bfloat16", gpus=[("A100", (8, 0))])
    precision.check_devices("mixed_bfloat16", gpus=[])  # CPUs run both
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", "digits", "--precision",
                                   "float8"])
    assert result.exit_code == 2 and "float8" in result.output


def test_the_policy_holds_only_while_models_are_built():
    assert precision.current() == "float32"
    gan = build("dcgan", "mixed_bfloat16")
    assert precision.current() == "float32"
    assert gan.precision == "mixed_bfloat16"
    assert gan.generator.get_layer(index=1).compute_dtype == "bfloat16"
    assert {v.dtype for v in gan.generator.weights + gan.discriminator.weights} == {"float32"}
    gan.compile()
    assert not isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)


def test_float16_wraps_every_optimizer_for_dynamic_loss_scaling():
    gan = build("dcgan", "mixed_float16")
    gan.compile()
    for optimizer in gan.optimizers().values():
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    given = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3))
    gan.compile(g_optimizer=given)
    assert gan.g_optimizer is given  # a hand-made one is kept, not wrapped twice
    assert build("dcgan", "float32").precision == "float32"


def test_a_float16_step_that_overflows_is_skipped_and_halves_the_scale():
    gan = build("dcgan", "mixed_float16")
    gan.compile()
    batch = tf.constant(images(4, (16, 16, 1)))
    gan.train_step(batch)  # a normal step moves the weights
    huge = 2.0**40
    for optimizer in gan.optimizers().values():
        optimizer.dynamic_scale.assign(huge)
    before = [v.numpy().copy() for v in gan.generator.weights + gan.discriminator.weights
              if v.trainable]
    logs = gan.train_step(batch)
    after = [v.numpy() for v in gan.generator.weights + gan.discriminator.weights
             if v.trainable]
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    for optimizer in gan.optimizers().values():
        assert float(optimizer.dynamic_scale.numpy()) == huge / 2


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_trains_saves_and_loads_in_float32_under_each_policy(family, policy,
                                                                          tmp_path):
    gan = build(family, policy)
    gan.compile()
    batch = tf.nest.map_structure(tf.constant, FAMILIES[family][1]())
    for _ in range(2):
        logs = gan.train_step(batch)
        assert all(np.isfinite(float(value)) for value in logs.values()), (family, logs)
    networks = gan.saved_networks()
    # The images and the logits leave every network in float32.
    assert {str(output.dtype) for network in networks.values()
            for output in network.outputs} == {"float32"}, family
    assert {v.dtype for network in networks.values() for v in network.weights} == {"float32"}
    folder = gan.save_to_preset(tmp_path / "preset")
    config = json.loads((folder / "config.json").read_text())
    assert "precision" not in json.dumps(config)
    loaded = models.load(folder)  # under the float32 policy
    assert loaded.precision == "float32"
    for name, network in loaded.saved_networks().items():
        for mine, theirs in zip(network.weights, networks[name].weights):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
    with precision.policy(policy):
        again = models.load(folder)
    assert again.precision == policy


def test_a_run_records_its_precision_and_resume_keeps_it(tmp_path):
    out = tmp_path / "run"
    planned = run_lib.plan_run("dcgan", "digits", out, steps=2, batch_size=8, image_size=16,
                               latent_dim=8, samples=4, precision="mixed_bfloat16",
                               model_options={"generator_filters": 8,
                                              "discriminator_filters": 8})
    seen = []

    class Peek(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append((self.model.precision, self.model.generator.compute_dtype))

    planned.train(callbacks=[Peek()], verbose=0)
    assert seen == [("mixed_bfloat16", "bfloat16")]
    assert json.loads((out / "run.json").read_text())["precision"] == \
        "mixed_bfloat16"
    loaded = models.load(out / "preset")
    assert loaded.precision == "float32"
    with pytest.raises(ValueError, match="precision='float32' differs from the run's "
                                         "'mixed_bfloat16'"):
        run_lib.plan_resume(out, precision="float32")
    result = ganzoo_cli_inprocess(["train", "dcgan", "--out", out, "--resume", "--precision",
                                   "mixed_float16"])
    assert_one_line_error(result, "differs from the run's 'mixed_bfloat16'")


@pytest.mark.slow
def test_a_bfloat16_step_on_two_replicas_equals_one_device_to_bfloat16_rounding(
        two_cpu_strategy):
    """One DCGAN SGD step (fed latents) on two replicas against one device, both under
    mixed_bfloat16. The same examples are computed in both, but every reduction over the
    batch (the weight gradients, the synchronised batch-norm statistics and their
    gradients, which reach every example's backward pass) is grouped 4 + 4 instead of 8,
    in a format that keeps 8 significant bits (unit roundoff 2^-9): measured, the
    generator's weights differ by 0.14 of the step, the discriminator's by 0.02 (the
    generator's gradient crosses both networks). The tolerance, 0.3 of the step, still
    catches a wrongly scaled or unsynchronised step, which is off by the whole step (1.0);
    in float32 the same check holds to 1e-5. Replicas hold equal copies."""
    from tests.models import family_helpers  # noqa: PLC0415  (test helpers)

    with precision.policy("mixed_bfloat16"):
        report = family_helpers.one_step_report(models.DCGAN, {**FAMILIES["dcgan"][0],
                                                               "seed": 1},
                                                two_cpu_strategy, learning_rate=0.1)
    weights = report["weights"]
    assert not {path for path, e in weights.items() if e["replica_spread"]}
    ratios = family_helpers.step_ratios(report)
    assert ratios[("generator", "trainable")] > 0  # bfloat16 does round differently
    assert max(ratios.values()) <= 0.3, ratios


@pytest.mark.slow
def test_a_float16_step_that_overflows_is_skipped_on_every_replica(two_cpu_strategy):
    with two_cpu_strategy.scope(), precision.policy("mixed_float16"):
        gan = models.DCGAN(**FAMILIES["dcgan"][0], seed=1)
    gan.compile()
    for optimizer in gan.optimizers().values():
        optimizer.dynamic_scale.assign(2.0**40)
    variables = [v for v in gan.generator.weights + gan.discriminator.weights if v.trainable]
    before = [v.numpy().copy() for v in variables]
    data = tf.data.Dataset.from_tensor_slices(images(8, (16, 16, 1))).batch(8)
    gan.fit(data, epochs=1, verbose=0)
    for variable, old in zip(variables, before):
        for copy in two_cpu_strategy.experimental_local_results(variable.value):
            np.testing.assert_array_equal(copy.numpy(), old, err_msg=variable.path)
    for optimizer in gan.optimizers().values():
        assert float(optimizer.dynamic_scale.numpy()) == 2.0**39
