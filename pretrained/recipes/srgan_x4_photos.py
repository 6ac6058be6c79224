"""Recipe of the `srgan-x4-photos` preset: a small 4x SRGAN on scikit-image's photographs.

    .venv/bin/python pretrained/recipes/srgan_x4_photos.py [--out pretrained/srgan-x4-photos]

Trains on random 48x48 crops (12x12 low-res inputs, bicubic with antialiasing) of the five
`photos` train pictures (`chelsea` and `coffee` are held out), batch 16: first
PRETRAIN_STEPS steps of the generator alone on the pixel MSE (SRResNet-MSE), then
ADVERSARIAL_STEPS steps of SRGAN (MSE content loss + 1e-3 x non-saturating adversarial
loss). The generator is a narrow SRResNet (32 filters, 4 residual blocks) with the
bilinear global skip (`upsampled_skip=True`), the discriminator the paper's with
disc_filters=16. Then it measures PSNR and SSIM against bicubic upscaling on the held-out
pictures (`ganzoo.metrics.evaluate`, what `ganzoo evaluate --metrics psnr,ssim` runs),
writes the preset, its card and a before/after picture. About 20 to 25 minutes on 2 busy
CPU cores. `--steps N` trains N steps instead of 1,500, the first `--pretrain-steps` of them
(by default 4 in 5) on the MSE alone. `_recipe.py` is the harness (arguments, `fit`,
`evaluate`, `save`) every recipe shares.
"""

import sys

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import keras
import numpy as np
from ganzoo import images
from ganzoo.data import bundled
from ganzoo.data.super_resolution import bicubic_downscale, bicubic_upscale

PATCH = 48
BATCH_SIZE = 16
PRETRAIN_STEPS = 1200
ADVERSARIAL_STEPS = 300
STEPS = PRETRAIN_STEPS + ADVERSARIAL_STEPS
STEPS_PER_EPOCH = 50
# What the card's first row is measured with: the held-out 96x96 tiles.
MEASURE = dict(split="test", metrics=("psnr", "ssim"), image_size=96)
G_LEARNING_RATE = 5e-4
D_LEARNING_RATE = 1e-4
SETTINGS = dict(image_shape=(PATCH, PATCH, 3), scale=4, filters=32, blocks=4,
                disc_filters=16, content_loss="mse", adversarial_weight=1e-3,
                upsampled_skip=True, pretrain_steps=PRETRAIN_STEPS, seed=0)

CARD = """# srgan-x4-photos

A 4x super-resolution GAN (Ledig et al. 2017) trained on scikit-image's colour
photographs. `ganzoo upscale srgan-x4-photos in.png out.png` makes any RGB picture four
times larger (tiled, so large pictures fit in memory).

![bicubic, srgan-x4-photos, original](before_after.png)

*Left to right: bicubic upscaling of the 4x-downscaled picture, this preset's upscaling of
it, the original. Held-out pictures (`chelsea`, `coffee`), never trained on.*

| | |
| --- | --- |
| family | `srgan`, scale 4, RGB, values in [-1, 1] |
| generator | SRResNet, 32 filters, 4 residual blocks (conv-BN-PReLU-conv-BN), 2 sub-pixel upsampling blocks, 9x9 convolutions in and out, with the bilinear global skip (`upsampled_skip=True`: the output is the input upscaled bilinearly plus the network's residual, clipped to [-1, 1]) |
| discriminator | the paper's 8 convolutions and dense layers at disc_filters=16 (widths 16 to 128, dense 256) |
| data | `ganzoo.data.load_super_resolution("photos", scale=4, patch_size={patch})`: random 48x48 crops of the five `train` photographs, flipped and transposed at random; low-res by bicubic downscaling with antialiasing, 8-bit |
| recipe | `pretrained/recipes/srgan_x4_photos.py`: {pretrain_steps} steps of the generator alone on the pixel MSE, then {adversarial_steps} SRGAN steps (MSE content loss + 1e-3 x non-saturating adversarial loss), batch {batch_size}, Adam (beta_1 0.9) with learning rates {g_lr:g} (generator) and {d_lr:g} (discriminator), seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores shared with other trainings |
| final losses | content_loss {content_loss:.4f}, d_loss {d_loss:.3f}, g_loss {g_loss:.3f} (last epoch) |

## Measured

{measured}

## Commands

```bash
.venv/bin/python pretrained/recipes/srgan_x4_photos.py --out pretrained/srgan-x4-photos   # train, measure, write this folder
ganzoo evaluate pretrained/srgan-x4-photos --data photos --split test --metrics psnr,ssim --image-size 96
ganzoo upscale srgan-x4-photos in.png out.png
```

## Limits

A narrow network trained for minutes on five photographs: it sharpens edges and text
better than bicubic interpolation but invents little texture. The pixel-MSE content loss
favours PSNR over the sharper, "perceptual" look of the paper's VGG54 loss (train with
`--model-option content_loss=vgg` for that; it needs VGG19's ImageNet weights).
Trained on 8-bit pictures downscaled bicubically: other degradations (JPEG, blur, noise)
are not what it learned to undo.
"""


