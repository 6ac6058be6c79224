"""The two tasks on the shared trainer: every family is noise-to-image or image-to-image,
each task owns what only it needs, and the models, the runtime and the CLI name them alike."""

import inspect

import numpy as np
import pytest

from ganzoo import _tasks, models, runtime
from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess

IMAGE_TO_IMAGE = {"cyclegan", "srgan"}

# What the step machinery must not carry any more: each belongs to one task or one family.
NOT_IN_THE_BASE = (
    # noise to image
    "latent_dim", "conditional", "generate", "sample", "sampling_inputs", "sampling_batches",
    "sample_latents", "generator_inputs", "discriminator_inputs", "unpack_batch",
    "class_labels", "training_data", "describe_training_data", "train_step", "test_step",
    # image to image
    "remember_preview", "unpack_pair", "translate", "upscale",
    # one family's hooks (cyclegan), or names they had before
    "default_callbacks", "extra_networks", "build_extra_networks", "named_generators",
    "latent_input", "previews_data",
)


@pytest.mark.parametrize("name", models.names())
def test_every_family_does_exactly_one_task(name):
    family = models.get(name)
    is_image = issubclass(family, models.ImageToImage)
    assert is_image != issubclass(family, models.NoiseToImage)
    assert family.task == (_tasks.IMAGE_TO_IMAGE if name in IMAGE_TO_IMAGE
                           else _tasks.NOISE_TO_IMAGE)
    assert is_image == (family.task == _tasks.IMAGE_TO_IMAGE)


def test_the_step_machinery_holds_nothing_of_one_task_or_one_family():
    own = {name for cls in models.AdversarialModel.__mro__
           if cls.__module__.startswith("ganzoo") for name in vars(cls)}
    assert not own & set(NOT_IN_THE_BASE), sorted(own & set(NOT_IN_THE_BASE))


def test_each_task_holds_only_its_own_methods():
    assert not hasattr(models.ImageToImage, "generate")
    assert not hasattr(models.ImageToImage, "sampling_inputs")
    assert not hasattr(models.NoiseToImage, "remember_preview")
    assert not hasattr(models.NoiseToImage, "unpack_pair")
    # A second dataset is one family's (cyclegan's) business, not a task's.
    for task in (models.NoiseToImage, models.ImageToImage):
        assert "data_b" not in inspect.signature(task.training_data).parameters
    assert "data_b" in inspect.signature(models.CycleGAN.training_data).parameters
    assert "data_b" not in inspect.signature(models.SRGAN.training_data).parameters


def _tiny(name):
    if name == "cyclegan":
        return models.CycleGAN(image_shape=(16, 16, 1), filters=4, blocks=1, disc_filters=4,
                               disc_layers=1)
    if name == "srgan":
        return models.SRGAN(image_shape=(16, 16, 1), scale=2, filters=4, blocks=1,
                            disc_filters=4)
    return models.DCGAN(image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
                        discriminator_filters=4)


@pytest.mark.parametrize("name, method, use", [
    ("dcgan", "translate", r"sample\(n, seed=\.\.\.\) or `ganzoo sample SOURCE`"),
    ("dcgan", "upscale", r"sample\(n, seed=\.\.\.\)"),
    ("cyclegan", "sample", r"translate\(images, direction='a2b'\)"),
    ("cyclegan", "generate", r"translate\(images"),
    ("cyclegan", "upscale", r"translate\(images"),
    ("srgan", "sample", r"upscale\(image\) or `ganzoo upscale"),
    ("srgan", "translate", r"upscale\(image\)"),
])
def test_the_other_tasks_method_is_one_line_naming_what_to_call(name, method, use):
    model = _tiny(name)
    assert not hasattr(model, method)
    with pytest.raises(_tasks.WrongTask, match=rf"^{method}\(\) is for .*; a {name} model "
                                               rf".*: use {use}") as info:
        getattr(model, method)(np.zeros((1, 16, 16, 1), np.uint8))
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    # Any other missing attribute is a plain AttributeError.
    with pytest.raises(AttributeError) as other:
        model.no_such_attribute
    assert not isinstance(other.value, _tasks.WrongTask)


def test_the_runtime_names_the_same_two_tasks():
    assert runtime.Sampler.task == _tasks.NOISE_TO_IMAGE == models.NoiseToImage.task
    for task in (runtime.Translator, runtime.SuperResolver):
        assert issubclass(task, runtime.ImageToImage)
        assert task.task == _tasks.IMAGE_TO_IMAGE == models.ImageToImage.task
    assert runtime.WrongTask is _tasks.WrongTask


def test_the_cli_lists_each_familys_task():
    result = ganzoo_cli_inprocess(["list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in
            result.output.split("Families:")[1].splitlines() if line.strip()}
    for name in models.names():
        assert rows[name][-1] == models.get(name).task


def test_the_cli_refuses_the_other_tasks_command_in_one_line(tmp_path):
    picture = tmp_path / "in.png"
    from ganzoo import images

    images.save_png(np.zeros((32, 32, 1), np.uint8), picture)
    result = ganzoo_cli_inprocess(["translate", "dcgan-digits", str(picture),
                                   str(tmp_path / "out.png")])
    assert_one_line_error(result, "translate() is for image-to-image generators")
    assert "a dcgan model generates images from a seed: use sample" in result.output
    assert not (tmp_path / "out.png").exists()
