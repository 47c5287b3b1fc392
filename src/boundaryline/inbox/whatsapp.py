"""WhatsApp's "Export chat" text file (``WhatsApp Chat with Ana.txt``, or ``_chat.txt`` on iPhone).

Every message starts a line with its date and time in the phone's locale, then the sender and the text:

    [31/12/2023, 21:04:05] Ana Lima: text          iPhone, day first, 24 h, seconds
    12/31/23, 9:04 PM - Ana Lima: text             Android, US: month first, 12 h (U+202F before PM)
    31.12.23, 21:04 - Ana Lima: text               Android, German: dots
    31.12.2023 klo 21.04.05 - Ana Lima: text       Finnish: "klo" before the time, dots in it
    31. 12. 2023. 21:04:05 Ana Lima: text          Croatian, Hungarian: spaced dots, no dash
    31.12.23 21.04.05: Ana Lima: text              a colon after the time
    [12/2023/31, 21:04:05] Ana Lima: text          the year in the middle (seen in the wild)

Lines without that start continue the message above. Which part is the year, the month and the day is decided
once per file, from every date in it: a four-digit part is the year (else the last), and a part above 12 is the
day. When no part above 12 settles it the reader guesses (dots, or a lower-case or dotted "p.m.", mean day
first; an upper-case AM/PM, the US, month first; else day first) and logs a warning naming the file and the
guess. Lines that are no person's words ("Messages and calls are end-to-end encrypted", "Ana added Bo",
"<Media omitted>", a deleted message, a missed call, an attached file's name) are ``SystemNotice``s; a caption
under an attached file's name is the message. The file is read twice (once for the participants and the date
order), never held whole.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.tabular import detect_encoding

log = logging.getLogger(__name__)
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"  # direction marks, BOM
_SPACE = "[ \u00a0\u202f]"
# The date's separator is one of "./-", or a dot and a space ("13. 6. 2018."): that layout has no dash before
# the sender, so after its time a space is enough. A colon after the time ("21.25.15: a: m") needs the seconds,
# so that a time in a message's text ("at 10:30: bring…") is not taken for a new message.
_HEADER = re.compile(
    rf"^[{_MARKS}]*(?P<open>\[)?"
    rf"(?P<a>\d{{1,4}})(?P<sep>[./-]|\.(?P<spaced>{_SPACE}))(?P<b>\d{{1,4}})(?P=sep)(?P<c>\d{{1,4}})\.?,?"
    rf"{_SPACE}+(?:(?:klo|kl\.){_SPACE}+)?(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?:[:.](?P<s>\d{{2}}))?"
    rf"(?:{_SPACE}*(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?"
    rf"(?(open)\]{_SPACE}*|(?:{_SPACE}+[-–]{_SPACE}+|(?(s):{_SPACE}+|(?!))|(?(spaced){_SPACE}+|(?!))))"
    r"(?P<rest>.*)$"
)
_EDITED = re.compile(rf"[{_MARKS}\s]*<This message was edited>$")
# "<Media omitted>" and its translations ("<Medien ausgeschlossen>", "<Multimedia omitido>"): a whole line in <…>.
_MEDIA = re.compile(
    r"^(<[^<>]+>|(image|video|audio|sticker|GIF|document|Contact card) omitted|.* document omitted)$",
    re.IGNORECASE,
)
# The line naming an attached file, in the phone's language; a caption may follow it on the next lines. iPhone:
# "<attached: NAME>" (or "< attached: NAME >"), Android: "NAME (file attached)", older iPhones "NAME <attached>".
_ATTACH_WORDS = (
    "attached|file attached|Datei angehängt|Anhang|adjunto|archivo adjunto|fichier joint|pièce jointe"
    "|anexado|arquivo anexado|allegato|file allegato|bijgevoegd|bestand bijgevoegd|liitetty|tiedosto liitetty"
)
_ATTACHED = re.compile(
    rf"^[{_MARKS}]*(?:<{_SPACE}*[{_MARKS}]*(?:{_ATTACH_WORDS}):[^<>]*>"
    rf"|\S.*\.\w{{2,5}}{_SPACE}*(?:\([{_MARKS}]*(?:{_ATTACH_WORDS})\)|<[{_MARKS}]*(?:{_ATTACH_WORDS})>))$",
    re.IGNORECASE,
)
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


_PARTS = ("a", "b", "c")


@dataclass
class _Survey:
    """What the first pass learns: who writes, and how the dates are written."""

    senders: set[str] = field(default_factory=set)
    longest: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_PARTS, 0))  # digits, per part
    largest: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_PARTS, 0))  # value, per part
    dotted: bool = False
    us_ampm: bool = False  # "PM", as the US writes it
    other_ampm: bool = False  # "pm", "p.m.", "p. m.": British, Australian, Spanish… phones
    order: str = "dmy"  # which part is the year, the month, the day: "dmy" reads a as the day
    guessed: bool = False  # no part above 12 settled which is the day

    def add(self, match: re.Match[str]) -> None:
        for part in _PARTS:
            self.longest[part] = max(self.longest[part], len(match[part]))
            self.largest[part] = max(self.largest[part], int(match[part]))
        self.dotted = self.dotted or match["sep"].startswith(".")
        if ampm := match["ampm"]:
            us = ampm.isupper() and "." not in ampm
            self.us_ampm, self.other_ampm = self.us_ampm or us, self.other_ampm or not us
        sender, text = _split(match["rest"])
        marked = text.startswith(tuple(_MARKS)) and not _ATTACHED.match(text)
        if sender and not marked:  # iPhone names the chat as the "sender" of its notices
            self.senders.add(sender)

    def decide(self) -> None:
        """The order of the parts: a four-digit part is the year (else the last); of the other two, one above
        12 is the day; when neither is, a year-first date is ISO (month, then day), and otherwise a guess."""
        year = next((part for part in _PARTS if self.longest[part] == 4 or self.largest[part] > 31), "c")
        first, second = (part for part in _PARTS if part != year)
        if self.largest[first] > 12:
            day_first = True
        elif self.largest[second] > 12:
            day_first = False
        else:
            day_first = year == "c" and (self.dotted or self.other_ampm or not self.us_ampm)
            self.guessed = year == "c"
        day, month = (first, second) if day_first else (second, first)
        self.order = "".join({year: "y", month: "m", day: "d"}[part] for part in _PARTS)

    def describe_guess(self) -> str:
        """Why the day and the month were told apart as they were, for the warning when it was a guess."""
        if self.order.startswith("d"):
            hint = "dots in the dates" if self.dotted else "a lower-case or dotted p.m." if self.other_ampm else None
            return f"read day first ({hint})" if hint else "read day first (no hint either way; the default)"
        return "read month first (an upper-case AM/PM, as US phones write it)"


def _split(rest: str) -> tuple[str | None, str]:
    """("Ana Lima", "text") for "Ana Lima: text"; (None, line) for a system line such as "Ana added Bo"."""
    name, colon, text = rest.partition(": ")
    name = name.strip(_MARKS + " ")
    if not colon or not name or len(name) > 80 or any(q in name for q in '"“”«»'):
        return None, rest.strip(_MARKS + " ")
    return name, text


def _when(match: re.Match[str], order: str) -> datetime | None:
    """The date and time of a message line, its parts read in ``order`` ("dmy", "ymd", "myd"…)."""
    value = {letter: int(match[part]) for letter, part in zip(order, _PARTS, strict=True)}
    year = value["y"] + (2000 if value["y"] < 100 else 0)
    hour = int(match["h"])
    if match["ampm"]:
        pm = match["ampm"].lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(year, value["m"], value["d"], hour, int(match["m"]), int(match["s"] or 0))
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
    if survey.guessed:  # nothing in the file tells the day from the month: say how it was read
        log.warning("%s: no date in it has a day above 12; %s", path, survey.describe_guess())
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
