"""Seeded inputs (ganzoo._sampling) and the uint8 conversion (ganzoo._imaging.to_uint8)."""

import types

import numpy as np
import pytest
import scipy.stats

from ganzoo import _imaging, _memory, _sampling, _validation

# --- argument checks -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, 0, 7, 2**40, np.int64(3), np.uint8(5)])
def test_check_seed_accepts_none_and_non_negative_integers(seed):
    checked = _validation.check_seed(seed)
    assert checked == seed and (checked is None or type(checked) is int)


@pytest.mark.parametrize(
    "seed, shown",
    [
        ("abc", "'abc'"),
        (1.5, "1.5"),
        (2.0, "2.0"),
        (-1, "-1"),
        (True, "True"),
        (np.int64(-2), "np.int64(-2)"),
        (np.float64(1.0), "np.float64(1.0)"),
        ([1], "[1]"),
    ],
)
def test_check_seed_refuses_anything_else_naming_the_argument(seed, shown):
    with pytest.raises(ValueError) as info:
        _validation.check_seed(seed)
    assert str(info.value) == (
        f"seed must be a non-negative integer or None. Received: seed={shown}"
    )
    with pytest.raises(ValueError, match=r"^data_seed must be .*Received: data_seed="):
        _validation.check_seed(seed, name="data_seed")


@pytest.mark.parametrize("n", [1, 64, np.int32(4), np.uint64(2)])
def test_check_count_accepts_positive_integers(n):
    assert _validation.check_count(n) == n and type(_validation.check_count(n)) is int


