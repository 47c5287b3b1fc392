"""Inbox readers: one per export format, each yielding ``Message``, ``BadRecord`` or ``SystemNotice`` records
as it streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from boundaryline.inbox.archive import read_zipped_slack, read_zipped_whatsapp, zip_format
from boundaryline.inbox.json_shape import json_format
from boundaryline.inbox.linkedin import is_linkedin_header, read_linkedin_messages
from boundaryline.inbox.mail import (
    TNEF_SIGNATURE,
    is_mbox_folder,
    looks_like_mail,
    message_files,
    read_eml,
    read_maildir,
    read_mbox,
    read_mbox_folder,
    read_tnef,
)
from boundaryline.inbox.messenger import read_messenger
from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.slack import is_slack_export, read_slack, slack_root
from boundaryline.inbox.spreadsheet import read_xlsx
from boundaryline.inbox.tabular import detect_encoding, read_csv, read_json_array, read_jsonl
from boundaryline.inbox.telegram import read_telegram
from boundaryline.inbox.whatsapp import is_whatsapp_line, read_whatsapp

FORMATS = (
    "csv", "tsv", "xlsx", "jsonl", "json", "mbox", "thunderbird", "maildir", "eml", "emlx", "tnef",
    "linkedin", "slack", "whatsapp", "telegram", "messenger",
)  # fmt: skip

__all__ = ["FORMATS", "BadRecord", "Message", "SystemNotice", "detect_format", "finish_records", "read_inbox"]

Record = Message | BadRecord | SystemNotice


def _detect_folder(path: Path) -> str:
    if (path / "cur").is_dir() or (path / "new").is_dir():
        return "maildir"
    if (path / "messages.csv").is_file():
        return "linkedin"
    if is_slack_export(path):
        return "slack"
    if is_mbox_folder(path):
        return "thunderbird"
    if next(path.rglob("*.emlx"), None) is not None:
        return "emlx"
    if next(path.rglob("*.eml"), None) is not None or message_files(path, "eml"):
        return "eml"  # .eml files, or message files without an extension (an MH folder, saved messages)
    raise ValueError(
        f"{path}: a folder with no Maildir (cur/, new/), no mbox files (Thunderbird, .mbox), no .eml or .emlx"
        " files, no files of RFC 822 mail, no LinkedIn messages.csv and no Slack export (users.json, channels.json)"
    )


# Outlook's own files: binary formats read by other tools, whose output (mbox, .eml) is scored here.
UNSUPPORTED = {
    ".msg": "an Outlook .msg file is not supported: convert it to .eml with msgconvert (Debian/Ubuntu package"
    " libemail-outlook-message-perl), or save it from Outlook as .eml, and score that",
    ".pst": "an Outlook .pst data file is not supported: convert it to mbox with readpst (Debian/Ubuntu package"
    " pst-utils: `readpst -o OUT_FOLDER FILE.pst`) and score the mbox files",
    ".ost": "an Outlook .ost offline file is not supported: export the mailbox from Outlook as .pst, convert that"
    " to mbox with readpst (pst-utils) and score the mbox files",
}


def detect_format(path: Path) -> str:
    """The export format of ``path``, from its layout, its extension and a look at its first bytes."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        return _detect_folder(path)
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(TNEF_SIGNATURE):
        return "tnef"
    if suffix in (".mbox", ".mbx") or head.startswith(b"From "):
        return "mbox"
    if suffix in (".eml", ".emlx"):
        return suffix[1:]
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".zip":
        return zip_format(path, is_whatsapp_line)
    if suffix in UNSUPPORTED:
        raise ValueError(f"{path}: {UNSUPPORTED[suffix]}")
    if suffix == ".xls":
        raise ValueError(f"{path}: an old-style Excel .xls workbook; save it as .xlsx or CSV and score that")
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        root = slack_root(path)
        if root is not None and path.parent != root:
            return "slack"  # one conversation's day file inside a Slack export
        return json_format(path, head)
    if suffix == ".tsv":
        return "tsv"
    if suffix in (".csv", ".txt"):
        text = head.decode(detect_encoding(path), errors="replace").lstrip("\ufeff")
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        if is_whatsapp_line(first_line):
            return "whatsapp"
        return "linkedin" if is_linkedin_header(first_line) else "csv"
    if not suffix and looks_like_mail(head):
        return "eml"  # one message saved without its extension
    raise ValueError(f"{path}: cannot tell the format; pass one of {', '.join(FORMATS)} with --format")


# The channel an export's messages came through, unless a record says otherwise (a CSV "channel" column).
CHANNEL_OF_FORMAT = {
    "mbox": "email", "thunderbird": "email", "maildir": "email", "eml": "email", "emlx": "email", "tnef": "email",
    "linkedin": "linkedin_dm", "slack": "chat", "whatsapp": "text_message", "telegram": "text_message",
    "messenger": "text_message",
}  # fmt: skip


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
    zipped = path.suffix.lower() == ".zip" and path.is_file()  # delivered as a zip: read as it comes
    readers = {
        "csv": lambda: read_csv(path, text_column=text_column, delimiter=delimiter),
        "tsv": lambda: read_csv(path, text_column=text_column, delimiter=delimiter or "\t"),
        "xlsx": lambda: read_xlsx(path, sheet=sheet, text_column=text_column),
        "jsonl": lambda: read_jsonl(path, text_column=text_column),
        "json": lambda: read_json_array(path, text_column=text_column),
        "mbox": lambda: read_mbox(path),
        "thunderbird": lambda: read_mbox_folder(path) if path.is_dir() else read_mbox(path),
        "maildir": lambda: read_maildir(path),
        "eml": lambda: read_eml(path),
        "emlx": lambda: read_eml(path),
        "tnef": lambda: read_tnef(path),
        "linkedin": lambda: read_linkedin_messages(path),
        "slack": lambda: read_zipped_slack(path, read_slack, slack_root) if zipped else read_slack(path),
        "whatsapp": lambda: (
            read_zipped_whatsapp(path, read_whatsapp, is_whatsapp_line) if zipped else read_whatsapp(path)
        ),
        "telegram": lambda: read_telegram(path),
        "messenger": lambda: read_messenger(path),
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return finish_records(readers[fmt](), max_chars, CHANNEL_OF_FORMAT.get(fmt), path)
