"""Mail readers: mbox (streamed), Maildir and folders of .eml files, decoded with the standard
library's ``email`` package (``policy.default``)."""

from __future__ import annotations

import email
import hashlib
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from boundaryline.inbox.cleanup import MailBody, html_to_text, own_text
from boundaryline.inbox.records import BadRecord, Message

MAX_MAIL_BYTES = 5_000_000


def _header(mail: EmailMessage, name: str) -> str | None:
    try:
        value = mail.get(name)
    except (ValueError, TypeError, IndexError):  # a malformed header the policy cannot parse
        raw = mail.get_all(name, failobj=[None])
        value = raw[0] if raw else None
    return " ".join(str(value).split()) if value else None


def _date(mail: EmailMessage) -> datetime | None:
    value = _header(mail, "Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # a bad date is unknown, not a reason to skip the message


def _decode_part(part: EmailMessage) -> str:
    """A text part's content. When the declared charset is unknown or wrong (bytes that do not decode,
    shown by the policy as U+FFFD), the raw bytes are tried as UTF-8, then Windows-1252."""
    try:
        content = str(part.get_content())
        if "\ufffd" not in content:
            return content
    except (LookupError, UnicodeDecodeError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise ValueError("a text part with no decodable payload")
    for charset in (part.get_content_charset(), "utf-8", "cp1252"):
        try:
            return payload.decode(charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")  # decodes any byte string


def body_text(mail: EmailMessage) -> MailBody:
    """What the sender wrote: text/plain preferred, HTML converted to text otherwise; quoted lines,
    forwarded history, signature and list footer removed (``cleanup.own_text``)."""
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return MailBody("")
    content = _decode_part(part)  # type: ignore[arg-type]
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return own_text(content)


def _thread(mail: EmailMessage) -> str | None:
    references = (_header(mail, "References") or "").split()
    if references:
        return references[0]
    return _header(mail, "In-Reply-To") or _header(mail, "X-GM-THRID") or _header(mail, "Message-ID")


def parse_mail(raw: bytes, source: str, location: str, *, truncated: bool = False) -> Message | BadRecord:
    """One RFC 5322 message as a ``Message``, or a ``BadRecord`` saying why not. ``truncated``: ``raw`` is
    the first part of a message over the size limit (its text part comes first in practice)."""
    try:
        mail = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        body = body_text(mail)
    except Exception as error:
        return BadRecord(source, location, f"cannot decode the message ({type(error).__name__}: {error})", "body")
    if not body.text.strip():
        return BadRecord(source, location, "empty body (no text in the message, not even quoted text)", "body")
    message_id = _header(mail, "Message-ID") or f"{Path(source).name}:{hashlib.sha256(raw).hexdigest()[:12]}"
    return Message(
        id=message_id.strip("<>"),
        text=body.text,
        source=f"{source}: {location}",
        sender=_header(mail, "From"),
        recipients=_header(mail, "To"),
        date=_date(mail),
        subject=_header(mail, "Subject"),
        thread=(_thread(mail) or "").strip("<>") or None,
        truncated=truncated,
        quoted_only=body.quoted_only,
    )


def read_mbox(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """Stream an mbox file message by message (``mailbox.mbox`` would index the whole file first).

    Only the current message is held in memory, and only its first ``max_bytes``: a larger message (an
    attachment, usually) is parsed from its start and marked ``truncated``.
    """
    source = str(path)
    record, size, started, preamble = 0, 0, False, False
    chunk: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From "):  # the separator line that starts every message
                if started:
                    record += 1
                    yield parse_mail(b"".join(chunk), source, f"record {record}", truncated=size > max_bytes)
                started, chunk, size = True, [], 0
                continue
            if not started:
                preamble = preamble or bool(line.strip())
                continue
            size += len(line)
            if size <= max_bytes:
                chunk.append(line[1:] if line.startswith(b">From ") else line)  # mboxrd un-escaping
    if started:
        last = b"".join(chunk)
        if not last.endswith(b"\n") or b"\n\n" not in last.replace(b"\r\n", b"\n"):
            # no line end at the end, or headers never followed by a blank line: the file was cut off here
            yield BadRecord(source, f"record {record + 1}", "the file ends inside this message (truncated export?)")
        else:
            yield parse_mail(last, source, f"record {record + 1}", truncated=size > max_bytes)
    if preamble:
        yield BadRecord(source, "line 1", "text before the first 'From ' separator line: not an mbox message")


def _read_files(files: list[Path], root: Path, max_bytes: int) -> Iterator[Message | BadRecord]:
    for file in files:
        location = file.relative_to(root).as_posix()
        try:
            with file.open("rb") as handle:
                raw = handle.read(max_bytes + 1)
        except OSError as error:  # unreadable (permissions), vanished, a broken link: one bad record
            yield BadRecord(str(root), location, f"cannot read the file ({error.strerror or type(error).__name__})")
            continue
        yield parse_mail(raw[:max_bytes], str(root), location, truncated=len(raw) > max_bytes)


def read_eml(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """One ``.eml`` file, or every ``.eml`` file below a folder, in name order."""
    if path.is_dir():
        yield from _read_files(sorted(p for p in path.rglob("*.eml") if p.is_file()), path, max_bytes)
    else:
        yield from _read_files([path], path.parent, max_bytes)


def read_maildir(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """A Maildir's ``cur/`` and ``new/`` messages, in name order."""
    files = sorted(p for sub in ("cur", "new") if (path / sub).is_dir() for p in (path / sub).iterdir() if p.is_file())
    yield from _read_files(files, path, max_bytes)
