"""Every shipped preset verifies, loads and samples."""

import numpy as np
import pytest

import ganzoo
from ganzoo import presets


def test_dcgan_digits_is_shipped():
    assert "dcgan-digits" in ganzoo.list_presets()


@pytest.mark.parametrize("name", presets.list_presets())
def test_shipped_preset_verifies_loads_and_samples(name):
    path = presets.verify(name)
    config = presets.read_config(name)
    assert (path / "card.md").read_text().startswith(f"# {name}")
    model = presets.load_model(name)
    assert model.preset_name == name
    images = model.sample(8, seed=0)
    assert images.shape == (8, *config["image_shape"])
    assert images.dtype == np.uint8
    # A trained generator draws different pictures for different latents.
    assert np.abs(images[0].astype(int) - images[1].astype(int)).mean() > 5
