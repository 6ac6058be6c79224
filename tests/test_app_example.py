"""examples/serve_bundle.py, the app example of docs/apps.md: it serves a bundle's samples
over HTTP with `ganzoo.runtime` alone (TensorFlow and Keras made unimportable in its
process), the PNG it serves is the runtime's `sample`, bad parameters are a 400 with one
line, and it stops by itself after the requests it was told to serve."""

import io
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganzoo import images, runtime
from tests.sampling_helpers import varied_dcgan_and_bundle

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "serve_bundle.py"
# The server's process: any import of TensorFlow or Keras fails there (and so the server).
NO_TENSORFLOW = (
    "import runpy, sys\n"
    "for name in ('tensorflow', 'keras', 'tf2onnx'):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app") / "bundle"
    varied_dcgan_and_bundle(folder)
    return folder


def _get(url):
    """(status, content type, body) of a GET, 4xx included."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_the_example_serves_the_runtimes_samples_without_tensorflow(bundle):
    requests = [
        ("sample.png?seed=3&n=4", 200),
        ("sample.png?seed=5", 200),
        ("sample.png?n=abc", 400),
        ("sample.png?n=0", 400),
        ("sample.png?n=1000", 400),
        ("sample.png?colour=red", 400),
        ("sample.png?truncation=0.5", 400),
        ("info", 200),
    ]
    server = subprocess.Popen(
        [sys.executable, "-c", NO_TENSORFLOW, str(EXAMPLE), str(bundle), "--port", "0",
         "--max-requests", str(len(requests))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = server.stdout.readline()
        assert first.startswith("http://127.0.0.1:"), (first, server.stderr.read())
        base = first.split()[0]
        answers = {path: _get(base + path) for path, _ in requests}
        assert server.wait(timeout=60) == 0, server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        server.stdout.close()
        server.stderr.close()

    for path, status in requests:
        assert answers[path][0] == status, (path, answers[path])
    generator = runtime.load(bundle, providers="cpu")
    served = np.asarray(Image.open(io.BytesIO(answers["sample.png?seed=3&n=4"][2])))
    np.testing.assert_array_equal(served, images.grid(generator.sample(4, seed=3))[..., 0])
    single = np.asarray(Image.open(io.BytesIO(answers["sample.png?seed=5"][2])))
    np.testing.assert_array_equal(single, generator.sample(1, seed=5)[0, ..., 0])
    for path, status in requests:
        if status == 400:
            kind, body = answers[path][1], answers[path][2].decode()
            assert kind.startswith("text/plain") and body.count("\n") == 1, (path, body)
    assert "n must be an integer. Received: 'abc'" in answers["sample.png?n=abc"][2].decode()
    assert "n must be from 1 to 64" in answers["sample.png?n=1000"][2].decode()
    assert "unknown parameter 'colour'" in answers["sample.png?colour=red"][2].decode()
    assert "truncation" in answers["sample.png?truncation=0.5"][2].decode()
    assert b'"family": "dcgan"' in answers["info"][2]
