"""`--compile-option KEY=VALUE`: the paper's knobs from the command line, recorded in
run.json, used again by --resume, refused in one line when the family does not take them."""

import json

import keras
import pytest

from cli_helpers import TINY_TRAIN, assert_one_line_error, ganzoo_cli_inprocess
from ganzoo import training

TINY = dict(data="digits", image_size=16, batch_size=32, latent_dim=16, samples=4,
            model_options={"generator_filters": 8, "discriminator_filters": 8})
SGD = {"class_name": "SGD", "config": {"learning_rate": 0.0123}}


class Seen(keras.callbacks.Callback):
    """What `compile` set on the model, seen when training begins."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def on_train_begin(self, logs=None):
        model = self.model
        self.seen = {
            "loss": model.loss_name,
            "g_optimizer": type(model.g_optimizer).__name__,
            "g_learning_rate": float(keras.ops.convert_to_numpy(model.g_optimizer.learning_rate)),
            "d_optimizer": type(model.d_optimizer).__name__,
        }


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


def test_compile_options_reach_compile_and_run_json(tmp_path):
    seen = Seen()
    run = training.plan_run("dcgan", out=tmp_path / "r", steps=1,
                            compile_options={"loss": "hinge", "g_optimizer": SGD}, **TINY)
    run.train(callbacks=[seen], verbose=0)
    assert seen.seen == {"loss": "hinge", "g_optimizer": "SGD",
                         "g_learning_rate": pytest.approx(0.0123), "d_optimizer": "Adam"}
    recorded = json.loads((tmp_path / "r" / "run.json").read_text())
    assert recorded["compile_options"] == {"loss": "hinge", "g_optimizer": SGD}


def test_resume_compiles_with_the_recorded_options(tmp_path):
    out = tmp_path / "r"
    run = training.plan_run("dcgan", out=out, epochs=2,
                            compile_options={"loss": "hinge", "g_optimizer": SGD}, **TINY)
    with pytest.raises(KeyboardInterrupt):
        run.train(callbacks=[StopAfterFirstEpoch()], verbose=0)
    seen = Seen()
    training.plan_resume(out).train(callbacks=[seen], verbose=0)
    assert seen.seen["loss"] == "hinge" and seen.seen["g_optimizer"] == "SGD"
    assert seen.seen["g_learning_rate"] == pytest.approx(0.0123)
    # Given again, the options must be the run's own.
    with pytest.raises(ValueError, match="compile_options="):
        training.plan_resume(out, compile_options={"loss": "lsgan"})


def test_the_cli_parses_records_and_trains_with_them(tmp_path):
    result = ganzoo_cli_inprocess(["train", "wgan_gp", *TINY_TRAIN, "--steps", "1",
                                   "--batch-size", "40", "--out", tmp_path / "r",
                                   "--compile-option", "gp_weight=2.5",
                                   "--compile-option", "d_optimizer=rmsprop"])
    assert result.exit_code == 0, result.output
    recorded = json.loads((tmp_path / "r" / "run.json").read_text())
    assert recorded["compile_options"] == {"gp_weight": 2.5, "d_optimizer": "rmsprop"}


@pytest.mark.parametrize("args, message", [
    (["--compile-option", "nope=1"],
     "Bad --compile-option for dcgan (nope=1): Unknown compile options for DCGAN: ['nope']"),
    (["--compile-option", "g_optimizer=adamw2"],
     "Bad --compile-option for dcgan (g_optimizer='adamw2'): g_optimizer must be a Keras "
     "optimizer"),
    (["--compile-option", "loss=hinge", "--compile-option", "loss=lsgan"],
     "--compile-option loss is given twice"),
    (["--compile-option", "loss"], "--compile-option must be KEY=VALUE"),
    (["--compile-option", "augment=ada"], "Set augment with --augment, not --compile-option"),
])
def test_a_bad_compile_option_is_one_line_and_leaves_no_folder(tmp_path, args, message):
    result = ganzoo_cli_inprocess(["train", "dcgan", *TINY_TRAIN, "--steps", "1",
                                   "--out", tmp_path / "r", *args])
    assert_one_line_error(result, message)
    assert not (tmp_path / "r").exists()
