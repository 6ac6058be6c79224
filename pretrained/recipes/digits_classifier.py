"""Recipe of `pretrained/digits-classifier`: the judge behind `--features digits`.

    .venv/bin/python pretrained/recipes/digits_classifier.py [--out pretrained/digits-classifier]

Trains `ganzoo.metrics.digits.build_classifier()` on the `train` split of the bundled digits
(1,437 images, 8x8 scans upscaled to 32x32 grey in [-1, 1] by `ganzoo.data.load`) with
random shifts, rotations and zooms, Adam(1e-3) and cross-entropy, seed 0. It then measures
the accuracy on the held-out `test` split (360 images) through the extractor itself (uint8
images in, as `ganzoo evaluate` feeds it) and writes the folder: `config.json`,
`classifier.weights.h5`, `card.md` with the measured accuracy, and `sha256.txt`.
Refuses an accuracy below 97%. 4.5 to 5.5 minutes on 2 busy CPU cores; a second run
wrote bit-identical weights. `--steps N` trains N steps (epochs of 22) instead of the 880 of
40 epochs; `_recipe.py` is the harness (arguments, `fit`) it shares with the other recipes.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import keras
import numpy as np
from ganzoo.metrics import digits

SEED = 0
EPOCHS = 40
BATCH_SIZE = 64
# One epoch is one pass over the 1,437 train images.
STEPS_PER_EPOCH = _recipe.DIGITS_TRAIN // BATCH_SIZE
LEARNING_RATE = 1e-3
MIN_TEST_ACCURACY = 0.97

CARD = """# digits-classifier

The judge behind `--features digits` (`ganzoo.metrics.get_extractor("digits")`): a small
CNN trained on the `train` split of the bundled handwritten digits. Not a GAN preset: its
weights file is `classifier.weights.h5`, so `ganzoo list` does not show it.

| | |
| --- | --- |
| input | 32x32 grey in [-1, 1]; the extractor greys, resizes (bilinear, antialiased) and scales uint8 images of any size |
| network | {architecture_text} |
| features | the 128 ReLU outputs of the `features` layer times {feature_scale:.4f}, the fixed factor that makes the mean squared norm / 128 equal 1 on the train split, which keeps KID's cubic kernel in range (FID, KID, precision/recall) |
| probabilities | softmax over the digits 0-9 (Inception Score, class accuracy) |
| data | `ganzoo.data.load("digits", image_size=32, split="train", labels=True)`: 1,437 images |
| recipe | `pretrained/recipes/digits_classifier.py`: {epochs} epochs of {steps} steps of batch {batch_size}, Adam({learning_rate}), cross-entropy, random translation (10%), rotation (±{rotation_degrees:.0f}°) and zoom (10%), seed {seed} |
| training time | {minutes:.1f} minutes on {cores} CPU cores (shared with other jobs) |

## Measured

Accuracy on the held-out `test` split (360 images, never seen in training), computed from
the shipped weights through the extractor (uint8 8x8 images in):
**{test_accuracy:.2%}** ({errors} of {test_count} wrong). On the `train` split: {train_accuracy:.2%}.

`tests/metrics/test_evaluation.py` recomputes the test accuracy from these weights.
"""

ROTATION = 0.04  # fraction of a full turn: ±14.4 degrees


def augmentation():
    fill = dict(fill_mode="constant", fill_value=-1.0, seed=SEED)
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(0.1, 0.1, **fill, name="shift"),
            keras.layers.RandomRotation(ROTATION, **fill, name="rotate"),
            keras.layers.RandomZoom(0.1, **fill, name="zoom"),
        ],
        name="augmentation",
    )


def accuracy(extractor, split):
    images, labels = ganzoo.data.digits_arrays(split)
    probabilities = extractor.probabilities(images[..., None])
    return float(np.mean(probabilities.argmax(axis=1) == labels)), len(labels)


def main(argv=None):
    args = _recipe.parse_args(__doc__, None, EPOCHS * STEPS_PER_EPOCH, argv,
                              out=str(digits.CLASSIFIER_DIR))
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        sys.exit(f"{out} already exists; pass --overwrite to replace it")

    keras.utils.set_random_seed(SEED)
    data = ganzoo.data.load("digits", image_size=32, batch_size=BATCH_SIZE, split="train",
                            labels=True, seed=SEED, repeat=True)
    architecture = dict(digits.DEFAULT_ARCHITECTURE)
    classifier = digits.build_classifier(**architecture)
    trainer = keras.Sequential([augmentation(), classifier], name="trainer")
    trainer.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    trained = _recipe.fit(trainer, data, args.steps, STEPS_PER_EPOCH)
    write_classifier(classifier, architecture, out, epochs=trained["epochs"],
                     steps=trained["steps_per_epoch"], minutes=trained["minutes"])
    print(f"wrote {out}")


def write_classifier(classifier, architecture, out, epochs, steps, minutes):
    """Measure the trained classifier and write its folder (replacing `out`) atomically."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        digits.write_folder(classifier, staging, architecture, card="(being measured)\n")
        extractor = digits.build_extractor(weights=staging)
        train_images, _ = ganzoo.data.digits_arrays("train")
        feature_scale = digits.measure_feature_scale(extractor, train_images[..., None])
        test_accuracy, test_count = accuracy(extractor, "test")
        train_accuracy, _ = accuracy(extractor, "train")
        print(f"test accuracy {test_accuracy:.4f}, train accuracy {train_accuracy:.4f}, "
              f"feature scale {feature_scale:.6f}")
        if test_accuracy < MIN_TEST_ACCURACY:
            raise SystemExit(
                f"test accuracy {test_accuracy:.4f} is below {MIN_TEST_ACCURACY}: not shipped"
            )
        card = CARD.format(
            architecture_text=(
                f"2 blocks of two 3x3 convolutions ({architecture['filters'][0]}, "
                f"{architecture['filters'][1]} filters, ReLU) and 2x2 max pooling; dense "
                f"{architecture['feature_dim']} (`features`, ReLU); dropout "
                f"{architecture['dropout']}; dense 10 and softmax"
            ),
            epochs=epochs, steps=steps, batch_size=BATCH_SIZE,
            learning_rate=LEARNING_RATE, rotation_degrees=ROTATION * 360, seed=SEED,
            minutes=minutes, cores=os.cpu_count(), test_accuracy=test_accuracy,
            errors=round((1 - test_accuracy) * test_count), test_count=test_count,
            train_accuracy=train_accuracy, feature_scale=feature_scale,
        )
        digits.write_folder(
            classifier, staging, architecture, card=card, feature_scale=feature_scale,
            data="digits train split, 32x32", epochs=epochs, steps_per_epoch=steps,
            batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
            test_accuracy=round(test_accuracy, 6), train_accuracy=round(train_accuracy, 6),
            keras_version=keras.__version__,
        )
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

if __name__ == "__main__":
    main()
