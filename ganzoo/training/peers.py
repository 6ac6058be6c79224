"""Waiting for the other workers of a multi-worker run, with a bound and a way out.

Standard library only (no TensorFlow): the supervisor runs before TensorFlow starts.

While `MultiWorkerMirroredStrategy` waits for the workers of `TF_CONFIG`, TensorFlow is
blocked in C++ holding the interpreter: a Python thread, a timeout, an exception or Ctrl-C
cannot reach it (a peer that never comes up hung `ganzoo train` for good). So the wait is
bounded from outside: `supervised(function, timeout)` forks; the child does the work and
reports through a pipe once every worker is up (`report_ready`, called by
`ganzoo.training.strategy("multiworker")`); the parent, which holds no TensorFlow, prints
who it is waiting for, and past the timeout, or on SIGINT / SIGTERM, stops the child and
exits with one line. Once the workers are up, the parent forwards signals to the child and
exits with the child's status.
"""

import json
import os
import select
import signal
import socket
import sys
import time

READY_FD_VARIABLE = "GANZOO_PEERS_READY_FD"
DEFAULT_TIMEOUT = 300.0
REPORT_EVERY = 10.0


def of(config):
    """["worker 1 (host:port)", ...]: every other task of a parsed `TF_CONFIG`."""
    task = config.get("task", {})
    me = (task.get("type", "worker"), int(task.get("index", 0)))
    found = []
    for kind in ("chief", "worker"):
        for index, address in enumerate(config.get("cluster", {}).get(kind) or ()):
            if (kind, index) != me:
                found.append((f"{kind} {index}", address))
    return found


def task_of(tf_config=None):
    """(task type, index, is_chief) of this process under `TF_CONFIG`; None without it."""
    raw = tf_config if tf_config is not None else os.environ.get("TF_CONFIG")
    if not raw:
        return None
    config = json.loads(raw)
    task = config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    has_chief = bool(config.get("cluster", {}).get("chief"))
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and not has_chief)
    return kind, index, is_chief


def reachable(address, timeout=0.5):
    """Whether something listens at "host:port"."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def unreachable(peers):
    """The "label (address)" of each peer that does not listen yet."""
    return [f"{label} ({address})" for label, address in peers if not reachable(address)]


def report_ready():
    """Tell a supervising parent that every worker is up (no-op when unsupervised)."""
    fd = os.environ.pop(READY_FD_VARIABLE, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except OSError:
        pass


def supervised(function, timeout=DEFAULT_TIMEOUT, log=None):
    """Run `function()` in a forked child whose wait for peers is bounded by `timeout`.

    Call it before TensorFlow is imported. Returns in the child (with `function`'s result,
    the child then carries on as the program); the parent never returns: it exits with
    the child's status, or with status 2 and one line when the peers do not come up in
    `timeout` seconds, or 128 + signal number when interrupted while waiting.

    Args:
        function: callable run by the child.
        timeout: float. Seconds to wait for every worker. Defaults to 300.
        log: callable taking one line. Defaults to standard error with a `ganzoo:` prefix.
    """
    if not timeout or timeout <= 0:
        raise ValueError(f"peer timeout must be positive. Received: timeout={timeout}")
    log = log or (lambda line: print(f"ganzoo: {line}", file=sys.stderr, flush=True))
    raw = os.environ.get("TF_CONFIG", "")
    try:
        peers = of(json.loads(raw)) if raw else []
    except (ValueError, TypeError, AttributeError):
        peers = []  # the strategy itself reports a malformed TF_CONFIG
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.environ[READY_FD_VARIABLE] = str(write_fd)
        return function()
    os.close(write_fd)
    os._exit(_watch(pid, read_fd, peers, float(timeout), log))


def _watch(pid, read_fd, peers, timeout, log):
    """The parent's loop; returns the exit status."""
    received = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: received.append(number))
    start = time.monotonic()
    next_report = start + 2.0
    ready = False
    while True:
        readable, _, _ = select.select([read_fd], [], [], 0.2)
        if readable:
            ready = os.read(read_fd, 1) == b"1" or ready
            if not ready:  # the child closed the pipe: it ended (or exec'd)
                readable = None
            else:
                os.close(read_fd)
                read_fd = None
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else (
                128 + os.WTERMSIG(status))
        while received:
            signum = received.pop(0)
            if ready:
                os.kill(pid, signum)
                continue
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            log(f"interrupted while waiting for other workers ({signal.Signals(signum).name})")
            return 128 + signum
        if ready or read_fd is None or readable is None:
            if not ready:
                os.waitpid(pid, 0)
            _wait_forwarding(pid, received)
            continue
        now = time.monotonic()
        if now - start >= timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            missing = ", ".join(unreachable(peers)) or "a worker that does not answer"
            log(f"error: gave up after {timeout:g} s waiting for {missing}: start every "
                "worker of TF_CONFIG, or raise --peer-timeout")
            return 2
        if now >= next_report:
            missing = ", ".join(unreachable(peers)) or "the other workers to join"
            log(f"waiting for {missing} ({now - start:.0f} s of {timeout:g} s)")
            next_report = now + REPORT_EVERY


def _wait_forwarding(pid, received):
    """Once ready: sleep until the child ends, passing on signals."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = (os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
                    else 128 + os.WTERMSIG(status))
            os._exit(code)
        while received:
            os.kill(pid, received.pop(0))
        time.sleep(0.2)
