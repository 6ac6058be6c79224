"""The `ganzoo` command end to end: train -> sample -> export -> sample the bundle."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from cli_helpers import (TINY_TRAIN, assert_error_line, assert_one_line_error, ganzoo,
                         ganzoo_cli_inprocess)
from export_helpers import read_only_disk, small_disk


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "run"
    result = ganzoo("train", "dcgan", *TINY_TRAIN, "--steps", "20", "--out", run)
    assert "preset:" in result.stdout
    return run


def test_train_writes_a_complete_run_folder(trained_run):
    assert (trained_run / "preset" / "model.weights.h5").is_file()
    assert (trained_run / "samples" / "final.png").is_file()
    assert list((trained_run / "logs").rglob("events.out.tfevents.*"))
    config = json.loads((trained_run / "preset" / "config.json").read_text())
    assert config["family"] == "dcgan"
    assert config["image_shape"] == [16, 16, 1]
    assert config["training"]["steps_per_epoch"] * config["training"]["epochs"] == 20
    history = (trained_run / "history.csv").read_text().splitlines()
    assert history[0].split(",")[:3] == ["epoch", "d_loss", "g_loss"]
    assert not (trained_run / "backup").exists()  # removed once training finished


def test_sample_export_and_bundle_sample_give_the_same_picture(trained_run, tmp_path):
    ganzoo("sample", trained_run, "-n", "16", "--seed", "3", "--out", tmp_path / "g.png")
    result = ganzoo("export", trained_run, "--format", "onnx", "--out", tmp_path / "bundle")
    assert "parity" in result.stdout
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    result = ganzoo("sample", tmp_path / "bundle", "-n", "16", "--seed", "3",
                    "--out", tmp_path / "h.png")
    assert "CPUExecutionProvider" in result.stdout
    keras_grid, onnx_grid = read_png(tmp_path / "g.png"), read_png(tmp_path / "h.png")
    assert keras_grid.shape == onnx_grid.shape == (4 * 16 + 5 * 2, 4 * 16 + 5 * 2)
    assert np.abs(keras_grid - onnx_grid).max() <= 1
    assert keras_grid.std() > 0  # not a blank picture


def test_bundle_matches_keras_for_seeded_latents(trained_run, tmp_path):
    import ganzoo
    from ganzoo import _sampling, runtime

    ganzoo.export.to_onnx(ganzoo.models.load(trained_run), tmp_path / "b")
    latents = _sampling.latents(32, 16, seed=11)
    keras_images = ganzoo.load_generator(trained_run)(latents, training=False).numpy()
    onnx_images = runtime.load(tmp_path / "b").run(latents)
    np.testing.assert_allclose(onnx_images, keras_images, atol=1e-4)
    other_seed = runtime.load(tmp_path / "b").run(_sampling.latents(32, 16, seed=12))
    assert np.abs(other_seed - onnx_images).max() > 1e-3


def test_savedmodel_export_from_the_cli(trained_run, tmp_path):
    import tensorflow as tf
    import ganzoo

    ganzoo_result = ganzoo_cli_inprocess(["export", str(trained_run), "--format", "savedmodel",
                                          "--out", str(tmp_path / "sm")])
    assert ganzoo_result.exit_code == 0, ganzoo_result.output
    reloaded = tf.saved_model.load(str(tmp_path / "sm" / "saved_model"))
    latents = ganzoo._sampling.latents(4, 16, seed=0)
    served = reloaded.signatures["serving_default"](latent=tf.constant(latents))["images"]
    expected = ganzoo.load_generator(trained_run)(latents, training=False)
    np.testing.assert_allclose(served.numpy(), expected.numpy(), atol=1e-5)


def test_list_shows_families():
    result = ganzoo_cli_inprocess(["list"])
    assert result.exit_code == 0
    assert "dcgan" in result.output and "DCGAN" in result.output


# -- bad input: one clear line on stderr, exit status 2, nothing overwritten ---------


def test_unknown_family(tmp_path):
    result = ganzoo_cli_inprocess(["train", "nope", "--data", "digits", "--out", str(tmp_path / "r")])
    assert_one_line_error(result, "Unknown model family 'nope'")
    assert not (tmp_path / "r").exists()


def test_unknown_dataset(tmp_path):
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", "no-such-data", "--out", str(tmp_path / "r")])
    assert_one_line_error(result, "no-such-data")
    assert not (tmp_path / "r").exists()


def test_empty_image_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", str(tmp_path / "empty"),
                                   "--out", str(tmp_path / "r")])
    assert_one_line_error(result, "contains no images")


def test_export_refuses_an_existing_folder(trained_run, tmp_path):
    target = tmp_path / "existing"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    result = ganzoo_cli_inprocess(["export", str(trained_run), "--out", str(target)])
    assert_one_line_error(result, "already exists; pass --overwrite")
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert (target / "keep.txt").read_text() == "precious"


def test_train_refuses_an_existing_run_and_sample_an_existing_file(trained_run, tmp_path):
    before = (trained_run / "preset" / "sha256.txt").read_text()
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", "digits", "--out", str(trained_run)])
    assert_one_line_error(result, "already exists")
    assert (trained_run / "preset" / "sha256.txt").read_text() == before
    (tmp_path / "g.png").write_bytes(b"not yours")
    result = ganzoo_cli_inprocess(["sample", str(trained_run), "--out", str(tmp_path / "g.png")])
    assert_one_line_error(result, "already exists")
    assert (tmp_path / "g.png").read_bytes() == b"not yours"


def test_wrong_latent_size_to_the_runtime(trained_run, tmp_path):
    import ganzoo
    from ganzoo import runtime

    ganzoo.export.to_onnx(ganzoo.models.load(trained_run), tmp_path / "b")
    generator = runtime.load(tmp_path / "b")
    with pytest.raises(ValueError, match="latent") as error:
        generator.run(np.zeros((2, 15), np.float32))
    assert "16" in str(error.value) and "\n" not in str(error.value)


def test_unknown_source_to_sample(tmp_path):
    result = ganzoo_cli_inprocess(["sample", "no-such-preset", "--out", str(tmp_path / "x.png")])
    assert_one_line_error(result, "Unknown preset 'no-such-preset'")


def test_runtime_import_does_not_import_tensorflow():
    code = "import ganzoo.runtime, sys; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- resume ----------------------------------------------------------------------------


def test_interrupted_training_resumes_where_it_stopped(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "ganzoo.cli", "train", "dcgan", *TINY_TRAIN,
            "--epochs", "40", "--out", str(run)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    backup = run / "backup"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if (backup / "epoch-0002.json").is_file():
            break
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run / "preset").exists()
    epochs_done = max(int(p.name[6:10]) for p in backup.glob("epoch-*.json"))

    result = ganzoo("train", "dcgan", "--out", run, "--resume")
    assert f"resuming {run} after epoch {epochs_done} of 40" in result.stderr
    history = (run / "history.csv").read_text().splitlines()[1:]
    epochs_logged = [int(line.split(",")[0]) for line in history]
    # Every epoch trained once overall, none repeated from scratch (an epoch cut short
    # by the kill may have been logged before its checkpoint was written: it reruns).
    assert epochs_logged[-1] == 39
    assert epochs_logged.count(0) == 1
    assert sorted(set(epochs_logged)) == list(range(40))
    assert (run / "preset" / "model.weights.h5").is_file()
    assert not backup.exists()  # removed once the run finished


def test_resume_rejects_changed_settings(trained_run):
    result = ganzoo_cli_inprocess(["train", "dcgan", "--out", str(trained_run), "--resume",
                                   "--batch-size", "8"])
    assert_one_line_error(result, "batch_size=8 differs")


def test_fine_tune_from_a_preset(trained_run, tmp_path):
    result = ganzoo_cli_inprocess([
        "train", "dcgan", "--data", "digits", "--preset", str(trained_run), "--steps", "4",
        "--batch-size", "32", "--samples", "4", "--out", str(tmp_path / "tuned")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "tuned" / "preset" / "config.json").read_text())
    assert config["training"]["started_from"] == str(trained_run)
    assert config["image_shape"] == [16, 16, 1]  # taken from the preset
    assert config["config"]["generator_filters"] == 8


def test_fine_tune_refuses_a_preset_of_another_family(trained_run, tmp_path):
    result = ganzoo_cli_inprocess(["train", "gan", "--data", "digits", "--preset",
                                   str(trained_run), "--out", str(tmp_path / "r")])
    assert_one_line_error(result, "is a 'dcgan' model, not 'gan'")


# -- one line instead of a traceback ---------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["-n", "100000000"], "n=100000000 samples of 16x16x1 need"),
    (["--seed", "-1"], "seed"),
])
def test_sample_refuses_impossible_requests_in_one_line(trained_run, tmp_path, args, message):
    for source in (trained_run,):
        result = ganzoo_cli_inprocess(["sample", source, *args, "--out", tmp_path / "g.png"])
        assert_one_line_error(result, message)
    assert not (tmp_path / "g.png").exists()


def test_sample_from_a_bundle_refuses_impossible_requests_in_one_line(trained_run, tmp_path):
    ganzoo("export", trained_run, "--out", tmp_path / "bundle")
    for args, message in ((["-n", "100000000"], "n=100000000 samples of 16x16x1 need"),
                          (["--seed", "-1"], "seed")):
        result = ganzoo_cli_inprocess(["sample", tmp_path / "bundle", *args,
                                       "--out", tmp_path / "g.png"])
        assert_one_line_error(result, message)


@pytest.mark.parametrize("error, message", [
    (PermissionError(13, "Permission denied", "/ro/g.png"), "Permission denied: /ro/g.png"),
    (OSError(28, "No space left on device", "/full/g.png"), "No space left on device"),
])
def test_sample_write_failures_are_one_line(trained_run, tmp_path, monkeypatch, error, message):
    from ganzoo import _imaging

    def failing_save(*args, **kwargs):
        raise error

    monkeypatch.setattr(_imaging, "save_png", failing_save)
    result = ganzoo_cli_inprocess(["sample", trained_run, "-n", "4", "--out", tmp_path / "g.png"])
    assert_one_line_error(result, message)


@pytest.mark.parametrize("disk", ["read-only", "full"])
def test_write_failures_name_the_path_asked_for_not_a_temporary_file(trained_run, tmp_path,
                                                                      disk):
    reason = {"read-only": "Read-only file system", "full": "No space left on device"}[disk]
    mount = read_only_disk if disk == "read-only" else (
        lambda folder: small_disk(folder, free_bytes=0))
    with mount(tmp_path / "disk") as folder:
        for args, path in [
            (["sample", trained_run, "-n", "4", "--out", folder / "g.png"], folder / "g.png"),
            (["evaluate", trained_run, "--data", "digits", "-n", "16", "--features",
              "digits", "--json", folder / "e.json"], folder / "e.json"),
        ]:
            result = ganzoo_cli_inprocess(args)
            # A read-only folder is found before any work; a full disk only when writing.
            check = assert_one_line_error if disk == "read-only" else assert_error_line
            check(result, f"cannot write to {path}: {reason}")
        if disk == "full":
            result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "1",
                                           "--out", folder / "run"])
            assert_one_line_error(result, f"cannot write to {folder / 'run'}")
            assert result.output.strip().endswith(reason)
        assert sorted(os.listdir(folder)) in ([], ["filler"])


def test_train_on_a_dataset_not_available_offline_is_one_line(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from ganzoo.data import tfds_source

    def no_download(self, *args, **kwargs):
        raise AssertionError("download_and_prepare must not run offline")

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(tfds_source, "NETWORK_PROBE_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    result = ganzoo_cli_inprocess(["train", "dcgan", "--data", "cifar10", "--steps", "1",
                                   "--out", tmp_path / "run"])
    assert_one_line_error(result, "not available offline")
    assert not (tmp_path / "run").exists()


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_a_training_run(run):
    """Start a long training run, Ctrl-C it after its first checkpoint (again if the first
    signal landed where nothing saw it, as a user would); (return code or None if it never
    answered, its stderr)."""
    args = [sys.executable, "-m", "ganzoo.cli", "train", "dcgan", *TINY_TRAIN,
            "--epochs", "400", "--out", str(run)]
    # Output to files, not pipes: a full pipe nobody reads while the test waits for the
    # first checkpoint would block the run in a write, where Ctrl-C cannot reach it.
    run.parent.mkdir(parents=True, exist_ok=True)
    out_file, err_file = run.parent / f"{run.name}.stdout", run.parent / f"{run.name}.stderr"
    with open(out_file, "w") as stdout_handle, open(err_file, "w") as stderr_handle:
        # Ctrl-C as a terminal delivers it: a test run in the background (`make test-all &`,
        # CI scripts) inherits SIGINT ignored, and so would the child, which Python then
        # leaves ignored: the run would train on through every SIGINT.
        process = subprocess.Popen(args, stdout=stdout_handle, stderr=stderr_handle, text=True,
                                   preexec_fn=_default_sigint)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if (run / "backup" / "epoch-0001.json").is_file():
            break
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be interrupted"
    for _ in range(4):
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
            break
        except subprocess.TimeoutExpired:
            continue
    answered = process.poll() is not None
    if not answered:
        process.kill()
        process.wait()
    return (process.returncode if answered else None), err_file.read_text()


@pytest.mark.slow
# Serial: a run that must answer within seconds, with no training beside it; `make
# test-slow` runs it first, alone.
@pytest.mark.serial
def test_ctrl_c_during_train_names_the_resume_command(tmp_path):
    run = tmp_path / "run"
    returncode, stderr = _interrupt_a_training_run(run)
    assert returncode == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("ganzoo: error: interrupted after epoch "), stderr[-2000:]
    assert last.endswith(f"continue with ganzoo train dcgan --out {run} --resume")
    assert "Traceback" not in stderr


def test_tensorflow_errors_are_one_line():
    import tensorflow as tf

    from ganzoo import cli

    def exhausted():
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[400000,200000,4,4]\nmore")

    with pytest.raises(cli.UserError) as error:
        cli._run_guarded(exhausted, debug=False)
    message = error.value.format_message()
    assert message.startswith("out of memory (OOM when allocating tensor")
    assert "--batch-size" in message and "\n" not in message
