"""Strategies and callbacks."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import training


def tiny_dcgan():
    return ganzoo.models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                               discriminator_filters=4, seed=0)


def tiny_data(n=32):
    images = np.random.default_rng(0).uniform(-1, 1, (n, 16, 16, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)


def test_strategy_kinds():
    assert training.strategy("none") is tf.distribute.get_strategy()
    # No GPUs here: auto falls back to the default strategy.
    assert training.strategy("auto").num_replicas_in_sync == 1
    with pytest.raises(ValueError, match="Unknown distribution 'fast'"):
        training.strategy("fast")


def test_multiworker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        training.strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG must be JSON"):
        training.strategy("multiworker")


def test_sample_grid_writes_the_same_seeded_grid_each_epoch(tmp_path):
    gan = tiny_dcgan()
    gan.compile()
    grid = training.SampleGrid(tmp_path / "samples", n=9, seed=5, every_n_epochs=2)
    gan.fit(tiny_data(), epochs=4, verbose=0, callbacks=[grid])
    files = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert files == ["epoch_0002.png", "epoch_0004.png"]
    picture = np.asarray(Image.open(tmp_path / "samples" / "epoch_0004.png"))
    assert picture.shape == (3 * 16 + 4 * 2, 3 * 16 + 4 * 2)
    expected = ganzoo._imaging.grid(gan.sample(9, seed=5))[..., 0]
    np.testing.assert_array_equal(picture, expected)


def test_tensorboard_images_are_logged(tmp_path):
    gan = tiny_dcgan()
    gan.compile()
    gan.fit(tiny_data(), epochs=2, verbose=0,
            callbacks=[training.TensorBoardImages(tmp_path, n=4, seed=0)])
    events = list((tmp_path / "samples").glob("events.out.tfevents.*"))
    assert len(events) == 1
    steps = []
    for record in tf.data.TFRecordDataset(str(events[0])):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
            if value.tag == "samples":
                steps.append(event.step)
    assert steps == [1, 2]


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


# Families trained on paired batches, with tiny arguments (16x16 high-res images).
PAIRED = {
    "srgan": {"family": "srgan", "pairs": "super_resolution",
              "kwargs": {"image_shape": [16, 16, 1], "scale": 2, "filters": 4, "blocks": 1,
                         "disc_filters": 4, "pretrain_steps": 2}},
    "cyclegan": {"family": "cyclegan", "pairs": "unpaired",
                 "kwargs": {"image_shape": [16, 16, 1], "filters": 4, "disc_filters": 4,
                            "disc_layers": 2, "blocks": 1, "pool_size": 0}},
}


@pytest.mark.parametrize("batches", ["images", "labels", "srgan", "cyclegan", "augmented"])
def test_two_worker_training_keeps_workers_in_sync(tmp_path, batches):
    """Two workers on loopback, with image batches, (images, labels) batches, the
    paired batches of srgan (low, high) and cyclegan (a, b), and image batches with ADA
    (its p summed over both workers)."""
    if batches in PAIRED and batches not in ganzoo.models.names():
        pytest.skip(f"{batches} is not a family yet")
    extra = {"labels": ["--labels"], "augmented": ["--augment"]}.get(batches, [])
    if batches in PAIRED:
        extra = ["--model", json.dumps(PAIRED[batches])]
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    script = Path(__file__).with_name("multiworker_worker.py")
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / f"worker{index}.json"), *extra],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output[-3000:]
    results = [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2)]
    assert [r["replicas"] for r in results] == [2, 2]
    assert results[0]["weights_sha256"] == results[1]["weights_sha256"]
    for name in results[0]["losses"]:
        assert np.isfinite(results[0]["losses"][name])
        assert results[0]["losses"][name] == pytest.approx(results[1]["losses"][name], rel=1e-5)
    if batches == "augmented":
        assert results[0]["losses"]["aug_p"] != pytest.approx(0.2)


def test_learning_rate_scheduler_drives_both_optimizers(tmp_path):
    gan = tiny_dcgan()
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(4e-3))
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append({name: float(opt.learning_rate.numpy())
                         for name, opt in self.model.optimizers().items()})

    halve = training.LearningRateScheduler(lambda epoch, lr: lr * 0.5 ** epoch)
    history = gan.fit(tiny_data(), epochs=3, verbose=0, callbacks=[halve, Record()])
    expected = [{"g_optimizer": 1e-3 * 0.5 ** e, "d_optimizer": 4e-3 * 0.5 ** e} for e in range(3)]
    for got, want in zip(seen, expected):
        assert got == pytest.approx(want, rel=1e-6)
    assert history.history["d_optimizer_lr"] == pytest.approx([4e-3, 2e-3, 1e-3], rel=1e-6)


def test_linear_decay_keeps_then_decays_to_zero():
    decay = training.LinearDecay(epochs=4)
    rates = [decay.schedule(epoch, 2e-4) for epoch in range(4)]
    assert rates == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4])
    with pytest.raises(ValueError, match="decay_from must lie in"):
        training.LinearDecay(epochs=4, decay_from=4)


def test_scheduler_names_unknown_optimizers():
    gan = tiny_dcgan()
    gan.compile()
    with pytest.raises(ValueError, match="Unknown optimizer 'e_optimizer'"):
        gan.fit(tiny_data(), epochs=1, verbose=0, callbacks=[
            training.LearningRateScheduler(lambda e, lr: lr, optimizers=["e_optimizer"])])


def test_step_decay_drops_the_rates_after_the_middle_of_the_counted_steps():
    decay = training.StepDecay(epochs=4)
    assert [decay.decay_epoch(10)] == [2]
    # Pre-training steps are not counted: 40 steps, 20 skipped, middle of the rest = 30.
    assert training.StepDecay(epochs=4, skip_steps=20).decay_epoch(10) == 3
    # Too short a run for a decay after its middle: none.
    assert training.StepDecay(epochs=1).decay_epoch(10) == 1
    decay.decay_from = 2
    assert [decay.schedule(e, 1e-4) for e in range(4)] == pytest.approx(
        [1e-4, 1e-4, 1e-5, 1e-5])
    for bad, match in [(dict(epochs=0), "epochs must be"), (dict(epochs=2, factor=0),
                       "factor must lie"), (dict(epochs=2, skip_steps=-1), "skip_steps")]:
        with pytest.raises(ValueError, match=match):
            training.StepDecay(**bad)
