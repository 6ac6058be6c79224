"""The two tasks a ganzoo generator does, named once for the models, the runtime and the CLI.

- `noise_to_image`: images drawn from seeded inputs (latents, class labels, truncation):
  `generate` / `sample` on a model (`ganzoo.models.NoiseToImage`), `sample` on a bundle
  (`ganzoo.runtime.Sampler`), `ganzoo sample` on the command line.
- `image_to_image`: images mapped to images: `translate` (cyclegan) and `upscale` (srgan)
  on a model (`ganzoo.models.ImageToImage`) or a bundle (`ganzoo.runtime.Translator`,
  `ganzoo.runtime.SuperResolver`), `ganzoo translate` / `ganzoo upscale`.

Calling one task's method on a generator of the other raises `WrongTask`, one line naming
what the generator does and what to call instead. No TensorFlow here: the runtime uses it.
"""

NOISE_TO_IMAGE = "noise_to_image"
IMAGE_TO_IMAGE = "image_to_image"
TASKS = (NOISE_TO_IMAGE, IMAGE_TO_IMAGE)

# The methods that belong to one task, with the generators they are for (the first half
# of the wrong-task message).
_METHODS = {
    "sample": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "generate": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "inputs_for": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "sampling_inputs": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "sampling_batches": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "draw_latents": (NOISE_TO_IMAGE, "generators that draw images from a seed"),
    "walk": (NOISE_TO_IMAGE, "generators that draw images from latents"),
    "translate": (IMAGE_TO_IMAGE, "image-to-image generators (cyclegan and other generators "
                                  "with an image input)"),
    "upscale": (IMAGE_TO_IMAGE, "super-resolution generators (srgan)"),
}


# Methods of style-based generators only (stylegan_lite models and bundles): a w space.
STYLE_METHODS = ("mix", "map_to_w", "synthesize")


def no_w_space(what, subject):
    """The one line for `what` (a method, an option) asked of `subject` (e.g. "this bundle
    (dcgan)"), a generator without w."""
    return (f"{what} is for style-based generators (stylegan_lite), whose mapping network "
            f"gives a w space; {subject} has none")


class WrongTask(AttributeError, ValueError):
    """A task's method called on a generator that does the other task.

    An AttributeError, so that `hasattr(generator, "sample")` tells the tasks apart, and a
    ValueError, so that it reads as one line like every bad argument.
    """


def task_of_method(name):
    """The task `name` is a method of (`"sample"` -> `noise_to_image`), or None."""
    entry = _METHODS.get(name)
    return entry[0] if entry else None


def wrong_task(name, what, does, use):
    """The `WrongTask` for calling method `name` on `what` (e.g. "this bundle (dcgan)"),
    which `does` something else (e.g. "generates images from a seed"): `use` it instead."""
    return WrongTask(f"{name}() is for {_METHODS[name][1]}; {what} {does}: use {use}")
