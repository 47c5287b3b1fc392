"""Mail readers: mbox (streamed), folders of mbox files (Thunderbird, Gmail Takeout), Maildir, and folders of
.eml / Apple Mail .emlx files, decoded as the standard library's ``email`` package (``policy.default``) decodes
them: ``rawmail`` splits an mbox and builds the package's tree of parts, ``headers`` reads plain header values,
both faster than the package and to the same result. An Outlook ``winmail.dat`` (TNEF) attachment is opened
with ``tnefparse`` when it holds the only body."""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message as Mail  # a parsed e-mail (compat32); Message is our record
from email.utils import formataddr, getaddresses, parseaddr, parsedate_to_datetime
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

import charset_normalizer

import boundaryline.inbox.rawmail as rawmail
from boundaryline.inbox.cleanup import MailBody, html_to_text, own_text, strip_quoted_and_signature
from boundaryline.inbox.confine import OUTSIDE, inside
from boundaryline.inbox.headers import plain_date, plain_value
from boundaryline.inbox.records import BadRecord, Direction, Message

MAX_MAIL_BYTES = 5_000_000
# What of one header policy.default's parser is given. Its time grows with the square of a header's length
# (8 KiB of commas in To: takes 0.5 s, 16 KiB 1.7 s) and its memory with the square of the number of RFC 2047
# encoded words (5,000 words take 190 MB, 20,000 take 3 GB, 200,000 took 22 GB). RFC 5322 keeps a line under
# 998 characters: a header folded past 8 KiB is hundreds of recipients, or crafted; a long subject in
# Japanese is about 20 encoded words. Only the start of a References header is used (its first id).
MAX_HEADER_CHARS = 8_192
MAX_ENCODED_WORDS = 256
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian: the first bytes of every winmail.dat

# Gmail Takeout's X-Gmail-Labels names the owner's own mail "Sent" (or "Drafts"), in the account's language.
_OWN_MAIL_LABELS = frozenset(
    {
        *("sent", "sent mail", "drafts", "draft"),
        *("envoyé", "envoyés", "messages envoyés", "brouillons"),  # French
        *("gesendet", "entwürfe"),  # German
        *("enviados", "enviado", "e-mails enviados", "borradores", "rascunhos"),  # Spanish, Portuguese
        *("posta inviata", "inviati", "bozze"),  # Italian
        *("verzonden", "concepten"),  # Dutch
        *("odesláno", "wysłane", "отправленные", "送信済みメール"),  # Czech, Polish, Russian, Japanese
    }
)
# Folder names of the owner's own mail in Thunderbird and Apple Mail exports (compared lower-cased, without
# the .sbd / .mbox suffix).
_OWN_MAIL_FOLDERS = frozenset({"sent", "sent mail", "sent messages", "sent items", "drafts", "draft"})
# Files a Thunderbird mail folder holds beside the mailboxes; not mail, so not read.
_THUNDERBIRD_HOUSEKEEPING = frozenset({"msgFilterRules.dat", "popstate.dat", "filterlog.html", "junklog.html"})


class UnreadableField(Exception):
    """One field of a message (a header, the body) could not be read: ``parse_mail`` turns it into a
    ``BadRecord`` that names the field and the error's type, never the text it choked on."""

    def __init__(self, field: str, error: Exception) -> None:
        super().__init__(field)
        self.field, self.error = field, error


# Headers holding addresses: when the policy's parser fails on one, the addresses are read the old way.
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


_ENCODED_WORD_START = re.compile(r"=\?")


def capped_header(value: str) -> str:
    """A raw header cut, before it is parsed, to at most ``MAX_HEADER_CHARS`` (at the last space or comma
    before the cap, so that no word or address is cut in two) and to its first ``MAX_ENCODED_WORDS`` encoded
    words (cut before the next one). The message is still read, with the header's start."""
    if len(value) > MAX_HEADER_CHARS:
        value = value[:MAX_HEADER_CHARS]
        cut = max(value.rfind(" "), value.rfind("\t"), value.rfind(","))
        if cut > MAX_HEADER_CHARS // 2:
            value = value[:cut]
    if value.count("=?") > MAX_ENCODED_WORDS:
        *_, past = islice(_ENCODED_WORD_START.finditer(value), MAX_ENCODED_WORDS + 1)
        value = value[: past.start()]
    return value


