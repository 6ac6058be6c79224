"""Recipe of the `srgan-x4-photos` preset: a 4x SRGAN on photographs (scikit-image, Debian).

    .venv/bin/python pretrained/recipes/srgan_x4_photos.py [--out pretrained/srgan-x4-photos]
        [--cache ~/.cache/ganzoo/srgan-x4-photos] [--prepare-only]

The data are photographs, those trained on and those measured on from different sources:

- train: the five `photos` train pictures of scikit-image (`chelsea` and `coffee` are
  held out) and the photographic wallpapers of two Debian packages, `mate-backgrounds`
  (its twelve `nature` photographs) and `plasma-workspace-wallpapers` (its ten
  photographs; the drawn and rendered wallpapers are left out);
- held out: the thirteen photographs of `lomiri-wallpapers-16.04` (Ubuntu Touch's
  wallpapers, by other photographers; its two abstract pictures are left out).

The recipe fetches the packages itself, without installing them: `apt-get download` and
`dpkg-deb -x` into the cache folder (`--cache`, by default `~/.cache/ganzoo/srgan-x4-photos`,
or under `$XDG_CACHE_HOME`), so it needs a Debian or Ubuntu machine whose apt can reach
Debian 12's packages (the versions are pinned: PACKAGES); without apt it stops with one
line. Each wallpaper (1280 to 5312 pixels wide) is downscaled to SHORT_SIDE pixels on its
short side (Pillow's Lanczos filter) and written as a PNG into `CACHE/train` or
`CACHE/held-out`, with the scikit-image pictures, once; `--prepare-only` does just that.

It trains on random PATCHxPATCH crops (low-res by bicubic downscaling with antialiasing,
8-bit) of `CACHE/train`, batch BATCH_SIZE: first PRETRAIN_STEPS steps of the generator
alone on the pixel MSE (SRResNet-MSE), then ADVERSARIAL_STEPS steps of SRGAN (MSE content
loss + 1e-3 x non-saturating adversarial loss), with the learning rates of
`learning_rates` (a tenfold drop for the generator late in pre-training, the family's
StepDecay for the discriminator). Then it measures PSNR and SSIM against bicubic upscaling
with `ganzoo.metrics.evaluate` (what `ganzoo evaluate --metrics psnr,ssim` runs) on the
held-out wallpapers' 96x96 tiles and on the held-out scikit-image tiles, writes the
preset, its card and a before/after picture. `--steps N` trains N steps instead, the first
`--pretrain-steps` of them (by default in the same proportion) on the MSE alone. About 26
minutes of training on 2 idle CPU cores. `_recipe.py` is the harness (arguments, `fit`,
`evaluate`, `save`) every recipe shares.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import keras
import numpy as np
from ganzoo import images
from ganzoo.data import bundled
from ganzoo.data.super_resolution import bicubic_downscale, bicubic_upscale

PATCH = 48
BATCH_SIZE = 16
PRETRAIN_STEPS = 8000
ADVERSARIAL_STEPS = 200
STEPS = PRETRAIN_STEPS + ADVERSARIAL_STEPS
STEPS_PER_EPOCH = 50
G_LEARNING_RATE = 5e-4
# The generator's rate drops tenfold after this share of the pre-training steps.
G_DECAY = 0.8
D_LEARNING_RATE = 1e-4
SETTINGS = dict(image_shape=(PATCH, PATCH, 3), scale=4, filters=64, blocks=8,
                disc_filters=16, content_loss="mse", adversarial_weight=1e-3,
                upsampled_skip="bicubic", pretrain_steps=PRETRAIN_STEPS, seed=0)

# -- the data ---------------------------------------------------------------------------

# Debian package: (pinned version, folder inside it, its photographs). Debian 12's versions.
PACKAGES = {
    "mate-backgrounds": ("1.26.0-1", "usr/share/backgrounds/mate/nature", (
        "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg",
        "GreenMeadow.jpg", "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg",
        "Wood.jpg", "YellowFlower.jpg")),
    "plasma-workspace-wallpapers": ("4:5.27.5-2", "usr/share/wallpapers", tuple(
        f"{name}/contents/images/2560x1600.jpg" for name in (
            "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
            "FallenLeaf", "Grey", "OneStandsOut", "Path", "summer_1am"))),
    "lomiri-wallpapers-16.04": ("20.04.0-2", "usr/share/backgrounds", (
        "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg",
        "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg",
        "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
        "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg",
        "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
        "sunset_by_Aitzol_Berasategi.jpg")),
}
TRAIN_PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers")
HELD_OUT_PACKAGE = "lomiri-wallpapers-16.04"
# The wallpapers' short side once downscaled: pictures of a few hundred pixels, as the
# scikit-image ones (300 to 872), that load in a moment.
SHORT_SIDE = 384
# What the card's rows are measured with: 96x96 tiles, as `photos` is tiled.
MEASURE = dict(metrics=("psnr", "ssim"), image_size=96)


def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ganzoo" / "srgan-x4-photos"


def stop(message):
    """End the recipe with one line on stderr."""
    sys.exit(f"srgan_x4_photos.py: {message}")


def fetch_package(package, cache):
    """The folder holding the photographs of Debian package `package` (its pinned
    version, PACKAGES) and its copyright file, under their paths in the package: fetched
    with `apt-get download` and unpacked with `dpkg-deb -x` into `cache/packages` the
    first time; nothing is installed."""
    version, inside, names = PACKAGES[package]
    kept = cache / "packages" / f"{package}_{version.replace(':', '%3a')}"
    if (kept / ".complete").is_file():
        return kept
    missing = [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        stop(f"needs apt-get and dpkg-deb (Debian or Ubuntu) to fetch the wallpapers of "
             f"{package}; {' and '.join(missing)} not found. Run it where apt works, or "
             f"pass --cache a folder where it already prepared them")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as folder:
        done = subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=folder,
                              capture_output=True, text=True)
        debs = sorted(Path(folder).glob("*.deb"))
        if done.returncode or not debs:
            why = (done.stderr.strip().splitlines() or ["no .deb written"])[-1]
            stop(f"apt-get download {package}={version} failed ({why}); run `apt-get "
                 f"update` first, on Debian 12 or a release that has this version")
        unpacked = Path(folder) / "unpacked"
        done = subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)],
                              capture_output=True, text=True)
        if done.returncode:
            stop(f"dpkg-deb -x {debs[0].name} failed ({done.stderr.strip()[-200:]})")
        wanted = [f"{inside}/{name}" for name in names]
        wanted.append(f"usr/share/doc/{package}/copyright")
        for path in wanted:
            (kept / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(unpacked / path, kept / path)
    (kept / ".complete").write_text(version + "\n")
    return kept


def downscaled(path):
    """The picture at `path`, RGB, downscaled to SHORT_SIDE pixels on its short side."""
    from PIL import Image

    with Image.open(path) as picture:
        picture = picture.convert("RGB")
        factor = SHORT_SIDE / min(picture.size)
        size = tuple(round(side * factor) for side in picture.size)
        return np.asarray(picture.resize(size, Image.LANCZOS))


def picture_name(package, name):
    return f"{package}-{name.split('/')[0].removesuffix('.jpg')}.png"


def prepare_data(cache):
    """Write the training and held-out folders (once) and return them: `CACHE/train` (the
    five scikit-image train photos and the TRAIN_PACKAGES wallpapers) and
    `CACHE/held-out` (the HELD_OUT_PACKAGE wallpapers)."""
    folders = {"train": cache / "train", "held-out": cache / "held-out"}
    wanted = {"train": TRAIN_PACKAGES, "held-out": (HELD_OUT_PACKAGE,)}
    train_photos = [name for name in bundled.PHOTO_NAMES
                    if name not in bundled.PHOTO_TEST_NAMES]
    for name, picture in zip(train_photos, bundled.photo_pictures("train")):
        path = folders["train"] / f"scikit-image-{name}.png"
        if not path.is_file():
            images.save_png(picture, path)
    for split, packages in wanted.items():
        for package in packages:
            _, inside, names = PACKAGES[package]
            paths = [folders[split] / picture_name(package, name) for name in names]
            if all(path.is_file() for path in paths):
                continue
            root = fetch_package(package, cache) / inside
            for name, path in zip(names, paths):
                images.save_png(downscaled(root / name), path)
    return folders


# -- the card ---------------------------------------------------------------------------

CARD = """# srgan-x4-photos