@pytest.mark.parametrize("n", [0, -3, 2.7, 3.0, True, "3", None, np.float32(2.0)])
def test_check_count_refuses_what_would_be_truncated_or_empty(n):
    with pytest.raises(ValueError, match=r"^n must be a positive integer\. Received: n=") as info:
        _validation.check_count(n)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: _sampling.latents(2, 4, seed="abc"), "Received: seed='abc'"),
        (lambda: _sampling.latents(2, 4, seed=1.5), "Received: seed=1.5"),
        (lambda: _sampling.latents(2, 4, seed=-1), "Received: seed=-1"),
        (lambda: _sampling.latents(2, 4, seed=True), "Received: seed=True"),
        (lambda: _sampling.latents(2.7, 4), "Received: n=2.7"),
        (lambda: _sampling.latents(0, 4), "Received: n=0"),
        (lambda: _sampling.latents(2, 0), "Received: latent_dim=0"),
        (lambda: _sampling.labels_for(3, 10, seed="abc"), "Received: seed='abc'"),
        (lambda: _sampling.labels_for(3, 10, seed=-1), "Received: seed=-1"),
        (lambda: _sampling.labels_for(3, 10, labels=[1.5, 2, 3]), "labels must be one integer"),
        (lambda: _sampling.labels_for(3, 10, labels=[1, 2]), "one label or 3 labels"),
        (lambda: _sampling.labels_for(3, 10, labels=10), r"Labels must lie in \[0, 9\]"),
        (lambda: _sampling.noise(2, (4, 4, 1), seed=0.5), "Received: seed=0.5"),
        (lambda: next(_sampling.latent_batches(5, 4, 0, batch_size=0)), "batch_size=0"),
    ],
)
def test_sampling_functions_refuse_bad_arguments_in_one_line(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# --- the latent distribution -----------------------------------------------------------


def test_latents_for_seed_0_are_pinned():
    # The first latents NumPy's PCG64 standard normal gives for seed 0; presets, bundles and
    # published pictures depend on them, so they must never change.
    expected = np.array(
        [
            [1.1176220178604126, -1.3871248960494995, -0.4265716075897217, -0.8035872578620911],
            [0.6014277338981628, -0.07499324530363083, 0.059693194925785065, -0.03200608864426613],
        ],
        dtype=np.float32,
    )
    latents = _sampling.latents(2, 4, seed=0)
    assert latents.dtype == np.float32 and latents.shape == (2, 4)
    np.testing.assert_array_equal(latents, expected)
    np.testing.assert_array_equal(_sampling.labels_for(8, 10, seed=0), [4, 5, 7, 9, 0, 1, 8, 9])
    np.testing.assert_array_equal(
        _sampling.noise(1, (2, 2, 1), seed=0).ravel(),
        np.array([1.7045365571975708, -0.30205240845680237, -0.14729292690753937,
                  0.4002229571342468], dtype=np.float32),
    )


def _looks_standard_normal(values):
    values = np.asarray(values, dtype=np.float64).ravel()
    statistic = scipy.stats.kstest(values, "norm")
    return abs(values.mean()) < 0.02 and abs(values.std() - 1.0) < 0.02 and statistic.pvalue > 1e-3


def test_latents_are_standard_normal():
    latents = _sampling.latents(1000, 100, seed=123)  # 100k draws
    assert _looks_standard_normal(latents)
    assert _looks_standard_normal(_sampling.latents(100_000, 1, seed=None))
    # The check has the power to see a wrong distribution, even one with mean 0 and
    # variance 1: uniform on [-sqrt(3), sqrt(3)].
    uniform = np.random.default_rng(123).uniform(-np.sqrt(3), np.sqrt(3), (1000, 100))
    assert abs(uniform.mean()) < 0.02 and abs(uniform.std() - 1.0) < 0.02
    assert not _looks_standard_normal(uniform)


def test_noise_is_standard_normal():
    assert _looks_standard_normal(_sampling.noise(1000, (10, 10, 1), seed=9, index=2))


def test_drawn_labels_cover_every_class_evenly():
    labels = _sampling.labels_for(10_000, 10, seed=4)
    counts = np.bincount(labels, minlength=10)
    assert labels.dtype == np.int32 and counts.sum() == 10_000
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


# --- streaming: batches equal one draw -------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, 64, 257, 1000])
def test_batches_are_exactly_the_rows_of_one_draw(batch_size):
    n = 257
    latent_parts = list(_sampling.latent_batches(n, 7, seed=5, batch_size=batch_size))
    assert max(len(part) for part in latent_parts) == min(batch_size, n)
    np.testing.assert_array_equal(np.concatenate(latent_parts), _sampling.latents(n, 7, seed=5))

    drawn = np.concatenate(list(_sampling.label_batches(n, 10, seed=5, batch_size=batch_size)))
    np.testing.assert_array_equal(drawn, _sampling.labels_for(n, 10, seed=5))
    given = np.arange(n) % 10
    sliced = np.concatenate(
        list(_sampling.label_batches(n, 10, labels=given, batch_size=batch_size))
    )
    np.testing.assert_array_equal(sliced, given)

    noise = np.concatenate(
        list(_sampling.noise_batches(n, (3, 2, 1), seed=5, index=1, batch_size=batch_size))
    )
    np.testing.assert_array_equal(noise, _sampling.noise(n, (3, 2, 1), seed=5, index=1))


def test_streams_are_the_documented_generators():
    """docs/export.md: latents default_rng(s), labels s + 1, noise input k s + 2 + k."""
    np.testing.assert_array_equal(
        _sampling.latents(5, 3, seed=11),
        np.random.default_rng(11).standard_normal((5, 3), dtype=np.float32),
    )
    np.testing.assert_array_equal(
        _sampling.labels_for(6, 4, seed=11), np.random.default_rng(12).integers(0, 4, size=6)
    )
    np.testing.assert_array_equal(
        _sampling.noise(5, (2, 2, 1), seed=11, index=3),
        np.random.default_rng(16).standard_normal((5, 2, 2, 1), dtype=np.float32),
    )


# --- draw_inputs: every input of a generator, by role ----------------------------------

EVERY_ROLE = [
    {"name": "latent", "shape": [None, 2, 3], "dtype": "float32", "role": "latent"},
    {"name": "truncation", "shape": [None, 1], "dtype": "float32", "role": "truncation"},
    {"name": "label", "shape": [None], "dtype": "int64", "role": "label"},
    {"name": "noise_0", "shape": [None, None, None, 1], "dtype": "float32", "role": "noise"},
    {"name": "image", "shape": [None, None, None, 3], "dtype": "float32", "role": "image"},
    {"name": "noise_1", "shape": [None, 2, 2, 1], "dtype": "float16", "role": "noise"},
]


def test_draw_inputs_draws_each_role_from_its_documented_stream():
    latent, truncation, label, noise_0, image, noise_1 = _sampling.draw_inputs(
        EVERY_ROLE, 5, 11, num_classes=4, spatial=3, truncation=0.5
    )
    np.testing.assert_array_equal(latent, _sampling.latents(5, 6, 11).reshape(5, 2, 3))
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, _sampling.labels_for(5, 4, seed=11))
    np.testing.assert_array_equal(noise_0, _sampling.noise(5, (3, 3, 1), 11, index=0))
    np.testing.assert_array_equal(
        image, np.random.default_rng(14).uniform(-1, 1, (5, 3, 3, 3)).astype(np.float32)
    )
    assert noise_1.dtype == np.float16
    np.testing.assert_array_equal(noise_1, _sampling.noise(5, (2, 2, 1), 11, index=1)
                                  .astype(np.float16))
    np.testing.assert_array_equal(truncation, np.full((5, 1), 0.5, np.float32))
    # Given labels are used as they are; objects with the same attributes describe inputs.
    specs = [types.SimpleNamespace(**entry) for entry in EVERY_ROLE]
    given = _sampling.draw_inputs(specs, 5, 11, labels=3, num_classes=4, spatial=3)
    np.testing.assert_array_equal(given[1], np.ones((5, 1), np.float32))
    np.testing.assert_array_equal(given[2], np.full(5, 3))
    np.testing.assert_array_equal(given[0], latent)


