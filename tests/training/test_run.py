"""Training runs lose nothing: overwrite safety, locks, NaN guard, atomic checkpoints,
exact resume, peers that never come up, and one-line errors."""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cli_helpers import (TINY_TRAIN, assert_error_line, assert_one_line_error, ganzoo,
                         ganzoo_cli_inprocess)
from export_helpers import snapshot
from ganzoo import training
from ganzoo.training import checkpoints
from ganzoo.training import run as run_lib

TINY = dict(data="digits", image_size=16, batch_size=32, latent_dim=16, samples=4,
            model_options={"generator_filters": 8, "discriminator_filters": 8})
WORKER = Path(__file__).with_name("run_worker.py")


def quiet_train(run, callbacks=()):
    return run.train(callbacks=list(callbacks), verbose=0)


def weights_of(preset_folder):
    """Every array of a preset's weights file, by HDF5 path."""
    arrays = {}
    with h5py.File(Path(preset_folder) / "model.weights.h5", "r") as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, item[()])
                          if isinstance(item, h5py.Dataset) else None)
    return arrays


class Raise(keras.callbacks.Callback):
    """Raise `error` at the end of batch `batch` of epoch `epoch` (0-based)."""

    def __init__(self, error, epoch=0, batch=None):
        super().__init__()
        self.error, self.epoch, self.batch = error, epoch, batch
        self._current = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and self._current == self.epoch and batch == self.batch:
            raise self.error

    def on_epoch_end(self, epoch, logs=None):
        if self.batch is None and epoch == self.epoch:
            raise self.error


