"""One seed, one set of inputs: the runtime, export parity and bench draw the same arrays.

All three call `ganzoo._sampling.draw_inputs`; a copy that drew its own (another stream,
float64 noise cast down, a shifted seed) would give other arrays here.
"""

import keras
import numpy as np
import pytest
from keras import layers

from ganzoo import _imaging, export, runtime
from ganzoo.export import _signature, bench

from export_helpers import LATENT_DIM, StandIn, tiny_generator

NUM_CLASSES = 5


def conditional_noisy_generator():
    """A conditional generator with a noise input: latent, label and noise_0."""
    latent = keras.Input((LATENT_DIM,), name="latent")
    label = keras.Input((), dtype="int32", name="label")
    noise = keras.Input((4, 4, 1), name="noise_0")
    embedded = layers.Embedding(NUM_CLASSES, LATENT_DIM, name="embed")(label)
    x = layers.Multiply(name="condition")([latent, embedded])
    x = layers.Reshape((4, 4, 1), name="reshape")(layers.Dense(16, name="project")(x))
    x = layers.Add(name="add_noise")([x, noise])
    images = layers.Conv2D(1, 3, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model([latent, label, noise], images, name="conditional_noisy")


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    """`{kind: (keras generator, loaded runtime Sampler, num_classes)}`."""
    root = tmp_path_factory.mktemp("by_role")
    made = {}
    for kind, generator, num_classes in [
        ("latent", tiny_generator(), None),
        ("conditional", conditional_noisy_generator(), NUM_CLASSES),
    ]:
        export.to_onnx(StandIn(generator, kind, num_classes), root / kind)
        made[kind] = (generator, runtime.load(root / kind), num_classes)
    return made


@pytest.mark.parametrize("kind", ["latent", "conditional"])
@pytest.mark.parametrize("n, seed", [(1, 0), (6, 11)])
def test_runtime_parity_and_bench_draw_the_same_inputs(generators, kind, n, seed):
    generator, sampler, num_classes = generators[kind]
    names = [entry["name"] for entry in sampler.inputs]
    assert names == (["latent"] if kind == "latent" else ["latent", "label", "noise_0"])

    from_runtime = sampler.inputs_for(n, seed)
    from_parity = _signature.seeded_inputs(_signature.input_specs(generator), n, seed,
                                           num_classes)
    from_bench = bench.input_arrays(sampler.inputs, n, num_classes=num_classes, seed=seed)

    assert list(from_runtime) == list(from_bench) == names
    for name, parity in zip(names, from_parity):
        runtime_array, bench_array = from_runtime[name], from_bench[name]
        assert runtime_array.dtype == parity.dtype == bench_array.dtype
        assert np.array_equal(runtime_array, parity), f"{name}: runtime and parity differ"
        assert np.array_equal(runtime_array, bench_array), f"{name}: runtime and bench differ"
    # The feeds are what sample() runs, and other seeds draw other inputs.
    images = sampler.sample(n, seed=seed, batch_size=4)
    np.testing.assert_array_equal(images, _imaging.to_uint8(sampler.run(**from_runtime)))
    other = bench.input_arrays(sampler.inputs, n, num_classes=num_classes, seed=seed + 1)
    assert not any(np.array_equal(from_runtime[name], other[name]) for name in names
                   if name != "label")