@pytest.mark.parametrize("batch_size", [1, 3, 7, 64])
def test_drawn_input_batches_are_the_rows_of_one_draw(batch_size):
    whole = _sampling.draw_inputs(EVERY_ROLE, 7, 2, num_classes=4, spatial=2)
    parts = list(_sampling.draw_inputs(EVERY_ROLE, 7, 2, num_classes=4, spatial=2,
                                       batch_size=batch_size))
    assert [len(part[0]) for part in parts][0] == min(batch_size, 7)
    for index, array in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([part[index] for part in parts]), array)


@pytest.mark.parametrize(
    "inputs, options, message",
    [
        (EVERY_ROLE[:1], {"labels": 3}, r"^The generator is not conditional .* labels=3$"),
        (EVERY_ROLE[:1], {"truncation": 0.5}, r"no truncation input.*truncation=0.5$"),
        (EVERY_ROLE[1:2], {"truncation": "abc"}, r"finite number. Received: truncation='abc'$"),
        (EVERY_ROLE[1:2], {"truncation": float("nan")}, r"Received: truncation=nan$"),
        (EVERY_ROLE[3:4], {}, r"^Input 'noise_0' \(noise\) has dynamic axes \(None, None, None, "
                              r"1\), so it cannot be drawn"),
        (EVERY_ROLE[2:3], {}, r"Labels cannot be drawn without the number of classes"),
        (EVERY_ROLE[2:3], {"labels": [1.5] * 4}, r"labels must be one integer or a 1-D"),
        (EVERY_ROLE[2:3], {"num_classes": 3, "labels": 3}, r"^Labels must lie in \[0, 2\]"),
        ([dict(EVERY_ROLE[0], role="style")], {}, r"needs a name, a shape .* a role"),
        ([], {}, r"no inputs to draw"),
        (EVERY_ROLE[:1], {"batch_size": 0}, r"Received: batch_size=0$"),
        (EVERY_ROLE[:1], {"spatial": 0}, r"Received: spatial=0$"),
    ],
)
def test_draw_inputs_refuses_what_it_cannot_draw_in_one_line(inputs, options, message):
    with pytest.raises(ValueError, match=message) as info:
        _sampling.draw_inputs(inputs, 4, 0, **options)
    assert "\n" not in str(info.value)


def test_unseeded_batches_differ_from_call_to_call():
    first = _sampling.latents(4, 8)
    assert not np.array_equal(first, _sampling.latents(4, 8))
    parts = list(_sampling.latent_batches(10, 8, batch_size=4))
    assert [len(part) for part in parts] == [4, 4, 2]


# --- memory ----------------------------------------------------------------------------


def test_sizes_that_cannot_fit_are_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: int(20.1 * 1024**3))
    with pytest.raises(ValueError) as info:
        _memory.check_fits_in_memory(100_000_000, (32, 32, 1))
    assert str(info.value) == (
        "n=100000000 samples of 32x32x1 need 95.4 GiB; about 20.1 GiB is free: "
        "sample fewer (or in several calls)"
    )
    # Float images take four bytes a value.
    with pytest.raises(ValueError, match=r"n=6000000 images of 32x32x1 need 22\.9 GiB"):
        _memory.check_fits_in_memory(6_000_000, (32, 32, 1), "images", bytes_per_value=4)
    assert _memory.check_fits_in_memory(6_000_000, (32, 32, 1)) is None  # 5.7 GiB fits
    monkeypatch.setattr(_memory, "available_memory", lambda: 300 * 1024**2)
    with pytest.raises(ValueError, match=r"need 3\.0 GiB; about 300\.0 MiB is free"):
        _memory.check_fits_in_memory(1024, (1024, 1024, 3))
    with pytest.raises(ValueError, match="Received: n=2.5"):
        _memory.check_fits_in_memory(2.5, (32, 32, 1))


