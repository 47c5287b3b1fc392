"""Outlook ``.msg`` files: one saved message each, or a folder of them.

A ``.msg`` is a Compound File (OLE2) whose streams hold the message's MAPI properties ([MS-OXMSG]): the
subject in ``__substg1.0_0037001F``, the plain body in ``…1000001F``, dates in ``__properties_version1.0``.
``olefile`` (BSD) reads the compound file; the maintained ``.msg`` library, extract-msg, is GPL-3.0 and so
cannot be a dependency of this MIT package. A received message keeps its Internet headers
(``PR_TRANSPORT_MESSAGE_HEADERS``); they are used as they are, and the properties stand in for the headers
of one that never crossed the Internet (a draft, a sent item). The message is then rebuilt as RFC 822 mail and
read by ``mail.parse_mail``, so quotes, signatures, threads and list mail are handled as for any other mail.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import Header
from email.message import Message as Mail
from email.parser import HeaderParser
from email.utils import format_datetime, formataddr
from pathlib import Path

import olefile

from boundaryline.inbox.confine import OUTSIDE, inside
from boundaryline.inbox.mail import MAX_MAIL_BYTES, parse_mail
from boundaryline.inbox.records import BadRecord, Message

OLE_SIGNATURE = olefile.MAGIC  # the first 8 bytes of every compound file (.msg, and old .doc / .xls)

# MAPI property ids ([MS-OXPROPS]) and types
SUBJECT, BODY, HTML, RTF = 0x0037, 0x1000, 0x1013, 0x1009
TRANSPORT_HEADERS, MESSAGE_ID, IN_REPLY_TO, REFERENCES = 0x007D, 0x1035, 0x1042, 0x1039
SENDER_NAME, SENDER_EMAIL, SENDER_SMTP, DISPLAY_TO = 0x0C1A, 0x0C1F, 0x5D01, 0x0E04
CLIENT_SUBMIT_TIME, DELIVERY_TIME, INTERNET_CPID, MESSAGE_CODEPAGE = 0x0039, 0x0E06, 0x3FDE, 0x3FFD
UNICODE, STRING8, BINARY, SYSTIME, LONG = 0x001F, 0x001E, 0x0102, 0x0040, 0x0003
_TOP_HEADER_BYTES = 32  # the properties stream of a top-level message starts with 32 bytes before its entries
_MIME_HEADERS = ("content-type", "content-transfer-encoding", "mime-version", "content-disposition")


class UnreadableMsg(ValueError):
    """A ``.msg`` this reader cannot take, and why (never its text)."""


class _Properties:
    """The MAPI properties of a top-level message, read from its streams on demand."""

    def __init__(self, ole: olefile.OleFileIO, max_bytes: int) -> None:
        self.ole, self.max_bytes = ole, max_bytes
        self.fixed: dict[int, tuple[int, bytes]] = {}
        if ole.exists("__properties_version1.0"):
            data = ole.openstream("__properties_version1.0").read(max_bytes)
            for offset in range(_TOP_HEADER_BYTES, len(data) - 15, 16):
                tag, _flags, value = struct.unpack_from("<II8s", data, offset)
                self.fixed[tag >> 16] = (tag & 0xFFFF, value)
        codepage = self.number(INTERNET_CPID) or self.number(MESSAGE_CODEPAGE)
        self.codepage = f"cp{codepage}" if codepage and _known(f"cp{codepage}") else "cp1252"
        if codepage == 65001:
            self.codepage = "utf-8"

    def _stream(self, prop: int, kind: int) -> bytes | None:
        name = f"__substg1.0_{prop:04X}{kind:04X}"
        return self.ole.openstream(name).read(self.max_bytes) if self.ole.exists(name) else None

    def text(self, prop: int) -> str | None:
        if (raw := self._stream(prop, UNICODE)) is not None:
            return raw.decode("utf-16-le", errors="replace").rstrip("\x00")
        if (raw := self._stream(prop, STRING8)) is not None:
            return raw.decode(self.codepage, errors="replace").rstrip("\x00")
        return None

    def binary(self, prop: int) -> bytes | None:
        return self._stream(prop, BINARY)

    def number(self, prop: int) -> int | None:
        kind, value = self.fixed.get(prop, (None, b""))
        return struct.unpack_from("<i", value)[0] if kind == LONG else None

    def time(self, prop: int) -> datetime | None:
        kind, value = self.fixed.get(prop, (None, b""))
        if kind != SYSTIME:
            return None
        ticks = struct.unpack_from("<Q", value)[0]  # 100 ns since 1601-01-01 UTC (a FILETIME)
        try:
            return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10) if ticks else None
        except OverflowError:
            return None


def _known(codec: str) -> bool:
    try:
        codecs.lookup(codec)
    except LookupError:
        return False
    return True


def _headers(props: _Properties) -> Mail:
    """The message's Internet headers (MIME ones dropped: the body is rebuilt), completed from the properties."""
    mail = HeaderParser(policy=policy.compat32).parsestr(props.text(TRANSPORT_HEADERS) or "")
    for name in _MIME_HEADERS:
        del mail[name]  # every occurrence, whatever its case
    sender = props.text(SENDER_SMTP) or props.text(SENDER_EMAIL)
    stand_ins = {
        "From": formataddr((props.text(SENDER_NAME) or "", sender or ""))
        if sender or props.text(SENDER_NAME)
        else None,
        "To": props.text(DISPLAY_TO),
        "Subject": props.text(SUBJECT),
        "Message-ID": props.text(MESSAGE_ID),
        "In-Reply-To": props.text(IN_REPLY_TO),
        "References": props.text(REFERENCES),
    }
    for name, value in stand_ins.items():
        if value and mail[name] is None:
            mail[name] = value if value.isascii() else Header(value, "utf-8").encode()
    when = props.time(CLIENT_SUBMIT_TIME) or props.time(DELIVERY_TIME)
    if when is not None and mail["Date"] is None:
        mail["Date"] = format_datetime(when)
    return mail