class MailHeaders:
    """The headers of one message that scoring reads, each decoded once, on first use (``get``): a message
    asks for its Message-ID and From twice."""

    def __init__(self, mail: Mail) -> None:
        self._raw: dict[str, str] = {}
        for key, value in mail.raw_items():  # the first of a name is the one read
            self._raw.setdefault(key.lower(), value)
        self._read: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        """A header as ``policy.default`` reads it (RFC 2047 words decoded, addresses normalised), with white
        space folded. The message is parsed with ``compat32``, which keeps headers as raw strings: a header
        over the caps is truncated to them (``capped_header``), so that the message is read with the header's
        start; a plain value is read directly (``headers.plain_value``), any other by ``policy.default``'s
        header registry. Raises ``UnreadableField`` (the header's name) when the header cannot be read."""
        wanted = name.lower()
        if wanted not in self._read:
            raw = self._raw.get(wanted)
            self._read[wanted] = None if raw is None else _read_header(name, capped_header(raw))
        return self._read[wanted]

    def date(self) -> datetime | None:
        """The Date header's time; None when there is none or it is no date (then it is unknown, not a
        reason to skip the message)."""
        raw = self._raw.get("date")
        plain = plain_date(capped_header(raw)) if raw is not None else None
        if plain is not None:
            return plain
        value = self.get("Date")
        if not value:
            return None
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None


def _read_header(name: str, raw: str) -> str | None:
    """``MailHeaders.get`` of one raw (capped) value."""
    plain = plain_value(name, raw)
    if plain is not None:
        return " ".join(plain.split()) if plain else None
    try:
        value = policy.default.header_fetch_parse(name, raw)
    except Exception as error:
        if name.lower() not in _ADDRESS_HEADERS:
            raise UnreadableField(f"header {name}", error) from error
        return _plain_addresses(name, raw)
    return " ".join(str(value).split()) if value else None


def _plain_addresses(name: str, value: str) -> str | None:
    """An address header the policy's parser fails on (``unlisted-recipients:; (no To-header on input)``, a
    group with a comment, raises AttributeError in Python 3.11–3.13), read by ``email.utils.getaddresses``:
    the addresses it holds, None when it holds none (an empty group is no recipient)."""
    try:
        decoded = str(make_header(decode_header(value)))
        addresses = [formataddr(pair) for pair in getaddresses([decoded]) if pair[1]]
    except Exception as error:
        raise UnreadableField(f"header {name}", error) from error
    return ", ".join(addresses) or None


def _decode_part(part: Mail) -> str:
    """A text part's content, decoded with the charset it declares (``decode_text``)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise ValueError("a text part with no decodable payload")
    # get_content_charset, not get_param: an RFC 2231 charset (charset*=us-ascii''…) is a tuple in get_param
    return decode_text(payload, part.get_content_charset())


def _codec(charset: str | None) -> codecs.CodecInfo | None:
    """Python's codec for a declared charset; None when nothing is declared or Python does not know it."""
    try:
        return codecs.lookup(charset) if charset else None
    except LookupError:
        return None


# Charsets a mail program declares by default whatever it sends: UTF-8 text labelled as one of them is common.
_DEFAULT_LABELS = frozenset({"ascii", "iso8859-1", "cp1252"})
# Fewer non-ASCII bytes than this are too few for charset_normalizer, which then guesses wildly
# (b"caf\xe9 ok" comes out as cp1006); Windows-1252 is the likelier charset of such short text.
_FEW_FOR_A_GUESS = 16


def decode_text(payload: bytes, declared: str | None) -> str:
    """A text part's bytes as text. The declared charset is trusted as long as it reads any non-ASCII text
    at all: a few bad bytes become U+FFFD and the good text around them is kept. Only when the charset is
    unknown, or reads none of the non-ASCII bytes, is the charset guessed (``guess_text``)."""
    codec = _codec(declared)
    if codec is None:
        return guess_text(payload)
    if codec.name in _DEFAULT_LABELS and not payload.isascii() and _is_utf8(payload):
        return payload.decode("utf-8")
    text = payload.decode(codec.name, errors="replace")
    if "\ufffd" not in text or _reads_some_non_ascii(text):
        return text
    return guess_text(payload)


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _reads_some_non_ascii(text: str) -> bool:
    """Whether a decoding produced at least one non-ASCII character besides U+FFFD: evidence that the
    charset is right (bytes of another charset seldom form valid multi-byte sequences)."""
    return any(ord(char) > 127 and char != "\ufffd" for char in text)


