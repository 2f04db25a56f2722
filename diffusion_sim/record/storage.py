"""Where results go on disk: folders that never collide, never half-look finished, never escape.

The contract every writer here keeps:

- **A manifest means complete.** ``manifest.json`` is written last, atomically;
  a folder without one is unfinished, whatever else it holds.
- **Nothing is overwritten or deleted.** A results folder is reserved with one
  atomic ``mkdir`` (a suffix ``-2``, ``-3`` … when the name is taken), so two
  runs started in the same second both survive.
- **No debris.** Files are staged in a hidden ``.<name>.*.partial`` folder that
  holds an ``flock`` while it is written; a process killed mid-write leaves it
  unlocked, and the next writer in the same parent removes it.
- **Nowhere odd.** An output folder is checked before any work starts: not a
  file, not the filesystem root or a pseudo-filesystem, and writable.
- **No links followed.** Nothing inside a results folder is read, written or
  deleted through a symbolic link (``O_NOFOLLOW``); a lock is created exclusively.
- **A full disk is one message.** ENOSPC or EDQUOT while writing becomes an
  :class:`InputError` (exit 2) once the partial file is removed; what was finished stays.
- **The user's permissions.** Folders and files are made with mode 0o777 / 0o666
  less the umask, like any other program's (never owner-only temporary modes).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import platform
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from diffusion_sim.errors import InputError

MANIFEST = "manifest.json"
LOCK = ".lock"
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))
STALE_AFTER_S = 60.0
"""A ``.starting`` folder is left alone this long: its writer may be taking its lock."""


def timestamp() -> str:
    """Local time to the second, for folder names (``20261201-213015``)."""
    return time.strftime("%Y%m%d-%H%M%S")


def check_output_folder(path: str | Path, flag: str = "--out") -> Path:
    """The folder results will go into, proven writable before any work, and not created yet.

    Nothing is left behind by the check: a probe file is made and removed in
    the folder, or in its nearest existing ancestor when it does not exist yet.

    Raises
    ------
    InputError
        Naming ``flag`` when the path is a file, the filesystem root, under
        ``/proc``, ``/sys`` or ``/dev``, or cannot be written.
    """
    folder = Path(path)
    flag = f"{flag} " if flag else ""
    if "\x00" in str(path):
        raise InputError(f"{flag}{path!r}: a folder name cannot hold a NUL byte")
    resolved = folder.resolve()
    if resolved == Path(resolved.anchor):
        raise InputError(f"{flag}{path}: the filesystem root is not a results folder")
    if any(resolved == s or s in resolved.parents for s in SYSTEM_FOLDERS):
        raise InputError(f"{flag}{path}: a system folder is not a results folder")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == resolved else f"is under a file ({existing})"
        raise InputError(f"{flag}{path}: {what}, not a folder; give a folder for results")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(
            f"{flag}{path}: cannot write results there ({exc.strerror or exc})"
        ) from None
    return folder


def check_output_file(path: str | Path, flag: str = "--out", *, force: bool = False) -> Path:
    """A file results go to: its folder writable, never an existing file unless forced."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{flag} {path}: is a folder; give a file name")
    if target.exists() and not force:
        raise InputError(f"{flag} {path}: exists; pass --force to replace it")
    if target.exists() and not target.is_file():
        raise InputError(f"{flag} {path}: is not a regular file")
    check_output_folder(target.parent, flag)
    return target


def reserve_folder(root: Path, stem: str) -> Path:
    """A new, empty folder ``root/stem`` (or ``stem-2``, ``stem-3`` …), claimed atomically."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        folder = root / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise InputError(f"{root}: 10,000 folders named {stem!r} already; clean up the results")


def give_back(folder: Path) -> None:
    """Remove a reserved results folder that is still empty (work interrupted before its
    save); a folder holding anything, or gone already, is left as it is."""
    with contextlib.suppress(OSError):
        folder.rmdir()


def try_lock(path: Path) -> Any | None:
    """An open file holding an exclusive ``flock`` on ``path``, or None if a live process has it.

    The file is created exclusively and never through a link (``O_NOFOLLOW``): a
    planted ``.lock`` link makes nothing outside the folder. After the lock is taken
    the path must still name the locked file (its holder may have removed it).
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        try:
            with disk_full_is_input_error(path):
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            try:
                fd = os.open(path, flags)
            except FileNotFoundError:
                continue  # removed meanwhile: create it
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise refuse_link(path) from None
                if exc.errno == errno.EISDIR:
                    what = f"{path}: is a folder, not a lock; remove it and run again"
                    raise InputError(what) from None
                raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"{path}: is not a regular file; remove it and run again")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return os.fdopen(fd, "rb+", buffering=0)  # kept open: the lock lives as long as it
        os.close(fd)  # its holder removed it as we locked it: lock the file there now


