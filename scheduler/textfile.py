"""Reading a user's text file (CSV, JSON): UTF-8 or one clear problem naming the file.

Rule: the problem never quotes the file's content, only where the bad byte is.
"""

from __future__ import annotations

from pathlib import Path

from scheduler.errors import InputError, InputProblem

MAX_BYTES = 200_000_000
"""A file larger than this is refused before it is read (an L authority's scenario is 15 MB)."""


def read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark from Excel is fine).

    Raises:
        InputError: the file is missing or unreadable, too large, not UTF-8, or holds NUL
            bytes (a binary or UTF-16 file).
    """
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                [
                    InputProblem(
                        name,
                        None,
                        "(file)",
                        f"a file of at most {MAX_BYTES // 1_000_000} MB",
                        f"{size // 1_000_000} MB",
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            [InputProblem(name, None, "(file)", "a readable file", exc.strerror or "unreadable")]
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            [
                InputProblem(
                    name,
                    None,
                    "(file)",
                    "UTF-8 text",
                    f"NUL bytes from offset {nul} (a binary or UTF-16 file?)",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [
                InputProblem(
                    name,
                    None,
                    "(file)",
                    "UTF-8 text (save it as CSV UTF-8 or UTF-8 JSON)",
                    f"a byte that is not UTF-8 at offset {exc.start}",
                )
            ]
        ) from None
