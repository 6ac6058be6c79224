"""Recipe of the `cyclegan-grass2gravel` preset: a CycleGAN between two bundled textures.

    .venv/bin/python pretrained/recipes/cyclegan_grass2gravel.py [--out pretrained/cyclegan-grass2gravel]
    .venv/bin/python pretrained/recipes/cyclegan_grass2gravel.py --measure pretrained/cyclegan-grass2gravel

Domain A is scikit-image's `grass` texture, domain B its `gravel` texture (512x512
grayscale each), trained on random 64x64 crops with random flips
(`ganzoo.data.load_unpaired`), batch 1 as in the paper. The networks are the paper's
(ResNet generators with 6 residual blocks, PatchGAN discriminators, instance norm, LSGAN,
cycle lambda 10, identity 0.5 lambda, a 50-image history pool, Adam(2e-4, 0.5), the
learning rate constant for the first half and decaying linearly to 0 over the second),
narrower so that it trains on 2 CPU cores: generators of width 24 (then 48, 96), PatchGANs
of width 32 with two stride-2 convolutions (34x34 patches, about half the image, as 70x70
patches are of the paper's 256x256 images). 2,400 steps take about 14 minutes on 2 idle
CPU cores (0.34 s per step); the shipped preset took 46 minutes beside five other jobs on
the same 2 cores. Then the recipe measures the translation (see `measure`), writes the
preset (weights, config, card, before/after picture, manifest) and, with `--docs-image`,
the picture of docs/cyclegan.md.

`--measure FOLDER` only measures a preset folder and prints the card's table. `--steps N`
trains N steps instead of 2,400 (epochs of 100, the learning rate decaying over the second
half of them). `_recipe.py` is the harness (arguments, `fit`, `evaluate`, `save`) every recipe
shares.
"""

import sys

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import numpy as np
from ganzoo import images, presets
from ganzoo.data import bundled

EPOCHS = 24
STEPS_PER_EPOCH = 100
STEPS = EPOCHS * STEPS_PER_EPOCH
BATCH_SIZE = 1
SIZE = 64
SETTINGS = dict(image_shape=(SIZE, SIZE, 1), filters=24, disc_filters=32, disc_layers=2,
                blocks=6, pool_size=50, seed=0)
# Random crops the translation is measured on, per set.
MEASURE_N = 1024
MEASURE_COMMAND = ("python pretrained/recipes/cyclegan_grass2gravel.py --measure "
                   "pretrained/cyclegan-grass2gravel")
PICTURE = "before_after.png"

CARD = """# cyclegan-grass2gravel

A CycleGAN (Zhu et al. 2017) between scikit-image's `grass` (domain A) and `gravel`
(domain B) textures. `ganzoo translate cyclegan-grass2gravel grass.png gravel.png` turns
grass into gravel (`--direction b2a`: gravel into grass).

![before and after](before_after.png)

Top row: 64x64 grass crops; second row: translated to gravel (`a2b`); third row: gravel
crops; bottom row: translated to grass (`b2a`).

| | |
| --- | --- |
| family | `cyclegan` |
| images | 64x64, 1 channel (grayscale), values in [-1, 1]; the generators take any size that is a multiple of 4 (`translate` pads other sizes) |
| generators | `a2b` (grass to gravel, the default) and `b2a`: ResNet, widths 24-48-96, 6 residual blocks, instance norm, reflection padding |
| discriminators | PatchGAN, widths 32-64-128, two stride-2 convolutions (34x34 patches) |
| data | `ganzoo.data.load_unpaired("textures/grass", "textures/gravel", image_size=64, batch_size=1, seed=0, repeat=True)`: random 64x64 crops of the two 512x512 pictures, flipped at random both ways |
| recipe | `pretrained/recipes/cyclegan_grass2gravel.py`: {steps} steps of batch {batch_size} ({epochs} epochs of {steps_per_epoch}), LSGAN, cycle weight 10, identity weight 0.5 x 10, history pool of 50, Adam(2e-4, 0.5), learning rate decaying linearly to 0 over the last {half} epochs, seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores shared with other trainings (a step takes 0.34 s on 2 otherwise idle cores: about 14 minutes) |
| final losses | d_loss {d_loss:.3f}, g_loss {g_loss:.3f}, cycle_loss {cycle_loss:.3f}, identity_loss {identity_loss:.3f} (mean over the last epoch) |

## Measured

{measured}

## Limits

Both textures come from one 512x512 picture each, and the measured crops come from the
same pictures the model trained on: the numbers say the model translates, not that it
generalises to other grass. The `digits` features are those of a small classifier of
handwritten digits (the only feature extractor that works offline here; ImageNet's
InceptionV3 needs its weights in the Keras cache): they respond to strokes, blobs and
contrast, which is enough to tell these textures apart (see the table), but FIDs on them
are not comparable with Inception FIDs. Narrow networks trained for minutes on a CPU:
the gravel is plausible at a glance, not photographic.
"""