def held_out_pictures():
    """The held-out photographs cropped to multiples of 4: chelsea, coffee."""
    return [p[:p.shape[0] // 4 * 4, :p.shape[1] // 4 * 4] for p in bundled.photo_pictures("test")]


def downscale_uint8(picture):
    small = bicubic_downscale(images.from_uint8(picture[None]), 4).numpy()
    return images.to_uint8(small)[0]


def measure(model, preset_path):
    """PSNR/SSIM against bicubic: the held-out 96x96 tiles (`ganzoo evaluate`) and the two
    whole held-out pictures."""
    command = _recipe.evaluate_command(preset_path, "photos", **MEASURE)
    tiles = _recipe.evaluate(model, "photos", **MEASURE)
    rows = ["| images | PSNR srgan | PSNR bicubic | gain | SSIM srgan | SSIM bicubic |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| 36 held-out 96x96 tiles of chelsea and coffee (`ganzoo evaluate`) | "
            f"{tiles['psnr']:.2f} dB | {tiles['psnr_bicubic']:.2f} dB | "
            f"{tiles['psnr'] - tiles['psnr_bicubic']:+.2f} dB | {tiles['ssim']:.4f} | "
            f"{tiles['ssim_bicubic']:.4f} |"]
    for name, picture in zip(bundled.PHOTO_TEST_NAMES, held_out_pictures()):
        small = downscale_uint8(picture)
        made, baseline = model.upscale(small), bicubic_upscale(small, 4)
        psnr, psnr_b = ganzoo.metrics.psnr(made, picture), ganzoo.metrics.psnr(baseline, picture)
        rows.append(
            f"| whole `{name}` ({picture.shape[1]}x{picture.shape[0]}) | {psnr:.2f} dB | "
            f"{psnr_b:.2f} dB | {psnr - psnr_b:+.2f} dB | "
            f"{ganzoo.metrics.ssim(made, picture):.4f} | "
            f"{ganzoo.metrics.ssim(baseline, picture):.4f} |")
    text = (
        "Each picture is downscaled 4x (bicubic, antialiased, 8-bit: as in training), "
        "upscaled back by this preset and by bicubic interpolation, and compared with the "
        "original (`ganzoo.metrics.psnr` / `ssim` on uint8, all channels).\n\n"
        + "\n".join(rows) + f"\n\nReproduce the first row: `{command}`.\n"
    )
    return text, tiles


def before_after(model):
    """The picture: bicubic | srgan | original crops of the held-out pictures, 4x their
    size."""
    rows = []
    for picture, (top, left) in zip(held_out_pictures(), ((60, 150), (120, 200))):
        crop = picture[top:top + 128, left:left + 128]
        small = downscale_uint8(crop)
        rows.append(np.concatenate([bicubic_upscale(small, 4), model.upscale(small), crop],
                                   axis=1))
    return images.grid(np.stack(rows), columns=1, padding=4)


def arguments(parser):
    parser.add_argument("--pretrain-steps", type=int, default=None,
                        help="of --steps, how many train the generator alone (default: "
                             f"{PRETRAIN_STEPS} of {STEPS}, in that proportion)")


def main(argv=None):
    args = _recipe.parse_args(__doc__, "srgan-x4-photos", STEPS, argv, extra=arguments)
    if args.pretrain_steps is None:
        args.pretrain_steps = round(args.steps * PRETRAIN_STEPS / STEPS)

    keras.utils.set_random_seed(0)
    data = ganzoo.data.load_super_resolution("photos", scale=4, patch_size=PATCH,
                                             batch_size=BATCH_SIZE, seed=0, repeat=True)
    model = ganzoo.models.SRGAN(**{**SETTINGS, "pretrain_steps": args.pretrain_steps})
    model.compile(g_optimizer=keras.optimizers.Adam(G_LEARNING_RATE, beta_1=0.9),
                  d_optimizer=keras.optimizers.Adam(D_LEARNING_RATE, beta_1=0.9))
    trained = _recipe.fit(model, data, args.steps, STEPS_PER_EPOCH)

    measured, tiles = measure(model, args.out)
    card = _recipe.card(CARD, trained, patch=PATCH, pretrain_steps=args.pretrain_steps,
                        adversarial_steps=trained["steps"] - args.pretrain_steps,
                        batch_size=BATCH_SIZE, g_lr=G_LEARNING_RATE, d_lr=D_LEARNING_RATE,
                        measured=measured)
    _recipe.save(model, args, card, trained, pictures={"before_after.png": before_after(model)},
                 manifest="all",
                 data="photos (train split: chelsea and coffee held out)",
                 steps=trained["steps"], batch_size=BATCH_SIZE,
                 recipe="pretrained/recipes/srgan_x4_photos.py")
    print(f"PSNR {tiles['psnr']:.2f} dB vs bicubic {tiles['psnr_bicubic']:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
