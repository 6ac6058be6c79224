"""Every family trains from the command line with no options but its data, at the CLI's
default sizes (a default that no network of the default size has was a traceback)."""

import json

import pytest

from cli_helpers import ganzoo_cli_inprocess
from ganzoo import models

# Each family's natural data: digits for the noise-to-image families, two texture
# domains for cyclegan, photographs for srgan (digits are 8x8 pictures, smaller than
# its 96-pixel patches).
DATA = {"cyclegan": ["--data", "textures/grass", "--data-b", "textures/gravel"],
        "srgan": ["--data", "photos"]}


def test_the_table_covers_every_family():
    assert set(DATA) <= set(models.names())
    assert {name for name in models.names() if models.get(name).task == "image_to_image"} \
        == set(DATA)


@pytest.mark.slow
@pytest.mark.parametrize("family", models.names())
def test_every_family_trains_with_its_defaults(family, tmp_path):
    out = tmp_path / family
    result = ganzoo_cli_inprocess(["train", family, *DATA.get(family, ["--data", "digits"]),
                                   "--steps", "2", "--no-health", "--out", out])
    assert result.exit_code == 0, result.output
    settings = json.loads((out / "run.json").read_text())
    assert settings["model_options"] is None and settings["compile_options"] is None
    assert (out / "preset" / "model.weights.h5").is_file()


@pytest.mark.parametrize("size, expected", [(16, 8), (32, 16), (64, 32), (128, 32)])
def test_sagans_default_attention_fits_the_image_size(size, expected):
    gan = models.SAGAN(image_shape=(size, size, 1), latent_dim=4, generator_filters=2,
                       discriminator_filters=2)
    assert gan.attention_resolution == expected
    assert gan.get_config()["attention_resolution"] == expected
