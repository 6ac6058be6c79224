"""Atomic folder writes shared by presets, export bundles and run folders (standard library only).

A folder is built in a temporary sibling and renamed into place only when complete, so a
reader never sees half a preset or bundle, and a failed write leaves nothing behind. An
existing folder is replaced (when the caller allows it) only after the new one is ready,
and only when it is one ganzoo wrote (`check_replaceable`) or an empty folder. Ownership
is decided per file: a ganzoo folder that holds anything ganzoo did not write (notes, a
picture, a sub-folder the user added) is refused, naming the first such file, so overwrite
never deletes a user's own files.

Write failures surface as one line naming the file and the operating system's reason
(`cannot write to DIR/model.onnx: No space left on device`), of the same `OSError`
subclass, never as a traceback from deep inside a writer.
"""

import contextlib
import errno
import os
import re
import shutil
import tempfile

# The names of the temporary files and folders this module writes beside a target
# (`.NAME.tmp-XXXXXXXX`, `.NAME.old-XXXXXXXX`, `.NAME.XXXXXXXX.SUFFIX`): left over by a
# kill, they are ganzoo's own.
_TEMPORARY = re.compile(r"^\..+\.(tmp-|old-)?[A-Za-z0-9_]{8}(\.[A-Za-z0-9_.]+)?$")


class NotReplaceableError(FileExistsError, ValueError):
    """An existing path that overwrite may not replace (a `FileExistsError` and a `ValueError`)."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def public_mode(path, directory=False):
    """Give `path` the permissions a plain `open`/`mkdir` would (temp files are 0600)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def check_replaceable(path, is_ours, what, *, overwrite=True, owns=None):
    """Refuse, in one line, to replace `path` unless it is absent, empty or ganzoo's own.

    Args:
        path: str or path-like. The folder about to be written.
        is_ours: callable taking the path and returning True for a folder ganzoo wrote
            (`presets.is_preset`, `_bundle.is_bundle`, a run-folder test).
        what: str. What such a folder is called in messages ("ganzoo preset").
        overwrite: bool. Whether the caller was asked to replace an existing folder.
            Defaults to True.
        owns: callable or None. Given the folder, returns a test of its files'
            "/"-separated relative paths: True for a file ganzoo wrote there. A folder
            holding any other file is refused, naming that file (`first_foreign`). None
            takes every file of a folder `is_ours` accepts as ganzoo's.

    Returns:
        The absolute path, as a str.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        NotReplaceableError: (a `FileExistsError` and a `ValueError`) `path` is a file, a
            link, a folder holding anything but a `what`, or a `what` holding a file
            ganzoo did not write.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.lexists(path):
        return path
    if not overwrite:
        raise FileExistsError(
            f"{path} already exists; pass overwrite=True (--overwrite on the command line) "
            "to replace it"
        )
    if os.path.islink(path):
        kind = "a symbolic link"
    elif not os.path.isdir(path):
        kind = "a file"
    elif not os.listdir(path):
        return path
    elif is_ours(path):
        if owns:
            check_owned(path, owns(path), what)
        return path
    else:
        kind = "a folder with other files"
    raise NotReplaceableError(
        f"{path} is not a {what} ({kind}); refusing to replace it even with overwrite=True: "
        "choose another folder or remove it yourself"
    )


def is_temporary(name):
    """True for the name of a temporary file or folder this module writes (`_TEMPORARY`)."""
    return bool(_TEMPORARY.match(name))


def check_owned(path, owns, what, *, option="overwrite=True",
                instead="choose another folder"):
    """Refuse, in one line naming the file, to replace a `what` holding a file not ganzoo's.

    Args:
        path: str or path-like. The ganzoo folder about to be replaced.
        owns: callable taking a "/"-separated relative path: True for ganzoo's files.
        what: str. What the folder is called in the message ("ganzoo preset").
        option: str. How the user asked to replace it, for the message.
        instead: str. What else the user can do, for the message.

    Raises:
        NotReplaceableError: "PATH/notes.txt was not written by ganzoo: refusing to
            replace the ganzoo preset PATH even with overwrite=True; ...".
    """
    foreign = first_foreign(path, owns)
    if foreign is not None:
        raise NotReplaceableError(
            f"{os.path.join(os.fspath(path), foreign)} was not written by ganzoo: refusing "
            f"to replace the {what} {os.fspath(path)} even with {option}; move that file "
            f"out of it first or {instead}"
        )


def first_foreign(folder, owns):
    """The first file under `folder` that `owns` does not claim, or None.

    Walks `folder` in sorted order without following links. Files, links and other
    non-folders are tested by their "/"-separated path relative to `folder`; empty
    folders hold nothing to lose and are never foreign, and everything inside a
    temporary folder this module wrote (`is_temporary`) is ganzoo's.

    Args:
        folder: str or path-like. The folder to inspect.
        owns: callable taking a relative path and returning True for ganzoo's files.

    Returns:
        The relative path of the first foreign file, or None.
    """
    folder = os.fspath(folder)
    for root, dirs, files in os.walk(folder):
        relative_root = os.path.relpath(root, folder)
        parts = [] if relative_root == os.curdir else relative_root.split(os.sep)
        dirs[:] = sorted(name for name in dirs if not is_temporary(name))
        links = [name for name in dirs if os.path.islink(os.path.join(root, name))]
        dirs[:] = [name for name in dirs if name not in links]
        for name in sorted(files + links):
            relative = "/".join(parts + [name])
            if not is_temporary(name) and not owns(relative):
                return relative
    return None


def write_error(error, path):
    """`error` (an `OSError`) as one line naming `path` and the OS reason, same subclass."""
    if getattr(error, "ganzoo_message", False):
        return error
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied"
    elif error.strerror:
        reason = error.strerror
    elif error.errno:
        reason = os.strerror(error.errno)
    else:
        reason = _first_line(error)
    return _one_line(error, f"cannot write to {os.fspath(path)}: {reason}")


def check_can_write(path):
    """Fail now, in one line naming `path`, when its folder is missing or cannot be written.

    For commands that would otherwise do all their work before writing their result.

    Raises:
        OSError: "cannot write to PATH: Read-only file system" (or "permission denied",
            "No such file or directory"); a full disk is found only when writing.
    """
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        code = errno.ENOENT
    elif os.access(folder, os.W_OK | os.X_OK):
        return
    elif os.statvfs(folder).f_flag & os.ST_RDONLY:
        code = errno.EROFS
    else:
        code = errno.EACCES
    raise write_error(OSError(code, os.strerror(code)), path)


@contextlib.contextmanager
def writing(path):
    """Turn an `OSError` raised while writing `path` into one line naming it (`write_error`)."""
    try:
        yield
    except OSError as error:
        raise write_error(error, path) from None


def replace_file(path, write, suffix=".tmp"):
    """Write a file atomically: `write(tmp_path)` beside `path`, flush it to disk, rename.

    A failed or interrupted write leaves `path` as it was and no temporary file; an
    `OSError` comes out as one line naming `path`, never the temporary file
    (`write_error`).

    Args:
        path: str or path-like. The file to create or replace.
        write: callable taking the temporary path and writing the file there.
        suffix: str. Suffix of the temporary name (Keras wants `.weights.h5`).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    with writing(path):
        handle, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                            suffix=suffix, dir=folder)
        os.close(handle)
        try:
            write(tmp_path)
            with open(tmp_path, "rb+") as written:
                os.fsync(written.fileno())
            public_mode(tmp_path)
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise


