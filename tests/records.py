"""Helpers the reader tests share: sorting what a reader yields, and writing an mbox."""

from __future__ import annotations

from pathlib import Path

from boundaryline.inbox import BadRecord, Message, SystemNotice

Record = Message | BadRecord | SystemNotice


def split(records: list[Record]) -> tuple[list[Message], list[BadRecord], list[SystemNotice]]:
    """A reader's records sorted into messages, bad records and system notices (each in reading order)."""
    return (
        [r for r in records if isinstance(r, Message)],
        [r for r in records if isinstance(r, BadRecord)],
        [r for r in records if isinstance(r, SystemNotice)],
    )


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    """``mails`` as an mbox file (mboxrd: a body line starting "From " is escaped), its folder made if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for raw in mails:
            handle.write(
                b"From MAILER-DAEMON Thu Oct  1 09:30:00 2026\n" + raw.replace(b"\nFrom ", b"\n>From ") + b"\n"
            )
    return path
