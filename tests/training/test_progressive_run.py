"""`ganzoo train stylegan_lite --model-option progressive=true` grows: the run adds the
progressive-growing schedule, spread over the first half of the run."""

import csv

import pytest

from cli_helpers import ganzoo_cli_inprocess
from ganzoo import training

TINY = ["--data", "digits", "--image-size", "16", "--batch-size", "32", "--latent-dim", "8",
        "--model-option", "style_dim=8", "--model-option", "mapping_layers=2",
        "--model-option", "channel_base=64", "--model-option", "channel_max=8",
        "--samples", "4", "--no-health"]


def test_the_schedule_grows_over_the_first_half_of_the_run():
    grow = training.ProgressiveGrowing.spread_over(8192, 16)  # 4x4 -> 16x16: two levels
    assert (grow.stable_images, grow.fade_images) == (1024, 1024)
    assert [grow.lod_at(images, 16) for images in (0, 1024, 1536, 2048, 4096, 8192)] == [
        2.0, 2.0, 1.5, 1.0, 0.0, 0.0]
    assert training.ProgressiveGrowing.spread_over(8192, 4) is None


@pytest.mark.slow
def test_a_progressive_run_from_the_cli_grows_to_the_final_resolution(tmp_path):
    # 4 epochs of 2,048 images: lod 1 after the first, 0 from the second on.
    result = ganzoo_cli_inprocess(["train", "stylegan_lite", *TINY, "--epochs", "4",
                                   "--model-option", "progressive=true",
                                   "--out", tmp_path / "run"])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "run" / "history.csv") as handle:
        lods = [float(row["lod"]) for row in csv.DictReader(handle)]
    assert lods == [1.0, 0.0, 0.0, 0.0]