class PoisonAtEpoch(keras.callbacks.Callback):
    """Set one generator weight to NaN when epoch `epoch` (0-based) begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            variable = self.model.generator.trainable_variables[0]
            variable.assign(np.full(variable.shape, np.nan, "float32"))


# -- overwrite only replaces runs, and only once the new one has started -----------------


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("precious")
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "2",
                                   "--out", tmp_path, "--overwrite"])
    assert_one_line_error(result, "is not a ganzoo run folder")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_overwrite_with_a_bad_option_keeps_the_old_run(tmp_path):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    before = (out / "preset" / "sha256.txt").read_text()
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "2", "--out", out,
                                   "--overwrite", "--model-option", "generator_filters=-1"])
    assert result.exit_code == 2, result.output
    assert (out / "preset" / "sha256.txt").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no leftovers beside it


def test_overwrite_replaces_a_finished_run(tmp_path):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    (out / "samples" / "epoch_0009.png").write_bytes(b"a grid of an earlier run")
    (out / "backup").mkdir(exist_ok=True)  # removed when the run finished
    (out / "backup" / ".epoch-0001.weights.h5.a1b2c3d4.weights.h5").write_bytes(b"killed")
    quiet_train(training.plan_run("dcgan", out=out, steps=2, overwrite=True, **TINY))
    assert not (out / "samples" / "epoch_0009.png").exists()
    assert (out / "preset" / "model.weights.h5").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("foreign", ["samples/my_favourite.png", "preset/notes.txt",
                                     "best/notes.txt", "notes/day1.md", "logs/README"])
def test_overwrite_refuses_a_run_holding_files_ganzoo_did_not_write(tmp_path, foreign):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    (out / foreign).parent.mkdir(exist_ok=True)
    (out / foreign).write_text("mine")
    before = snapshot(out)

    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "2",
                                   "--out", out, "--overwrite"])

    assert_one_line_error(result, f"{out / foreign} was not written by ganzoo: refusing to "
                                  f"replace the run folder {out} even with --overwrite")
    assert snapshot(out) == before
    with pytest.raises(FileExistsError, match="my_favourite|notes|README"):
        training.plan_run("dcgan", out=out, steps=2, overwrite=True, **TINY)


def test_a_never_trained_run_holding_a_file_of_the_users_is_not_replaced(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"family": "dcgan"}))
    (out / "plan.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="plan.txt was not written by ganzoo"):
        training.plan_run("dcgan", out=out, steps=2, **TINY)
    assert (out / "plan.txt").read_text() == "mine"


def test_a_file_added_after_planning_is_still_not_replaced(tmp_path):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    run = training.plan_run("dcgan", out=out, steps=2, overwrite=True, **TINY)
    (out / "samples" / "mine.png").write_bytes(b"added while the new run loaded its data")
    with pytest.raises(FileExistsError, match="mine.png was not written by ganzoo"):
        quiet_train(run)
    assert (out / "samples" / "mine.png").read_bytes().startswith(b"added")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_model_options_may_not_duplicate_their_own_options(tmp_path):
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--out", tmp_path / "r",
                                   "--model-option", "image_shape=[64,64,1]"])
    assert_one_line_error(result, "Set image_shape with --image-size")
    assert not (tmp_path / "r").exists()


def test_preset_refuses_options_that_change_its_architecture(tmp_path):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", "digits", "--preset", out,
                                   "--latent-dim", "32", "--out", tmp_path / "tuned"])
    assert_one_line_error(result, "would change its architecture")


def test_a_second_dataset_for_a_family_that_takes_one_is_one_line(tmp_path):
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--out", tmp_path / "r",
                                   "--data-b", "textures/gravel"])
    assert_one_line_error(result, "dcgan trains on one dataset; --data-b is for cyclegan")
    assert not (tmp_path / "r").exists()


def test_scale_is_a_model_option_given_once(tmp_path):
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--out", tmp_path / "r",
                                   "--scale", "4", "--model-option", "scale=2"])
    assert_one_line_error(result, "Give the scale once")
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--out", tmp_path / "r",
                                   "--scale", "4"])
    assert_one_line_error(result, "Bad --model-option for dcgan")
    assert not (tmp_path / "r").exists()


def test_a_run_adds_the_family_callbacks(tmp_path, monkeypatch):
    """`ganzoo train` uses the schedule a family's paper trains with (cyclegan's decay)."""
    from ganzoo import models

    seen = []

    class Seen(keras.callbacks.Callback):
        def __init__(self, epochs):
            super().__init__()
            self.epochs = epochs

        def on_epoch_end(self, epoch, logs=None):
            seen.append((self.epochs, epoch))

    # A family method (cyclegan has one); dcgan has none until the test gives it one.
    monkeypatch.setattr(models.DCGAN, "default_callbacks", lambda self, epochs: [Seen(epochs)],
                        raising=False)
    quiet_train(training.plan_run("dcgan", out=tmp_path / "r", epochs=2, **TINY))
    assert seen == [(2, 0), (2, 1)]


# -- a run folder in use is locked ---------------------------------------------------------


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path):
    out = tmp_path / "run"
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    lock = run_lib.RunLock(out)  # as another process training in it would hold
    try:
        for extra in (["--overwrite"],):
            result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "2",
                                           "--out", out, *extra])
            assert_one_line_error(result, "is in use by another ganzoo run")
    finally:
        lock.release()
    assert (out / "preset" / "model.weights.h5").is_file()


def test_the_lock_dies_with_its_process(tmp_path):
    code = ("import sys, os, signal; from ganzoo.training.run import RunLock; "
            "RunLock(sys.argv[1]); print('locked', flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    run_lib.RunLock(tmp_path).release()  # no error: the killed holder released it


# -- non-finite losses stop the run; the last good checkpoint is kept ---------------------


def test_nan_stops_the_run_keeps_the_last_checkpoint_and_resume_recovers(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(checkpoints.TrainingDiverged) as error:
        quiet_train(training.plan_run("dcgan", out=out, epochs=3, **TINY), [PoisonAtEpoch(1)])
    message = str(error.value)
    assert "at epoch 2, step 1" in message and "after epoch 1" in message
    assert "--resume --lr-factor 0.5" in message and "\n" not in message
    assert not (out / "preset").exists()
    assert run_lib.list_checkpoints(out / "backup") == [1]

    result = quiet_train(training.plan_resume(out, lr_factor=0.5))
    assert all(np.isfinite(v).all() for v in weights_of(result.preset).values())
    assert json.loads((out / "run.json").read_text())["lr_factor"] == 0.5


def test_nan_in_the_first_epoch_leaves_nothing_behind(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(checkpoints.TrainingDiverged, match="nothing was kept"):
        quiet_train(training.plan_run("dcgan", out=out, epochs=2, **TINY), [PoisonAtEpoch(0)])
    assert not out.exists()


def test_save_to_preset_is_never_reached_with_non_finite_weights(tmp_path):
    """Weights poisoned after the last step: the epoch-end weight check catches them."""

    class PoisonAfterLastBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == self.params["steps"] - 1:
                variable = self.model.discriminator.trainable_variables[0]
                variable.assign(np.full(variable.shape, np.inf, "float32"))

    out = tmp_path / "run"
    with pytest.raises(checkpoints.TrainingDiverged, match="weight .* is not finite"):
        quiet_train(training.plan_run("dcgan", out=out, epochs=1, **TINY),
                    [PoisonAfterLastBatch()])
    assert not out.exists()


# -- a failed run leaves nothing to clean up ------------------------------------------------


def test_a_run_failing_before_its_first_epoch_removes_its_folder(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        quiet_train(training.plan_run("dcgan", out=out, epochs=2, **TINY),
                    [Raise(RuntimeError("boom"), epoch=0, batch=1)])
    assert not out.exists()
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))  # no --overwrite needed


def test_a_killed_run_that_never_finished_an_epoch_can_be_started_again(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"family": "dcgan"}))
    quiet_train(training.plan_run("dcgan", out=out, steps=2, **TINY))
    assert (out / "preset" / "model.weights.h5").is_file()


# -- checkpoints are atomic; a damaged one falls back to the one before --------------------


def test_truncated_checkpoint_falls_back_to_the_previous_one(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        quiet_train(training.plan_run("dcgan", out=out, epochs=4, **TINY),
                    [Raise(KeyboardInterrupt(), epoch=1)])
    assert run_lib.list_checkpoints(out / "backup") == [2, 1]
    newest = out / "backup" / "epoch-0002.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])  # a write cut short

    lines = []
    run = training.plan_resume(out, log=lines.append)
    result = quiet_train(run)
    assert any("epoch-0002.weights.h5 is unreadable" in line for line in lines), lines
    assert any(f"resuming {out} after epoch 1 of 4" in line for line in lines), lines
    assert result.preset.is_dir()


def test_no_readable_checkpoint_is_one_line(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        quiet_train(training.plan_run("dcgan", out=out, epochs=3, **TINY),
                    [Raise(KeyboardInterrupt(), epoch=0)])
    weights = out / "backup" / "epoch-0001.weights.h5"
    weights.write_bytes(weights.read_bytes()[:500])
    result = ganzoo_cli_inprocess(["train", "dcgan", "--out", out, "--resume"])
    assert_error_line(result, "No readable checkpoint in")


def test_checkpoint_writes_leave_no_partial_file(tmp_path, monkeypatch):
    """A write that fails midway leaves the previous checkpoint as it was."""
    from ganzoo import presets

    out = tmp_path / "run"
    original = presets.save_weights
    calls = []

    def failing_save(model, path):
        calls.append(path)
        if len(calls) == 2:
            with open(path, "wb") as handle:
                handle.write(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(model, path)

    monkeypatch.setattr(presets, "save_weights", failing_save)
    with pytest.raises(OSError) as error:
        quiet_train(training.plan_run("dcgan", out=out, epochs=3, **TINY))
    assert "cannot write the checkpoint of epoch 2" in str(error.value)
    assert "No space left on device" in str(error.value)
    assert "epoch 1 is kept" in str(error.value)
    assert sorted(p.name for p in (out / "backup").iterdir()) == [
        "epoch-0001.json", "epoch-0001.weights.h5"]


def test_disk_full_during_training_is_one_line(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    from ganzoo import _atomic

    monkeypatch.setattr(_atomic, "replace_file", no_space)
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--epochs", "2",
                                   "--out", tmp_path / "run"])
    assert_error_line(result, "No space left on device")
    assert not (tmp_path / "run").exists()


def test_edited_run_file_is_one_line_on_resume(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        quiet_train(training.plan_run("dcgan", out=out, epochs=3, **TINY),
                    [Raise(KeyboardInterrupt(), epoch=0)])
    settings = json.loads((out / "run.json").read_text())
    settings["model_options"]["generator_filters"] = 16
    (out / "run.json").write_text(json.dumps(settings))
    result = ganzoo_cli_inprocess(["train", "dcgan", "--out", out, "--resume"])
    assert_error_line(result, "does not fit the model described by run.json")


# -- resume equals not stopping -------------------------------------------------------------


def _run_process(out, settings, *extra):
    return subprocess.run([sys.executable, str(WORKER), str(out), json.dumps(settings), *extra],
                          capture_output=True, text=True, timeout=300)


def test_killed_and_resumed_run_ends_with_the_uninterrupted_weights(tmp_path):
    settings = dict(TINY, family="dcgan", epochs=3, deterministic=True, seed=3)
    straight = _run_process(tmp_path / "straight", settings)
    assert straight.returncode == 0, straight.stderr[-2000:]

    killed = _run_process(tmp_path / "killed", settings, "--kill-after-epoch", "2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "killed" / "preset").exists()
    resumed = ganzoo("train", "dcgan", "--out", tmp_path / "killed", "--resume")
    assert "after epoch 2 of 3" in resumed.stderr

    expected = weights_of(tmp_path / "straight" / "preset")
    got = weights_of(tmp_path / "killed" / "preset")
    assert expected.keys() == got.keys()
    different = [name for name in expected if not np.array_equal(expected[name], got[name])]
    assert different == []


@pytest.mark.slow
def test_a_resumed_stylegan_run_takes_its_lazy_steps_where_the_straight_run_does(tmp_path):
    """R1 every 3 steps and path length every 2, 32 steps an epoch: the run killed after
    epoch 2 resumes at step 64, not due for R1; a count of steps that restarted at 0 would
    take R1 at other steps and end elsewhere."""
    settings = dict(data="digits", image_size=16, batch_size=64, latent_dim=8, samples=4,
                    model_options={"style_dim": 8, "mapping_layers": 2, "channel_base": 64,
                                   "channel_max": 8},
                    compile_options={"r1_gamma": 1.0, "r1_interval": 3, "pl_interval": 2},
                    family="stylegan_lite", epochs=3, deterministic=True, seed=3)
    straight = _run_process(tmp_path / "straight", settings)
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = _run_process(tmp_path / "killed", settings, "--kill-after-epoch", "2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = ganzoo("train", "stylegan_lite", "--out", tmp_path / "killed", "--resume")
    assert "after epoch 2 of 3" in resumed.stderr
    expected = weights_of(tmp_path / "straight" / "preset")
    got = weights_of(tmp_path / "killed" / "preset")
    assert expected.keys() == got.keys()
    # The model's own variables, pl_mean and the count of steps (lazy_steps), are saved.
    assert {"vars/0", "vars/1"} <= set(expected) and int(expected["vars/1"]) == 96
    different = [name for name in expected if not np.array_equal(expected[name], got[name])]
    assert different == []


def test_checkpoint_restores_the_noise_stream(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        quiet_train(training.plan_run("dcgan", out=out, epochs=3, **TINY),
                    [Raise(KeyboardInterrupt(), epoch=0)])
    state = json.loads((out / "backup" / "epoch-0001.json").read_text())
    steps = state["steps"]
    # The model's noise stream (seed 0) after two draws per step (D and G steps).
    assert state["seed_states"][0] == [0, 2 * steps]
    lines = []
    resumed = training.plan_resume(out, log=lines.append)
    seen = []

    class Peek(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.model.noise_seeds.state.numpy().tolist())

    quiet_train(resumed, [Peek()])
    assert seen == [[0, 2 * steps]]


# -- peers that never come up ----------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lonely_worker(tmp_path, *extra):
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CONFIG=json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": 0}}))
    args = [sys.executable, "-m", "ganzoo.cli", "train", "dcgan", *TINY_TRAIN, "--steps", "2",
            "--distribute", "multiworker", "--out", str(tmp_path / "run"), *extra]
    return workers, subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)


def test_a_missing_peer_times_out_with_one_line(tmp_path):
    workers, process = _lonely_worker(tmp_path, "--peer-timeout", "4")
    started = time.monotonic()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert time.monotonic() - started < 90
    assert f"gave up after 4 s waiting for worker 1 ({workers[1]})" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_sigterm_ends_the_wait_for_peers(tmp_path):
    _, process = _lonely_worker(tmp_path, "--peer-timeout", "600")
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline and "waiting for worker 1" not in line:
        line = process.stderr.readline()
    assert "waiting for worker 1" in line
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM


# -- other one-line errors -------------------------------------------------------------------


def test_out_of_memory_during_fit_is_one_line(tmp_path):
    out = tmp_path / "run"
    oom = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
    with pytest.raises(ValueError, match="out of memory training at image size 16 with batch 32"):
        quiet_train(training.plan_run("dcgan", out=out, epochs=1, **TINY),
                    [Raise(oom, epoch=0, batch=0)])


def test_unwritable_out_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(run_lib.os, "access", lambda path, mode: False)
    with pytest.raises(ValueError, match="permission denied"):
        training.plan_run("dcgan", out=tmp_path / "run", steps=2, **TINY)


def test_out_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--out", tmp_path / "f"])
    assert result.exit_code == 2
    assert (tmp_path / "f").read_text() == "x"


def test_only_the_chief_writes_the_run_folder_under_multiworker(tmp_path):
    """Two workers on loopback given the same --out: the chief writes it, the other
    worker trains in a temporary folder it removes."""
    import tempfile

    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    before = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("ganzoo-worker-run-")}
    processes = []
    for index in range(2):
        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "ganzoo.cli", "train", "dcgan", *TINY_TRAIN, "--steps", "2",
             "--distribute", "multiworker", "--out", str(tmp_path / "run")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert "preset: " in outputs[0]
    assert "the chief writes" in outputs[1]
    assert (tmp_path / "run" / "preset" / "model.weights.h5").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    after = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("ganzoo-worker-run-")}
    assert after <= before


# -- data the family cannot learn from ------------------------------------------------------

def test_cyclegan_with_the_same_data_for_both_domains_is_refused_in_one_line(tmp_path):
    (tmp_path / "grass").mkdir()
    for args in (["--data", "textures/grass", "--data-b", "textures/grass"],
                 ["--data", tmp_path / "grass", "--data-b", f"{tmp_path}/./grass"]):
        result = ganzoo_cli_inprocess(["train", "cyclegan", *args, "--steps", "1",
                                       "--out", tmp_path / "run"])
        assert_one_line_error(result, "--data and --data-b name the same images")
        assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("classes", [2, 7])
def test_num_classes_that_do_not_match_the_data_are_refused_in_one_line(tmp_path, classes):
    from ganzoo.data.bundled import digits_arrays

    images, labels = digits_arrays("train")
    for label in range(4):
        folder = tmp_path / "data" / f"class{label}"
        folder.mkdir(parents=True)
        for index in np.flatnonzero(labels == label)[:8]:
            Image.fromarray(images[index].reshape(8, 8)).save(folder / f"{index}.png")
    result = ganzoo_cli_inprocess([
        "train", "cgan", "--data", tmp_path / "data", "--image-size", "16", "--batch-size",
        "8", "--steps", "1", "--model-option", f"num_classes={classes}",
        "--out", tmp_path / "run"])
    assert_one_line_error(result, f"num_classes={classes} does not match the 4 classes")
    assert not (tmp_path / "run").exists()


def test_srgan_on_pictures_smaller_than_the_patch_names_the_patch_size(tmp_path):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for index in range(3):
        Image.fromarray(np.full((20, 20, 3), 40 * index, np.uint8)).save(
            pictures / f"{index}.png")
    result = ganzoo_cli_inprocess(["train", "srgan", "--data", pictures, "--out",
                                   tmp_path / "run", "--steps", "1", "--batch-size", "2",
                                   "--image-size", "32"])
    assert_one_line_error(result, "has no picture of at least 32x32 pixels to crop; use a "
                                  "smaller patch_size (--image-size on the command line)")
    assert not (tmp_path / "run").exists()
