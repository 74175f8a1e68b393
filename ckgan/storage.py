"""Where ckgan keeps files, and how it writes them so that nothing is lost.

Every file that is later trusted (caches, checkpoints, models) is written to a
temporary name in the same folder and renamed into place, so a kill never
leaves half a file. On top of that:

* ``check_output`` is the one guard for every file a command writes at the
  user's request (``--out``): never into a run folder's own files, never over
  an existing file without ``force``, only in a format its suffix names.
* ``run_lock`` holds an exclusive lock on a run folder for as long as a
  process writes it; the operating system releases it when the process dies,
  however it dies.
* A file system that refuses a write (read-only, full, a file where a folder
  should be) is a ``CkganError`` naming the path, not a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import CkganError

#: the lock file a process holds while it writes a run folder
LOCK_FILE = ".ckgan.lock"
#: what a run folder is recognised by
RUN_CONFIG = "config.json"


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def cache_dir(*parts: str) -> Path:
    """``$CKGAN_CACHE`` (default: the user's cache folder ``.../ckgan``), joined with ``parts``.

    The folder is created when missing; a ``CKGAN_CACHE`` that cannot be a
    folder (a file, a read-only place) is a ``CkganError``.
    """
    root = os.environ.get("CKGAN_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "ckgan")
    path = Path(root, *parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise CkganError(
            f"cache folder '{path}' cannot be used ({_reason(e)}): "
            "set CKGAN_CACHE to a writable folder"
        ) from None
    return path


def fingerprint(*paths: str | Path) -> str:
    """A short stable name for files as they are now: their absolute paths, sizes and times."""
    import hashlib

    digest = hashlib.sha1()
    for path in paths:
        path = Path(path)
        stat = path.stat()
        digest.update(f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def make_dirs(path: str | Path) -> Path:
    """``mkdir -p path``; a failure is a ``CkganError`` that names the path."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CkganError(
            f"cannot create folder '{path}': a file of that name is in the way"
        ) from None
    except OSError as e:
        raise CkganError(f"cannot create folder '{path}' ({_reason(e)})") from None
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, *, exclusive: bool = False, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` if the block succeeds.

    On an exception (or a kill) the temporary file is removed (or left under a
    ``.NAME.*.tmp`` name that nothing trusts, and that ``clean_temp_files``
    removes) and ``path`` is untouched. With ``exclusive``, an existing
    ``path`` is never replaced, not even one that another process created
    while the block ran: the move is a hard link, which fails if the name exists.
    ``suffix`` ends the temporary name after its ``.tmp`` (for writers that
    insist on an extension, as Keras on ``.weights.h5``).
    """
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + suffix, dir=path.parent)
    except OSError as e:
        raise CkganError(f"cannot write '{path}' ({_reason(e)})") from None
    os.close(fd)
    tmp = Path(tmp)
    # mkstemp makes the file private (0600); give it the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        try:
            if exclusive:
                _link_exclusive(tmp, path)
            else:
                os.replace(tmp, path)
        except FileExistsError:
            raise CkganError(
                f"'{path}' appeared while it was being written (another process?): "
                "it was left as it is; write to another name"
            ) from None
        except OSError as e:
            raise CkganError(f"cannot write '{path}' ({_reason(e)})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _link_exclusive(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def clean_temp_files(folder: str | Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` left below ``folder`` when a process died.

    Only call it while holding ``run_lock`` on ``folder``: no live writer then
    owns them. Returns what was removed.
    """
    removed = []
    for tmp in sorted({*Path(folder).rglob(".*.tmp"), *Path(folder).rglob(".*.tmp.*")}):
        if tmp.is_file():
            tmp.unlink()
            removed.append(tmp)
    return removed


# -- run folders -------------------------------------------------------------------


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a ckgan run (a ``config.json`` that ckgan wrote)."""
    path = folder / RUN_CONFIG
    if not path.is_file():
        return False
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return True  # a corrupt run is still a run: never write over it
    return isinstance(config, dict) and "ckgan_version" in config


def enclosing_run(path: str | Path) -> Path | None:
    """The run folder that ``path`` lies in (itself included), or ``None``."""
    path = Path(os.path.abspath(path))
    for folder in (path, *path.parents):
        if folder.is_dir() and is_run_folder(folder):
            return folder
    return None


#: the run folder's subfolder of TensorBoard event files (``ckgan.events``)
EVENTS_DIR = "tensorboard"
#: what ``ckgan evaluate`` writes into a run folder (of the model as it was then):
#: the numbers, the HTML report and the rare-context grids
EVALUATION_FILE, REPORT_FILE, RARE_CONTEXT_DIR = "evaluation.json", "report.html", "rare_context"
EVALUATION_OUTPUTS = (EVALUATION_FILE, REPORT_FILE, RARE_CONTEXT_DIR)
#: the parts of a run folder that belong to the run, whether or not they exist yet
RUN_OWNED = (
    RUN_CONFIG, "graph.adjlist", "labels", "image", "metrics.json", "label_log.json",
    "label_tv.png", "image_log.json", "samples", "interventions", *EVALUATION_OUTPUTS,
    EVENTS_DIR, LOCK_FILE,
)  # fmt: skip


def check_output(
    path: str | Path,
    *,
    force: bool = False,
    suffixes: Iterable[str] | None = None,
    option: str = "--out",
) -> Path:
    """Check a file a command is asked to write; returns it as a ``Path``.

    Refused, each with a ``CkganError`` naming the fix: a suffix outside
    ``suffixes`` (the format follows the name), a folder, any path that is
    one of a run folder's own files (even with ``force``), and an existing
    file unless ``force``. Write it with ``atomic_path(path, exclusive=not force)``
    so that a file created meanwhile is not replaced either.
    """
    path = Path(path)
    if path.is_dir():
        raise CkganError(f"{option} {path} is a folder: name a file inside it")
    if suffixes is not None:
        suffixes = tuple(suffixes)
        if path.suffix.lower() not in suffixes:
            raise CkganError(
                f"{option} {path}: the file name must end in {' or '.join(suffixes)}, "
                "which says what is written"
            )
    run = enclosing_run(path.parent)
    if run is not None:
        inside = Path(os.path.abspath(path)).relative_to(run)
        if path.exists() or inside.parts[0] in RUN_OWNED:
            raise CkganError(
                f"{option} {path} is one of the files of the run in '{run}': "
                "write it somewhere else (the run's files are never replaced)"
            )
    if path.exists() and not force:
        raise CkganError(f"{option} {path} exists: choose another name, or --force to replace it")
    return path


def _lock_holder(fd: int, wait: float = 2.0) -> str:
    """The pid written in a lock file whose lock another process holds.

    The holder writes its pid just after taking the lock, so a reader that
    comes in between finds the file empty: it waits up to ``wait`` seconds.
    """
    import time

    deadline = time.monotonic() + wait
    while True:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if holder or time.monotonic() > deadline:
            return holder or "unknown"
        time.sleep(0.02)


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on the run folder ``folder`` (created if missing).

    A second process asking for it fails at once with a ``CkganError`` naming
    the holder's pid. The lock is the operating system's (``flock``), so a
    process killed in any way, ``kill -9`` included, leaves no stale lock.
    """
    folder = make_dirs(folder)
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise CkganError(f"cannot lock '{folder}' ({_reason(e)})") from None
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        fcntl = None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _lock_holder(fd)
                raise CkganError(
                    f"'{folder}' is in use by another ckgan process (pid {holder}): "
                    "wait for it to end, or choose another folder"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(fd)  # releases the lock