def guess_text(payload: bytes) -> str:
    """Bytes in an unknown charset as text: UTF-8 when they are valid UTF-8, charset_normalizer's best guess
    when there are enough non-ASCII bytes to guess from, Windows-1252 (with U+FFFD for its five unused
    bytes) otherwise."""
    if _is_utf8(payload):
        return payload.decode("utf-8")
    if sum(byte > 127 for byte in payload) >= _FEW_FOR_A_GUESS:
        best = charset_normalizer.from_bytes(payload).best()
        if best is not None:
            return str(best)
    return payload.decode("cp1252", errors="replace")


def _find_body(mail: Mail, part: Mail, preference: tuple[str, ...]) -> Iterator[tuple[int, Mail]]:
    """``EmailMessage.get_body``'s search (``_find_body`` in the standard library, quirks included), on a
    ``compat32`` message: attachments are skipped by their Content-Disposition and never decoded."""
    if part.get_content_disposition() == "attachment":
        return
    maintype, subtype = part.get_content_type().split("/")
    if maintype == "text":
        if subtype in preference:
            yield preference.index(subtype), part
        return
    if maintype != "multipart" or not mail.is_multipart():
        return
    subparts: Any = part.get_payload()  # a list of parts; a string in a malformed message (which then fails)
    if subtype != "related":
        for subpart in subparts if part.is_multipart() else []:
            yield from _find_body(mail, subpart, preference)
        return
    candidate = None
    start = part.get_param("start")
    if start:
        for subpart in subparts if part.is_multipart() else []:
            if subpart["content-id"] == start:
                candidate = subpart
                break
    if candidate is None:
        candidate = subparts[0] if subparts else None
    if candidate is not None:
        yield from _find_body(mail, candidate, preference)


def get_body(mail: Mail, preference: tuple[str, ...] = ("plain", "html")) -> Mail | None:
    """The part ``EmailMessage.get_body(preference)`` would choose."""
    best, body = len(preference), None
    for rank, part in _find_body(mail, mail, preference):
        if rank < best:
            best, body = rank, part
            if rank == 0:
                break
    return body


def body_text(mail: Mail) -> MailBody:
    """What the sender wrote: text/plain preferred, HTML converted to text otherwise (and when the plain
    part is empty, as some mail programs send it beside the real HTML one); quoted lines, forwarded history,
    signature and list footer removed (``cleanup.own_text``). A message with no text of its own but a
    forwarded message attached whole (``message/rfc822``) is the forwarded message's text, as a bare forward."""
    content = _part_text(get_body(mail))
    if not content.strip():  # an empty text/plain beside the real text/html
        content = _part_text(get_body(mail, ("html",)))
    if content.strip():
        return own_text(content)
    forwarded = _attached_message(mail)
    if forwarded is None:
        return MailBody("")
    return MailBody(body_text(forwarded).text, quoted_only=True)


def _part_text(part: Mail | None) -> str:
    """A body part as text (HTML converted); "" for no part."""
    if part is None:
        return ""
    content = _decode_part(part)
    return html_to_text(content) if part.get_content_subtype() == "html" else content


def _attached_message(mail: Mail) -> Mail | None:
    """The first message attached whole (``message/rfc822``: a forward "as attachment", or the message
    itself when its own type is message/rfc822)."""
    for part in mail.walk():
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)  # compat32 keeps the attached message as a one-item list
            return inner if isinstance(inner, Mail) else None
    return None


# ----- Outlook winmail.dat (TNEF)


def _tnef_string(value: Any, codepage: str) -> str:
    """A body as tnefparse gives it (bytes, str, or a list of either) as text, without NUL padding."""
    if isinstance(value, list):
        return "".join(_tnef_string(item, codepage) for item in value)
    if isinstance(value, bytes):
        for charset in ("utf-8", codepage):
            try:
                return value.decode(charset).replace("\x00", "")
            except (LookupError, UnicodeDecodeError):
                continue
        return value.decode("cp1252", errors="replace").replace("\x00", "")
    return str(value or "").replace("\x00", "")


