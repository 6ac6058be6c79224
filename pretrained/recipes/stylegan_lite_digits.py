"""Recipe of the `stylegan_lite-digits` preset: a small StyleGAN2 on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/stylegan_lite_digits.py [--out pretrained/stylegan_lite-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with z and w of size 64, a
4-layer mapping network, widths min(512 / r, 32) (32 at 4x4 to 16x16, 16 at 32x32) for
both networks, for 3,036 steps of batch 32 (69 epochs of 44) with the paper's settings (non-saturating
logistic loss, lazy R1 every 16 steps, lazy path-length regularisation every 4 steps
(weight 2, decay 0.01, half batch), style mixing 0.9, Adam 0.002 with betas (0, 0.99)
adjusted for the lazy steps, generator EMA with a half-life of 10,000 images, one noise
strength per layer) and R1 gamma 1, then measures it (FID, KID, IS, precision/recall and
perceptual path length) and writes the preset (weights, config, card, manifest), its
sample grid and the documentation pictures. About 25 minutes on 2 CPU cores shared with
other trainings.
"""

import sys
from pathlib import Path

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import numpy as np
from ganzoo import images

STEPS = 3000
BATCH_SIZE = 32
R1_GAMMA = 1.0
SETTINGS = dict(image_shape=(32, 32, 1), latent_dim=64, style_dim=64, mapping_layers=4,
                channel_base=512, channel_max=32, seed=0)

CARD = """# stylegan_lite-digits

A StyleGAN2-style generator (Karras et al. 2020, `stylegan_lite`) trained on scikit-learn's
handwritten digits, unconditional.

![samples](samples.png)

| | |
| --- | --- |
| family | `stylegan_lite` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | z of 64, standard normal; w of 64 (4-layer mapping network, lr multiplier 0.01) |
| networks | modulated/demodulated 3x3 convolutions, per-layer noise inputs (7) with one learned strength per layer, toRGB skips; residual discriminator with minibatch stddev; widths min(512 / r, 32) |
| data | `ganzoo.data.load("digits", image_size=32)`: the `train` split, 1,437 images of 8x8 digits upscaled to 32x32 (bilinear) |
| recipe | `pretrained/recipes/stylegan_lite_digits.py`: {steps} steps of batch {batch_size}, non-saturating logistic loss, lazy R1 (gamma {r1_gamma:g}, every 16 steps, its own discriminator step), lazy path-length regularisation (weight 2, every 4 steps on half the batch, decay 0.01, its own generator step), style mixing 0.9, Adam(0.002, betas (0, 0.99); each network's adjusted for its lazy steps: c = 16/17 and 4/5), generator EMA half-life 10,000 images, seed 0 |
| sampled generator | the EMA generator (what `sample`, `export` and `load_generator` use) |
| training time | {minutes:.1f} minutes on {cores} CPU cores shared with other trainings |
| final losses | d_loss {d_loss:.3f}, g_loss {g_loss:.3f}, r1_penalty {r1_penalty:.4f}, pl_penalty {pl_penalty:.4f} (means over the last epoch) |

## Measured

{measured}

## Limits

Trained for minutes on a CPU with small widths: digits are recognisable but some are
ambiguous or malformed. The images are 8x8 scans upscaled to 32x32, so samples are smooth;
do not expect detail beyond that. Unconditional: `ganzoo sample` cannot choose the digit
(`--truncation 0.7` trades variety for cleaner digits).
"""


# The first stylegan_lite-digits (per-channel noise strengths, no path-length
# regularisation, R1 folded into the main step), measured the same way before it was
# replaced; its recipe is this file at the commit before path-length regularisation.
BEFORE = ("the first preset (per-channel noise, no path-length regularisation, 3,036 "
          "steps)", {"fid": 5.93, "kid": 0.040, "is": 7.67, "precision": 0.697,
                     "recall": 0.444})
BEFORE_PPL = 363.9  # ganzoo evaluate OLD_PRESET --metrics ppl --features digits -n 10000
PPL_N = 10_000

