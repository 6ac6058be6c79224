"""`ganzoo train` for small data: augmentation in runs (p saved and resumed exactly),
quality measured while training with `best/`, the health monitor's warnings in run.json,
and epochs that stay long when the data is short."""

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from cli_helpers import TINY_TRAIN, assert_one_line_error, ganzoo, ganzoo_cli_inprocess
from ganzoo import training
from ganzoo.training import run as run_lib
from test_run import weights_of

TINY = dict(image_size=16, batch_size=32, latent_dim=16, samples=4,
            model_options={"generator_filters": 8, "discriminator_filters": 8})
WORKER = Path(__file__).with_name("run_worker.py")


def png_folder(folder, count):
    """`count` digits as 8-bit PNG files, the way a user's folder looks."""
    from ganzoo.data.bundled import digits_arrays

    images, _ = digits_arrays("train")
    folder.mkdir(parents=True)
    for index in range(count):
        Image.fromarray(images[index].reshape(8, 8)).save(folder / f"{index:03d}.png")
    return folder


def history(run_folder):
    with open(Path(run_folder) / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# -- augmentation in runs ------------------------------------------------------------------


def test_killed_and_resumed_ada_run_ends_with_the_uninterrupted_weights_and_p(tmp_path):
    settings = dict(TINY, data="digits", family="dcgan", epochs=3, deterministic=True, seed=3,
                    augment="ada", health=False)

    def run_process(out, *extra):
        return subprocess.run([sys.executable, str(WORKER), str(out), json.dumps(settings),
                               *extra], capture_output=True, text=True, timeout=300)

    straight = run_process(tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = run_process(tmp_path / "killed", "--kill-after-epoch", "2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    state = json.loads((tmp_path / "killed" / "backup" / "epoch-0002.json").read_text())
    # p had moved, so a resume that restarted it at 0 would train differently.
    assert state["augment_state"]["p"] > 0
    resumed = ganzoo("train", "dcgan", "--out", tmp_path / "killed", "--resume")
    assert "after epoch 2 of 3" in resumed.stderr

    expected = weights_of(tmp_path / "straight" / "preset")
    got = weights_of(tmp_path / "killed" / "preset")
    different = [name for name in expected if not np.array_equal(expected[name], got[name])]
    assert different == []
    straight_p = [row["aug_p"] for row in history(tmp_path / "straight")]
    resumed_p = [row["aug_p"] for row in history(tmp_path / "killed")]
    assert resumed_p == straight_p and float(straight_p[-1]) > 0


def test_a_run_logs_p_and_r_t_and_refuses_bad_augmentations_in_one_line(tmp_path):
    result = ganzoo("train", "dcgan", *TINY_TRAIN, "--steps", "8", "--augment", "ada",
                    "--out", tmp_path / "run")
    rows = history(tmp_path / "run")
    assert {"aug_p", "r_t"} <= set(rows[0])
    assert json.loads((tmp_path / "run" / "run.json").read_text())["augment"] == "ada"
    assert "preset:" in result.stdout
    for args, text in (
            (["--augment", "sideways"], "Unknown augmentation 'sideways'"),
            (["--eval-n", "10"], "add --eval-every N"),
            (["--eval-every", "4", "--eval-metrics", "is"], "--eval-metrics takes some of"),
            (["--eval-every", "4", "--features", "vgg"], "Unknown --features 'vgg'")):
        failed = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "2",
                                       "--out", tmp_path / "bad", *args])
        assert_one_line_error(failed, text)
        assert not (tmp_path / "bad").exists()


def test_cyclegan_refuses_augment_before_writing_anything(tmp_path):
    result = ganzoo_cli_inprocess([
        "train", "cyclegan", "--data", "textures/grass", "--data-b", "textures/gravel",
        "--image-size", "16", "--batch-size", "2", "--steps", "1", "--augment", "ada",
        "--model-option", "disc_layers=2", "--model-option", "filters=4",
        "--out", tmp_path / "run"])
    assert_one_line_error(result, "cyclegan takes no augment=")
    assert not (tmp_path / "run").exists()


# -- quality while training ------------------------------------------------------------------


def test_eval_every_logs_fid_and_keeps_a_best_preset_that_samples(tmp_path):
    run = tmp_path / "run"
    result = ganzoo("train", "dcgan", *TINY_TRAIN, "--steps", "128", "--eval-every", "64",
                    "--eval-n", "64", "--eval-metrics", "fid,pr", "--out", run)
    assert "eval at step 64" in result.stderr and "eval at step 128" in result.stderr
    rows = history(run)
    assert {"eval_fid", "eval_precision", "eval_recall"} <= set(rows[0])
    assert all(float(row["eval_fid"]) > 0 for row in rows)
    card = (run / "best" / "card.md").read_text()
    assert "step" in card and "fid" in card.lower()
    grid = tmp_path / "best.png"
    ganzoo("sample", run / "best", "-n", "4", "--out", grid)
    assert Image.open(grid).size[0] > 0


# -- health ----------------------------------------------------------------------------------


class Collapse(keras.callbacks.Callback):
    """Plant a collapsed generator: every latent gives the same image, and stays so."""

    def on_train_batch_begin(self, batch, logs=None):
        kernel = self.model.generator.get_layer("to_image").kernel
        kernel.assign(np.zeros(kernel.shape, "float32"))


def test_a_collapse_is_warned_in_the_log_and_run_json_and_can_end_the_run(tmp_path):
    lines = []
    # From a trained preset, so the monitor judges from its first check (a fresh generator
    # is given time to spread its samples out).
    planned = training.plan_run("dcgan", "digits", tmp_path / "run", steps=256,
                                preset="dcgan-digits", batch_size=32, samples=4,
                                stop_on_collapse=True, log=lines.append)
    result = planned.train(callbacks=[Collapse()], verbose=0)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert warnings and "collapse" in warnings[0].lower(), lines
    events = json.loads((tmp_path / "run" / "run.json").read_text())["health_events"]
    assert events[0]["kind"] == "collapse"
    # Stopped cleanly before the planned 4 epochs of 64 steps: the preset is written and
    # the checkpoints from before the collapse are kept.
    assert any("stopped after epoch 1 of 4: the samples collapsed" in line
               for line in lines), lines
    assert (result.preset / "model.weights.h5").exists()
    assert run_lib.list_checkpoints(tmp_path / "run" / "backup")


def test_a_healthy_run_warns_nothing(tmp_path):
    lines = []
    training.plan_run("dcgan", "digits", tmp_path / "run", steps=64, preset="dcgan-digits",
                      batch_size=32, samples=4, log=lines.append).train(verbose=0)
    assert not [line for line in lines if line.startswith("warning:")], lines
    assert "health_events" not in json.loads((tmp_path / "run" / "run.json").read_text())


# -- small data keeps long epochs --------------------------------------------------------------


def test_an_epoch_of_small_data_is_at_least_min_epoch_images(tmp_path):
    folder = png_folder(tmp_path / "digits", 40)
    planned = training.plan_run("dcgan", folder, tmp_path / "run", steps=300, health=False,
                                **{**TINY, "batch_size": 8})
    result = planned.train(verbose=0)
    # 300 steps of at least 2048 / 8 = 256: two epochs of 150, not 60 epochs of 5.
    assert (result.epochs, result.steps_per_epoch) == (2, 150)
    # Two grids (and final.png), not one per pass over 40 images (37 of them).
    grids = sorted(path.name for path in (tmp_path / "run" / "samples").iterdir())
    assert grids == ["epoch_0001.png", "epoch_0002.png", "final.png"]


def test_schedule_repeats_small_data_but_keeps_one_pass_for_large_data():
    small = run_lib.schedule({"steps": 150, "epochs": None, "batch_size": 64,
                               "data": "folder"}, {"num_examples": 120})
    # 120 images are one step of 64; the 150 steps run in 5 epochs of 30, not 150 of 1.
    assert small == (5, 30)
    large = run_lib.schedule({"steps": None, "epochs": 2, "batch_size": 64,
                               "data": "big"}, {"num_examples": 64 * 1000})
    assert large == (2, 1000)

