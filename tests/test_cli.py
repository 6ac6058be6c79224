"""The `ganzoo` command end to end: train -> sample -> export -> sample the bundle."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganzoo import cli

TINY_TRAIN = ["--data", "digits", "--image-size", "16", "--batch-size", "32",
              "--latent-dim", "16", "--model-option", "generator_filters=8",
              "--model-option", "discriminator_filters=8", "--samples", "16"]


def ganzoo(*args, check=True, timeout=300):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ganzoo {args} failed:\n{result.stdout}\n{result.stderr}")
    return result


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

    ganzoo.export.to_onnx(ganzoo.presets.load_model(trained_run), tmp_path / "b")
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


def ganzoo_cli_inprocess(args):
    return CliRunner().invoke(cli.main, args)


def assert_one_line_error(result, text):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("ganzoo: error:") and text in lines[0], lines[0]
    assert "Traceback" not in result.output


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

    ganzoo.export.to_onnx(ganzoo.presets.load_model(trained_run), tmp_path / "b")
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
    backup = run / "backup" / "training_metadata.json"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if backup.is_file() and json.loads(backup.read_text() or "{}").get("epoch", -1) >= 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run / "preset").exists()
    epochs_done = json.loads(backup.read_text())["epoch"] + 1

    result = ganzoo("train", "dcgan", "--out", run, "--resume")
    assert f"resuming {run} after epoch {epochs_done}" in result.stderr
    history = (run / "history.csv").read_text().splitlines()[1:]
    epochs_logged = [int(line.split(",")[0]) for line in history]
    # Every epoch trained exactly once overall, none repeated from scratch.
    assert epochs_logged[-1] == 39
    assert epochs_logged.count(0) == 1
    assert (run / "preset" / "model.weights.h5").is_file()


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
