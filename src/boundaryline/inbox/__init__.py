"""Inbox readers: one per export format, each yielding ``Message`` or ``BadRecord`` records as it streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from boundaryline.inbox.linkedin import is_linkedin_header, read_linkedin_messages
from boundaryline.inbox.mail import read_eml, read_maildir, read_mbox
from boundaryline.inbox.records import BadRecord, Message
from boundaryline.inbox.tabular import read_csv, read_json_array, read_jsonl

FORMATS = ("csv", "tsv", "jsonl", "json", "mbox", "maildir", "eml", "linkedin")

__all__ = ["FORMATS", "BadRecord", "Message", "detect_format", "read_inbox"]


def detect_format(path: Path) -> str:
    """The export format of ``path``, from its layout, its extension and a look at its first bytes."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return "maildir"
        if (path / "messages.csv").is_file():
            return "linkedin"
        if next(path.rglob("*.eml"), None) is not None:
            return "eml"
        raise ValueError(f"{path}: a folder with no Maildir (cur/, new/), no .eml files and no LinkedIn messages.csv")
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(4096)
    first_line = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    if suffix in (".mbox", ".mbx") or head.startswith(b"From "):
        return "mbox"
    if suffix == ".eml":
        return "eml"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json" if head.lstrip().startswith(b"[") else "jsonl"
    if suffix == ".tsv":
        return "tsv"
    if suffix in (".csv", ".txt"):
        return "linkedin" if is_linkedin_header(first_line) else "csv"
    raise ValueError(f"{path}: cannot tell the format; pass one of {', '.join(FORMATS)} with --format")


def _with_limit(records: Iterator[Message | BadRecord], max_chars: int) -> Iterator[Message | BadRecord]:
    """A text over the limit is cut to it and marked ``truncated``: scored on its start, never skipped."""
    for record in records:
        if isinstance(record, Message) and len(record.text) > max_chars:
            yield replace(record, text=record.text[:max_chars], truncated=True)
        else:
            yield record


def read_inbox(
    path: Path, *, fmt: str | None = None, text_column: str | None = None, max_chars: int = 20_000
) -> Iterator[Message | BadRecord]:
    """Every message of an export, in file order; unreadable ones come as ``BadRecord`` and the stream goes on."""
    fmt = fmt or detect_format(path)
    readers = {
        "csv": lambda: read_csv(path, text_column=text_column),
        "tsv": lambda: read_csv(path, text_column=text_column, delimiter="\t"),
        "jsonl": lambda: read_jsonl(path, text_column=text_column),
        "json": lambda: read_json_array(path, text_column=text_column),
        "mbox": lambda: read_mbox(path),
        "maildir": lambda: read_maildir(path),
        "eml": lambda: read_eml(path),
        "linkedin": lambda: read_linkedin_messages(path),
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return _with_limit(readers[fmt](), max_chars)
