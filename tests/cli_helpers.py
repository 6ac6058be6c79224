"""Running the `ganzoo` command in tests: in a subprocess or in-process, and checking that
errors are one clear line."""

import os
import subprocess
import sys

from click.testing import CliRunner

from ganzoo import cli

# A tiny DCGAN on bundled digits: trains in seconds.
TINY_TRAIN = ["--data", "digits", "--image-size", "16", "--batch-size", "32",
              "--latent-dim", "16", "--model-option", "generator_filters=8",
              "--model-option", "discriminator_filters=8", "--samples", "16"]


def ganzoo(*args, check=True, timeout=300, env=None):
    """Run `ganzoo ARGS` in a subprocess; fail with its output when `check` and it fails."""
    env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ganzoo {args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def ganzoo_cli_inprocess(args):
    return CliRunner().invoke(cli.main, [str(arg) for arg in args])


def assert_one_line_error(result, text):
    """Exit status 2 and one line `ganzoo: error: ...` containing `text`, no traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("ganzoo: error:") and text in lines[0], lines[0]
    assert "Traceback" not in result.output


def assert_error_line(result, text):
    """Exit status 2, progress lines allowed, then one last line `ganzoo: error: ...`."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ganzoo: error:")]
    assert errors == [lines[-1]], result.output
    assert text in lines[-1], lines[-1]
    assert "Traceback" not in result.output