def write_json(path, content):
    """`json.dumps(content, indent=2)` to `path`, atomically (see `replace_file`)."""
    import json

    text = json.dumps(content, indent=2) + "\n"

    def write(tmp_path):
        with open(tmp_path, "w", encoding="utf-8") as handle:
            handle.write(text)

    replace_file(path, write)


@contextlib.contextmanager
def staged_folder(out_dir, *, overwrite=False, is_ours=None, what="ganzoo folder", owns=None):
    """Yield a temporary folder beside `out_dir`; move it into place if the block succeeds.

    An existing `out_dir` is refused unless `overwrite` and it is empty or `is_ours(out_dir)`
    (`check_replaceable`), checked before anything is written and again just before the
    move. On any error the temporary folder, and any parent folders this call created, are
    removed and an existing `out_dir` is left untouched; an `OSError` comes out as one line
    naming the file or folder as the user knows it (never the temporary one).

    Args:
        out_dir: str or path-like. The folder to create or replace.
        overwrite: bool. Allow replacing an existing `out_dir`. Defaults to False.
        is_ours: callable or None. True for a folder ganzoo wrote, that `overwrite` may
            replace; None allows only an empty folder. Defaults to None.
        what: str. What `is_ours` recognises, for messages. Defaults to "ganzoo folder".
        owns: callable or None. Which files of a folder `is_ours` accepts ganzoo wrote
            (see `check_replaceable`); None takes them all. Defaults to None.
    """
    is_ours = is_ours or (lambda path: False)
    out_dir = check_replaceable(out_dir, is_ours, what, overwrite=overwrite, owns=owns)
    parent, name = os.path.split(out_dir)
    created = []
    staging = None
    try:
        try:
            _make_parents(parent, created)
            staging = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
            public_mode(staging, directory=True)
        except OSError as error:
            raise write_error(error, _deepest_existing(parent)) from None
        try:
            yield staging
        except OSError as error:
            raise _as_user_path(error, staging, out_dir) from None
        check_replaceable(out_dir, is_ours, what, overwrite=overwrite, owns=owns)
        try:
            _move_into_place(staging, out_dir)
        except OSError as error:
            raise write_error(error, out_dir) from None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def _make_parents(parent, created):
    """Create the missing folders above a target, outermost first, appending each to `created`."""
    missing = []
    folder = parent
    while folder and not os.path.exists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for folder in reversed(missing):
        os.mkdir(folder)
        created.append(folder)


def _deepest_existing(folder):
    """`folder`, or its nearest ancestor that exists (where a failed mkdir tried to write)."""
    while folder and not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


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


def _as_user_path(error, staging, out_dir):
    """A one-line `error` that names paths inside `out_dir`, not the staging folder."""
    if getattr(error, "ganzoo_message", False):
        return _one_line(error, str(error).replace(staging, out_dir))
    filename = error.filename if isinstance(error.filename, str) else None
    path = filename.replace(staging, out_dir) if filename else out_dir
    return write_error(error, path)


def _one_line(error, message):
    """An exception of `error`'s class (or plain `OSError`) whose text is `message`."""
    try:
        new = type(error)(message)
    except Exception:  # a subclass with another constructor
        new = OSError(message)
    if not isinstance(new, OSError) or str(new) != message:
        new = OSError(message)
    new.errno = error.errno
    new.ganzoo_message = True
    return new


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