def test_free_memory_is_read_from_this_machine(monkeypatch):
    free = _memory.available_memory()
    assert free is None or free > 0
    expected = (
        r"^n=1000000000000 samples of 32x32x1 need 953674\.3 GiB; "
        r"about \d+\.\d (GiB|MiB) is free: sample fewer \(or in several calls\)$"
    )
    with pytest.raises(ValueError, match=expected):
        _memory.check_fits_in_memory(10**12, (32, 32, 1))
    # Without /proc/meminfo, the free pages that os.sysconf reports.
    monkeypatch.setattr(_memory, "_meminfo_available", lambda: None)
    assert _memory.available_memory() > 0


# --- uint8 conversion ------------------------------------------------------------------


def test_to_uint8_maps_the_range_exactly_rounding_half_up():
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, -3.0, 2.0], dtype=np.float32)
    # (x + 1) * 127.5: 0, 63.75, 127.5, 191.25, 255, then clipped.
    np.testing.assert_array_equal(_imaging.to_uint8(values), [0, 64, 128, 191, 255, 0, 255])
    assert _imaging.to_uint8(np.float32(0.0)).dtype == np.uint8
    # Exact halves round up, never to even (np.rint would give 126, 0, 2, 254).
    halves = np.array([126.5, 0.5, 2.5, 254.5, 255.49, -0.49], dtype=np.float32)
    np.testing.assert_array_equal(_imaging.to_uint8(halves, (0, 255)), [127, 1, 3, 255, 255, 0])
    # Just below a half rounds down.
    below = np.nextafter(np.float32(126.5), np.float32(0))
    assert _imaging.to_uint8(below, (0, 255)) == 126
    # Float64 input and other ranges.
    unit_range = _imaging.to_uint8(np.array([0.0, 0.5, 1.0]), (0, 1))
    np.testing.assert_array_equal(unit_range, [0, 128, 255])


def test_to_uint8_undoes_from_uint8_on_every_level():
    levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    for value_range in ((-1.0, 1.0), (0.0, 1.0), [-1, 1]):
        floats = _imaging.from_uint8(levels, value_range)
        assert floats.dtype == np.float32
        assert floats.min() == value_range[0] and floats.max() == value_range[1]
        np.testing.assert_array_equal(_imaging.to_uint8(floats, value_range), levels)


def test_to_uint8_in_chunks_equals_one_pass(monkeypatch):
    images = np.random.default_rng(0).uniform(-1.2, 1.2, (3, 17, 19, 3)).astype(np.float32)
    whole = _imaging.to_uint8(images)
    monkeypatch.setattr(_imaging, "_UINT8_CHUNK", 1000)
    chunked = _imaging.to_uint8(images)
    np.testing.assert_array_equal(chunked, whole)
    assert chunked.shape == images.shape
    reference = np.clip(np.floor((images.astype(np.float64) + 1) * 127.5 + 0.5), 0, 255)
    np.testing.assert_array_equal(whole, reference.astype(np.uint8))


def test_to_uint8_refuses_an_empty_range():
    with pytest.raises(ValueError, match=r"low < high.*value_range=\(1, 1\)"):
        _imaging.to_uint8(np.zeros(3), (1, 1))


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, bool])
def test_check_float_values_refuses_integers_and_bools_naming_the_input(dtype):
    with pytest.raises(ValueError, match=rf"Input 'latent' takes floating-point values, "
                                         rf"not {np.dtype(dtype)}") as caught:
        _validation.check_float_values(np.zeros((2, 4), dtype), "latent", "latent")
    assert "\n" not in str(caught.value)


def test_check_float_values_passes_floats_through():
    values = np.ones((2, 4), np.float64)
    assert _validation.check_float_values(values) is values


@pytest.mark.parametrize("name, role", [
    ("latent", "latent"), ("latent_z", "latent"), ("z", "latent"), ("Z", "latent"),
    ("label", "label"), ("class_id", "label"), ("y", "label"), ("noise_0", "noise"),
    ("noise_8x8", "noise"), ("image", "image"), ("truncation", "truncation"),
    ("psi", "truncation"), ("input_layer_3", None), ("styles", None),
])
def test_an_input_name_gives_its_role_by_one_rule(name, role):
    assert _sampling.role_from_name(name) == role