def msg_as_mail(path: Path, max_bytes: int = MAX_MAIL_BYTES) -> bytes:
    """The ``.msg`` at ``path`` as RFC 822 bytes (its headers, and its plain or else its HTML body).

    Raises ``UnreadableMsg`` saying what is wrong (not a compound file, no body it can read)."""
    if not olefile.isOleFile(str(path)):
        raise UnreadableMsg("not an Outlook message (no compound-file signature)")
    with olefile.OleFileIO(str(path)) as ole:
        props = _Properties(ole, max_bytes)
        mail = _headers(props)
        body, subtype = props.text(BODY), "plain"
        if not (body or "").strip() and (html := props.binary(HTML) or (props.text(HTML) or "").encode()):
            body, subtype = html.decode(props.codepage, errors="replace"), "html"
        if not (body or "").strip():
            has_rtf = ole.exists(f"__substg1.0_{RTF:04X}{BINARY:04X}")
            raise UnreadableMsg("only a compressed RTF body, which is not read" if has_rtf else "no body")
    mail.set_payload(body or "", charset="utf-8")
    mail.replace_header("Content-Type", f'text/{subtype}; charset="utf-8"')
    return mail.as_bytes(policy=policy.compat32.clone(max_line_length=0))


def read_msg(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """One Outlook ``.msg`` file, or every ``.msg`` file below a folder in name order."""
    root = path if path.is_dir() else path.parent
    files = (
        sorted(p for p in path.rglob("*") if p.suffix.lower() == ".msg" and p.is_file()) if path.is_dir() else [path]
    )
    for file in files:
        relative = file.relative_to(root).as_posix()
        if path.is_dir() and not inside(file, root):  # a link out of the folder is never opened
            yield BadRecord(str(root), relative, OUTSIDE)
            continue
        try:
            if file.stat().st_size > 8 * max_bytes:  # attachments live in the file too; the body is read capped
                yield BadRecord(str(root), relative, f"over the size limit ({file.stat().st_size:,} bytes)")
                continue
            raw = msg_as_mail(file, max_bytes)
        except UnreadableMsg as error:
            yield BadRecord(str(root), relative, str(error))
            continue
        except Exception as error:  # a damaged compound file is that file's bad record, never the run's
            yield BadRecord(str(root), relative, f"cannot read the Outlook message ({type(error).__name__})")
            continue
        yield parse_mail(raw, str(root), relative)