def random_crops(name, n, seed, size=SIZE):
    """`n` uint8 (size, size, 1) crops of a bundled texture at seeded random positions."""
    picture = bundled.texture_picture(name)
    rng = np.random.default_rng(seed)
    tops = rng.integers(0, picture.shape[0] - size + 1, n)
    lefts = rng.integers(0, picture.shape[1] - size + 1, n)
    return np.stack([picture[t:t + size, l:l + size] for t, l in zip(tops, lefts)])


def fid(images, real):
    """FID and KID of uint8 `images` against uint8 `real`, on the `digits` features."""
    results = _recipe.evaluate(images, real, metrics="fid,kid", features="digits",
                               n=len(images), n_data=len(real), seed=0)
    return results["fid"], results["kid"]


def measure(gan):
    """The card's table: FIDs of translated and untranslated crops against real ones."""
    grass = random_crops("grass", MEASURE_N, seed=100)
    gravel = random_crops("gravel", MEASURE_N, seed=101)
    gravel_again = random_crops("gravel", MEASURE_N, seed=102)
    grass_again = random_crops("grass", MEASURE_N, seed=103)
    rows = {
        "grass vs gravel (before)": fid(grass, gravel),
        "translated grass (a2b) vs gravel": fid(gan.translate(grass, "a2b"), gravel),
        "other gravel crops vs gravel (the floor)": fid(gravel_again, gravel),
        "gravel vs grass (before)": fid(gravel, grass_again),
        "translated gravel (b2a) vs grass": fid(gan.translate(gravel, "b2a"), grass_again),
        "other grass crops vs grass (the floor)": fid(grass, grass_again),
    }
    before = rows["grass vs gravel (before)"][0]
    after = rows["translated grass (a2b) vs gravel"][0]
    back_before = rows["gravel vs grass (before)"][0]
    back_after = rows["translated gravel (b2a) vs grass"][0]
    table = ["| images | against | FID | KID |", "| --- | --- | --- | --- |"]
    for name, (fid_value, kid_value) in rows.items():
        images, against = name.split(" vs ")
        table.append(f"| {images} | {against} | {fid_value:.2f} | {kid_value:.3f} |")
    text = (
        f"{MEASURE_N} random 64x64 crops per set (seeded positions, no flips), FID and KID "
        "on the `digits` features (docs/metrics.md):\n\n" + "\n".join(table) + "\n\n"
        f"Translated grass is {100 * (1 - after / before):.0f}% closer to gravel than grass "
        f"is (FID {after:.2f} against {before:.2f}); translated gravel is "
        f"{100 * (1 - back_after / back_before):.0f}% closer to grass than gravel is "
        f"(FID {back_after:.2f} against {back_before:.2f}).\n\n"
        f"Reproduce: `{MEASURE_COMMAND}`.\n"
    )
    return text, {"fid_before": before, "fid_after": after,
                  "fid_b2a_before": back_before, "fid_b2a_after": back_after}


def before_after(gan, n=8):
    """The picture: rows grass, a2b(grass), gravel, b2a(gravel) of `n` crops each."""
    grass = random_crops("grass", n, seed=7)
    gravel = random_crops("gravel", n, seed=8)
    rows = [grass, gan.translate(grass, "a2b"), gravel, gan.translate(gravel, "b2a")]
    return images.grid(np.concatenate(rows), columns=n, pad_value=255)


def arguments(parser):
    parser.add_argument("--docs-image", default=None,
                        help="also write the before/after picture here")
    parser.add_argument("--measure", default=None, metavar="PRESET",
                        help="only measure this preset and print the table")


def main(argv=None):
    args = _recipe.parse_args(__doc__, "cyclegan-grass2gravel", STEPS, argv, extra=arguments)
    if args.measure:
        text, _ = measure(ganzoo.models.CycleGAN.from_preset(args.measure))
        print(text)
        return 0

    import keras

    keras.utils.set_random_seed(0)
    data = ganzoo.data.load_unpaired("textures/grass", "textures/gravel", image_size=SIZE,
                                     batch_size=BATCH_SIZE, seed=0, repeat=True)
    gan = ganzoo.models.CycleGAN(**SETTINGS)
    gan.compile()
    trained = _recipe.fit(gan, data, args.steps, STEPS_PER_EPOCH,
                          callbacks=ganzoo.models.CycleGAN.default_callbacks)
    measured, numbers = measure(gan)
    print(measured, flush=True)
    epochs = trained["epochs"]
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, epochs=epochs,
                        steps_per_epoch=trained["steps_per_epoch"], half=epochs - epochs // 2,
                        measured=measured)
    picture = before_after(gan)
    _recipe.save(gan, args, card, trained, pictures={PICTURE: picture},
                 manifest=[presets.CONFIG_FILE, presets.WEIGHTS_FILE, PICTURE],
                 data="textures/grass -> textures/gravel (random 64x64 crops)",
                 steps=trained["steps"], batch_size=BATCH_SIZE,
                 minutes=round(trained["minutes"], 1),
                 recipe="pretrained/recipes/cyclegan_grass2gravel.py",
                 measured={k: round(v, 3) for k, v in numbers.items()})
    if args.docs_image:
        images.save_png(picture, args.docs_image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
