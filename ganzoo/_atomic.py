"""Atomic folder writes shared by presets and export bundles (standard library only).

A folder is built in a temporary sibling and renamed into place only when complete, so a
reader never sees half a preset or bundle, and a failed write leaves nothing behind. An
existing folder is replaced (when the caller allows it) only after the new one is ready.
"""

import contextlib
import os
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def public_mode(path, directory=False):
    """Give `path` the permissions a plain `open`/`mkdir` would (temp files are 0600)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def staged_folder(out_dir):
    """Yield a temporary folder beside `out_dir`; move it into place if the block succeeds.

    On any error the temporary folder, and any parent folders this call created, are
    removed and an existing `out_dir` is left untouched. An existing `out_dir` is replaced
    only once the new folder is complete: callers decide beforehand whether that is allowed.
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    parent, name = os.path.split(out_dir)
    created = _make_parents(parent)
    staging = None
    try:
        staging = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
        public_mode(staging, directory=True)
        yield staging
        _move_into_place(staging, out_dir)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def _make_parents(parent):
    """Create the missing folders above a target; return them, outermost first."""
    missing = []
    folder = parent
    while folder and not os.path.exists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    created = []
    for folder in reversed(missing):
        os.mkdir(folder)
        created.append(folder)
    return created


def _move_into_place(staging, out_dir):
    if not os.path.lexists(out_dir):
        os.rename(staging, out_dir)
        return
    parent, name = os.path.split(out_dir)
    retired = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    os.rmdir(retired)
    os.rename(out_dir, retired)
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(retired, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)
