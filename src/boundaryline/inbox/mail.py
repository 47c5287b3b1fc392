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

from boundaryline.inbox.cleanup import html_to_text, strip_quoted_and_signature
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


def body_text(mail: EmailMessage) -> str:
    """What the sender wrote: text/plain preferred, HTML converted to text otherwise; quotes and
    signature stripped."""
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _decode_part(part)  # type: ignore[arg-type]
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return strip_quoted_and_signature(content)


def _thread(mail: EmailMessage) -> str | None:
    references = (_header(mail, "References") or "").split()
    if references:
        return references[0]
    return _header(mail, "In-Reply-To") or _header(mail, "X-GM-THRID") or _header(mail, "Message-ID")


def parse_mail(raw: bytes, source: str, location: str, *, max_bytes: int = MAX_MAIL_BYTES) -> Message | BadRecord:
    """One RFC 5322 message as a ``Message``, or a ``BadRecord`` saying why not."""
    if len(raw) > max_bytes:
        return BadRecord(source, location, f"over the size limit ({len(raw):,} bytes > {max_bytes:,})")
    try:
        mail = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        text = body_text(mail)
    except Exception as error:
        return BadRecord(source, location, f"cannot decode the message ({type(error).__name__}: {error})", "body")
    if not text.strip():
        return BadRecord(source, location, "empty body (nothing left after removing quotes and signature)", "body")
    message_id = _header(mail, "Message-ID") or f"{Path(source).name}:{hashlib.sha256(raw).hexdigest()[:12]}"
    return Message(
        id=message_id.strip("<>"),
        text=text,
        source=f"{source}: {location}",
        sender=_header(mail, "From"),
        recipients=_header(mail, "To"),
        date=_date(mail),
        subject=_header(mail, "Subject"),
        thread=(_thread(mail) or "").strip("<>") or None,
    )


def read_mbox(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """Stream an mbox file message by message (``mailbox.mbox`` would index the whole file first).

    Only the current message is held in memory, and not even that once it passes ``max_bytes``.
    """
    source = str(path)
    record, size, started, preamble = 0, 0, False, False
    chunk: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From "):  # the separator line that starts every message
                if started:
                    record += 1
                    yield _finish(chunk, size, source, record, max_bytes)
                started, chunk, size = True, [], 0
                continue
            if not started:
                preamble = preamble or bool(line.strip())
                continue
            size += len(line)
            if size <= max_bytes:
                chunk.append(line[1:] if line.startswith(b">From ") else line)  # mboxrd un-escaping
            else:
                chunk = []
    if started:
        yield _finish(chunk, size, source, record + 1, max_bytes)
    if preamble:
        yield BadRecord(source, "line 1", "text before the first 'From ' separator line: not an mbox message")


def _finish(chunk: list[bytes], size: int, source: str, record: int, max_bytes: int) -> Message | BadRecord:
    if size > max_bytes:
        return BadRecord(source, f"record {record}", f"over the size limit ({size:,} bytes > {max_bytes:,})")
    return parse_mail(b"".join(chunk), source, f"record {record}", max_bytes=max_bytes)


def _read_files(files: list[Path], root: Path, max_bytes: int) -> Iterator[Message | BadRecord]:
    for file in files:
        size = file.stat().st_size
        if size > max_bytes:
            yield BadRecord(
                str(root), file.relative_to(root).as_posix(), f"over the size limit ({size:,} bytes > {max_bytes:,})"
            )
            continue
        yield parse_mail(file.read_bytes(), str(root), file.relative_to(root).as_posix(), max_bytes=max_bytes)


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