def tnef_body(data: bytes) -> str:
    """What the sender wrote in a TNEF (``winmail.dat``) body: plain text preferred, HTML converted otherwise.
    Raises ``ValueError`` with the true reason when there is none to read."""
    from tnefparse import TNEF

    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as error:
        raise ValueError(f"the winmail.dat (TNEF) data cannot be decoded ({type(error).__name__}: {error})") from error
    codepage = tnef.codepage or "cp1252"
    plain = _tnef_string(tnef.body, codepage)
    if plain.strip():
        return strip_quoted_and_signature(plain)
    html = _tnef_string(tnef.htmlbody, codepage)
    if html.strip():
        return strip_quoted_and_signature(html_to_text(html))
    if tnef.has_body():
        raise ValueError("the body is only in winmail.dat (TNEF) as compressed RTF, which boundaryline does not read")
    raise ValueError("winmail.dat (TNEF) holds no message body")


def _tnef_attachment(mail: Mail) -> bytes | None:
    for part in mail.walk():
        if part.get_content_type() == "application/ms-tnef" or (part.get_filename() or "").lower() == "winmail.dat":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


# ----- one message


def _thread(headers: MailHeaders) -> str | None:
    gmail_thread = headers.get("X-GM-THRID")  # Gmail Takeout's own conversation id
    if gmail_thread:
        return gmail_thread
    references = (headers.get("References") or "").split()
    if references:
        return references[0]
    return headers.get("In-Reply-To") or headers.get("Message-ID")


# Mailman and Google Groups rewrite From to the list's address for DMARC: "'Ana Lima' via dev-list" <dev@…>.
_VIA_LIST = re.compile(r"^'?(?P<author>.+?)'?\s+via\s+(?P<list>.+)$", re.IGNORECASE)


def list_relay(headers: MailHeaders) -> tuple[str | None, str | None]:
    """The list that relayed the message (None for direct mail) and its author's From. A message is list mail
    when it has List-Id or List-Post; a From the list rewrote ("X via list" <the list>) is X, with the
    Reply-To address when that is not the list's own. Outside list mail "via" is a name like any other
    ("Jane via DocuSign")."""
    sender = headers.get("From")
    post = re.search(r"mailto:([^>?\s]+)", headers.get("List-Post") or "")
    list_id = headers.get("List-Id")
    if not post and not list_id:
        return None, sender
    name, addr = parseaddr(sender or "")
    via = _VIA_LIST.match(name) if addr else None
    if via:  # the From is the list's address: that is the list
        _, reply = parseaddr(headers.get("Reply-To") or "")
        author = via["author"].strip()
        return addr.lower(), f'"{author}" <{reply}>' if reply and reply.lower() != addr.lower() else author
    if post:
        return post.group(1).lower(), sender
    inside = re.search(r"<([^>]+)>", list_id or "")
    return (inside.group(1) if inside else list_id or "").strip().lower(), sender


def gmail_direction(labels: str | None) -> Direction | None:
    """From Gmail Takeout's ``X-Gmail-Labels``: "outgoing" for the owner's Sent mail and drafts, "incoming" for
    the rest; None when there are no labels (not a Takeout export)."""
    if not labels:
        return None
    names = {name.strip().lower() for name in next(csv.reader([labels], skipinitialspace=True), [])}
    return "outgoing" if names & _OWN_MAIL_LABELS else "incoming"


def parse_mail(
    raw: bytes, source: str, location: str, *, truncated: bool = False, direction: Direction | None = None
) -> Message | BadRecord:
    """One RFC 5322 message as a ``Message``, or a ``BadRecord`` saying why not. ``truncated``: ``raw`` is the
    first part of a message over the size limit (its text part comes first in practice). ``direction`` is
    what the export's layout says (a Sent folder); Gmail's labels, when the message has them, say it instead.
    Never raises: whatever goes wrong in one message is that message's ``BadRecord``, and reading goes on."""
    try:
        return _message(raw, source, location, truncated=truncated, direction=direction)
    except UnreadableField as failure:
        return _unreadable(source, location, failure.error, failure.field)
    except Exception as error:  # a parse failure nobody foresaw is still one message's, not the run's
        return _unreadable(source, location, error, None)


def _unreadable(source: str, location: str, error: BaseException, field: str | None) -> BadRecord:
    # the error's type only: its message can quote the header or body text it failed on
    return BadRecord(source, location, f"cannot decode the message ({type(error).__name__})", field)


