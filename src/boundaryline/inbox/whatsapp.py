"""WhatsApp's "Export chat" text file (``WhatsApp Chat with Ana.txt``, or ``_chat.txt`` on iPhone).

Every message starts a line with its date and time in the phone's locale, then the sender and the text:

    [31/12/2023, 21:04:05] Ana Lima: text          iPhone, day first, 24 h, seconds
    12/31/23, 9:04 PM - Ana Lima: text             Android, US: month first, 12 h (U+202F before PM)
    31.12.23, 21:04 - Ana Lima: text               Android, German: dots

Lines without that start continue the message above. Whether the day or the month comes first is decided
once per file (a part above 12 settles it; else dots mean day first, AM/PM month first). Lines that are no
person's words ("Messages and calls are end-to-end encrypted", "Ana added Bo", "<Media omitted>", a deleted
message, a missed call) are ``SystemNotice``s; the file is read twice (once for the participants and the date
order), never held whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.tabular import detect_encoding

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"  # direction marks, BOM
_SPACE = "[ \u00a0\u202f]"
_HEADER = re.compile(
    rf"^[{_MARKS}]*(?P<open>\[)?"
    r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4}),?"
    rf"{_SPACE}+(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?:[:.](?P<s>\d{{2}}))?"
    rf"(?:{_SPACE}*(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?"
    rf"(?(open)\]{_SPACE}*|{_SPACE}+[-–]{_SPACE}+)"
    r"(?P<rest>.*)$"
)
_EDITED = re.compile(rf"[{_MARKS}\s]*<This message was edited>$")
# "<Media omitted>" and its translations ("<Medien ausgeschlossen>", "<Multimedia omitido>"): a whole line in <…>.
_MEDIA = re.compile(
    r"^(<[^<>]+>|(image|video|audio|sticker|GIF|document|Contact card) omitted|.* document omitted)$",
    re.IGNORECASE,
)
# The line naming an attached file; a caption may follow it on the next lines.
_ATTACHED = re.compile(rf"^[{_MARKS}]*(<attached: [^>]*>|\S.*\.\w{{2,5}} \(file attached\))$", re.IGNORECASE)
_DELETED = re.compile(r"^(This message was deleted|You deleted this message)\.?$", re.IGNORECASE)
_CALL = re.compile(r"^(Missed (voice|video|group voice|group video) call|Voice call|Video call)\b", re.IGNORECASE)
_SYSTEM_TEXT = re.compile(
    r"^(Messages and calls are end-to-end encrypted|Waiting for this message|null$|You're now an admin"
    r"|Your security code with .* changed|.* changed (the subject|this group's icon|the group description))",
    re.IGNORECASE,
)


def is_whatsapp_line(line: str) -> bool:
    """Whether ``line`` starts like a WhatsApp chat export's message line."""
    return _HEADER.match(line.strip("\r\n")) is not None


@dataclass
class _Survey:
    """What the first pass learns: who writes, and how the dates are written."""

    senders: set[str] = field(default_factory=set)
    day_first_seen: bool = False  # a first part above 12
    month_first_seen: bool = False  # a second part above 12
    year_first: bool = True
    dotted: bool = False
    twelve_hour: bool = False
    order: str = "dmy"

    def add(self, match: re.Match[str]) -> None:
        a, b = match["a"], match["b"]
        self.year_first = self.year_first and len(a) == 4
        self.day_first_seen = self.day_first_seen or (len(a) <= 2 and int(a) > 12)
        self.month_first_seen = self.month_first_seen or int(b) > 12
        self.dotted = self.dotted or match["sep"] == "."
        self.twelve_hour = self.twelve_hour or bool(match["ampm"])
        sender, text = _split(match["rest"])
        if sender and not text.startswith(tuple(_MARKS)):  # iPhone names the chat as the "sender" of its notices
            self.senders.add(sender)

    def decide(self) -> None:
        if self.year_first:
            self.order = "ymd"
        elif self.day_first_seen or self.dotted:
            self.order = "dmy"
        elif self.month_first_seen or self.twelve_hour:
            self.order = "mdy"
        else:
            self.order = "dmy"


