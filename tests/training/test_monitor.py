"""EvaluateEvery (quality while training, best checkpoint) and HealthMonitor (warnings)."""

import csv
import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from ganzoo import training
from ganzoo.metrics import evaluation
from ganzoo.training import monitor as monitor_lib
from ganzoo.training.monitor import EvaluateEvery, HealthMonitor, HealthWarning

SIZE = 16


def tiny_dcgan(seed=0):
    gan = ganzoo.models.DCGAN(image_shape=(SIZE, SIZE, 1), latent_dim=8, generator_filters=8,
                              discriminator_filters=8, seed=seed)
    gan.compile()
    return gan


def digits(size=SIZE, batch_size=32, repeat=False):
    return ganzoo.data.load("digits", image_size=size, batch_size=batch_size, seed=0,
                            repeat=repeat)


def real_batch(size=SIZE, n=64):
    return next(iter(ganzoo.data.load("digits", image_size=size, batch_size=n, seed=1)))


@pytest.fixture(scope="module")
def extractor():
    return ganzoo.metrics.get_extractor("digits")


class CountingExtractor(ganzoo.metrics.FeatureExtractor):
    """The digits extractor, counting the images it is given."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.weights = inner.name, inner.weights
        self.input_size, self.feature_dim = inner.input_size, inner.feature_dim
        self.num_classes = inner.num_classes
        self.images_seen = 0

    def __call__(self, images):
        self.images_seen += len(images)
        return self.inner(images)

    def features_and_probabilities(self, images):
        self.images_seen += len(images)
        return self.inner.features_and_probabilities(images)


class Scripted(EvaluateEvery):
    """EvaluateEvery whose measurements give scripted figures (best-checkpoint logic)."""

    def __init__(self, values, **kwargs):
        super().__init__(**kwargs)
        self.values = list(values)

    def _reference(self):
        return {}

    def _figures(self, reference):
        return {"fid": float(self.values.pop(0))}


def health_warnings(caught):
    return [str(w.message) for w in caught if issubclass(w.category, HealthWarning)]


def drive(callback, model, logs_per_step, steps_per_epoch=1000, initial_epoch=0):
    """Call a callback as `fit` would, one batch per entry of `logs_per_step`."""
    callback.set_model(model)
    callback.set_params({"epochs": initial_epoch + 1, "steps": steps_per_epoch, "verbose": 0})
    callback.on_train_begin()
    callback.on_epoch_begin(initial_epoch)
    for batch, logs in enumerate(logs_per_step):
        callback.on_train_batch_end(batch, dict(logs))


def tensorboard_scalars(folder):
    scalars = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor))
                scalars.setdefault(value.tag, []).append((event.step, number))
    return scalars


# -- EvaluateEvery ------------------------------------------------------------------------


def test_evaluate_every_logs_history_csv_and_tensorboard(tmp_path, extractor):
    gan = tiny_dcgan()
    lines = []
    quality = EvaluateEvery("digits", metrics="fid,pr", n=64, features=extractor,
                            log_dir=tmp_path / "logs", log=lines.append)
    csv_path = tmp_path / "history.csv"
    history = gan.fit(digits(), epochs=2, steps_per_epoch=3, verbose=0,
                      callbacks=[quality, keras.callbacks.CSVLogger(str(csv_path))])
    # Measured at the start (step 0) and at each epoch end (steps 3 and 6).
    assert [entry["step"] for entry in quality.history] == [0, 3, 6]
    fids = [entry["fid"] for entry in quality.history]
    assert history.history["eval_fid"] == pytest.approx(fids[1:])
    assert history.history["eval_recall"] == pytest.approx(
        [entry["recall"] for entry in quality.history[1:]])
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["eval_fid"]) for row in rows] == pytest.approx(fids[1:])
    assert "eval_precision" in rows[0]
    scalars = tensorboard_scalars(tmp_path / "logs" / "eval")
    assert [step for step, _ in scalars["eval_fid"]] == [0, 3, 6]
    assert [value for _, value in scalars["eval_fid"]] == pytest.approx(fids, rel=1e-6)
    assert all(entry["seconds"] > 0 for entry in quality.history)
    assert quality.reference_seconds > 0
    assert quality.seconds_spent >= quality.reference_seconds + sum(
        entry["seconds"] for entry in quality.history)
    assert len([line for line in lines if line.startswith("eval at step")]) == 3
    assert "fid" in lines[-1] and " s" in lines[-1]


def test_reference_features_are_computed_once(extractor):
    counting = CountingExtractor(extractor)
    gan = tiny_dcgan()
    quality = EvaluateEvery("digits", every_n_steps=2, n=40, features=counting,
                            log=lambda message: None)
    gan.fit(digits(), epochs=2, steps_per_epoch=3, verbose=0, callbacks=[quality])
    # Steps 0 (start), 2, 4, 6: four measurements of 40 samples, one reference of 40.
    assert [entry["step"] for entry in quality.history] == [0, 2, 4, 6]
    assert counting.images_seen == 40 + 4 * 40
    assert quality.reference["count"] == 40


def test_fid_equals_ganzoo_metrics_on_the_same_images(extractor):
    gan = tiny_dcgan()
    quality = EvaluateEvery("digits", every_n_epochs=1, metrics="fid,kid,pr", n=100,
                            batch_size=32, features=extractor, log=lambda message: None)
    gan.fit(digits(), epochs=1, steps_per_epoch=2, verbose=0, callbacks=[quality])
    measured = quality.history[-1]

    # By hand: 100 of the digits' test images (a seeded subset), and the samples of
    # `evaluate`'s batch seeds.
    stream = evaluation.open_source("digits", default_split="test",
                                    stream=evaluation.DATA_STREAM)
    real_images = np.concatenate([images for images, _ in stream.batches(
        stream.count(100, (SIZE, SIZE)), 32, 0, (SIZE, SIZE))])
    real = extractor(real_images)
    fake_images = np.concatenate([
        gan.sample(min(32, 100 - start), seed=evaluation.batch_seed(0, index))
        for index, start in enumerate(range(0, 100, 32))])
    fake = extractor(fake_images)
    np.testing.assert_allclose(quality.reference["features"], real, rtol=1e-6)
    assert measured["fid"] == pytest.approx(ganzoo.metrics.frechet_distance(real, fake),
                                            rel=1e-6)
    assert measured["kid"] == pytest.approx(
        ganzoo.metrics.kernel_inception_distance(real, fake)[0], rel=1e-6)
    assert (measured["precision"], measured["recall"]) == pytest.approx(
        ganzoo.metrics.precision_recall(real, fake, k=3))
    # And what `ganzoo evaluate` says for the same weights.
    results = ganzoo.metrics.evaluate(gan, "digits", metrics="fid,kid,pr", features=extractor,
                                      n=100, batch_size=32, seed=0, split="test",
                                      progress=False)
    assert measured["fid"] == pytest.approx(results["fid"], rel=1e-9)
    assert measured["kid"] == pytest.approx(results["kid"], rel=1e-9)


def test_best_checkpoint_is_a_loadable_preset_naming_step_and_figure(tmp_path, extractor):
    gan = tiny_dcgan()
    best = tmp_path / "best"
    quality = EvaluateEvery("digits", every_n_epochs=1, n=64, features=extractor,
                            best_dir=best, log=lambda message: None)
    gan.fit(digits(), epochs=2, steps_per_epoch=2, verbose=0, callbacks=[quality])
    training_facts = json.loads((best / "config.json").read_text())["training"]
    winner = min(quality.history, key=lambda entry: entry["fid"])
    assert training_facts["best_step"] == winner["step"] == quality.best["step"]
    assert training_facts["best_metric"] == "fid"
    assert training_facts["best_value"] == pytest.approx(winner["fid"])
    card = (best / "card.md").read_text()
    assert f"step {winner['step']}" in card and "fid" in card
    assert f"{winner['fid']:.4f}" in card
    generator = ganzoo.load_generator(str(best))
    assert generator.output_shape[1:] == (SIZE, SIZE, 1)
    loaded = ganzoo.models.DCGAN.from_preset(str(best))
    # The saved model measures what was recorded, whatever training did afterwards.
    results = ganzoo.metrics.evaluate(loaded, "digits", metrics="fid", features=extractor,
                                      n=64, seed=0, split="test", progress=False)
    assert results["fid"] == pytest.approx(winner["fid"], rel=1e-6)


def _best_facts(best):
    return json.loads((best / "config.json").read_text())["training"]


def test_best_is_replaced_only_on_improvement_and_kept_across_a_resume(tmp_path):
    gan = tiny_dcgan()
    best = tmp_path / "best"
    first = Scripted([50.0, 40.0, 45.0], data="digits", every_n_steps=1, best_dir=best,
                     log=lambda message: None)
    drive(first, gan, [{}, {}])  # steps 0 (start), 1, 2
    assert [entry["fid"] for entry in first.history] == [50.0, 40.0, 45.0]
    facts = _best_facts(best)
    assert (facts["best_step"], facts["best_value"]) == (1, 40.0)

    # A resumed run (a fresh callback, as in a new process) starts from best/'s figure:
    # a worse one does not replace it, a better one does.
    lines = []
    second = Scripted([42.0, 39.0], data="digits", every_n_steps=1, best_dir=best,
                      log=lines.append)
    drive(second, gan, [{}], steps_per_epoch=10, initial_epoch=1)  # steps 10, 11
    assert [entry["step"] for entry in second.history] == [10, 11]
    assert any("best so far: fid 40" in line for line in lines)
    facts = _best_facts(best)
    assert (facts["best_step"], facts["best_value"]) == (11, 39.0)

    third = Scripted([41.0], data="digits", every_n_steps=1, best_dir=best,
                     log=lambda message: None)
    drive(third, gan, [])
    assert _best_facts(best)["best_step"] == 11


def test_a_resumed_fit_measures_at_its_global_steps_and_keeps_the_best(tmp_path):
    gan = tiny_dcgan()
    best = tmp_path / "best"
    first = Scripted([30.0, 20.0], data="digits", every_n_steps=2, best_dir=best,
                     log=lambda message: None)
    gan.fit(digits(repeat=True), epochs=1, steps_per_epoch=2, verbose=0, callbacks=[first])
    assert [(e["step"], e["fid"]) for e in first.history] == [(0, 30.0), (2, 20.0)]
    # The run resumes after epoch 5 in a new process: a fresh callback, initial_epoch=5.
    second = Scripted([25.0, 21.0, 22.0], data="digits", every_n_steps=2, best_dir=best,
                      log=lambda message: None)
    history = gan.fit(digits(repeat=True), epochs=7, initial_epoch=5, steps_per_epoch=2,
                      verbose=0, callbacks=[second])
    assert [entry["step"] for entry in second.history] == [10, 12, 14]
    assert history.history["eval_fid"] == [21.0, 22.0]
    facts = _best_facts(best)
    assert (facts["best_step"], facts["best_value"]) == (2, 20.0)  # all worse than 20


def test_steps_reported_a_few_at_a_time_still_meet_every_n_steps():
    """With steps_per_execution > 1, Keras calls on_train_batch_end every few steps."""
    gan = tiny_dcgan()
    quality = Scripted([1.0] * 4, data="digits", every_n_steps=3, log=lambda message: None)
    health = HealthMonitor(every_n_steps=3)
    for callback in (quality, health):
        callback.set_model(gan)
        callback.set_params({"epochs": 1, "steps": 100, "verbose": 0})
        callback.on_train_begin()
        callback.on_epoch_begin(0)
        for batch in (1, 3, 5, 7):  # steps 2, 4, 6, 8
            callback.on_train_batch_end(batch, {})
    assert [entry["step"] for entry in quality.history] == [0, 4, 6]
    assert [step for step, _ in health.spreads] == [2, 4, 6]


def test_best_of_a_higher_is_better_figure(tmp_path):
    gan = tiny_dcgan()
    best = tmp_path / "best"

    class Recall(Scripted):
        def _figures(self, reference):
            return {"precision": 0.5, "recall": float(self.values.pop(0))}

    quality = Recall([0.2, 0.5, 0.3], data="digits", metrics="pr", monitor="recall",
                     every_n_steps=1, best_dir=best, log=lambda message: None)
    assert quality.mode == "max"
    drive(quality, gan, [{}, {}])
    facts = _best_facts(best)
    assert (facts["best_step"], facts["best_value"], facts["best_metric"]) == (1, 0.5, "recall")


def test_a_worker_that_is_not_chief_writes_nothing(tmp_path, extractor):
    gan = tiny_dcgan()
    quality = EvaluateEvery("digits", n=32, features=extractor, best_dir=tmp_path / "best",
                            log_dir=tmp_path / "logs", write=False, log=lambda message: None)
    history = gan.fit(digits(), epochs=1, steps_per_epoch=1, verbose=0, callbacks=[quality])
    assert "eval_fid" in history.history
    assert quality.best is not None
    assert list(tmp_path.iterdir()) == []


def test_class_accuracy_of_a_conditional_model(extractor):
    gan = ganzoo.models.ConditionalGAN.from_preset("cgan-digits")
    gan.compile()
    quality = EvaluateEvery("digits", metrics="acc,fid", n=50, features=extractor,
                            log=lambda message: None)
    drive(quality, gan, [])
    results = ganzoo.metrics.evaluate(gan, "digits", metrics="acc,fid", features=extractor,
                                      n=50, seed=0, split="test", progress=False)
    assert quality.latest["acc"] > 0.5  # a trained model draws the classes asked for
    assert quality.latest["acc"] == pytest.approx(results["class_accuracy"])
    assert quality.latest["fid"] == pytest.approx(results["fid"], rel=1e-9)

    unconditional = EvaluateEvery("digits", metrics="acc", features=extractor)
    with pytest.raises(ValueError, match="needs a conditional model"):
        drive(unconditional, tiny_dcgan(), [])


@pytest.mark.parametrize("kwargs, message", [
    ({"every_n_steps": 5, "every_n_epochs": 1}, "not both"),
    ({"every_n_steps": 0}, "`every_n_steps` must be an integer >= 1"),
    ({"metrics": "is"}, "EvaluateEvery measures fid, kid, pr, acc"),
    ({"metrics": "fod"}, "Unknown metric 'fod'"),
    ({"metrics": "fid", "monitor": "recall"}, "monitor must be one of the measured"),
    ({"mode": "lowest"}, "mode must be"),
    ({"n": 1}, "`n` must be an integer >= 2"),
    ({"features": "vgg"}, "Unknown feature extractor"),
])
def test_evaluate_every_refuses_bad_arguments_in_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as caught:
        EvaluateEvery("digits", **kwargs)
    assert "\n" not in str(caught.value)


# -- HealthMonitor ------------------------------------------------------------------------


def collapsed_dcgan_digits():
    """The healthy shipped preset with its last kernel zeroed: every latent, one image."""
    gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
    gan.compile()
    kernel = gan.generator.get_layer("to_image").kernel
    kernel.assign(np.zeros(kernel.shape, np.float32))
    return gan


def test_planted_collapse_is_warned_at_the_first_check():
    gan = collapsed_dcgan_digits()
    health = HealthMonitor(real_batch(32), every_n_steps=50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(digits(32, 64), epochs=1, steps_per_epoch=3, verbose=0, callbacks=[health])
    messages = health_warnings(caught)
    assert len(messages) == 1 and "collapsing" in messages[0]
    assert "--resume from best/" in messages[0] and "\n" not in messages[0]
    assert [(event["step"], event["kind"]) for event in health.events] == [(1, "collapse")]
    assert health.events[0]["figures"]["spread"] < 0.01


def test_collapse_without_real_images_is_one_image_for_every_latent():
    gan = collapsed_dcgan_digits()
    events = []
    health = HealthMonitor(every_n_steps=1, record=events.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, [{}, {}, {}])  # still collapsed: one warning, not three
    assert len(health_warnings(caught)) == 1
    assert events == health.events and events[0]["kind"] == "collapse"
    json.dumps(events)  # run.json can hold them


def test_stop_on_collapse_stops_fit():
    gan = collapsed_dcgan_digits()
    health = HealthMonitor(real_batch(32), every_n_steps=50, stop_on_collapse=True)
    batches = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = gan.fit(digits(32, 64), epochs=3, steps_per_epoch=4, verbose=0,
                          callbacks=[health, counter])
    assert "training stops" in health_warnings(caught)[0]
    assert batches == [0]
    assert len(history.history["d_loss"]) == 1


def test_an_untrained_generator_is_not_called_collapsed_during_warm_up():
    gan = tiny_dcgan()
    real = real_batch()
    health = HealthMonitor(real, every_n_steps=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, [{}, {}])
    assert health_warnings(caught) == []
    assert health.spreads[0][1] < 0.25 * health.real_spread  # it is near-constant, though
    # The same generator past the warm-up is warned about.
    late = HealthMonitor(real, every_n_steps=1, warmup_steps=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(late, gan, [{}])
    assert [event["kind"] for event in late.events] == ["collapse"]


def overpowered_dcgan(real):
    """A tiny DCGAN whose discriminator separates real digits from its samples perfectly,
    by mean brightness, with large margins."""
    gan = tiny_dcgan()
    real_means = real.numpy().mean(axis=(1, 2, 3))
    fake_means = gan.generate(64, seed=0).mean(axis=(1, 2, 3))
    assert real_means.max() < fake_means.min()
    middle = (real_means.max() + fake_means.min()) / 2
    images = keras.Input((SIZE, SIZE, 1))
    mean = keras.layers.GlobalAveragePooling2D()(images)
    logit = keras.layers.Dense(1)(mean)
    discriminator = keras.Model(images, logit)
    scale = 20.0 / (fake_means.min() - middle)
    discriminator.layers[-1].set_weights([np.array([[-scale]], np.float32),
                                          np.array([scale * middle], np.float32)])
    gan.discriminator = discriminator
    return gan


def test_overpowered_discriminator_warns_after_patience_checks_not_before():
    real = real_batch()
    gan = overpowered_dcgan(real)
    health = HealthMonitor(real, every_n_steps=1, patience=3, warmup_steps=0,
                           collapse_ratio=0.01)
    health.set_model(gan)
    health.set_params({"epochs": 1, "steps": 100, "verbose": 0})
    health.on_train_begin()
    health.on_epoch_begin(0)
    seen = []
    for batch in range(5):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            health.on_train_batch_end(batch, {})
        # (Its samples are also near-identical: a collapse, warned at the first check.)
        seen.append([m for m in health_warnings(caught) if "collapsing" not in m])
    assert seen[0] == seen[1] == [] and seen[3] == seen[4] == []
    assert len(seen[2]) == 1 and "overpowers" in seen[2][0] and "--augment ada" in seen[2][0]
    overpowered = [event for event in health.events if event["kind"] == "overpowered"]
    assert [event["step"] for event in overpowered] == [3]
    figures = overpowered[0]["figures"]
    assert figures["real_accuracy"] == 1.0 and figures["fake_accuracy"] == 1.0


def test_ada_r_t_above_limit_for_patience_checks_warns():
    gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
    gan.compile()
    health = HealthMonitor(every_n_steps=1, patience=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, [{"r_t": 0.99}, {"r_t": 0.99}, {"r_t": 0.5}, {"r_t": 0.95},
                            {"r_t": 0.99}])
        assert health_warnings(caught) == []
        health.on_train_batch_end(5, {"r_t": 0.97})
    messages = health_warnings(caught)
    assert len(messages) == 1 and "r_t" in messages[0] and "0.95, 0.99, 0.97" in messages[0]
    assert "ADA is on" in messages[0] and "--augment ada" not in messages[0]
    assert health.events[0]["step"] == 6


def test_discriminator_check_leaves_training_unchanged():
    def train(with_monitor):
        keras.utils.set_random_seed(0)
        gan = tiny_dcgan(seed=3)
        callbacks = [HealthMonitor(real_batch(), every_n_steps=1, warmup_steps=0,
                                   collapse_ratio=0.01)] if with_monitor else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gan.fit(digits(), epochs=1, steps_per_epoch=3, verbose=0, callbacks=callbacks)
        if with_monitor:
            assert "accuracy" not in callbacks[0].skipped
        return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]

    for plain, watched in zip(train(False), train(True)):
        np.testing.assert_array_equal(plain, watched)


def test_exploding_loss_warns_once_per_occurrence():
    gan = tiny_dcgan()
    health = HealthMonitor(every_n_steps=1, collapse_ratio=0.01)
    normal = [{"d_loss": value, "g_loss": 2.0} for value in (1.0, 1.3, 0.6, 2.5, 0.9)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, normal + [{"d_loss": 30.0, "g_loss": 2.0},
                                     {"d_loss": 60.0, "g_loss": 2.0},
                                     {"d_loss": 1.0, "g_loss": 2.0},
                                     {"d_loss": 1.0, "g_loss": float("nan")}])
    messages = health_warnings(caught)
    assert len(messages) == 2
    assert "d_loss explodes: 30" in messages[0] and "--lr-factor 0.5" in messages[0]
    assert "g_loss explodes: nan" in messages[1]
    assert [(event["step"], event["kind"]) for event in health.events] == [
        (6, "exploding_loss"), (9, "exploding_loss")]


def test_ordinary_gan_loss_swings_are_not_explosions():
    gan = tiny_dcgan()
    health = HealthMonitor(every_n_steps=1, collapse_ratio=0.01)
    swings = [0.7, 0.2, 1.5, 0.1, 3.0, 0.4, 6.0, 0.8, 9.0, 0.05]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, [{"d_loss": 0.5, "g_loss": value} for value in swings])
    assert health_warnings(caught) == []


def test_checks_that_do_not_apply_are_skipped_and_said():
    critic = ganzoo.models.WGANGP(image_shape=(SIZE, SIZE, 1), latent_dim=8,
                                  generator_filters=8, discriminator_filters=8)
    critic.compile()
    health = HealthMonitor(real_batch(), every_n_steps=1, collapse_ratio=0.01)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The Wasserstein generator loss drifts freely: not an explosion.
        drive(health, critic, [{"g_loss": 1.0}] * 4 + [{"g_loss": 500.0}])
    assert health_warnings(caught) == []
    assert "Wasserstein" in health.skipped["accuracy"]
    assert "collapse" not in health.skipped


def test_a_failing_check_is_switched_off_without_stopping_training():
    gan = tiny_dcgan()

    def broken(*args, **kwargs):
        raise RuntimeError("no samples today")

    gan.generate = broken
    health = HealthMonitor(real_batch(), every_n_steps=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, gan, [{"d_loss": 1.0}] * 3)
    failures = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(failures) == 1 and "no samples today" in str(failures[0].message)
    assert "collapse" in health.skipped and "accuracy" in health.skipped


def test_a_partial_collapse_is_measured_against_real_images_and_the_best_so_far():
    gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
    gan.compile()
    kernel = gan.generator.get_layer("to_image").kernel
    healthy = kernel.numpy()
    # Faint samples: more than "one image", far less than the digits' spread.
    kernel.assign(healthy * 0.05)
    with_real = HealthMonitor(real_batch(32), every_n_steps=1)
    without = HealthMonitor(every_n_steps=1)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        drive(with_real, gan, [{}])
        drive(without, gan, [{}])
    assert [event["kind"] for event in with_real.events] == ["collapse"]
    assert 0.01 < with_real.events[0]["figures"]["spread"] < 0.25 * with_real.real_spread
    assert without.events == []
    # Without real images, the fall from its own best is the collapse.
    kernel.assign(healthy)
    watch = HealthMonitor(every_n_steps=1)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        drive(watch, gan, [{}])
        kernel.assign(healthy * 0.05)
        watch.on_train_batch_end(1, {})
        watch.on_train_batch_end(2, {})  # the same collapse
        kernel.assign(healthy)
        watch.on_train_batch_end(3, {})  # recovered
        kernel.assign(healthy * 0.05)
        watch.on_train_batch_end(4, {})  # a second one
    assert [(event["step"], event["kind"]) for event in watch.events] == [
        (2, "collapse"), (5, "collapse")]
    assert watch.events[0]["figures"]["best_spread"] > 0.5


def test_image_to_image_families_are_refused_by_evaluate_every_and_skipped_by_health():
    srgan = ganzoo.models.SRGAN(image_shape=(16, 16, 1), scale=2, filters=4, blocks=1,
                                disc_filters=4, pretrain_steps=2)
    srgan.compile()
    with pytest.raises(ValueError, match="makes images from images"):
        drive(EvaluateEvery("digits"), srgan, [])
    health = HealthMonitor(real_batch(), every_n_steps=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive(health, srgan, [{"d_loss": 1.0}] * 4 + [{"d_loss": 100.0}])
    assert "images from images" in health.skipped["collapse"]
    assert [event["kind"] for event in health.events] == ["exploding_loss"]
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_reference_from_a_tf_data_dataset(extractor):
    gan = tiny_dcgan()
    quality = EvaluateEvery(digits(batch_size=16, repeat=True), n=40, features=extractor,
                            log=lambda message: None)
    drive(quality, gan, [])
    assert quality.reference["count"] == 40 and "fid" in quality.latest
    wrong_size = EvaluateEvery(digits(size=32), n=40, features=extractor)
    with pytest.raises(ValueError, match="load the data at that size"):
        drive(wrong_size, gan, [])


@pytest.mark.parametrize("kwargs, message", [
    ({"every_n_steps": 0}, "`every_n_steps` must be an integer >= 1"),
    ({"patience": 0}, "`patience` must be"),
    ({"collapse_ratio": 1.5}, "collapse_ratio must lie in"),
    ({"explode_factor": 1}, "explode_factor must be a number > 1"),
    ({"real_images": np.full((4, 16, 16, 1), 200.0, np.float32)}, "must lie in \\[-1, 1\\]"),
    ({"record": "run.json"}, "record must be callable"),
])
def test_health_monitor_refuses_bad_arguments_in_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as caught:
        HealthMonitor(**kwargs)
    assert "\n" not in str(caught.value)


def test_healthy_preset_fine_tune_raises_no_health_warning():
    gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
    gan.compile()
    health = HealthMonitor(real_batch(32), every_n_steps=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(digits(32, 64, repeat=True), epochs=2, steps_per_epoch=30, verbose=0,
                callbacks=[health])
    assert health_warnings(caught) == []
    assert health.events == [] and health.skipped == {}
    assert [step for step, _ in health.spreads] == [1, 10, 20, 30, 40, 50, 60]
    assert min(value for _, value in health.spreads) > 0.5 * health.real_spread


def test_public_names():
    assert training.EvaluateEvery is EvaluateEvery
    assert training.HealthMonitor is HealthMonitor
    assert issubclass(training.HealthWarning, UserWarning)
    assert monitor_lib.spread(np.zeros((3, 16, 16, 1), np.float32)) == 0.0


@pytest.mark.slow
def test_the_demo_run_from_scratch_raises_no_health_warning():
    """`make demo`'s model and length: an untrained DCGAN on the digits, default checks."""
    gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1), latent_dim=64, generator_filters=32,
                              discriminator_filters=32, seed=0)
    gan.compile()
    health = HealthMonitor(real_batch(32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(digits(32, 64, repeat=True), epochs=1, steps_per_epoch=400, verbose=0,
                callbacks=[health])
    assert health_warnings(caught) == []
    assert health.skipped == {}
    assert health.spreads[-1][1] > 0.5 * health.real_spread


@pytest.mark.slow
def test_a_longer_preset_fine_tune_raises_no_health_warning():
    gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
    gan.compile()
    health = HealthMonitor(real_batch(32), every_n_steps=25)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(digits(32, 64, repeat=True), epochs=1, steps_per_epoch=400, verbose=0,
                callbacks=[health])
    assert health_warnings(caught) == []
    assert len(health.spreads) == 17


def test_both_callbacks_under_a_mirrored_strategy(two_cpu_strategy, extractor):
    with two_cpu_strategy.scope():
        gan = ganzoo.models.DCGAN.from_preset("dcgan-digits")
        gan.compile()
    health = HealthMonitor(real_batch(32), every_n_steps=1)
    quality = EvaluateEvery("digits", every_n_steps=2, n=32, features=extractor,
                            log=lambda message: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = gan.fit(digits(32, 64, repeat=True), epochs=1, steps_per_epoch=2, verbose=0,
                          callbacks=[quality, health])
    assert health_warnings(caught) == [] and health.skipped == {}
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert [entry["step"] for entry in quality.history] == [0, 2]
    assert history.history["eval_fid"] == [quality.history[-1]["fid"]]