A 4x super-resolution GAN (Ledig et al. 2017) trained on photographs: scikit-image's and
the photographic wallpapers of two Debian packages, measured on the wallpapers of a third
package it never saw. `ganzoo upscale srgan-x4-photos in.png out.png` makes any RGB picture
four times larger (tiled, so large pictures fit in memory).

![bicubic, srgan-x4-photos, original](before_after.png)

*Left to right: bicubic upscaling of the 4x-downscaled picture, this preset's upscaling of
it, the original. Held-out pictures, never trained on: crops of scikit-image's `chelsea` and
`coffee`, and of `{example}` from {held_out_package} ({example_credit}).*

| | |
| --- | --- |
| family | `srgan`, scale 4, RGB, values in [-1, 1] |
| generator | SRResNet, {filters} filters, {blocks} residual blocks (conv-BN-PReLU-conv-BN), 2 sub-pixel upsampling blocks, 9x9 convolutions in and out, with the bicubic global skip (`upsampled_skip="bicubic"`: the output is the input upscaled bicubically plus the network's residual, clipped to [-1, 1], so training starts from the bicubic baseline) |
| discriminator | the paper's 8 convolutions and dense layers at disc_filters={disc_filters} |
| data | {train_count} photographs (below), downscaled wallpapers and scikit-image's own, in `CACHE/train`: `ganzoo.data.load_super_resolution(CACHE/train, scale=4, patch_size={patch})` takes random {patch}x{patch} crops, flipped and transposed at random, each picture as often as it holds {patch}x{patch} tiles; low-res by bicubic downscaling with antialiasing, 8-bit |
| recipe | `pretrained/recipes/srgan_x4_photos.py`: {pretrain_steps} steps of the generator alone on the pixel MSE, then {adversarial_steps} SRGAN steps (MSE content loss + 1e-3 x non-saturating adversarial loss), batch {batch_size}, Adam (beta_1 0.9), seed 0. Learning rates: {schedule} |
| training time | {minutes:.1f} minutes on {cores} otherwise idle CPU cores |
| final losses | content_loss {content_loss:.4f}, d_loss {d_loss:.3f}, g_loss {g_loss:.3f} (last epoch) |

## Data

Two sources to train on, a third to measure on; the recipe fetches the Debian packages
itself (`apt-get download` and `dpkg-deb -x` into its cache folder, nothing installed) and
downscales each wallpaper to {short_side} pixels on its short side (Pillow's Lanczos) as a
PNG: pictures of the size of scikit-image's, where a 96x96 tile still holds a scene.

| set | source | pictures | licence (the package's copyright file) |
| --- | --- | --- | --- |
{data_rows}

The held-out set comes from another package, other photographers and other subjects than
anything trained on: it measures how the preset does on photographs from elsewhere, which
the two scikit-image pictures held out before could not.

## Measured

Each 96x96 tile is downscaled 4x (bicubic, antialiased, 8-bit: as in training), upscaled
back by this preset and by bicubic interpolation, and compared with the original
(`ganzoo.metrics.psnr` / `ssim` on uint8, all channels, averaged over the tiles). A folder
of pictures is cut into non-overlapping tiles on a grid centred in each picture, never
resized, as `photos` is.

{measured}

## Commands

```bash
.venv/bin/python pretrained/recipes/srgan_x4_photos.py --out pretrained/srgan-x4-photos   # fetch the data, train, measure, write this folder
.venv/bin/python pretrained/recipes/srgan_x4_photos.py --prepare-only   # only fetch and write CACHE/train and CACHE/held-out
{commands}
ganzoo upscale srgan-x4-photos in.png out.png
```

`CACHE` is `~/.cache/ganzoo/srgan-x4-photos` (`$XDG_CACHE_HOME/ganzoo/srgan-x4-photos`
when set), or the recipe's `--cache`.

## Limits

A small network (the paper's has 16 blocks) trained for half an hour on {train_count}
photographs: it sharpens edges and text better than bicubic interpolation but invents
little texture, and on very smooth tiles (sky, bokeh) it is no better than bicubic. The pixel-MSE content
loss favours PSNR over the sharper, "perceptual" look of the paper's VGG54 loss (train
with `--model-option content_loss=vgg` for that; it needs VGG19's ImageNet weights).
Trained on 8-bit pictures downscaled bicubically: other degradations (JPEG, blur, noise)
are not what it learned to undo.
"""

# The held-out picture the before/after shows a crop of: CC0, by its copyright file.
EXAMPLE = ("seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt, CC0-1.0")
EXAMPLE_CROP = (60, 150)  # top, left: the dandelion's edge
# (package, licence as its copyright file gives it for these pictures)
LICENCES = {
    "mate-backgrounds": "GPL-2+ (each photograph's author named in the file)",
    "plasma-workspace-wallpapers": "GPL-2+ (KDE Visual Design Group)",
    "lomiri-wallpapers-16.04": "CC-BY-4.0 (seven), CC-BY-SA-4.0 (five), CC0-1.0 (one); "
                               "authors in the file names",
}


def data_rows(folders):
    rows = [f"| train | scikit-image {_skimage_version()} `photos` train split | "
            f"{len(bundled.PHOTO_NAMES) - len(bundled.PHOTO_TEST_NAMES)}: "
            + ", ".join(f"`{name}`" for name in bundled.PHOTO_NAMES
                        if name not in bundled.PHOTO_TEST_NAMES)
            + " | public domain, CC0 or no known copyright restrictions (the `skimage.data` "
            "docstrings; `motorcycle_left` is from the Middlebury 2014 stereo data set) |"]
    for package in (*TRAIN_PACKAGES, HELD_OUT_PACKAGE):
        version, _, names = PACKAGES[package]
        split = "held out" if package == HELD_OUT_PACKAGE else "train"
        listed = ", ".join(f"`{name.split('/')[0].removesuffix('.jpg')}`" for name in names)
        rows.append(f"| {split} | Debian 12 `{package}` {version} | {len(names)}: {listed} "
                    f"| {LICENCES[package]} |")
    return "\n".join(rows)


def _skimage_version():
    import skimage

    return skimage.__version__


# -- learning rates ---------------------------------------------------------------------


def learning_rates(pretrain_steps):
    """The recipe's schedule, for `_recipe.fit`: a function of the epochs that returns the
    callbacks. The generator learns at G_LEARNING_RATE, times 0.1 from G_DECAY of the
    pre-training steps on (and so through the adversarial phase: a short fine-tuning of a
    converged SRResNet, as the paper's 1e-5 is); the discriminator at D_LEARNING_RATE,
    times 0.1 for the second half of the adversarial steps (the family's StepDecay, the
    paper's 1e-4 then 1e-5). Not `model.default_callbacks`, whose StepDecay would hold
    the generator at its first rate until the adversarial phase is half done."""
    decay_step = round(pretrain_steps * G_DECAY)

    def callbacks(epochs):
        def generator_rate(epoch, base_rate):
            return base_rate * (0.1 if epoch * STEPS_PER_EPOCH >= decay_step else 1.0)

        return [ganzoo.training.LearningRateScheduler(generator_rate,
                                                      optimizers=("g_optimizer",)),
                ganzoo.training.StepDecay(epochs, factor=0.1, skip_steps=pretrain_steps,
                                          optimizers=("d_optimizer",))]

    return callbacks


def schedule_text(pretrain_steps):
    """The card's words for `learning_rates(pretrain_steps)`."""
    decay_step = round(pretrain_steps * G_DECAY)
    return (f"generator {G_LEARNING_RATE:g}, then {G_LEARNING_RATE / 10:g} from step "
            f"{decay_step} on (the last {1 - G_DECAY:.0%} of pre-training and the "
            f"adversarial phase); discriminator {D_LEARNING_RATE:g}, then "
            f"{D_LEARNING_RATE / 10:g} for the second half of the adversarial steps "
            "(`ganzoo.training.StepDecay`, the paper's schedule); set epoch by epoch "
            f"(epochs of {STEPS_PER_EPOCH} steps) by `ganzoo.training.LearningRateScheduler` "
            "callbacks")


# -- measuring --------------------------------------------------------------------------


def display_path(path):
    """`path` as the card shows it: under the home folder as ~/..."""
    path = Path(path).resolve()
    home = Path.home().resolve()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def held_out_pictures():
    """The held-out scikit-image photographs cropped to multiples of 4: chelsea, coffee."""
    return [p[:p.shape[0] // 4 * 4, :p.shape[1] // 4 * 4] for p in bundled.photo_pictures("test")]


def downscale_uint8(picture):
    small = bicubic_downscale(images.from_uint8(picture[None]), 4).numpy()
    return images.to_uint8(small)[0]


def result_row(what, results):
    return (f"| {what} | {results['psnr']:.2f} dB | {results['psnr_bicubic']:.2f} dB | "
            f"{results['psnr'] - results['psnr_bicubic']:+.2f} dB | {results['ssim']:.4f} | "
            f"{results['ssim_bicubic']:.4f} |")


def measure(model, preset_path, folders, cache_shown):
    """PSNR/SSIM against bicubic on the 96x96 tiles of the held-out wallpapers and of the
    held-out scikit-image pictures (`ganzoo evaluate`), and on the two whole scikit-image
    pictures. Returns (the card's text, its `ganzoo evaluate` commands, the wallpapers'
    results)."""
    held_out = _recipe.evaluate(model, str(folders["held-out"]), **MEASURE)
    photos = _recipe.evaluate(model, "photos", split="test", **MEASURE)
    count = len(PACKAGES[HELD_OUT_PACKAGE][2])
    rows = ["| images | PSNR srgan | PSNR bicubic | gain | SSIM srgan | SSIM bicubic |",
            "| --- | --- | --- | --- | --- | --- |",
            result_row(f"**{held_out['n']} 96x96 tiles of the {count} held-out "
                       f"{HELD_OUT_PACKAGE} photographs** (another source)", held_out),
            result_row(f"{photos['n']} 96x96 tiles of scikit-image's held-out `chelsea` and "
                       "`coffee`", photos)]
    for name, picture in zip(bundled.PHOTO_TEST_NAMES, held_out_pictures()):
        small = downscale_uint8(picture)
        made, baseline = model.upscale(small), bicubic_upscale(small, 4)
        rows.append(result_row(
            f"whole `{name}` ({picture.shape[1]}x{picture.shape[0]})",
            {"psnr": ganzoo.metrics.psnr(made, picture),
             "psnr_bicubic": ganzoo.metrics.psnr(baseline, picture),
             "ssim": ganzoo.metrics.ssim(made, picture),
             "ssim_bicubic": ganzoo.metrics.ssim(baseline, picture)}))
    commands = [_recipe.evaluate_command(preset_path, f"{cache_shown}/held-out", **MEASURE)
                + "   # the first row",
                _recipe.evaluate_command(preset_path, "photos", split="test", **MEASURE)
                + "   # the second row"]
    return "\n".join(rows) + "\n", "\n".join(commands), held_out


def before_after(model, folders):
    """The picture: bicubic | srgan | original crops of held-out pictures (chelsea,
    coffee, the EXAMPLE wallpaper), 4x their size."""
    from PIL import Image

    with Image.open(folders["held-out"] / picture_name(HELD_OUT_PACKAGE, EXAMPLE[0])) as file:
        example = np.asarray(file.convert("RGB"))
    crops = [picture[top:top + 128, left:left + 128] for picture, (top, left) in zip(
        [*held_out_pictures(), example], ((60, 150), (120, 200), EXAMPLE_CROP))]
    rows = []
    for crop in crops:
        small = downscale_uint8(crop)
        rows.append(np.concatenate([bicubic_upscale(small, 4), model.upscale(small), crop],
                                   axis=1))
    return images.grid(np.stack(rows), columns=1, padding=4)


# -- training ---------------------------------------------------------------------------


def arguments(parser):
    parser.add_argument("--pretrain-steps", type=int, default=None,
                        help="of --steps, how many train the generator alone (default: "
                             f"{PRETRAIN_STEPS} of {STEPS}, in that proportion)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="where the Debian packages and the prepared pictures go "
                             f"(default {display_path(default_cache())})")
    parser.add_argument("--prepare-only", action="store_true",
                        help="fetch and prepare the pictures, then stop")


def main(argv=None):
    args = _recipe.parse_args(__doc__, "srgan-x4-photos", STEPS, argv, extra=arguments)
    if args.pretrain_steps is None:
        args.pretrain_steps = round(args.steps * PRETRAIN_STEPS / STEPS)
    cache = args.cache or default_cache()
    folders = prepare_data(cache)
    if args.prepare_only:
        print(f"prepared {folders['train']} and {folders['held-out']}")
        return 0

    keras.utils.set_random_seed(0)
    data = ganzoo.data.load_super_resolution(folders["train"], scale=4, patch_size=PATCH,
                                             batch_size=BATCH_SIZE, seed=0, repeat=True)
    model = ganzoo.models.SRGAN(**{**SETTINGS, "pretrain_steps": args.pretrain_steps})
    model.compile(g_optimizer=keras.optimizers.Adam(G_LEARNING_RATE, beta_1=0.9),
                  d_optimizer=keras.optimizers.Adam(D_LEARNING_RATE, beta_1=0.9))
    trained = _recipe.fit(model, data, args.steps, STEPS_PER_EPOCH,
                          callbacks=learning_rates(args.pretrain_steps))

    cache_shown = display_path(cache)
    measured, commands, held_out = measure(model, args.out, folders, cache_shown)
    card = _recipe.card(
        CARD, trained, patch=PATCH, pretrain_steps=args.pretrain_steps,
        adversarial_steps=trained["steps"] - args.pretrain_steps, batch_size=BATCH_SIZE,
        filters=SETTINGS["filters"], blocks=SETTINGS["blocks"],
        disc_filters=SETTINGS["disc_filters"], schedule=schedule_text(args.pretrain_steps),
        train_count=sum(1 for _ in folders["train"].glob("*.png")),
        short_side=SHORT_SIDE, data_rows=data_rows(folders), measured=measured,
        commands=commands, held_out_package=f"`{HELD_OUT_PACKAGE}`",
        example=EXAMPLE[0].removesuffix(".jpg"), example_credit=EXAMPLE[1])
    _recipe.save(model, args, card, trained,
                 pictures={"before_after.png": before_after(model, folders)},
                 manifest="all",
                 data=f"{cache_shown}/train: scikit-image photos (train split) and the "
                      f"photographs of {' and '.join(TRAIN_PACKAGES)}; held out: "
                      f"{HELD_OUT_PACKAGE}",
                 steps=trained["steps"], batch_size=BATCH_SIZE,
                 recipe="pretrained/recipes/srgan_x4_photos.py")
    print(f"held out {HELD_OUT_PACKAGE}: PSNR {held_out['psnr']:.2f} dB vs bicubic "
          f"{held_out['psnr_bicubic']:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
