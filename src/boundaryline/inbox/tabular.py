"""Readers for table-shaped exports: CSV/TSV (any encoding, any of the usual separators), JSON Lines and JSON
arrays; fields found by their names."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import IO, Any

import ijson

from boundaryline.files import TOO_DEEP, read_json_lines
from boundaryline.inbox.cleanup import plain_text
from boundaryline.inbox.json_stream import TooDeep, skip_bom, walk
from boundaryline.inbox.records import BadRecord, Message

# Accepted names per field, compared lower-cased with spaces, dashes and underscores removed.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "body",
        "message",
        "content",
        "msg",
        "messagetext",
        "messagebody",
        "bodytext",
        "plaintext",
        "messagecontent",
    ),
    "id": ("id", "messageid", "msgid", "uid", "key"),
    "sender": ("from", "sender", "fromaddress", "author", "senderemail", "fromemail", "sendername"),
    "recipients": ("to", "recipient", "recipients", "toaddress", "toemail"),
    "date": ("date", "sent", "timestamp", "time", "datetime", "sentat", "createdat", "received", "receivedat"),
    "subject": ("subject", "title"),
    "thread": ("thread", "threadid", "conversation", "conversationid"),
    "channel": ("channel", "medium", "via"),
}
_UNDECODABLE = re.compile(r"[\udc80-\udcff]")  # what errors="surrogateescape" leaves for bytes that do not decode
_GARBLED = re.compile(r"[\x00\ufffd\udc80-\udcff]")
DELIMITERS = ",;\t|"
SAMPLE_BYTES = 1 << 16
# UTF-32's marks first: UTF-32-LE's starts with UTF-16-LE's.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lower())


def sample_encoding(sample: bytes) -> str:
    """The encoding of a text file, from its first bytes: the byte-order mark (Excel's "Unicode text" is UTF-16
    with one); else UTF-8 when the bytes are UTF-8, or hold UTF-8 characters beside a few broken bytes (those
    rows are then reported one by one); else what ``charset-normalizer`` finds most likely (a Windows code page,
    UTF-16 without a mark)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if b"\x00" not in sample:
        text = sample.decode("utf-8", errors="surrogateescape")
        if not _UNDECODABLE.search(text) or any(ord(c) > 127 and not 0xDC80 <= ord(c) <= 0xDCFF for c in text):
            return "utf-8"
    from charset_normalizer import from_bytes

    guess = from_bytes(sample).best()
    return guess.encoding if guess is not None else "utf-8"


def detect_encoding(path: Path) -> str:
    """``sample_encoding`` of the first 64 KiB of ``path`` (cut at a line end, so no character is split)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if len(sample) == SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample_encoding(sample)


def _encoding_name(encoding: str) -> str:
    return "UTF-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig") else encoding


def sniff_delimiter(header: str, default: str = ",") -> str:
    """The separator of a CSV header line, one of ``,;\\t|`` (``csv.Sniffer``); ``default`` when it cannot tell
    (a single column)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return default


def find_columns(names: list[str], text_column: str | None = None) -> dict[str, str]:
    """Map our fields to the export's column names; the text column must be found (or given)."""
    keyed = {_key(n): n for n in names}
    found = {field: next((keyed[k] for k in keys if k in keyed), "") for field, keys in FIELD_NAMES.items()}
    # The header is never echoed: in a file without one, it is somebody's first message.
    if text_column is not None:
        if text_column not in names:
            raise ValueError(f"no column named by --text-column among the {len(names)} header fields")
        found["text"] = text_column
    if not found["text"]:
        raise ValueError(
            f"none of the {len(names)} header fields is a text column (looked for {', '.join(FIELD_NAMES['text'])});"
            " a CSV needs a header row; name the column with --text-column"
        )
    return {field: column for field, column in found.items() if column}