PPL_TEXT = """
Perceptual path length (`ganzoo.metrics.path_length`): {n:,} pairs of latents (seed 0),
w space, end points (t = 0), epsilon 1e-4, the 1 % tails dropped, as StyleGAN2 reports it
("PPL, end"), but with the `digits` features' squared distance where the paper uses LPIPS
(no VGG weights offline), so it compares ganzoo models with each other, not with the
paper's numbers. Lower is smoother.

| | PPL (w, end) |
| --- | --- |
| this preset | {ppl:.1f} |
| {before_name} | {before:.1f} |

Reproduce: `ganzoo evaluate pretrained/stylegan_lite-digits --metrics ppl --features digits -n {n}`.
"""


def measure_ppl(gan):
    """The card's path-length text."""
    results = ganzoo.metrics.evaluate(gan, None, metrics="ppl", features="digits", n=PPL_N,
                                      progress=False)
    return PPL_TEXT.format(n=PPL_N, ppl=results["ppl"], before_name=BEFORE[0],
                           before=BEFORE_PPL), results


# The text above the card's table.
MEASURED = (
    "1,437 samples (seed 0, no truncation) against the 360 images of the held-out\n"
    "`test` split, with the `digits` features (docs/metrics.md explains each number):\n\n"
)


def document_pictures(gan, folder):
    """docs/img pictures: a sample grid, a truncation sweep and a style-mixing grid."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images.save_png(images.grid(gan.sample(64, seed=0)),
                    folder / "stylegan_lite-samples.png")
    # Truncation sweep: one row per psi (1, 0.8, ..., 0), the same 8 seeded latents.
    sweep = [gan.sample(8, seed=1, truncation=psi) for psi in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)]
    images.save_png(images.grid(np.concatenate(sweep), columns=8),
                    folder / "stylegan_lite-truncation.png")
    # Style mixing: the top row shows the destination latents (seed 3), the left column
    # the source latents (seed 2); cell (i, j) takes the styles before layer k from source
    # i and the others from destination j: k = 2 (coarse) in the first 6 rows, k = 4
    # (coarse and middle) in the last 6. Zero noise, no truncation.
    sources, destinations = 6, 6
    psi = np.ones((destinations, 1), "float32")
    zeros = [np.zeros_like(x) for x in gan.sampling_inputs(destinations, seed=4)[2:]]
    source_latents = gan.sampling_inputs(sources, seed=2)[0]
    destination_latents = gan.sampling_inputs(destinations, seed=3)[0]

    def mixed(a, b, crossover):
        return images.to_uint8(gan.mix_styles(a, b, crossover, psi, zeros))

    source_images = mixed(source_latents, source_latents, 0)
    cells = [np.zeros_like(source_images[:1]),
             mixed(destination_latents, destination_latents, 0)]
    for crossover in (2, 4):
        for i in range(sources):
            cells.append(source_images[i:i + 1])
            cells.append(mixed(np.repeat(source_latents[i:i + 1], destinations, axis=0),
                               destination_latents, crossover))
    images.save_png(images.grid(np.concatenate(cells), columns=destinations + 1),
                    folder / "stylegan_lite-mixing.png")


def main(argv=None):
    args = _recipe.parse_args(
        __doc__, "stylegan_lite-digits", STEPS, argv,
        extra=lambda parser: parser.add_argument("--docs-img", default="docs/img"))
    gan, trained = _recipe.train_digits(lambda: ganzoo.models.StyleGANLite(**SETTINGS),
                                        args.steps, BATCH_SIZE, r1_gamma=R1_GAMMA)
    measured, _ = _recipe.measure_digits(gan, "stylegan_lite-digits", comparisons=[BEFORE],
                                         intro=MEASURED)
    ppl_text, _ = measure_ppl(gan)
    measured += ppl_text
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, measured=measured,
                        r1_gamma=R1_GAMMA)
    _recipe.save_digits(gan, args, card, "pretrained/recipes/stylegan_lite_digits.py",
                        trained, BATCH_SIZE)
    document_pictures(gan, args.docs_img)
    return 0


if __name__ == "__main__":
    sys.exit(main())