def _message(
    raw: bytes, source: str, location: str, *, truncated: bool, direction: Direction | None
) -> Message | BadRecord:
    # compat32: the parse keeps headers raw (policy.default parses Content-Type and friends on every
    # look-up, which was most of the time); MailHeaders and _decode_part decode what is used as it would.
    mail = rawmail.message_from_bytes(raw)
    try:
        body = body_text(mail)
        tnef = _tnef_attachment(mail) if not body.text.strip() else None
    except UnreadableField:
        raise
    except Exception as error:
        raise UnreadableField("body", error) from error
    if tnef is not None:  # Outlook put the body in winmail.dat
        try:
            body = MailBody(tnef_body(tnef))
        except ValueError as error:
            return BadRecord(source, location, str(error), "body")
    if not body.text.strip():
        return BadRecord(source, location, "empty body (no text in the message, not even quoted text)", "body")
    headers = MailHeaders(mail)
    message_id = headers.get("Message-ID") or f"{Path(source).name}:{hashlib.sha256(raw).hexdigest()[:12]}"
    relayed_by, sender = list_relay(headers)
    return Message(
        id=message_id.strip("<>"),
        text=body.text,
        source=f"{source}: {location}",
        sender=sender,
        recipients=headers.get("To"),
        date=headers.date(),
        subject=headers.get("Subject"),
        thread=(_thread(headers) or "").strip("<>") or None,
        truncated=truncated,
        quoted_only=body.quoted_only,
        direction=gmail_direction(headers.get("X-Gmail-Labels")) or direction,
        mailing_list=relayed_by,
    )


# ----- mbox


def read_mbox(
    path: Path,
    *,
    max_bytes: int = MAX_MAIL_BYTES,
    source: str | None = None,
    prefix: str = "",
    direction: Direction | None = None,
    start: int = 0,
    end: int | None = None,
    records_before: int = 0,
) -> Iterator[Message | BadRecord]:
    """Stream an mbox file message by message (``mailbox.mbox`` would index the whole file first); a folder
    is read as a folder of mbox files (``read_mbox_folder``).

    Only the current message is held in memory, and only its first ``max_bytes``: a larger message (an
    attachment, usually) is parsed from its start and marked ``truncated``. ``source`` and ``prefix`` name the
    file when it is one of a folder's ("Profile: Archives.sbd/2023, record 4"). ``start`` (a ``From `` line),
    ``end`` and ``records_before`` (the messages before ``start``) read the messages whose separator lies in
    the bytes ``[start, end)``: one byte range of a big mbox.
    """
    if path.is_dir():
        yield from read_mbox_folder(path, max_bytes=max_bytes)
        return
    source = source or str(path)
    with path.open("rb") as handle:
        messages = rawmail.MboxMessages(handle, max_bytes=max_bytes, start=start, end=end)
        for record, (raw, size, last) in enumerate(messages, start=records_before + 1):
            location = f"{prefix}record {record}"
            if last and size <= max_bytes and (not raw.endswith(b"\n") or b"\n\n" not in raw.replace(b"\r\n", b"\n")):
                # no line end at the end, or headers never followed by a blank line: the file was cut off here
                yield BadRecord(source, location, "the file ends inside this message (truncated export?)")
            else:
                yield parse_mail(raw, source, location, truncated=size > max_bytes, direction=direction)
    if messages.preamble:
        yield BadRecord(source, f"{prefix}line 1", "text before the first 'From ' separator line: not an mbox message")


def _own_mail_folder(relative: str) -> bool:
    """Whether a path inside an export lies in a Sent or Drafts folder ("Sent", "[Gmail].sbd/Sent Mail",
    "Sent Messages.mbox/…")."""
    folders = PurePosixPath(relative).parts
    return any(part.lower().removesuffix(".sbd").removesuffix(".mbox") in _OWN_MAIL_FOLDERS for part in folders)


def is_mbox_folder(path: Path) -> bool:
    """A Thunderbird mail folder (``.msf`` indexes, ``.sbd`` sub-folders) or a folder of ``.mbox`` files."""
    return any(
        (p.is_file() and p.suffix.lower() in (".msf", ".mbox", ".mbx")) or (p.is_dir() and p.suffix == ".sbd")
        for p in path.rglob("*")
    )


