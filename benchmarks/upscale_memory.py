"""Peak memory of tiled 4x upscaling: a 512x512 picture against a 256x256 one.

Each measurement runs in a fresh subprocess: it builds or loads the generator, upscales a
64x64 picture once (so TensorFlow's and onnxruntime's one-off allocations are made), reads
its resident memory (the baseline), upscales the measured picture and reads the peak
resident memory of the process (`VmHWM` in /proc/self/status: the peak of its own image,
not `ru_maxrss`, which keeps the peak of the parent it was forked from, here the process
that exported the bundle). Reported per input size: the output size,
the peak, and the peak above the baseline (what upscaling that picture took).

Backends: `keras` (`SRGAN.upscale`) and `onnx` (`ganzoo.runtime` on an exported bundle,
`SuperResolver.upscale`), both tiled the same way (`ganzoo._tiling`, 128-pixel tiles
overlapping by 32). `--untiled` adds the keras backend run whole (tile_size larger than
the picture) at 256x256 for comparison.

Model: the preset `srgan-x4-photos` when it is installed, else (or with `--paper`) the
paper's generator (64 filters, 16 residual blocks) with random weights: memory depends on
the widths, not on the weights.

Run: `.venv/bin/python benchmarks/upscale_memory.py [--sizes 256,512] [--paper] [--untiled]`
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_CHILD = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np

backend, size, model_spec, bundle, tile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
tile_size = None if tile == "default" else int(tile)


def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


if backend == "onnx":
    import ganzoo.runtime
    upscaler = ganzoo.runtime.load(bundle)
    upscale = lambda image: upscaler.upscale(image, tile_size=tile_size)
else:
    import ganzoo
    if model_spec == "paper":
        model = ganzoo.models.SRGAN(image_shape=(96, 96, 3), scale=4, seed=0)
    else:
        model = ganzoo.models.SRGAN.from_preset(model_spec)
    upscale = lambda image: model.upscale(image, tile_size=tile_size)
rng = np.random.default_rng(0)
upscale(rng.integers(0, 256, (64, 64, 3), np.uint8))
baseline = rss_mib()
out = upscale(rng.integers(0, 256, (size, size, 3), np.uint8))
with open("/proc/self/status") as status:  # VmHWM: this process image's own peak
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps({"out": list(out.shape), "baseline_mib": baseline, "peak_mib": peak}))
"""


def measure(backend, size, model_spec, bundle="", tile="default"):
    result = subprocess.run([sys.executable, "-c", _CHILD, backend, str(size), model_spec,
                             bundle, tile], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def model_spec(paper):
    if paper:
        return "paper"
    import ganzoo

    return "srgan-x4-photos" if "srgan-x4-photos" in ganzoo.list_presets() else "paper"


def export_bundle(spec, folder):
    import ganzoo

    if spec == "paper":
        model = ganzoo.models.SRGAN(image_shape=(96, 96, 3), scale=4, seed=0)
    else:
        model = ganzoo.models.SRGAN.from_preset(spec)
    ganzoo.export.to_onnx(model, folder)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--paper", action="store_true", help="the paper's generator widths")
    parser.add_argument("--untiled", action="store_true")
    parser.add_argument("--backends", default="keras,onnx")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    spec = model_spec(args.paper)
    print(f"model: {spec} (x4)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bundle = ""
        if "onnx" in args.backends.split(","):
            bundle = export_bundle(spec, os.path.join(tmp, "bundle"))
        for backend in args.backends.split(","):
            for size in sizes:
                rows.append((backend, "tiled", size, measure(backend, size, spec, bundle)))
        if args.untiled:
            rows.append(("keras", "untiled", sizes[0],
                         measure("keras", sizes[0], spec, bundle, tile=str(10**6))))
    print("| backend | tiling | input | output | peak RSS (MiB) | above baseline (MiB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for backend, tiling, size, r in rows:
        print(f"| {backend} | {tiling} | {size}x{size} | {r['out'][1]}x{r['out'][0]} | "
              f"{r['peak_mib']:.0f} | {r['peak_mib'] - r['baseline_mib']:.0f} |")
    for backend in args.backends.split(","):
        tiled = {size: r for b, t, size, r in rows if b == backend and t == "tiled"}
        if len(sizes) > 1:
            small, large = tiled[sizes[0]], tiled[sizes[-1]]
            print(f"{backend}: peak {sizes[-1]} / peak {sizes[0]} = "
                  f"{large['peak_mib'] / small['peak_mib']:.2f}; above baseline "
                  f"{(large['peak_mib'] - large['baseline_mib']):.0f} / "
                  f"{(small['peak_mib'] - small['baseline_mib']):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