@contextmanager
def held_lock(folder: Path) -> Iterator[bool]:
    """Hold ``folder/.lock`` while the block runs; yields False if another process holds it."""
    handle = try_lock(folder / LOCK)
    try:
        yield handle is not None
    finally:
        if handle is not None:
            handle.close()


def is_locked(folder: Path) -> bool:
    """Whether a live process holds ``folder/.lock`` (a lock dies with its process)."""
    lock = folder / LOCK
    if lock.is_symlink():
        raise refuse_link(lock)
    if not lock.is_file():
        return False
    handle = try_lock(folder / LOCK)
    if handle is None:
        return True
    handle.close()
    return False


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` whose writer died (their lock is free).

    A ``.partial`` folder is locked from birth (see :func:`staged`), so a free
    lock means a dead writer. A ``.starting`` folder (a writer killed in the
    microseconds before it took its lock) goes once it is a minute old.
    """
    removed = []
    if not parent.is_dir():
        return removed
    for staging in [*parent.glob(".*.partial"), *parent.glob(".*.starting")]:
        try:
            age = time.time() - staging.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        if staging.is_symlink() or not staging.is_dir():
            continue  # not a staging folder this program made: left alone
        if staging.suffix == ".starting" and age < STALE_AFTER_S:
            continue
        try:
            if staging.suffix == ".partial" and is_locked(staging):
                continue
        except InputError:  # a planted link for a lock: not ours, left alone
            continue
        except FileNotFoundError:  # another process cleaned it between our looks
            continue
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    return removed


@contextmanager
def staged(folder: str | Path) -> Iterator[Path]:
    """A hidden, locked folder to write into, renamed to ``folder`` only once complete.

    ``folder`` must not exist or be empty (e.g. just reserved with
    :func:`reserve_folder`): results are never overwritten. An interrupted
    write removes its staging and the empty reserved folder; a killed one leaves
    its staging unlocked for the next writer to remove.
    """
    folder = Path(folder)
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(parent)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            f"{folder}: exists and is not empty; results are never overwritten, "
            "choose another folder"
        )
    # Locked before it gets the name cleaners look for: a .partial is never unlocked alive.
    with disk_full_is_input_error(folder):
        starting = hidden_folder(parent, f".{folder.name}.", ".starting")
    lock = try_lock(starting / LOCK)
    staging = starting.with_suffix(".partial")
    os.rename(starting, staging)
    try:
        with disk_full_is_input_error(folder):
            yield staging
        try:
            os.rename(staging, folder)  # onto a missing or empty folder: atomic
        except OSError as exc:
            raise InputError(
                f"{folder}: appeared while results were written; they stay in {staging.name}"
            ) from exc
        (folder / LOCK).unlink(missing_ok=True)
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        give_back(folder)  # an interrupted save leaves no empty folder behind
        raise
    finally:
        if lock is not None:
            lock.close()


def hidden_folder(parent: Path, prefix: str, suffix: str) -> Path:
    """A new folder of a random name in ``parent``, with the user's usual mode (not 0o700)."""
    while True:
        folder = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.mkdir(folder, 0o777)  # less the umask, as mkdir(1) makes it
        except FileExistsError:
            continue
        return folder


def write_atomic(path: Path, write: Any) -> None:
    """Write a file through ``write(tmp_path)`` then rename: a reader never sees half of it.

    The temporary file is created afresh (``O_EXCL``, never through a link) before
    ``write`` opens it by name; a full disk removes it and raises :class:`InputError`.
    """
    if path.is_symlink():
        raise refuse_link(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the suffix tells writers the format
    try:
        with disk_full_is_input_error(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # a killed writer's leftover (or a planted link): never followed
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))
            write(tmp)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error is a full disk or an exceeded quota (pyarrow names it only in words)."""
    if not isinstance(exc, OSError):
        return False
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


@contextmanager
def disk_full_is_input_error(path: Path) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT while writing ``path`` into one clear message (exit 2)."""
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise InputError(
            f"{path}: the disk is full or over quota ({exc.strerror or 'no space left'}); "
            "what was unfinished was removed and what was finished is kept: free some space "
            "and run the same command again to go on"
        ) from None


def refuse_link(path: Path) -> InputError:
    """The error for a symbolic link found inside a results folder (never followed)."""
    return InputError(
        f"{path}: is a symbolic link; nothing in a results folder is read, written or "
        "deleted through a link: replace it by the real file or folder (or remove it) "
        "and run the same command again"
    )


def read_bytes(path: Path) -> bytes:
    """A file's bytes read without following a link (``O_NOFOLLOW``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse_link(path) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(f"{path}: is not a regular file")
        return handle.read()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """A JSON file, written atomically (numpy scalars and arrays as plain numbers)."""
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=_plain)))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The manifest, last and atomically: its presence means the folder is complete."""
    write_json(Path(folder) / MANIFEST, manifest)


def _plain(value: Any) -> Any:
    import numpy as np  # here: the CLI imports this module before numpy is needed

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on (read once per process)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("diffusion_sim", "numpy", "scipy", "pandas", "mesa", "pydantic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
