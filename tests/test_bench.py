"""`ganzoo bench`, `ganzoo export --format triton` and the measuring code behind bench.

No timed assertions: speed goals are measured by the scripts in benchmarks/.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from ganzoo import cli
from ganzoo.export import bench


def ganzoo(*args, timeout=300):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "ganzoo.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def rows(stdout):
    """(backend, batch) -> the row's text, for every table row bench printed."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^(keras|savedmodel|onnx)\s+(\d+)\s", line)
        if match:
            found[(match.group(1), int(match.group(2)))] = line
    return found


@pytest.fixture(scope="module")
def tiny_preset(tmp_path_factory):
    import ganzoo

    model = ganzoo.models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                                discriminator_filters=8, seed=0)
    path = tmp_path_factory.mktemp("bench") / "preset"
    model.save_to_preset(path, preset_name="tiny-bench")
    return path


@pytest.fixture(scope="module")
def tiny_bundle(tiny_preset, tmp_path_factory):
    from ganzoo import export, models

    path = tmp_path_factory.mktemp("bench-bundle") / "onnx"
    export.to_onnx(models.load(tiny_preset), path, parity_samples=2)
    return path


def test_bench_a_preset_prints_every_backend_side_by_side(tiny_preset):
    result = ganzoo("bench", tiny_preset, "--batch", "1,2", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {(name, batch) for name in ("keras", "savedmodel", "onnx")
                          for batch in (1, 2)}
    for batch in (1, 2):
        assert "1.00x" in table[("keras", batch)]
        assert re.search(r"\d+\.\d\dx", table[("onnx", batch)])
        assert "CPUExecutionProvider, model.cpu.onnx" in table[("onnx", batch)]
    assert "latency ms" in result.stdout and "images/s" in result.stdout
    assert "benchmarking dcgan preset" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_a_bundle_runs_its_own_backend(tiny_bundle):
    result = CliRunner().invoke(
        cli.main, ["bench", str(tiny_bundle), "--batch", "1,2", "--repeats", "1",
                   "--warmup", "1", "--provider", "cpu", "--threads", "1"],
    )
    assert result.exit_code == 0, result.output
    assert set(rows(result.output)) == {("onnx", 1), ("onnx", 2)}


def test_bench_tune_shows_what_the_runtime_chose(tiny_bundle):
    result = CliRunner().invoke(
        cli.main, ["bench", str(tiny_bundle), "--batch", "1", "--repeats", "1",
                   "--warmup", "1", "--provider", "cpu", "--tune"],
    )
    assert result.exit_code == 0, result.output
    assert "tuned: batch 1 on model." in result.output
    assert "other batches on model.cpu.onnx" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--backend", "keras"], "runs on onnx only"),
        (["--backend", "tpu"], "Unknown --backend 'tpu'"),
        (["--batch", "0"], "--batch sizes must be positive"),
        (["--batch", "one"], "--batch takes a comma-separated list"),
    ],
)
def test_bench_refuses_what_it_cannot_do_in_one_line(tiny_bundle, args, message):
    result = CliRunner().invoke(cli.main, ["bench", str(tiny_bundle), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_export_triton_from_the_command_line(tiny_preset, tmp_path):
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    repo = tmp_path / "models"
    result = CliRunner().invoke(cli.main, ["export", str(tiny_preset), "--format", "triton",
                                           "--out", str(repo), "--max-batch-size", "8"])
    assert result.exit_code == 0, result.output
    config = text_format.Parse((repo / "dcgan" / "config.pbtxt").read_text(),
                               model_config_pb2.ModelConfig())
    assert config.max_batch_size == 8 and [i.name for i in config.input] == ["latent"]
    refused = CliRunner().invoke(cli.main, ["export", str(tiny_preset), "--out",
                                            str(tmp_path / "x"), "--max-batch-size", "8"])
    assert refused.exit_code == 2 and "--format triton only" in refused.output


def test_bench_run_from_python_is_what_the_command_does(tiny_preset, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    said = []
    report = bench.run(tiny_preset, backends=["keras", "onnx"], batches=[1, 2], repeats=1,
                       warmup=1, providers="cpu", threads=1, log=said.append, pause=0)
    assert [(r.backend, r.batch) for r in report.results] == [
        ("keras", 1), ("onnx", 1), ("keras", 2), ("onnx", 2)]
    assert said == [f"benchmarking dcgan preset {tiny_preset}: batch 1, 2, 1 warm-up run(s), "
                    "median of 1"]
    assert "CPUExecutionProvider" in report.get("onnx", 1).detail
    assert list(tmp_path.glob("ganzoo-bench-*")) == []  # the temporary export is gone


@pytest.mark.parametrize(
    "source, options, message",
    [
        ("bundle", dict(backends=["keras"]), "is a onnx bundle, which runs on onnx only"),
        ("preset", dict(backends=["tpu"]), "Unknown backend 'tpu'"),
        ("preset", dict(batches=[1, 0]), "Batch sizes must be positive integers"),
        ("nowhere", {}, "Unknown preset 'nowhere': not a preset name"),
    ],
)
def test_bench_run_refuses_in_one_line_before_exporting(tiny_preset, tiny_bundle, source,
                                                         options, message, monkeypatch):
    from ganzoo import export

    def no_export(*args, **kwargs):
        raise AssertionError("exported before refusing")

    monkeypatch.setattr(export, "to_onnx", no_export)
    monkeypatch.setattr(export, "to_saved_model", no_export)
    given = {"bundle": tiny_bundle, "preset": tiny_preset}.get(source, source)
    with pytest.raises(ValueError, match=message) as caught:
        bench.run(given, **options)
    assert "\n" not in str(caught.value)


class _Counting:
    def __init__(self, name, detail="counting"):
        self.name, self.detail, self.batches = name, detail, []

    def prepare(self, feeds):
        (latents,) = feeds.values()
        self.batches.append(latents.shape[0])
        return lambda: np.tanh(latents)


def test_measure_warms_up_and_interleaves_every_backend():
    inputs = [{"name": "latent", "shape": [None, 4], "dtype": "float32", "role": "latent"}]
    first, second = _Counting("keras"), _Counting("onnx")
    report = bench.measure([first, second], inputs, [1, 3], repeats=3, warmup=2, pause=0,
                           flops_per_image=1e6, ceiling=True)
    assert first.batches == second.batches == [1, 3]
    assert [(r.backend, r.batch, len(r.seconds)) for r in report.results] == [
        ("keras", 1, 3), ("onnx", 1, 3), ("keras", 3, 3), ("onnx", 3, 3)]
    assert report.speedup("keras", 3) == 1.0 and report.speedup("onnx", 1) > 0
    assert set(report.matmul_gflops) == {1, 3}
    text = bench.format_report(report)
    assert "GFLOP/s" in text and "2048x2048 float32 matmul" in text


def test_inputs_follow_the_bundle_description():
    inputs = [
        {"name": "latent", "shape": [None, 6], "dtype": "float32", "role": "latent"},
        {"name": "label", "shape": [None], "dtype": "int32", "role": "label"},
        {"name": "image", "shape": [None, None, None, 3], "dtype": "float32", "role": "image"},
    ]
    feeds = bench.input_arrays(inputs, 4, num_classes=3, spatial=8)
    assert feeds["latent"].shape == (4, 6) and feeds["latent"].dtype == np.float32
    assert feeds["label"].dtype == np.int32 and feeds["label"].max() < 3
    assert feeds["image"].shape == (4, 8, 8, 3) and np.abs(feeds["image"]).max() <= 1


def test_onnx_flops_counts_convolutions_and_matmuls(tiny_bundle):
    # DCGAN 16x16x1, latent 8, filters 8: Dense 8 -> 4*4*16, then transposed convs
    # 16 -> 8 (4x4 -> 8x8) and 8 -> 1 (8x8 -> 16x16), all with 4x4 kernels.
    expected = 2 * (8 * 256 + 16 * 16 * 8 * 16 + 64 * 8 * 1 * 16)
    assert bench.onnx_flops(tiny_bundle / "model.onnx") == expected


def test_a_batch_that_may_not_fit_in_memory_is_refused_before_any_work(tiny_bundle,
                                                                       monkeypatch):
    from ganzoo import _memory

    per_image = bench.activation_values(tiny_bundle / "model.onnx")
    # Every tensor: at least the latent (8), the dense output (256) and the image (256).
    assert per_image >= 8 + 256 + 256
    need_at_48 = 4 * per_image * 48
    monkeypatch.setattr(_memory, "available_memory", lambda: need_at_48)
    report = bench.run(tiny_bundle, batches=[1, 48], repeats=1, warmup=0, pause=0)
    assert [m.batch for m in report.results] == [1, 48]

    monkeypatch.setattr(_memory, "available_memory", lambda: need_at_48 - 1)
    measured = []
    monkeypatch.setattr(bench, "measure", lambda *args, **kwargs: measured.append(1))
    with pytest.raises(ValueError) as error:
        bench.run(tiny_bundle, batches=[1, 48], repeats=1)
    assert str(error.value).startswith(f"batch 48 of dcgan bundle {tiny_bundle} may need up to ")
    assert str(error.value).endswith("is free: use a smaller --batch")
    assert measured == []

    result = CliRunner().invoke(cli.main, ["bench", str(tiny_bundle), "--batch", "1,48"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("ganzoo: error: batch 48 of ")
