"""Files and folders a command is asked to write: checked before any work, written whole.

Rule: a command checks its output paths before it touches the store or plans anything, so a
path that cannot be written costs nothing; files are written under a temporary name beside
their target and renamed into place only when every one is written, so a failure leaves
nothing half-written. Errors name the path and what is wrong, never a file's content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from scheduler.errors import OutputPathError


def check_output_file(path: Path) -> None:
    """Refuse a file path that cannot be written: a folder, or a folder that is missing,
    not a folder, or not writable.

    Raises:
        OutputPathError: what is wrong with the path, in words.
    """
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder, not a file")
    _check_folder_exists(path.parent, path)


def check_output_folder(
    folder: Path, files: Iterable[str] = (), folders: Iterable[str] = ()
) -> None:
    """Refuse a folder that cannot hold `files` and `folders`: a file in the folder's place
    or in the way of one it would make, a folder where a file is to go, or no permission.

    The folder itself may be missing (it is made) if its nearest existing parent is a
    writable folder.

    Raises:
        OutputPathError: what is wrong with the path, in words.
    """
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{folder} is a file, not a folder")
    if not folder.exists():
        parent = _nearest_existing(folder)
        if not parent.is_dir():
            raise OutputPathError(f"cannot make the folder {folder}: {parent} is a file")
        _check_writable(parent, folder)
        return
    _check_writable(folder, folder)
    for name in files:
        if (folder / name).is_dir():
            raise OutputPathError(f"cannot write {folder / name}: it is a folder, not a file")
    for name in folders:
        if (folder / name).exists() and not (folder / name).is_dir():
            raise OutputPathError(f"{folder / name} is a file, not a folder")


def make_output_folder(folder: Path) -> None:
    """Make `folder` and any missing parents (nothing when it exists).

    Raises:
        OutputPathError: it cannot be made.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot make the folder {folder} ({_why(exc)})") from None


def write_output_file(path: Path, data: str | bytes) -> None:
    """Write one file whole (a temporary file renamed into place).

    Raises:
        OutputPathError: it cannot be written; nothing is left behind.
    """
    write_output_files(path.parent, {path.name: data})


def write_output_files(folder: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write every file into `folder`, all or nothing: each goes to a temporary name first and
    all are renamed into place once every one is written. Text is written as UTF-8.

    Returns:
        The files written, in the order given.

    Raises:
        OutputPathError: one cannot be written; none of them is (temporary files removed).
    """
    staged: list[tuple[Path, Path]] = []
    target = folder
    try:
        for name, data in files.items():
            target = folder / name
            temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
            staged.append((temporary, target))
            _write_new(temporary, data.encode("utf-8") if isinstance(data, str) else data)
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as exc:
        for temporary, _target in staged:
            temporary.unlink(missing_ok=True)
        raise OutputPathError(f"cannot write {target} ({_why(exc)})") from None
    return [t for _temporary, t in staged]


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) with the usual permissions and write `data`."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)


def _check_folder_exists(folder: Path, path: Path) -> None:
    """The folder a file goes into exists, is a folder and may be written to."""
    if not folder.exists():
        raise OutputPathError(f"cannot write {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {path}: {folder} is a file, not a folder")
    _check_writable(folder, path)


def _check_writable(folder: Path, path: Path) -> None:
    """The folder lets this user make files in it."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write {path}: the folder {folder} is not writable")


def _nearest_existing(path: Path) -> Path:
    """The closest of `path`'s parents that exists (the current folder at the latest)."""
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path.cwd()


def _why(exc: OSError) -> str:
    """An operating-system error in words ('Permission denied'), without the path again."""
    return exc.strerror or type(exc).__name__