def _mailbox_files(path: Path) -> list[Path]:
    """The files of a folder that should be mailboxes: named ``*.mbox``/``*.mbx``, or with a Thunderbird ``.msf``
    index beside them, or (Thunderbird's way) with no extension at all. Indexes and housekeeping files are not."""
    files = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if file.suffix.lower() == ".msf" or file.name in _THUNDERBIRD_HOUSEKEEPING or file.name.startswith("."):
            continue
        if file.suffix.lower() in (".mbox", ".mbx") or not file.suffix or file.with_name(file.name + ".msf").is_file():
            files.append(file)
    return files


def read_mbox_folder(
    path: Path, *, max_bytes: int = MAX_MAIL_BYTES, files: Sequence[Path] | None = None
) -> Iterator[Message | BadRecord]:
    """Every mbox below a folder: a Thunderbird profile or mail folder (mbox files without extension, their
    ``.msf`` indexes, which are skipped, and nested ``.sbd`` folders) or a Gmail Takeout ``Mail`` folder.
    The source of each message is the folder, its location the file's path inside it and the record number.
    Messages in Sent or Drafts folders are marked outgoing. ``files`` reads only those of its mailboxes. A file
    that leads out of the folder (a link) is one bad record, never opened (``confine``)."""
    root = str(path)
    for file in _mailbox_files(path) if files is None else files:
        relative = file.relative_to(path).as_posix()
        if not inside(file, path):
            yield BadRecord(root, relative, OUTSIDE)
            continue
        try:
            with file.open("rb") as handle:
                head = handle.read(5)
        except OSError as error:
            yield BadRecord(root, relative, f"cannot read the file ({error.strerror or type(error).__name__})")
            continue
        if not head:
            continue  # an empty mail folder: no messages
        if head != b"From ":
            yield BadRecord(root, relative, "not an mbox file (it does not start with a 'From ' line); not read")
            continue
        direction: Direction | None = "outgoing" if _own_mail_folder(relative) else None
        yield from read_mbox(file, max_bytes=max_bytes, source=root, prefix=f"{relative}, ", direction=direction)


# ----- one file per message: .eml, Apple Mail .emlx, Maildir


def emlx_message(raw: bytes, *, partial: bool = False) -> bytes:
    """The RFC 822 message inside an Apple Mail ``.emlx`` file: the first line is its length in bytes, the
    message follows, then an XML property list (flags, dates) that is not part of it. In a ``.partial.emlx``
    Apple Mail stored the attachments apart, so the count (the whole message's) can exceed what the file
    holds: the message is then what precedes the property list."""
    first, newline, rest = raw.partition(b"\n")
    count = first.strip()
    if not newline or not count.isdigit():
        raise ValueError("the first line is not a byte count: not an Apple Mail .emlx file")
    size = int(count)
    if size <= len(rest):
        return rest[:size]
    if partial:
        plist = rest.rfind(b"<?xml")
        return rest[:plist] if plist > 0 else rest
    raise ValueError(f"truncated: the first line announces {size:,} bytes, {len(rest):,} follow")


def _read_files(
    files: list[Path], root: Path, max_bytes: int, *, directions: bool = False, confined: bool = True
) -> Iterator[Message | BadRecord]:
    """Each file a message. ``confined`` (files found in the folder ``root``): a file that leads out of it is
    one bad record, never opened (``confine``)."""
    for file in files:
        relative = file.relative_to(root).as_posix()
        if confined and not inside(file, root):
            yield BadRecord(str(root), relative, OUTSIDE)
            continue
        try:
            with file.open("rb") as handle:
                raw = handle.read(max_bytes + 1)
        except OSError as error:  # unreadable (permissions), vanished, a broken link: one bad record
            yield BadRecord(str(root), relative, f"cannot read the file ({error.strerror or type(error).__name__})")
            continue
        truncated, raw = len(raw) > max_bytes, raw[:max_bytes]
        if file.suffix.lower() == ".emlx":
            try:
                raw = emlx_message(raw, partial=file.name.lower().endswith(".partial.emlx"))
            except ValueError as error:
                yield BadRecord(str(root), relative, str(error))
                continue
        direction: Direction | None = "outgoing" if directions and _own_mail_folder(relative) else None
        yield parse_mail(raw, str(root), relative, truncated=truncated, direction=direction)