def _split(rest: str) -> tuple[str | None, str]:
    """("Ana Lima", "text") for "Ana Lima: text"; (None, line) for a system line such as "Ana added Bo"."""
    name, colon, text = rest.partition(": ")
    name = name.strip(_MARKS + " ")
    if not colon or not name or len(name) > 80 or any(q in name for q in '"“”«»'):
        return None, rest.strip(_MARKS + " ")
    return name, text


def _when(match: re.Match[str], order: str) -> datetime | None:
    a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
    year, month, day = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
    year += 2000 if year < 100 else 0
    hour = int(match["h"])
    if match["ampm"]:
        pm = match["ampm"].lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(year, month, day, hour, int(match["m"]), int(match["s"] or 0))
    except ValueError:
        return None  # a date that does not exist is unknown, not a reason to skip the message


def _notice_kind(text: str, marked: bool) -> str | None:
    """What a sender's line is when it is not their words; None when it is."""
    if _MEDIA.match(text):
        return "WhatsApp media omitted"
    if _DELETED.match(text):
        return "WhatsApp deleted message"
    if _CALL.match(text):
        return "WhatsApp call"
    if _SYSTEM_TEXT.match(text) or marked:  # iPhone marks its own lines with U+200E
        return "WhatsApp system line"
    return None


@dataclass
class _Pending:
    line: int
    match: re.Match[str]
    sender: str | None
    lines: list[str]


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open(encoding=encoding, errors="replace", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\n")


def read_whatsapp(path: Path) -> Iterator[Message | BadRecord | SystemNotice]:
    """Every message of a WhatsApp chat export, multi-line messages joined, system lines as notices."""
    source = str(path)
    encoding = detect_encoding(path)
    survey = _Survey()
    for _, line in _lines(path, encoding):
        if match := _HEADER.match(line):
            survey.add(match)
    survey.decide()
    chat = path.parent.name if path.stem == "_chat" else path.stem  # iPhone: the chat is named by its folder

    def finish(pending: _Pending) -> Message | BadRecord | SystemNotice:
        location = f"line {pending.line}"
        if pending.sender is None:
            return SystemNotice(source, location, "WhatsApp system line")
        lines = [line for line in pending.lines if not _ATTACHED.match(line)]  # a caption stays
        text = "\n".join(lines).strip()
        if not text.strip(_MARKS + " ") and len(lines) < len(pending.lines):
            return SystemNotice(source, location, "WhatsApp media omitted")
        marked = text.startswith(tuple(_MARKS))
        text = _EDITED.sub("", text.strip(_MARKS + " ")).strip()
        if (kind := _notice_kind(text, marked)) is not None:
            return SystemNotice(source, location, kind)
        if not text:
            return BadRecord(source, location, "empty text", "text")
        others = sorted(survey.senders - {pending.sender})
        return Message(
            id=f"{path.stem}:{pending.line}",
            text=text,
            source=f"{source}: {location}",
            sender=pending.sender,
            recipients=", ".join(others) or None,
            date=_when(pending.match, survey.order),
            thread=chat,
        )

    pending: _Pending | None = None
    preamble: int | None = None
    for number, line in _lines(path, encoding):
        match = _HEADER.match(line)
        if match is None:
            if pending is not None:
                pending.lines.append(line)
            elif line.strip(_MARKS + " \t") and preamble is None:
                preamble = number
            continue
        if pending is not None:
            yield finish(pending)
        sender, text = _split(match["rest"])
        pending = _Pending(number, match, sender, [text])
    if pending is not None:
        yield finish(pending)
    if preamble is not None:
        yield BadRecord(source, f"line {preamble}", "text before the first dated line: not a WhatsApp message")