def parse_date(value: Any) -> datetime | None:
    """ISO 8601, RFC 2822 or "YYYY-MM-DD HH:MM:SS UTC"; anything else is unknown (None)."""
    if not value:
        return None
    text = str(value).strip().replace(" UTC", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def to_message(
    record: Mapping[str, Any],
    columns: Mapping[str, str],
    source: str,
    location: str,
    default_id: str,
    *,
    encoding: str = "UTF-8",
) -> Message | BadRecord:
    """One row or object as a ``Message``; an empty or undecodable text is a ``BadRecord``."""
    raw = record.get(columns["text"])
    if raw is not None and not isinstance(raw, str):
        return BadRecord(source, location, f"text is a {type(raw).__name__}, not a string", columns["text"])
    text = (raw or "").strip()
    if _UNDECODABLE.search(text):
        return BadRecord(source, location, f"bytes that are not valid {encoding}", columns["text"])
    text = plain_text(text)
    if not text:
        return BadRecord(source, location, "empty text", columns["text"])

    def get(field: str) -> str | None:
        value = record.get(columns[field]) if field in columns else None
        return str(value).strip() or None if value not in (None, "") else None

    return Message(
        id=get("id") or default_id,
        text=text,
        source=f"{source}: {location}",
        sender=get("sender"),
        recipients=get("recipients"),
        date=parse_date(get("date")),
        subject=get("subject"),
        thread=get("thread"),
        channel=get("channel"),
    )


@dataclass(frozen=True)
class CsvLayout:
    """What a CSV's first record and first bytes tell, read once and handed to every byte range of the file."""

    encoding: str
    errors: str  # how bytes that do not decode are kept
    delimiter: str
    header: tuple[str, ...]
    columns: dict[str, str]
    data_start: int  # the byte offset just after the header record
    data_line: int  # the file's line number just before the first data record (the header's last line)


def _errors_for(encoding: str) -> str:
    # surrogateescape keeps the bytes that do not decode, so that their row (not the file) is reported
    return "replace" if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32")) else "surrogateescape"


def _past_header(
    path: Path, lines: Iterator[str], encoding: str, text_column: str | None, delimiter: str | None
) -> tuple[Any, CsvLayout]:
    """A csv reader over ``lines`` that has read the header record, and the layout it shows (``data_start``
    left 0 for the caller)."""
    first = next(lines, "")
    if not first.strip():
        raise ValueError(f"{path}: empty file, no header row")
    if delimiter is None:
        delimiter = sniff_delimiter(first, default="\t" if path.suffix.lower() == ".tsv" else ",")
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    header = [name.replace("\ufeff", "").strip() for name in next(reader)]
    if garbled := sum(bool(_GARBLED.search(name)) for name in header):
        # Never echo the bytes: a binary file's are noise, and a text file's header may be a message.
        raise ValueError(
            f"{path}: the header row does not read as text in {_encoding_name(encoding)} ({garbled} of its "
            f"{len(header)} field(s) hold bytes that do not decode); the file's encoding could not be told, "
            "or it is not a CSV file"
        )
    try:
        columns = find_columns(header, text_column)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return reader, CsvLayout(encoding, _errors_for(encoding), delimiter, tuple(header), columns, 0, reader.line_num)


def csv_layout(path: Path, *, text_column: str | None = None, delimiter: str | None = None) -> CsvLayout:
    """Encoding, separator, header and columns of a CSV, as ``read_csv`` finds them, and where its data starts.

    The header record is read from the raw lines (a quoted header field may span lines), so ``data_start`` is
    a byte offset that a reader of a byte range can seek to."""
    encoding = detect_encoding(path)
    errors = _errors_for(encoding)
    with path.open("rb") as handle:
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            for raw in handle:
                consumed += len(raw)
                yield raw.decode(encoding, errors)

        _, layout = _past_header(path, lines(), encoding, text_column, delimiter)
        return replace(layout, data_start=consumed)


def _csv_records(
    reader: Any, path: Path, layout: CsvLayout, line_before: int, *, stop: Callable[[], bool] = lambda: False
) -> Iterator[Message | BadRecord]:
    """The rows of ``reader`` as records, located by the file's line numbers (``line_before``: the line number
    just before the reader's first line); ``stop`` is asked before each row."""
    source, header = str(path), list(layout.header)
    base = line_before - reader.line_num
    line = line_before
    while not stop():
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield BadRecord(source, f"line {start}", f"malformed CSV ({error})")
            line = base + reader.line_num
            continue
        line = base + reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            yield BadRecord(source, f"line {start}", f"expected {len(header)} fields, found {len(row)}")
            continue
        yield to_message(
            dict(zip(header, row, strict=True)),
            layout.columns,
            source,
            f"line {start}",
            f"{path.stem}:{start}",
            encoding=_encoding_name(layout.encoding),
        )


def read_csv(
    path: Path, *, text_column: str | None = None, delimiter: str | None = None
) -> Iterator[Message | BadRecord]:
    """CSV or TSV, streamed row by row; line numbers are the file's (a quoted field may span lines). The
    encoding is detected (``detect_encoding``), the separator sniffed from the header line unless given."""
    encoding = detect_encoding(path)
    errors = _errors_for(encoding)
    with path.open(encoding=encoding, errors=errors, newline="") as handle:
        reader, layout = _past_header(path, iter(handle), encoding, text_column, delimiter)
        yield from _csv_records(reader, path, layout, reader.line_num)


@dataclass
class RangeCursor:
    """Where a byte-range reader stopped: the offset just after the last record it read."""

    offset: int = 0


def read_csv_range(
    path: Path, layout: CsvLayout, start: int, end: int | None, first_line: int, cursor: RangeCursor | None = None
) -> Iterator[Message | BadRecord]:
    """The records of a CSV that start in the bytes ``[start, end)``; ``start`` must be a record start (the
    planner finds them), ``first_line`` is the file's line number there. A record that begins before ``end``
    is read to its last line, even past ``end``; ``cursor`` then says where reading stopped, so that the
    caller can check that the ranges of a file met exactly (each ended where the next began)."""
    cursor = cursor if cursor is not None else RangeCursor()
    cursor.offset = start
    # The byte-order mark is the first line's: a line of a later range decodes as plain UTF-8.
    encoding = "utf-8" if layout.encoding.lower().replace("_", "-") == "utf-8-sig" else layout.encoding
    with path.open("rb") as handle:
        handle.seek(start)

        def lines() -> Iterator[str]:
            for raw in handle:
                cursor.offset += len(raw)
                yield raw.decode(encoding, layout.errors)

        reader = csv.reader(lines(), delimiter=layout.delimiter)
        yield from _csv_records(
            reader, path, layout, first_line - 1, stop=lambda: end is not None and cursor.offset >= end
        )


def read_jsonl(
    path: Path, *, text_column: str | None = None, start: int = 0, end: int | None = None, first_line: int = 1
) -> Iterator[Message | BadRecord]:
    """JSON Lines: one object per line; a line that is not a JSON object, or nests deeper than
    ``json_stream.MAX_JSON_DEPTH``, is reported and skipped. ``start``, ``end`` and ``first_line`` read only the
    lines that start in those bytes (see ``files.read_json_lines``)."""
    source = str(path)
    for line in read_json_lines(path, start=start, end=end, first_line=first_line):
        location = f"line {line.number}"
        if line.error is not None:
            yield BadRecord(source, location, line.error)
            continue
        yield _from_object(line.value, text_column, source, location, f"{path.stem}:{line.number}")


def broken_json(error: Exception, handle: IO[bytes]) -> str:
    """The reason for a JSON file that breaks off: the error's type and about where, never its message (ijson's
    C backend quotes the input around the error, which may be a message's text)."""
    return f"not valid JSON ({type(error).__name__}, near byte {handle.tell():,}); the rest of the file is unreadable"


def read_json_array(
    path: Path, *, text_column: str | None = None, buf_size: int = 1 << 16
) -> Iterator[Message | BadRecord]:
    """A JSON array of objects, streamed one element at a time (never loaded whole); an element nested deeper
    than ``json_stream.MAX_JSON_DEPTH`` is one bad record, never built, and the next is read."""
    source = str(path)
    with path.open("rb") as handle:
        start = skip_bom(handle)
        if not handle.read(4096).lstrip().startswith(b"["):
            raise ValueError(f"{path}: not a JSON array (expected '[')")
        handle.seek(start)
        record = 0
        try:
            for _, item in walk(handle, ("item",), buf_size=buf_size):
                record += 1
                if isinstance(item, TooDeep):
                    yield BadRecord(source, f"record {record}", TOO_DEEP)
                    continue
                yield _from_object(item, text_column, source, f"record {record}", f"{path.stem}:{record}")
        except (ijson.JSONError, UnicodeDecodeError) as error:
            yield BadRecord(source, f"record {record + 1}", broken_json(error, handle))


@lru_cache(maxsize=256)  # an export's objects share a few sets of field names
def _object_columns(names: tuple[str, ...], text_column: str | None) -> dict[str, str] | str:
    """The columns of an object with these field names, or why none of them holds its text."""
    try:
        return find_columns(list(names), text_column)
    except ValueError as error:
        return str(error)


def _from_object(
    item: Any, text_column: str | None, source: str, location: str, default_id: str
) -> Message | BadRecord:
    """One decoded JSON value as a record. Its fields are found from its own names, so a line reads the same
    whichever line reading began at (a byte range of the file, or the whole)."""
    if not isinstance(item, dict):
        return BadRecord(source, location, f"expected a JSON object, found {type(item).__name__}")
    columns = _object_columns(tuple(item), text_column)
    if isinstance(columns, str):
        return BadRecord(source, location, columns, "text")
    return to_message(item, columns, source, location, default_id)
