"""Mixed precision (ganzoo.precision): every family trains under mixed_float16 and
mixed_bfloat16 with float32 variables and finite losses, float16 steps are loss-scaled
and an overflowing one is skipped, presets come out float32 and load into any policy, and
runs record their precision."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo import export, models, precision
from ganzoo.training import checkpoints
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


class _Logs(keras.callbacks.Callback):
    """Keeps every batch's logs as floats; plants an overflow before batch `overflow_at`
    (a loss scale float16 gradients overflow at)."""

    def __init__(self, overflow_at=None):
        super().__init__()
        self.overflow_at, self.batches = overflow_at, []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.overflow_at:
            for optimizer in self.model.optimizers().values():
                optimizer.dynamic_scale.assign(2.0**40)

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append({name: float(np.asarray(value).reshape(-1)[0])
                             for name, value in logs.items()})


def test_skipped_float16_steps_are_counted_and_left_out_of_the_losses():
    gan = build("dcgan", "mixed_float16")
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(images(12, (16, 16, 1))).batch(4)
    seen = _Logs(overflow_at=2)
    gan.fit(data, epochs=1, verbose=0,
            callbacks=[seen, checkpoints.NonFiniteGuard("never raised")])
    first, second, third = seen.batches
    assert [logs["skipped_steps"] for logs in seen.batches] == [0.0, 0.0, 1.0]
    assert first["g_optimizer_loss_scale"] == first["d_optimizer_loss_scale"] == 2.0**15
    assert third["g_optimizer_loss_scale"] == third["d_optimizer_loss_scale"] == 2.0**39
    # The skipped step added nothing to the epoch's mean losses.
    assert third["d_loss"] == second["d_loss"] and third["g_loss"] == second["g_loss"]
    plain = build("dcgan", "float32")
    plain.compile()
    assert "skipped_steps" not in [metric.name for metric in plain.metrics]


def test_a_float16_step_whose_losses_overflow_is_skipped_not_a_divergence():
    """A step whose forward pass overflows float16 (its losses are NaN) is skipped by
    the loss scaling and must not stop training; a model that overflows on every step,
    whatever the scale, has diverged."""
    gan = build("dcgan", "mixed_float16")
    gan.compile()
    kernel = gan.discriminator.trainable_weights[0]
    saved = kernel.numpy()
    data = tf.data.Dataset.from_tensor_slices(images(8, (16, 16, 1))).batch(4)

    class BlowUpOnce(_Logs):
        def on_train_batch_begin(self, batch, logs=None):
            kernel.assign(saved * (1e6 if batch == 0 else 1.0))

    seen = BlowUpOnce()
    gan.fit(data.take(1), epochs=1, verbose=0)  # traced and stepped once, fine
    kernel.assign(saved)
    gan.fit(data, epochs=1, verbose=0, callbacks=[seen, checkpoints.NonFiniteGuard()])
    assert seen.batches[0]["skipped_steps"] == 1.0
    assert all(np.isfinite(value) for logs in seen.batches for value in logs.values())

    kernel.assign(saved * 1e6)  # now every step overflows
    forever = tf.data.Dataset.from_tensor_slices(images(4, (16, 16, 1))).batch(4).repeat(40)
    with pytest.raises(checkpoints.TrainingDiverged,
                       match=r"loss_scale=0\.5: float16 gradients overflow even unscaled"):
        gan.fit(forever, epochs=1, verbose=0, callbacks=[checkpoints.NonFiniteGuard()])


def test_a_skipped_float16_step_leaves_the_ema_generator_and_statistics_as_they_were():
    gan = build("stylegan_lite", "mixed_float16")
    gan.compile()
    batch = tf.constant(images(4, (16, 16, 1)))
    skipped = float(gan.train_step(batch)["skipped_steps"])
    kept = gan.network_statistics() + gan.generator_ema.weights
    assert any("w_avg" in variable.path for variable in gan.network_statistics())
    before = [variable.numpy().copy() for variable in kept]
    for optimizer in gan.optimizers().values():
        optimizer.dynamic_scale.assign(2.0**40)
    logs = gan.train_step(batch)
    assert float(logs["skipped_steps"]) == skipped + 1
    for variable, old in zip(kept, before):
        np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.path)


def test_stylegan_clips_its_float16_activations_as_stylegan2_ada():
    kwargs = {**FAMILIES["stylegan_lite"][0], "seed": 1}
    plain = models.StyleGANLite(**kwargs)
    assert "conv_clamp" not in plain.get_config()  # float32 configs stay as they were
    with precision.policy("mixed_float16"):
        half = models.StyleGANLite(**kwargs)
        unclipped = models.StyleGANLite(**kwargs, conv_clamp=0)
    assert half.get_config()["conv_clamp"] == 256.0
    assert unclipped.get_config()["conv_clamp"] == 0
    synthesis = half.parts(half.generator)[2]
    clipped = {layer.name for network in (synthesis, half.discriminator)
               for layer in network.layers if getattr(layer, "clamp", None) == 256.0}
    assert {"b4_conv_act", "b16_conv1_act", "b16_torgb_bias", "from_rgb", "d16_conv0",
            "d4_conv"} <= clipped
    assert not any(getattr(layer, "clamp", None) for network in (
        unclipped.parts(unclipped.generator)[2], plain.discriminator) for layer in network.layers)
    # An activation beyond float16's range (65504) is clipped: finite images, where
    # the same model without the clip draws Inf or NaN.
    for model, finite in ((half, True), (unclipped, False)):
        bias = model.parts(model.inference_generator())[2].get_layer("b16_conv0_act").bias
        bias.assign(np.full(bias.shape, 1e5, "float32"))
        drawn = model.generate(4, seed=0, batch_size=4)
        assert np.all(np.isfinite(drawn)) == finite
    loaded = models.StyleGANLite.from_config(half.get_config())  # float32 policy
    assert loaded.get_config()["conv_clamp"] == 256.0
    with pytest.raises(ValueError, match="conv_clamp must be a non-negative number"):
        models.StyleGANLite(**kwargs, conv_clamp=-1)


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_trains_saves_loads_and_exports_in_float32_under_each_policy(
        family, policy, tmp_path):
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
    # The float32 preset exports with parity (the check raises above 1e-4); the graph is
    # float32 whatever the model trained in.
    for generator in loaded.generator_names():
        bundle = export.to_onnx(loaded, tmp_path / f"onnx-{generator}", generator=generator,
                                optimize=False)
        assert bundle["parity"]["max_abs_diff"] <= 1e-4, (family, generator)
        assert bundle["fp16"] is False


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
    # Every weight, the batch-norm statistics the forward pass moved included.
    variables = gan.generator.weights + gan.discriminator.weights
    assert gan.network_statistics()
    before = [v.numpy().copy() for v in variables]
    data = tf.data.Dataset.from_tensor_slices(images(8, (16, 16, 1))).batch(8)
    history = gan.fit(data, epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [1.0]  # counted once, not per replica
    assert history.history["g_optimizer_loss_scale"] == [2.0**39]
    for variable, old in zip(variables, before):
        for copy in two_cpu_strategy.experimental_local_results(variable.value):
            np.testing.assert_array_equal(copy.numpy(), old, err_msg=variable.path)
    for optimizer in gan.optimizers().values():
        assert float(optimizer.dynamic_scale.numpy()) == 2.0**39
