"""Serve PNG samples of an exported ONNX bundle over HTTP, with `ganzoo.runtime` only.

No TensorFlow or Keras is imported: the runtime runs the bundle with onnxruntime (the
standard library's `http.server` serves it), so this runs where only
`ganzoo.runtime`, NumPy, onnxruntime and Pillow are installed.

    ganzoo export dcgan-digits --format onnx --out export/dcgan-digits
    python examples/serve_bundle.py export/dcgan-digits --port 8000
    curl -o grid.png 'http://127.0.0.1:8000/sample.png?seed=3&n=16'

Routes:

- `GET /sample.png?seed=S&n=N&truncation=PSI&label=K`: a PNG of `n` samples (one picture
  for n=1, else a grid), `runtime.load(BUNDLE).sample(n, seed=S, truncation=PSI,
  labels=K)`; every parameter optional (seed 0, n 1); `truncation` for style-based
  bundles, `label` for conditional ones.
- `GET /info`: JSON with the bundle's family, image shape and the provider running it.

A bad parameter (not a number, n outside 1..64, an unknown name, a truncation the bundle
has no input for) is a 400 with one line of text saying why. The server listens on
127.0.0.1 only; `--port 0` picks a free port, and the first line printed is its URL.
"""

import argparse
import http.server
import io
import json
import sys
import urllib.parse

import numpy as np
from PIL import Image

from ganzoo import images as images_lib
from ganzoo import runtime

MAX_IMAGES = 64
PARAMETERS = ("seed", "n", "truncation", "label")


class BadRequest(ValueError):
    """A request the server refuses with a 400 and this one line."""


def parse_query(query):
    """`{seed, n, truncation, labels}` of a query string, checked: `BadRequest` otherwise."""
    given = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(given) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; expected {', '.join(PARAMETERS)}")
    values = {}
    for name, values_given in given.items():
        if len(values_given) > 1:
            raise BadRequest(f"{name} given {len(values_given)} times")
        values[name] = values_given[0]

    def integer(name, default, low, high=None):
        text = values.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadRequest(f"{name} must be an integer. Received: {text!r}") from None
        if value < low or (high is not None and value > high):
            limits = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise BadRequest(f"{name} must be {limits}. Received: {value}")
        return value

    truncation = values.get("truncation")
    if truncation is not None:
        try:
            truncation = float(truncation)
        except ValueError:
            raise BadRequest(f"truncation must be a number. Received: {truncation!r}") from None
        if not np.isfinite(truncation):
            raise BadRequest(f"truncation must be finite. Received: {truncation}")
    return {"seed": integer("seed", 0, 0), "n": integer("n", 1, 1, MAX_IMAGES),
            "truncation": truncation, "labels": integer("label", None, 0)}


def png_bytes(picture):
    """A uint8 HWC picture (1 or 3 channels) as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(picture[..., 0] if picture.shape[-1] == 1 else picture).save(
        buffer, format="PNG")
    return buffer.getvalue()


def render(generator, query):
    """PNG bytes of the samples a query asks for (`BadRequest` for a bad query)."""
    request = parse_query(query)
    try:
        images = generator.sample(request["n"], seed=request["seed"],
                                  truncation=request["truncation"], labels=request["labels"])
    except ValueError as error:  # what the bundle cannot take: the runtime's one line
        text = str(error).strip()
        raise BadRequest(text.splitlines()[0] if text else type(error).__name__) from None
    return png_bytes(images[0] if len(images) == 1 else images_lib.grid(images))


def make_handler(generator):
    """The request handler class serving `generator` (a `ganzoo.runtime` Sampler)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/sample.png":
                try:
                    self._send(200, "image/png", render(generator, url.query))
                except BadRequest as error:
                    self._send(400, "text/plain; charset=utf-8", f"{error}\n".encode())
            elif url.path == "/info":
                info = {"family": generator.family, "image_shape": generator.image_shape,
                        "provider": generator.provider}
                self._send(200, "application/json", json.dumps(info).encode())
            else:
                self._send(404, "text/plain; charset=utf-8",
                           b"not found: try /sample.png?seed=0&n=16 or /info\n")

        def _send(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def serve(bundle, port=8000, max_requests=None, providers="cpu"):
    """Serve `bundle` on 127.0.0.1:`port` until interrupted (or `max_requests` served)."""
    # Requests of one picture are the common case: time at load which graph and thread
    # count draw one fastest on this CPU (`tune`; other batches keep the default).
    generator = runtime.load(bundle, providers=providers, tune=True)
    if not hasattr(generator, "sample"):
        raise SystemExit(f"{bundle} holds a {generator.family} generator that maps images to "
                         "images; this example serves generators that sample from a seed")
    server = http.server.HTTPServer(("127.0.0.1", port), make_handler(generator))
    print(f"http://127.0.0.1:{server.server_address[1]}/ serving {generator.family} "
          f"({generator.provider})", flush=True)
    with server:
        if max_requests is None:
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
        else:
            for _ in range(max_requests):
                server.handle_request()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="An ONNX bundle folder (ganzoo export --format onnx).")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port.")
    parser.add_argument("--max-requests", type=int,
                        help="Stop after this many requests (default: until Ctrl-C).")
    parser.add_argument("--providers", default="cpu",
                        help="onnxruntime providers: auto, cpu, cuda, tensorrt (default cpu).")
    args = parser.parse_args(argv)
    serve(args.bundle, args.port, args.max_requests, args.providers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
