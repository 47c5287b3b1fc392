"""Small file helpers: nothing the project writes is ever half-written; one JSON Lines reader for every caller."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def default_mode(path: Path, *, folder: bool = False) -> int:
    """The mode a new file (or folder) gets: the existing file's, else 0o666 (0o777) less the umask.

    ``mkstemp`` and ``mkdtemp`` create 0600 / 0700, which would make every atomically rewritten file private.
    """
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return (0o777 if folder else 0o666) & ~umask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename it over ``path`` (keeping its mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = default_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSON Lines file: its value, or why it could not be read."""

    number: int
    value: Any = None
    error: str | None = None


def read_json_lines(path: Path, *, start: int = 0, end: int | None = None, first_line: int = 1) -> Iterator[JsonLine]:
    """Every non-blank line of ``path`` decoded on its own, so one bad line never hides the rest.

    The callers decide what a bad line means: the corpus builder stops, the inbox reader skips and counts.
    ``start`` (a line start), ``end`` and ``first_line`` (the line number at ``start``) read only the lines
    that start in the bytes ``[start, end)``: one byte range of a file split among workers.
    """
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        for number, raw in enumerate(handle, start=first_line):
            if end is not None and offset >= end:
                return
            offset += len(raw)
            if not raw.strip():
                continue
            try:
                yield JsonLine(number, json.loads(raw.decode("utf-8")))
            except UnicodeDecodeError:
                yield JsonLine(number, error="bytes that are not valid UTF-8")
            except json.JSONDecodeError as error:
                yield JsonLine(number, error=f"not valid JSON ({error.msg} at column {error.colno})")
