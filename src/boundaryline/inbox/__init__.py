"""Inbox readers: one per export format, each yielding ``Message``, ``BadRecord`` or ``SystemNotice`` records
as it streams. Which formats there are, how each is recognised and read: ``formats.py`` (the registry)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from boundaryline.inbox.formats import CHANNEL_OF_FORMAT, FORMAT, FORMATS, ReadArgs, detect_format
from boundaryline.inbox.records import BadRecord, Message, SystemNotice

__all__ = [
    "CHANNEL_OF_FORMAT", "FORMATS", "BadRecord", "Message", "SystemNotice", "detect_format", "finish_records",
    "read_inbox",
]  # fmt: skip

Record = Message | BadRecord | SystemNotice


def finish_records(
    records: Iterator[Record], max_chars: int, channel: str | None, source: Path | str = ""
) -> Iterator[Record]:
    """A text over the limit is cut to it and marked ``truncated`` (scored on its start, never skipped); a
    message with no channel gets its export's. A reader that fails part-way never loses the run: what it read
    is kept and the failure is one bad record (the error's type, never its message, which may quote a text). A
    file refused whole before its first record (``ValueError``, ``OSError``) still stops with its own error."""
    read = 0
    try:
        for record in records:
            if isinstance(record, Message):
                if len(record.text) > max_chars:
                    record = replace(record, text=record.text[:max_chars], truncated=True)
                if record.channel is None and channel is not None:
                    record = replace(record, channel=channel)
            read += 1
            yield record
    except Exception as error:  # any reader, any failure: the run goes on, and the failure is said
        if isinstance(error, MemoryError) or (not read and isinstance(error, (ValueError, OSError))):
            raise  # out of memory; or a file its reader refuses whole (no text column…): its own clear error
        where = f"after record {read}" if read else "at its start"
        yield BadRecord(str(source), where, f"the reader stopped ({type(error).__name__}); the rest was not read")


def read_inbox(
    path: Path,
    *,
    fmt: str | None = None,
    text_column: str | None = None,
    max_chars: int = 20_000,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Iterator[Record]:
    """Every message of an export, in file order; unreadable ones come as ``BadRecord``, entries that are no
    person's message (Slack joins, WhatsApp system lines) as ``SystemNotice``, and the stream goes on.

    ``delimiter`` forces the CSV separator (sniffed otherwise); ``sheet`` names the .xlsx sheet (the first
    otherwise)."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMAT:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    records = FORMAT[fmt].read(path, ReadArgs(text_column=text_column, delimiter=delimiter, sheet=sheet))
    return finish_records(records, max_chars, CHANNEL_OF_FORMAT.get(fmt), path)
