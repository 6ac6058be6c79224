"""The digits recipes still run end to end: a few steps each, then the preset they write
loads, samples and carries the measured numbers in its card."""

import subprocess
import sys
from pathlib import Path

import pytest

import ganzoo

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("recipe, family", [
    ("dcgan_digits", "dcgan"), ("cgan_digits", "cgan"), ("wgan_gp_digits", "wgan_gp"),
    ("sagan_digits", "sagan"),
])
def test_a_digits_recipe_writes_a_measured_preset(tmp_path, recipe, family):
    out = tmp_path / "preset"
    done = subprocess.run(
        [sys.executable, str(ROOT / "pretrained" / "recipes" / f"{recipe}.py"),
         "--steps", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    model = ganzoo.models.load(out)
    assert model.family == family
    assert model.sample(2, seed=0).shape == (2, 32, 32, 1)
    card = (out / "card.md").read_text()
    assert "| this preset |" in card and "real train vs test (the floor)" in card
    assert (out / "samples.png").is_file()


@pytest.mark.slow
def test_the_faces_recipe_fine_tunes_with_ada_and_measures_its_card(tmp_path):
    out = tmp_path / "preset"
    done = subprocess.run(
        [sys.executable, str(ROOT / "pretrained" / "recipes" / "dcgan_faces_ada.py"),
         "--steps", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    model = ganzoo.models.load(out)
    assert model.family == "dcgan" and model.augmentation is None
    card = (out / "card.md").read_text()
    assert "| this preset (ADA) |" in card and "without augmentation" in card
    assert ganzoo.presets.read_config(out)["training"]["augment"] == "ada"
