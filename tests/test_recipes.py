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


def test_the_srgan_recipe_without_apt_stops_in_one_line(tmp_path):
    """The srgan recipe fetches Debian's wallpapers with apt-get and dpkg-deb: where they
    are missing it says so in one line (and the tests never need the wallpapers)."""
    import os

    done = subprocess.run(
        [sys.executable, str(ROOT / "pretrained" / "recipes" / "srgan_x4_photos.py"),
         "--prepare-only", "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PATH": str(tmp_path / "no-tools")})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "srgan_x4_photos.py: needs apt-get and dpkg-deb (Debian or Ubuntu) to fetch the "
        "wallpapers of mate-backgrounds; apt-get and dpkg-deb not found")
    assert not (tmp_path / "cache" / "packages").exists()


# -- the harness: every recipe goes through pretrained/recipes/_recipe.py ---------------

RECIPES = ROOT / "pretrained" / "recipes"
# What only the harness does: parse arguments, time training, write the preset.
HARNESS_ONLY = {"argparse", "ArgumentParser", "save_to_preset", "time.time",
                "TF_CPP_MIN_LOG_LEVEL"}


def recipe_scripts():
    return sorted(path for path in RECIPES.glob("*.py") if not path.name.startswith("_"))


def harness_problems(source):
    """What a recipe's source does that the harness should: [] when it uses the harness
    for its arguments and does none of HARNESS_ONLY itself."""
    import ast

    tree = ast.parse(source)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    names |= {node.value for node in ast.walk(tree)
              if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    problems = []
    if "_recipe" not in imported:
        problems.append("does not import _recipe")
    if "_recipe.parse_args" not in names:
        problems.append("does not parse its arguments with _recipe.parse_args")
    problems += [f"uses {name} (the harness's job)"
                 for name in sorted(HARNESS_ONLY & (imported | names))]
    return problems


def test_there_is_one_harness_and_every_recipe_uses_it():
    assert sorted(path.name for path in RECIPES.glob("_*.py")) == ["_recipe.py"]
    scripts = recipe_scripts()
    assert len(scripts) >= 9
    problems = {path.name: harness_problems(path.read_text("utf-8")) for path in scripts}
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("fault", [
    "import argparse\nargparse.ArgumentParser()\n",
    "from argparse import ArgumentParser\n",
    "import time\nstart = time.time()\n",
    "def write(model):\n    model.save_to_preset('x')\n",
])
def test_the_harness_check_catches_a_recipe_doing_the_harness_job(fault):
    source = (RECIPES / "dcgan_digits.py").read_text("utf-8")
    assert harness_problems(source) == []
    assert harness_problems(source + fault) != []
    assert harness_problems(source.replace("_recipe.parse_args", "parse_args")) != []


@pytest.fixture()
def harness(monkeypatch):
    monkeypatch.syspath_prepend(str(RECIPES))
    import _recipe

    return _recipe


def test_the_harness_parses_the_common_and_the_recipe_arguments(harness):
    args = harness.parse_args("A recipe.\n\nMore.", "x-digits", 1500, [])
    assert (args.out, args.overwrite, args.steps) == ("pretrained/x-digits", False, 1500)
    args = harness.parse_args(
        "A recipe.", "x-digits", 1500, ["--steps", "3", "--overwrite", "--docs", "d"],
        extra=lambda parser: parser.add_argument("--docs"))
    assert (args.steps, args.overwrite, args.docs) == (3, True, "d")


class _History:
    history = {"d_loss": [3.0, 2.0], "g_loss": [1.0, 0.5]}


class _FakeModel:
    def __init__(self):
        self.calls = []

    def fit(self, data, **options):
        self.calls.append(options)
        return _History()


@pytest.mark.parametrize("steps, per_epoch, epochs, taken", [
    (1500, 22, 69, 1518), (3, 22, 1, 3), (2400, 100, 24, 2400), (4, 100, 1, 4)])
def test_the_harness_fits_in_epochs(harness, steps, per_epoch, epochs, taken):
    model = _FakeModel()
    trained = harness.fit(model, None, steps, per_epoch,
                          callbacks=lambda n: [f"schedule over {n} epochs"])
    options = model.calls[0]
    assert (options["epochs"], options["steps_per_epoch"]) == (epochs, min(per_epoch, steps))
    assert options["callbacks"] == [f"schedule over {epochs} epochs"]
    assert trained["steps"] == taken and trained["epochs"] == epochs
    assert trained["losses"] == {"d_loss": 2.0, "g_loss": 0.5}
    assert trained["minutes"] >= 0 and trained["cores"] >= 1


def test_the_harness_writes_the_evaluate_command_a_card_reproduces(harness):
    assert harness.digits_command("dcgan-digits") == (
        "ganzoo evaluate pretrained/dcgan-digits --data digits --split test "
        "--features digits -n 1437")
    assert harness.evaluate_command(
        "pretrained/srgan-x4-photos", "photos", split="test", metrics=("psnr", "ssim"),
        image_size=96) == ("ganzoo evaluate pretrained/srgan-x4-photos --data photos "
                           "--split test --metrics psnr,ssim --image-size 96")
    assert harness.table(["", "FID"], [["this preset", "7.02"]]) == (
        "| | FID |\n| --- | --- |\n| this preset | 7.02 |")
