"""The wheel ships the presets and the digits classifier, and an app that installs it uses them.

The wheel is built (`pip wheel --no-deps --no-build-isolation`, offline) from a clean copy of
the build inputs, so files left in `build/` by an earlier build cannot stand in for missing
ones. It is installed into a fresh virtualenv outside the checkout; that virtualenv reaches
the heavy dependencies (TensorFlow, Keras, ...) through a `.pth` line naming this
environment's site-packages, whose own `.pth` files (among them the editable install's
finder) are not run, so `ganzoo` can only come from the wheel.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import ganzoo_cli_inprocess

ROOT = Path(__file__).resolve().parents[1]
# What `pip wheel .` reads; a build that needs more fails here and names it.
BUILD_INPUTS = ("pyproject.toml", "setup.cfg", "MANIFEST.in", "README.md", "ganzoo", "pretrained")
PRESET = "dcgan-digits"
CLASSIFIER = "digits-classifier"
TIMEOUT = 300


def _shipped_folders():
    """{name: [file names]} of the folders of `pretrained/` that must ship (not recipes)."""
    return {
        folder.name: sorted(p.name for p in folder.iterdir() if p.is_file())
        for folder in sorted((ROOT / "pretrained").iterdir())
        if (folder / "config.json").is_file()
    }


def _run(command, cwd, env=None):
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, virtualenv folder, a working folder outside the checkout, env)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=True, ignore=ignore)
        elif path.is_file():
            shutil.copy2(path, source / name)
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-index",
          "--no-build-isolation", "--quiet", "-w", str(tmp / "dist")], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("ganzoo-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=tmp).stdout.strip()
    ours = sysconfig.get_paths()
    (Path(site) / "zz_ganzoo_test_deps.pth").write_text(
        "".join(f"{path}\n" for path in dict.fromkeys([ours["purelib"], ours["platlib"]]))
    )
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
          "--no-index", "--quiet", str(wheel)], cwd=tmp)

    work = tmp / "app"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "GANZOO_PRESETS", "PYTHONHOME")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    return wheel, venv, work, env


def test_wheel_holds_every_file_of_the_shipped_folders(installed):
    wheel = installed[0]
    shipped = _shipped_folders()
    assert {PRESET, CLASSIFIER} <= set(shipped)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for folder, files in shipped.items():
            assert {"config.json", "card.md", "sha256.txt"} <= set(files)
            assert any(name.endswith(".weights.h5") for name in files)
            for name in files:
                member = f"ganzoo/_pretrained/{folder}/{name}"
                assert member in names, f"{member} is missing from {wheel.name}"
                source = (ROOT / "pretrained" / folder / name).read_bytes()
                assert hashlib.sha256(archive.read(member)).digest() == \
                    hashlib.sha256(source).digest(), f"{member} differs from pretrained/"
    # The training recipes stay in the repository.
    assert not [name for name in names if "/recipes/" in name]


def test_installed_wheel_lists_and_samples_the_shipped_preset(installed, tmp_path):
    _, venv, work, env = installed
    listing = _run([venv / "bin" / "ganzoo", "list"], cwd=work, env=env).stdout
    assert PRESET in listing
    assert CLASSIFIER not in listing

    grid = work / "grid.png"
    _run([venv / "bin" / "ganzoo", "sample", PRESET, "-n", "4", "--seed", "0",
          "--out", grid, "--overwrite"], cwd=work, env=env)
    # The same pictures as the checkout's preset draws for the same seed.
    expected = tmp_path / "expected.png"
    result = ganzoo_cli_inprocess(["sample", PRESET, "-n", "4", "--seed", "0",
                                   "--out", expected])
    assert result.exit_code == 0, result.output
    got, want = (np.asarray(Image.open(path)).astype(int) for path in (grid, expected))
    assert got.shape == want.shape and got.size > 0
    assert np.abs(got - want).max() <= 1


def test_installed_wheel_imports_ganzoo_from_the_wheel_and_finds_the_classifier(installed):
    _, venv, work, env = installed
    script = (
        "import json, ganzoo, numpy as np\n"
        "from ganzoo import presets\n"
        "from ganzoo.metrics import features\n"
        "extractor = features.get_extractor('digits')\n"
        "out = extractor(np.zeros((2, 32, 32, 1), np.uint8))\n"
        "print(json.dumps({'ganzoo': ganzoo.__file__, 'presets': ganzoo.list_presets(),\n"
        "                  'search_path': [str(p) for p in presets.search_path()],\n"
        "                  'classifier': extractor.weights, 'features': list(out.shape)}))\n"
    )
    report = json.loads(
        _run([venv / "bin" / "python", "-c", script], cwd=work, env=env).stdout.splitlines()[-1]
    )
    venv = venv.resolve()
    assert Path(report["ganzoo"]).resolve().is_relative_to(venv), report
    assert not Path(report["ganzoo"]).resolve().is_relative_to(ROOT), report
    assert PRESET in report["presets"]
    assert Path(report["search_path"][-1]).is_relative_to(venv), report
    assert Path(report["classifier"]).resolve().is_relative_to(venv), report
    assert Path(report["classifier"]).name == CLASSIFIER
    assert report["features"] == [2, 128]