def read_eml(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """One ``.eml`` or Apple Mail ``.emlx`` file, or every such file below a folder, in name order (an Apple
    Mail mailbox such as ``INBOX.mbox/`` included). Files in Sent or Drafts folders are marked outgoing."""
    if path.is_dir():
        yield from _read_files(_eml_files(path), path, max_bytes, directions=True)
    else:
        yield from _read_files([path], path.parent, max_bytes, confined=False)  # the file given is read


def read_maildir(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """A Maildir's ``cur/`` and ``new/`` messages, in name order."""
    yield from _read_files(_maildir_files(path), path, max_bytes)


# The header fields one of which every real message carries near its top.
_MAIL_FIELDS = re.compile(rb"^(from|date|message-id|received|return-path|subject|to|delivered-to|x-[\w-]+):", re.I)
_FIELD_LINE = re.compile(rb"^[!-9;-~]+:|^[ \t]")  # "Name:" (printable, no colon in the name) or a folded line


def looks_like_mail(head: bytes) -> bool:
    """Whether a file's first bytes are an RFC 822 message's header block (an MH folder's "17", a saved
    message without its .eml): every line before the first blank one a header field, one of them common."""
    lines = head.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")[:40]
    fields = [line for line in lines if line]
    return (
        bool(fields)
        and all(_FIELD_LINE.match(line) for line in fields)
        and any(_MAIL_FIELDS.match(line) for line in fields)
    )


def _is_message_file(path: Path, root: Path) -> bool:
    """An .eml / .emlx file, or a file without an extension or a ``.txt`` (MH, notmuch, messages saved as text)
    that holds mail. One that leads out of ``root`` is never opened to tell: it is listed, and reported."""
    if path.suffix.lower() in (".eml", ".emlx"):
        return True
    if path.suffix.lower() not in ("", ".txt") or path.name.startswith("."):
        return False
    if not inside(path, root):
        return True
    with path.open("rb") as handle:
        return looks_like_mail(handle.read(4096))


def _name_order(path: Path) -> tuple[str, ...]:
    """Path order, with numbered files (MH's 1, 2, …, 10) in number order."""
    return tuple(part.zfill(12) if part.isdigit() else part for part in path.parts)


def _eml_files(path: Path) -> list[Path]:
    return sorted((p for p in path.rglob("*") if p.is_file() and _is_message_file(p, path)), key=_name_order)


def _maildir_files(path: Path) -> list[Path]:
    files: list[Path] = []
    for folder in (path / "cur", path / "new"):
        if not folder.is_dir():
            continue
        if inside(folder, path):
            files += (p for p in folder.iterdir() if p.is_file())
        else:
            files.append(folder)  # linked from outside: listed (and reported), never looked into
    return sorted(files)


def message_files(path: Path, fmt: str) -> list[Path]:
    """The files a mail folder is read from, in reading order: the mailboxes of a Thunderbird or Takeout
    folder, the message files of a Maildir or of an .eml/.emlx folder (``fmt``: thunderbird, maildir, eml or emlx)."""
    if fmt == "thunderbird":
        return _mailbox_files(path)
    return _maildir_files(path) if fmt == "maildir" else _eml_files(path)


def read_message_files(
    path: Path, fmt: str, files: Sequence[Path], *, max_bytes: int = MAX_MAIL_BYTES
) -> Iterator[Message | BadRecord]:
    """The messages of some of a mail folder's files (from ``message_files``), each read and located as
    reading the whole folder reads it: a folder's files can be shared among workers."""
    if fmt == "thunderbird":
        yield from read_mbox_folder(path, max_bytes=max_bytes, files=files)
    else:
        yield from _read_files(list(files), path, max_bytes, directions=fmt != "maildir")


def read_tnef(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[Message | BadRecord]:
    """A ``winmail.dat`` saved on its own: its body as one message (it carries no sender or recipients)."""
    source = str(path)
    size = path.stat().st_size
    if size > max_bytes:
        yield BadRecord(source, "record 1", f"over the size limit ({size:,} bytes > {max_bytes:,})")
        return
    raw = path.read_bytes()
    try:
        text = tnef_body(raw)
    except ValueError as error:
        yield BadRecord(source, "record 1", str(error), "body")
        return
    if not text.strip():
        yield BadRecord(source, "record 1", "empty body (nothing left after removing quotes and signature)", "body")
        return
    yield Message(id=f"{path.name}:{hashlib.sha256(raw).hexdigest()[:12]}", text=text, source=f"{source}: record 1")
