"""Small file helpers: nothing the project writes is ever half-written; one JSON Lines reader for every caller."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


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


class AtomicFile:
    """A file written whole or not at all: a temp file beside ``path`` (with the mode ``path`` has or would get;
    0600 when ``private``: it holds message text), renamed over it by ``commit`` (after an fsync unless
    ``durable`` is false); ``abort`` removes it, even when closing fails (a full disk). Every file the project
    writes goes through here."""

    def __init__(
        self, path: Path, *, text: bool = False, encoding: str = "utf-8", durable: bool = True, private: bool = False
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.durable = path, durable
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.tmp = Path(name)
        try:
            os.fchmod(fd, 0o600 if private else default_mode(path))
            self.handle: IO[Any] = os.fdopen(fd, "w", encoding=encoding, newline="") if text else os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        try:
            self.handle.flush()
            if self.durable:
                os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass  # the write that failed may fail again on close; the temp file goes all the same
        finally:
            self.tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes, *, private: bool = False) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename it over ``path`` (keeping its mode;
    0600 when ``private``)."""
    out = AtomicFile(path, private=private)
    try:
        out.handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        out.abort()
        raise
    out.commit()


def fresh_folder(path: Path) -> Path:
    """``path`` as an empty folder (what an earlier run left there removed), returned."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# How many arrays and objects may be open at once, counted from the file's (or the JSON line's) top. Real
# exports nest about ten deep (a Telegram message's text parts sit at 8, a Slack message's rich-text blocks
# at 7-8); 64 leaves them room, while whatever is built stays far below Python's recursion limit (1,000) for
# anything that walks it (``str``, ``json.dumps``) and small to build.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels; not read"

# A JSON string, escapes included; one never closed runs to the end. Every match that starts succeeds, so the
# scan is linear even on a line of stray quotes (a pattern that could fail would retry at each of them).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nested_deeper(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` opens more than ``limit`` arrays and objects at once: one linear scan of
    its brackets outside strings (none at all when it holds too few brackets to be that deep)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if bracket[0] in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSON Lines file: its value, or why it could not be read."""

    number: int
    value: Any = None
    error: str | None = None


def read_json_lines(path: Path, *, start: int = 0, end: int | None = None, first_line: int = 1) -> Iterator[JsonLine]:
    """Every non-blank line of ``path`` decoded on its own, so one bad line never hides the rest.

    The callers decide what a bad line means: the corpus builder stops, the inbox reader skips and counts.
    A line nested deeper than ``MAX_JSON_DEPTH`` is that line's error (``TOO_DEEP``), never handed to
    ``json.loads`` (which would take gigabytes, or give up with a ``RecursionError``).
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
            if nested_deeper(raw):
                yield JsonLine(number, error=TOO_DEEP)
                continue
            try:
                yield JsonLine(number, json.loads(raw.decode("utf-8")))
            except UnicodeDecodeError:
                yield JsonLine(number, error="bytes that are not valid UTF-8")
            except json.JSONDecodeError as error:
                yield JsonLine(number, error=f"not valid JSON ({error.msg} at column {error.colno})")
            except RecursionError:  # the scan miscounted a broken line: it is still that line's error
                yield JsonLine(number, error=TOO_DEEP)
