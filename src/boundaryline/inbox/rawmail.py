"""Raw mail as bytes, before the reader looks into it: an mbox split into its messages, and a message
parsed into the standard library's tree of parts.

Both were done line by line in Python: ``for line in handle`` over a 60 MB mbox, and the email package's
feed parser over every line of a message, a 100 KB base64 attachment that nothing reads included. Here they
are ``bytes.find`` over blocks and slices of the whole text. Each gives exactly what the standard library
gave (the same messages; the same ``Message`` tree); a shape this reading is not sure of is handed to the
email package, which reads it as before.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import Message as Mail
from email.policy import compat32
from itertools import pairwise
from typing import BinaryIO

_BLOCK = 1 << 17  # an mbox is read 128 KiB at a time (and on to the end of the line)

# ----- mbox


class MboxMessages:
    """The messages of an mbox (or of its byte range ``[start, end)``), streamed: each is ``(raw, size,
    last)``: its first ``max_bytes`` (whole lines, mboxrd ``>From `` lines un-escaped), its whole size and
    whether it runs to the end of the file. A message is the lines after a ``From `` line up to the next
    one; ``end`` stops before the first ``From `` line at or past it. After the loop, ``preamble`` says
    whether text stood before the first ``From `` line. Only the current message's first ``max_bytes`` and
    one block are held in memory, however big the file or the message."""

    def __init__(self, handle: BinaryIO, *, max_bytes: int, start: int = 0, end: int | None = None) -> None:
        self.handle, self.max_bytes, self.start, self.end = handle, max_bytes, start, end
        self.preamble = False

    def __iter__(self) -> Iterator[tuple[bytes, int, bool]]:
        handle, max_bytes, end = self.handle, self.max_bytes, self.end
        handle.seek(self.start)
        offset = self.start  # of the block's first byte in the file
        pieces: list[bytes] | None = None  # the current message's kept lines; None before the first From line
        size = 0
        while block := handle.read(_BLOCK):
            if not block.endswith(b"\n"):
                block += handle.readline()  # blocks end at a line end: a From line is never cut in two
            pos, length = 0, len(block)
            while pos < length:  # pos is at the start of a line
                if block.startswith(b"From ", pos):
                    separator = pos
                else:
                    found = block.find(b"\nFrom ", pos)
                    separator = length if found < 0 else found + 1
                if separator > pos:  # whole lines of the current message (or of the text before the first)
                    if pieces is None:
                        self.preamble = self.preamble or bool(block[pos:separator].strip())
                    else:
                        if size < max_bytes:
                            pieces.append(_lines_within(block, pos, separator, max_bytes - size))
                        size += separator - pos
                if separator == length:
                    break
                if end is not None and offset + separator >= end:
                    if pieces is not None:  # the next range's first message: this one is not the file's last
                        yield _unescaped(pieces), size, False
                    return
                if pieces is not None:
                    yield _unescaped(pieces), size, False
                line_end = block.find(b"\n", separator)
                pos = length if line_end < 0 else line_end + 1
                pieces, size = [], 0
            offset += length
        if pieces is not None:
            yield _unescaped(pieces), size, True


def separator_offsets(handle: BinaryIO) -> Iterator[int]:
    """The offset of each ``From `` line of an mbox from the handle's position on: where ``MboxMessages``
    starts a message (a big mbox is cut there into byte ranges)."""
    offset = handle.tell()
    while block := handle.read(_BLOCK):
        if not block.endswith(b"\n"):
            block += handle.readline()
        if block.startswith(b"From "):
            yield offset
        found = block.find(b"\nFrom ")
        while found >= 0:
            yield offset + found + 1
            found = block.find(b"\nFrom ", found + 1)
        offset += len(block)


def _lines_within(block: bytes, start: int, stop: int, room: int) -> bytes:
    """The lines of ``block[start:stop]`` (whole lines) that fit, whole, in ``room`` bytes."""
    if stop - start <= room:
        return block[start:stop]
    return block[start : block.rfind(b"\n", start, start + room) + 1 or start]


def _unescaped(pieces: list[bytes]) -> bytes:
    """A message's lines joined, mboxrd's escaping of body lines that start with ``From `` undone."""
    raw = b"".join(pieces)
    if raw.startswith(b">From "):
        raw = raw[1:]
    return raw.replace(b"\n>From ", b"\nFrom ")


# ----- MIME: the email package's tree, built from whole slices

_MAX_DEPTH = 8  # multiparts nested deeper are left to the email package
# A header field: its name (feedparser.headerRE: printable, no colon), the blanks after the colon, and its
# value: the rest of the line and the continuation lines (a blank first), each with its line end. The value
# starts at a character that is no blank, so that a long run of blanks is not tried two ways (which took
# seconds on 20,000 blanks with no line end).
_FIELD = re.compile(
    r"([\041-\071\073-\176]+):[ \t]*((?:[^ \t\r\n][^\r\n]*)?(?:\r\n|\r|\n)(?:[ \t][^\r\n]*(?:\r\n|\r|\n))*)"
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")  # one line, as the feed parser splits them
_AFTER_SEPARATOR = re.compile(r"(--)?[ \t]*(\r\n|\r|\n|\Z)")  # the rest of a boundary line (boundaryre)


class _Unusual(Exception):
    """A shape the email package reads its own way (a defect it records, a message/* part): it is given
    the message."""


def message_from_bytes(raw: bytes) -> Mail:
    """``email.message_from_bytes(raw, policy=compat32)``, the same tree of ``Message`` objects (headers,
    payloads, preambles, epilogues, Unix From lines), built from slices of the whole text instead of line by
    line: the feed parser reads each line of a 100 KB base64 attachment in Python and compiles a pattern for
    each boundary. Lines end in CR, LF or CRLF, a header block at the first line that is no header line,
    and a boundary line is what the feed parser's ``boundaryre`` matches, as there. Anything the parser
    would record a defect for (no blank line after the headers, a multipart without its boundary, its first
    or closing boundary line missing, boundary lines back to back), a ``message/*`` part, a digest or a
    multipart nested deeper than ``_MAX_DEPTH`` is left to the email package, which reads it as before."""
    text = raw.decode("ascii", "surrogateescape")  # as BytesParser does
    try:
        return _part(text, 0, len(text), 0)
    except _Unusual:
        return email.message_from_bytes(raw, policy=compat32)


def _part(text: str, start: int, stop: int, depth: int) -> Mail:
    """The message ``text[start:stop]`` (``depth`` 0), or a part of a multipart (``depth`` its nesting), up
    to the next boundary line: the line end before that line is the boundary's, not the part's."""
    part = Mail(policy=compat32)
    pos = start
    if text.startswith("From ", pos, stop):  # a Unix From line first: the envelope, not a header
        line = _LINE.match(text, pos, stop)
        assert line is not None  # the pattern matches the empty string
        part.set_unixfrom(text[pos : _before_line_end(text, pos, line.end())])
        pos = line.end()
    while field := _FIELD.match(text, pos, stop):
        part.set_raw(field.group(1), field.group(2).rstrip("\r\n"))  # compat32.header_source_parse
        pos = field.end()
    if pos == stop or text[pos] not in "\r\n":
        raise _Unusual  # no blank line after the headers
    body = pos + (2 if text.startswith("\r\n", pos, stop) else 1)
    content_type = part.get_content_type()
    maintype = content_type.split("/")[0]  # get_content_maintype
    if maintype == "message" or content_type == "multipart/digest":
        raise _Unusual  # parsed as messages, by the parser's own rules
    if maintype != "multipart":
        part.set_payload(text[body : _before_line_end(text, body, stop) if depth else stop])
        return part
    boundary = part.get_boundary()
    cte = str(part.get("content-transfer-encoding", "8bit")).lower()
    if not boundary or depth >= _MAX_DEPTH or cte not in ("7bit", "8bit", "binary"):
        raise _Unusual
    lines = _boundary_lines(text, body, stop, "--" + boundary)
    if not lines or lines[0][2]:
        raise _Unusual  # no first boundary line
    if lines[0][0] > body:
        part.preamble = text[body : _before_line_end(text, body, lines[0][0])]
    for (_, line_end, closing), (next_start, _, _) in pairwise(lines):
        if closing:
            break
        if next_start == line_end:
            raise _Unusual  # boundary lines back to back
        part.attach(_part(text, line_end, next_start, depth + 1))
    else:
        if not lines[-1][2]:
            raise _Unusual  # no closing boundary line
    epilogue = next(end for _, end, closing in lines if closing)
    if not depth:
        part.epilogue = text[epilogue:stop]
    else:  # the line end before the next boundary line is the boundary's; none at all is no epilogue
        part.epilogue = text[epilogue : _before_line_end(text, epilogue, stop)] if epilogue < stop else None
    return part


def _boundary_lines(text: str, start: int, stop: int, separator: str) -> list[tuple[int, int, bool]]:
    """The lines of ``text[start:stop]`` the feed parser takes for boundary lines (``separator``, then
    ``--`` for the closing one, blanks and the line end): each line's start, end, and whether it closes."""
    lines = []
    pos = text.find(separator, start, stop)
    while pos >= 0:
        if pos == start or text[pos - 1] in "\r\n":
            rest = _AFTER_SEPARATOR.match(text, pos + len(separator), stop)
            if rest is not None:
                lines.append((pos, rest.end(), rest.group(1) is not None))
        pos = text.find(separator, pos + 1, stop)
    return lines


def _before_line_end(text: str, start: int, stop: int) -> int:
    """Where ``text[start:stop]`` ends without its last line end (feedparser.NLCRE_eol)."""
    if text.endswith("\r\n", start, stop):
        return stop - 2
    return stop - 1 if text.endswith(("\r", "\n"), start, stop) else stop
