"""One answer to where Keras keeps downloaded weights, for the extractors and srgan alike."""

import pytest

from ganzoo import _keras_cache
from ganzoo.metrics import features
from ganzoo.models import srgan


def test_keras_home_decides_the_folder_for_inception_and_vgg19(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    models = tmp_path / "models"
    assert _keras_cache.keras_models_dir() == str(models)
    assert srgan.vgg19_cache_path() == str(models / srgan.VGG19_WEIGHTS_FILE)
    models.mkdir()
    (models / features.INCEPTION_WEIGHTS_FILE).write_bytes(b"weights")
    assert features._cached_weights(features.INCEPTION_WEIGHTS_FILE) == str(
        models / features.INCEPTION_WEIGHTS_FILE)


@pytest.mark.parametrize("home_writable", [True, False])
def test_without_keras_home_it_is_home_dot_keras_or_tmp(tmp_path, monkeypatch, home_writable):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    if not home_writable:
        monkeypatch.setattr(_keras_cache.os, "access", lambda path, mode: False)
    expected = home / ".keras" / "models" if home_writable else "/tmp/.keras/models"
    assert _keras_cache.keras_models_dir() == str(expected)
