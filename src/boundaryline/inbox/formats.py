"""The format registry: every export format in one place, the way the standard library's ``mailbox`` gives
each format a class. A ``Format`` says how the format is recognised (by a folder's layout or a file's first
bytes and extension), how it is read, which channel its messages came through, and how a big export of it is
partitioned. Adding a format is one reader module and one entry in ``REGISTRY``.

Detection asks the formats in ``REGISTRY`` order; the first that recognises the path wins (more specific
formats first: a WhatsApp chat is a ``.txt`` a CSV reader would also take).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

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
from boundaryline.inbox.outlook import read_msg
from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.slack import is_slack_export, read_slack, slack_root
from boundaryline.inbox.spreadsheet import read_xlsx
from boundaryline.inbox.tabular import detect_encoding, read_csv, read_json_array, read_jsonl
from boundaryline.inbox.telegram import read_telegram
from boundaryline.inbox.whatsapp import is_whatsapp_line, read_whatsapp

Record = Message | BadRecord | SystemNotice


@dataclass(frozen=True)
class ReadArgs:
    """What a reader may be told besides the path (from the command line)."""

    text_column: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class Head:
    """A file as detection sees it: its path, lower-cased extension and first 4 KiB."""

    path: Path
    suffix: str
    bytes: bytes

    @property
    def first_line(self) -> str:
        text = self.bytes.decode(detect_encoding(self.path), errors="replace").lstrip("\ufeff")
        return next((line for line in text.splitlines() if line.strip()), "")


@dataclass(frozen=True)
class Format:
    name: str
    read: Callable[[Path, ReadArgs], Iterator[Record]]
    channel: str | None = None  # the channel of its messages, unless a record says otherwise
    file: Callable[[Head], bool] | None = None  # recognises a file of this format
    folder: Callable[[Path], bool] | None = None  # recognises a folder of this format
    split: Literal["files", "mbox", "lines", "csv"] | None = None  # how a big export is partitioned (None: whole)


@lru_cache(maxsize=256)
def _json_kind(path: Path, head: bytes) -> str:
    """What a .json file is (read once per file however many formats ask)."""
    root = slack_root(path)
    if root is not None and path.parent != root:
        return "slack"  # one conversation's day file inside a Slack export
    return json_format(path, head)


def _zipped(head: Head, kind: str) -> bool:
    return head.suffix == ".zip" and zip_format(head.path, is_whatsapp_line) == kind


def _json(kind: str) -> Callable[[Head], bool]:
    return lambda head: head.suffix == ".json" and _json_kind(head.path, head.bytes) == kind


def _as_delivered(
    path: Path, plain: Callable[[], Iterator[Record]], zipped: Callable[[], Iterator[Record]]
) -> Iterator[Record]:
    """An export delivered as a .zip is read as it comes (``zipped``); the export itself otherwise."""
    return zipped() if path.suffix.lower() == ".zip" and path.is_file() else plain()


def _text_table(head: Head) -> bool:
    return head.suffix in (".csv", ".txt")


REGISTRY: tuple[Format, ...] = (
    Format("tnef", lambda p, a: read_tnef(p), "email", file=lambda h: h.bytes.startswith(TNEF_SIGNATURE)),
    Format(
        "maildir",
        lambda p, a: read_maildir(p),
        "email",
        folder=lambda p: (p / "cur").is_dir() or (p / "new").is_dir(),
        split="files",
    ),
    Format(
        "linkedin",
        lambda p, a: read_linkedin_messages(p),
        "linkedin_dm",
        folder=lambda p: (p / "messages.csv").is_file(),
        file=lambda h: _text_table(h) and is_linkedin_header(h.first_line),
    ),
    Format(
        "slack",
        lambda p, a: _as_delivered(p, lambda: read_slack(p), lambda: read_zipped_slack(p, read_slack, slack_root)),
        "chat",
        folder=is_slack_export,
        file=lambda h: _zipped(h, "slack") or _json("slack")(h),
    ),
    Format(
        "thunderbird",
        lambda p, a: read_mbox_folder(p) if p.is_dir() else read_mbox(p),
        "email",
        folder=is_mbox_folder,
        split="files",
    ),
    Format(
        "mbox",
        lambda p, a: read_mbox(p),
        "email",
        file=lambda h: h.suffix in (".mbox", ".mbx") or h.bytes.startswith(b"From "),
        split="mbox",
    ),
    Format(
        "emlx",
        lambda p, a: read_eml(p),
        "email",
        folder=lambda p: next(p.rglob("*.emlx"), None) is not None,
        file=lambda h: h.suffix == ".emlx",
        split="files",
    ),
    Format(
        "eml",
        lambda p, a: read_eml(p),
        "email",
        folder=lambda p: bool(message_files(p, "eml")),
        file=lambda h: h.suffix == ".eml" or (h.suffix in ("", ".txt") and looks_like_mail(h.bytes)),
        split="files",
    ),
    Format(
        "msg",
        lambda p, a: read_msg(p),
        "email",
        folder=lambda p: next(p.rglob("*.msg"), None) is not None,
        file=lambda h: h.suffix == ".msg",
    ),
    Format(
        "xlsx",
        lambda p, a: read_xlsx(p, sheet=a.sheet, text_column=a.text_column),
        file=lambda h: h.suffix in (".xlsx", ".xlsm"),
    ),
    Format(
        "whatsapp",
        lambda p, a: _as_delivered(
            p, lambda: read_whatsapp(p), lambda: read_zipped_whatsapp(p, read_whatsapp, is_whatsapp_line)
        ),
        "text_message",
        file=lambda h: _zipped(h, "whatsapp") or (_text_table(h) and is_whatsapp_line(h.first_line)),
    ),
    Format("telegram", lambda p, a: read_telegram(p), "text_message", file=_json("telegram")),
    Format("messenger", lambda p, a: read_messenger(p), "text_message", file=_json("messenger")),
    Format(
        "jsonl",
        lambda p, a: read_jsonl(p, text_column=a.text_column),
        file=lambda h: h.suffix in (".jsonl", ".ndjson") or _json("jsonl")(h),
        split="lines",
    ),
    Format("json", lambda p, a: read_json_array(p, text_column=a.text_column), file=_json("json")),
    Format(
        "tsv",
        lambda p, a: read_csv(p, text_column=a.text_column, delimiter=a.delimiter or "\t"),
        file=lambda h: h.suffix == ".tsv",
        split="csv",
    ),
    Format(
        "csv", lambda p, a: read_csv(p, text_column=a.text_column, delimiter=a.delimiter), file=_text_table, split="csv"
    ),
)
FORMAT = {f.name: f for f in REGISTRY}
FORMATS = tuple(sorted(FORMAT, key=[
    "csv", "tsv", "xlsx", "jsonl", "json", "mbox", "thunderbird", "maildir", "eml", "emlx", "msg", "tnef",
    "linkedin", "slack", "whatsapp", "telegram", "messenger",
].index))  # fmt: skip
CHANNEL_OF_FORMAT = {f.name: f.channel for f in REGISTRY if f.channel}
FOLDER_FORMATS = tuple(f.name for f in REGISTRY if f.split == "files")

# Files no format reads, each with what to do instead.
REFUSED = {
    ".pst": "an Outlook .pst data file is not supported: convert it to mbox with readpst (Debian/Ubuntu package"
    " pst-utils: `readpst -o OUT_FOLDER FILE.pst`) and score the mbox files",
    ".ost": "an Outlook .ost offline file is not supported: export the mailbox from Outlook as .pst, convert that"
    " to mbox with readpst (pst-utils) and score the mbox files",
    ".xls": "an old-style Excel .xls workbook; save it as .xlsx or CSV and score that",
}


def detect_format(path: Path) -> str:
    """The export format of ``path``: the first format of ``REGISTRY`` that recognises it."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        for entry in REGISTRY:
            if entry.folder is not None and entry.folder(path):
                return entry.name
        raise ValueError(
            f"{path}: a folder with no Maildir (cur/, new/), no mbox files (Thunderbird, .mbox), no .eml or .emlx"
            " files, no files of RFC 822 mail, no LinkedIn messages.csv and no Slack export (users.json,"
            " channels.json)"
        )
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise ValueError(f"{path}: {REFUSED[suffix]}")
    with path.open("rb") as handle:
        head = Head(path, suffix, handle.read(4096))
    for entry in REGISTRY:
        if entry.file is not None and entry.file(head):
            return entry.name
    raise ValueError(f"{path}: cannot tell the format; pass one of {', '.join(FORMATS)} with --format")
