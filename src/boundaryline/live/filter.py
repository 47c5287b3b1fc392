"""``boundaryline filter``: one RFC 822 message in, the same bytes out with three headers added at the top of
its header block, for a delivery agent (procmail, maildrop, Sieve's ``vnd.dovecot.filter``)::

    X-Boundaryline-Label: pestering
    X-Boundaryline-Scores: professional=0.081; pestering=0.874; inappropriate_proposition=0.045
    X-Boundaryline-Model: v003

The message is never re-serialised: the header lines are spliced into the raw bytes, so the body and every
other header stay byte for byte as they came (the line ending is the message's own). A set from an earlier
pass, or one a sender forged, is removed wherever it stands in the header block, so there is only ever one.
A message that cannot be scored is passed through unchanged. Exit codes, as ``spamc -c`` gives them:
``FilterExit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from boundaryline.inbox import BadRecord, Message, finish_records
from boundaryline.inbox.mail import MAX_MAIL_BYTES, parse_mail
from boundaryline.settings import Settings

if TYPE_CHECKING:
    from boundaryline.predict import Scorer

PREFIX = b"x-boundaryline-"
_UNSAFE = re.compile(r"[^\x21-\x7e]")  # a header value from the manifest: printable ASCII, no space, no line break


class FilterExit(IntEnum):
    """What ``boundaryline filter`` exits with (``--exit-zero``: always 0 once the message is written)."""

    PROFESSIONAL = 0  # scored professional; the headers are added
    FLAGGED = 1  # scored pestering or inappropriate_proposition; the headers are added
    NOT_SCORED = 2  # not scored (no text, unreadable, no model): the message is passed through unchanged


@dataclass(frozen=True)
class Filtered:
    """The bytes to deliver, the exit code, and the label (None: not scored, and why)."""

    output: bytes
    exit: FilterExit
    label: str | None = None
    reason: str | None = None


def split_message(raw: bytes) -> tuple[bytes, list[bytes], bytes]:
    """An mbox ``From `` envelope line (or b""), the header block's lines (each with its line ending), and the
    rest from the blank line that ends the header block (which is left as it is)."""
    envelope = b""
    if raw.startswith(b"From "):
        end = raw.find(b"\n") + 1 or len(raw)
        envelope, raw = raw[:end], raw[end:]
    lines: list[bytes] = []
    offset = 0
    while offset < len(raw):
        end = raw.find(b"\n", offset)
        end = len(raw) if end < 0 else end + 1
        line = raw[offset:end]
        if line in (b"\n", b"\r\n"):
            break
        lines.append(line)
        offset = end
    return envelope, lines, raw[offset:]


def without_ours(lines: list[bytes]) -> list[bytes]:
    """The header lines less every ``X-Boundaryline-*`` field, its folded continuation lines included."""
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # a continuation belongs to the field above
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(PREFIX)
        if not dropping:
            kept.append(line)
    return kept


def headers(label: str, scores: dict[str, float], version: str, newline: bytes) -> bytes:
    """The three header lines, in the message's line ending."""
    values = {
        "Label": label,
        "Scores": "; ".join(f"{name}={value:.3f}" for name, value in scores.items()),
        "Model": _UNSAFE.sub("?", version) or "?",
    }
    return b"".join(f"X-Boundaryline-{name}: {value}".encode("ascii") + newline for name, value in values.items())


def filter_message(raw: bytes, scorer: Scorer, settings: Settings) -> Filtered:
    """``raw`` with the headers of its score added (and any earlier set removed); unchanged when it cannot be
    scored. Never raises for a bad message."""
    record = parse_mail(raw[:MAX_MAIL_BYTES], "stdin", "message", truncated=len(raw) > MAX_MAIL_BYTES)
    if isinstance(record, BadRecord):
        return Filtered(raw, FilterExit.NOT_SCORED, reason=record.reason)
    (message,) = finish_records(iter([record]), settings.max_text_chars, "email")
    if not isinstance(message, Message):
        return Filtered(raw, FilterExit.NOT_SCORED, reason="unreadable")
    score = scorer.score([message.text])[0]
    envelope, lines, rest = split_message(raw)
    first = lines[0] if lines else rest
    newline = b"\r\n" if first.endswith(b"\r\n") or (not first.endswith(b"\n") and b"\r\n" in raw) else b"\n"
    added = headers(score.label, score.scores, scorer.version, newline)
    output = envelope + added + b"".join(without_ours(lines)) + rest
    return Filtered(output, FilterExit.FLAGGED if score.flagged else FilterExit.PROFESSIONAL, score.label)
